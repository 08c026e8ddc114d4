"""Legal structure: split a document into its real units (articles) and keep the heading path.

Recognised: French codes and decrees (Livre/Titre/Chapitre/Section, "Article premier", "Article 184",
"Article 16-1", "Article L3121-36"), Arabic (الكتاب/القسم/الباب/الفرع, "المادة 184", "المادة الأولى"),
Markdown headings (KALI "### Article 4.3.2", ILO "## Article 2"). Text that is not law (press,
fiches) is split on its Markdown headings.

PDF headings sometimes carry a footnote number glued to the article number ("Article 25635" is
article 256 with note 35); numbered articles are read as an increasing sequence to undo that.

Pages read by OCR (``Page.ocr``) get more lenient headings: misread words ("Articlc 12", "Artide 12",
"ARTICLE l2", "Article ler", "الماده 12", "12 المادة") are repaired before matching, and a heading
line is refused when the line before it is cut at "l'", "de", "في"… (a reference to an article
wrapped onto the next line, which OCR line breaks make common).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rag.ingest import LoadedDocument

# first line of every excerpt taken from a page that OCR read with a low confidence
UNCERTAIN_NOTICE = "⚠ Lecture incertaine (texte scanné, reconnu par OCR) : vérifiez sur l'original."

ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

ARABIC_ORDINALS = {
    "الأولى": 1, "الاولى": 1, "الثانية": 2, "الثالثة": 3, "الرابعة": 4, "الخامسة": 5, "السادسة": 6,
    "السابعة": 7, "الثامنة": 8, "التاسعة": 9, "العاشرة": 10, "الحادية عشرة": 11, "الثانية عشرة": 12,
    "الثالثة عشرة": 13, "الرابعة عشرة": 14, "الخامسة عشرة": 15,
}
FRENCH_FIRST = {"premier", "1er", "première", "unique"}

_ORD_ALT = "|".join(sorted((re.escape(k) for k in ARABIC_ORDINALS), key=len, reverse=True))
ARTICLE_FR = re.compile(
    r"^\s*(?:#{1,6}\s*)?Art(?:icle|\.)\s+(premier|1er|unique|L\.?\s?\d{3,4}-\d+(?:-\d+)?|[RD]\.?\s?\d{3,4}-\d+(?:-\d+)?|\d+(?:[.-]\d+)*(?:\s*bis)?)"
    r"\s*(?:[:.\-–—]\s*(.*))?$",
    re.I,
)
ARTICLE_AR = re.compile(rf"^\s*(?:#{{1,6}}\s*)?المادة\s+({_ORD_ALT}|[0-9٠-٩]+(?:-[0-9٠-٩]+)?)\s*(?:[:.\-–—]\s*(.*))?$")
HEADING_LEVELS = [
    (0, re.compile(r"^\s*(Livre\s+(?:préliminaire|premier|[IVXLl]+)\b.*)$", re.I)),
    (1, re.compile(r"^\s*(Titre\s+(?:préliminaire|premier|[IVXLl]+)\b.*)$", re.I)),
    (2, re.compile(r"^\s*(Chapitre\s+(?:premier|unique|[IVXLl]+)\b.*)$", re.I)),
    (3, re.compile(r"^\s*(Section\s+(?:première|unique|[IVXLl]+|\d+)\b.*)$", re.I)),
    (0, re.compile(r"^\s*(الكتاب\s+\S+.*)$")),
    (1, re.compile(r"^\s*(القسم\s+\S+.*)$")),
    (2, re.compile(r"^\s*(الباب\s+\S+.*)$")),
    (3, re.compile(r"^\s*(الفرع\s+\S+.*)$")),
]
MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")

# --- OCR repairs ------------------------------------------------------------------------------
_OCR_LOOKALIKE_DIGITS = str.maketrans({"l": "1", "I": "1", "|": "1", "!": "1", "i": "1", "O": "0", "o": "0"})
_OCR_ROMAN = str.maketrans({"1": "I", "l": "I", "|": "I", "!": "I"})
_OCR_LABEL = re.compile(r"[0-9lIO|!]+(?:[.-][0-9lIO|!]+)*")
_OCR_FIRST = {"ler", "1er", "ier", "lcr", "1cr", "icr", "1e", "le"}
_OCR_WRAPPED = re.compile(r"(?:\b[lLdD]['’]|\b(?:à|aux|des|les|de|du|par|selon|et|ou|en|au|sur)|(?:^|\s)(?:في|من|على|إلى|الى|بمقتضى|بموجب|حسب|وفق|طبق|ضمن|و))\s*$")
_OCR_AR_WORD = re.compile(r"^(?:ال|أل|إل|آل)مـ*اد(?:ة|ه|ّة)")


def _distance(a: str, b: str) -> int:
    """Plain edit distance (short words only)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _ocr_article_word(word: str) -> bool:
    """"Article" as OCR misreads it: "Articlc", "Artide", "Anicle", "ARTICLE", "Art1cle" (not "articles")."""
    if not word or word[0] not in "AÀ":  # a heading starts with a capital; "article 12" mid-sentence wraps
        return False
    low = word.lower().rstrip(".:")
    if low in {"article", "art"}:
        return True
    return 6 <= len(low) <= 8 and not low.endswith("s") and _distance(low.translate({ord("1"): "i", ord("!"): "i", ord("|"): "l"}), "article") <= 2


def _ocr_label(label: str) -> str:
    """"l2" → "12", "1O" → "10", "ler" → "1er", "prernier" → "premier"; anything else unchanged."""
    low = label.lower()
    if low in _OCR_FIRST:
        return "1er"
    if len(low) >= 6 and _distance(low, "premier") <= 2:
        return "premier"
    match = _OCR_LABEL.fullmatch(label)
    if match and any(ch.isdigit() for ch in label):
        return label.translate(_OCR_LOOKALIKE_DIGITS)
    return label


def repair_ocr_line(line: str) -> str:
    """A line of OCR text with a misread heading word or number put right (else unchanged)."""
    text = line.strip()
    if not text:
        return text
    if "\u0600" <= text[0] <= "\u06FF" or text[0].isdigit() or text[0] in "٠١٢٣٤٥٦٧٨٩":
        text = text.replace("\u0640", "")  # tatweel
        swapped = re.fullmatch(r"([0-9٠-٩]+)\s*[.:]?\s*(المادة|الماده)", text)  # number read before the word
        if swapped:
            text = f"المادة {swapped.group(1)}"
        text = _OCR_AR_WORD.sub("المادة", text)
        text = re.sub(r"^المادة(?=[0-9٠-٩])", "المادة ", text)
        return re.sub(r"^(المادة\s+\S+)ي(?=\s*$|\s*[:.\-–—])", r"\1ى", text)  # الأولي → الأولى
    head, _, rest = text.partition(" ")
    glued = re.fullmatch(r"([A-Za-z!|1]*?[A-Za-z])(\d[0-9lIO]*(?:[.-]\d+)*[.:]?)", head)  # "Article12"
    if glued and _ocr_article_word(glued.group(1)):
        head, rest = glued.group(1), f"{glued.group(2)} {rest}".strip()
    if _ocr_article_word(head) and rest:
        label, _, tail = rest.strip().partition(" ")
        stop = re.match(r"^(.*?)([.:]?)$", label)
        return " ".join(part for part in ("Article", _ocr_label(stop.group(1)) + stop.group(2), tail) if part)
    level = re.fullmatch(r"(Livre|Titre|Chapitre|LIVRE|TITRE|CHAPITRE)\s+([IVXLl1|!]+)\b(.*)", text)
    if level and re.search(r"[IVX]", level.group(2)):  # "Chapitre Il", "Titre I1": roman, misread
        return f"{level.group(1)} {level.group(2).translate(_OCR_ROMAN)}{level.group(3)}"
    return text
_CONTINUATION_END = re.compile(r"\b(de|du|des|la|le|les|et|à|au|aux|en|l'|d'|par|pour|sur)\s*$", re.I)


@dataclass
class Unit:
    """One structural unit: an article, or a section of a non-legal text."""

    heading_path: list[str]
    article: str | None
    text: str
    pages: list[int] = field(default_factory=list)
    start: int = 0  # character offset of the unit in the document's concatenated text
    end: int = 0

    @property
    def heading(self) -> str:
        return " > ".join(self.heading_path)


def normalise_article_label(label: str) -> str:
    """Canonical key used for lookup: 'premier'/'1er'/'الأولى' → '1', 'L. 3121-36' → 'L3121-36'."""
    raw = label.strip().translate(ARABIC_DIGITS)
    low = raw.lower()
    if low in FRENCH_FIRST:
        return "1"
    if raw in ARABIC_ORDINALS:
        return str(ARABIC_ORDINALS[raw])
    raw = re.sub(r"^([LRD])\.?\s?", lambda m: m.group(1).upper(), raw, flags=re.I)
    return re.sub(r"\s+", " ", raw)


def _article_printed(label: str) -> str:
    """The label as the API reports it: as printed, except Arabic ordinals/digits become numerals."""
    raw = label.strip()
    if raw in ARABIC_ORDINALS:
        return str(ARABIC_ORDINALS[raw])
    raw = raw.translate(ARABIC_DIGITS)
    raw = re.sub(r"^([LRD])\.?\s?(\d)", lambda m: m.group(1).upper() + m.group(2), raw, flags=re.I)
    return raw.lower() if raw.lower() in {"premier", "1er", "unique"} else raw


def _fix_glued_number(label: str, previous: int | None, bare: bool) -> str | None:
    """Resolve a numeric heading against the running sequence; None = not an article heading.

    "Article 25635" after article 255 is article 256 + footnote 35; a bare "Article 40" after
    article 3 is a jump in numbering; a lower number is a cross-reference, not a heading.
    """
    if not re.fullmatch(r"\d+", label) or previous is None:
        return label
    value = int(label)
    if previous < value <= previous + 12:
        return label
    for cut in range(len(label) - 1, 0, -1):
        prefix = int(label[:cut])
        if previous < prefix <= previous + 12:
            return label[:cut]
    if bare and value > previous:
        return label
    return None


def _is_arabic_text(text: str) -> bool:
    return "\u0600" <= text[0] <= "\u06FF"


def _match_article(line: str) -> tuple[str, str, bool] | None:
    """(label as printed, title after the label, is_arabic) for an article heading line."""
    m = ARTICLE_FR.match(line)
    if m:
        return m.group(1), (m.group(2) or "").strip(), False
    m = ARTICLE_AR.match(line)
    if m:
        return m.group(1), (m.group(2) or "").strip(), True
    return None


def _line_stream(doc: LoadedDocument):
    for page in doc.pages:
        for line in page.text.split("\n"):
            yield page.number, line


def parse_units(doc: LoadedDocument) -> list[Unit]:
    """Split a loaded document into units with heading paths, articles and pages."""
    is_markdown = doc.format in {"md", "docx"}
    path: list[str | None] = [None, None, None, None]
    md_path: list[tuple[int, str]] = []
    units: list[Unit] = []
    current: Unit | None = None
    body: list[str] = []
    offset = 0
    last_number: int | None = None
    lines = list(_line_stream(doc))

    def heading_path() -> list[str]:
        parts = [doc.title] + [p for p in path if p] + [text for _, text in md_path if text != doc.title]
        return parts

    def close() -> None:
        nonlocal current, body
        if current is not None:
            current.text = "\n".join(body).strip()
            current.end = offset
            if current.text or current.article:
                units.append(current)
        current, body = None, []

    def open_unit(article: str | None, printed: str, page: int | None) -> None:
        nonlocal current
        close()
        head = heading_path() + ([printed] if printed else [])
        current = Unit(head, article, "", [page] if page else [], start=offset)

    ocr_pages = {p.number for p in doc.pages if p.ocr}
    skip_next = False
    for i, (page, line) in enumerate(lines):
        if skip_next:
            skip_next = False
            continue
        stripped = line.strip()
        scanned = page in ocr_pages
        if scanned:
            stripped = repair_ocr_line(stripped)
        matched = _match_article(stripped) if stripped else None
        if matched and scanned and i and _OCR_WRAPPED.search(lines[i - 1][1].strip()):
            matched = None  # "… prévues à l'" / "Article 18" is a reference, not a heading
        if matched:
            raw_label, suffix, arabic = matched
            label = _article_printed(raw_label)
            if not is_markdown:
                fixed = _fix_glued_number(label, last_number, bare=not suffix)
                # a wrapped sentence can start with "Article 438 ci-dessous": text after the number
                # is accepted only when the number is the very next one
                if fixed is None or (suffix and last_number is not None and fixed != str(last_number + 1)):
                    matched = None
                else:
                    label = fixed
            if matched:
                if re.match(r"\d+", label):
                    last_number = int(re.match(r"\d+", label).group())
                elif normalise_article_label(label) == "1":
                    last_number = 1
                shown = raw_label if arabic and raw_label in ARABIC_ORDINALS else label
                printed = (f"المادة {shown}" if arabic else f"Article {label}") + (f" — {suffix}" if suffix else "")
                open_unit(label, printed, page)
                offset += len(line) + 1
                continue
        md = MD_HEADING.match(line) if is_markdown else None
        if md:
            level = len(md.group(1))
            text = md.group(2).strip()
            md_path[:] = [(lvl, t) for lvl, t in md_path if lvl < level] + [(level, text)]
            open_unit(None, "", page)
            offset += len(line) + 1
            continue
        if not is_markdown and stripped:
            level = next((lvl for lvl, rx in HEADING_LEVELS if rx.match(stripped)), None)
            # a real heading is "Titre III : De la durée…" or a bare "Livre préliminaire"; a wrapped
            # sentence that happens to start with "livre II de la présente loi." is not
            if level is not None and (":" in stripped or len(stripped.split()) <= 3) and (stripped[0].isupper() or _is_arabic_text(stripped)) and len(stripped) < 160:
                text = stripped
                nxt = lines[i + 1][1].strip() if i + 1 < len(lines) else ""
                if _CONTINUATION_END.search(text) and nxt and not _match_article(nxt) and len(nxt) < 100:
                    text = f"{text} {nxt}"
                    skip_next = True
                    offset += len(lines[i + 1][1]) + 1
                path[level] = re.sub(r"\s+", " ", text)
                for deeper in range(level + 1, len(path)):
                    path[deeper] = None
                open_unit(None, "", page)
                offset += len(line) + 1
                continue
        if current is None:
            open_unit(None, "", page)
        if page and current is not None and page not in current.pages and stripped:
            current.pages.append(page)
        body.append(line.rstrip())
        offset += len(line) + 1
    close()
    return [u for u in units if u.text or u.article]


# --------------------------------------------------------------------------------------------
# chunks


@dataclass
class Chunk:
    chunk_id: str
    text: str  # heading path + body: readable on its own
    body: str
    dense_text: str  # what the embedder reads: the nearest headings + body (shorter = faster on 2 cores)
    source: str
    title: str
    kind: str
    lang: str
    article: str | None
    article_key: str | None
    heading: str
    page: int | None
    pages: list[int]
    piece: int
    pieces: int
    sha256: str
    confidence: float | None = None  # OCR: lowest mean word confidence of its pages; None = text layer
    uncertain_pages: list[int] = field(default_factory=list)  # its pages marked « lecture incertaine »


# headings the embedder reads before a passage (e.g. chapter, section, article). Each one costs
# embedding time on every passage, but two instead of three lost recall (BENCHMARKS.md, issue 16)
DENSE_HEADINGS = 3
# what the embedder does not need of a heading: its numbering ("Chapitre IV :", "الباب الثاني:");
# dropping it embeds fewer tokens at the same recall. The titles and the article label stay:
# dropping the label too lost recall (BENCHMARKS.md, issue 16).
_HEADING_NUMBERING = re.compile(r"^(?:livre|titre|chapitre|section|sous-section|الكتاب|القسم|الباب|الفرع)\b[^:]{0,40}:\s*", re.I)


def dense_heading(unit: Unit) -> str:
    """The headings the embedder reads before a passage: the nearest ones, without their numbering."""
    titles = (_HEADING_NUMBERING.sub("", part).strip() for part in unit.heading_path[-DENSE_HEADINGS:])
    return " > ".join(title for title in titles if title)


_SENTENCE_END = re.compile(r"(?<=[.;:!?؟؛])\s+|\n(?=\s*(?:\d+[.)°-]|[-–•*]|[a-z][.)])\s)|\n{2,}")


def split_body(body: str, encoding, max_tokens: int, overlap: int) -> list[str]:
    """Pieces of at most ``max_tokens`` tokens that end where a sentence or an item ends.

    Sentences are packed greedily; the last sentence of a piece opens the next one when it is
    short enough to serve as overlap (a piece read alone keeps its context). A single sentence
    longer than the limit is cut by tokens with ``overlap`` tokens repeated. Line breaks between
    items are kept."""
    if len(encoding.encode(body, disallowed_special=())) <= max_tokens:
        return [body]
    units: list[tuple[str, int, str]] = []  # (text, tokens, separator before it)
    position, separator = 0, ""
    for match in [*_SENTENCE_END.finditer(body), None]:
        end = match.start() if match else len(body)
        sentence = body[position:end].strip()
        if sentence:
            tokens = encoding.encode(sentence, disallowed_special=())
            if len(tokens) <= max_tokens:
                units.append((sentence, len(tokens), separator))
            else:
                step = max(1, max_tokens - overlap)
                for start in range(0, len(tokens), step):
                    part = encoding.decode(tokens[start:start + max_tokens]).strip()
                    units.append((part, len(encoding.encode(part, disallowed_special=())), separator if start == 0 else " "))
                    if start + max_tokens >= len(tokens):
                        break
        if match:
            position, separator = match.end(), ("\n" if "\n" in match.group(0) else " ")
    pieces: list[str] = []
    current: list[tuple[str, int, str]] = []
    size = 0
    for unit in units:
        cost = unit[1]
        if current and size + cost + 1 > max_tokens:
            pieces.append(_join(current))
            last = current[-1]
            keep = overlap and last[1] <= overlap and last[1] + cost + 1 <= max_tokens
            current, size = ([last], last[1] + 1) if keep else ([], 0)
        current.append(unit)
        size += cost + 1
    if current:
        pieces.append(_join(current))
    return pieces


def _join(units: list[tuple[str, int, str]]) -> str:
    return "".join((sep if i else "") + text for i, (text, _, sep) in enumerate(units))


def chunk_units(doc: LoadedDocument, units: list[Unit], encoding, max_tokens: int, overlap: int) -> list[Chunk]:
    """One chunk per unit; long units split by tokens with the heading repeated on every piece."""
    import hashlib

    chunks: list[Chunk] = []
    by_number = {p.number: p for p in doc.pages if p.ocr}
    for index, unit in enumerate(units):
        read = [by_number[n] for n in unit.pages if n in by_number]
        confidences = [p.confidence for p in read if p.confidence is not None]
        unsure = [p.number for p in read if p.uncertain]
        # the notice travels with the excerpt: whoever reads or cites it sees the doubt
        notice = f"{UNCERTAIN_NOTICE}\n" if unsure else ""
        body = re.sub(r"[ \t]+", " ", unit.text)
        body = re.sub(r"\n{3,}", "\n\n", body).strip()
        pieces = split_body(body, encoding, max_tokens, overlap)
        for n, piece in enumerate(pieces):
            key = f"{doc.source}|{index}|{unit.article or ''}|{n}"
            chunk_id = hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]
            head = unit.heading + (f" (partie {n + 1}/{len(pieces)})" if len(pieces) > 1 else "")
            chunks.append(
                Chunk(
                    chunk_id=chunk_id,
                    text=f"{head}\n{notice}{piece}".strip(),
                    body=piece,
                    dense_text=(dense_heading(unit) + "\n" + piece).strip(),
                    source=doc.source,
                    title=doc.title,
                    kind=doc.kind,
                    lang=doc.lang,
                    article=unit.article,
                    article_key=normalise_article_label(unit.article) if unit.article else None,
                    heading=unit.heading,
                    page=unit.pages[0] if unit.pages else None,
                    pages=list(unit.pages),
                    piece=n,
                    pieces=len(pieces),
                    sha256=doc.sha256,
                    confidence=min(confidences) if confidences else None,
                    uncertain_pages=unsure,
                )
            )
    return chunks


def passage_body(text: str) -> str:
    """A stored passage without its heading-path lines (« Code du travail > Livre II … > Article 184 »,
    one per piece when an article's pieces are joined) and without the OCR notice: what the article
    says, not where it stands."""
    lines = text.split("\n")
    body = [line for n, line in enumerate(lines)
            if not (" > " in line or line == UNCERTAIN_NOTICE
                    or (n == 0 and re.match(r"^\s*(?:Article|Art\.|المادة)\s", line) and len(lines) > 1))]
    return "\n".join(body) if any(line.strip() for line in body) else text


# a list item opens a line: « 1. », « 2) », « 3° », « 1 – », « - », « • », « a) », « أ) »
_ITEM_START = r"\s*(?:\d{1,3}\s*[.)°]|\d{1,3}\s+[-–—]|[-–—•*]|[a-z][.)]|[\u0621-\u064A]\s*[)\-–])\s"
# a point after these is an abbreviation's (« C. trav. art. 350 », « p. 121 », « n°. 5 »), not a sentence end
_NO_END_AFTER = r"(?<![\s(]C\.)(?<!^C\.)(?<!\btrav\.)(?<!\bart\.)(?<!\barts\.)(?<!\bp\.)(?<!\bn°\.)(?<!\bal\.)"
_SENTENCE_BREAK = re.compile(rf"{_NO_END_AFTER}(?<=[.!?؟])\s+|(?<=[;؛])[ \t]*\n\s*|\n(?={_ITEM_START})|\n\s*\n")
_ITEM = re.compile(_ITEM_START)
_MARKER_ONLY = re.compile(r"^\s*(?:\d{1,3}|[a-z])[.)°]?\s*$")
_CLAUSE_BREAK = re.compile(r"(?<=[;؛])\s+|(?<=:)\s+(?!\d)")


def passage_sentences(text: str, clauses: bool = False) -> list[str]:
    """The sentences and list items of a stored passage, heading lines dropped, each on one line.

    A PDF keeps its line breaks; a break inside a sentence is a space (« la mise à pied pour une
    durée\\nn'excédant pas huit jours » is one sentence); a line that opens with an item marker, or
    that follows a line ending in « ; », starts a new one. With ``clauses`` the pieces are cut further
    at « ; » and at « : » not followed by a figure (the brackets of « 5 % après deux ans ; 10 % après
    cinq ans »): the unit a quote shows."""
    sentences: list[str] = []
    for sentence in _SENTENCE_BREAK.split(passage_body(text)):
        if sentences and _MARKER_ONLY.match(sentences[-1]):
            sentences[-1] += " " + sentence  # « 1. » was cut from its item by its own point
        else:
            sentences.append(sentence)
    pieces = []
    for sentence in sentences:
        for piece in (_CLAUSE_BREAK.split(sentence) if clauses else [sentence]):
            piece = " ".join(piece.split())
            if piece:
                pieces.append(piece)
    return pieces


def with_lead_ins(sentences: list[str]) -> list[str]:
    """Each of ``sentences`` (:func:`passage_sentences`) with, for a list item, the sentence that opens
    its list (« … une prime d'ancienneté dont le montant est fixé à : » before « - 10 % du salaire
    versé, après cinq ans de service ; »): what the item speaks of is said there."""
    out, lead = [], ""
    for sentence in sentences:
        if _ITEM.match(sentence):
            out.append(f"{lead} {sentence}" if lead else sentence)
            continue
        lead = sentence if sentence.rstrip().endswith(":") else ""
        out.append(sentence)
    return out


def quote_units(text: str) -> list[str]:
    """The sentences and clauses of a passage a quote is made of (:func:`passage_sentences`), with a
    list label joined to the value it introduces: « - du salarié : » and « quatre jours ; » are one
    unit, « - du salarié : quatre jours ; » (art. 274 sets its durations so, label then value)."""
    units = [x for x in passage_sentences(text, clauses=True) if len(x) > 3]
    out: list[str] = []
    for unit in units:
        previous = out[-1] if out else ""
        if (previous.rstrip().endswith(":") and _ITEM.match(previous) and not _ITEM.match(unit)
                and not unit.rstrip().endswith(":") and len(unit) <= LABEL_VALUE_CHARS):
            out[-1] = f"{previous.rstrip()} {unit.strip()}"
        else:
            out.append(unit)
    return out


def list_around(units: list[str], i: int, limit: int) -> str:
    """Unit ``i`` as a quote reads it: a list's opening with its items (« … pour faute non grave : 1.
    l'avertissement ; 2. le blâme ; … »), an item after the opening of its list, else the unit alone;
    at most ``limit`` characters of items."""
    unit = units[i]
    if unit.rstrip().endswith(":") and not _ITEM.match(unit):
        items = []
        for item in units[i + 1:]:
            if not _ITEM.match(item) or len(" ".join(items + [item])) > limit:
                break
            items.append(item)
        return " ".join([unit, *items])
    if _ITEM.match(unit):
        for j in range(i - 1, -1, -1):  # the nearest opening above it: the list's, or its sub-list's (« 1) Mariage : »)
            if units[j].rstrip().endswith(":"):
                return f"{units[j]} … {unit}"
            if not _ITEM.match(units[j]):
                break
    return unit


# a value after its list label (« quatre jours ; ») is short: a longer clause is a sentence of its own
LABEL_VALUE_CHARS = 40

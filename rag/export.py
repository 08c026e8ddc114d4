"""Draft agreement → Markdown and DOCX. Pure rendering plus one atomic file writer.

The agreement is laid out once, by :func:`agreement_blocks`, as a list of blocks (title, status,
headings, the clauses' lines with their footnote references, rationale, warnings, legal basis,
parties and signature blocks) and a list of notes. :func:`agreement_markdown` and
:func:`agreement_docx` only render those blocks: neither re-reads the other's output.

Articles are renumbered across clauses (agreement style); every statutory reference in a clause
gets a footnote with its source and a complete quote (cut, if at all, at a sentence end and marked
« […] »); a "Fondements juridiques" section lists the references by text, then article number.

The DOCX is meant to be handed over as is: A4, French (Arabic paragraphs right-to-left, ar-MA),
real Word footnotes, the title in the header, « Page X sur Y » in the footer, a parties block and
a signature block, and document properties that name the author and the export time.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from rag.atomic import write_atomic
from rag.draft import Clause

DEFAULT_TITLE = "Projet de convention collective sectorielle — Centres d'appels et métiers de l'offshoring"
DEFAULT_PREAMBLE = (
    "Les organisations signataires conviennent de la présente convention collective sectorielle, "
    "conclue dans le cadre des articles 104 et suivants du Code du travail. Ses dispositions ne "
    "peuvent être moins favorables aux salariés que celles des lois et règlements en vigueur."
)
DEFAULT_AUTHOR = "Ittifaq"
WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)} | {f"lpt{i}" for i in range(1, 10)}

QUOTE_SOFT_CHARS = 700    # a quote longer than this stops at the last sentence end before it…
QUOTE_HARD_CHARS = 1500   # …or, when its first sentence is longer, at that sentence's end up to this
CUT_MARK = "[…]"


@dataclass
class Agreement:
    clauses: list[Clause]
    title: str = DEFAULT_TITLE
    preamble: str = DEFAULT_PREAMBLE
    date: str = field(default_factory=lambda: dt.date.today().isoformat())
    status: str = "projet"
    author: str = ""  # the user who exports, for the DOCX properties (« Ittifaq » when empty)


def safe_filename(title: str, suffix: str, max_len: int = 80) -> str:
    """ASCII, no path separators, no reserved device names, bounded length, never empty."""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:max_len].strip("-") or "projet"
    if text.split(".")[0] in WINDOWS_RESERVED:
        text = f"{text}-doc"
    return f"{text}{suffix}"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Never an empty or half-written export (see :func:`rag.atomic.write_atomic`)."""
    if not data:
        raise ValueError("export vide : rien n'a été écrit")
    write_atomic(path, data)


# ------------------------------------------------------------------------------------------------
# the structured draft


@dataclass(frozen=True)
class Note:
    """One footnote: a statutory reference's source and its quote."""

    number: int  # the Markdown's [^n]; a note cited twice keeps its number there
    label: str
    quote: str

    @property
    def text(self) -> str:
        return f"{self.label} — « {self.quote} »"


@dataclass(frozen=True)
class Run:
    """A piece of a block's text, or (``note`` set, ``text`` empty) a footnote reference.

    ``style``: "" plain; "strong" bold in both renderings; "lead" bold in the DOCX only (the lead
    of an article or of the rationale: the Markdown keeps the clause's words as written)."""

    text: str = ""
    style: str = ""
    note: Note | None = None


@dataclass
class Block:
    """One paragraph of the agreement.

    kind: title · status · parties · heading · paragraph · article · blank · rationale · warning ·
    basis · signatures. ``joined``: in the Markdown, on the line right after the previous block
    (the lines of one clause, of one list) instead of after a blank line. ``parties`` and
    ``signatures`` are drawn in the DOCX only (the Markdown is the working copy)."""

    kind: str
    runs: list[Run] = field(default_factory=list)
    joined: bool = False

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class Layout:
    title: str
    status: str
    date: str
    blocks: list[Block]
    notes: list[Note]


_ARTICLE_LINE = re.compile(r"(^|\n)Article\s+\d+\s*[—–-]")
_ARTICLE_LEAD = re.compile(r"^(Article\s+\d+\s*[—–-]\s*)(?:([^.()\d\n]{1,60}?\.)(?=\s+\S))?")
_REFERENCE = re.compile(r"\((?:C\.\s*trav\.|Décret n°)[^()]*?art\.\s*\d+[^()]*\)")
_ABBREVIATIONS = {"art", "al", "c", "trav", "n", "no", "cf", "p", "pp", "etc", "m", "mme", "dr", "ibid", "op", "cit", "ch", "sect", "min"}


def _renumber(clauses: list[Clause]) -> list[str]:
    counter = 0
    texts = []
    for clause in clauses:
        def next_number(match: re.Match) -> str:
            nonlocal counter
            counter += 1
            return f"{match.group(1)}Article {counter} —"

        texts.append(_ARTICLE_LINE.sub(next_number, clause.text))
    return texts


def _sentence_ends(text: str) -> list[int]:
    """Offsets just after each sentence end: « . ! ? … » followed by a space and a capital, an
    Arabic letter, a quote or a dash (or the end) — not after an abbreviation (art., C. trav., n°),
    a single letter, nor an enumeration mark (« : 1. Les… », « ; II. Les… »)."""
    ends = []
    for match in re.finditer(r"[.!?…؟](?=\s+[«\"'(\-–—A-ZÀ-ÖØ-Þ\u0600-\u06ff]|\s*$)", text):
        if match.group(0) == ".":
            before = re.search(r"(\S+)$", text[: match.start()])
            word = before.group(1).strip("(«\"'") if before else ""
            ahead = text[: match.start() - len(word)].rstrip()
            mark = re.fullmatch(r"\d+|[IVXLC]{1,5}|[a-z]", word) and (not ahead or ahead[-1] in ":;,.")
            if word.lower() in _ABBREVIATIONS or len(word) == 1 or mark:
                continue
        ends.append(match.end())
    return ends


def complete_quote(text: str, soft: int = QUOTE_SOFT_CHARS, hard: int = QUOTE_HARD_CHARS) -> str:
    """The whole excerpt when short; else whole sentences up to ``soft`` characters (at least the
    first sentence, up to ``hard``), marked « […] ». Never cut inside an enumeration of one
    sentence (« 5 % après deux ans ; … ; 25 % après vingt-cinq ans. »)."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= soft:
        return text
    ends = _sentence_ends(text)
    fitting = [e for e in ends if e <= soft]
    end = fitting[-1] if fitting else next((e for e in ends if e <= hard), None)
    if end is None:  # one endless sentence: stop after an enumeration item, else between words
        items = [m.end() for m in re.finditer(r"[;:](?=\s)", text[:hard])]
        end = items[-1] if items else (text.rfind(" ", 0, hard) if " " in text[:hard] else hard)
    if end >= len(text.rstrip()):
        return text
    return f"{text[:end].rstrip()} {CUT_MARK}"


def _sentences(text: str) -> list[str]:
    cuts = [0, *_sentence_ends(text)]
    if cuts[-1] < len(text):
        cuts.append(len(text))
    return [text[a:b].strip() for a, b in zip(cuts, cuts[1:]) if text[a:b].strip()]


def _join_passages(head: str, lines: list[str]) -> str:
    """The cited passages as one text: their heading lines (« … > Article 353 (partie 2/2) »)
    dropped, and the overlap of consecutive passages of one article kept once."""
    root = head.split(" > ")[0]
    passages, current = [], []
    for line in lines:
        if head and " > " in line and line.startswith(root + " > "):
            passages.append(current)
            current = []
        elif line.strip():
            current.append(line)
    passages.append(current)
    text = ""
    for passage in passages:
        part = re.sub(r"\s+", " ", " ".join(passage)).strip()
        overlap = next((k for k in range(min(len(text), len(part)), 15, -1) if text.endswith(part[:k])), 0)
        text = f"{text} {part[overlap:].strip()}".strip()
    return text


def citation_quote(citation) -> str:
    """What the footnote quotes: the article's own text, complete (see :func:`complete_quote`);
    for a passage that only mentions the article (a fiche summarising it), the sentences that
    name it, the rest marked « […] »."""
    lines = (citation.text or "").split("\n")
    head, body = (lines[0], lines[1:]) if len(lines) > 1 else ("", lines)
    text = _join_passages(head, body)
    article = str(citation.article or "").strip()
    number = rf"(?<![\d-]){re.escape(article)}(?![\d-])"
    if not article or re.search(number, head.split(" > ")[-1]):
        return complete_quote(text)
    sentences = _sentences(text)
    naming = re.compile(rf"\b(?:art\.|articles?)\s*(?:\d+\s*(?:,|et)\s*)*{number}", re.I)
    chosen = [k for k, sentence in enumerate(sentences) if naming.search(sentence)]
    if not chosen:
        return complete_quote(text)
    pieces = [CUT_MARK] if chosen[0] > 0 else []
    for k in chosen:
        if pieces and pieces[-1] != CUT_MARK and k - 1 not in chosen:
            pieces.append(CUT_MARK)
        pieces.append(sentences[k])
    if chosen[-1] < len(sentences) - 1:
        pieces.append(CUT_MARK)
    return complete_quote(" ".join(pieces))


class _Notes:
    """Footnotes in reading order; the same note text twice keeps one Markdown number."""

    def __init__(self) -> None:
        self.notes: list[Note] = []

    def add(self, label: str, quote: str) -> Note:
        for note in self.notes:
            if (note.label, note.quote) == (label, quote):
                return note
        note = Note(len(self.notes) + 1, label, quote)
        self.notes.append(note)
        return note


def _article_lead(line: str) -> str:
    """« Article 1 — Barème. » when the article opens with a short title, else « Article 1 — »."""
    match = _ARTICLE_LEAD.match(line)
    if not match:
        return ""
    if match.group(2) and len(match.group(2).split()) <= 6:
        return match.group(0).rstrip()
    return match.group(1).rstrip()


def _citation_for(reference: str, citations: list) -> object | None:
    """The clause's citation for « (C. trav. art. 2) » or « (Décret n° 2-04-570, art. 2) »: same
    article number, and of that decree (or not of a decree, for the Code) when several match."""
    art = re.search(r"art\.\s*(\d+(?:-\d+)?)", reference)
    candidates = [c for c in citations if art and c.article and str(c.article) == art.group(1)]
    decree = re.search(r"Décret n°\s*([\d-]+)", reference)
    if decree:
        preferred = [c for c in candidates if decree.group(1) in " ".join((c.label, c.source, c.title, c.text))]
    else:
        preferred = [c for c in candidates if not re.search(r"d[ée]cret", " ".join((c.label, c.source, c.title)), re.I)]
    return (preferred or candidates or [None])[0]


def _line_runs(line: str, clause: Clause, notes: _Notes) -> list[Run]:
    """A clause line as runs: each reference « (C. trav. art. 350) » that resolves to one of the
    clause's citations is followed by its footnote reference; the lead « Article 1 — Barème. » is
    marked for the DOCX."""
    pieces: list[Run] = []
    position = 0
    for match in _REFERENCE.finditer(line):
        citation = _citation_for(match.group(0), clause.citations)
        if citation is None:
            continue
        pieces.append(Run(line[position:match.end()]))
        pieces.append(Run(note=notes.add(citation.label, citation_quote(citation))))
        position = match.end()
    pieces.append(Run(line[position:]))
    lead = _article_lead(line)
    if lead and pieces[0].text.startswith(lead):
        first = pieces[0].text
        pieces[:1] = [Run(lead, "lead"), Run(first[len(lead):])]
    return [p for p in pieces if p.text or p.note]


def _text_blocks(text: str, clause: Clause | None, notes: _Notes) -> list[Block]:
    """One block per line of a clause (or of the preamble), blank lines kept for the Markdown."""
    blocks = []
    for n, line in enumerate(text.split("\n")):
        if not line.strip():
            kind, runs = "blank", [Run(line)]
        else:
            runs = _line_runs(line, clause, notes) if clause is not None else [Run(line)]
            kind = "article" if _ARTICLE_LEAD.match(line) else "paragraph"
        blocks.append(Block(kind, runs, joined=n > 0))
    return blocks


def _article_key(article) -> tuple:
    numbers = [int(n) for n in re.findall(r"\d+", str(article or ""))]
    return (0, *numbers) if numbers else (1,)


def _text_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()


def legal_basis(clauses: list[Clause]) -> list:
    """Every citation once (by label), ordered by text, then article number (2 < 10 < 350)."""
    basis: dict[str, object] = {}
    for clause in clauses:
        for c in clause.citations:
            basis.setdefault(c.label, c)
    return sorted(basis.values(), key=lambda c: (_text_key(c.title or c.source), _article_key(c.article), _text_key(c.label)))


def agreement_blocks(agreement: Agreement) -> Layout:
    """The agreement laid out once, for every rendering."""
    clauses = sorted(agreement.clauses, key=lambda c: c.order)
    notes = _Notes()
    status = f"Statut : {agreement.status} — version du {agreement.date} — document de travail, non signé."
    blocks = [
        Block("title", [Run(agreement.title)]),
        Block("status", [Run(status)]),
        Block("parties"),
        Block("heading", [Run("Préambule")]),
        *_text_blocks(agreement.preamble.strip(), None, notes),
    ]
    warnings = []
    for n, (clause, text) in enumerate(zip(clauses, _renumber(clauses)), start=1):
        blocks.append(Block("heading", [Run(f"Chapitre {n} — {clause.title}")]))
        blocks += _text_blocks(text.strip(), clause, notes)
        if clause.rationale:
            blocks.append(Block("rationale", [Run("Exposé des motifs :", "lead"), Run(f" {clause.rationale}")]))
        for check in clause.checks:
            if check.status == "below_floor":
                warnings.append(Block("warning", [Run(f"⚠ {clause.title} : {check.message}")], joined=bool(warnings)))
    if warnings:
        blocks += [Block("heading", [Run("Points à corriger avant signature")]), *warnings]
    basis = legal_basis(clauses)
    if basis:
        blocks.append(Block("heading", [Run("Fondements juridiques")]))
        blocks += [Block("basis", [Run(c.label, "strong"), Run(f" — {c.title}")], joined=k > 0) for k, c in enumerate(basis)]
    blocks.append(Block("signatures"))
    return Layout(agreement.title, agreement.status, agreement.date, blocks, notes.notes)


# ------------------------------------------------------------------------------------------------
# Markdown


def _md_runs(runs: list[Run]) -> str:
    out = []
    for run in runs:
        if run.note is not None:
            out.append(f"[^{run.note.number}]")
        elif run.style == "strong":
            out.append(f"**{run.text}**")
        else:
            out.append(run.text)
    return "".join(out)


_MD_PREFIX = {"title": "# ", "heading": "## ", "rationale": "> ", "warning": "- ", "basis": "- "}


def layout_markdown(layout: Layout) -> str:
    parts: list[str] = []
    for block in layout.blocks:
        if block.kind in {"parties", "signatures"}:
            continue
        text = _md_runs(block.runs)
        if block.kind == "status":
            text = f"*{text}*"
        text = _MD_PREFIX.get(block.kind, "") + text
        parts.append(("\n" if block.joined and parts else "\n\n" if parts else "") + text)
    markdown = "".join(parts)
    if layout.notes:
        markdown += "\n\n" + "\n".join(f"[^{note.number}]: {note.text}" for note in layout.notes)
    return markdown.rstrip() + "\n"


def agreement_markdown(agreement: Agreement) -> str:
    return layout_markdown(agreement_blocks(agreement))


# ------------------------------------------------------------------------------------------------
# DOCX

_ARABIC = "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff"
_ARABIC_SPAN = re.compile(rf"[{_ARABIC}]+(?:[\s\d.,:;،؛؟!()«»\"'\-–—%/]+[{_ARABIC}]+)*")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FONT_BODY = "Times New Roman"
FONT_HEADINGS = "Arial"
ZWSP = "\u200b"  # after a tab that ends a line: LibreOffice draws no dot leader for a tab with nothing after it
CT_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"
RT_FOOTNOTES = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"


def is_arabic(text: str) -> bool:
    """Mostly Arabic letters: the paragraph runs right to left."""
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(1 for ch in letters if re.match(f"[{_ARABIC}]", ch))
    return bool(letters) and arabic * 2 > len(letters)


def _script_spans(text: str) -> list[tuple[str, bool]]:
    """(piece, is_arabic) in order, Arabic words and what joins them kept together."""
    spans, position = [], 0
    for match in _ARABIC_SPAN.finditer(text):
        if match.start() > position:
            spans.append((text[position:match.start()], False))
        spans.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        spans.append((text[position:], False))
    return spans


class _Docx:
    """Builds the DOCX with python-docx, and its oxml layer where python-docx has no API
    (footnotes, fields, content control, languages, app properties)."""

    def __init__(self, layout: Layout, author: str, now: dt.datetime):
        import docx
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        self.OxmlElement, self.qn = OxmlElement, qn
        self.layout = layout
        self.author = author
        self.now = now
        self.document = docx.Document()
        self.footnotes = None  # the w:footnotes element, once a note is referenced
        self.footnote_of: dict[int, int] = {}  # Markdown note number → first Word footnote id
        self.next_footnote = 1

    # ---- low-level helpers -------------------------------------------------------------------
    def el(self, tag: str, **attrs):
        element = self.OxmlElement(tag)
        for key, value in attrs.items():
            element.set(self.qn(f"w:{key}"), str(value))
        return element

    def set_fonts(self, rpr, font: str, size_pt: float | None = None, bold: bool | None = None, italic: bool | None = None, color: str | None = None) -> None:
        """Explicit fonts (theme fonts removed: they would win over the named ones)."""
        for tag in ("w:rFonts", "w:sz", "w:szCs", "w:color", "w:b", "w:bCs", "w:i", "w:iCs"):
            for old in rpr.findall(self.qn(tag)):
                if tag in {"w:rFonts", "w:sz", "w:szCs", "w:color"} or (tag.startswith("w:b") and bold is not None) or (tag.startswith("w:i") and italic is not None):
                    rpr.remove(old)
        extra = [self.el("w:rFonts", ascii=font, hAnsi=font, cs=font, eastAsia=font)]
        if bold is not None:
            extra += [self.el("w:b", val=int(bold)), self.el("w:bCs", val=int(bold))]
        if italic is not None:
            extra += [self.el("w:i", val=int(italic)), self.el("w:iCs", val=int(italic))]
        if color:
            extra.append(self.el("w:color", val=color))
        if size_pt:
            extra += [self.el("w:sz", val=int(size_pt * 2)), self.el("w:szCs", val=int(size_pt * 2))]
        for element in extra:
            self._insert_rpr(rpr, element)

    _RPR_ORDER = ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "caps", "smallCaps", "strike", "dstrike", "outline", "shadow", "emboss",
                  "imprint", "noProof", "snapToGrid", "vanish", "webHidden", "color", "spacing", "w", "kern", "position", "sz", "szCs",
                  "highlight", "u", "effect", "bdr", "shd", "fitText", "vertAlign", "rtl", "cs", "em", "lang", "eastAsianLayout", "specVanish", "oMath"]

    def _insert_rpr(self, rpr, element) -> None:
        """Insert into a w:rPr in schema order (Word refuses misordered properties)."""
        name = element.tag.split("}")[1]
        rank = self._RPR_ORDER.index(name)
        for existing in list(rpr):
            if existing.tag.split("}")[1] == name:
                rpr.remove(existing)
        for position, existing in enumerate(rpr):
            other = existing.tag.split("}")[1]
            if other in self._RPR_ORDER and self._RPR_ORDER.index(other) > rank:
                rpr.insert(position, element)
                return
        rpr.append(element)

    def clean(self, text: str) -> str:
        return _XML_INVALID.sub("", text)

    def add_text(self, paragraph, text: str, bold: bool = False, italic: bool = False, rtl_paragraph: bool = False) -> None:
        """Runs for ``text``, Arabic pieces (and, in an Arabic paragraph, the spaces between
        pieces) marked right-to-left and ar-MA."""
        for piece, arabic in _script_spans(self.clean(text)):
            run = paragraph.add_run(piece)
            if bold:
                run.bold = True
                self._insert_rpr(run._r.get_or_add_rPr(), self.el("w:bCs"))
            if italic:
                run.italic = True
                self._insert_rpr(run._r.get_or_add_rPr(), self.el("w:iCs"))
            if arabic or (rtl_paragraph and not piece.strip()):
                rpr = run._r.get_or_add_rPr()
                self._insert_rpr(rpr, self.el("w:rtl"))
                self._insert_rpr(rpr, self.el("w:lang", bidi="ar-MA"))

    _AFTER_BIDI = {"adjustRightInd", "snapToGrid", "spacing", "ind", "contextualSpacing", "mirrorIndents", "suppressOverlap", "jc",
                   "textDirection", "textAlignment", "textboxTightWrap", "outlineLvl", "divId", "cnfStyle", "rPr", "sectPr", "pPrChange"}

    def bidi(self, paragraph) -> None:
        """Right-to-left paragraph (w:bidi, in its place in w:pPr)."""
        ppr = paragraph._p.get_or_add_pPr()
        anchor = next((e for e in ppr if e.tag.split("}")[1] in self._AFTER_BIDI), None)
        if anchor is not None:
            anchor.addprevious(self.el("w:bidi"))
        else:
            ppr.append(self.el("w:bidi"))

    def paragraph(self, style: str | None, text_of_paragraph: str):
        """A new paragraph; right to left when its text is mostly Arabic."""
        paragraph = self.document.add_paragraph(style=style)
        rtl = is_arabic(text_of_paragraph)
        if rtl:
            self.bidi(paragraph)
        return paragraph, rtl

    def field(self, paragraph, instruction: str, placeholder: str, size_pt: float) -> None:
        """A Word field (PAGE, NUMPAGES): begin, instruction, separate, cached result, end."""
        from docx.shared import Pt

        for kind, text in (("begin", None), ("instr", instruction), ("separate", None), ("result", placeholder), ("end", None)):
            run = paragraph.add_run()
            run.font.size = Pt(size_pt)
            if kind == "instr":
                instr = self.el("w:instrText")
                instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
                instr.text = f" {instruction} "
                run._r.append(instr)
            elif kind == "result":
                run.text = text
            else:
                run._r.append(self.el("w:fldChar", fldCharType=kind))

    # ---- document-wide settings ----------------------------------------------------------------
    def setup(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Cm, Pt

        document = self.document
        section = document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.top_margin = section.bottom_margin = Cm(2.5)
        section.left_margin = section.right_margin = Cm(2.5)
        section.header_distance = section.footer_distance = Cm(1.25)
        self.text_width_cm = round((section.page_width - section.left_margin - section.right_margin) / 360000, 2)

        styles_el = document.styles.element
        defaults = styles_el.find(self.qn("w:docDefaults"))
        rpr = defaults.find(self.qn("w:rPrDefault")).find(self.qn("w:rPr"))
        self.set_fonts(rpr, FONT_BODY, 11)
        self._insert_rpr(rpr, self.el("w:lang", val="fr-FR", eastAsia="fr-FR", bidi="ar-MA"))
        spacing = defaults.find(self.qn("w:pPrDefault")).find(self.qn("w:pPr")).find(self.qn("w:spacing"))
        spacing.set(self.qn("w:after"), "120")
        spacing.set(self.qn("w:line"), "264")

        normal = document.styles["Normal"]
        self.set_fonts(normal.element.get_or_add_rPr(), FONT_BODY, 11)
        self._insert_rpr(normal.element.get_or_add_rPr(), self.el("w:lang", val="fr-FR", eastAsia="fr-FR", bidi="ar-MA"))

        title = document.styles["Title"]
        self.set_fonts(title.element.get_or_add_rPr(), FONT_HEADINGS, 18, bold=True, color="1F2A44")
        for tag in ("w:pBdr", "w:contextualSpacing"):
            for old in title.element.get_or_add_pPr().findall(self.qn(tag)):
                old.getparent().remove(old)
        title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        title.paragraph_format.space_before, title.paragraph_format.space_after = Pt(0), Pt(6)
        for old in title.element.get_or_add_rPr().findall(self.qn("w:spacing")) + title.element.get_or_add_rPr().findall(self.qn("w:kern")):
            old.getparent().remove(old)

        subtitle = document.styles["Subtitle"]
        self.set_fonts(subtitle.element.get_or_add_rPr(), FONT_BODY, 10, italic=True, color="555555")
        for old in subtitle.element.get_or_add_rPr().findall(self.qn("w:spacing")):
            old.getparent().remove(old)
        subtitle.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
        subtitle.paragraph_format.space_after = Pt(18)

        for name, size in (("Heading 1", 13), ("Heading 2", 11.5)):
            heading = document.styles[name]
            self.set_fonts(heading.element.get_or_add_rPr(), FONT_HEADINGS, size, bold=True, color="1F2A44")
            heading.paragraph_format.space_before, heading.paragraph_format.space_after = Pt(18 if name == "Heading 1" else 10), Pt(6)

        # one paragraph per article, as the Markdown and the clause's own text have it (reading the
        # file back, e.g. for a redline, finds the same lines); outline level 2 under the chapters
        article = document.styles.add_style("Article", WD_STYLE_TYPE.PARAGRAPH)
        article.base_style = normal
        article.next_paragraph_style = article
        article.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        article.paragraph_format.space_before, article.paragraph_format.space_after = Pt(4), Pt(8)
        article.paragraph_format.widow_control = True
        ppr = article.element.get_or_add_pPr()
        jc = ppr.find(self.qn("w:jc"))
        jc.addnext(self.el("w:outlineLvl", val=1))
        article.quick_style = True

        quote = document.styles["Quote"]
        self.set_fonts(quote.element.get_or_add_rPr(), FONT_BODY, 10.5, italic=True, color="333333")
        quote.paragraph_format.left_indent = Cm(0.75)
        quote.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY

        note_text = document.styles.add_style("footnote text", WD_STYLE_TYPE.PARAGRAPH)
        note_text.style_id = "FootnoteText"
        note_text.base_style = normal
        note_text.font.size = Pt(9)
        self._insert_rpr(note_text.element.get_or_add_rPr(), self.el("w:szCs", val=18))
        note_text.paragraph_format.space_after = Pt(2)
        note_text.paragraph_format.line_spacing = 1.0
        note_text.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        note_text.unhide_when_used = True
        note_ref = document.styles.add_style("footnote reference", WD_STYLE_TYPE.CHARACTER)
        note_ref.style_id = "FootnoteReference"
        note_ref.font.superscript = True
        note_ref.unhide_when_used = True

        for name in ("Header", "Footer"):
            style = document.styles[name]
            self.set_fonts(style.element.get_or_add_rPr(), FONT_BODY, 9, color="555555")
            style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
            style.paragraph_format.space_after = Pt(0)

        self._settings()
        self._languages_elsewhere()

    def _settings(self) -> None:
        settings = self.document.settings.element
        lang = settings.find(self.qn("w:themeFontLang"))
        if lang is not None:
            for key in list(lang.attrib):
                del lang.attrib[key]
            lang.set(self.qn("w:val"), "fr-FR")
            lang.set(self.qn("w:bidi"), "ar-MA")
        for tag, value in (("w:decimalSymbol", ","), ("w:listSeparator", ";")):
            found = settings.find(self.qn(tag))
            if found is not None:
                found.set(self.qn("w:val"), value)
        # the separators Word expects to find declared, before w:compat in the schema's order
        note_pr = self.el("w:footnotePr")
        note_pr.append(self.el("w:footnote", id=-1))
        note_pr.append(self.el("w:footnote", id=0))
        later = ("w:endnotePr", "w:compat", "w:docVars", "w:rsids", "{http://schemas.openxmlformats.org/officeDocument/2006/math}mathPr",
                 "w:attachedSchema", "w:themeFontLang", "w:clrSchemeMapping")
        anchor = next((e for e in settings if any(e.tag == (t if t.startswith("{") else self.qn(t)) for t in later)), None)
        if anchor is not None:
            anchor.addprevious(note_pr)
        else:
            settings.append(note_pr)

    def _languages_elsewhere(self) -> None:
        """The template's second style part (Word 2010) speaks en-US too."""
        for part in self.document.part.package.iter_parts():
            if str(part.partname) == "/word/stylesWithEffects.xml":
                part._blob = re.sub(rb'<w:lang w:val="en-US"[^>]*/>', b'<w:lang w:val="fr-FR" w:eastAsia="fr-FR" w:bidi="ar-MA"/>', part.blob)

    # ---- header, footer, properties ----------------------------------------------------------
    def header_footer(self) -> None:
        section = self.document.sections[0]
        section.different_first_page_header_footer = True  # the first page shows the title itself
        section.first_page_header.is_linked_to_previous = False  # defined, and empty
        paragraph = section.header.paragraphs[0]
        paragraph.style = self.document.styles["Header"]
        rtl = is_arabic(self.layout.title)
        if rtl:
            self.bidi(paragraph)
        self.add_text(paragraph, self.layout.title, italic=True, rtl_paragraph=rtl)
        for footer in (section.footer, section.first_page_footer):
            paragraph = footer.paragraphs[0]
            paragraph.style = self.document.styles["Footer"]
            status = "Projet" if self.layout.status.strip().lower() == "projet" else f"Projet ({self.layout.status})"
            self.add_text(paragraph, f"{status} — version du {self.layout.date} — exporté le {self.now.astimezone():%d/%m/%Y à %H:%M}")
            paragraph.add_run().add_break()
            paragraph.add_run("Page ")
            self.field(paragraph, "PAGE", "1", 9)
            paragraph.add_run(" sur ")
            self.field(paragraph, "NUMPAGES", "1", 9)

    def properties(self) -> None:
        props = self.document.core_properties
        utc = self.now.astimezone(dt.timezone.utc).replace(tzinfo=None)
        props.title = self.clean(self.layout.title)[:255]
        props.subject = "Convention collective sectorielle — projet"
        props.author = props.last_modified_by = self.author
        props.created = props.modified = utc
        props.language = "fr-FR"
        props.content_status = "Projet" if self.layout.status.lower() == "projet" else f"Projet ({self.layout.status})"
        props.comments = f"Document de travail, non signé. Exporté le {self.now.astimezone():%d/%m/%Y à %H:%M}."
        props.keywords = "convention collective; centres d'appels; projet"
        props.category = "Convention collective"
        props.revision = 1
        props.identifier = props.version = ""
        package = self.document.part.package
        for part in package.iter_parts():
            if str(part.partname) == "/docProps/app.xml":
                part._blob = (
                    b"<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n"
                    b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
                    b'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
                    b"<Application>Ittifaq</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>"
                    b"<Company></Company><LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc>"
                    b"<HyperlinksChanged>false</HyperlinksChanged></Properties>"
                )
        # the template's thumbnail shows an empty page of another document
        for rid, rel in list(package.rels.items()):
            if rel.reltype.endswith("/thumbnail"):
                package.rels.pop(rid)

    # ---- footnotes -----------------------------------------------------------------------------
    def _footnotes_part(self):
        from docx.opc.packuri import PackURI
        from docx.opc.part import XmlPart
        from docx.oxml import parse_xml

        w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        separators = "".join(
            f'<w:footnote w:type="{kind}" w:id="{fid}"><w:p><w:pPr><w:spacing w:after="0" w:line="240" w:lineRule="auto"/></w:pPr>'
            f"<w:r><w:{kind}/></w:r></w:p></w:footnote>"
            for kind, fid in (("separator", -1), ("continuationSeparator", 0))
        )
        element = parse_xml(f'<w:footnotes xmlns:w="{w}" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">{separators}</w:footnotes>')
        part = XmlPart(PackURI("/word/footnotes.xml"), CT_FOOTNOTES, element, self.document.part.package)
        self.document.part.relate_to(part, RT_FOOTNOTES)
        return element

    def footnote(self, paragraph, note: Note) -> None:
        """A footnote reference here, and its w:footnote (a note cited again says « voir la note n »)."""
        if self.footnotes is None:
            self.footnotes = self._footnotes_part()
        fid = self.next_footnote
        self.next_footnote += 1
        first = self.footnote_of.setdefault(note.number, fid)
        run = paragraph.add_run()
        run._r.get_or_add_rPr().append(self.el("w:rStyle", val="FootnoteReference"))
        run._r.append(self.el("w:footnoteReference", id=fid))

        text = note.text if first == fid else f"{note.label} — voir la note {first}."
        body = self.el("w:footnote", id=fid)
        p = self.el("w:p")
        ppr = self.el("w:pPr")
        ppr.append(self.el("w:pStyle", val="FootnoteText"))
        rtl = is_arabic(text)
        if rtl:
            ppr.append(self.el("w:bidi"))
        p.append(ppr)
        mark = self.el("w:r")
        mark_pr = self.el("w:rPr")
        mark_pr.append(self.el("w:rStyle", val="FootnoteReference"))
        mark.append(mark_pr)
        mark.append(self.el("w:footnoteRef"))
        p.append(mark)
        for piece, arabic in [(" ", False)] + _script_spans(self.clean(text)):
            r = self.el("w:r")
            if arabic or (rtl and not piece.strip()):
                rpr = self.el("w:rPr")
                rpr.append(self.el("w:rtl"))
                rpr.append(self.el("w:lang", bidi="ar-MA"))
                r.append(rpr)
            t = self.el("w:t")
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
            t.text = piece
            r.append(t)
            p.append(r)
        body.append(p)
        self.footnotes.append(body)

    # ---- blocks ----------------------------------------------------------------------------------
    def runs(self, paragraph, runs: list[Run], rtl: bool) -> None:
        for run in runs:
            if run.note is not None:
                self.footnote(paragraph, run.note)
            else:
                self.add_text(paragraph, run.text, bold=run.style in {"strong", "lead"}, rtl_paragraph=rtl)

    def block(self, block: Block) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        kind = block.kind
        if kind == "blank":
            return
        if kind == "parties":
            return self.parties()
        if kind == "signatures":
            return self.signatures()
        style = {"title": "Title", "status": "Subtitle", "heading": "Heading 1", "article": "Article", "rationale": "Quote",
                 "warning": "List Bullet", "basis": "List Bullet"}.get(kind, "Normal")
        paragraph, rtl = self.paragraph(style, block.text)
        if kind == "paragraph":
            paragraph.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        self.runs(paragraph, block.runs, rtl)

    def tabbed_line(self, parts: list[tuple[str, float | None]]):
        """A line of text and dotted blanks to fill: ``parts`` = (text, position of the tab stop
        that ends the blank after it, in cm from the left margin; None: no blank)."""
        from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
        from docx.shared import Cm, Pt

        paragraph = self.document.add_paragraph()
        paragraph.paragraph_format.space_after = Pt(6)
        for n, (text, stop) in enumerate(parts):
            if text:
                self.add_text(paragraph, text)
            if stop is not None:
                last = n == len(parts) - 1  # nothing after it: a right tab (a left one draws no dots)
                paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(stop), WD_TAB_ALIGNMENT.RIGHT if last else WD_TAB_ALIGNMENT.LEFT, WD_TAB_LEADER.DOTS)
                paragraph.add_run("\t" + (ZWSP if last else ""))
        return paragraph

    def parties(self) -> None:
        """« Entre : … Et : … », names and representatives left blank to fill."""
        from docx.shared import Pt

        width = self.text_width_cm
        doc = self.document
        head = doc.add_paragraph()
        head.paragraph_format.space_before = Pt(6)
        self.add_text(head, "Entre :", bold=True)
        self.tabbed_line([("la Fédération ", width)])
        self.tabbed_line([("représentée par ", 9.5), (" en qualité de ", width)])
        self.tabbed_line([("dûment mandaté(e), ci-après dénommée « la partie syndicale », d'une part ;", None)])
        head = doc.add_paragraph()
        head.paragraph_format.space_before = Pt(6)
        self.add_text(head, "Et :", bold=True)
        self.tabbed_line([("", width)])
        self.tabbed_line([("représentée par ", 9.5), (" en qualité de ", width)])
        self.tabbed_line([("dûment mandaté(e), ci-après dénommée « la partie patronale », d'autre part.", None)])
        closing = doc.add_paragraph()
        closing.paragraph_format.space_before = Pt(6)
        self.add_text(closing, "Il a été convenu ce qui suit :", italic=True)

    def signatures(self) -> None:
        """« Fait à … le … » and a two-column table per party (Nom, Qualité, Date, Signature),
        in a content control « Signatures » so that a reader of the clauses (counter-proposal
        import, redline) does not take it for part of the last chapter."""
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
        from docx.shared import Cm, Pt

        doc = self.document
        body = doc.element.body
        count = len(body)
        start = count - 1 if count and body[-1].tag == self.qn("w:sectPr") else count
        heading = doc.add_paragraph(style="Heading 1")
        self.add_text(heading, "Signatures")
        heading.paragraph_format.keep_with_next = True
        made = self.tabbed_line([("Fait à ", 6.0), (", le ", 10.0), (", en deux exemplaires originaux.", None)])
        made.paragraph_format.keep_with_next = True
        table = doc.add_table(rows=5, cols=2)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        column = round(self.text_width_cm / 2, 2)
        for row_number, row in enumerate(table.rows):
            row._tr.get_or_add_trPr().append(self.el("w:cantSplit"))
            for cell, side in zip(row.cells, ("syndicale", "patronale")):
                cell.width = Cm(column)
                paragraph = cell.paragraphs[0]
                paragraph.paragraph_format.keep_with_next = row_number < 4
                if row_number == 0:
                    self.add_text(paragraph, f"Pour la partie {side}", bold=True)
                    paragraph.paragraph_format.space_after = Pt(10)
                    continue
                label = ("Nom :", "Qualité :", "Date :", "Signature :")[row_number - 1]
                self.add_text(paragraph, f"{label} ")
                if row_number < 4:
                    stops = paragraph.paragraph_format.tab_stops
                    stops.add_tab_stop(Cm(column - 0.5), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
                    paragraph.add_run("\t" + ZWSP)
                    paragraph.paragraph_format.space_after = Pt(8)
        table.rows[4].height = Cm(3)
        made_elements = list(body)[start:start + len(body) - count]
        sdt = self.el("w:sdt")
        pr = self.el("w:sdtPr")
        pr.append(self.el("w:alias", val="Signatures"))
        pr.append(self.el("w:tag", val="ittifaq-signatures"))
        pr.append(self.el("w:id", val=73_120_001))
        sdt.append(pr)
        content = self.el("w:sdtContent")
        sdt.append(content)
        made_elements[0].addprevious(sdt)
        for element in made_elements:
            content.append(element)

    def build(self) -> bytes:
        import io

        self.setup()
        self.header_footer()
        for block in self.layout.blocks:
            self.block(block)
        self.properties()
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def agreement_docx(agreement: Agreement, now: dt.datetime | None = None) -> bytes:
    """The agreement as a Word document ready to hand over (see the module's docstring)."""
    now = now or dt.datetime.now().astimezone()
    author = " ".join((agreement.author or "").split()) or DEFAULT_AUTHOR
    return _Docx(agreement_blocks(agreement), author, now).build()


EXPORT_FORMATS = ("md", "docx")


def render_agreement(agreement: Agreement, fmt: str) -> tuple[bytes, str]:
    """The agreement's bytes in ``fmt`` (one of :data:`EXPORT_FORMATS`) and the file suffix they take."""
    if fmt == "md":
        return agreement_markdown(agreement).encode("utf-8"), ".md"
    if fmt == "docx":
        return agreement_docx(agreement), ".docx"
    raise ValueError(f"format inconnu {fmt!r} : md ou docx")


def export_agreement(agreement: Agreement, fmt: str, out: Path) -> Path:
    data, _ = render_agreement(agreement, fmt)
    atomic_write_bytes(out, data)
    return out

"""The article reader and the corpus search box: read one article whole, find passages with filters.

:func:`read_article` gathers every live piece of one article of one text from the store, joins
them in order (the sentence a long article's pieces share is kept once), and says where the
article sits: its heading path (Livre > Titre > Chapitre…), its page(s), the articles before and
after it in the same text. When several indexed texts have an article by that number, the Moroccan
Labour Code (the catalog's Moroccan ``law``) is read by default and the others are listed; without
it, the reader lists them and reads none.

:func:`article_request` says whether a chat message *is* a request to read an article. The rule,
kept simple on purpose: the whole message must be an optional reading verb (« lire », « ouvrir »,
« read », « اقرأ »…), the article reference (« l'article 350 », « art. 16 bis », « المادة 350 »),
and at most the name of the text after « du / de la / of / من » (six words at most, no comma);
nothing else, and no question mark. « Que dit l'article 350 sur la prime ? » is a question and
goes to the model.

:func:`search_corpus` is the search box: :meth:`rag.retrieve.Retriever.search` with its
:class:`~rag.retrieve.Filters`, returned as table rows (label, article, page, source, snippet).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from rag.answer import citation_label
from rag.ingest import KINDS
from rag.retrieve import ArticleRef as SearchRef
from rag.retrieve import Filters, Hit, parse_article_refs, parse_scope
from rag.structure import ARABIC_DIGITS, ARABIC_ORDINALS, UNCERTAIN_NOTICE, normalise_article_label

# ---- is this message a request to read an article? ------------------------------------------

_LABEL = r"(premier|1er|unique|[LRD]\.?\s?\d{3,4}-\d+(?:-\d+)?|\d+(?:[.-]\d+)*(?:\s?(?:bis|ter|quater))?)"
_VERB_LATIN = r"(?:(?:lire|lis|lisez|ouvrir|ouvre|ouvrez|afficher|affiche|affichez|voir|montrer|montre|montrez|read|open|show|display)(?:[- ]moi)?\s+)?"
_TEXT_NAME = r"(?:\s+(?:du|de\s+la|de\s+l['’]|des|de|d['’]|of\s+the|of|from\s+the|from|in\s+the|in)\s*([^\s?,;:!]+(?:\s+[^\s?,;:!]+){0,5}))?"
_REQUEST_LATIN = re.compile(
    rf"^\s*{_VERB_LATIN}(?:l['’]\s*|the\s+)?(?:article|art\.?)\s*{_LABEL}{_TEXT_NAME}\s*[.!]?\s*$", re.I
)
_ORD = "|".join(sorted(map(re.escape, ARABIC_ORDINALS), key=len, reverse=True))
_REQUEST_ARABIC = re.compile(
    rf"^\s*(?:(?:اقرأ|اقرا|إقرأ|اعرض|افتح|أظهر)\s+)?(?:ال)?مادة\s+({_ORD}|[0-9٠-٩]+(?:-[0-9٠-٩]+)?)"
    r"(?:\s+(?:من|في)\s+([^\s؟?،,;:!]+(?:\s+[^\s؟?،,;:!]+){0,5}))?\s*[.!]?\s*$"
)
_ENGLISH = re.compile(r"^\s*(?:read|open|show|display|the)\b|\b(?:of|from|in)\b", re.I)


@dataclass
class ArticleRef(SearchRef):
    """A request to read one article: the search's reference (normalised key, kind of text named)
    plus the number as asked, the request's language and the text's name when one was given."""

    label: str = ""
    lang: str = "fr"
    text_name: str = ""


def article_request(text: str) -> ArticleRef | None:
    """The article a message asks to read, or None when the message is anything else (a question
    that mentions an article included). See the module docstring for the rule."""
    if not isinstance(text, str) or len(text) > 200 or "?" in text or "؟" in text:
        return None
    match = _REQUEST_LATIN.match(text)
    lang = "en" if match and _ENGLISH.search(text) else "fr"
    if not match:
        match = _REQUEST_ARABIC.match(text)
        lang = "ar"
    if not match:
        return None
    label = re.sub(r"\s+", " ", match.group(1).translate(ARABIC_DIGITS)).strip()
    label = re.sub(r"(?i)(\d)(bis|ter|quater)$", r"\1 \2", label)
    if match.group(1) in ARABIC_ORDINALS:
        label = str(ARABIC_ORDINALS[match.group(1)])
    name = (match.group(2) or "").strip()
    refs = parse_article_refs(text)
    hint = refs[0].kind_hint if refs else next((r.kind_hint for r in parse_article_refs(f"article 1 {name}")), None)
    return ArticleRef(key=normalise_article_label(label), kind_hint=hint, label=label, lang=lang, text_name=name)


# ---- reading one article ----------------------------------------------------------------------


class NotFoundReason(StrEnum):
    ABSENT = "absent"  # no indexed text has an article by that number
    AMBIGUOUS = "ambiguous"  # several texts have one and none is the default: choose a source
    UNKNOWN_SOURCE = "unknown_source"  # the source asked for is not indexed


@dataclass
class TextRef:
    """One indexed text, as the reader lists it."""

    source: str
    title: str
    short: str
    kind: str
    lang: str
    jurisdiction: str


@dataclass
class Article:
    """One article read whole from the store."""

    source: str
    title: str
    short: str  # the catalog's citation label of the text (« C. trav. »)
    label: str  # citation of the article (« C. trav., art. 350, p. 121 »)
    kind: str
    lang: str
    jurisdiction: str
    force: str
    article: str  # the number as printed (« 350 », « 16 bis », « L3121-36 »)
    heading_path: list[str]  # Livre > Titre > Chapitre > Section > the article's own heading
    text: str
    pages: list[int] = field(default_factory=list)
    previous: str | None = None
    next: str | None = None
    also_in: list[TextRef] = field(default_factory=list)  # other texts with an article by that number
    uncertain: bool = False  # read by OCR with a low confidence: check the original
    pieces: int = 1

    @property
    def page(self) -> int | None:
        return self.pages[0] if self.pages else None

    @property
    def found(self) -> bool:
        return True

    def to_json(self) -> dict:
        return {"found": True, **asdict(self), "page": self.page}


@dataclass
class ArticleNotFound:
    """No article read: why, and the texts that have an article by that number (when any)."""

    number: str
    reason: NotFoundReason
    source: str | None = None
    candidates: list[TextRef] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return False

    @property
    def message(self) -> str:
        if self.reason == NotFoundReason.UNKNOWN_SOURCE:
            return f"Aucun texte indexé sous le nom « {self.source} »."
        if self.reason == NotFoundReason.AMBIGUOUS:
            names = " ; ".join(f"{c.title} ({c.source})" for c in self.candidates)
            return f"Plusieurs textes ont un article {self.number} : {names}. Précisez le texte."
        where = f" dans « {self.source} »" if self.source else " dans les textes indexés"
        return f"Article {self.number} introuvable{where}."

    def to_json(self) -> dict:
        return {"found": False, "number": self.number, "reason": str(self.reason), "source": self.source,
                "candidates": [asdict(c) for c in self.candidates], "message": self.message}


def pages_label(pages: list[int]) -> str:
    """« p. 121 », « p. 121-122 », « p. 12, 15 »; '' without pages."""
    if not pages:
        return ""
    if len(pages) > 1 and pages == list(range(pages[0], pages[-1] + 1)):
        return f"p. {pages[0]}-{pages[-1]}"
    return "p. " + ", ".join(str(p) for p in pages)


def _index_of(index_or_store):
    """An Index from an Index or an Engine (anything with ``.index``)."""
    return index_or_store.index if hasattr(index_or_store, "index") and not hasattr(index_or_store, "collection") else index_or_store


def _key_variants(key: str) -> list[str]:
    """« 16 bis » and « 16bis » are one article: the store keeps the label as the text prints it."""
    joined = re.sub(r"\s+", "", key)
    spaced = re.sub(r"(?i)(\d)(bis|ter|quater)$", r"\1 \2", joined)
    return list(dict.fromkeys([key, joined, spaced]))


def natural_key(key: str) -> tuple:
    """Order of article numbers: 2 < 10, 16 < 16-1 < 16 bis < 17, L3121-9 < L3121-10."""
    parts: list[tuple[int, int | str]] = []
    for digits, letters in re.findall(r"(\d+)|([^\W\d_]+)", key):
        parts.append((0, int(digits)) if digits else (1, letters.lower()))
    return tuple(parts)


def _pages(meta: dict) -> list[int]:
    pages = [int(p) for p in str(meta.get("pages") or "").split(",") if p.strip().lstrip("-").isdigit()]
    page = meta.get("page", -1)
    if not pages and isinstance(page, int) and page > 0:
        pages = [page]
    return [p for p in pages if p > 0]


def _body(document: str, meta: dict) -> tuple[str, bool]:
    """A stored passage without the heading line every piece repeats, and whether it carries the
    OCR notice."""
    lines = document.split("\n")
    heading = meta.get("heading", "")
    if lines and heading and lines[0].startswith(heading[:200]):
        lines = lines[1:]
    uncertain = bool(lines) and lines[0] == UNCERTAIN_NOTICE
    if uncertain:
        lines = lines[1:]
    return "\n".join(lines).strip(), uncertain


def join_pieces(pieces: list[str], min_overlap: int = 8) -> str:
    """Pieces of one article in order, each overlap with the previous piece kept once.

    The splitter opens a piece with the last sentence of the previous one (rag.structure.split_body);
    that shared text is found as the longest end of the text so far that starts the next piece."""
    text = ""
    for piece in pieces:
        piece = piece.strip()
        if not text:
            text = piece
            continue
        longest = min(len(text), len(piece))
        overlap = next((n for n in range(longest, min_overlap - 1, -1) if text.endswith(piece[:n])), 0)
        rest = piece[overlap:]
        text = text + rest if overlap else f"{text}\n{piece}"
    return text


def _text_ref(index, source: str, meta: dict) -> TextRef:
    catalog = index.catalog
    title = meta.get("title") or source
    kind = meta.get("kind", "")
    return TextRef(source, title, catalog.short(source, title), kind, meta.get("lang", ""), catalog.jurisdiction(source, kind))


def _is_code(ref: TextRef) -> bool:
    """The default text: Moroccan law (the catalog says which texts those are)."""
    return ref.kind == "law" and ref.jurisdiction == "MA"


def _choose(index, texts: list[TextRef], ref: ArticleRef | None) -> tuple[TextRef | None, list[TextRef]]:
    """The text to read among those that have the article, and the others; (None, all) when the
    request does not say which and the Labour Code is not among them."""
    pool = texts
    if ref is not None:
        scope = parse_scope(ref.text_name) if ref.text_name else None
        if scope and scope.source_fragments:
            named = [t for t in pool if any(f in t.source.lower() for f in scope.source_fragments)]
            pool = named or pool
        if ref.kind_hint:
            pool = [t for t in pool if t.kind == ref.kind_hint] or pool
    works = {index.catalog.entries.get(t.source, {}).get("work", t.source) for t in pool}
    if len(works) > 1:
        codes = [t for t in pool if _is_code(t)]
        if not codes:
            return None, texts
        pool = codes
    lang = ref.lang if ref is not None else "fr"
    chosen = min(pool, key=lambda t: (t.lang != lang, t.lang != "fr", t.source))
    return chosen, [t for t in texts if t.source != chosen.source]


def read_article(index_or_store, number: str | ArticleRef, source: str | None = None) -> Article | ArticleNotFound:
    """The whole article ``number`` of ``source`` (or of the default text, see the module docstring)."""
    index = _index_of(index_or_store)
    ref = number if isinstance(number, ArticleRef) else None
    printed = ref.label if ref is not None else re.sub(r"\s+", " ", str(number)).strip()
    if not printed:
        return ArticleNotFound("", NotFoundReason.ABSENT, source)
    key = ref.key if ref is not None else normalise_article_label(printed)
    if source:
        known = {d.source for d in index.documents() if d.status == "committed"}
        if source not in known:
            return ArticleNotFound(printed, NotFoundReason.UNKNOWN_SOURCE, source)
    where: dict = {"article_key": {"$in": _key_variants(key)}}
    if source:
        where = {"$and": [where, {"source": source}]}
    data = index.collection.get(where=where, include=["documents", "metadatas"])
    rows = [(meta, doc) for meta, doc in zip(data["metadatas"], data["documents"]) if index.is_live(meta)]
    if not rows:
        return ArticleNotFound(printed, NotFoundReason.ABSENT, source)
    texts: dict[str, TextRef] = {}
    for meta, _ in rows:
        texts.setdefault(meta["source"], _text_ref(index, meta["source"], meta))
    chosen, others = _choose(index, sorted(texts.values(), key=lambda t: t.source), ref)
    if chosen is None:
        return ArticleNotFound(printed, NotFoundReason.AMBIGUOUS, source, others)
    return _assemble(index, chosen, [(m, d) for m, d in rows if m["source"] == chosen.source], others)


def _units(rows: list[tuple[dict, str]]) -> dict[tuple[str, str], list[tuple[dict, str]]]:
    """Pieces grouped by article unit: (key, heading). A text that numbers again from 1 (an annex)
    has two units with one key."""
    units: dict[tuple[str, str], list[tuple[dict, str]]] = {}
    for meta, doc in rows:
        units.setdefault((meta.get("article_key", ""), meta.get("heading", "")), []).append((meta, doc))
    return units


def _first_page(pieces: list[tuple[dict, str]]) -> int:
    pages = [p for meta, _ in pieces for p in _pages(meta)]
    return min(pages) if pages else 0


def _assemble(index, text: TextRef, rows: list[tuple[dict, str]], others: list[TextRef]) -> Article:
    units = _units(rows)
    unit_key = min(units, key=lambda u: (_first_page(units[u]), u[1]))
    pieces = sorted(units[unit_key], key=lambda r: r[0].get("piece", 0))
    bodies, uncertain, pages = [], False, []
    for meta, doc in pieces:
        body, unsure = _body(doc, meta)
        bodies.append(body)
        uncertain = uncertain or unsure
        pages.extend(p for p in _pages(meta) if p not in pages)
    first = pieces[0][0]
    heading_path = [part for part in first.get("heading", "").split(" > ") if part]
    if heading_path and heading_path[0] == text.title:
        heading_path = heading_path[1:]
    previous, following = _neighbours(index, text.source, unit_key, _first_page(pieces))
    hit = Hit.from_store("", first, "", 0.0, "article")
    hit.page = min(pages) if pages else None
    return Article(
        source=text.source, title=text.title, short=text.short, label=citation_label(hit, text.short), kind=text.kind,
        lang=text.lang, jurisdiction=text.jurisdiction, force=index.catalog.force(text.source),
        article=first.get("article") or unit_key[0], heading_path=heading_path, text=join_pieces(bodies),
        pages=sorted(pages), previous=previous, next=following, also_in=others, uncertain=uncertain, pieces=len(pieces),
    )


def _neighbours(index, source: str, unit: tuple[str, str], page: int) -> tuple[str | None, str | None]:
    """The articles before and after one unit in its text (order: first page, then number)."""
    data = index.collection.get(where={"source": source}, include=["metadatas"])
    firsts: dict[tuple[str, str], tuple[int, str]] = {}
    for meta in data["metadatas"]:
        if not meta.get("article_key") or not index.is_live(meta):
            continue
        key = (meta["article_key"], meta.get("heading", ""))
        pages = _pages(meta)
        first = min(pages) if pages else 0
        if key not in firsts or first < firsts[key][0]:
            firsts[key] = (first, meta.get("article") or meta["article_key"])
    order = sorted(firsts, key=lambda u: (firsts[u][0], natural_key(u[0]), u[1]))
    if unit not in firsts:
        return None, None
    at = order.index(unit)
    previous = firsts[order[at - 1]][1] if at > 0 else None
    following = firsts[order[at + 1]][1] if at + 1 < len(order) else None
    return previous, following


# ---- the corpus search box ---------------------------------------------------------------------


@dataclass
class SearchRow:
    """One line of the corpus search table."""

    label: str
    article: str | None
    page: int | None
    source: str
    snippet: str
    title: str = ""
    kind: str = ""
    lang: str = ""

    def to_json(self) -> dict:
        return asdict(self)


SNIPPET_CHARS = 240
LANGS = ("fr", "ar", "en")


def snippet(text: str, query: str, width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of a passage around the first word of the query it contains."""
    from rag.lexical import tokenize

    body = " ".join(text.split())
    if len(body) <= width:
        return body
    low = body.casefold()
    words = sorted({w for w in re.findall(r"\w{3,}", query.casefold())} | set(tokenize(query)), key=len, reverse=True)
    at = min((p for p in (low.find(w) for w in words) if p >= 0), default=0)
    start = max(0, at - width // 3)
    cut = body[start:start + width]
    return ("…" if start else "") + cut.strip() + ("…" if start + width < len(body) else "")


def search_corpus(retriever, query: str, kind: str | list[str] | None = None, lang: str | list[str] | None = None,
                  source: str | list[str] | None = None, k: int = 20) -> list[SearchRow]:
    """The search box: the retriever's hybrid search, filtered, as table rows, best first (passages
    found only by meaning need the chat's ``min_similarity``).

    Raises ValueError (a French sentence) for an empty query or an unknown filter value."""
    query = (query or "").strip()
    if not query:
        raise ValueError("Saisissez un ou plusieurs mots à chercher.")
    kinds, langs, sources = (_as_list(v) for v in (kind, lang, source))
    bad = [v for v in kinds if v not in KINDS]
    if bad:
        raise ValueError(f"Type de texte inconnu : {', '.join(bad)} (attendu : {', '.join(KINDS)}).")
    bad = [v for v in langs if v not in LANGS]
    if bad:
        raise ValueError(f"Langue inconnue : {', '.join(bad)} (attendu : fr, ar ou en).")
    if sources:
        known = {d.source for d in retriever.index.documents() if d.status == "committed"}
        bad = [v for v in sources if v not in known]
        if bad:
            raise ValueError(f"Aucun texte indexé sous le nom : {', '.join(bad)}.")
    hits = retriever.search(query, k=k, filters=Filters(kinds, langs, sources))
    floor = retriever.settings.min_similarity
    catalog = retriever.index.catalog
    rows = []
    for hit in hits:
        # a passage that shares no word with the query is shown only when its meaning is close
        # (the chat's own threshold): the nearest vectors of a word no text contains are noise
        if hit.via != "article" and "lexical" not in hit.via and (hit.similarity is None or hit.similarity < floor):
            continue
        body, _ = _body(hit.text, {"heading": hit.heading})
        rows.append(SearchRow(
            label=citation_label(hit, catalog.short(hit.source, hit.title)), article=hit.article, page=hit.page,
            source=hit.source, snippet=snippet(body, query), title=hit.title, kind=hit.kind, lang=hit.lang,
        ))
    return rows


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    values = [value] if isinstance(value, str) else list(value)
    return [v.strip() for v in values if v and v.strip()]

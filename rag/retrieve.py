"""Hybrid search: named-article lookup, BM25 and dense vectors fused by reciprocal rank.

A query that names an article ("art. 350", "article 184 du code du travail", "المادة 350") gets
that article first; everything else is ranked by reciprocal-rank fusion of the lexical and the
dense candidate lists, and of the articles whose written questions (rag.glosses) are closest to the
question. Pieces of one long article collapse into its best piece.
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from rag.ingest import detect_lang
from rag.lexical import tokenize
from rag.structure import ARABIC_DIGITS, ARABIC_ORDINALS, normalise_article_label


@dataclass
class Filters:
    kinds: list[str] = field(default_factory=list)
    langs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    exclude_kinds: list[str] = field(default_factory=list)

    def allows(self, meta: dict) -> bool:
        return (
            (not self.kinds or meta.get("kind") in self.kinds)
            and meta.get("kind") not in self.exclude_kinds
            and (not self.langs or meta.get("lang") in self.langs)
            and (not self.sources or meta.get("source") in self.sources)
        )

    def where(self) -> dict | None:
        clauses = [{key: {"$in": values}} for key, values in (("kind", self.kinds), ("lang", self.langs), ("source", self.sources)) if values]
        if self.exclude_kinds:
            clauses.append({"kind": {"$nin": list(self.exclude_kinds)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass
class Hit:
    chunk_id: str
    source: str
    title: str
    article: str | None
    page: int | None
    lang: str
    kind: str
    score: float
    text: str
    heading: str = ""
    pages: str = ""
    via: str = ""  # article | lexical | dense | lexical+dense
    similarity: float | None = None  # cosine similarity to the query (dense), when known

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_store(cls, chunk_id: str, meta: dict, text: str, score: float, via: str) -> "Hit":
        page = meta.get("page", -1)
        return cls(
            chunk_id=chunk_id, source=meta.get("source", ""), title=meta.get("title", ""),
            article=meta.get("article") or None, page=None if page is None or page < 0 else int(page),
            lang=meta.get("lang", ""), kind=meta.get("kind", ""), score=round(float(score), 6), text=text,
            heading=meta.get("heading", ""), pages=meta.get("pages", ""), via=via,
        )


@dataclass
class ArticleRef:
    key: str
    kind_hint: str | None


_ORD = "|".join(sorted(map(re.escape, ARABIC_ORDINALS), key=len, reverse=True))
_REF_LATIN = re.compile(
    r"\b(?:art(?:icle)?s?\.?|§)\s*(premier|1er|L\.?\s?\d{3,4}-\d+(?:-\d+)?|\d+(?:[.-]\d+)*)\b", re.I
)
_REF_CODE = re.compile(r"\b(L\.?\s?\d{3,4}-\d+(?:-\d+)?)\b")
_REF_ARABIC = re.compile(rf"(?:المادة|الفصل|للمادة|بالمادة)\s*({_ORD}|[0-9٠-٩]+(?:-[0-9٠-٩]+)?)")
_KIND_HINTS = [
    ("decree", re.compile(r"d[ée]cret|مرسوم", re.I)),
    ("agreement", re.compile(r"idcc|convention collective|avenant|accord (?:du|de branche)|2098", re.I)),
    ("intl_convention", re.compile(r"\b(?:oit|ilo|c0\d\d|convention n°?\s*\d+|convention no\.?\s*\d+)\b", re.I)),
    ("law", re.compile(r"code du travail|c\.\s*trav|labou?r code|مدونة الشغل|loi 65-99|65\.99", re.I)),
]


# What a question says about the text it is about ("selon la convention 87 de l'OIT", "au Maroc",
# "dans l'accord français"): hits from that kind of text (or that very text) are ranked higher.
_SCOPE_HINTS = [
    (("law", "decree"), re.compile(r"\bmaroc\w*|morocc\w*|المغرب|code du travail|labou?r code|مدونة الشغل|c\.\s*trav", re.I)),
    (("decree",), re.compile(r"d[ée]cret|مرسوم|\bsmig\b|\bsmag\b", re.I)),
    (("agreement",), re.compile(r"idcc|convention collective|avenant|\bfran[çc]\w*|\bfrench\b|france|الفرنسي|الاتفاقية الجماعية", re.I)),
    (("intl_convention",), re.compile(r"\b(?:oit|ilo|bit)\b|international labou?r|منظمة العمل الدولية", re.I)),
]
_CONVENTION_NUMBER = re.compile(
    r"\b(?:convention|c)\s*(?:n[°o]\.?\s*)?0?(\d{2,3})\b"
    r"|(?:ال)?اتفاقي[ةه](?:\s+[^\s\d٠-٩]+){0,5}?\s+(?:رقم\s*)?([0-9٠-٩]{2,3})(?![0-9٠-٩])",
    re.I,
)


@dataclass
class Scope:
    kinds: set[str] = field(default_factory=set)
    source_fragments: set[str] = field(default_factory=set)

    def names(self, meta: dict) -> bool:
        """The hit comes from the very text the question names."""
        source = meta.get("source", "").lower()
        return bool(self.source_fragments) and any(f in source for f in self.source_fragments)

    def matches(self, meta: dict) -> bool:
        return self.names(meta) or (bool(self.kinds) and meta.get("kind") in self.kinds)


def parse_scope(query: str) -> Scope:
    scope = Scope()
    for kinds, rx in _SCOPE_HINTS:
        if rx.search(query):
            scope.kinds.update(kinds)
    arabic = bool(re.search(r"(?:ال)?اتفاقي[ةه]", query))
    for match in _CONVENTION_NUMBER.finditer(query):
        # « C 98 » names a convention only in a question about ILO texts; the word itself always does
        # (« Convention 87 », « la convention n° 98 », « الاتفاقية رقم 87 »)
        if "intl_convention" in scope.kinds or arabic or match.group(0).lower().startswith("convention"):
            number = (match.group(1) or match.group(2)).translate(ARABIC_DIGITS)
            scope.source_fragments.add(f"c{int(number):03d}")
    return scope


_ARTICLE_REFS = (_REF_LATIN, _REF_CODE, _REF_ARABIC)


def parse_article_refs(query: str) -> list[ArticleRef]:
    """Articles named in a question, with the kind of text they point to when the question says."""
    hint = next((kind for kind, rx in _KIND_HINTS if rx.search(query)), None)
    keys: list[str] = []
    for rx in _ARTICLE_REFS:
        for match in rx.finditer(query):
            key = normalise_article_label(match.group(1).translate(ARABIC_DIGITS))
            if key not in keys:
                keys.append(key)
    return [ArticleRef(key, hint) for key in keys]


def without_article_refs(text: str) -> str:
    """The text with the article references that :func:`parse_article_refs` reads taken out."""
    for rx in _ARTICLE_REFS:
        text = rx.sub(" ", text)
    return text


STRUCTURED_KINDS = {"law", "decree", "agreement", "intl_convention"}
QUERY_VECTORS_KEPT = 256


class Retriever:
    """Search over an :class:`rag.index.Index` with an injected embedder."""

    def __init__(self, index, embedder, settings, glossary=None):
        from rag.lexical import Glossary

        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.glossary = glossary if glossary is not None else Glossary.load(getattr(settings, "glossary_file", None))
        self._vectors: dict[tuple[int, str], list[float]] = {}  # (embedder, query text) → vector, oldest first (see _query_vector)
        self._glosses = None  # rag.glosses.GlossIndex, read on first search
        self._glosses_read = False
        self._gloss_lock = threading.Lock()
        self._article_rows: tuple[object, dict] | None = None  # (lexical index it was built from, (source, article) → pieces)

    # ---- the three candidate lists -------------------------------------------------------
    def _article_hits(self, refs: list[ArticleRef], filters: Filters, query_lang: str) -> list[Hit]:
        hits: list[Hit] = []
        for ref in refs:
            data = self.index.collection.get(where={"article_key": ref.key}, include=["documents", "metadatas"])
            rows = [(cid, meta, doc) for cid, meta, doc in zip(data["ids"], data["metadatas"], data["documents"])
                    if filters.allows(meta) and self.index.is_live(meta)]
            preferred_kind = ref.kind_hint or ("law" if any(m.get("kind") == "law" for _, m, _ in rows) else None)

            def order(row):
                _, meta, _ = row
                return (
                    0 if meta.get("kind") == preferred_kind else 1,
                    0 if meta.get("lang") == query_lang else 1,
                    meta.get("source", ""),
                    meta.get("piece", 0),
                )

            for cid, meta, doc in sorted(rows, key=order):
                hits.append(Hit.from_store(cid, meta, doc, 0.0, "article"))
        return hits

    def _lexical(self, query: str, filters: Filters, n: int) -> list[tuple[str, dict, str]]:
        lexical, metas, texts = self.index.lexical()
        allowed = None
        if filters.kinds or filters.langs or filters.sources or filters.exclude_kinds:
            allowed = np.array([filters.allows(m) for m in metas], dtype=bool)
        return [(lexical.ids[row], metas[row], texts[row]) for row, _ in lexical.search(query, n, allowed)]

    def _dense(self, query: str, filters: Filters, n: int, ranking_query: str | None = None) -> tuple[list[tuple[str, dict, str]], dict[str, float]]:
        """Live dense candidates and their cosine similarity to the query (per call: searches run concurrently).

        With ``ranking_query`` the candidates are ranked for that text, while the similarities
        (what decides "not found") stay those of the question as asked."""
        total = self.index.count()
        if total == 0:
            return [], {}
        texts = [query] if ranking_query is None else [query, ranking_query]
        result = self.index.collection.query(
            query_embeddings=[self._query_vector(t) for t in texts], n_results=min(n, total), where=filters.where(),
            include=["documents", "metadatas", "distances"],
        )
        similarity = {cid: 1.0 - float(d) for cid, d in zip(result["ids"][0], result["distances"][0])}
        ranked = len(texts) - 1
        rows = zip(result["ids"][ranked], result["metadatas"][ranked], result["documents"][ranked])
        return [(cid, meta, doc) for cid, meta, doc in rows if self.index.is_live(meta)], similarity

    def _query_vector(self, text: str) -> list[float]:
        """The embedder's vector for a query text; recent ones are kept (one question embeds its text
        once although its parts, its named text and the « not found » gate search it again)."""
        key = (id(self.embedder), text)
        vector = self._vectors.get(key)
        if vector is None:
            vector = self.embedder.embed_query(text)
            if len(self._vectors) >= QUERY_VECTORS_KEPT:
                self._vectors.pop(next(iter(self._vectors)), None)
            self._vectors[key] = vector
        return vector

    def glosses(self):
        """The questions written per article (rag.glosses), read and embedded once; None without any."""
        with self._gloss_lock:
            if not self._glosses_read:
                from rag.glosses import load_gloss_index

                folder = getattr(self.settings, "glosses_dir", None)
                self._glosses = load_gloss_index(folder, self.embedder, getattr(self.settings, "cache_dir", None))
                self._glosses_read = True
            return self._glosses

    def _pieces_of(self, source: str, article: str) -> list[tuple[str, dict, str]]:
        """The live pieces of one article of one source (from the BM25 snapshot of live passages)."""
        lexical, metas, texts = self.index.lexical()
        if self._article_rows is None or self._article_rows[0] is not lexical:
            table: dict[tuple[str, str], list[tuple[str, dict, str]]] = {}
            for cid, meta, text in zip(lexical.ids, metas, texts):
                if meta.get("article_key"):
                    table.setdefault((meta.get("source", ""), meta["article_key"]), []).append((cid, meta, text))
            self._article_rows = (lexical, table)
        return self._article_rows[1].get((source, article), [])

    def _gloss_votes(self, query: str, lang: str, filters: Filters, n: int) -> list[list[list[tuple[str, dict, str]]]]:
        """Two ranked lists (dense, then BM25) of the articles whose written questions are closest to
        the question, each article as the live pieces of one version of it: the version in the
        question's language when the work has one, else the glossed file. An article whose text is
        not indexed gets no vote."""
        glosses = self.glosses() if self.settings.gloss_weight > 0 else None
        if glosses is None:
            return []
        versions: dict[str, list[tuple[str, str]]] = {}  # work → (source, lang) of its indexed versions
        for record in self.index.documents():
            if record.status == "committed":
                versions.setdefault(self._work(record.source), []).append((record.source, record.lang))

        def pieces(article: tuple[str, str]) -> list[tuple[str, dict, str]]:
            glossed, key = article
            ordered = sorted(versions.get(self._work(glossed), []), key=lambda v: (v[1] != lang, v[0] != glossed, v[0]))
            for source, _ in ordered:
                rows = [r for r in self._pieces_of(source, key) if filters.allows(r[1])]
                if rows:
                    return rows
            return []

        ranked_lists = (glosses.dense(self._query_vector(query), n), glosses.lexical(query, n))
        return [votes for votes in ([p for p in map(pieces, ranked) if p] for ranked in ranked_lists) if votes]

    def _cross_lingual(self, query: str, lang: str) -> str | None:
        """A question not in French also searches with the official French terms of the legal notions
        it names (glossary): e5 matches an Arabic or English question to French text only loosely."""
        if lang == "fr":
            return None
        terms = self.glossary.french_terms(query)
        return f"{query} ({'; '.join(terms)})" if terms else None

    # ---- public ----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        """Best hits first; at most one piece per (source, article).

        A question that names several jurisdictions ("au Maroc et en France", "under C98 and the
        Code") is searched once per jurisdiction, and a question that asks two things once per
        part (``split_questions``); the lists are interleaved, so that every side of a comparison
        and every part of a question gets its texts into the top of the list."""
        from rag.subquestions import framed, split_question

        k = k or self.settings.top_k
        filters = filters or Filters()
        query = query.strip()
        if not query:
            return []
        parts = framed(split_question(query)) if self.settings.split_questions and not filters.sources else []
        if len(parts) < 2:
            return self._search_sides(query, k, filters)
        return self._interleave([self._search_sides(q, k, filters) for q in [query, *parts]], k)

    def _search_sides(self, query: str, k: int, filters: Filters) -> list[Hit]:
        from rag.jurisdiction import JURISDICTION_KINDS, named_jurisdictions

        named = [j for j in named_jurisdictions(query) if j in JURISDICTION_KINDS]
        if len(named) < 2 or filters.kinds or filters.sources:
            return self._search_one(query, k, filters, named)
        return self._interleave([self._search_one(query, k, Filters(kinds=JURISDICTION_KINDS[j], langs=filters.langs, exclude_kinds=filters.exclude_kinds), named)
                                 for j in named], k)

    def _interleave(self, lists: list[list[Hit]], k: int) -> list[Hit]:
        """Named articles first, then the lists' hits rank by rank, then the rest by score; one hit per
        article of a work."""
        merged: list[Hit] = []
        seen: set[tuple[str, str]] = set()
        exact = [h for hits in lists for h in hits if h.via == "article"]
        ranked = [h for rank in zip(*[[h for h in hits if h.via != "article"] for hits in lists]) for h in rank]
        rest = sorted((h for hits in lists for h in hits), key=lambda h: h.score, reverse=True)
        for hit in exact + ranked + rest:
            group = self._article_of_work(hit)
            if group not in seen:
                seen.add(group)
                merged.append(hit)
        return merged[:k]

    def unknown_names(self, query: str) -> list[str]:
        """Names in the question (capitalised words past the first, acronyms) that no indexed text
        contains: « Teleperformance », « CIMR », « FIFA ». A question about them cannot be answered
        from these texts, however close its other words are to the law."""
        from rag.jurisdiction import NAMED_JURISDICTIONS

        lexical, _, _ = self.index.lexical()
        if not len(lexical):
            return []
        masked = query
        for rx in [*NAMED_JURISDICTIONS.values(), _REF_LATIN, _REF_CODE, _CONVENTION_NUMBER]:
            masked = rx.sub(" ", masked)
        names = []
        for sentence in re.split(r"(?<=[.?!;:])\s+|\n", masked):
            words = re.findall(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’-]*", sentence)
            for n, word in enumerate(words):
                word = re.split(r"['’]", word)[-1] or word  # l'OIT → OIT
                if len(word) < 2 or not tokenize(word):
                    continue
                acronym = word.isupper()
                if (acronym or (n > 0 and word[:1].isupper())) and not lexical.knows(word):
                    names.append(word)
        return names

    def unindexed_agreements(self, query: str) -> list[str]:
        """Agreements the question names by their subject that no indexed text's title matches
        (:mod:`rag.instruments`): « la convention collective nationale des télécommunications »."""
        from rag.instruments import unindexed_instruments

        catalog = self.index.catalog.entries
        titles = [" ".join([d.title, d.source.replace("_", " "), str(catalog.get(d.source, {}).get("short", ""))])
                  for d in self.index.documents() if d.status == "committed"]
        return unindexed_instruments(query, titles)

    def closeness(self, query: str) -> float:
        """The question's best dense similarity to any live passage."""
        _, similarity = self._dense(query, Filters(), 5)
        return max(similarity.values(), default=0.0)

    def covered_jurisdictions(self) -> set[str]:
        catalog = self.index.catalog
        return {catalog.jurisdiction(d.source, d.kind) for d in self.index.documents() if d.status == "committed"} - {""}

    def _search_one(self, query: str, k: int, filters: Filters, named: list[str]) -> list[Hit]:
        n = self.settings.candidates
        lang = detect_lang(query)
        refs = parse_article_refs(query)
        exact = self._article_hits(refs, filters, lang) if refs else []
        expanded, ranking_query = self.glossary.expand(query), self._cross_lingual(query, lang)
        lexical = self._lexical(expanded, filters, n)
        dense, similarity = self._dense(query, filters, n, ranking_query)
        scope = parse_scope(query)
        lists = [("lexical", lexical, 1.0), ("dense", dense, self.settings.dense_weight)]
        named_sources = self._named_sources(scope, filters) if self.settings.search_named_text else []
        if named_sources:
            # the text the question names is also searched on its own: an Arabic question on an
            # English convention finds too few of its passages among the whole corpus' candidates
            only = Filters(kinds=filters.kinds, langs=filters.langs, sources=named_sources, exclude_kinds=filters.exclude_kinds)
            lists.append(("lexical", self._lexical(expanded, only, n), 1.0))
            lists.append(("dense", self._dense(query, only, n, ranking_query)[0], self.settings.dense_weight))
        rrf_k = self.settings.rrf_k
        scores: dict[str, float] = {}
        rows: dict[str, tuple[dict, str]] = {}
        via: dict[str, set[str]] = {}
        for name, ranked, weight in lists:
            for rank, (cid, meta, doc) in enumerate(ranked):
                scores[cid] = scores.get(cid, 0.0) + weight / (rrf_k + rank + 1)
                rows[cid] = (meta, doc)
                via.setdefault(cid, set()).add(name)
        for votes in self._gloss_votes(query, lang, filters, n):
            for rank, pieces in enumerate(votes):
                for cid, meta, doc in pieces:  # every piece: the article's best one takes the vote
                    scores[cid] = scores.get(cid, 0.0) + self.settings.gloss_weight / (rrf_k + rank + 1)
                    rows[cid] = (meta, doc)
                    via.setdefault(cid, set()).add("gloss")
        if scope.kinds or scope.source_fragments:
            for cid, (meta, _) in rows.items():
                if scope.names(meta):
                    scores[cid] *= self.settings.named_text_boost
                elif scope.matches(meta):
                    scores[cid] *= self.settings.scope_boost
        catalog = self.index.catalog
        boilerplate = self.index.lexical()[0].boilerplate
        for cid, (meta, _) in rows.items():
            if cid in boilerplate:  # a treaty's final clauses, an agreement's standard articles
                scores[cid] *= self.settings.boilerplate_weight
            # Moroccan law first: a foreign agreement the question does not name is a comparable
            jurisdiction = catalog.jurisdiction(meta.get("source", ""), meta.get("kind", ""))
            if jurisdiction and jurisdiction not in ("MA", "ILO") and jurisdiction not in named:
                scores[cid] *= self.settings.comparable_weight
            # a heading or preamble piece of a text made of articles states no rule of its own
            if not meta.get("article_key") and meta.get("kind") in STRUCTURED_KINDS:
                scores[cid] *= self.settings.unnumbered_weight
        return self._assemble(exact, self._group(scores, rows, via, lang, similarity), k)

    def _article_of_work(self, hit: Hit) -> tuple[str, str]:
        """One article of a work (its French and Arabic versions together), or the piece itself."""
        return self._work(hit.source), hit.article or f"#{hit.chunk_id}"

    def _named_sources(self, scope: Scope, filters: Filters) -> list[str]:
        """Indexed texts the question names (« convention 135 », « الاتفاقية رقم 87 »)."""
        if not scope.source_fragments:
            return []
        return sorted({d.source for d in self.index.documents()
                       if d.status == "committed" and scope.names({"source": d.source}) and (not filters.sources or d.source in filters.sources)})

    def _work(self, source: str) -> str:
        """Parallel versions of one text (the French and Arabic code) share a 'work' key in the catalog."""
        return self.index.catalog.entries.get(source, {}).get("work", source)

    def _group(self, scores: dict[str, float], rows: dict, via: dict, lang: str, similarity: dict[str, float]) -> list[Hit]:
        """One hit per article of a work: the evidence of its pieces and of its parallel versions adds up.

        Within one source only the best piece counts (a long article must not win by its length);
        across the French and Arabic versions of the code the scores add, which is what lets an
        English or Arabic question find the French article and the other way round.
        """
        best_piece: dict[tuple[str, str, str], str] = {}
        for cid, score in scores.items():
            meta = rows[cid][0]
            article = meta.get("article_key") or f"#{cid}"
            key = (self._work(meta.get("source", "")), article, meta.get("source", ""))
            if key not in best_piece or score > scores[best_piece[key]]:
                best_piece[key] = cid
        groups: dict[tuple[str, str], list[str]] = {}
        for (work, article, _), cid in best_piece.items():
            groups.setdefault((work, article), []).append(cid)
        hits = []
        for members in groups.values():
            total = sum(scores[c] for c in members)
            shown = max(members, key=lambda c: (rows[c][0].get("lang") == lang, scores[c]))
            meta, doc = rows[shown]
            ways = "+".join(sorted(set().union(*(via[c] for c in members))))
            hit = Hit.from_store(shown, meta, doc, total, ways)
            sims = [similarity[c] for c in members if c in similarity]
            hit.similarity = round(max(sims), 4) if sims else None
            hits.append(hit)
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits

    def _assemble(self, exact: list[Hit], fused: list[Hit], k: int) -> list[Hit]:
        results: list[Hit] = []
        seen: set[tuple[str, str]] = set()

        def push(hit: Hit) -> None:
            group = self._article_of_work(hit)
            exact_group = (hit.source, hit.article or f"#{hit.chunk_id}")
            if group in seen and hit.via != "article" or exact_group in seen:
                return
            seen.add(group)
            seen.add(exact_group)
            results.append(hit)

        top_fused = fused[0].score if fused else 0.0
        for rank, hit in enumerate(exact):
            # a named article outranks every fused hit
            hit.score = round(top_fused + 1.0 + 1.0 / (rank + 1), 6)
            push(hit)
        for hit in fused:
            if len(results) >= k:
                break
            push(hit)
        return results[:k]

    def get_article(self, source: str, article: str) -> list[Hit]:
        """Every live piece of one article of one text, in order."""
        key = normalise_article_label(article)
        data = self.index.collection.get(where={"$and": [{"source": source}, {"article_key": key}]}, include=["documents", "metadatas"])
        rows = sorted(
            ((cid, meta, doc) for cid, meta, doc in zip(data["ids"], data["metadatas"], data["documents"]) if self.index.is_live(meta)),
            key=lambda r: r[1].get("piece", 0),
        )
        return [Hit.from_store(cid, meta, doc, 1.0, "article") for cid, meta, doc in rows]

"""Grounded chat: retrieve → fenced sources with short keys → streamed answer → citation check.

The check is plain code, after generation: citations of keys that were never given are removed
and reported; a number stated in a cited sentence that the cited text does not contain is
flagged; each kept key becomes "C. trav., art. 184, p. 73" with its excerpt one click away.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from rag import prompts
from rag.ingest import detect_lang
from rag.retrieve import Filters, Hit

log = logging.getLogger(__name__)

KEY_RX = re.compile(r"\[\s*(S\d+(?:\s*[,;]\s*S?\d+)*)\s*\]")
NUMBER_RX = re.compile(r"(?<![\w.,])(\d{1,3}(?:[  .]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)(?![\w])")
# a number right after these words points to a text or a part of it: a reference, not a figure
ARTICLE_NUMBER_RX = re.compile(
    r"(?:art(?:icle)?s?\.?|clauses?|alinéas?|paragraphes?|§|chapitres?|titres?|livres?|sections?|"
    r"المادة|المواد|البند|الفقرة|décret|n°|no\.?)\s*$", re.I,
)
FOLLOW_UP_START = re.compile(r"^\s*(et|and|what about|how about|also|aussi|pour|dans ce cas|و|وماذا|ماذا عن|وفي)\b", re.I)

FRENCH_NUMBER_WORDS = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16, "dix-huit": 18,
    "vingt": 20, "vingt-quatre": 24, "vingt-cinq": 25, "trente": 30, "quarante": 40, "quarante-quatre": 44,
    "quarante-huit": 48, "cinquante": 50, "soixante": 60, "cent": 100, "demi": 0.5, "moitié": 50,
}


@dataclass
class Citation:
    key: str
    label: str
    source: str
    title: str
    article: str | None
    page: int | None
    text: str

    def to_json(self) -> dict:
        return {"source": self.source, "title": self.title, "article": self.article, "page": self.page, "text": self.text, "label": self.label}


@dataclass
class Answer:
    question: str
    text: str
    lang: str
    citations: list[Citation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[Citation] = field(default_factory=list)  # everything shown to the model
    standalone_question: str = ""
    not_found: bool = False
    partial: bool = False

    def to_json(self) -> dict:
        return {
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "warnings": list(self.warnings),
            "lang": self.lang,
            "standalone_question": self.standalone_question,
            "not_found": self.not_found,
            "partial": self.partial,
        }


@dataclass
class Delta:
    """A piece of streamed model text (before the citation check)."""

    text: str


def citation_label(hit: Hit, short: str) -> str:
    parts = [short]
    if hit.article:
        parts.append(f"art. {hit.article}")
    if hit.page:
        parts.append(f"p. {hit.page}")
    return ", ".join(parts)


def numbers_in(text: str) -> set[str]:
    """Numbers of a text in a canonical form ("17,92" = "17.92", "2 288" = "2288"), words included."""
    found = set()
    for match in NUMBER_RX.finditer(text):
        raw = match.group(1).replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
            raw = raw.replace(".", "")
        found.add(_canonical_number(raw))
    low = text.lower()
    for word, value in FRENCH_NUMBER_WORDS.items():
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
            found.add(_canonical_number(str(value)))
    return found


def _canonical_number(raw: str) -> str:
    raw = raw.replace(",", ".")
    try:
        value = float(raw)
    except ValueError:
        return raw
    return str(int(value)) if value.is_integer() else f"{value:g}"


def stated_numbers(sentence: str) -> set[str]:
    """Numbers a sentence states as facts: not article numbers, not citation keys."""
    clean = KEY_RX.sub(" ", sentence)
    values = set()
    for match in NUMBER_RX.finditer(clean):
        if ARTICLE_NUMBER_RX.search(clean[: match.start()]):
            continue
        raw = match.group(1).replace("\u202f", "").replace("\xa0", "").replace(" ", "")
        if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", raw):
            raw = raw.replace(".", "")
        values.add(_canonical_number(raw))
    return values


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?؟\n])\s+", text) if s.strip()]


def sanitise_model_text(text: str) -> str:
    """Model output is shown as Markdown: no HTML, no images, no links (an image URL is fetched by
    the browser and can carry a draft away; a link can hide ``javascript:``). Citation keys stay."""
    text = re.sub(r"(?is)<(script|style|iframe|object|svg)\b.*?(?:</\1\s*>|$)", "", text)  # with their content
    text = re.sub(r"<[^>]{0,500}>", "", text)  # other tags, and autolinks <http://…>
    label, target = r"\[((?:[^\[\]]|\[[^\[\]]*\])*)\]", r"\((?:[^()]|\([^()]*\))*\)"
    text = re.sub(r"!" + label + target, "", text)  # inline images, nested brackets included
    text = re.sub(r"(?!\[\s*S\d)" + label + target, r"\1", text)  # inline links → their words
    text = re.sub(r"(?im)^ {0,3}\[[^\]]+\]:[ \t]*<?(?:[a-z][a-z0-9+.-]*:|//|www\.)\S*", "", text)  # reference definitions
    text = text.replace("![", "[")  # reference-style images ![a][r], ![r] cannot be images any more
    return re.sub(r"(?i)(?:java|vb)script:", "", text)


class ChatEngine:
    """Answers questions from the indexed texts only. LLM and retriever are injected."""

    def __init__(self, retriever, chat_model, settings, catalog=None, encoding=None):
        self.retriever = retriever
        self.chat = chat_model
        self.settings = settings
        self.catalog = catalog if catalog is not None else retriever.index.catalog
        if encoding is None:
            from rag.offline import get_encoding

            encoding = get_encoding(str(settings.tiktoken_dir), settings.tiktoken_encoding)
        self.encoding = encoding

    # ---- steps ---------------------------------------------------------------------------
    def standalone_question(self, question: str, history: list[tuple[str, str]]) -> str:
        """Rewrite a follow-up ("et pour le travail de nuit ?") into a question that stands alone."""
        if not history:
            return question
        words = question.split()
        if len(words) > 10 and not FOLLOW_UP_START.match(question):
            return question
        last_q, last_a = history[-1]
        messages = [
            {"role": "system", "content": prompts.SYSTEM_PROMPT},
            {"role": "user", "content": f"{prompts.REWRITE_INSTRUCTION}\nQuestion précédente : {last_q}\nDernière question : {question}"},
        ]
        try:
            text = "".join(self.chat.stream(messages, max_tokens=80)).strip().split("\n")[0].strip()
        except Exception as exc:  # the rewrite is a convenience: fall back to plain concatenation
            log.warning("follow-up rewrite failed: %s", exc)
            text = ""
        if not text or len(text) > 400:
            return f"{last_q} {question}"
        return sanitise_model_text(text)

    def relevant(self, hits: list[Hit], query: str = "") -> list[Hit]:
        """Drop everything when nothing is close enough: better "not found" than an invented answer."""
        if not hits:
            return []
        if query and self._uncovered_countries(query):
            return []  # the law of a country no indexed text covers: a Moroccan answer would mislead
        if any(h.via == "article" for h in hits):
            return hits
        best = max((h.similarity or 0.0) for h in hits)
        if not best and query and hasattr(self.retriever, "closeness"):
            best = self.retriever.closeness(query)  # the hits shown came from the lexical side only
        if query and hasattr(self.retriever, "unknown_names") and self.retriever.unknown_names(query):
            # a company, fund or body no indexed text mentions: answer only when the rest of the
            # question is clearly about these texts
            return hits if best >= self.settings.min_similarity + self.settings.unknown_name_margin else []
        if best >= self.settings.min_similarity:
            return hits
        # cross-language questions score lower in e5: accept them when they use labour-law
        # vocabulary (the glossary) and words also matched (BM25) and the model is told to say when the sources do not answer
        from rag.retrieve import parse_scope

        glossary = getattr(self.retriever, "glossary", None)
        legal = bool(query) and bool((glossary and glossary.matches(query)) or parse_scope(query).kinds)
        lexical = legal and any("lexical" in h.via and "dense" in h.via for h in hits[:3])
        return hits if lexical and best >= self.settings.min_similarity - self.settings.lexical_similarity_margin else []

    def _uncovered_countries(self, query: str) -> set[str]:
        from rag.jurisdiction import uncovered_countries

        covered = self.retriever.covered_jurisdictions() if hasattr(self.retriever, "covered_jurisdictions") else {"MA"}
        return uncovered_countries(query, covered)

    def fit_sources(self, hits: list[Hit], question: str) -> tuple[list[tuple[str, Hit, str]], list[str]]:
        """Give each source a key and fit them in the model window by tiktoken counts; say what was cut."""
        budget = (
            self.chat.n_ctx - self.settings.llm_max_tokens - self._tokens(prompts.SYSTEM_PROMPT) - self._tokens(question) - 120
        )
        fitted: list[tuple[str, Hit, str]] = []
        warnings = []
        for n, hit in enumerate(hits, start=1):
            key = f"S{n}"
            # the label already says where the text is: give the model the body only (prompt speed)
            text = hit.text.split("\n", 1)[1] if "\n" in hit.text else hit.text
            limit = self.settings.source_tokens if n == 1 else (self.settings.secondary_source_tokens or self.settings.source_tokens)
            if limit:
                text = self.focus(text, question, limit)
            cost = self._tokens(text) + 30
            if cost > budget:
                if budget < 120:
                    warnings.append(f"{len(hits) - n + 1} source(s) écartée(s) : fenêtre du modèle pleine.")
                    break
                tokens = self.encoding.encode(text, disallowed_special=())[: budget - 40]
                text = self.encoding.decode(tokens) + " […]"
                warnings.append(f"Source {key} tronquée pour tenir dans la fenêtre du modèle.")
                cost = budget
            fitted.append((key, hit, text))
            budget -= cost
        return fitted, warnings

    def focus(self, text: str, question: str, max_tokens: int) -> str:
        """Keep the sentences of a long source that share most words with the question, in order.

        Reading the prompt is the slow part on 2 cores; cuts are marked "[…]" in what the model
        reads, and the user's excerpt stays the whole article."""
        if self._tokens(text) <= max_tokens:
            return text
        from rag.lexical import tokenize

        wanted = set(tokenize(question))
        sentences = [s for s in re.split(r"(?<=[.;:!?؟])\s+|\n+", text) if s.strip()]
        ranked = sorted(range(len(sentences)), key=lambda i: (-len(wanted & set(tokenize(sentences[i]))), i))
        keep, used = set(), 0
        for i in ranked:
            cost = self._tokens(sentences[i])
            if used + cost > max_tokens:
                continue
            keep.add(i)
            used += cost
        if not keep:
            return self.encoding.decode(self.encoding.encode(text, disallowed_special=())[:max_tokens]) + " […]"
        out, last = [], -1
        for i in sorted(keep):
            if i != last + 1:
                out.append("[…]")
            out.append(sentences[i])
            last = i
        if last != len(sentences) - 1:
            out.append("[…]")
        return " ".join(out)

    def _tokens(self, text: str) -> int:
        return len(self.encoding.encode(text, disallowed_special=()))

    def _short(self, hit: Hit) -> str:
        return self.catalog.short(hit.source, hit.title)

    def build_messages(self, question: str, lang: str, fitted: list[tuple[str, Hit, str]]) -> list[dict]:
        blocks = [
            prompts.SOURCE_TEMPLATE.format(key=key, label=citation_label(hit, self._short(hit)), text=_fence(text))
            for key, hit, text in fitted
        ]
        user = prompts.QUESTION_TEMPLATE.format(sources="\n".join(blocks), language=prompts.LANGUAGE_NAMES.get(lang, "en français"), question=question)
        return [{"role": "system", "content": prompts.SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def check_citations(self, raw: str, fitted: list[tuple[str, Hit, str]]) -> tuple[str, list[Citation], list[str]]:
        """Strip unknown keys, flag unsupported numbers, turn keys into readable references."""
        by_key = {key: (hit, text) for key, hit, text in fitted}
        warnings: list[str] = []
        used: list[str] = []

        def keys_of(group: str) -> list[str]:
            return [k if k.upper().startswith("S") else f"S{k}" for k in re.split(r"\s*[,;]\s*", group.strip().upper())]

        out_sentences = []
        for sentence in split_sentences(raw):
            keys = [k for m in KEY_RX.finditer(sentence) for k in keys_of(m.group(1))]
            stated_here = stated_numbers(sentence)
            if not keys and stated_here:
                # an uncited figure: cite the given source that states all of it, and say so
                source_key = next((k for k in by_key if stated_here <= numbers_in(by_key[k][0].text)), None)
                if source_key:
                    sentence = re.sub(r"(\s*)([.!?؟]?)\s*$", lambda m: f" [{source_key}]{m.group(2)}", sentence.rstrip(), count=1)
                    keys = [source_key]
                    warnings.append(f"Citation ajoutée d'après les chiffres : {citation_label(by_key[source_key][0], self._short(by_key[source_key][0]))}.")
            known = [k for k in keys if k in by_key]
            for k in keys:
                if k not in by_key:
                    warnings.append(f"Citation [{k}] retirée : cette source n'a pas été fournie au modèle.")
            if known:
                cited_numbers = set().union(*(numbers_in(by_key[k][0].text) for k in known))
                stated = stated_numbers(sentence)
                missing = sorted(stated - cited_numbers)
                # small models often cite the neighbouring source: when another given source states
                # every figure of the sentence, the citation is moved there (and the user told)
                better = next((k for k in by_key if k not in known and stated and stated <= numbers_in(by_key[k][0].text)), None) if missing else None
                if better:
                    old_refs = ", ".join(citation_label(by_key[k][0], self._short(by_key[k][0])) for k in known)
                    new_ref = citation_label(by_key[better][0], self._short(by_key[better][0]))
                    warnings.append(f"Citation corrigée : {old_refs} → {new_ref} (seul ce texte contient {', '.join(missing)}).")
                    sentence = KEY_RX.sub(lambda m: f"[{better}]", sentence)
                    known, missing = [better], []
                if missing:
                    refs = ", ".join(citation_label(by_key[k][0], self._short(by_key[k][0])) for k in known)
                    warnings.append(f"Chiffre(s) {', '.join(missing)} absent(s) du texte cité ({refs}) : à vérifier.")
            for k in known:
                if k not in used:
                    used.append(k)

            def replace(match: re.Match) -> str:
                ks = [k for k in keys_of(match.group(1)) if k in by_key]
                if not ks:
                    return ""
                return "(" + " ; ".join(citation_label(by_key[k][0], self._short(by_key[k][0])) for k in ks) + ")"

            out_sentences.append(KEY_RX.sub(replace, sentence))
        text = re.sub(r"[ \t]+([.,;:])", r"\1", " ".join(out_sentences)).strip()
        citations = [self._citation(k, by_key[k][0]) for k in used]
        return text, citations, list(dict.fromkeys(warnings))

    def _citation(self, key: str, hit: Hit) -> Citation:
        return Citation(key, citation_label(hit, self._short(hit)), hit.source, hit.title, hit.article, hit.page, hit.text)

    # ---- the whole turn --------------------------------------------------------------------
    def stream(self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None) -> Iterator[Delta | Answer]:
        """Yield :class:`Delta` pieces while the model writes, then the checked :class:`Answer`."""
        question = question.strip()
        lang = detect_lang(question)
        standalone = self.standalone_question(question, history or [])
        hits = self.relevant(self.retriever.search(standalone, k=self.settings.answer_sources, filters=filters), standalone)
        if not hits:
            yield Answer(question, prompts.NOT_FOUND.get(lang, prompts.NOT_FOUND["fr"]), lang, standalone_question=standalone, not_found=True)
            return
        fitted, warnings = self.fit_sources(hits, standalone)
        messages = self.build_messages(question if standalone == question else standalone, lang, fitted)
        pieces: list[str] = []
        partial = False
        interruption = ""
        try:
            for piece in self.chat.stream(messages):
                pieces.append(piece)
                yield Delta(piece)
        except Exception as exc:
            partial = True
            reason = _describe_failure(exc)
            log.warning("model failed mid-answer: %s", reason)
            interruption = prompts.INTERRUPTED.get(lang, prompts.INTERRUPTED["fr"]).format(reason=reason)
            warnings.append(interruption)
        raw = sanitise_model_text("".join(pieces))
        text, citations, check_warnings = self.check_citations(raw, fitted)
        warnings.extend(check_warnings)
        if not citations and text:
            warnings.append(prompts.NO_CITATION_WARNING)
        if partial:
            text = (text + "\n\n" if text else "") + f"⚠ {interruption}"
        sources = [self._citation(key, hit) for key, hit, _ in fitted]
        yield Answer(question, text, lang, citations, warnings, sources, standalone, False, partial)

    def grounded_text(self, instruction: str, hits: list[Hit], lang: str = "fr", max_tokens: int | None = None) -> tuple[str, list[Citation], list[str]]:
        """One non-streamed, citation-checked generation over given sources (used by drafting)."""
        fitted, warnings = self.fit_sources(hits, instruction)
        messages = self.build_messages(instruction, lang, fitted)
        raw = sanitise_model_text("".join(self.chat.stream(messages, max_tokens=max_tokens)))
        text, citations, check_warnings = self.check_citations(raw, fitted)
        return text, citations, warnings + check_warnings

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final


def _fence(text: str) -> str:
    # a document cannot close its own fence and pose as instructions or as another source
    text = text.replace(">>>", "> > >").replace("<<<", "< < <")
    return re.sub(r"\[(S\d+)\]", r"(\1)", text)


def _describe_failure(exc: Exception) -> str:
    from rag.models import classify_failure

    return str(classify_failure(exc))
"""Grounded chat: retrieve → fenced sources with short keys → streamed answer → citation check.

The check is plain code, after generation: citations of keys that were never given are removed
and reported; a number stated in a cited sentence that the cited text does not contain is
flagged; each kept key becomes "C. trav., art. 184, p. 73" with its excerpt one click away.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
import time
from dataclasses import dataclass, field, replace
from enum import StrEnum

from rag import prompts
from rag.figures import Figure, canonical_number, figures_in, unsupported
from rag.ingest import detect_lang
from rag.model_text import (KEY_RX, answer_language, answer_sentences, asks_back, cut_repetition, echoes_situation, inverts,
                            keys_for_typed_references, looping, names_article, negated, sanitise_model_text, source_text_for_display,
                            tidy_model_references, without_elisions, without_list_markers, without_repeats)
from rag.retrieve import Filters, Hit
from rag.structure import list_around, passage_body, passage_sentences, quote_units, with_lead_ins
from rag.subquestions import asks_yes_or_no

log = logging.getLogger(__name__)

NUMBER_RX = re.compile(r"(?<![\w.,])(\d{1,3}(?:[  .]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?)(?![\w])")
# a number right after these words points to a text or a part of it: a reference, not a figure
ARTICLE_NUMBER_RX = re.compile(
    r"(?:art(?:icle)?s?\.?|clauses?|alinéas?|paragraphes?|§|chapitres?|titres?|livres?|sections?|"
    r"المادة|المواد|البند|الفقرة|décret|n°|no\.?)\s*$", re.I,
)
# a sentence of the model without a key is attributed to the source it was copied from when that
# source's closest sentence has at least this share of its words, and of the words it does not take
# from the question (and it has at least this many words)
CLAIM_WORDS_SHARE = 0.6
# a claim copies a clause « nearly word for word » when the clause holds this share of its content words
NEAR_COPY_SHARE = 0.8
OWN_WORDS_SHARE = 0.5
# a claim in another language than its source draws its figures from the source's closest sentence, or
# from the next one too when its cosine is within this margin (e5: 0.867 and 0.869 for a claim joining
# the two sentences of IDCC 2098 avenant art. 5)
CLOSE_SCORE_MARGIN = 0.03
MIN_ATTRIBUTION_TERMS = 3
# a cited source that holds none of the words a sentence does not take from the question (it has at
# least this many), not even by their first five letters, says nothing of it: the citation goes
UNRELATED_OWN_WORDS = 3
# a sentence with no source in its language to copy from is attributed to a source in another language
# whose closest sentence has at least this cosine with it (e5; a restatement in translation scores
# 0.90–0.96 on tune, a sentence that merely shares the topic 0.80–0.89), and beats every other source's
# closest sentence by this margin
TRANSLATION_SCORE = 0.9
TRANSLATION_MARGIN = 0.03
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
    stand_in: bool = False  # cited only by a quote the answer reads in place of the model (ChatEngine.quotes_standing_in)

    def to_json(self) -> dict:
        return {"source": self.source, "title": self.title, "article": self.article, "page": self.page, "text": self.text, "label": self.label,
                "stand_in": self.stand_in}


class CheckStatus(StrEnum):
    SUPPORTED = "supported"  # the cited text states it, same unit
    UNIT_MISMATCH = "unit_mismatch"  # the number is there, with another unit or period
    NOT_IN_SOURCES = "not_in_sources"  # no given source states it
    OTHER_SUBJECT = "other_subject"  # a given source states it with its unit, but of something else than the sentence
    FROM_QUESTION = "from_question"  # the question itself gave it (« après 7 ans »)
    COMPUTED = "computed"  # computed in code by a legal calculator (rag.calc)


@dataclass
class Quote:
    """The decisive sentence(s) of a cited article, verbatim, with the figures to highlight."""

    source: str
    article: str | None
    label: str
    page: int | None
    text: str
    figures: list[str] = field(default_factory=list)
    in_answer: bool = False  # read inside the answer's text (ChatEngine.quotes_standing_in): not shown again below it

    def to_json(self) -> dict:
        return {"source": self.source, "article": self.article, "label": self.label, "page": self.page, "text": self.text, "figures": self.figures,
                "in_answer": self.in_answer}


@dataclass
class FigureCheck:
    figure: str
    unit: str
    status: CheckStatus
    source: str | None = None
    article: str | None = None

    def to_json(self) -> dict:
        return {"figure": self.figure, "unit": self.unit, "status": str(self.status), "source": self.source, "article": self.article}


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
    quotes: list[Quote] = field(default_factory=list)
    checks: list[FigureCheck] = field(default_factory=list)
    calculation: dict | None = None  # set when a legal calculator answered (rag.calc)
    model_text: list[str] = field(default_factory=list)  # what the model wrote, before the checks: one text per part

    @property
    def model_citations(self) -> list[Citation]:
        """The citations the model's own sentences keep (without those of the quotes read in their place)."""
        return [c for c in self.citations if not c.stand_in]

    def excerpts(self) -> list[Citation]:
        """What the reader is offered to open: the citations, or, when no sentence kept one (each
        was « à vérifier »), the sources of the quotes that stand alone."""
        if self.citations:
            return list(self.citations)
        quoted = {(q.source, q.article) for q in self.quotes}
        return [c for c in self.sources if (c.source, c.article) in quoted]

    def to_json(self) -> dict:
        return {
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "quotes": [q.to_json() for q in self.quotes],
            "checks": [c.to_json() for c in self.checks],
            "warnings": list(self.warnings),
            "lang": self.lang,
            "standalone_question": self.standalone_question,
            "not_found": self.not_found,
            "partial": self.partial,
            "calculation": self.calculation,
            "model_text": list(self.model_text),
        }


@dataclass
class AnswerPart:
    """One part of a question answered on its own: what is shown above it, what is searched, in which
    texts, and the line that tells the model which part, or which side of a comparison, to answer."""

    heading: str
    query: str
    filters: Filters
    focus: str = ""


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
        found.add(canonical_number(match.group(1)))
    low = text.lower()
    for word, value in FRENCH_NUMBER_WORDS.items():
        if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low):
            found.add(canonical_number(str(value)))
    return found


def stated_numbers(sentence: str) -> set[str]:
    """Numbers a sentence states as facts: not article numbers, not citation keys."""
    clean = KEY_RX.sub(" ", sentence)
    values = set()
    for match in NUMBER_RX.finditer(clean):
        if ARTICLE_NUMBER_RX.search(clean[: match.start()]):
            continue
        values.add(canonical_number(match.group(1)))
    return values


def notion_terms(text: str, glossary=None) -> set[str]:
    """The stemmed content words of ``text`` without its numbers, unit and period words (« 44 heures
    par semaine », « 3 ساعات ») and source keys: what a sentence speaks of. With a glossary, the official French terms
    of the notions it names are added, so that an Arabic or English sentence meets a French text."""
    from rag.lexical import tokenize

    plain = KEY_RX.sub(" ", text)
    terms = set(tokenize(plain)) - _unit_terms()
    if glossary is not None:
        terms |= set(tokenize(" ".join(glossary.french_terms(plain))))
    return {t for t in terms if not t.isdigit()}


@functools.cache
def _unit_terms() -> frozenset[str]:
    """The stems of every unit and period word (« heures », « ساعات », « par semaine »): they say how
    much, not of what."""
    from rag.figures import PERIOD_WORDS, UNIT_WORDS
    from rag.lexical import tokenize

    words = [w for table in (UNIT_WORDS, PERIOD_WORDS) for ws in table.values() for w in ws]
    # the tables are written without accents, and Snowball stems « années » and « annees » apart:
    # the accented spellings of the French units are stemmed too
    return frozenset(tokenize(" ".join(words)) + tokenize(" ".join(["années", "année", "journée", "journées", "salariés", "salarié", "délégués", "délégué", "représentants"])))


def pairs_otherwise(evidence: list[Figure], others: list[Figure]) -> bool:
    """Whether a source sentence pairs its figures with another value than the claim's: « 10 % du
    salaire versé, après cinq ans de service » does not back the « 10 % » of « 10 % après deux ans »,
    since its one figure in years is 5. A sentence with several figures of that unit (« 45 minutes
    entre 11 heures et 15 heures ») pairs nothing with one of them."""
    for other in others:
        if not other.unit:
            continue
        same_unit = [e for e in evidence if e.unit == other.unit]
        if len(same_unit) == 1 and not other.agrees_with(same_unit[0]):
            return True
    return False


def shares_notion(claim: set[str], evidence: set[str]) -> bool:
    """Whether a source sentence speaks of what a claim speaks of: two content words in common, or
    one when the claim has no more than two (« Le préavis est de 8 jours »). An Arabic verb meets its
    noun: Snowball keeps the imperfect's prefix (« يتغيب » and « التغيب » stem to « يتغيب », « تغيب »)."""
    evidence = evidence | {_without_verb_prefix(t) for t in evidence}
    shared = sum(1 for t in claim if t in evidence or _without_verb_prefix(t) in evidence)
    return shared >= 2 or (shared >= 1 and len(claim) <= 2)


def _without_verb_prefix(term: str) -> str:
    """An Arabic stem of five letters or more without the prefix of an imperfect verb (ي ت ن ا)."""
    return term[1:] if len(term) >= 5 and term[0] in "يتنا" else term


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
        if (query and self.settings.refuse_unindexed_agreements and hasattr(self.retriever, "unindexed_agreements")
                and self.retriever.unindexed_agreements(query)):
            return []  # an agreement not indexed here: the closest indexed one would answer with its own rule
        if any(h.via == "article" for h in hits):
            return hits
        best = max((h.similarity or 0.0) for h in hits)
        if query and hasattr(self.retriever, "closeness"):
            # the hits shown may have come from the lexical side or the written questions
            # (rag.glosses) only: what counts is how close the question is to any passage
            best = max(best, self.retriever.closeness(query))
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
        instruction = prompts.ANSWER_INSTRUCTION.get(lang, prompts.ANSWER_INSTRUCTION["fr"])
        user = prompts.QUESTION_TEMPLATE.format(sources="\n".join(blocks), instruction=instruction, question=question)
        return [{"role": "system", "content": prompts.SYSTEM_PROMPT}, {"role": "user", "content": user}]

    def check_citations(self, raw: str, fitted: list[tuple[str, Hit, str]], question: str = "", lang: str = "fr",
                        prompt_question: str = "") -> tuple[str, list[Citation], list[str], list[FigureCheck]]:
        """Strip unknown keys, check every stated figure with its unit against the cited text, turn
        keys into readable references. A citation is attached or moved only to a given source one
        of whose sentences states all the sentence's figures with their units; otherwise the
        sentence is marked « à vérifier » and nothing is cited by guesswork. A sentence that asks
        (the question again, or questions of the model's own) is dropped, and so is one that only
        tells the asker's situation back."""
        by_key = {key: (hit, text) for key, hit, text in fitted}
        raw = without_elisions(raw)
        raw = keys_for_typed_references(raw, [(key, citation_label(hit, self._short(hit)), self._short(hit), hit.article or "")
                                              for key, hit, _ in fitted])
        raw = tidy_model_references(raw)
        warnings: list[str] = []
        checks: list[FigureCheck] = []
        used: list[str] = []
        asked_text = f"{question}\n{prompt_question}".strip()  # a part's answer: the whole question asked it too
        asked_figures = figures_in(asked_text, lang) if asked_text else []
        asked_lang = lang
        # the model's sentences are read in the language it wrote them in: an English answer to an
        # Arabic question states « one month », which Arabic number words would not see
        lang = answer_language(raw) or lang
        asked_digits = {canonical_number(n) for n in re.findall(r"\d+(?:[.,]\d+)?", asked_text)}

        def from_question(f: Figure) -> bool:
            """The question states this figure: same value, and the same unit unless the answer gives none
            (« après 7 ans » → « 7 ans », « 7 ») or the question wrote it in digits without one (« 320
            salariés »). The « 1 » of « une lettre » does not make the answer's « 1 mois » the question's."""
            return any(a.value == f.value and (a.unit == f.unit or not f.unit or not a.unit and a.value in asked_digits)
                       for a in asked_figures)
        glossary = getattr(self.retriever, "glossary", None)

        def keys_of(group: str) -> list[str]:
            return [k if k.upper().startswith("S") else f"S{k}" for k in re.split(r"\s*[,;]\s*", group.strip().upper())]

        def label(k: str) -> str:
            return citation_label(by_key[k][0], self._short(by_key[k][0]))

        @functools.cache
        def source_sentences(k: str) -> list[str]:
            return passage_sentences(by_key[k][0].text)

        @functools.cache
        def sentence_figures(k: str) -> list[list[Figure]]:
            """The figures of each sentence of source ``k`` (read once per answer)."""
            hit = by_key[k][0]
            return [figures_in(sent, hit.lang or lang) for sent in source_sentences(k)]

        @functools.cache
        def source_figures(k: str) -> list[Figure]:
            hit = by_key[k][0]
            return figures_in(hit.text, hit.lang or lang)

        def states_all(k: str, figures: list[Figure], claim: str, paired: list[Figure]) -> bool:
            """Source ``k`` states every figure with its unit and, for a rate, its period (a bare « 2288
            heures » does not back « 2288 heures par semaine »), each in a sentence that speaks of what
            the model's sentence ``claim`` speaks of (:func:`shares_notion`): « 3 heures » of a rest break
            does not back « 3 heures » of a part-time minimum. A model's sentence often joins two of the
            source's (« 45 minutes … after the 4th hour »): each figure may come from its own sentence,
            but not from one that pairs it with another value of the claim's other figures, ``paired``
            (:func:`pairs_otherwise`), those it takes from the question included: « 5 % après 5 ans »
            is not backed by « 5 % … après deux ans »."""
            return all(states(k, f, claim, others=paired) for f in figures)

        def states(k: str, figure: Figure, claim: str, exact_period: bool = True, others: list[Figure] = ()) -> bool:
            others = [g for g in others if g.unit != figure.unit]  # « entre 21 h et 6 h »: two ends, not a pair
            stating = [i for i, evidence in enumerate(sentence_figures(k))
                       if not unsupported([figure], evidence, exact_period=exact_period) and not pairs_otherwise(evidence, others)]
            if any(shares_notion(claim_terms(claim), sentence_terms(k)[i]) for i in stating):
                return True
            hit = by_key[k][0]
            if stating and hit.lang and hit.lang != lang:
                # another language shares no word with the claim: the multilingual embedder says
                # which sentences of the source the claim speaks of, and one must state the figure
                return any(i in stating for i in closest_sentences(k, claim))
            return False

        @functools.cache
        def claim_terms(claim: str) -> set[str]:
            return notion_terms(claim, glossary)

        @functools.cache
        def sentence_terms(k: str) -> list[set[str]]:
            """The content words of each sentence of source ``k``; a list item's include its list's opening sentence."""
            return [notion_terms(sent) for sent in with_lead_ins(source_sentences(k))]

        @functools.cache
        def closest_sentences(k: str, claim: str) -> list[int]:
            """The sentence of source ``k`` the claim is closest to, and the next one when it is nearly
            as close (a claim often joins two sentences of its source)."""
            scores = sentence_scores(k, claim)
            if scores is None or not len(scores):
                return []
            ranked = [int(i) for i in (-scores).argsort()[:2]]
            return [i for i in ranked if scores[i] >= scores[ranked[0]] - CLOSE_SCORE_MARGIN]

        @functools.cache
        def sentence_scores(k: str, claim: str):
            """The cosine of the claim with each sentence of source ``k`` (e5), or None without the embedder."""
            if getattr(self.retriever, "embedder", None) is None:
                return None
            try:
                import numpy as np

                return np.array(sentence_vectors(k)) @ np.array(claim_vector(claim))
            except Exception as exc:  # a grounding aid only: without it, no citation by guesswork
                log.warning("claim matching without the embedder: %s", exc)
                return None

        @functools.cache
        def sentence_vectors(k: str) -> list[list[float]]:
            return self.retriever.embedder.embed_documents(source_sentences(k))

        @functools.cache
        def claim_vector(claim: str) -> list[float]:
            return self.retriever.embedder.embed_query(KEY_RX.sub(" ", claim))

        asked_terms = notion_terms(f"{question} {prompt_question}")

        @functools.cache
        def copy_units(k: str) -> list[tuple[str, set[str]]]:
            """Each sentence of source ``k``'s body (line breaks of the PDF joined) with its content words."""
            body = " ".join(passage_body(by_key[k][0].text).split())
            return [(sent, notion_terms(sent)) for sent, _ in answer_sentences(body)]  # a numbered list stays one sentence

        @functools.cache
        def claim_words(claim: str) -> tuple[set[str], set[str]]:
            """The claim's content words (its list numbers and keys aside), and those of them not taken from the question."""
            terms = notion_terms(KEY_RX.sub(" ", without_list_markers(claim)))
            return terms, terms - asked_terms

        def copied_from(claim: str) -> list[tuple[int, float, str, str]]:
            """For each given source in the answer's language: (words of the claim not taken from the
            question that its closest sentence has, share of all the claim's words that sentence has,
            key, that sentence), best first, for the sources whose closest sentence has most of the
            claim's words. A small model copies: the sentence it copied from has nearly all its words."""
            terms, own = claim_words(claim)
            if len(terms) < MIN_ATTRIBUTION_TERMS or not own:
                return []  # too short to tell, or only the question's words: nothing to attribute
            scores = []
            for k, (hit, _) in by_key.items():
                if hit.lang and hit.lang != lang:
                    continue
                best = max(((len(own & st), len(terms & st) / len(terms), k, sent) for sent, st in copy_units(k)),
                           default=(0, 0.0, k, ""))
                if best[0] >= max(1, len(own) * OWN_WORDS_SHARE) and best[1] >= CLAIM_WORDS_SHARE:
                    scores.append(best)
            return sorted(scores, key=lambda x: (-x[0], -x[1]))

        def copied_source(claim: str) -> str | None:
            """The one source the claim was copied from, when one stands out and its sentence does not
            say the opposite: « il est possible de recourir au travail de nuit » copies the words of
            « il ne pourra être recouru au travail de nuit que sur la base du volontariat »."""
            scores = copied_from(claim)
            if not scores:
                return None
            if len(scores) > 1 and scores[1][0] == scores[0][0] and scores[1][1] > scores[0][1] - 0.15:
                return None  # two sources say it alike
            if negated(claim) != negated(scores[0][3]):
                return None
            return scores[0][2]

        def translated_source(claim: str) -> str | None:
            """The given source in another language one of whose sentences the embedder finds nearly a
            translation of the claim, when no other source comes close: a French answer restating an
            English convention copies no word of it (:func:`copied_source` sees nothing)."""
            others = [k for k, (hit, _) in by_key.items() if hit.lang and hit.lang != lang and source_sentences(k)]
            if not others or len(claim_words(claim)[0]) < MIN_ATTRIBUTION_TERMS:
                return None
            scored = [(sentence_scores(k, claim), k) for k in others]
            if any(scores is None for scores, _ in scored):
                return None
            best = sorted(((float(scores.max()), k) for scores, k in scored), reverse=True)
            if best[0][0] >= TRANSLATION_SCORE and (len(best) < 2 or best[0][0] - best[1][0] >= TRANSLATION_MARGIN):
                return best[0][1]
            return None

        def own_words_in(claim: str, k: str) -> int:
            """How many of the claim's own words (not the question's) source ``k``'s closest sentence has."""
            own = claim_words(claim)[1]
            return max((len(own & st) for _, st in copy_units(k)), default=0)

        def unrelated_citation(claim: str, keys: list[str]) -> bool:
            """Whether the sources the model cited, in the claim's language, hold none of the words the
            claim does not take from the question (it has at least three), even loosely: « C'est tiré de la
            source [S1] », « The key source for this information is [S1] », « Il est donc légal … [S2] »
            cite a text that says nothing of them. A sentence that names its article keeps it."""
            own = claim_words(claim)[1]
            if len(own) < UNRELATED_OWN_WORDS or any(by_key[k][0].lang and by_key[k][0].lang != lang for k in keys):
                return False
            if any(names_article(claim, by_key[k][0].article) for k in keys):
                return False
            return not any(_loosely_shared(own, st) for k in keys for _, st in copy_units(k))

        @functools.cache
        def clause_units(k: str) -> list[tuple[str, set[str]]]:
            return [(clause, notion_terms(clause)) for clause in passage_sentences(by_key[k][0].text, clauses=True)]

        def inverted_copy(claim: str) -> str | None:
            """The given source (same language) one of whose clauses the claim copies nearly word for
            word while saying the opposite (:func:`inverts`): a small model drops a « لا » or a « ne …
            pas » while it copies, and the sentence read aloud states the opposite of the law."""
            terms = claim_words(claim)[0]
            if len(terms) < MIN_ATTRIBUTION_TERMS:
                return None
            best = max(((len(terms & st) / len(terms), k, clause) for k, (hit, _) in by_key.items()
                        if not hit.lang or hit.lang == lang for clause, st in clause_units(k)), default=None)
            if best and best[0] >= NEAR_COPY_SHARE and inverts(claim, best[2]):
                return best[1]
            return None

        def status_without_source(f: Figure) -> CheckStatus:
            if any(not unsupported([f], evidence, exact_period=True) for k in by_key for evidence in sentence_figures(k)):
                return CheckStatus.OTHER_SUBJECT
            values = {e.value for k in by_key for e in source_figures(k)}
            return CheckStatus.UNIT_MISMATCH if f.value in values else CheckStatus.NOT_IN_SOURCES

        out_sentences = []
        sentences = without_repeats(answer_sentences(raw))
        kept = [x for x in sentences if not asks_back(x[0]) and not echoes_situation(x[0], question)]
        if sentences and not kept:
            warnings.append(prompts.ONLY_ECHOED.get(asked_lang, prompts.ONLY_ECHOED["fr"]))
        kept = pointers_to_previous(kept, asked_terms, lang)
        for sentence, after in kept:
            keys = list(dict.fromkeys(k for m in KEY_RX.finditer(sentence) for k in keys_of(m.group(1))))
            stated_all = figures_in(KEY_RX.sub(" ", without_list_markers(sentence)), lang)
            stated = [f for f in stated_all if not from_question(f)]
            checks += [FigureCheck(f.label(), f.unit, CheckStatus.FROM_QUESTION) for f in stated_all if from_question(f)]
            doubtful = False
            if not keys and stated:
                source_key = next((k for k in by_key if states_all(k, stated, sentence, stated_all)), None)
                if source_key:
                    sentence = with_key(sentence, source_key, ".!?؟")
                    keys = [source_key]
                    warnings.append(f"Citation ajoutée d'après les chiffres : {label(source_key)}.")
                else:
                    doubtful = True
                    statuses = [status_without_source(f) for f in stated]
                    elsewhere = [f.label() for f, status in zip(stated, statuses) if status == CheckStatus.OTHER_SUBJECT]
                    absent = [f.label() for f, status in zip(stated, statuses) if status != CheckStatus.OTHER_SUBJECT]
                    if absent:
                        warnings.append(f"Chiffre(s) {', '.join(absent)} non trouvé(s) dans les sources : à vérifier.")
                    if elsewhere:
                        warnings.append(f"Chiffre(s) {', '.join(elsewhere)} présent(s) dans les sources, mais à propos "
                                        "d'autre chose : à vérifier, non cité.")
                    checks += [FigureCheck(f.label(), f.unit, status) for f, status in zip(stated, statuses)]
            if not keys and not stated:
                origin = copied_source(sentence)
                origin = origin or translated_source(sentence)
                if origin:
                    sentence = with_key(sentence, origin, ".!?؟:;")
                    keys = [origin]
                    warnings.append(f"Citation ajoutée d'après le texte repris : {label(origin)}.")
            elif keys and not stated and all(k in by_key for k in keys):
                # the model's own key stays unless its source has at most a third of the own words the
                # sentence shares with the one it was copied from, and the sentence does not name the
                # cited article (« interdite par l'article 392 »)
                origin = copied_source(sentence)
                if (origin and origin not in keys
                        and all(3 * own_words_in(sentence, k) <= own_words_in(sentence, origin) for k in keys)
                        and not any(names_article(sentence, by_key[k][0].article) for k in keys)):
                    warnings.append(f"Citation corrigée : {', '.join(label(k) for k in keys)} → {label(origin)} "
                                    "(la phrase reprend ce texte).")
                    sentence = KEY_RX.sub(lambda m: f"[{origin}]", sentence)
                    keys = [origin]
                elif unrelated_citation(sentence, keys):
                    warnings.append(f"Citation retirée : {', '.join(label(k) for k in keys)} ne dit rien de ce que la "
                                    "phrase affirme : à vérifier.")
                    sentence = KEY_RX.sub(" ", sentence)
                    keys, doubtful = [], True
            known = [k for k in keys if k in by_key]
            for k in keys:
                if k not in by_key:
                    warnings.append(f"Citation [{k}] retirée : cette source n'a pas été fournie au modèle.")
            if known and stated:
                evidence = [f for k in known for f in source_figures(k)]
                missing = unsupported(stated, evidence)
                # a figure the cited text states about something else (« 10 % » of a severance bracket
                # for a monthly benefit) backs nothing: it is checked like a figure the text lacks
                # (« Elle est de 50 % [S1] » says what it speaks of in the question only: then the question says it)
                about = sentence if len(claim_terms(sentence)) >= 2 else f"{sentence} {question}"
                off_subject = [f for f in stated if f not in missing
                               and not any(states(k, f, about, exact_period=False, others=stated_all) for k in known)]
                missing += off_subject
                # small models often cite the neighbouring source: the citation moves only to a
                # given source one of whose sentences states every figure with its unit
                better = next((k for k in by_key if k not in known and states_all(k, stated, sentence, stated_all)), None) if missing else None
                if better:
                    warnings.append(f"Citation corrigée : {', '.join(label(k) for k in known)} → {label(better)} "
                                    f"(seul ce texte contient {', '.join(f.label() for f in missing)}).")
                    sentence = KEY_RX.sub(lambda m: f"[{better}]", sentence)
                    known, missing, off_subject = [better], [], []
                    evidence = source_figures(better)
                for f in stated:
                    hit = by_key[known[0]][0]
                    if f not in missing:
                        checks.append(FigureCheck(f.label(), f.unit, CheckStatus.SUPPORTED, hit.source, hit.article))
                    elif f in off_subject:
                        checks.append(FigureCheck(f.label(), f.unit, CheckStatus.OTHER_SUBJECT, hit.source, hit.article))
                    elif any(e.value == f.value for e in evidence):
                        checks.append(FigureCheck(f.label(), f.unit, CheckStatus.UNIT_MISMATCH, hit.source, hit.article))
                    else:
                        checks.append(FigureCheck(f.label(), f.unit, CheckStatus.NOT_IN_SOURCES, hit.source, hit.article))
                if missing:
                    doubtful = True
                    refs = ", ".join(label(k) for k in known)
                    absent = [f.label() for f in missing if f not in off_subject]
                    if absent:
                        warnings.append(f"Chiffre(s) {', '.join(absent)} absent(s) du texte cité ({refs}) avec cette unité : à vérifier.")
                    if off_subject:
                        warnings.append(f"Chiffre(s) {', '.join(f.label() for f in off_subject)} présent(s) dans le texte cité "
                                        f"({refs}), mais à propos d'autre chose : à vérifier.")
            inverted = inverted_copy(sentence)
            if inverted:
                doubtful = True
                warnings.append(f"Sens inversé : la phrase reprend {label(inverted)} mais en dit le contraire (négation "
                                "perdue ou ajoutée) : à vérifier, non citée.")
            if not doubtful:
                for k in known:
                    if k not in used:
                        used.append(k)

            def as_label(match: re.Match) -> str:
                ks = [k for k in keys_of(match.group(1)) if k in by_key]
                if not ks or doubtful:
                    return ""  # a doubtful sentence keeps no citation: the quotes below stand alone
                rendered.update(label(k) for k in ks)
                return "(" + " ; ".join(label(k) for k in ks) + ")"

            rendered: set[str] = set()
            sentence = KEY_RX.sub(as_label, sentence)
            sentence = re.sub(r"(\([^()]+\))(?:\s*\1)+", r"\1", sentence)  # « [S2] … [S2] » moved to one source: cited once
            # « … possible. [S1] » → « … possible (label). »: a citation after the full stop would read as
            # the next sentence's, both aloud and to anyone who copies the answer
            sentence = re.sub(r"\s*([.!?؟])\s*(\((?:[^()]|\([^()]*\))+\))\s*$",
                              lambda m: f" {m.group(2)}{m.group(1)}" if m.group(2)[1:-1].split(" ; ")[0] in rendered else m.group(0),
                              sentence)
            if doubtful:
                sentence = re.sub(r"\s*([.!?؟]?)\s*$", r" *(à vérifier)*\1", sentence.rstrip(), count=1)
            out_sentences.append(sentence + after)
        text = re.sub(r"[ \t]+([.,;:])", r"\1", re.sub(r"(?<=\S)[ \t]{2,}(?=\S)", " ", "".join(out_sentences))).strip()
        citations = [self._citation(k, by_key[k][0]) for k in used]
        return text, citations, list(dict.fromkeys(warnings)), checks

    def select_quotes(self, question: str, hits: list[Hit], checks: list[FigureCheck], lang: str = "fr") -> list[Quote]:
        """For each cited article, its decisive sentence(s) verbatim: those holding the question's
        notion (embedder and word overlap) and a figure, the figures the answer relies on first."""
        from rag.lexical import tokenize

        wanted = set(tokenize(question))
        # the figures the answer relies on: a check's figure as written (« 8 jours »), or a calculator's bare value with its unit
        relied = [f for c in checks if c.status in (CheckStatus.SUPPORTED, CheckStatus.COMPUTED)
                  for f in (figures_in(c.figure, lang) or [Figure(canonical_number(c.figure), (c.unit or "").lower())])]
        quotes = []
        embedder = getattr(self.retriever, "embedder", None)
        query_vector = None
        for hit in hits:
            units = quote_units(hit.text)
            # a list's opening reads with its items, an item with its opening (« … faute non grave : 1. l'avertissement ; … »)
            sentences = [list_around(units, i, QUOTE_LIST_CHARS) for i in range(len(units))]
            if not sentences:
                continue
            figures = [figures_in(x, hit.lang or lang) for x in sentences]
            similarity = [0.0] * len(sentences)
            if embedder is not None and len(sentences) > 1:
                try:
                    import numpy as np

                    query_vector = query_vector if query_vector is not None else np.array(embedder.embed_query(question))
                    similarity = list(np.array(embedder.embed_documents(sentences)) @ query_vector)
                except Exception as exc:  # scoring aid only: word overlap still ranks
                    log.warning("quote scoring without the embedder: %s", exc)

            def score(i: int) -> float:
                words = set(tokenize(sentences[i]))
                overlap = len(wanted & words) / max(1.0, len(wanted)) if wanted else 0.0
                has_unit = any(f.unit for f in figures[i])
                relies = any(f.agrees_with(r) for f in figures[i] for r in relied)
                return float(similarity[i]) + overlap + (0.3 if has_unit else 0.0) + (1.0 if relies else 0.0)

            ranked = sorted(range(len(sentences)), key=lambda i: -score(i))
            keep = sorted(ranked[:2] if len(ranked) > 1 and score(ranked[1]) >= score(ranked[0]) - 0.15 else ranked[:1])
            pieces: list[str] = []  # two items of one list share their opening: it is quoted once
            for piece in (p for i in keep for p in sentences[i].split(" … ")):
                if not any(piece in q for q in pieces):
                    pieces = [q for q in pieces if q not in piece] + [piece]
            text = " … ".join(pieces)
            shown = list(dict.fromkeys(f.value for i in keep for f in figures[i] if f.unit))
            quotes.append(Quote(hit.source, hit.article, citation_label(hit, self._short(hit)), hit.page, text, shown))
        return quotes

    def _closest_quote(self, question: str, quotes: list[Quote]) -> Quote:
        """The quote closest to the question (e5 cosine, any language); the first without the embedder."""
        embedder = getattr(self.retriever, "embedder", None)
        if embedder is None or len(quotes) < 2:
            return quotes[0]
        try:
            import numpy as np

            scores = np.array(embedder.embed_documents([q.text for q in quotes])) @ np.array(embedder.embed_query(question))
            return quotes[int(np.argmax(scores))]
        except Exception as exc:  # a choice aid only
            log.warning("quote choice without the embedder: %s", exc)
            return quotes[0]

    def _citation(self, key: str, hit: Hit) -> Citation:
        return Citation(key, citation_label(hit, self._short(hit)), hit.source, hit.title, hit.article, hit.page, hit.text)

    # ---- the whole turn --------------------------------------------------------------------
    def stream(self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None) -> Iterator[Delta | Answer]:
        """Yield :class:`Delta` pieces while the model writes, then the checked :class:`Answer`.

        A question in several parts, or a comparison across jurisdictions, is answered part by part
        (:meth:`answer_parts`): each part searched, answered and checked on its own sources."""
        question = question.strip()
        lang = detect_lang(question)
        standalone = self.standalone_question(question, history or [])
        calculated = self.calculate(question, standalone, lang)
        if calculated is not None:
            yield calculated
            return
        filters = chat_filters(filters)
        deadline = time.monotonic() + self.settings.llm_answer_budget_s
        parts = self.answer_parts(standalone, lang, filters)
        if not parts:
            hits = self.relevant(self.retriever.search(standalone, k=self.settings.answer_sources, filters=filters), standalone)
            yield from self._generate(question, standalone, lang, self.official_for_fiches(hits), deadline)
            return
        answers: list[Answer] = []
        first_key = 1
        for n, part in enumerate(parts):
            hits = self.relevant(self.retriever.search(part.query, k=self.settings.part_sources, filters=part.filters), part.query)
            heading = ("\n\n" if n else "") + f"**{part.heading}**\n"
            answer = None
            asked = f"{standalone}\n{part.focus}"
            for event in self._generate(question, part.query, lang, self.official_for_fiches(hits), deadline, asked=asked,
                                        max_tokens=max(PART_MIN_TOKENS, self.settings.llm_max_tokens // len(parts))):
                if isinstance(event, Answer):
                    answer = event
                else:
                    yield Delta(heading + event.text) if heading else event
                    heading = ""
            if answer.not_found:  # the other parts still answer; this one says so briefly
                answer.text = prompts.PART_NOT_FOUND.get(lang, prompts.PART_NOT_FOUND["fr"])
            if heading:  # nothing streamed for this part (« not found », budget spent): its heading still shows
                yield Delta(heading + answer.text)
            answers.append(renumbered(answer, first_key))
            first_key += len(answer.sources)
        yield merge_parts(question, standalone, lang, parts, answers)

    def answer_parts(self, question: str, lang: str, filters: Filters) -> list["AnswerPart"]:
        """The parts a question is answered in, or [] for one answer.

        A question that asks two things (``rag.subquestions``) gets one part per question; a question
        that names two or more jurisdictions (« au Maroc et en France », « C98 and the Code ») one part
        per jurisdiction, searched in its texts only. Each part gets its own sources and its own
        check, so that every side of a comparison is cited: one answer over mixed sources tends to
        cite only the first."""
        from rag.jurisdiction import JURISDICTION_KINDS, named_jurisdictions
        from rag.subquestions import question_parts

        if not self.settings.answer_in_parts or filters.sources or filters.kinds:
            return []
        if self.settings.split_questions:
            pieces = question_parts(question)
            if pieces:
                focus = prompts.PART_FOCUS.get(lang, prompts.PART_FOCUS["fr"])
                asked = [_as_question(p, lang) for p in pieces]
                return [AnswerPart(q, p, filters, focus.format(part=q)) for p, q in zip(pieces, asked)]
        named = [j for j in named_jurisdictions(question) if j in JURISDICTION_KINDS]
        if len(named) < 2:
            return []
        headings = prompts.JURISDICTION_HEADINGS.get(lang, prompts.JURISDICTION_HEADINGS["fr"])
        focus = prompts.SIDE_FOCUS.get(lang, prompts.SIDE_FOCUS["fr"])
        return [AnswerPart(headings[j], question, Filters(kinds=JURISDICTION_KINDS[j], langs=filters.langs,
                                                           exclude_kinds=filters.exclude_kinds), focus.format(side=headings[j]))
                for j in named]

    def _generate(self, question: str, standalone: str, lang: str, hits: list[Hit], deadline: float,
                  asked: str | None = None, max_tokens: int | None = None) -> Iterator[Delta | Answer]:
        """One model answer over ``hits``: streamed pieces, then the checked :class:`Answer`.

        ``standalone`` is what was searched (the quotes are chosen for it), ``asked`` what the model
        is asked (by default the question, or its stand-alone rewrite after a follow-up)."""
        if not hits:
            yield Answer(question, prompts.NOT_FOUND.get(lang, prompts.NOT_FOUND["fr"]), lang, standalone_question=standalone, not_found=True)
            return
        fitted, warnings = self.fit_sources(hits, standalone)
        asked = asked or (question if standalone == question else standalone)
        messages = self.build_messages(asked, lang, fitted)
        pieces: list[str] = []
        partial = False
        interruption = ""
        stopped = ""
        budget = int(self.settings.llm_answer_budget_s)
        if time.monotonic() >= deadline:  # an earlier part used the whole budget
            stopped = prompts.STOPPED_BUDGET.get(lang, prompts.STOPPED_BUDGET["fr"]).format(seconds=budget)
            stream = iter(())
        else:
            stream = self.chat.stream(messages, max_tokens=max_tokens) if max_tokens else self.chat.stream(messages)
        try:
            for piece in stream:
                pieces.append(piece)
                yield Delta(piece)
                if looping(pieces):
                    stopped = prompts.STOPPED_REPEATING.get(lang, prompts.STOPPED_REPEATING["fr"])
                    pieces = [cut_repetition("".join(pieces))]
                    break
                if time.monotonic() > deadline:
                    stopped = prompts.STOPPED_BUDGET.get(lang, prompts.STOPPED_BUDGET["fr"]).format(seconds=budget)
                    break
        except Exception as exc:
            partial = True
            reason = _describe_failure(exc)
            log.warning("model failed mid-answer: %s", reason)
            interruption = prompts.INTERRUPTED.get(lang, prompts.INTERRUPTED["fr"]).format(reason=reason)
            warnings.append(interruption)
        finally:
            close = getattr(stream, "close", None)
            if close:
                close()  # a stopped answer ends the model's stream too
        raw = sanitise_model_text("".join(pieces))
        text, citations, check_warnings, checks = self.check_citations(raw, fitted, standalone, lang, prompt_question=asked)
        warnings.extend(check_warnings)
        if stopped:
            warnings.append(stopped)
        if not citations and text:
            warnings.append(prompts.NO_CITATION_WARNING)
        if text and not partial and answer_language(text) not in (lang, ""):
            warnings.append(prompts.WRONG_LANGUAGE.get(lang, prompts.WRONG_LANGUAGE["fr"]))
        if partial:
            text = (text + "\n\n" if text else "") + f"⚠ {interruption}"
        sources = [self._citation(key, hit) for key, hit, _ in fitted]
        quoted = [hit for key, hit, _ in fitted if any(c.key == key for c in citations)] or [fitted[0][1]]
        quotes = self.select_quotes(standalone, quoted, checks, lang)
        text, citations = self.quotes_standing_in(text, citations, checks, quotes, fitted, lang, standalone)
        yield Answer(question, text, lang, citations, warnings, sources, standalone, False, partial, quotes, checks, model_text=[raw])

    def quotes_standing_in(self, text: str, citations: list[Citation], checks: list[FigureCheck], quotes: list[Quote],
                           fitted: list[tuple[str, Hit, str]], lang: str, question: str = "") -> tuple[str, list[Citation]]:
        """The law's own words where the model's cannot be read aloud, appended verbatim and cited.

        After a figure its cited text does not state with that unit, the decisive sentence of that text
        when it states a figure of the same unit (the model misread a figure there); after an answer
        that cites nothing (it only restated the question, or every sentence was « à vérifier »), the
        decisive sentence of the nearest source; after the answer to a yes-or-no ``question``, the
        decisive sentence of the cited text closest to it: « oui » and « non » are what a small model most
        often gets backwards, and the text says which. The flagged sentence stays, marked; the quote
        is the text itself, so it is neither a guess nor a figure of the model's."""
        by_place = {(hit.source, hit.article): (key, hit) for key, hit, _ in fitted}
        yes_or_no = asks_yes_or_no(question)
        flagged = [c for c in checks if c.status in DOUBTFUL_STATUSES and c.source]
        chosen: list[tuple[dict, Quote]] = []
        for check in flagged:
            quote = next((q for q in quotes if (q.source, q.article) == (check.source, check.article)), None)
            if quote is None or any(q is quote for _, q in chosen) or (quote.source, quote.article) not in by_place:
                continue
            hit = by_place[(quote.source, quote.article)][1]
            if check.unit and not any(f.unit == check.unit for f in figures_in(quote.text, hit.lang or lang)):
                continue
            chosen.append((prompts.QUOTE_OF_CITED, quote))
        if not citations and not chosen:
            nearest = next((q for q in quotes if (q.source, q.article) in by_place), None)
            if nearest is not None:
                chosen.append((prompts.QUOTE_OF_NEAREST, nearest))
        elif yes_or_no and citations and not chosen:
            cited = {(c.source, c.article) for c in citations}
            candidates = [q for q in quotes if (q.source, q.article) in cited and (q.source, q.article) in by_place]
            if candidates:
                chosen.append((prompts.QUOTE_OF_CITED, self._closest_quote(question, candidates)))
        if not chosen:
            return text, citations
        citations = list(citations)
        lines = []
        for lead, quote in chosen:
            key, hit = by_place[(quote.source, quote.article)]
            if not any((c.source, c.article) == (quote.source, quote.article) for c in citations):
                citations.append(replace(self._citation(key, hit), stand_in=True))
            quote.in_answer = True
            said = _shortened(source_text_for_display(quote.text), STAND_IN_QUOTE_CHARS)
            lines.append(f"{lead.get(lang, lead['fr'])} « {said} » ({quote.label}).")
        return ((text + "\n\n") if text else "") + "\n".join(lines), citations

    def official_for_fiches(self, hits: list[Hit]) -> list[Hit]:
        """A project fiche summarises articles: when the official text of an article it cites is
        indexed, the model reads (and cites) that article instead of the fiche."""
        get_article = getattr(self.retriever, "get_article", None)
        if get_article is None:
            return hits
        out: list[Hit] = []
        seen = {(h.source, h.article) for h in hits if h.kind != "project"}
        for hit in hits:
            if hit.kind != "project":
                out.append(hit)
                continue
            official, resolved = [], False
            for article in dict.fromkeys(FICHE_REFERENCE.findall(hit.text)):
                for source in OFFICIAL_CODE_SOURCES:
                    pieces = get_article(source, article)
                    if not pieces:
                        continue
                    resolved = True  # already among the hits, or added now: the fiche is not needed
                    if (source, pieces[0].article) not in seen:
                        official.append(pieces[0])
                        seen.add((source, pieces[0].article))
                    break
            if not resolved:
                out.append(hit)
                continue
            # the articles the question's words match best first; the fiche's own order otherwise
            from rag.lexical import tokenize

            wanted = set(tokenize(hit.text[:400]))
            official.sort(key=lambda h: -len(wanted & set(tokenize(h.text))))
            out += official[:2]
        return out[: max(len(hits), 1)]

    def calculate(self, question: str, standalone: str, lang: str) -> Answer | None:
        """A question a legal calculator answers (« prime d'ancienneté après 7 ans ») gets the figure
        computed in code, its arithmetic and its article; the model does no arithmetic."""
        from rag.calc import CalcError, parse_question
        from rag.jurisdiction import names_other_law

        if any(names_other_law(q) for q in {standalone, question}):
            return None  # the calculators compute Moroccan law: « minimum wage in Spain » is not 17,92 MAD/h × 191
        try:
            calc = parse_question(standalone) or (parse_question(question) if standalone != question else None)
        except CalcError as exc:
            log.info("calculator refused the question: %s", exc)
            return None
        if calc is None or calc.value is None:
            return None
        hits: list[Hit] = []
        get_article = getattr(self.retriever, "get_article", None)
        for article in calc.articles:
            pieces = get_article(calc.source, article) if get_article else []
            if not pieces and get_article:  # the parallel (Arabic or French) version of the code, if that one is indexed
                pieces = [h for h in self.retriever.search(f"article {article}", k=3) if h.article == article and h.kind == "law"][:1]
            hits += pieces[:1]
        steps = "\n".join(f"- {step}" for step in calc.arithmetic)
        text = f"{calc.summary}\n\n{prompts.CALC_STEPS.get(lang, prompts.CALC_STEPS['fr'])}\n{steps}"
        warnings = [] if hits else [prompts.CALC_TEXT_MISSING.get(lang, prompts.CALC_TEXT_MISSING["fr"])]
        if lang != "fr":
            warnings.append(prompts.CALC_IN_FRENCH.get(lang, ""))
        checks = [FigureCheck(f"{calc.value:g}" if isinstance(calc.value, float) else str(calc.value), calc.unit,
                              CheckStatus.COMPUTED, calc.source, calc.articles[0] if calc.articles else None)]
        citations = [self._citation(f"C{n}", hit) for n, hit in enumerate(hits, start=1)]
        quotes = self.select_quotes(standalone, hits, checks, lang)
        return Answer(question, text, lang, citations, [w for w in warnings if w], citations, standalone, quotes=quotes,
                      checks=checks, calculation={"name": calc.name, "value": calc.value, "unit": calc.unit, "articles": calc.articles,
                                                  "source": calc.source, "arithmetic": calc.arithmetic, "rules": calc.rule_ids})

    def grounded_text(self, instruction: str, hits: list[Hit], lang: str = "fr", max_tokens: int | None = None) -> tuple[str, list[Citation], list[str]]:
        """One non-streamed, citation-checked generation over given sources (used by drafting)."""
        fitted, warnings = self.fit_sources(hits, instruction)
        messages = self.build_messages(instruction, lang, fitted)
        raw = sanitise_model_text("".join(self.chat.stream(messages, max_tokens=max_tokens)))
        text, citations, check_warnings, _ = self.check_citations(raw, fitted, instruction, lang)
        return text, citations, warnings + check_warnings

    def ask(self, question: str, history: list[tuple[str, str]] | None = None, filters: Filters | None = None) -> Answer:
        final = None
        for event in self.stream(question, history, filters):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final


# a figure check that leaves its sentence « à vérifier »
DOUBTFUL_STATUSES = (CheckStatus.UNIT_MISMATCH, CheckStatus.NOT_IN_SOURCES, CheckStatus.OTHER_SUBJECT)
# a quote read in the answer's text is cut at a word after this many characters (the whole one is below the answer)
STAND_IN_QUOTE_CHARS = 450
QUOTE_LIST_CHARS = 400  # the items a list's opening is quoted with
LEADING_ENUMERATOR = re.compile(r"^\s*(?:\(?\d{1,2}[.)°]\s+|\d{1,2}\s*[-–—]\s+|\(?[a-zA-Z][.)]\s*|[\u0621-\u064a]\s*[)\-–]\s+)(?=\S)")


def _shortened(text: str, limit: int) -> str:
    """A quote read inside the answer: without its paragraph number (« 1. », « 2 – », « b) »), which
    would read as a figure, and cut at a word after ``limit`` characters."""
    text = LEADING_ENUMERATOR.sub("", text, count=1)
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:") + " …"


# the parts of a question share one answer's token budget, but each may write a few sentences
PART_MIN_TOKENS = 120
FICHE_REFERENCE = re.compile(r"C\.\s*trav\.?,?\s*art\.\s*(\d+(?:-\d+)?)")
OFFICIAL_CODE_SOURCES = ("ma_code_travail_fr_2011.pdf", "ma_mudawwana_shughl_ar_2021.pdf")
# the union's own clause templates are proposals, never a legal source for an answer
NOT_LEGAL_SOURCES = ["clause"]


def renumbered(answer: Answer, first_key: int) -> Answer:
    """The answer of one part with its source keys following the previous parts' (S1, S2 → S4, S5).
    The model always reads S1, S2…: the instruction names those keys."""

    def shift(c: Citation) -> Citation:
        return replace(c, key=f"S{int(c.key[1:]) + first_key - 1}") if c.key[1:].isdigit() else c

    return replace(answer, citations=[shift(c) for c in answer.citations], sources=[shift(c) for c in answer.sources])


def merge_parts(question: str, standalone: str, lang: str, parts: list[AnswerPart], answers: list[Answer]) -> Answer:
    """One answer from the answers of its parts: each under its heading; citations, sources, quotes
    and checks side by side (keys renumbered so that they do not collide, :func:`renumbered`)."""
    if all(a.not_found for a in answers):
        return Answer(question, prompts.NOT_FOUND.get(lang, prompts.NOT_FOUND["fr"]), lang, standalone_question=standalone, not_found=True)
    quotes: list[Quote] = []
    quoted: set[tuple[str, str | None]] = set()
    for quote in (q for a in answers for q in a.quotes):
        if (quote.source, quote.article) not in quoted:
            quoted.add((quote.source, quote.article))
            quotes.append(quote)
    return Answer(
        question, "\n\n".join(f"**{p.heading}**\n{a.text}" for p, a in zip(parts, answers)), lang,
        citations=[c for a in answers for c in a.citations],
        warnings=list(dict.fromkeys(w for a in answers for w in a.warnings)),
        sources=[s for a in answers for s in a.sources],
        standalone_question=standalone,
        partial=any(a.partial for a in answers),
        quotes=quotes,
        checks=[c for a in answers for c in a.checks],
        model_text=[t for a in answers for t in a.model_text],
    )


def _as_question(part: str, lang: str) -> str:
    """A part cut out of a longer question (in ``lang``), written as a question of its own."""
    part = part.strip()
    if part and part[-1] not in "?؟.!":
        part += {"ar": "؟", "fr": " ?"}.get(lang, "?")
    return part[:1].upper() + part[1:]


# words of a sentence that only points at a source (« C'est tiré de la source [S1] », « The key source for
# this information is [S1] », « المرجع هو المفتاح [S2] »): the model's way of citing what it just wrote
_POINTER_WORDS = ("source sources clé clés key keys information informations tiré tirée tirés extrait extraite "
                  "mentionné mentionnée indiqué indiquée précisé précisée cité citée référence stated specified "
                  "mentioned taken found reference réponse answer question المصدر المرجع المفتاح الإجابة الجواب السؤال مذكور")


@functools.cache
def _pointer_terms() -> frozenset[str]:
    return frozenset(notion_terms(_POINTER_WORDS))


def _loosely_shared(words: set[str], terms: set[str]) -> bool:
    """Whether a word of ``words`` is in ``terms``, or shares its first five letters with one there:
    « agricultur » and « agricol » (the stemmer keeps them apart) are the same notion for this check."""
    heads = {t[:5] for t in terms if len(t) >= 5}
    return any(w in terms or (len(w) >= 5 and w[:5] in heads) for w in words)


def pointers_to_previous(sentences: list[tuple[str, str]], asked_terms: set[str], lang: str = "fr") -> list[tuple[str, str]]:
    """A sentence that only points at a source gives its keys to the sentence before it, when that one
    has none, and goes: the pointer says nothing a source could back, the sentence before says it all.
    With no such sentence before it, it keeps its words and loses its keys."""
    out: list[tuple[str, str]] = []
    for sentence, after in sentences:
        keys = KEY_RX.findall(sentence)
        plain = KEY_RX.sub(" ", sentence)
        if keys and not notion_terms(plain) - asked_terms - _pointer_terms() and not figures_in(plain, lang):
            if out and not KEY_RX.search(out[-1][0]):
                previous, previous_after = out[-1]
                for key in keys:
                    previous = with_key(previous, key, ".!?؟")
                out[-1] = (previous, previous_after)
                continue
            sentence = KEY_RX.sub(" ", sentence)  # nothing before it to cite: it asserts nothing either
        out.append((sentence, after))
    return out


def with_key(sentence: str, key: str, ends: str) -> str:
    """The sentence with ``[key]`` before its final punctuation (one of ``ends``), or at its end."""
    return re.sub(rf"(\s*)([{re.escape(ends)}]?)\s*$", lambda m: f" [{key}]{m.group(2)}", sentence.rstrip(), count=1)


def chat_filters(filters: Filters | None) -> Filters:
    filters = filters or Filters()
    if "clause" in filters.kinds:
        return filters
    return Filters(filters.kinds, filters.langs, filters.sources, list(dict.fromkeys(filters.exclude_kinds + NOT_LEGAL_SOURCES)))


def _fence(text: str) -> str:
    # a document cannot close its own fence and pose as instructions or as another source
    text = text.replace(">>>", "> > >").replace("<<<", "< < <")
    return re.sub(r"\[(S\d+)\]", r"(\1)", text)


def _describe_failure(exc: Exception) -> str:
    from rag.models import classify_failure

    return str(classify_failure(exc))
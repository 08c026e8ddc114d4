"""Answer-level evaluation: the product's grounded chat and a plain local RAG chat, one process, one model.

``rag eval --answers QA.jsonl`` (and ``benchmarks/bench_answers.py``) run every question of a
``benchmarks/questions`` set through :class:`rag.answer.ChatEngine` (streamed: time to first token,
total time) and, in the same run with the same loaded model, through a plain RAG chat
(:class:`PlainRAG`: dense-only 1,000-character chunks of the same files, top 4, a standard prompt,
the same maximum tokens). Then each answer is scored in code:

- ``right_key``: one of the question's ``key`` strings appears in the answer text (citation labels
  removed), both sides normalised by :func:`normalise` (case, accents and Arabic diacritics,
  non-breaking and thin spaces, apostrophes, decimal comma = point, thousands separators, "10 %" =
  "10%" = "10 pour cent", Arabic-Indic digits, punctuation). A key ending/starting with a digit
  must not continue another number ("10 %" is not found in "110 %").
- ``right_citation``: every gold entry is cited: a citation whose source is one of the entry's
  ``sources`` and whose article equals the entry's by :func:`rag.structure.normalise_article_label`,
  or is a numbered part of it (« 3.1 » of « 3 »), as in the retrieval evaluation.
- ``right`` = both (in scope); for an ``out_of_scope`` question ``right`` = ``refused``.
- ``misgrounded`` (answers with a citation): a sentence that carries a citation states a figure
  *with its unit* (a number, digits or words, followed by a unit word: %, heures, jours, semaines,
  mois, ans, dirhams, salariés… in French, English or Arabic; :func:`figures_in`) that none of the
  passages it cites states with the same value **and the same unit** (« 5 % » cited to a text that
  says « cinq premières années » is misgrounded). Not checked: figures the question itself gives
  (« après 7 ans »), bare numbers without a unit, and figures of a sentence showing arithmetic
  (× or =), which are computed, not quoted. When the answer text carries no recognisable citation
  label, the whole answer is taken as one sentence citing all its citations.
- ``unflagged_wrong_figure``: the answer states a figure (with or without unit; article numbers,
  pages, years, dates, ordinals, list markers excluded) that is in no key, in no cited passage
  (same value, units equal or one unknown) and not in the question, and nothing flags it: no
  warning about figures names its value, its sentence does not say « à vérifier », and no
  ``answer.checks`` entry for it has a status other than ok.
- ``refused`` = ``answer.not_found``; ``wrongly_refused`` = not_found on an in-scope question.
  ``declined`` (reported apart, heuristic) = the model's text says the sources do not answer.

The figure reading here is written apart from the product's own checker (``rag.figures``) on
purpose: an evaluation that reused the checker it evaluates would share its blind spots.
``right_own_words`` / ``right_key_own_words`` (reported apart): the same scores with the verbatim
quotes the answer reads in place of the model (any « … » span, and the citations only such a quote
carries, ``Citation.stand_in``) left out: how much of ``right`` the model's own sentences earn.
``key_in_quotes`` (reported apart) says whether a key is in the verbatim quotes the product shows
under its answer (``Answer.quotes``), when it has them.

The plain RAG baseline has no article metadata: only ``right_key`` (and ``declined``) are scored
for it, plus ``evidence_in_context`` (a gold evidence quote lies in its 4 chunks: a retrieval
diagnostic, not a citation score).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from rag.evaluate import percentile
from rag.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

DEFAULT_CORPUS = PROJECT_ROOT.parent / "shared" / "corpus"
EVAL_STORE_NAME = "eval-store"
BASELINE_CHUNK_CHARS = 1000
BASELINE_OVERLAP_CHARS = 100
BASELINE_K = 4
BASELINE_CAP_FACTOR = 3  # the baseline stops at 3 × the product's answer budget (a long prompt to read: no budget of its own)

BASELINE_SYSTEM_PROMPT = (
    "You are an assistant for question-answering tasks. Answer the question using only the context below. "
    "If the context does not contain the answer, say that you don't know. "
    "Cite the context number in brackets, like [2], after each sentence. "
    "Use at most four sentences and answer in the language of the question."
)
BASELINE_USER_TEMPLATE = "Context:\n{context}\n\nQuestion: {question}\nAnswer:"


# ---------------------------------------------------------------------------------------------
# question set


@dataclass
class QA:
    id: str
    question: str
    lang: str
    kind: str
    gold: list[dict] = field(default_factory=list)  # [{"sources": [...], "article": "184"}]
    key: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)

    @property
    def in_scope(self) -> bool:
        return self.kind != "out_of_scope"


def load_qa(path: Path) -> list[QA]:
    """Read a ``benchmarks/questions`` JSONL file (id, question, lang, kind, gold, key, evidence)."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            gold = [{"sources": list(g["sources"]), "article": str(g["article"])} for g in raw.get("gold", [])]
            out.append(QA(str(raw["id"]), str(raw["question"]), str(raw.get("lang", "")), str(raw.get("kind", "")),
                          gold, [str(k) for k in raw.get("key", [])], list(raw.get("evidence", []))))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: ligne de question invalide ({exc})") from exc
    return out


# ---------------------------------------------------------------------------------------------
# normalisation and keys

_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_SPACES = re.compile(r"[\u00a0\u202f\u2009\u2007\u2002\u2003\u2005\u200a\t\r\f\v]")
_APOSTROPHES = re.compile(r"[’‘ʼ`´ʹ′]")
_DASHES = re.compile(r"[‐‑‒–—―−]")
_INVISIBLE = re.compile(r"[\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u0640]")  # soft hyphen, ZW*, tatweel


def _fold(text: str) -> str:
    """Character-level folding: NFKC, Arabic-Indic digits, no invisible marks, no accents or Arabic
    short vowels / hamza seats (NFKD, combining marks dropped), casefold."""
    t = unicodedata.normalize("NFKC", text).translate(_ARABIC_DIGITS)
    t = t.replace("٪", "%").replace("\u066b", ",").replace("\u066c", " ")
    t = _INVISIBLE.sub("", t)
    return "".join(c for c in unicodedata.normalize("NFKD", t) if unicodedata.category(c) != "Mn").casefold()


_PERCENT_WORDS = "|".join(
    [r"pour\s*cent", "pourcent", r"per\s*cent", "percent", r"p\.\s*100"]
    + [re.escape(_fold(w)).replace(r"\ ", r"\s+") for w in ("في المائة", "في المئة", "بالمائة", "بالمئة")]
)


def normalise(text: str) -> str:
    """Text compared for keys and figures: see the module docstring for every rule."""
    t = re.sub(r"(\d)\s*[°º]", r"\1 e ", text or "")  # "2°" is an enumeration, "1º" too
    t = _fold(t)
    t = _SPACES.sub(" ", t)
    t = _APOSTROPHES.sub("'", t)
    t = _DASHES.sub("-", t)
    # thousands: "2 288", "2.288", "1,234,567", "1,234.5" → digits only
    t = re.sub(r"(?<![\d.,])\d{1,3}(?: \d{3})+(?![\d])", lambda m: m.group(0).replace(" ", ""), t)
    t = re.sub(r"(?<![\d.,])\d{1,3}(?:\.\d{3})+(?![\d.,]?\d)", lambda m: m.group(0).replace(".", ""), t)
    t = re.sub(r"(?<![\d.,])\d{1,3}(?:,\d{3}){2,}(?![\d])|(?<![\d.,])\d{1,3}(?:,\d{3})+(?=\.\d)", lambda m: m.group(0).replace(",", ""), t)
    t = re.sub(r"(\d),(\d)", r"\1.\2", t)  # decimal comma
    t = re.sub(r"(\d{1,2})\s*[:h]\s*(\d{2})(?!\d)", r"\1 h ", t)  # 22:00, 21h30 → the hour
    t = re.sub(rf"(\d)\s*(?:%|{_PERCENT_WORDS})", r"\1%", t)
    t = re.sub(r"(?<![\d.])%\s?(\d+(?:\.\d+)?)(?![\d.])", r"\1%", t)  # "%35" as Arabic text extraction may give it
    t = re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", " ", t)  # vingt-quatre, non-agricole
    t = re.sub(r"[,;:!?«»\"“”„()\[\]{}<>*_/|…·•]", " ", t)
    t = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", t)  # a point that is not a decimal point
    t = re.sub(r"[،؛؟]", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def key_in(key: str, text: str, normalised: bool = False) -> bool:
    """Whether ``key`` appears in ``text`` after :func:`normalise` of both."""
    nk = normalise(key)
    if not nk:
        return False
    nt = text if normalised else normalise(text)
    pattern = re.escape(nk)
    if nk[0].isdigit():
        pattern = r"(?<![\d.])" + pattern
    if nk[-1].isdigit():
        pattern += r"(?!\.?\d)"
    return re.search(pattern, nt) is not None


def _figure_key(key: str) -> Figure | None:
    """A key that is only a figure with its unit (« quinze jours », « 10 % », « ساعتين »)."""
    figures = figures_in(key)
    if len(figures) == 1 and figures[0].unit and len(normalise(key).split()) <= 4:
        return figures[0]
    return None


def matched_key(keys: Iterable[str], text: str) -> str | None:
    """The first key found in the text: as a normalised string, or, for a key that is only a
    figure with its unit, as the same figure written otherwise (« quinze jours » = « 15 jours »)."""
    nt = normalise(text)
    keys = list(keys)
    found = next((k for k in keys if key_in(k, nt, normalised=True)), None)
    if found is None:
        stated = None
        for k in keys:
            fig = _figure_key(k)
            if fig is None:
                continue
            stated = figures_in(text) if stated is None else stated
            if any(fig.matches(f, strict_unit=True) for f in stated):
                return k
    return found


# ---------------------------------------------------------------------------------------------
# figures (number + unit)

_NUMBER_WORDS = {
    # French
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8,
    "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "vingts": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "cent": 100,
    "cents": 100, "mille": 1000,
    # English
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17,
    "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "thousand": 1000,
    # Arabic (after normalise: hamza and short vowels dropped)
    "واحد": 1, "واحدة": 1, "اثنان": 2, "اثنين": 2, "اثنتين": 2, "ثلاث": 3, "ثلاثة": 3, "اربع": 4, "اربعة": 4,
    "خمس": 5, "خمسة": 5, "ست": 6, "ستة": 6, "سبع": 7, "سبعة": 7, "ثمان": 8, "ثماني": 8, "ثمانية": 8,
    "تسع": 9, "تسعة": 9, "عشر": 10, "عشرة": 10, "عشرين": 20, "عشرون": 20, "ثلاثين": 30, "ثلاثون": 30,
    "اربعين": 40, "اربعون": 40, "خمسين": 50, "خمسون": 50, "ستين": 60, "ستون": 60, "سبعين": 70, "سبعون": 70,
    "ثمانين": 80, "ثمانون": 80, "تسعين": 90, "تسعون": 90, "مائة": 100, "مئة": 100, "الف": 1000,
}
_WEAK_NUMBER_WORDS = {_fold(w) for w in ("un", "une", "one", "واحد", "واحدة")}  # articles as much as numbers: only before a time unit
_UNITS = {
    "percent": {"%"},
    "hour": {"heure", "heures", "h", "hour", "hours", "hr", "hrs", "ساعة", "ساعات", "ساعه"},
    "minute": {"minute", "minutes", "min", "mn", "دقيقة", "دقائق", "دقيقه"},
    "day": {"jour", "jours", "journee", "journees", "day", "days", "يوم", "يوما", "ايام", "اياما"},
    "week": {"semaine", "semaines", "week", "weeks", "اسبوع", "اسبوعا", "اسابيع"},
    "month": {"mois", "month", "months", "شهر", "شهرا", "اشهر", "شهور"},
    "year": {"an", "ans", "annee", "annees", "year", "years", "سنة", "سنه", "سنوات", "سنين", "عام", "عاما", "اعوام"},
    "money": {"dirham", "dirhams", "dh", "dhs", "mad", "درهم", "درهما", "دراهم", "euro", "euros", "€"},
    "person": {"salarie", "salaries", "salariee", "salariees", "travailleur", "travailleurs", "employe", "employes",
               "employee", "employees", "worker", "workers", "delegue", "delegues", "delegate", "delegates",
               "representant", "representants", "representative", "representatives", "personne", "personnes",
               "persons", "people", "اجير", "اجيرا", "اجيرة", "اجيرات", "اجراء", "عامل", "عاملا", "عاملة", "عاملات", "عمال",
               "مندوب", "مندوبا", "مندوبين", "ممثل", "ممثلين", "شخص", "اشخاص"},
}
_DUALS = {"ساعتين": "hour", "ساعتان": "hour", "يومين": "day", "يومان": "day", "اسبوعين": "week", "اسبوعان": "week",
          "شهرين": "month", "شهران": "month", "سنتين": "year", "سنتان": "year", "عامين": "year", "عامان": "year"}
_NUMBER_WORDS = {_fold(k): v for k, v in _NUMBER_WORDS.items()}
_DUALS = {_fold(k): v for k, v in _DUALS.items()}
_UNIT_OF = {_fold(word): unit for unit, words in _UNITS.items() for word in words}
_TIME_UNITS = {"hour", "minute", "day", "week", "month", "year"}
_REF_WORDS = {
    "art", "arts", "article", "articles", "al", "alinea", "alineas", "paragraphe", "paragraphes", "chapitre",
    "chapitres", "titre", "titres", "livre", "livres", "section", "sections", "decret", "dahir", "loi", "n", "no",
    "nos", "numero", "convention", "conventions", "c", "p", "pp", "page", "pages", "annexe", "idcc", "avenant",
    "clause", "clauses", "chapter", "part", "paragraph", "paragraphs", "recommendation",
    "المادة", "المواد", "مادة", "الفصل", "الفقرة", "البند", "المرسوم", "مرسوم", "القانون", "قانون", "رقم", "الظهير",
    "ظهير", "الاتفاقية", "اتفاقية",
}
_REF_WORDS = {_fold(w) for w in _REF_WORDS}
_ORDINAL_SUFFIXES = {"er", "ere", "re", "e", "eme", "emes", "nd", "st", "rd", "th"}
_MONTHS = {
    "janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre",
    "decembre", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "يناير", "فبراير", "مارس", "ابريل", "ماي", "مايو", "يونيو", "يوليو", "يوليوز", "غشت",
    "اغسطس", "شتنبر", "سبتمبر", "اكتوبر", "نونبر", "نوفمبر", "دجنبر", "ديسمبر",
}
_MONTHS = {_fold(w) for w in _MONTHS}
_RANGE_WORDS = {_fold(w) for w in ("a", "et", "ou", "to", "and", "or", "-", "إلى", "أو", "و")}
_HUNDRED_WORDS = {_fold(w) for w in ("المائة", "المئة")}
_PERCENT_TOKENS = {_fold(w) for w in ("بالمائة", "بالمئة")}
_IN = _fold("في")
_TOKEN_RX = re.compile(r"\d+(?:\.\d+)?|%|€|-|¦|[^\W\d_]+")


@dataclass(frozen=True)
class Figure:
    value: str  # canonical: "17.92", "2288"
    unit: str | None  # percent, hour, minute, day, week, month, year, money, person; None = bare number

    def __str__(self) -> str:
        return f"{self.value} {self.unit}" if self.unit else self.value

    def matches(self, other: "Figure", strict_unit: bool) -> bool:
        if self.value != other.value:
            return False
        if strict_unit:
            return self.unit == other.unit
        return self.unit is None or other.unit is None or self.unit == other.unit


def _canonical(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _unit_word(token: str) -> str | None:
    if token in _UNIT_OF:
        return _UNIT_OF[token]
    if len(token) > 3 and token.startswith("ال") and token[2:] in _UNIT_OF:  # Arabic article
        return _UNIT_OF[token[2:]]
    return None


def _number_word(token: str) -> int | None:
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    for prefix in ("و", "ال", "وال"):  # Arabic "and forty", "the sixty"
        if len(token) > len(prefix) + 1 and token.startswith(prefix) and token[len(prefix):] in _NUMBER_WORDS:
            return _NUMBER_WORDS[token[len(prefix):]]
    return None


def figures_in(text: str, with_bare: bool = True) -> list[Figure]:
    """Figures a text states: numbers (digits or number words) with the unit that follows them.

    The unit is the next word, or the word after one filler (« cinq premières années »), or the
    unit of a range's second end (« de 6 à 21 heures »). Excluded: numbers after a reference word
    (article, alinéa, p., décret, n°, المادة…), ordinals (1er, 2°), dates, and, for bare numbers,
    years 1900–2099 and hyphen-joined references (2-04-570, L. 3121-36)."""
    # list markers "1. ", "2) ", also where a citation label was put between the number and its point
    t = re.sub(r"(?m)(?:^|(?<=[:;…]))[ \t]*(?:[-*•][ \t]*)?\d{1,2}[ \t]*[.)](?=\s|$)", " ", text or "")
    t = re.sub(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b", " date ", t)  # 01/01/2026
    # a time of day (« 11:00 », « 21h30 ») is one figure in hours, not 11 and 00
    t = re.sub(r"\b([01]?\d|2[0-4])\s*(?::|h)\s*([0-5]\d)\b", lambda m: f" {int(m.group(1)) + int(m.group(2)) / 60:g} heures ", t)
    t = re.sub(r"[;:؛]", " ¦ ", t)  # a list of references does not run on past these
    t = normalise(t)
    t = re.sub(r"\b[a-z]?\d+(?:-\d+)+\b", " ref ", t)  # decree numbers, ISO dates, article ranges "52-53"
    tokens = _TOKEN_RX.findall(t)
    raw: list[tuple[int, int, float, bool, str | None]] = []  # (start token, end token, value, weak, unit)
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok[0].isdigit():
            raw.append((i, i + 1, float(tok), False, None))
            i += 1
            continue
        if tok in _DUALS or (tok.startswith("ال") and tok[2:] in _DUALS):
            raw.append((i, i + 1, 2.0, False, _DUALS.get(tok) or _DUALS[tok[2:]]))
            i += 1
            continue
        value = _number_word(tok)
        if value is None or (tok in _HUNDRED_WORDS and i and tokens[i - 1] == _IN):  # « في المائة » is "percent"
            i += 1
            continue
        j, total, current, words = i, 0.0, 0.0, []
        while j < len(tokens):
            v = _number_word(tokens[j])
            if v is None:
                if tokens[j] in {"et", "and"} and j + 1 < len(tokens) and _number_word(tokens[j + 1]) is not None and words:
                    j += 1
                    continue
                break
            if v == 100:
                current = max(current, 1) * 100
            elif v == 1000:
                total += max(current, 1) * 1000
                current = 0
            elif v == 20 and words and words[-1] == 4 and tokens[j] in {"vingt", "vingts"}:
                current += 76  # quatre-vingt(s)
            else:
                current += v
            words.append(v)
            j += 1
        weak = len(words) == 1 and tokens[i] in _WEAK_NUMBER_WORDS
        raw.append((i, j, total + current, weak, None))
        i = j
    out: list[Figure] = []
    refs: set[int] = set()  # end token of each number that names a text or a part of it
    for n, (start, end, value, weak, preset) in enumerate(raw):
        if preset:
            out.append(Figure(_canonical(value), preset))
            continue
        before = tokens[start - 1] if start else ""
        if (before in _REF_WORDS or (before in {"n", "no", "°", "e"} and start > 1 and tokens[start - 2] in _REF_WORDS)
                or start in refs or (before in _RANGE_WORDS and start - 1 in refs)):  # « art. 52, 53 et 54 »
            refs.add(end)
            continue
        after = tokens[end] if end < len(tokens) else ""
        if after in _ORDINAL_SUFFIXES or after in _MONTHS:
            continue
        unit = _unit_word(after) if after else None
        if after in _PERCENT_TOKENS or (after == _IN and end + 1 < len(tokens) and tokens[end + 1] in _HUNDRED_WORDS):
            unit = "percent"
        if unit is None and after and end + 1 < len(tokens):
            nxt = tokens[end + 1]
            if after in _RANGE_WORDS:
                # « de 6 à 21 heures », « 50 et 100 salariés »: the range's unit
                follow = next((r for r in raw[n + 1:n + 2] if r[0] == end + 1), None)
                if follow and follow[1] < len(tokens):
                    unit = _unit_word(tokens[follow[1]])
            elif not after[0].isdigit() and _number_word(after) is None and after not in {"%", "€", "¦"}:
                unit = _unit_word(nxt)  # one filler word: « cinq premières années »
        if unit is None and tokens[end:end + 3] == ["and", "a", "half"] and end + 3 < len(tokens):
            unit = _unit_word(tokens[end + 3])  # « one and a half months »
            if unit:
                value += 0.5
        elif unit and (tokens[end + 1:end + 3] in (["et", "demi"], ["et", "demie"]) or tokens[end + 1:end + 2] == ["ونصف"]):
            value += 0.5  # « un jour et demi », « يوم ونصف »
        if weak and unit not in _TIME_UNITS:
            continue
        if unit is None:
            if not with_bare or (1900 <= value <= 2099 and value.is_integer()):
                continue
        out.append(Figure(_canonical(value), unit))
    return out


# ---------------------------------------------------------------------------------------------
# sentences and the citations they carry

_ABBREVIATIONS = {"art", "arts", "p", "pp", "al", "c", "cf", "ex", "trav", "n", "no", "nos", "etc", "ch", "chap", "min", "env", "resp", "vol", "sq"}


def split_sentences(text: str) -> list[str]:
    """Sentences of an answer; « art. 53 », « C. trav. », « p. 73 » do not end one."""
    pieces = re.split(r"(?<=[.!?؟\n])\s+", text)
    out: list[str] = []
    for piece in pieces:
        if out:
            last = out[-1].rstrip()
            word = re.search(r"([^\W\d_]+)\.$", last)
            if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
                out[-1] = f"{last} {piece}"
                continue
        out.append(piece)
    return [s for s in out if s.strip()]


def _label_map(citations) -> dict[str, list]:
    labels: dict[str, list] = {}
    for c in citations:
        if getattr(c, "label", ""):
            labels.setdefault(c.label, []).append(c)
    return labels


def cited_sentences(text: str, citations) -> list[tuple[str, list]]:
    """(sentence without its citation labels, the citations it carries) for each sentence."""
    labels = _label_map(citations)
    marked = text
    order = sorted(labels, key=len, reverse=True)
    for n, label in enumerate(order):
        marked = marked.replace(label, f"⟦C{n}⟧")
    found_any = "⟦C" in marked
    out = []
    for sentence in split_sentences(marked):
        ids = [int(m) for m in re.findall(r"⟦C(\d+)⟧", sentence)]
        cites = [c for i in dict.fromkeys(ids) for c in labels[order[i]]]
        clean = re.sub(r"\(?\s*⟦C\d+⟧(?:\s*[;,]\s*⟦C\d+⟧)*\s*\)?", " ", sentence)
        out.append((clean, cites))
    if citations and not found_any:  # no label in the text (another presentation): one sentence citing all
        return [(re.sub(r"\s+", " ", text), list(citations))]
    return out


def strip_labels(text: str, citations) -> str:
    for label in sorted(_label_map(citations), key=len, reverse=True):
        text = text.replace(label, " ")
    return text


# ---------------------------------------------------------------------------------------------
# scoring

_FIGURE_WARNING_WORDS = ("chiffre", "figure", "verifier", "absent", "non trouve", "رقم", "الرقم")
_TO_CHECK = ("a verifier", "to be checked", "to check", "يجب التحقق", "للتحقق")
_DECLINE_PATTERNS = (
    "ne traitent pas", "ne traite pas", "ne repondent pas", "ne repond pas", "ne permettent pas de repondre",
    "ne contiennent pas", "ne contient pas", "ne mentionnent pas", "ne mentionne pas", "ne precisent pas",
    "ne precise pas", "aucune information", "pas d'information", "ne fournissent pas", "ne fournit pas",
    "do not cover", "does not cover", "do not contain", "does not contain", "don't know", "do not know",
    "not mentioned", "no information", "cannot answer", "does not provide", "do not provide", "not specified",
    "does not specify", "do not specify", "does not mention", "do not mention", "not found",
    "لا تتناول", "لا تجيب", "لا تتضمن", "لا يتضمن", "لا تحتوي", "لا يحتوي", "لا اعرف", "لا توجد معلومات", "لا يوجد",
    "لم يرد", "لا تذكر", "لا يذكر",
)


def declined(text: str) -> bool:
    """The model's own words say the sources do not answer (heuristic, reported apart from not_found)."""
    nt = normalise(text)
    return any(normalise(p) in nt for p in _DECLINE_PATTERNS)


def citation_matches(gold: dict, source: str, article: str | None) -> bool:
    """The citation is of a gold source and article; a numbered part of the article (« 3.1 » of
    « 3 ») counts as that article, as in the retrieval evaluation (``rag.evaluate.Gold``)."""
    from rag.evaluate import Gold

    return bool(article) and Gold(tuple(gold["sources"]), str(gold["article"])).matches(source, {str(article)})


def right_citation(qa: QA, citations) -> bool | None:
    """Every gold entry has a citation of one of its sources with its article; None out of scope."""
    if not qa.gold:
        return None
    return all(any(citation_matches(g, c.source, c.article) for c in citations) for g in qa.gold)


def _is_arithmetic(sentence: str) -> bool:
    return bool(re.search(r"\d\s*[×x*÷/=]\s*\d|=\s*\d|\d\s*[×*÷]", sentence))


def misgrounded_figures(qa_question: str, text: str, citations) -> list[dict]:
    """Figures with a unit, stated in a sentence with a citation, that no cited passage states
    with that value and that unit. The question's own figures and arithmetic are not checked."""
    asked = figures_in(qa_question)
    problems = []
    for sentence, cites in cited_sentences(text, citations):
        if not cites or _is_arithmetic(sentence):
            continue
        cited = [f for c in cites for f in figures_in(c.text)]
        for fig in figures_in(sentence, with_bare=False):
            if any(fig.matches(a, strict_unit=False) for a in asked):
                continue
            if not any(fig.matches(f, strict_unit=True) for f in cited):
                same_value = sorted({str(f) for f in cited if f.value == fig.value})
                problems.append({"figure": str(fig), "sentence": sentence.strip()[:300],
                                 "cited": [c.label for c in cites], "cited_has_value_as": same_value})
    return problems


def _values_in(text: str) -> set[str]:
    """Every number of a text (digits or words), canonical, whatever its role."""
    values = {_canonical(float(n)) for n in re.findall(r"\d+(?:\.\d+)?", normalise(text))}
    return values | {f.value for f in figures_in(text)}


def _flagged(fig: Figure, sentence: str, warnings: list[str], checks) -> bool:
    if any(p in normalise(sentence) for p in _TO_CHECK):
        return True
    for w in warnings:
        nw = normalise(w)
        if any(word in nw for word in _FIGURE_WARNING_WORDS) and fig.value in _values_in(w):
            return True
    for check in checks or []:
        data = check if isinstance(check, dict) else getattr(check, "__dict__", {})
        figure = str(data.get("figure", ""))
        status = str(data.get("status", "ok")).lower()
        if status not in {"ok", "verified", "supported", "found", "from_question", "computed"} and fig.value in _values_in(figure):
            return True
    return False


def wrong_figures(qa: QA, text: str, citations, warnings: list[str], checks=None) -> list[dict]:
    """Figures of the answer found in no key, no cited passage and not in the question; each with
    ``flagged`` (a warning, « à vérifier » or a check names it)."""
    allowed = figures_in(qa.question) + [f for k in qa.key for f in figures_in(k)]
    allowed += [f for c in citations for f in figures_in(c.text)]
    computed = set()
    for check in checks or []:
        data = check if isinstance(check, dict) else getattr(check, "__dict__", {})
        if str(data.get("status", "")).lower() == "computed":
            computed |= _values_in(str(data.get("figure", "")))
    out = []
    seen = set()
    for sentence, _ in cited_sentences(text, citations):
        if _is_arithmetic(sentence):
            continue  # computed in front of the reader (a calculator's steps), not quoted
        for fig in figures_in(sentence):
            if fig.value in computed:
                continue
            if fig in seen or any(fig.matches(a, strict_unit=False) for a in allowed):
                continue
            seen.add(fig)
            out.append({"figure": str(fig), "sentence": sentence.strip()[:300], "flagged": _flagged(fig, sentence, warnings, checks)})
    return out


def evidence_in(qa: QA, texts: Iterable[str]) -> bool | None:
    """Whether every gold evidence quote lies in the given texts (normalised; retrieval diagnostic)."""
    if not qa.evidence:
        return None
    blob = normalise(" \n ".join(texts))
    return all(normalise(e.get("quote", "")) in blob for e in qa.evidence)


GUILLEMET_QUOTE = re.compile(r"«[^»]*»")


def score_answer(qa: QA, answer) -> dict:
    """All the checks of one product answer (an :class:`rag.answer.Answer`)."""
    citations = list(answer.citations)
    warnings = list(answer.warnings)
    checks = getattr(answer, "checks", None)
    body = strip_labels(answer.text, citations)
    key = matched_key(qa.key, body) if qa.key else None
    cit = right_citation(qa, citations)
    misgrounded = misgrounded_figures(qa.question, answer.text, citations) if citations else []
    wrong = wrong_figures(qa, answer.text, citations, warnings, checks) if not answer.not_found else []
    result = {
        "right_key": (key is not None) if qa.in_scope else None,
        "matched_key": key,
        "right_citation": cit,
        "right": (key is not None and bool(cit)) if qa.in_scope else bool(answer.not_found),
        "cited": bool(citations),
        "misgrounded": bool(misgrounded) if citations else None,
        "misgrounded_figures": misgrounded,
        "wrong_figures": wrong,
        "unflagged_wrong_figure": any(not w["flagged"] for w in wrong),
        "refused": bool(answer.not_found),
        "wrongly_refused": bool(answer.not_found) if qa.in_scope else None,
        "declined": declined(body) and not answer.not_found,
        "partial": bool(getattr(answer, "partial", False)),
        "gold_in_sources": _gold_in(qa, getattr(answer, "sources", []) or []),
        "evidence_in_sources": evidence_in(qa, [s.text for s in getattr(answer, "sources", []) or []]),
    }
    # the same, without the verbatim quotes the answer reads in place of the model (« … »): what the
    # model's own sentences got right (reported apart, so that quotes are not taken for the model)
    own_key = matched_key(qa.key, GUILLEMET_QUOTE.sub(" ", body)) if qa.key else None
    own_cit = right_citation(qa, [c for c in citations if not getattr(c, "stand_in", False)])
    result["right_key_own_words"] = (own_key is not None) if qa.in_scope else None
    result["right_own_words"] = (own_key is not None and bool(own_cit)) if qa.in_scope else bool(answer.not_found)
    result["stopped"] = _stop_reason(warnings)
    quotes = getattr(answer, "quotes", None)
    if quotes and qa.key:
        texts = [q.get("text", "") if isinstance(q, dict) else getattr(q, "text", "") for q in quotes]
        result["key_in_quotes"] = matched_key(qa.key, " \n ".join(texts)) is not None
    return result


def _stop_reason(warnings: list[str]) -> str | None:
    """The product's own stop notices (time budget, repetition guard), when it has them."""
    from rag import prompts

    for reason, name in (("budget", "STOPPED_BUDGET"), ("repeating", "STOPPED_REPEATING")):
        prefixes = [t.split("{")[0].strip() for t in getattr(prompts, name, {}).values()]
        if any(p and w.startswith(p) for w in warnings for p in prefixes):
            return reason
    return None


def _gold_in(qa: QA, sources) -> bool | None:
    if not qa.gold:
        return None
    return all(any(citation_matches(g, s.source, s.article) for s in sources) for g in qa.gold)


def score_baseline(qa: QA, text: str, chunks: list[tuple[str, str]]) -> dict:
    key = matched_key(qa.key, text) if qa.key else None
    return {
        "right_key": (key is not None) if qa.in_scope else None,
        "matched_key": key,
        "declined": declined(text),
        "evidence_in_context": evidence_in(qa, [c for _, c in chunks]),
    }


# ---------------------------------------------------------------------------------------------
# the eval store (the product's Index over the official texts)


def default_store(settings) -> Path:
    return Path(settings.cache_dir) / EVAL_STORE_NAME


def corpus_files(corpus: Path | None = None) -> list[Path]:
    from rag.index import expand_paths

    corpus = Path(corpus or DEFAULT_CORPUS)
    if not corpus.exists():
        raise FileNotFoundError(f"corpus introuvable : {corpus}")
    files = list(expand_paths([corpus]))
    if not files:
        raise FileNotFoundError(f"aucun texte à indexer dans {corpus}")
    return files


def ensure_index(engine, corpus: Path | None = None, progress: Callable[[float, str], None] | None = None) -> dict:
    """Index the corpus into the engine's store with the product's :class:`rag.index.Index`;
    unchanged files are skipped, so the first run builds it and later runs reuse it."""
    files = corpus_files(corpus)
    results = engine.index.index_paths(files, progress=progress)
    return {
        "files": len(files),
        "indexed": [r.source for r in results if r.status == "indexed"],
        "skipped": sum(1 for r in results if r.status == "skipped"),
        "failed": [f"{r.source}: {r.message}" for r in results if r.status == "failed"],
        "passages": engine.index.count(),
    }


# ---------------------------------------------------------------------------------------------
# the plain RAG baseline


def _cap(settings) -> float | None:
    budget = getattr(settings, "llm_answer_budget_s", None)
    return BASELINE_CAP_FACTOR * budget if budget else None


class PlainRAG:
    """What most local RAG chats do: fixed 1,000-character chunks (RecursiveCharacterTextSplitter,
    100 overlap) of the same files' text, dense-only top 4 with the same embedder, one standard
    prompt, the same model and maximum tokens. Chunks and vectors live in memory (cached as .npz)."""

    def __init__(self, chunks: list[tuple[str, str]], vectors, embedder, chat, max_tokens: int, k: int = BASELINE_K,
                 cap_s: float | None = None):
        import numpy as np

        self.chunks = chunks  # (source, text)
        matrix = np.asarray(vectors, dtype="float32").reshape(len(chunks), -1) if chunks else np.zeros((0, 1), "float32")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        self.vectors = matrix / np.where(norms == 0, 1, norms)
        self.embedder = embedder
        self.chat = chat
        self.max_tokens = max_tokens
        self.k = k
        # the model server may ignore the requested maximum (llama_cpp.server reads max_tokens, the
        # client sends max_completion_tokens): the pieces are counted here too, one token each
        self.cap_s = cap_s  # a safety stop for the eval's duration only (None: none)

    @classmethod
    def build(cls, files: list[Path], embedder, chat, settings, cache_dir: Path | None = None,
              progress: Callable[[str], None] | None = None) -> "PlainRAG":
        import numpy as np
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from rag.ingest import load_path, sha256_bytes

        digest = hashlib.sha256()
        for path in files:
            digest.update(f"{path.name}:{sha256_bytes(path.read_bytes())};".encode())
        digest.update(f"{BASELINE_CHUNK_CHARS}/{BASELINE_OVERLAP_CHARS}/{type(embedder).__name__}".encode())
        cache = Path(cache_dir) / f"plain-rag-{digest.hexdigest()[:16]}.npz" if cache_dir else None
        if cache and cache.exists():
            data = np.load(cache, allow_pickle=False)
            chunks = list(zip(data["sources"].tolist(), data["texts"].tolist()))
            return cls(chunks, data["vectors"], embedder, chat, settings.llm_max_tokens, cap_s=_cap(settings))
        splitter = RecursiveCharacterTextSplitter(chunk_size=BASELINE_CHUNK_CHARS, chunk_overlap=BASELINE_OVERLAP_CHARS)
        chunks = []
        for path in files:
            doc = load_path(path, settings.max_upload_mb * 1024 * 1024, settings.max_pdf_pages)
            chunks.extend((doc.source, piece) for piece in splitter.split_text(doc.text) if piece.strip())
        if progress:
            progress(f"base : {len(chunks)} passages de {BASELINE_CHUNK_CHARS} caractères à vectoriser")
        vectors = []
        batch = max(1, getattr(settings, "embed_batch", 16))
        for start in range(0, len(chunks), batch):
            vectors.extend(embedder.embed_documents([t for _, t in chunks[start:start + batch]]))
            if progress and (start // batch) % 20 == 19:
                progress(f"base : {len(vectors)}/{len(chunks)} passages vectorisés")
        if cache:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, sources=np.array([s for s, _ in chunks]), texts=np.array([t for _, t in chunks]),
                     vectors=np.asarray(vectors, dtype="float32"))
            tmp.replace(cache)
        return cls(chunks, vectors, embedder, chat, settings.llm_max_tokens, cap_s=_cap(settings))

    def search(self, question: str) -> list[tuple[str, str]]:
        import numpy as np

        if not self.chunks:
            return []
        query = np.asarray(self.embedder.embed_query(question), dtype="float32")
        query /= np.linalg.norm(query) or 1.0
        order = np.argsort(-(self.vectors @ query))[: self.k]
        return [self.chunks[i] for i in order]

    def messages(self, question: str, chunks: list[tuple[str, str]]) -> list[dict]:
        context = "\n\n".join(f"[{n}] (source: {source})\n{text}" for n, (source, text) in enumerate(chunks, start=1))
        return [{"role": "system", "content": BASELINE_SYSTEM_PROMPT},
                {"role": "user", "content": BASELINE_USER_TEMPLATE.format(context=context, question=question)}]

    def stream(self, question: str, chunks: list[tuple[str, str]]) -> Iterator[str]:
        yield from self.chat.stream(self.messages(question, chunks), max_tokens=self.max_tokens)


# ---------------------------------------------------------------------------------------------
# the run


def _run_product(qa: QA, chat_engine) -> dict:
    from rag.answer import Answer, Delta

    start = time.perf_counter()
    first = None
    final = None
    error = None
    try:
        for event in chat_engine.stream(qa.question):
            if isinstance(event, Delta):
                if first is None and event.text:
                    first = time.perf_counter()
            elif isinstance(event, Answer):
                final = event
    except Exception as exc:  # one failing question must not end the run
        log.exception("question %s failed", qa.id)
        error = f"{type(exc).__name__}: {exc}"
    end = time.perf_counter()
    row = {"id": qa.id, "kind": qa.kind, "lang": qa.lang, "question": qa.question, "key": qa.key, "gold": qa.gold,
           "timings": {"ttft_s": round((first or end) - start, 2), "total_s": round(end - start, 2), "streamed": first is not None}}
    if final is None:
        row.update({"error": error or "no answer", "answer": "", "citations": [], "warnings": [],
                    "checks": {"right": False, "right_key": False if qa.in_scope else None, "right_citation": False if qa.gold else None,
                               "refused": False, "wrongly_refused": False if qa.in_scope else None, "cited": False,
                               "misgrounded": None, "misgrounded_figures": [], "wrong_figures": [],
                               "unflagged_wrong_figure": False, "declined": False, "partial": True}})
        return row
    data = final.to_json()
    row.update({
        "answer": final.text,
        "not_found": final.not_found,
        "citations": [{"source": c.source, "article": c.article, "page": c.page, "label": c.label, "stand_in": getattr(c, "stand_in", False)}
                      for c in final.citations],
        "sources": [{"source": s.source, "article": s.article} for s in final.sources],
        "warnings": list(final.warnings),
        "checks": score_answer(qa, final),
    })
    for extra in ("quotes", "checks", "calculation", "model_text"):
        if extra in data:
            row[f"answer_{extra}"] = data[extra]
    return row


def _run_baseline(qa: QA, baseline: PlainRAG) -> dict:
    start = time.perf_counter()
    first = None
    pieces: list[str] = []
    error = None
    chunks: list[tuple[str, str]] = []
    stopped = None
    stream = None
    try:
        chunks = baseline.search(qa.question)
        stream = baseline.stream(qa.question, chunks)
        for piece in stream:
            if first is None and piece:
                first = time.perf_counter()
            pieces.append(piece)
            if baseline.max_tokens and len(pieces) >= baseline.max_tokens:
                stopped = "max_tokens"
                break
            if baseline.cap_s and time.perf_counter() - start > baseline.cap_s:
                stopped = "time_cap"
                break
    except Exception as exc:
        log.warning("baseline %s failed: %s", qa.id, exc)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        if stream is not None:
            stream.close()
    end = time.perf_counter()
    text = "".join(pieces).strip()
    row = {"answer": text, "context": [{"source": s, "start": t[:80]} for s, t in chunks],
           "timings": {"ttft_s": round((first or end) - start, 2), "total_s": round(end - start, 2)},
           "stopped": stopped, "checks": score_baseline(qa, text, chunks)}
    if error:
        row["error"] = error
    return row


def _load_checkpoint(path: Path | None) -> tuple[dict, dict]:
    done: dict[str, dict] = {}
    base: dict[str, dict] = {}
    if path and Path(path).exists():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue  # a line cut by the crash that the checkpoint is for
            (base if item.get("pass") == "baseline" else done)[item["id"]] = item["row"]
    return done, base


def _save(path: Path | None, kind: str, qid: str, row: dict) -> None:
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"pass": kind, "id": qid, "row": row}, ensure_ascii=False) + "\n")


def run_answer_eval(questions: list[QA], chat_engine, baseline: PlainRAG | None = None,
                    progress: Callable[[str], None] | None = None, checkpoint: Path | None = None) -> dict:
    """Ask every question to the product, then (second pass, so that neither pipeline breaks the
    other's cached prompt prefix in the model server) to the baseline; score; summarise.

    ``checkpoint``: a JSONL file where each finished answer is appended; the answers it already
    holds are not asked again (a long run survives a crash of the process, e.g. a native one)."""
    done, base_done = _load_checkpoint(checkpoint)
    if progress and (done or base_done):
        progress(f"reprise : {len(done)} réponse(s) et {len(base_done)} réponse(s) de base déjà faites ({checkpoint})")
    rows = []
    for n, qa in enumerate(questions, start=1):
        if qa.id in done:
            rows.append(done[qa.id])
            continue
        row = _run_product(qa, chat_engine)
        rows.append(row)
        _save(checkpoint, "product", qa.id, row)
        if progress:
            c = row["checks"]
            progress(f"[{n}/{len(questions)}] {qa.id} {qa.kind}/{qa.lang} right={_mark(c['right'])} key={_mark(c['right_key'])} "
                     f"cit={_mark(c['right_citation'])} misgr={_mark(c['misgrounded'])} ttft={row['timings']['ttft_s']} s "
                     f"total={row['timings']['total_s']} s")
    if baseline is not None:
        for n, (qa, row) in enumerate(zip(questions, rows), start=1):
            if qa.id in base_done:
                row["baseline"] = base_done[qa.id]
                continue
            row["baseline"] = _run_baseline(qa, baseline)
            _save(checkpoint, "baseline", qa.id, row["baseline"])
            if progress:
                b = row["baseline"]
                progress(f"[base {n}/{len(questions)}] {qa.id} key={_mark(b['checks']['right_key'])} total={b['timings']['total_s']} s")
    return {"summary": summarise(rows, baseline is not None), "by_kind": _grouped(rows, "kind", baseline is not None),
            "by_lang": _grouped(rows, "lang", baseline is not None), "questions": rows}


def _mark(value) -> str:
    return "-" if value is None else ("✔" if value else "✘")


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 3) if total else None


def summarise(rows: list[dict], with_baseline: bool = False) -> dict:
    inscope = [r for r in rows if r["kind"] != "out_of_scope"]
    oos = [r for r in rows if r["kind"] == "out_of_scope"]
    answered = [r for r in inscope if not r["checks"].get("refused")]
    cited = [r for r in rows if r["checks"].get("cited")]
    timed = [r["timings"] for r in rows if not r.get("not_found") and "error" not in r]
    ttft = [t["ttft_s"] for t in timed]
    total = [t["total_s"] for t in timed]
    count = lambda rs, key: sum(1 for r in rs if r["checks"].get(key))  # noqa: E731
    s = {
        "questions": len(rows), "in_scope": len(inscope), "out_of_scope": len(oos),
        "right": count(inscope, "right"), "accuracy": _rate(count(inscope, "right"), len(inscope)),
        "right_key": count(inscope, "right_key"), "right_key_rate": _rate(count(inscope, "right_key"), len(inscope)),
        "right_citation": count(inscope, "right_citation"), "right_citation_rate": _rate(count(inscope, "right_citation"), len(inscope)),
        "cited_answers": len(cited), "misgrounded": count(cited, "misgrounded"),
        "misgrounded_rate": _rate(count(cited, "misgrounded"), len(cited)),
        "unflagged_wrong_figure": count(rows, "unflagged_wrong_figure"),
        "unflagged_wrong_figure_rate": _rate(count(answered, "unflagged_wrong_figure"), len(answered)),
        "out_of_scope_refused": count(oos, "refused"), "out_of_scope_refused_rate": _rate(count(oos, "refused"), len(oos)),
        "out_of_scope_declined_by_model": count(oos, "declined"),
        "wrongly_refused": count(inscope, "wrongly_refused"), "wrongly_refused_rate": _rate(count(inscope, "wrongly_refused"), len(inscope)),
        "declined_in_scope_by_model": count(inscope, "declined"),
        "partial": count(rows, "partial"), "errors": sum(1 for r in rows if "error" in r),
        "stopped_by_budget": sum(1 for r in rows if r["checks"].get("stopped") == "budget"),
        "stopped_repeating": sum(1 for r in rows if r["checks"].get("stopped") == "repeating"),
        "gold_in_sources": count(inscope, "gold_in_sources"),
        "key_in_quotes": count(inscope, "key_in_quotes"),
        "right_own_words": count(inscope, "right_own_words"), "right_key_own_words": count(inscope, "right_key_own_words"),
        "ttft_s_p50": round(statistics.median(ttft), 2) if ttft else None,
        "ttft_s_p90": round(percentile(ttft, 0.9), 2) if ttft else None,
        "total_s_p50": round(statistics.median(total), 2) if total else None,
        "total_s_max": round(max(total), 2) if total else None,
        "answers_over_60_s": sum(1 for t in total if t > 60),
    }
    if with_baseline:
        base = [r["baseline"] for r in inscope if "baseline" in r]
        base_all = [r["baseline"] for r in rows if "baseline" in r]
        bt = [b["timings"]["ttft_s"] for b in base_all if "error" not in b]
        btot = [b["timings"]["total_s"] for b in base_all if "error" not in b]
        hits = sum(1 for b in base if b["checks"]["right_key"])
        s["baseline"] = {
            "right_key": hits, "right_key_rate": _rate(hits, len(base)),
            "evidence_in_context": sum(1 for b in base if b["checks"]["evidence_in_context"]),
            "out_of_scope_declined": sum(1 for r in oos if r.get("baseline", {}).get("checks", {}).get("declined")),
            "ttft_s_p50": round(statistics.median(bt), 2) if bt else None,
            "ttft_s_p90": round(percentile(bt, 0.9), 2) if bt else None,
            "total_s_p50": round(statistics.median(btot), 2) if btot else None,
            "total_s_max": round(max(btot), 2) if btot else None,
            "errors": sum(1 for b in base_all if "error" in b),
            "stopped_max_tokens": sum(1 for b in base_all if b.get("stopped") == "max_tokens"),
            "stopped_time_cap": sum(1 for b in base_all if b.get("stopped") == "time_cap"),
            "scored": "key only: the plain RAG has no article metadata, its citations are not scored",
        }
    return s


def _grouped(rows: list[dict], field_name: str, with_baseline: bool) -> dict:
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r[field_name], []).append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        inscope = [r for r in rs if r["kind"] != "out_of_scope"]
        oos = [r for r in rs if r["kind"] == "out_of_scope"]
        g = {
            "n": len(rs), "in_scope": len(inscope),
            "right": sum(1 for r in inscope if r["checks"].get("right")),
            "right_key": sum(1 for r in inscope if r["checks"].get("right_key")),
            "right_citation": sum(1 for r in inscope if r["checks"].get("right_citation")),
            "misgrounded": sum(1 for r in rs if r["checks"].get("misgrounded")),
            "wrongly_refused": sum(1 for r in inscope if r["checks"].get("wrongly_refused")),
            "out_of_scope": len(oos), "refused": sum(1 for r in oos if r["checks"].get("refused")),
        }
        if with_baseline:
            g["baseline_right_key"] = sum(1 for r in inscope if r.get("baseline", {}).get("checks", {}).get("right_key"))
        out[name] = g
    return out


def format_table(report: dict) -> str:
    """A compact plain-text table: the figures side by side, then per kind and per language."""
    s = report["summary"]
    b = s.get("baseline")

    def frac(hits, total):
        return f"{hits}/{total} ({hits / total:.0%})" if total else "—"

    def sec(v):
        return "—" if v is None else f"{v:.1f} s"

    lines = [f"{s['questions']} questions ({s['in_scope']} in scope, {s['out_of_scope']} out of scope)", ""]
    rows = [
        ("", "Ittifaq", "plain RAG" if b else ""),
        ("right (key + gold citation)", frac(s["right"], s["in_scope"]), "n/a (no articles)" if b else ""),
        ("right key / figure", frac(s["right_key"], s["in_scope"]), frac(b["right_key"], s["in_scope"]) if b else ""),
        ("right, without the quotes read", frac(s.get("right_own_words", 0), s["in_scope"]), ""),
        ("right key, without the quotes", frac(s.get("right_key_own_words", 0), s["in_scope"]), ""),
        ("right citation (all gold)", frac(s["right_citation"], s["in_scope"]), "n/a" if b else ""),
        ("misgrounded (of cited answers)", frac(s["misgrounded"], s["cited_answers"]), "n/a" if b else ""),
        ("unflagged wrong figure", frac(s["unflagged_wrong_figure"], s["questions"]), "n/a" if b else ""),
        ("out of scope: not found", frac(s["out_of_scope_refused"], s["out_of_scope"]),
         f"{b['out_of_scope_declined']}/{s['out_of_scope']} declined (text)" if b else ""),
        ("in scope wrongly refused", frac(s["wrongly_refused"], s["in_scope"]), ""),
        ("gold passage given / in context", frac(s["gold_in_sources"], s["in_scope"]),
         frac(b["evidence_in_context"], s["in_scope"]) + " evid." if b else ""),
        ("time to first token p50 / p90", f"{sec(s['ttft_s_p50'])} / {sec(s['ttft_s_p90'])}",
         f"{sec(b['ttft_s_p50'])} / {sec(b['ttft_s_p90'])}" if b else ""),
        ("total time p50 / max", f"{sec(s['total_s_p50'])} / {sec(s['total_s_max'])}",
         f"{sec(b['total_s_p50'])} / {sec(b['total_s_max'])}" if b else ""),
        ("answers over 60 s", str(s["answers_over_60_s"]), ""),
        ("stopped: budget / repetition", f"{s['stopped_by_budget']} / {s['stopped_repeating']}",
         f"{b['stopped_max_tokens']} at max tokens / {b['stopped_time_cap']} at time cap" if b else ""),
    ]
    width = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    lines += [f"{r[0]:<{width}}  {r[1]:<{w1}}  {r[2]}".rstrip() for r in rows]
    for title, groups in (("kind", report["by_kind"]), ("lang", report["by_lang"])):
        lines += ["", f"{'by ' + title:<14} {'n':>3}  {'right':>6}  {'key':>6}  {'cit.':>6}  {'base key':>8}  {'oos refused':>11}"]
        for name, g in groups.items():
            base = str(g["baseline_right_key"]) if "baseline_right_key" in g else "—"
            oos = f"{g['refused']}/{g['out_of_scope']}" if g["out_of_scope"] else "—"
            lines.append(f"{name:<14} {g['n']:>3}  {g['right']:>6}  {g['right_key']:>6}  {g['right_citation']:>6}  {base:>8}  {oos:>11}")
    return "\n".join(lines)


def evaluate_answers(engine, questions: list[QA], with_baseline: bool = True, corpus: Path | None = None,
                     progress: Callable[[str], None] | None = None, checkpoint: Path | None = None) -> dict:
    """The whole harness on a built engine whose store holds the corpus: one chat model
    (``engine.chat``, loaded once) for both pipelines."""
    chat_engine = engine.chat_engine()
    engine.index.lexical()  # as the app's warm-up does: not inside the first question's time
    baseline = None
    if with_baseline:
        t = time.perf_counter()
        baseline = PlainRAG.build(corpus_files(corpus), engine.embedder, engine.chat, engine.settings,
                                  cache_dir=engine.settings.store_dir, progress=progress)
        if progress:
            progress(f"base : {len(baseline.chunks)} passages prêts en {time.perf_counter() - t:.1f} s")
    report = run_answer_eval(questions, chat_engine, baseline, progress, checkpoint)
    report["setup"] = {
        "model": getattr(engine.chat, "name", type(engine.chat).__name__), "answer_sources": engine.settings.answer_sources,
        "max_tokens": engine.settings.llm_max_tokens, "threads": engine.settings.llm_threads,
        "baseline": {"chunk_chars": BASELINE_CHUNK_CHARS, "overlap_chars": BASELINE_OVERLAP_CHARS, "k": BASELINE_K,
                     "prompt": BASELINE_SYSTEM_PROMPT, "chunks": len(baseline.chunks) if baseline else 0} if with_baseline else None,
    }
    return report


def cli_answers(qa_path: Path, store: Path | None, as_json: str | None, with_baseline: bool, limit: int | None,
                make_engine: Callable, fail: Callable) -> None:
    """``rag eval --answers``: build (or reuse) the eval store, load the model once, run, print the
    table; ``--json`` alone prints the report on stdout (table on stderr), ``--json OUT`` writes it."""
    import sys

    import typer

    from rag.models import ModelUnavailable
    from rag.settings import load_settings

    try:
        questions = load_qa(qa_path)[:limit] if limit else load_qa(qa_path)
    except ValueError as exc:
        fail(str(exc))
    if not questions:
        fail(f"aucune question dans {qa_path}")
    store = Path(store) if store else default_store(load_settings())
    engine = make_engine(store)

    def say(message: str) -> None:
        typer.echo(message, err=True)

    try:
        t = time.perf_counter()
        state = {"tenth": -1}

        def indexing(fraction: float, message: str) -> None:
            if int(fraction * 10) != state["tenth"]:
                state["tenth"] = int(fraction * 10)
                say(f"indexation {fraction:4.0%} {message}")

        try:
            built = ensure_index(engine, DEFAULT_CORPUS, progress=indexing)
        except FileNotFoundError as exc:
            fail(str(exc))
        say(f"corpus : {built['files']} fichiers, {len(built['indexed'])} indexé(s), {built['skipped']} inchangé(s), "
            f"{built['passages']} passages dans {store} ({time.perf_counter() - t:.1f} s)")
        for failure in built["failed"]:
            say(f"ÉCHEC {failure}")
        try:
            t = time.perf_counter()
            engine.chat  # noqa: B018 - loaded once, here, not inside the first question's time
            say(f"modèle : {getattr(engine.chat, 'name', '?')} chargé en {time.perf_counter() - t:.1f} s")
        except ModelUnavailable as exc:
            fail(str(exc), 3)
        report = evaluate_answers(engine, questions, with_baseline, DEFAULT_CORPUS, progress=say)
    finally:
        engine.close()
    report["setup"].update({"questions_file": str(qa_path), "store": str(store), "limit": limit})
    table = format_table(report)
    if as_json == "-":
        typer.echo(table, err=True)
        sys.stdout.write(json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        return
    if as_json:
        Path(as_json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
        say(f"rapport JSON : {as_json}")
    typer.echo(table)

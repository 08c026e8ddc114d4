"""A question that asks two things, cut into its parts.

« Quel est l'âge minimum d'admission au travail, et à partir de quel âge le travail de nuit est-il
permis ? » needs two articles; searched as one, the passages of the better-matched half fill the
top of the list. The cut is made only where a coordinating word (et, and, و) or a second question
mark starts a new question: an interrogative word follows within a few words. The words of the
question are never matched against legal vocabulary, only against these function words.
"""

from __future__ import annotations

import re

from rag.lexical import tokenize

_FR_WH = r"quel(?:le)?s?|combien|comment|quand|où|pourquoi|lequel|laquelle|lesquel(?:le)?s|qui"
_EN_WH = r"what|which|how|when|who|whom|whose|where|why|whether"
_AR_WH = r"ما|ماذا|كم|هل|متى|أين|كيف|من|أي|لماذا"

# a new question starts: « , et (à partir de) quel… », « and (below) what… », « وما / وكم / وهل … »,
# or a question mark / semicolon followed by more text
_BREAK = re.compile(
    rf"(?:,\s*|\s+)(?:(?:et|and|ainsi que)\s+|ainsi qu['’])(?=(?:[\w'’-]+\s+){{0,3}}?(?:{_FR_WH}|{_EN_WH})\b)"
    rf"|(?:[،,]\s*|\s+)و(?=(?:{_AR_WH})(?:\s|$))"
    r"|(?<=[?؟;؛])\s+(?=\S)",
    re.I,
)
MIN_PART_TERMS = 2  # a part with fewer content words (« et pourquoi ? ») is not a question of its own
# the question's opening clause, when it sets the frame and asks nothing: « Selon l'accord de 2003 sur le
# travail de nuit, … », « If a call centre spreads its yearly hours unevenly, … », « حسب الاتفاقية 154، … »
_LEAD = re.compile(r"^([^,،:?؟;؛]{12,}?)\s*[,،:]\s+(?=\S)")
_WH_ANYWHERE = re.compile(rf"(?<!\w)(?:{_FR_WH}|{_EN_WH}|{_AR_WH})(?!\w)", re.I)


def with_lead(parts: list[str]) -> list[str]:
    """Parts after the first keep the question's opening clause: « … au bout de combien d'heures …
    ainsi qu'à combien de jours d'absence … » is asked of the night-work agreement in both halves."""
    match = _LEAD.match(parts[0]) if parts else None
    if not match or _WH_ANYWHERE.search(match.group(1)):
        return parts
    lead = match.group(0).rstrip()  # with its own comma (« , », « ، ») or colon
    return [parts[0], *[p if match.group(1) in p else f"{lead} {p}" for p in parts[1:]]]


# the question's closing clause, when it names the text every part is asked of: « …, et de quelle durée,
# selon l'accord IDCC 2098 de 2003 ? », « … and what must the employer do under Convention 155? »
_TAIL = re.compile(r"[,،]?\s+((?:selon|d['’]après|conformément\s+à|dans|under|according\s+to|in|حسب|وفق|بموجب|في)\s+[^,،;؛?؟]{4,}?)\s*[?؟.!]?\s*$", re.I)


def _names_a_text(clause: str) -> bool:
    from rag.jurisdiction import named_jurisdictions
    from rag.retrieve import parse_scope

    return bool(named_jurisdictions(clause) or parse_scope(clause).kinds)


def with_tail(parts: list[str]) -> list[str]:
    """Parts before the last keep the question's closing clause when it names a text and they name
    none: « Au bout de combien d'heures … une pause, et de quelle durée, selon l'accord IDCC 2098 de
    2003 ? » asks both halves of the night-work agreement, not the first of the Moroccan code."""
    match = _TAIL.search(parts[-1]) if len(parts) >= 2 else None
    if not match or not _names_a_text(match.group(1)):
        return parts
    tail = match.group(1).strip()

    def framed(part: str) -> str:
        body = part.rstrip(" ?؟.!")
        return f"{body} {tail}{part.rstrip()[len(body):].strip()}"

    return [p if _names_a_text(p) else framed(p) for p in parts[:-1]] + [parts[-1]]


def framed(parts: list[str]) -> list[str]:
    """Each part of a question with the frame the question gives all of them: its opening clause
    (:func:`with_lead`) and its closing clause that names a text (:func:`with_tail`). The search and
    the part-by-part answer both read the parts so."""
    return with_tail(with_lead(parts))


# a question answered by yes or no: an auxiliary first (« Can … », « Does … », « هل », « واش »), or a
# French inversion (« … peut-il … ? », « est-ce que … ») — and no interrogative word anywhere
_POLAR = re.compile(
    r"(?:^|[,;:.?!؟،]\s*)(?:can|could|may|must|does|do|is|are|should|shall|will|would|has|have|did|was|were)\s"
    r"|\best-ce qu|\b\w+-(?:t-)?(?:il|elle|on|ils|elles|je|nous|vous)\b"
    r"|(?:^|[\s.؟،,])(?:هل|أهل|واش|وهل)(?=\s)",
    re.I,
)
_AR_WH_WORDS = "|".join(w for w in _AR_WH.split("|") if w != "هل")  # « هل » asks yes or no
_ANY_WH = re.compile(rf"(?<!\w)(?:{_FR_WH}|quoi|{_EN_WH}|{_AR_WH_WORDS}|شحال|شنو|شنا|فين|علاش|كيفاش|شكون|آش|اش)(?!\w)"
                     r"|(?:^|[,;:.?!]\s*)(?:que|qu['’])(?!\w)|\bqu['’]est-ce", re.I)


def asks_yes_or_no(question: str) -> bool:
    """Whether a question is answered by yes or no (« L'inspecteur peut-il entrer sans prévenir ? »,
    « Can a government require prior permission? », « هل يجب أن تكون الاتفاقية مكتوبة؟ »)."""
    text = question.strip()
    return bool(_POLAR.search(text)) and not _ANY_WH.search(text)


def split_question(question: str) -> list[str]:
    """The parts of a question that asks several things, or [] when it asks one."""
    parts = [p.strip(" ,;؛،") for p in _BREAK.split(question.strip())]
    parts = [p for p in parts if p]
    if len(parts) < 2 or any(len(tokenize(p)) < MIN_PART_TERMS for p in parts):
        return []
    return parts


def question_parts(question: str) -> list[str]:
    """The parts of a question that each ask something of their own, or [] (for answering part by
    part): a part that only names articles (« … ? art. 184 ») belongs to the part before it."""
    from rag.retrieve import without_article_refs

    parts: list[str] = []
    for part in split_question(question):
        if parts and len(tokenize(without_article_refs(part))) < MIN_PART_TERMS:
            parts[-1] = f"{parts[-1]} {part}"
        else:
            parts.append(part)
    return framed(parts) if len(parts) >= 2 else []

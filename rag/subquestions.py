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
    return parts if len(parts) >= 2 else []

"""Passages that repeat another text's wording: final clauses of treaties, standard agreement articles.

The ILO conventions end with the same articles (ratification, denunciation, the Director-General's
notifications); the IDCC texts repeat their scope and revision clauses. Such a passage states no rule
of its own text, yet its common words let it rank for many questions. A passage is boilerplate when
most of its word 3-grams (stemmed, stop words dropped) occur in one passage of another source.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from rag.lexical import tokenize

SHINGLE = 3
CONTAINMENT = 0.8  # share of a passage's 3-grams found in one passage of another source
COMMON_SHINGLE = 50  # a 3-gram in more passages than this is an idiom, not evidence of copying


def _body(text: str) -> str:
    """A stored passage without its first line (the heading path, which texts of one kind share)."""
    return text.split("\n", 1)[1] if "\n" in text else text


def shingles(text: str) -> set[tuple[str, ...]]:
    tokens = tokenize(_body(text))
    return {tuple(tokens[i:i + SHINGLE]) for i in range(len(tokens) - SHINGLE + 1)}


def repeated_passages(texts: list[str], sources: list[str]) -> set[int]:
    """Rows of ``texts`` whose wording is mostly that of one passage from another source."""
    sets = [shingles(t) for t in texts]
    where: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for row, grams in enumerate(sets):
        for gram in grams:
            where[gram].append(row)
    repeated = set()
    for row, grams in enumerate(sets):
        if not grams:
            continue
        shared = Counter(other for gram in grams if len(where[gram]) <= COMMON_SHINGLE
                         for other in where[gram] if sources[other] != sources[row])
        if shared and shared.most_common(1)[0][1] / len(grams) >= CONTAINMENT:
            repeated.add(row)
    return repeated

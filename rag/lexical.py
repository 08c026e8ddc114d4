"""Lexical side of hybrid search: French/English/Arabic normalisation and an in-process BM25.

Local Chroma has no sparse search, so BM25 (bm25s) runs here over the chunk texts. It is rebuilt
from the store's own contents, so it can never disagree with what is committed there.
"""

from __future__ import annotations

import logging
import re
import unicodedata

import numpy as np

_AR_DIACRITICS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
_AR_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TOKEN = re.compile(r"[^\W_]+", re.U)

STOPWORDS = set(
    """
    le la les l de des du d un une et ou à au aux en dans par pour sur avec sans que qui quoi dont ce
    cet cette ces est sont être a ont il elle ils elles on se sa son ses leur leurs ne pas plus y
    quel quelle quels quelles comment combien est-ce qu s c
    the a an of to in on for and or is are be by with what which how many much does do can at as
    it its this that from
    في من على الى إلى عن ما هل كم هو هي التي الذي ان أن او أو و
    """.split()
)


def normalise(text: str) -> str:
    """Lower-case, accents removed, Arabic diacritics and letter variants unified, digits ASCII."""
    text = text.translate(_DIGITS)
    text = _AR_DIACRITICS.sub("", text)
    text = text.translate(_AR_LETTERS)
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch) or "\u0600" <= ch <= "\u06FF")


def _stem(token: str) -> str:
    if token.isdigit():
        return token
    if "\u0600" <= token[0] <= "\u06FF":
        for prefix in ("وال", "بال", "كال", "فال", "لل", "ال"):
            if token.startswith(prefix) and len(token) - len(prefix) >= 3:
                token = token[len(prefix):]
                break
        for suffix in ("ات", "ون", "ين", "ها", "ه"):
            if token.endswith(suffix) and len(token) - len(suffix) >= 3:
                return token[: -len(suffix)]
        return token
    for suffix in ("ements", "ement", "ations", "ation", "aux", "es", "s", "x", "e"):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)] + ("al" if suffix == "aux" else "")
    return token


def tokenize(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(normalise(text)) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())]


class LexicalIndex:
    """BM25 over a fixed list of chunk ids/texts; :meth:`search` returns (row, score) best first."""

    def __init__(self, ids: list[str], texts: list[str]):
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it turns itself up to DEBUG on import
        self.ids = ids
        self._retriever = None
        if ids:
            self._retriever = bm25s.BM25()
            corpus_tokens = [tokenize(t) or ["∅"] for t in texts]
            self._retriever.index(corpus_tokens, show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        if self._retriever is None:
            return []
        tokens = [t for t in tokenize(query) if t in self._retriever.vocab_dict]
        if not tokens:
            return []
        scores = self._retriever.get_scores(tokens)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]


class Glossary:
    """Trilingual legal vocabulary (corpus/glossary.yaml): a question in everyday words, or in
    another language than the text, is expanded with the legal terms BM25 can match."""

    def __init__(self, concepts: list[dict]):
        self.concepts = []
        self.french: dict[str, str] = {}  # concept id -> the term of the official French text
        for concept in concepts:
            terms = [t for lang in ("fr", "ar", "en") for t in concept.get(lang) or []]
            patterns = [tuple(tokenize(t)) for t in terms]
            legal = [] if concept.get("generic") else [t for lang in ("fr", "ar", "en") for t in (concept.get(lang) or [])[:2]]
            self.concepts.append((concept.get("id", ""), [p for p in patterns if p], legal))
            if legal and concept.get("fr"):
                self.french[concept.get("id", "")] = concept["fr"][0]

    @classmethod
    def load(cls, path) -> "Glossary":
        import yaml
        from pathlib import Path

        path = Path(path) if path else None
        if path is None or not path.exists():
            return cls([])
        return cls((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("concepts") or [])

    def matches(self, query: str) -> list[str]:
        tokens = tokenize(query)
        present = set(tokens)
        found = []
        for concept_id, patterns, _ in self.concepts:
            for pattern in patterns:
                if len(pattern) == 1 and pattern[0] in present or len(pattern) > 1 and _contains(tokens, pattern):
                    found.append(concept_id)
                    break
        return found

    def french_terms(self, query: str) -> list[str]:
        """The official French term of each specific concept a question names (any language)."""
        return [self.french[c] for c in self.matches(query) if c in self.french]

    def expand(self, query: str) -> str:
        ids = set(self.matches(query))
        extra = [term for concept_id, _, legal in self.concepts if concept_id in ids for term in legal]
        return query if not extra else query + " " + " ".join(extra)


def _contains(tokens: list[str], pattern: tuple[str, ...]) -> bool:
    n = len(pattern)
    return any(tuple(tokens[i:i + n]) == pattern for i in range(len(tokens) - n + 1))

"""Questions people ask, written per article: a search aid from a worker's words to the law's.

``corpus/glosses/*.jsonl`` holds, for each article of the official texts the project knows, a topic
in legal French and the questions a worker, an employer or a negotiator would ask whose answer is in
that article (French, Arabic — Darija and standard —, English). They were written from the texts
alone, never from a question set (``corpus/glosses/README.md``).

The retriever searches them beside the passages (:meth:`GlossIndex.dense`, :meth:`GlossIndex.lexical`): a question close to
the questions written for an article is a vote for that article. They are search aids only: never
shown, quoted or cited, and they vote only for an article whose text is indexed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.structure import normalise_article_label

log = logging.getLogger(__name__)

GLOSS_LANGS = ("fr", "ar", "en")
CACHE_FORMAT = "2"


@dataclass(frozen=True)
class ArticleGloss:
    source: str  # the file whose article it is (for a text in several languages, any of them)
    article: str  # article key (rag.structure.normalise_article_label)
    topic: str
    questions: tuple[str, ...]

    @property
    def entries(self) -> list[str]:
        """What is searched: the topic and each question."""
        return [self.topic, *self.questions] if self.topic else list(self.questions)


def read_glosses(folder: Path | None) -> tuple[list[ArticleGloss], list[str]]:
    """The glosses of every ``*.jsonl`` file of the folder, and a line per problem (a line that is not
    a JSON object with source, article and questions is skipped, never fatal)."""
    glosses: list[ArticleGloss] = []
    problems: list[str] = []
    if folder is None or not Path(folder).is_dir():
        return glosses, problems
    for path in sorted(Path(folder).glob("*.jsonl")):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path.name}: unreadable ({type(exc).__name__}: {exc})")
            continue
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                source, article = str(row["source"]).strip(), normalise_article_label(str(row["article"]))
                questions = tuple(str(q).strip() for lang in GLOSS_LANGS for q in row.get(lang, []) if str(q).strip())
                topic = str(row.get("topic", "")).strip()
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                problems.append(f"{path.name}:{number}: {type(exc).__name__}: {exc}")
                continue
            if source and article and (topic or questions):
                glosses.append(ArticleGloss(source, article, topic, questions))
            else:
                problems.append(f"{path.name}:{number}: no source, article or question")
    return glosses, problems


def _embed_questions(embedder, texts: list[str], batch: int = 64) -> np.ndarray:
    """Vectors of short questions, embedded as queries (question against question is symmetric)."""
    many = getattr(embedder, "embed_queries", None)
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch):
        part = texts[start:start + batch]
        vectors.extend(many(part) if many else [embedder.embed_query(t) for t in part])
    matrix = np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


class GlossIndex:
    """The glosses' entries, embedded as queries, and one BM25 document per article.

    Built once per content (the files, the embedder, the tokeniser) and saved under
    ``<cache_dir>/glosses/<digest>/``: a `rag search` command loads it in a few milliseconds instead
    of reading, embedding and tokenising thousands of questions. :meth:`dense` and :meth:`lexical`
    rank articles, each by its best entry."""

    def __init__(self, articles: list[tuple[str, str]], owners: np.ndarray, vectors: np.ndarray, lexical):
        self.articles = articles  # (source, article key) per gloss
        self._owners = owners  # entry row → gloss
        self.vectors = vectors  # one L2-normalised row per entry
        self._lexical = lexical  # rag.lexical.LexicalIndex, one document per gloss

    def __len__(self) -> int:
        return len(self.articles)

    @classmethod
    def build(cls, glosses: list[ArticleGloss], embedder) -> "GlossIndex":
        from rag.lexical import LexicalIndex

        entries, owners = [], []
        for n, gloss in enumerate(glosses):
            entries.extend(gloss.entries)
            owners.extend([n] * len(gloss.entries))
        vectors = _embed_questions(embedder, entries) if entries else np.zeros((0, 1), dtype=np.float32)
        lexical = LexicalIndex([str(n) for n in range(len(glosses))], [" ".join(g.entries) for g in glosses])
        return cls([(g.source, g.article) for g in glosses], np.asarray(owners, dtype=np.int64), vectors, lexical)

    def save(self, folder: Path) -> None:
        """Write into ``folder`` (which the caller renames into place)."""
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "vectors.npy", self.vectors, allow_pickle=False)
        np.save(folder / "owners.npy", self._owners, allow_pickle=False)
        (folder / "articles.json").write_text(json.dumps(self.articles, ensure_ascii=False), encoding="utf-8")
        self._lexical.save(folder / "bm25")

    @classmethod
    def load(cls, folder: Path) -> "GlossIndex":
        from rag.lexical import LexicalIndex

        articles = [tuple(row) for row in json.loads((folder / "articles.json").read_text(encoding="utf-8"))]
        owners = np.load(folder / "owners.npy", allow_pickle=False)
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
        if vectors.shape[0] != owners.shape[0] or (owners.size and int(owners.max()) >= len(articles)):
            raise ValueError("saved gloss files do not match each other")
        return cls(articles, owners, vectors, LexicalIndex.load(folder / "bm25", [str(n) for n in range(len(articles))]))

    def dense(self, query_vector, n: int) -> list[tuple[str, str]]:
        """Articles whose closest entry is closest to the question, best first."""
        if not len(self.articles) or not self.vectors.shape[0]:
            return []
        query = np.asarray(query_vector, dtype=np.float32)
        query = query / (np.linalg.norm(query) or 1.0)
        best = np.full(len(self.articles), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._owners, self.vectors @ query)
        order = np.argsort(-best)[:n]
        return [self.articles[i] for i in order if np.isfinite(best[i])]

    def lexical(self, query: str, n: int) -> list[tuple[str, str]]:
        return [self.articles[row] for row, _ in self._lexical.search(query, n)]


def _digest(files: list[Path], embedder) -> str:
    from rag.lexical import _code_version

    digest = hashlib.sha256(f"{CACHE_FORMAT}|{type(embedder).__module__}.{type(embedder).__qualname__}|{_code_version()}|".encode())
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\x00" + path.read_bytes() + b"\x00")
    return digest.hexdigest()[:24]


def load_gloss_index(folder: Path | None, embedder, cache_dir: Path | None) -> GlossIndex | None:
    """The gloss index of the folder (saved one when its content is unchanged), or None when the
    folder holds no gloss. A damaged or unwritable cache is rebuilt or skipped, never an error."""
    if folder is None or not Path(folder).is_dir():
        return None
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        return None
    # one folder per embedder class: the test suite's embedder must not evict the app's vectors
    embedder_name = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{type(embedder).__module__}.{type(embedder).__qualname__}")
    saved = Path(cache_dir) / "glosses" / embedder_name / _digest(files, embedder) if cache_dir else None
    if saved is not None and saved.is_dir():
        try:
            return GlossIndex.load(saved)
        except Exception as exc:  # noqa: BLE001 - any damage: build again
            log.warning("saved gloss index %s unusable (%s: %s): building it again", saved, type(exc).__name__, exc)
    glosses, problems = read_glosses(folder)
    for problem in problems[:20]:
        log.warning("gloss skipped: %s", problem)
    if not glosses:
        return None
    index = GlossIndex.build(glosses, embedder)
    if saved is not None:
        partial = saved.with_name(f"{saved.name}.{os.getpid()}.partial")
        try:
            shutil.rmtree(partial, ignore_errors=True)
            index.save(partial)
            shutil.rmtree(saved, ignore_errors=True)
            partial.rename(saved)
            for other in saved.parent.iterdir():  # this embedder's vectors of earlier contents
                if other != saved and not other.name.endswith(".partial"):
                    shutil.rmtree(other, ignore_errors=True)
        except OSError as exc:
            log.warning("gloss index not saved in %s: %s", saved.parent, exc)
            shutil.rmtree(partial, ignore_errors=True)
    return index

"""Lexical side of hybrid search: French/English/Arabic normalisation and an in-process BM25.

Local Chroma has no sparse search, so BM25 (bm25s) runs here over the chunk texts. It is built
from the store's own contents, so it can never disagree with what is committed there.

Saved index
-----------
Building BM25 means reading and tokenising every chunk (a third of a second for the French code,
~20 s for 50,000 passages), so the built index is also saved next to the store, in
``<store_dir>/lexical/<fingerprint>/``, and loaded back by the next process when its fingerprint
is that of the store it opens. The fingerprint (:func:`fingerprint`) hashes the whole manifest
(every document's sha256, status, chunk count and indexing time: every index/remove changes it),
the collection it belongs to, and this module's own code (a tokeniser change invalidates it).

- Written atomically: the files go to a temp folder that is renamed into place once complete, with
  ``meta.json`` listing the size and sha256 of every file. A folder whose files do not match it
  (truncated, overwritten, half-copied) is ignored and rebuilt, never used and never an error.
- Never required: a store whose folder cannot be written (read-only disk) just builds in memory.
- Embedded stores only. With a Chroma server (``RAG_CHROMA_URL``) nothing is saved: the store
  folder must stay untouched there, and other processes change the corpus at any time, so a
  process rebuilds after each change anyway. (The fingerprint would cover it: it is taken from the
  manifest snapshot the process holds, which the build filters the rows with; what is missing is
  a folder of its own, e.g. in ``cache_dir`` keyed by server and collection.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

LEXICAL_DIR = "lexical"  # beside manifest.json in the store folder
SAVE_FORMAT = 2  # 2: rows.json holds the boilerplate chunk ids
_META = "meta.json"
_ROWS = "rows.json"

_AR_DIACRITICS = re.compile(r"[\u064B-\u0652\u0670\u0640]")
_AR_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_TOKEN = re.compile(r"[^\W_]+", re.U)

# Stop words: this short list (articles, prepositions, question words, in the three languages)
# did better than the lists bm25s ships and those of the stop-words package on the tune questions
# (BENCHMARKS.md, issue 16): longer lists drop words questions rely on (« work », « years »).
_STOPWORDS = """
    le la les l de des du d un une et ou à au aux en dans par pour sur avec sans que qui quoi dont ce
    cet cette ces est sont être a ont il elle ils elles on se sa son ses leur leurs ne pas plus y
    quel quelle quels quelles comment combien qu s c
    the a an of to in on for and or is are be by with what which how many much does do can at as
    it its this that from
    في من على الى إلى عن ما هل كم هو هي التي الذي ان أن او أو و
"""


def _fold(token: str) -> str:
    """Accents removed (Latin), letter variants unified (Arabic): what the index stores."""
    token = token.translate(_AR_LETTERS)
    token = unicodedata.normalize("NFKD", token)
    return "".join(ch for ch in token if not unicodedata.combining(ch) or "\u0600" <= ch <= "\u06FF")


STOPWORDS = frozenset(_fold(w) for w in _STOPWORDS.split())


def normalise(text: str) -> str:
    """Lower-case, accents removed, Arabic diacritics and letter variants unified, digits ASCII."""
    return _fold(_AR_DIACRITICS.sub("", text.translate(_DIGITS)).lower())


_THREAD = threading.local()  # a PyStemmer Stemmer must not be shared between threads


def _stemmers():
    stemmers = getattr(_THREAD, "stemmers", None)
    if stemmers is None:
        import Stemmer  # PyStemmer: the Snowball stemmers

        stemmers = _THREAD.stemmers = (Stemmer.Stemmer("french"), Stemmer.Stemmer("arabic"))
    return stemmers


def _stem(token: str) -> str:
    """Snowball: Arabic for Arabic script, French for Latin script whatever the text's language, so
    that a word is stemmed the same way in a question and in every document."""
    if token.isdigit():
        return token
    french, arabic = _stemmers()
    return (arabic if "\u0600" <= token[0] <= "\u06FF" else french).stemWord(token)


def tokenize(text: str) -> list[str]:
    """Words of ``text`` as BM25 terms: stop words dropped, Snowball stems, folded (see :func:`normalise`).
    Stemming reads the accented word (Snowball's rules need « é »); folding comes after it."""
    text = _AR_DIACRITICS.sub("", text.translate(_DIGITS)).lower()
    tokens = []
    for word in _TOKEN.findall(text):
        folded = _fold(word)
        if folded in STOPWORDS or (len(folded) < 2 and not folded.isdigit()):
            continue
        tokens.append(_fold(_stem(word)))
    return tokens


def _bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it turns itself up to DEBUG on import
    return bm25s


class LexicalIndex:
    """BM25 over a fixed list of chunk ids/texts; :meth:`search` returns (row, score) best first."""

    def __init__(self, ids: list[str], texts: list[str], sources: list[str] | None = None):
        from rag.boilerplate import repeated_passages

        self.ids = ids
        self._retriever = None
        # chunk ids of passages that repeat another source's wording (rag.boilerplate)
        self.boilerplate: frozenset[str] = frozenset(ids[row] for row in repeated_passages(texts, sources)) if sources else frozenset()
        if ids:
            self._retriever = _bm25s().BM25()
            corpus_tokens = [tokenize(t) or ["∅"] for t in texts]
            self._retriever.index(corpus_tokens, show_progress=False)

    def __len__(self) -> int:
        return len(self.ids)

    def knows(self, word: str) -> bool:
        """Whether the word (after normalising and stemming) occurs anywhere in the indexed texts."""
        tokens = tokenize(word)
        return bool(tokens) and self._retriever is not None and all(t in self._retriever.vocab_dict for t in tokens)

    def save(self, folder: Path) -> None:
        """The BM25 arrays and vocabulary (bm25s' own files); nothing for an empty index."""
        if self._retriever is not None:
            self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path, ids: list[str]) -> "LexicalIndex":
        """The index :meth:`save` wrote for these ``ids`` (the caller has checked the files)."""
        index = cls.__new__(cls)
        index.ids = ids
        index._retriever = None
        index.boilerplate = frozenset()
        if ids:
            retriever = _bm25s().BM25.load(str(folder), mmap=False, show_progress=False)
            if int(retriever.scores["num_docs"]) != len(ids):
                raise ValueError(f"saved BM25 has {retriever.scores['num_docs']} documents, expected {len(ids)}")
            index._retriever = retriever
        return index

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


# ---- the saved index ---------------------------------------------------------------------------
_CODE_VERSION: str | None = None


def _code_version() -> str:
    """This module's source, bm25s' and the stemmers' versions: a change to the tokeniser must not
    load old files."""
    global _CODE_VERSION
    if _CODE_VERSION is None:
        try:
            source = Path(__file__).read_bytes()
        except OSError:
            source = b""
        import Stemmer

        versions = f"{getattr(_bm25s(), '__version__', '?')}|{Stemmer.version()}"  # not importlib.metadata: 80 ms
        _CODE_VERSION = hashlib.sha256(source + b"\0" + versions.encode()).hexdigest()
    return _CODE_VERSION


def fingerprint(records: Iterable, scope: str = "") -> str:
    """What a saved index must have been built from: every manifest record (all its fields, so any
    index/remove, or a document left ``indexing``, changes it), the store/collection ``scope``
    and the code. ``records`` are :class:`rag.store.DocumentRecord` (or anything with ``__dict__``)."""
    rows = sorted((dict(vars(r)) for r in records), key=lambda d: str(d.get("source", "")))
    blob = json.dumps({"format": SAVE_FORMAT, "code": _code_version(), "scope": scope, "records": rows},
                      ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def saved_root(settings) -> Path | None:
    """Where the index of this store is saved: ``<store_dir>/lexical``; None with a Chroma server."""
    return None if settings.chroma_url else Path(settings.store_dir) / LEXICAL_DIR


def scope(settings) -> str:
    return f"{settings.chroma_url or 'embedded'}|{settings.collection}"


def _sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _folder_for(root: Path, stamp: str) -> Path:
    return Path(root) / stamp[:32]


def load_saved(root: Path, stamp: str) -> tuple[LexicalIndex, list[dict], list[str]] | None:
    """The index saved under ``root`` for this fingerprint, or None when there is none or its
    files are not exactly those it was saved with (then it is rebuilt: never an error)."""
    folder = _folder_for(root, stamp)
    meta_path = folder / _META
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("format") != SAVE_FORMAT or meta.get("fingerprint") != stamp:
            raise ValueError("written for another store state")
        files = meta["files"]
        for name, (size, digest) in files.items():
            path = folder / name
            if os.path.basename(name) != name or path.stat().st_size != size or _sha256_file(path) != digest:
                raise ValueError(f"{name} differs from what was saved")
        rows = json.loads((folder / _ROWS).read_text(encoding="utf-8"))
        ids, metas, texts = rows["ids"], rows["metas"], rows["texts"]
        if not (len(ids) == len(metas) == len(texts) == meta.get("rows")):
            raise ValueError("row counts differ")
        index = LexicalIndex.load(folder, ids)
        index.boilerplate = frozenset(rows.get("boilerplate", []))
        return index, metas, texts
    except Exception as exc:  # any damage: rebuild
        log.warning("saved lexical index %s unusable (%s: %s): rebuilding it", folder, type(exc).__name__, exc)
        return None


def save(root: Path, stamp: str, index: LexicalIndex, metas: list[dict], texts: list[str]) -> bool:
    """Write the index under ``root/<fingerprint>/`` atomically (temp folder, fsync, rename) and
    remove the other saved states. Failures (read-only or full disk) are logged, never raised."""
    root = Path(root)
    tmp: Path | None = None
    try:
        root.mkdir(parents=True, exist_ok=True)
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
        index.save(tmp)
        (tmp / _ROWS).write_text(
            json.dumps({"ids": list(index.ids), "metas": list(metas), "texts": list(texts),
                        "boilerplate": sorted(index.boilerplate)}, ensure_ascii=False), encoding="utf-8"
        )
        files = {}
        for path in sorted(tmp.iterdir()):
            _fsync(path)
            files[path.name] = [path.stat().st_size, _sha256_file(path)]
        meta = {"format": SAVE_FORMAT, "fingerprint": stamp, "rows": len(index.ids), "files": files, "saved_at": time.time()}
        (tmp / _META).write_text(json.dumps(meta, indent=1), encoding="utf-8")
        _fsync(tmp / _META)
        _fsync(tmp)
        target = _folder_for(root, stamp)
        if target.exists():  # unusable (load_saved said so), or just written by another process
            shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)
        tmp = None
        _fsync(root)
        _prune(root, keep=target.name)
        return True
    except Exception as exc:
        log.warning("lexical index not saved in %s (%s: %s): it will be rebuilt at the next start", root, type(exc).__name__, exc)
        return False
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune(root: Path, keep: str) -> None:
    """Saved states of other fingerprints go; a temp folder only when old (another process may be writing it)."""
    for child in root.iterdir():
        if child.name == keep:
            continue
        try:
            if child.name.startswith(".tmp-") and time.time() - child.stat().st_mtime < 3600:
                continue
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        except OSError:
            pass


def load_or_build(
    root: Path | None, stamp: str, read_rows: Callable[[], tuple[list[str], list[dict], list[str]]]
) -> tuple[LexicalIndex, list[dict], list[str]]:
    """The saved index for ``stamp`` if it is intact, else one built from ``read_rows()`` (ids,
    metadatas, texts of the live chunks) and saved. ``root`` None: build only, save nothing."""
    if root is not None:
        saved = load_saved(root, stamp)
        if saved is not None:
            return saved
    ids, metas, texts = read_rows()
    index = LexicalIndex(ids, texts, [m.get("source", "") for m in metas])
    if root is not None:
        save(root, stamp, index, metas, texts)
    return index, metas, texts


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
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster than the Python parser
        return cls((yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}).get("concepts") or [])

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

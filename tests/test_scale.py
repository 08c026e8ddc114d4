"""A large store (TESTPLAN L3, found by benchmarks/bench_load.py): beyond 32,766 passages.

Chroma binds one SQL variable per row in an unfiltered ``collection.get(include=[...])``; past
SQLite's limit of 32,766 it fails with "too many SQL variables". ``Index`` reads the whole
collection at opening (repair) and for the BM25 build, in pages (``rag.store.read_all``), so such
a store reopens and answers. The rows are written straight into the collection here (the real chunk
metadata, deterministic vectors) to reach the size in seconds rather than minutes of indexing.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from rag.index import Index
from rag.retrieve import Retriever
from rag.store import DocumentRecord
from tests.conftest import HashEmbeddings

PASSAGES = 33_000


@pytest.mark.slow
def test_store_beyond_sqlite_variable_limit_reopens_and_searches(settings):
    index = Index(settings, HashEmbeddings())
    sha = "f" * 64
    rng = np.random.default_rng(0)
    try:
        for start in range(0, PASSAGES, 5000):
            ids = range(start, min(PASSAGES, start + 5000))
            vectors = rng.normal(size=(len(ids), HashEmbeddings.dim))
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            index.collection.add(
                ids=[f"grand.md:{n}" for n in ids], embeddings=vectors.tolist(),
                documents=[f"Article {n}\nLa prime de nuit de l'article {n} est versée chaque mois." for n in ids],
                metadatas=[{"source": "grand.md", "title": "Grand accord", "kind": "agreement", "lang": "fr", "article": str(n),
                            "article_key": f"grand:{n}", "heading": f"Article {n}", "page": -1, "pages": "", "piece": 0,
                            "pieces": 1, "sha256": sha} for n in ids],
            )
        index.manifest.put(DocumentRecord("grand.md", sha, "Grand accord", "agreement", "fr", "md", chunks=PASSAGES,
                                          articles=PASSAGES, indexed_at=time.time()))
    finally:
        index.close()
    index = Index(settings, HashEmbeddings())
    try:
        assert index.count() == PASSAGES
        hits = Retriever(index, HashEmbeddings(), settings).search("prime de nuit versée chaque mois", k=5)
        assert [h.source for h in hits] == ["grand.md"] * 5
    finally:
        index.close()

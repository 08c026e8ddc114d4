"""Crash safety: kill -9 at random points of indexing, 20 times; the store must always reopen
with the manifest matching what is stored, the interrupted file marked and re-indexable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from rag.index import Index
from rag.retrieve import Retriever
from rag.settings import PROJECT_ROOT, Settings
from tests.conftest import HashEmbeddings

CHILD = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from pathlib import Path
    from rag.index import Index
    from rag.settings import Settings
    from tests.conftest import HashEmbeddings

    class SlowEmbeddings(HashEmbeddings):
        def embed_documents(self, texts):
            time.sleep(0.05)  # widen the embed phase so kills land in it too
            return super().embed_documents(texts)

    import rag.index as rag_index
    plain_metadata = rag_index.chunk_metadata
    seen = set()

    def slow_metadata(chunk):
        # runs inside the write phase (document marked "indexing", old passages deleted): say when
        # it starts, and widen it, so that the parent can aim some kills at it
        if chunk.source not in seen:
            seen.add(chunk.source)
            print("writing", flush=True)
        time.sleep(0.005)
        return plain_metadata(chunk)

    rag_index.chunk_metadata = slow_metadata
    settings = Settings(store_dir=Path({store!r}), corpus_dirs=[], embed_batch=4, _env_file=None)
    index = Index(settings, SlowEmbeddings())
    print("ready", flush=True)
    index.index_paths(sorted(Path({docs!r}).glob("*.md")), isolated=False, force=True)
    print("done", flush=True)
    """
)


def _make_docs(folder, n_docs=6, n_articles=40):
    folder.mkdir()
    for d in range(n_docs):
        body = "\n".join(f"### Article {a}\nDisposition {a} du texte {d} sur le temps de travail et les congés." for a in range(1, n_articles + 1))
        (folder / f"texte_{d}.md").write_text(f"# Texte {d}\n{body}\n", encoding="utf-8")


def _consistent(index: Index) -> None:
    data = index.collection.get(include=["metadatas"])
    stored: dict[tuple[str, str], int] = {}
    for meta in data["metadatas"]:
        key = (meta["source"], meta["sha256"])
        stored[key] = stored.get(key, 0) + 1
    for record in index.documents():
        if record.status == "committed":
            assert stored.get((record.source, record.sha256)) == record.chunks, record


def test_kill_minus_9_during_indexing_20_times(tmp_path):
    docs = tmp_path / "docs"
    _make_docs(docs)
    store = tmp_path / "store"
    rng = random.Random(1234)
    interrupted_seen = 0
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    for run in range(20):
        proc = subprocess.Popen([sys.executable, "-c", CHILD.format(root=str(PROJECT_ROOT), store=str(store), docs=str(docs))],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        if run % 2:
            time.sleep(rng.uniform(0.0, 2.0))  # anywhere: embed or write phase, any document
        else:
            # aimed: during the write phase of the first, second or third document
            for _ in range(1 + run % 3):
                assert proc.stdout.readline().strip() == "writing", proc.stderr.read()
            time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        settings = Settings(store_dir=store, corpus_dirs=[], _env_file=None)
        index = Index(settings, HashEmbeddings())  # must open, and fast (no stale lock)
        try:
            _consistent(index)
            interrupted_seen += len(index.interrupted())
            # an interrupted document is never served half-written
            broken = {r.source for r in index.interrupted()}
            hits = Retriever(index, HashEmbeddings(), settings).search("Disposition temps de travail congés", k=20)
            assert not broken & {h.source for h in hits}
        finally:
            index.close()
    # finally, a clean run repairs everything
    index = Index(Settings(store_dir=store, corpus_dirs=[], _env_file=None), HashEmbeddings())
    try:
        results = index.index_paths(sorted(docs.glob("*.md")), isolated=False)
        assert all(r.status in {"indexed", "skipped"} for r in results)
        assert index.interrupted() == []
        _consistent(index)
        assert len(index.documents()) == 6
        assert index.count() == sum(r.chunks for r in index.documents())
    finally:
        index.close()
    assert interrupted_seen >= 5  # the aimed kills did land in the middle of a document's write

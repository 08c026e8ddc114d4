"""The saved BM25 index and the verified-store stamp: what makes `rag search` fast as a command.

Real store on tmp_path (Chroma, manifest, files); only the embedder is the deterministic one.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rag import lexical
from rag import index as index_module
from rag.engine import build_engine
from rag.index import Index, StoreError
from rag.lexical import LEXICAL_DIR, LexicalIndex
from rag.settings import PROJECT_ROOT, Settings
from rag.store import VERIFIED_STAMP_NAME, DocumentRecord, read_all, is_live
from tests.conftest import CODE_FR, HashEmbeddings, need_shared

LAW = """# Loi test
## Titre I : Durée
### Article 1
La durée normale du travail est de 44 heures par semaine.
### Article 2
Les heures supplémentaires sont majorées de 25 % le jour et de 50 % la nuit.
### Article 3
Le repos hebdomadaire est de vingt-quatre heures consécutives.
"""
PRESS = "---\nkind: press\nlang: fr\n---\n# Presse\nLes heures supplémentaires des téléconseillers font débat.\n"
QUERIES = ["heures supplémentaires", "durée normale du travail", "repos hebdomadaire", "téléconseillers", "art. 2", "rien à voir"]


@pytest.fixture
def builds(monkeypatch):
    """How many times BM25 was built from the store's rows (a load does not count)."""
    count = {"n": 0}
    real = LexicalIndex.__init__

    def counting(self, ids, texts, sources=None):
        count["n"] += 1
        real(self, ids, texts, sources)

    monkeypatch.setattr(LexicalIndex, "__init__", counting)
    return count


@pytest.fixture
def probes(monkeypatch):
    """How many times the store was probed in a child interpreter at opening."""
    count = {"n": 0}
    real = index_module.probe_embedded

    def counting(settings):
        count["n"] += 1
        real(settings)

    monkeypatch.setattr(index_module, "probe_embedded", counting)
    return count


def _docs(tmp_path: Path) -> list[Path]:
    law = tmp_path / "loi_test.md"
    law.write_text(LAW, encoding="utf-8")
    press = tmp_path / "presse.md"
    press.write_text(PRESS, encoding="utf-8")
    return [law, press]


def _hits(engine, query: str) -> list[dict]:
    return [h.to_json() for h in engine.retriever.search(query, k=5)]


def _search_all(settings: Settings) -> list[list[dict]]:
    engine = build_engine(settings, embedder=HashEmbeddings())
    try:
        return [_hits(engine, q) for q in QUERIES]
    finally:
        engine.close()


def _saved(settings: Settings) -> list[Path]:
    root = settings.store_dir / LEXICAL_DIR
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


@pytest.fixture
def indexed(settings, tmp_path):
    """A store with two committed documents, closed (nothing searched yet)."""
    engine = build_engine(settings, embedder=HashEmbeddings())
    results = engine.index.index_paths(_docs(tmp_path), isolated=False)
    assert [r.status for r in results] == ["indexed", "indexed"]
    engine.close()
    return settings


# ---- the saved BM25 index -------------------------------------------------------------------------
def test_saved_index_is_reused_by_the_next_process(indexed, builds):
    first = _search_all(indexed)
    assert builds["n"] == 1 and len(_saved(indexed)) == 1
    assert any(first), "the queries find nothing"
    again = _search_all(indexed)
    assert builds["n"] == 1, "a reopened store with an unchanged manifest must load the saved BM25, not rebuild it"
    assert again == first


def test_reindex_and_remove_invalidate_the_saved_index(indexed, builds, tmp_path):
    _search_all(indexed)
    old = _saved(indexed)
    assert builds["n"] == 1 and len(old) == 1

    engine = build_engine(indexed, embedder=HashEmbeddings())
    (tmp_path / "loi_test.md").write_text(LAW.replace("44 heures", "40 heures"), encoding="utf-8")
    assert engine.index.index_paths([tmp_path / "loi_test.md"], isolated=False)[0].status == "indexed"
    engine.close()
    engine = build_engine(indexed, embedder=HashEmbeddings())
    try:
        texts = [h["text"] for h in _hits(engine, "durée normale du travail heures par semaine")]
        assert any("40 heures" in t for t in texts) and not any("44 heures" in t for t in texts)
        assert builds["n"] == 2, "re-indexing a document must invalidate the saved index"
        assert _saved(indexed) != old and len(_saved(indexed)) == 1, "the stale saved state is removed"
        assert engine.index.remove("presse.md")
        assert "presse.md" not in {h["source"] for h in _hits(engine, "téléconseillers heures supplémentaires")}
        assert builds["n"] == 3  # same process: rebuilt after the change
    finally:
        engine.close()
    reopened = _search_all(indexed)
    assert builds["n"] == 3, "the state after the removal was saved and is reused"
    assert all(h["source"] != "presse.md" for hits in reopened for h in hits)


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "scores_truncated": lambda d: _truncate(d / "data.csc.index.npy"),
    "indices_bit_flipped": lambda d: _flip(d / "indices.csc.index.npy"),
    "rows_truncated": lambda d: _truncate(d / "rows.json"),
    "vocab_garbage": lambda d: (d / "vocab.index.json").write_text("{pas du json", encoding="utf-8"),
    "meta_missing": lambda d: (d / "meta.json").unlink(),
    "meta_not_json": lambda d: (d / "meta.json").write_text("\x00\x01", encoding="utf-8"),
    "file_missing": lambda d: (d / "indptr.csc.index.npy").unlink(),
    "folder_emptied": lambda d: [p.unlink() for p in d.iterdir()],
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_saved_index_is_rebuilt_without_error(indexed, builds, damage):
    first = _search_all(indexed)
    (folder,) = _saved(indexed)
    DAMAGE[damage](folder)
    assert _search_all(indexed) == first
    assert builds["n"] == 2, "a damaged saved index is never used"
    assert _search_all(indexed) == first and builds["n"] == 2, "the rebuilt index was saved again, intact"


def test_unwritable_lexical_folder_only_costs_a_rebuild(indexed, builds):
    (indexed.store_dir / LEXICAL_DIR).write_text("un fichier, pas un dossier", encoding="utf-8")
    first = _search_all(indexed)
    assert any(first) and _search_all(indexed) == first and builds["n"] == 2


def test_fingerprint_changes_with_every_manifest_change():
    a = DocumentRecord(source="a.md", sha256="1", title="A", kind="law", lang="fr", format="md", chunks=3, indexed_at=1.0)
    b = DocumentRecord(source="b.md", sha256="2", title="B", kind="law", lang="fr", format="md", chunks=2, indexed_at=2.0)
    base = lexical.fingerprint([a, b], "embedded|ittifaq")
    assert lexical.fingerprint([b, a], "embedded|ittifaq") == base
    variants = [
        [DocumentRecord(**{**vars(a), "sha256": "9"}), b],
        [DocumentRecord(**{**vars(a), "status": "indexing"}), b],
        [DocumentRecord(**{**vars(a), "chunks": 4}), b],
        [DocumentRecord(**{**vars(a), "indexed_at": 3.0}), b],
        [a],
        [],
    ]
    assert len({lexical.fingerprint(v, "embedded|ittifaq") for v in variants} | {base}) == len(variants) + 1
    assert lexical.fingerprint([a, b], "http://chroma:8000|ittifaq") != base


def test_nothing_is_saved_in_server_mode(settings):
    """The store folder stays untouched with a Chroma server (other processes change the corpus)."""
    assert lexical.saved_root(settings) == settings.store_dir / LEXICAL_DIR
    server = settings.model_copy(update={"chroma_url": "http://127.0.0.1:8000"})
    assert lexical.saved_root(server) is None
    index, metas, texts = lexical.load_or_build(None, "x", lambda: (["a"], [{"source": "s"}], ["heures supplémentaires"]))
    assert [row for row, _ in index.search("heures", 5)] == [0] and metas == [{"source": "s"}]
    assert not settings.store_dir.exists()


@pytest.fixture(scope="module")
def code_store(tmp_path_factory):
    """The French Labour Code indexed once (real PDF), closed."""
    need_shared(CODE_FR)
    root = tmp_path_factory.mktemp("code")
    settings = Settings(store_dir=root / "store", data_dir=root / "users", corpus_dirs=[], cache_dir=PROJECT_ROOT / ".cache", _env_file=None)
    engine = build_engine(settings, embedder=HashEmbeddings())
    assert engine.index.index_paths([CODE_FR])[0].status == "indexed"
    engine.close()
    return settings


def test_loaded_index_is_identical_to_a_fresh_build(code_store):
    """Same rows (ids, metadata, text) as the store holds, same BM25 scores as an index built now."""
    from rag.retrieve import Filters

    _search_all(code_store)  # builds and saves
    index = Index(code_store, HashEmbeddings())
    try:
        records = index.manifest.records
        saved = lexical.load_saved(code_store.store_dir / LEXICAL_DIR, lexical.fingerprint(records.values(), f"embedded|{code_store.collection}"))
        assert saved is not None
        loaded, metas, texts = saved
        data = read_all(index.collection, ["documents", "metadatas"])
        rows = [(c, m, d) for c, m, d in zip(data["ids"], data["metadatas"], data["documents"]) if is_live(records, m)]
        assert loaded.ids == [r[0] for r in rows] and metas == [r[1] for r in rows] and texts == [r[2] for r in rows]
        fresh = LexicalIndex([r[0] for r in rows], [r[2] for r in rows])
        queries = ["durée normale du travail 2288 heures par année", "heures supplémentaires majoration nuit", "congé annuel payé",
                   "licenciement faute grave indemnité", "délégués des salariés", "المادة 350 الأجر", "zzz inconnu"]
        pages = [isinstance(m.get("page"), int) and m["page"] % 2 == 0 for m in metas]
        import numpy as np

        for query in queries:
            assert loaded.search(query, 60) == fresh.search(query, 60), query
            assert loaded.search(query, 60, np.array(pages)) == fresh.search(query, 60, np.array(pages)), query
        assert any(loaded.search(q, 60) for q in queries)
    finally:
        index.close()
    engine = build_engine(code_store, embedder=HashEmbeddings())
    try:
        hits = engine.retriever.search("art. 184", k=3)
        assert hits and hits[0].article == "184"
        assert engine.retriever.search("heures supplémentaires", k=5, filters=Filters(kinds=["press"])) == []
    finally:
        engine.close()


# ---- the verified stamp: no probe child, no repair scan, while the files are as left ------------
def test_clean_session_lets_the_next_open_skip_the_probe(indexed, probes, monkeypatch):
    assert not (indexed.store_dir / VERIFIED_STAMP_NAME).exists(), "an indexing session leaves no stamp"
    first = _search_all(indexed)
    assert probes["n"] == 1 and (indexed.store_dir / VERIFIED_STAMP_NAME).exists()
    repairs = {"n": 0}
    real_repair = Index.repair

    def counting(self):
        repairs["n"] += 1
        return real_repair(self)

    monkeypatch.setattr(Index, "repair", counting)
    assert _search_all(indexed) == first
    assert _search_all(indexed) == first
    assert probes["n"] == 1 and repairs["n"] == 0


def test_a_write_or_a_change_of_the_files_brings_the_probe_back(indexed, probes, tmp_path):
    _search_all(indexed)
    assert probes["n"] == 1
    engine = build_engine(indexed, embedder=HashEmbeddings())  # stamped: no probe
    assert engine.index.remove("presse.md")
    engine.close()
    assert probes["n"] == 1 and not (indexed.store_dir / VERIFIED_STAMP_NAME).exists()
    _search_all(indexed)
    assert probes["n"] == 2, "after a write the next open probes again"
    _search_all(indexed)
    assert probes["n"] == 2
    manifest = indexed.store_dir / "manifest.json"
    manifest.write_text(manifest.read_text(encoding="utf-8"), encoding="utf-8")  # same bytes, new write
    _search_all(indexed)
    assert probes["n"] == 3, "any write to the store's files, even of the same bytes, brings the probe back"
    copy = indexed.model_copy(update={"store_dir": tmp_path / "copy"})
    shutil.copytree(indexed.store_dir, copy.store_dir)
    assert _search_all(copy)
    assert probes["n"] == 4, "a copied store (new files) is probed"


def test_orphans_removed_at_opening_leave_no_stamp(indexed, probes):
    index = Index(indexed, HashEmbeddings())
    index.collection.upsert(ids=["orphan"], embeddings=[[0.5] * 384], documents=["reste d'une écriture interrompue"],
                            metadatas=[{"source": "x.md", "sha256": "?"}])
    index._verified = None  # as a crash would: no stamp from this session
    index.close()
    index = Index(indexed, HashEmbeddings())
    assert "orphan" not in index.collection.get(include=[])["ids"]
    index.close()
    assert not (indexed.store_dir / VERIFIED_STAMP_NAME).exists(), "the repair wrote: the next open probes"


OPEN_AND_SEARCH = """
import json, sys
from rag.settings import Settings
from rag.index import Index, StoreError
from rag.retrieve import Retriever
from tests.conftest import HashEmbeddings
settings = Settings(store_dir=sys.argv[1], corpus_dirs=[], _env_file=None)
try:
    index = Index(settings, HashEmbeddings())
except StoreError as exc:
    print(json.dumps({"error": str(exc)}))
else:
    hits = Retriever(index, HashEmbeddings(), settings).search("heures supplémentaires", k=3)
    index.close()
    print(json.dumps({"hits": len(hits)}))
"""


def _child(store: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", OPEN_AND_SEARCH, str(store)], capture_output=True, text=True, timeout=180, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, f"the opening crashed (exit {proc.returncode}): {proc.stderr[-1500:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("damage", ["database_truncated", "database_emptied"])
def test_store_damaged_after_a_clean_session_is_still_detected(indexed, damage):
    assert _child(indexed.store_dir)["hits"] and _child(indexed.store_dir)["hits"]
    assert (indexed.store_dir / VERIFIED_STAMP_NAME).exists()
    database = indexed.store_dir / "chroma" / "chroma.sqlite3"
    _truncate(database) if damage == "database_truncated" else database.write_bytes(b"")
    facts = _child(indexed.store_dir)
    assert "rag rebuild" in facts.get("error", ""), facts


def test_probe_failure_is_reported_even_with_an_old_stamp(indexed, monkeypatch):
    """A stamp that no longer matches is no reason to trust the files: the probe's verdict stands."""
    _search_all(indexed)
    database = indexed.store_dir / "chroma" / "chroma.sqlite3"
    database.write_bytes(database.read_bytes())  # same bytes, new write: the stamp no longer matches

    def failing(settings):
        raise StoreError("Le corpus indexé est endommagé : `rag rebuild`.")

    monkeypatch.setattr(index_module, "probe_embedded", failing)
    with pytest.raises(StoreError, match="rag rebuild"):
        Index(indexed, HashEmbeddings())

"""The store: incremental indexing, replacement, removal, manifest, lock, crash marks (real Chroma)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from rag.index import Index, StoreLockedError
from rag.retrieve import Filters
from tests.conftest import HashEmbeddings

LAW = """# Loi test
## Titre I : Durée
### Article 1
La durée normale du travail est de 44 heures par semaine.
### Article 2
Les heures supplémentaires sont majorées de 25 %.
"""


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_index_skip_unchanged_replace_changed_and_remove(engine, tmp_path):
    path = _write(tmp_path, "loi_test.md", LAW)
    first = engine.index.index_paths([path], isolated=False)
    assert [r.status for r in first] == ["indexed"]
    count = engine.index.count()
    assert count >= 2
    ids_before = set(engine.index.collection.get(include=[])["ids"])

    again = engine.index.index_paths([path], isolated=False)
    assert [r.status for r in again] == ["skipped"]
    assert set(engine.index.collection.get(include=[])["ids"]) == ids_before

    path.write_text(LAW.replace("44 heures", "40 heures") + "### Article 3\nNouvel article sur le repos.\n", encoding="utf-8")
    changed = engine.index.index_paths([path], isolated=False)
    assert changed[0].status == "indexed"
    texts = engine.index.collection.get(include=["documents"])["documents"]
    assert any("40 heures" in t for t in texts) and not any("44 heures" in t for t in texts)
    assert engine.index.count() == count + 1

    record = engine.index.manifest.records["loi_test.md"]
    assert record.status == "committed" and record.chunks == engine.index.count() and record.articles == 3

    assert engine.index.remove("loi_test.md")
    assert engine.index.count() == 0 and engine.index.documents() == []
    assert not engine.index.remove("loi_test.md")


def test_same_document_twice_gives_no_duplicates(engine, tmp_path):
    a = _write(tmp_path, "loi_test.md", LAW)
    engine.index.index_paths([a], isolated=False)
    count = engine.index.count()
    engine.index.index_paths([a], isolated=False, force=True)
    assert engine.index.count() == count


def test_batch_with_a_bad_file_indexes_the_others(engine, tmp_path):
    files = []
    for n in range(10):
        if n == 6:
            files.append(_write(tmp_path, "f06.pdf", "pas un pdf"))
        else:
            files.append(_write(tmp_path, f"f{n:02d}.md", f"# Texte {n}\n### Article 1\nContenu numéro {n} du texte.\n"))
    results = engine.index.index_paths(files)
    assert [r.status for r in results].count("indexed") == 9
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 1 and failed[0].source == "f06.pdf" and "PDF" in failed[0].message
    assert len(engine.index.documents()) == 9


def test_manifest_survives_reopen_and_matches_store(settings, tmp_path):
    path = _write(tmp_path, "loi_test.md", LAW)
    index = Index(settings, HashEmbeddings())
    index.index_paths([path], isolated=False)
    index.close()
    reopened = Index(settings, HashEmbeddings())
    try:
        manifest = json.loads((settings.store_dir / "manifest.json").read_text())
        assert manifest["documents"]["loi_test.md"]["chunks"] == reopened.count()
        assert reopened.index_paths([path], isolated=False)[0].status == "skipped"
    finally:
        reopened.close()


def test_interrupted_document_is_not_searchable_and_is_reindexed(engine, tmp_path):
    path = _write(tmp_path, "loi_test.md", LAW)
    engine.index.index_paths([path], isolated=False)
    # simulate a crash between "indexing" and "committed"
    engine.index.manifest.records["loi_test.md"].status = "indexing"
    engine.index.manifest.save()
    engine.index._changed()
    assert [d.source for d in engine.index.interrupted()] == ["loi_test.md"]
    assert engine.retriever.search("heures supplémentaires") == []
    assert engine.index.index_paths([path], isolated=False)[0].status == "indexed"
    assert engine.retriever.search("heures supplémentaires")


def test_second_process_on_same_store_fails_at_once(settings):
    index = Index(settings, HashEmbeddings())
    try:
        code = (
            "import sys\nfrom rag.settings import Settings\nfrom rag.index import Index, StoreLockedError\n"
            f"s = Settings(store_dir=r'{settings.store_dir}', _env_file=None)\n"
            "try:\n    Index(s, None)\nexcept StoreLockedError as e:\n    print('LOCKED', e); sys.exit(3)\n"
        )
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 3, proc.stderr
        assert "déjà ouvert" in proc.stdout
        assert time.monotonic() - start < 30
    finally:
        index.close()
    with pytest.raises(StoreLockedError):
        a = Index(settings, HashEmbeddings())
        try:
            Index(settings, HashEmbeddings())
        finally:
            a.close()


def test_filters_by_kind_lang_source(engine, tmp_path):
    law = _write(tmp_path, "loi_test.md", "---\nkind: law\nlang: fr\n---\n" + LAW)
    press = _write(tmp_path, "presse.md", "---\nkind: press\nlang: fr\n---\n# Presse\nLes heures supplémentaires des téléconseillers.\n")
    engine.index.index_paths([law, press], isolated=False)
    assert {h.kind for h in engine.retriever.search("heures supplémentaires", k=10)} == {"law", "press"}
    assert {h.kind for h in engine.retriever.search("heures supplémentaires", k=10, filters=Filters(kinds=["press"]))} == {"press"}
    assert {h.source for h in engine.retriever.search("heures supplémentaires", k=10, filters=Filters(sources=["loi_test.md"]))} == {"loi_test.md"}
    assert engine.retriever.search("heures supplémentaires", k=10, filters=Filters(langs=["ar"])) == []


def test_dense_search_walks_wide_enough_to_give_every_process_the_same_candidates(settings):
    """Chroma's default HNSW walk (ef_search 100) for 60 candidates gave different lists to different
    processes on one store. A new collection is made with the wider walk; one made before is widened
    when the store is opened."""
    from rag.store import HNSW_EF_SEARCH, make_client, open_collection

    client = make_client(settings)
    made_before = client.get_or_create_collection(settings.collection, configuration={"hnsw": {"space": "cosine"}},
                                                  embedding_function=None)
    assert made_before.configuration_json["hnsw"]["ef_search"] == 100 < HNSW_EF_SEARCH
    assert open_collection(client, settings).configuration_json["hnsw"]["ef_search"] == HNSW_EF_SEARCH
    reopened = make_client(settings).get_collection(settings.collection)
    assert reopened.configuration_json["hnsw"] == {**made_before.configuration_json["hnsw"], "ef_search": HNSW_EF_SEARCH}
    fresh = open_collection(client, settings, name="another")
    assert fresh.configuration_json["hnsw"]["ef_search"] == HNSW_EF_SEARCH
    assert fresh.configuration_json["hnsw"]["space"] == "cosine"

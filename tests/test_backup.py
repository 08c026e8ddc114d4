"""`rag backup` / `rag restore` / `rag rebuild` on the embedded store (real Chroma, real archives)."""

from __future__ import annotations

import json
import shutil
import tarfile

import pytest

from rag import cli
from rag.backup import BackupError, create_backup, read_backup, restore_backup
from rag.index import Index, StoreError
from tests.conftest import HashEmbeddings

LAW = "# Loi test\n## Titre I : Durée\n### Article 184\nLa durée normale est de 44 heures par semaine.\n### Article 201\nMajoration de 50 % la nuit.\n"
PRESS = "---\nkind: press\n---\n# Presse\nLes téléconseillers réclament une prime de panier pour le travail de nuit.\n"


def _texts(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "loi_test.md").write_text(LAW, encoding="utf-8")
    (docs / "presse.md").write_text(PRESS, encoding="utf-8")
    return docs


def _search(runner, query: str) -> list[dict]:
    result = runner.invoke(cli.app, ["search", "--json", query])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_backup_delete_restore_search_and_counts(runner, tmp_path, no_network):
    store = tmp_path / "store"
    assert runner.invoke(cli.app, ["index", str(_texts(tmp_path))]).exit_code == 0
    before = _search(runner, "art. 184")
    listed = json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)

    archive = tmp_path / "backups" / "corpus.tar.gz"
    result = runner.invoke(cli.app, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert "2 textes" in result.output and archive.is_file()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        info = json.loads(tar.extractfile("backup.json").read())
    assert names[0] == "backup.json" and "store/manifest.json" in names and "store/store.lock" not in names
    assert info["kind"] == "folder" and info["documents"] == 2 and info["chunks"] == sum(d["chunks"] for d in listed)
    assert not list(archive.parent.glob("*.part"))

    assert runner.invoke(cli.app, ["backup", str(archive)]).exit_code == 3  # never overwrites a backup

    shutil.rmtree(store)
    restored = runner.invoke(cli.app, ["restore", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert f"{info['chunks']} passages" in restored.output
    assert json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout) == listed
    after = _search(runner, "art. 184")
    assert [h["chunk_id"] for h in after] == [h["chunk_id"] for h in before] and after[0]["article"] == "184"
    assert _search(runner, "prime de panier")[0]["source"] == "presse.md"
    # the restored store is a normal store: unchanged files are recognised
    assert "0 indexé(s), 2 inchangé(s)" in runner.invoke(cli.app, ["index", str(tmp_path / "docs")]).output


def test_restore_refuses_a_non_empty_store_unless_forced_and_keeps_the_old_one(runner, tmp_path):
    docs = _texts(tmp_path)
    runner.invoke(cli.app, ["index", str(docs / "loi_test.md")])
    archive = tmp_path / "one.tar.gz"
    assert runner.invoke(cli.app, ["backup", str(archive)]).exit_code == 0
    runner.invoke(cli.app, ["index", str(docs / "presse.md")])

    refused = runner.invoke(cli.app, ["restore", str(archive)])
    assert refused.exit_code == 3 and "--force" in refused.output
    assert len(json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)) == 2

    forced = runner.invoke(cli.app, ["restore", "--force", str(archive)])
    assert forced.exit_code == 0, forced.output
    assert [d["source"] for d in json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)] == ["loi_test.md"]
    kept = list(tmp_path.glob("store.before-restore-*"))
    assert len(kept) == 1 and json.loads((kept[0] / "manifest.json").read_text())["documents"].keys() == {"loi_test.md", "presse.md"}


@pytest.mark.parametrize("damage", ["truncated", "flipped", "not_gzip", "foreign_tar"])
def test_damaged_archive_is_refused_and_the_store_is_untouched(runner, tmp_path, damage):
    docs = _texts(tmp_path)
    runner.invoke(cli.app, ["index", str(docs)])
    good = tmp_path / "good.tar.gz"
    assert runner.invoke(cli.app, ["backup", str(good)]).exit_code == 0
    data = good.read_bytes()
    bad = tmp_path / "bad.tar.gz"
    if damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        middle = bytearray(data)
        for i in range(len(data) // 3, len(data) // 3 + 64):
            middle[i] ^= 0xFF
        bad.write_bytes(bytes(middle))
    elif damage == "not_gzip":
        bad.write_bytes(b"<html>pas une archive</html>")
    else:
        with tarfile.open(bad, "w:gz") as tar:
            tar.add(docs / "loi_test.md", arcname="loi_test.md")
    snapshot = {p.relative_to(tmp_path / "store"): p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}

    result = runner.invoke(cli.app, ["restore", "--force", str(bad)])
    assert result.exit_code == 3
    assert "Traceback" not in result.output
    assert any(word in result.output for word in ("endommagée", "tronquée", "n'est pas une sauvegarde", "rien n'a été modifié"))
    after = {p.relative_to(tmp_path / "store"): p.read_bytes() for p in (tmp_path / "store").rglob("*") if p.is_file()}
    assert after.keys() == snapshot.keys() and all(after[k] == snapshot[k] for k in snapshot if k.name != "store.lock")
    assert not list(tmp_path.glob("store.before-restore-*")) and not list(tmp_path.glob(".store.restore-*"))
    assert _search(runner, "art. 184")[0]["article"] == "184"


def test_archive_with_a_changed_file_fails_its_checksum(settings, tmp_path):
    index = Index(settings, HashEmbeddings())
    (tmp_path / "loi_test.md").write_text(LAW, encoding="utf-8")
    index.index_paths([tmp_path / "loi_test.md"], isolated=False)
    index.close()
    archive, _ = create_backup(settings, tmp_path / "b.tar.gz")
    # rewrite the archive with a different manifest but the original backup.json
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(forged, "w:gz") as dst:
        for member in src.getmembers():
            payload = src.extractfile(member).read() if member.isfile() else None
            if member.name == "store/manifest.json":
                payload = payload.replace(b"Loi test", b"Loi FAUSSE")
                member.size = len(payload)
            dst.addfile(member, None if payload is None else __import__("io").BytesIO(payload))
    with pytest.raises(BackupError, match="sha256|taille"):
        read_backup(forged, tmp_path / "check")


def test_backup_waits_for_no_writer(settings, tmp_path):
    index = Index(settings, HashEmbeddings())
    try:
        (tmp_path / "loi_test.md").write_text(LAW, encoding="utf-8")
        index.index_paths([tmp_path / "loi_test.md"], isolated=False)
        with pytest.raises(StoreError, match="déjà ouvert"):
            create_backup(settings, tmp_path / "b.tar.gz")
        assert not (tmp_path / "b.tar.gz").exists()
    finally:
        index.close()


def test_restore_export_archive_into_embedded_store(settings, tmp_path):
    """The server's archive kind ("export") restores into an embedded folder too."""
    index = Index(settings, HashEmbeddings())
    (tmp_path / "loi_test.md").write_text(LAW, encoding="utf-8")
    index.index_paths([tmp_path / "loi_test.md"], isolated=False)
    rows = index.collection.get(include=["embeddings", "documents", "metadatas"])
    record = index.manifest.records["loi_test.md"]
    index.close()
    export = tmp_path / "exp" / "export"
    export.mkdir(parents=True)
    from rag.backup import BackupInfo, _write_archive
    from rag.store import manifest_json

    (export / "manifest.json").write_text(manifest_json([record]), encoding="utf-8")
    with open(export / "chunks.jsonl", "w", encoding="utf-8") as out:
        for cid, vec, doc, meta in zip(rows["ids"], rows["embeddings"], rows["documents"], rows["metadatas"]):
            out.write(json.dumps({"id": cid, "embedding": [float(x) for x in vec], "document": doc, "metadata": meta}) + "\n")
    archive = tmp_path / "export.tar.gz"
    _write_archive(archive, export, "export", BackupInfo("export", settings.collection, 1, len(rows["ids"])))

    target = settings.model_copy(update={"store_dir": tmp_path / "other"})
    report = restore_backup(target, archive)
    assert report.info.chunks == len(rows["ids"])
    restored = Index(target, HashEmbeddings())
    try:
        assert restored.count() == len(rows["ids"]) and restored.manifest.records["loi_test.md"].sha256 == record.sha256
    finally:
        restored.close()


def test_rebuild_after_a_corrupted_database(runner, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "loi_test.md").write_text(LAW, encoding="utf-8")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "presse.md").write_text(PRESS, encoding="utf-8")
    (uploads / "disparu.md").write_text("# Disparu\nUn texte dont le fichier sera effacé.\n", encoding="utf-8")
    monkeypatch.setenv("RAG_CORPUS_DIRS", json.dumps([str(corpus)]))
    assert runner.invoke(cli.app, ["index", str(corpus), str(uploads)]).exit_code == 0
    (uploads / "disparu.md").unlink()

    store = tmp_path / "store"
    database = store / "chroma" / "chroma.sqlite3"
    data = bytearray(database.read_bytes())
    for i in range(4096, len(data), 7):
        data[i] = 0x5A
    database.write_bytes(bytes(data))
    broken = runner.invoke(cli.app, ["search", "art. 184"])
    assert broken.exit_code == 3 and "rag rebuild" in broken.output

    result = runner.invoke(cli.app, ["rebuild"])
    assert result.exit_code == 1, result.output  # one recorded file could not be found
    assert "MANQUANT  disparu.md" in result.output and "2 texte(s) ré-indexé(s)" in result.output
    aside = list(tmp_path.glob("store.damaged-*"))
    assert len(aside) == 1 and (aside[0] / "chroma" / "chroma.sqlite3").read_bytes() == bytes(data)  # kept as it was
    assert _search(runner, "art. 184")[0]["article"] == "184"
    assert _search(runner, "prime de panier")[0]["source"] == "presse.md"
    assert {d["source"] for d in json.loads(runner.invoke(cli.app, ["list", "--json"]).stdout)} == {"loi_test.md", "presse.md"}


def test_rebuild_with_an_unreadable_manifest_reindexes_the_corpus_folders(runner, tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "loi_test.md").write_text(LAW, encoding="utf-8")
    monkeypatch.setenv("RAG_CORPUS_DIRS", json.dumps([str(corpus)]))
    runner.invoke(cli.app, ["index", str(corpus)])
    (tmp_path / "store" / "manifest.json").write_text("{pas du json", encoding="utf-8")
    result = runner.invoke(cli.app, ["rebuild"])
    assert result.exit_code == 0, result.output
    assert "Manifeste illisible" in result.output and "1 texte(s) ré-indexé(s)" in result.output
    assert _search(runner, "art. 201")[0]["article"] == "201"

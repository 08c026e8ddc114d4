"""Backup and restore of the indexed corpus: one ``.tar.gz``, the same format for both store modes.

Archive layout::

    backup.json              first member: format, kind, counts, size and sha256 of every file
    store/manifest.json      kind "folder": a copy of the embedded store folder, taken under the
    store/chroma/...         store lock (no writer can run meanwhile)
    export/manifest.json     kind "export": the committed documents, read through the client
    export/chunks.jsonl      (server mode): one chunk per line — id, embedding, text, metadata

Either kind restores into either mode, so ``rag backup`` on a laptop and ``rag restore`` with
``RAG_CHROMA_URL`` set moves a corpus onto a server (and back).

Safety rules: the archive is written to a temp file and renamed (never half a backup); a restore
reads and checks the *whole* archive (member names, sizes, sha256, counts, SQLite integrity)
before touching the target, builds the new store beside the old one and swaps it in; a store that
is replaced (``--force``) is moved aside, never deleted.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import os
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from rag.atomic import open_atomic
from rag.settings import Settings
from rag.store import (
    LOCK_NAME,
    MANIFEST_NAME,
    DocumentRecord,
    FileManifest,
    StoreError,
    StoreLock,
    is_live,
    read_all,
    make_client,
    manifest_collection_name,
    manifest_json,
    open_collection,
    open_manifest,
    set_aside_name,
)

log = logging.getLogger(__name__)

FORMAT = "ittifaq-backup"
VERSION = 1
INFO_NAME = "backup.json"
BATCH = 256
READ_CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup or restore cannot be done; the message (French) says why and what is untouched."""


@dataclass
class BackupInfo:
    kind: str  # folder | export
    collection: str
    documents: int
    chunks: int
    created_at: str = ""
    source: str = ""  # the store folder or server URL it was taken from
    files: dict[str, dict] = field(default_factory=dict)  # name -> {"size": int, "sha256": str}
    format: str = FORMAT
    version: int = VERSION


@dataclass
class RestoreReport:
    info: BackupInfo
    target: str
    set_aside: list[str] = field(default_factory=list)  # what the replaced store became


# ---- backup ----------------------------------------------------------------------------------
def create_backup(settings: Settings, dest: Path) -> tuple[Path, BackupInfo]:
    """Write a backup of the store to ``dest`` (a file, or a folder to put a dated file in)."""
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"ittifaq-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
    if dest.exists():
        raise BackupError(f"{dest} existe déjà : choisissez un autre nom (une sauvegarde n'en écrase jamais une autre).")
    if settings.chroma_url:
        with tempfile.TemporaryDirectory(prefix=".ittifaq-backup-") as work:
            root, info = _export_server(settings, Path(work))
            return dest, _write_archive(dest, root, "export", info)
    store = settings.store_dir
    if not (store / "chroma").is_dir():
        raise BackupError(f"Aucun corpus indexé dans {store} : rien à sauvegarder.")
    with StoreLock(store):  # no writer from the count to the last byte copied
        return dest, _write_archive(dest, store, "store", _count_folder(settings))


def _count_folder(settings: Settings) -> BackupInfo:
    """What the embedded store holds (the caller holds its lock)."""
    store = settings.store_dir
    manifest = FileManifest(store / MANIFEST_NAME)
    client = make_client(settings)
    try:
        chunks = open_collection(client, settings).count()
    except Exception as exc:
        raise BackupError(f"Le corpus de {store} est illisible ({type(exc).__name__}) : `rag rebuild` avant de le sauvegarder.") from exc
    finally:
        client.close()  # nothing of this process stays open on the files being copied
    return BackupInfo(kind="folder", collection=settings.collection, documents=len(manifest.records), chunks=chunks, source=str(store))


def _export_server(settings: Settings, work: Path) -> tuple[Path, BackupInfo]:
    """Committed documents and their live chunks, read through the client; retried when another
    process commits meanwhile (the generation marker changed), so the export is one state."""
    client = make_client(settings)
    collection = open_collection(client, settings)
    manifest = open_manifest(client, settings)
    for _attempt in range(5):
        before = manifest.generation()
        manifest.reload()
        records = {s: r for s, r in manifest.records.items() if r.status == "committed"}
        data = read_all(collection, ["metadatas"])
        live = [cid for cid, meta in zip(data["ids"], data["metadatas"]) if is_live(records, meta)]
        root = work / "export"
        root.mkdir(parents=True, exist_ok=True)
        with open(root / "chunks.jsonl", "w", encoding="utf-8") as out:
            for start in range(0, len(live), BATCH):
                rows = collection.get(ids=live[start:start + BATCH], include=["embeddings", "documents", "metadatas"])
                for cid, vector, text, meta in zip(rows["ids"], rows["embeddings"], rows["documents"], rows["metadatas"]):
                    out.write(json.dumps({"id": cid, "embedding": [float(x) for x in vector], "document": text, "metadata": meta}, ensure_ascii=False) + "\n")
        # writers mark a document before touching its chunks, so an unchanged marker means one state
        if manifest.generation() == before:
            (root / MANIFEST_NAME).write_text(manifest_json(records.values()), encoding="utf-8")
            info = BackupInfo(kind="export", collection=settings.collection, documents=len(records), chunks=len(live), source=settings.chroma_url or "")
            return root, info
        time.sleep(0.5)
    raise BackupError("Le corpus du serveur a changé pendant toute la sauvegarde (indexation en cours ?) : réessayez plus tard.")


def _write_archive(dest: Path, root: Path, prefix: str, info: BackupInfo) -> BackupInfo:
    """backup.json first (with the sha256 of every file), then the files; temp file + rename."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != LOCK_NAME)
    for path in files:
        with open(path, "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
        info.files[f"{prefix}/{path.relative_to(root).as_posix()}"] = {"size": path.stat().st_size, "sha256": digest}
    info.created_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    payload = json.dumps(asdict(info), ensure_ascii=False, indent=1).encode("utf-8")
    with open_atomic(dest) as handle:
        with tarfile.open(fileobj=handle, mode="w:gz") as tar:
            head = tarfile.TarInfo(INFO_NAME)
            head.size, head.mtime, head.mode = len(payload), int(time.time()), 0o644
            tar.addfile(head, io.BytesIO(payload))
            for path in files:
                tar.add(path, arcname=f"{prefix}/{path.relative_to(root).as_posix()}", recursive=False)
    return info


# ---- reading and checking an archive -----------------------------------------------------------
def read_backup(archive: Path, into: Path) -> BackupInfo:
    """Extract ``archive`` into ``into`` and check everything; raises BackupError on any doubt."""
    archive = Path(archive)
    if not archive.is_file():
        raise BackupError(f"{archive} : archive introuvable.")
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            info = _read_info(tar, archive)
            prefix = "store" if info.kind == "folder" else "export"
            seen: set[str] = set()
            for member in iter(tar.next, None):
                name = _safe_name(member.name, prefix, archive)
                if member.isdir():
                    (into / name).mkdir(parents=True, exist_ok=True)
                    continue
                expected = info.files.get(name)
                if not member.isfile() or expected is None or name in seen:
                    raise BackupError(f"{archive} : élément inattendu {member.name!r} : archive refusée.")
                if member.size != expected["size"]:
                    raise BackupError(f"{archive} : {name} n'a pas la taille annoncée : archive endommagée.")
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                source = tar.extractfile(member)
                with open(target, "wb") as out:
                    for block in iter(lambda: source.read(READ_CHUNK), b""):
                        digest.update(block)
                        out.write(block)
                if digest.hexdigest() != expected["sha256"]:
                    raise BackupError(f"{archive} : {name} ne correspond pas à son empreinte sha256 : archive endommagée.")
                seen.add(name)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise BackupError(f"{archive} : archive tronquée ou endommagée ({type(exc).__name__}) : rien n'a été modifié.") from exc
    missing = sorted(set(info.files) - seen)
    if missing:
        raise BackupError(f"{archive} : archive incomplète ({len(missing)} fichier(s) manquant(s), ex. {missing[0]}) : rien n'a été modifié.")
    _check_content(info, into, archive)
    return info


def _read_info(tar: tarfile.TarFile, archive: Path) -> BackupInfo:
    head = tar.next()
    if head is None or head.name != INFO_NAME or not head.isfile() or head.size > 50 * 1024 * 1024:
        raise BackupError(f"{archive} n'est pas une sauvegarde Ittifaq (pas de {INFO_NAME} en tête).")
    try:
        raw = json.loads(tar.extractfile(head).read().decode("utf-8"))
        info = BackupInfo(**raw)
    except (ValueError, TypeError) as exc:
        raise BackupError(f"{archive} : {INFO_NAME} illisible : archive endommagée.") from exc
    if info.format != FORMAT or info.version != VERSION or info.kind not in ("folder", "export"):
        raise BackupError(f"{archive} : format de sauvegarde inconnu ({info.format} v{info.version}, {info.kind}).")
    return info


def _safe_name(name: str, prefix: str, archive: Path) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or path.parts[0] != prefix:
        raise BackupError(f"{archive} : chemin refusé dans l'archive ({name!r}).")
    return path.as_posix()


def _check_content(info: BackupInfo, into: Path, archive: Path) -> None:
    """Counts against backup.json, and SQLite's own integrity check for a folder copy."""
    root = into / ("store" if info.kind == "folder" else "export")
    try:
        records = FileManifest(root / MANIFEST_NAME).records
    except StoreError as exc:
        raise BackupError(f"{archive} : manifeste illisible : archive endommagée.") from exc
    if len(records) != info.documents:
        raise BackupError(f"{archive} : {len(records)} textes dans le manifeste, {info.documents} annoncés : archive incohérente.")
    if info.kind == "export":
        with open(root / "chunks.jsonl", encoding="utf-8") as handle:
            lines = sum(1 for line in handle if line.strip())
        if lines != info.chunks:
            raise BackupError(f"{archive} : {lines} passages, {info.chunks} annoncés : archive incohérente.")
        return
    database = root / "chroma" / "chroma.sqlite3"
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error as exc:
        verdict = str(exc)
    if verdict != "ok":
        raise BackupError(f"{archive} : la base du corpus sauvegardé est endommagée ({verdict}) : restauration refusée.")


def archive_rows(info: BackupInfo, into: Path, settings: Settings) -> tuple[list[DocumentRecord], Iterator[list[dict]]]:
    """The committed documents of a checked archive and their chunks, in batches, whatever its kind."""
    if info.kind == "export":
        root = into / "export"
        records = [r for r in FileManifest(root / MANIFEST_NAME).records.values() if r.status == "committed"]

        def batches() -> Iterator[list[dict]]:
            batch: list[dict] = []
            with open(root / "chunks.jsonl", encoding="utf-8") as handle:
                for line in handle:
                    if line.strip():
                        batch.append(json.loads(line))
                        if len(batch) == BATCH:
                            yield batch
                            batch = []
            if batch:
                yield batch

        return records, batches()
    folder = settings.model_copy(update={"store_dir": into / "store", "chroma_url": None})
    records = [r for r in FileManifest(folder.store_dir / MANIFEST_NAME).records.values() if r.status == "committed"]
    live = {r.source: r for r in records}

    def folder_batches() -> Iterator[list[dict]]:
        client = make_client(folder)
        try:
            collection = open_collection(client, folder, name=info.collection)
            ids = [cid for cid, meta in zip(*_ids_and_metas(collection)) if is_live(live, meta)]
            for start in range(0, len(ids), BATCH):
                rows = collection.get(ids=ids[start:start + BATCH], include=["embeddings", "documents", "metadatas"])
                yield [
                    {"id": cid, "embedding": [float(x) for x in vector], "document": text, "metadata": meta}
                    for cid, vector, text, meta in zip(rows["ids"], rows["embeddings"], rows["documents"], rows["metadatas"])
                ]
        finally:
            client.close()

    return records, folder_batches()


def _ids_and_metas(collection) -> tuple[list[str], list[dict]]:
    data = read_all(collection, ["metadatas"])
    return data["ids"], data["metadatas"]


# ---- restore ---------------------------------------------------------------------------------
def restore_backup(settings: Settings, archive: Path, force: bool = False) -> RestoreReport:
    """Restore ``archive`` into the configured store (embedded folder or server)."""
    if settings.chroma_url:
        return _restore_server(settings, Path(archive), force)
    return _restore_folder(settings, Path(archive), force)


def _folder_is_empty(store: Path) -> bool:
    return not store.exists() or all(p.name == LOCK_NAME for p in store.iterdir())


def _restore_folder(settings: Settings, archive: Path, force: bool) -> RestoreReport:
    store = settings.store_dir
    if not force and not _folder_is_empty(store):
        raise BackupError(
            f"{store} contient déjà un corpus : restaurez dans un dossier vide, ou ajoutez --force "
            "(le corpus actuel sera mis de côté, pas supprimé)."
        )
    store.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{store.name}.restore-", dir=store.parent))  # same disk: rename
    try:
        info = read_backup(archive, work / "archive")
        new = work / "archive" / "store" if info.kind == "folder" else _build_folder(settings, info, work)
        report = RestoreReport(info, str(store))
        with StoreLock(store):  # refuses while the app or a command has the store open
            if not _folder_is_empty(store):
                if not force:
                    raise BackupError(f"{store} n'est plus vide : restauration annulée, rien n'a été modifié.")
                aside = set_aside_name(store, "before-restore")
                os.rename(store, aside)
                report.set_aside.append(str(aside))
            else:
                (store / LOCK_NAME).unlink(missing_ok=True)
                store.rmdir()
            os.rename(new, store)
        return report
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _build_folder(settings: Settings, info: BackupInfo, work: Path) -> Path:
    """An embedded store built from an export archive, in a temp folder, checked before use."""
    new = work / "store"
    target = settings.model_copy(update={"store_dir": new, "chroma_url": None})
    records, batches = archive_rows(info, work / "archive", settings)
    client = make_client(target)
    try:
        collection = open_collection(client, target)
        for batch in batches:
            _add(collection, batch)
        count = collection.count()
    finally:
        client.close()
    if count != info.chunks:
        raise BackupError(f"{count} passages restaurés sur {info.chunks} : restauration annulée, rien n'a été modifié.")
    (new / MANIFEST_NAME).write_text(manifest_json(records), encoding="utf-8")
    return new


def _add(collection, batch: list[dict]) -> None:
    collection.add(
        ids=[r["id"] for r in batch], embeddings=[r["embedding"] for r in batch],
        documents=[r["document"] for r in batch], metadatas=[r["metadata"] for r in batch],
    )


def _restore_server(settings: Settings, archive: Path, force: bool) -> RestoreReport:
    """Fill new collections under temporary names, check them, then rename them into place (the
    replaced ones are renamed aside). App processes must be restarted afterwards: they keep
    reading the collections they opened."""
    client = make_client(settings)
    names = {c.name for c in client.list_collections()}
    chunk_name, manifest_name = settings.collection, manifest_collection_name(settings)
    occupied = (chunk_name in names and client.get_collection(chunk_name).count() > 0) or (
        manifest_name in names and client.get_collection(manifest_name).count() > 0
    )
    if occupied and not force:
        raise BackupError(
            f"La collection {chunk_name} du serveur {settings.chroma_url} contient déjà un corpus : ajoutez --force "
            "(l'actuelle sera renommée, pas supprimée)."
        )
    stamp = time.strftime("%Y%m%d-%H%M%S")
    temp_chunks, temp_manifest = f"{chunk_name}-restore-{stamp}", f"{manifest_name}-restore-{stamp}"
    with tempfile.TemporaryDirectory(prefix=".ittifaq-restore-") as work:
        info = read_backup(archive, Path(work))
        records, batches = archive_rows(info, Path(work), settings)
        try:
            collection = open_collection(client, settings, name=temp_chunks)
            for batch in batches:
                _add(collection, batch)
            manifest = open_manifest(client, settings, name=temp_manifest)
            for record in records:
                manifest.put(record)
            if collection.count() != info.chunks:
                raise BackupError("Le nombre de passages restaurés ne correspond pas au manifeste : restauration annulée.")
        except BaseException:
            for name in (temp_chunks, temp_manifest):
                try:
                    client.delete_collection(name)
                except Exception as exc:  # best effort: the original collections are untouched anyway
                    log.warning("temporary collection %s not removed: %s", name, exc)
            raise
    report = RestoreReport(info, f"{settings.chroma_url} ({chunk_name})")
    for name, temp in ((chunk_name, temp_chunks), (manifest_name, temp_manifest)):
        if name in names:
            aside = f"{name}-before-restore-{stamp}"
            client.get_collection(name).modify(name=aside)
            report.set_aside.append(aside)
        client.get_collection(temp).modify(name=name)
    return report

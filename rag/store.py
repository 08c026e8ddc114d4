"""Where the corpus lives: the Chroma client (an embedded folder or a Chroma server), the lock of an
embedded folder, and the manifest that says which documents are committed.

The two modes are chosen in one place, from ``settings.chroma_url``: :func:`make_client`,
:func:`open_collection` and :func:`open_manifest` give the embedded or the server variant.

Manifest in server mode — the option chosen, and why
----------------------------------------------------
With a Chroma server, several app processes (possibly on different machines) write and read the
same collection, so a ``manifest.json`` on one machine's disk cannot be the truth. Options weighed:

1. the whole manifest as one JSON value (in one row or in the collection metadata): every write
   is read-modify-write, so two processes indexing different files lose each other's updates;
2. a manifest file on a shared disk: needs NFS-style locking between machines, a second thing to
   deploy and back up;
3. **one row per document in a second collection ``<collection>_manifest``** (chosen): writers of
   different documents never touch the same row, a reader gets the whole manifest with one
   ``get``, and backup/restore go through the same client as the chunks.

Each row carries the :class:`DocumentRecord` as JSON and a one-number placeholder embedding (Chroma
wants one; it is never searched). One more row, ``generation``, holds a marker that every write
replaces *after* writing its record. The marker is a fresh random token rather than a counter:
Chroma has no compare-and-set, so two writers could both turn n into n+1 and a reader would miss
the second change, while two fresh tokens always differ from the one a reader last saw. A reader
checks the marker (one small request) at most every ``chroma_refresh_s`` and, when it changed,
reloads the manifest — and so rebuilds its BM25 index (see :meth:`rag.index.Index.refresh`).

Chroma has no locks either: two processes indexing *the same* file at the same moment is
last-writer-wins. Search stays correct (a chunk is live only if its document is committed with
the chunk's sha256), but the loser's chunks stay as invisible orphans until the file is indexed
again or ``rag rebuild`` runs.
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import time
import urllib.error
import urllib.request
import uuid
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from urllib.parse import urlparse

from rag.atomic import write_atomic
from rag.settings import Settings

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
LOCK_NAME = "store.lock"
GENERATION_ID = "generation"
PLACEHOLDER_EMBEDDING = [1.0]


class StoreError(RuntimeError):
    """The store cannot be used; the message says what to do."""


class StoreLockedError(StoreError):
    pass


@dataclass
class DocumentRecord:
    source: str
    sha256: str
    title: str
    kind: str
    lang: str
    format: str
    path: str = ""
    status: str = "committed"  # committed | indexing
    chunks: int = 0
    articles: int = 0
    indexed_at: float = 0.0

    @classmethod
    def from_dict(cls, data: dict) -> "DocumentRecord":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---- embedded folder lock ------------------------------------------------------------------
class StoreLock:
    """Exclusive lock on an embedded store folder: one process (app or `rag` command) at a time."""

    def __init__(self, store_dir: Path):
        self.store_dir = Path(store_dir)
        self._handle = None

    def acquire(self) -> "StoreLock":
        store = self.store_dir
        try:
            store.mkdir(parents=True, exist_ok=True)
            handle = open(store / LOCK_NAME, "a+")
        except OSError as exc:
            if isinstance(exc, PermissionError) or exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise StoreError(f"Dossier du corpus en lecture seule ({store}) : l'index ne peut pas y être ouvert.") from exc
            raise StoreError(f"Dossier du corpus inutilisable ({store}) : {exc.strerror or exc}.") from exc
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            raise StoreLockedError(
                f"Le corpus {store} est déjà ouvert par un autre processus (l'application ou une commande `rag`). "
                "Fermez-le ou utilisez un autre --store."
            ) from exc
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        if self._handle is not None:
            try:
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            finally:
                self._handle.close()
                self._handle = None

    def __enter__(self) -> "StoreLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ---- client ----------------------------------------------------------------------------------
def server_headers(settings: Settings) -> dict[str, str]:
    """The token header for the Chroma server (or the reverse proxy in front of it), if a token is set."""
    token = settings.chroma_token.get_secret_value() if settings.chroma_token else ""
    if not token:
        return {}
    if settings.chroma_token_header.lower() == "authorization":
        return {"Authorization": f"Bearer {token}"}
    return {settings.chroma_token_header: token}


def check_server(settings: Settings) -> None:
    """Heartbeat with a short timeout, so that a dead, hung or refusing server is one clear message."""
    base = (settings.chroma_url or "").rstrip("/")
    url = urlparse(base)
    if url.scheme not in ("http", "https") or not url.hostname or url.path not in ("", "/") or url.query:
        # the client only takes a host and a port: a path would be checked here and ignored there
        raise StoreError(f"RAG_CHROMA_URL invalide ({base!r}) : attendu http://hôte:port ou https://hôte:port, sans chemin.")
    request = urllib.request.Request(base + "/api/v2/heartbeat", headers=server_headers(settings))
    try:
        with urllib.request.urlopen(request, timeout=settings.chroma_connect_timeout_s) as response:
            response.read(512)
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise StoreError(
                f"Le serveur Chroma {base} refuse l'accès (HTTP {exc.code}) : vérifiez le jeton RAG_CHROMA_TOKEN."
            ) from exc
        raise StoreError(f"Le serveur Chroma {base} répond en erreur (HTTP {exc.code}) : consultez son journal.") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError) or "timed out" in str(reason):
            what = f"aucune réponse en {settings.chroma_connect_timeout_s:g} s"
        else:
            what = "connexion refusée ou hôte inconnu"
        raise StoreError(
            f"Serveur Chroma injoignable ({base} : {what}). Vérifiez qu'il est démarré (`chroma run`) "
            "et l'adresse RAG_CHROMA_URL."
        ) from exc


READ_PAGE = 5000  # rows per get(): Chroma binds one SQL variable per row, SQLite allows 32,766


def read_all(collection, include: list[str], where: dict | None = None) -> dict[str, list]:
    """Every row of a collection (or those matching ``where``), read in pages of READ_PAGE rows."""
    out: dict[str, list] = {"ids": [], **{key: [] for key in include}}
    offset = 0
    while True:
        page = collection.get(where=where, include=include, limit=READ_PAGE, offset=offset)
        out["ids"].extend(page["ids"])
        for key in include:
            out[key].extend(page[key] if page.get(key) is not None else [])
        if len(page["ids"]) < READ_PAGE:
            return out
        offset += READ_PAGE


_PROBE = f"""
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for collection in client.list_collections():
    name = getattr(collection, "name", collection)
    collection = client.get_collection(name, embedding_function=None)
    offset = 0
    while len(collection.get(include=["metadatas"], limit={READ_PAGE}, offset=offset)["ids"]) == {READ_PAGE}:
        offset += {READ_PAGE}
"""


def probe_embedded(settings: Settings) -> None:
    """Read an existing embedded store in a child interpreter first: Chroma's native code can
    crash the whole process (SIGSEGV) on truncated vector files, and a crash says nothing to a
    negotiator. A child killed by a signal, or that hangs, becomes a StoreError; a child that
    fails with a Python error is left to the normal open, which reports it."""
    import subprocess
    import sys

    folder = settings.store_dir / "chroma"
    if not (folder / "chroma.sqlite3").exists():
        return
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _PROBE, str(folder)], capture_output=True, timeout=settings.probe_timeout_s,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    except subprocess.TimeoutExpired as exc:
        raise StoreError(
            f"Le corpus indexé ({settings.store_dir}) ne se lit pas en {settings.probe_timeout_s:.0f} s : "
            "il est peut-être endommagé ; reconstruction : `rag rebuild`."
        ) from exc
    if proc.returncode < 0:
        log.error("store probe killed by signal %d: %s", -proc.returncode, proc.stderr.decode(errors="replace")[-500:])
        raise StoreError(
            f"Le corpus indexé ({settings.store_dir}) est endommagé : ses fichiers de vecteurs font planter "
            "le moteur de recherche. Reconstruction nécessaire (`rag rebuild`)."
        )


# ---- "verified" stamp of an embedded store: skip the probe while nothing touched its files -----
VERIFIED_STAMP_NAME = "verified.json"


def store_files_state(settings: Settings) -> dict[str, list[int]]:
    """(size, mtime, ctime, inode, device) of every file of the embedded store that Chroma reads
    (``chroma/``) and of the manifest. Any write, copy, restore or truncation changes it (ctime
    cannot be set back by a user)."""
    root = settings.store_dir
    state: dict[str, list[int]] = {}
    paths = sorted((root / "chroma").rglob("*")) if (root / "chroma").is_dir() else []
    for path in [*paths, root / MANIFEST_NAME]:
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if not path.is_dir():
            state[path.relative_to(root).as_posix()] = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]
    return state


def same_sizes(a: dict[str, list[int]], b: dict[str, list[int]]) -> bool:
    return a.keys() == b.keys() and all(a[k][0] == b[k][0] for k in a)


def verified_unchanged(settings: Settings) -> bool:
    """The store's files are exactly as a clean session left them (see :func:`write_verified`)."""
    try:
        stamp = json.loads((settings.store_dir / VERIFIED_STAMP_NAME).read_text(encoding="utf-8"))
        return stamp.get("version") == 1 and stamp.get("files") == store_files_state(settings)
    except (OSError, ValueError, AttributeError):
        return False


def write_verified(settings: Settings) -> None:
    """Record the files as they are now: called by :class:`rag.index.Index` on closing a session
    that opened a checked store (the probe passed or the files were already stamped, and the repair
    scan found nothing to delete), wrote nothing and ended with every file at its opening size. Chroma rewrites its vector files even when only reading, so
    sizes, not contents, are what a read-only session must keep."""
    try:
        data = {"version": 1, "files": store_files_state(settings), "at": time.time()}
        write_atomic(settings.store_dir / VERIFIED_STAMP_NAME, json.dumps(data).encode("utf-8"))
    except OSError as exc:
        log.debug("verified stamp not written: %s", exc)


def forget_verified(settings: Settings) -> None:
    try:
        (settings.store_dir / VERIFIED_STAMP_NAME).unlink(missing_ok=True)
    except OSError as exc:
        log.debug("verified stamp not removed: %s", exc)


def make_client(settings: Settings):
    """Chroma client from settings: embedded PersistentClient, or HttpClient when RAG_CHROMA_URL is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        check_server(settings)
        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=server_headers(settings),
                settings=chroma_settings,
            )
        except Exception as exc:
            raise StoreError(f"Le serveur Chroma {settings.chroma_url} ne peut pas être utilisé ({type(exc).__name__}: {exc}).") from exc
        _bound_requests(client, settings)
        return client
    settings.store_dir.mkdir(parents=True, exist_ok=True)
    path = str(settings.store_dir / "chroma")
    try:
        return chromadb.PersistentClient(path=path, settings=chroma_settings)
    except Exception:
        # chromadb caches a system per path *before* starting it; one that failed to start (a
        # damaged database) would be handed out again, broken, to the next client in this process
        # (e.g. after `rag rebuild` replaced the folder)
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(path, None)
        SharedSystemClient._identifier_to_refcount.pop(path, None)
        raise


def _bound_requests(client, settings: Settings) -> None:
    # chromadb's HttpClient waits for an answer forever (httpx timeout=None) and offers no setting
    # for it; a hung server must not freeze a search, so its session gets our limits.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is not None:
        import httpx

        session.timeout = httpx.Timeout(settings.chroma_timeout_s, connect=settings.chroma_connect_timeout_s)


class ServerCollection:
    """A collection on a Chroma server whose transport failures become :class:`StoreError` in French."""

    def __init__(self, collection, url: str):
        self._collection = collection
        self._url = url

    def __getattr__(self, name: str):
        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            import httpx

            try:
                return attr(*args, **kwargs)
            except httpx.TimeoutException as exc:
                raise StoreError(f"Le serveur Chroma {self._url} ne répond plus (délai dépassé).") from exc
            except httpx.TransportError as exc:
                raise StoreError(f"Serveur Chroma injoignable ({self._url}) : la connexion a été perdue ; réessayez quand il est revenu.") from exc

        return call


# How wide the HNSW walk is at query time. The dense side asks for 60 candidates; with Chroma's
# default (100) the approximate walk returned different lists to different processes on the same
# store (the same question got other sources from one session to the next, BENCHMARKS.md session 11).
# At 400 the list was the same in every process; the store is small enough for the wider walk to cost nothing.
HNSW_EF_SEARCH = 400


def open_collection(client, settings: Settings, name: str | None = None):
    """The chunk collection (cosine space), wrapped for clear errors in server mode. A collection
    made before ``HNSW_EF_SEARCH`` gets it on opening."""
    collection = client.get_or_create_collection(
        name=name or settings.collection, configuration={"hnsw": {"space": "cosine", "ef_search": HNSW_EF_SEARCH}},
        embedding_function=None,
    )
    hnsw = (getattr(collection, "configuration_json", None) or {}).get("hnsw") or {}
    if hnsw.get("ef_search", HNSW_EF_SEARCH) < HNSW_EF_SEARCH:
        try:
            collection.modify(configuration={"hnsw": {"ef_search": HNSW_EF_SEARCH}})
        except Exception as exc:  # a read-only server, an older Chroma: searches stay approximate, nothing breaks
            log.warning("could not widen the HNSW search of %s: %s", collection.name, exc)
    return ServerCollection(collection, settings.chroma_url) if settings.chroma_url else collection


def open_manifest(client, settings: Settings, name: str | None = None) -> "ManifestStore":
    """The manifest that goes with the store: a JSON file beside an embedded store, a collection on a server."""
    if settings.chroma_url:
        raw = client.get_or_create_collection(name=name or manifest_collection_name(settings), embedding_function=None)
        return ServerManifest(ServerCollection(raw, settings.chroma_url))
    return FileManifest(settings.store_dir / MANIFEST_NAME)


def manifest_collection_name(settings: Settings) -> str:
    return f"{settings.collection}_manifest"


# ---- manifest stores -------------------------------------------------------------------------
class ManifestStore(ABC):
    """Which documents are committed in the store, one :class:`DocumentRecord` per document.

    ``records`` is this process's view. It is replaced, never changed in place, by the methods
    below, so a reader holding it has a consistent snapshot.
    """

    records: dict[str, DocumentRecord]
    #: True when other processes may write it too (server mode): readers must watch :meth:`generation`.
    shared: bool = False

    @abstractmethod
    def put(self, record: DocumentRecord) -> None:
        """Write one record durably (status included)."""

    @abstractmethod
    def drop(self, source: str) -> None:
        """Forget one document."""

    @abstractmethod
    def reload(self) -> None:
        """Read every record again from where they are kept."""

    def generation(self) -> str:
        """A marker that changes with every write by any process ('' when only this process writes)."""
        return ""


class FileManifest(ManifestStore):
    """``manifest.json`` beside the embedded store, written atomically; the store lock makes this
    process its only writer."""

    def __init__(self, path: Path):
        self.path = path
        self.records = {}
        self.reload()

    def reload(self) -> None:
        if not self.path.exists():
            self.records = {}
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            self.records = {k: DocumentRecord.from_dict(v) for k, v in raw.get("documents", {}).items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"Manifeste du corpus illisible ({self.path}) : reconstruction nécessaire (`rag rebuild`).") from exc

    def save(self) -> None:
        write_atomic(self.path, manifest_json(self.records.values()).encode("utf-8"))

    def put(self, record: DocumentRecord) -> None:
        self.records = {**self.records, record.source: record}
        self.save()

    def drop(self, source: str) -> None:
        self.records = {k: v for k, v in self.records.items() if k != source}
        self.save()


class ServerManifest(ManifestStore):
    """One row per document in ``<collection>_manifest`` on the Chroma server, plus the generation row."""

    shared = True

    def __init__(self, collection):
        self.collection = collection
        self.records = {}
        self.reload()

    @staticmethod
    def row_id(source: str) -> str:
        return "doc:" + source

    def reload(self) -> None:
        data = self.collection.get(where={"role": "document"}, include=["documents"])
        records: dict[str, DocumentRecord] = {}
        for row_id, text in zip(data["ids"], data["documents"]):
            try:
                record = DocumentRecord.from_dict(json.loads(text))
            except (ValueError, TypeError) as exc:
                raise StoreError(f"Manifeste du corpus illisible sur le serveur (ligne {row_id}) : `rag rebuild`.") from exc
            records[record.source] = record
        self.records = records

    def generation(self) -> str:
        data = self.collection.get(ids=[GENERATION_ID], include=["metadatas"])
        return str((data["metadatas"][0] or {}).get("token", "")) if data["ids"] else ""

    def _bump(self) -> None:
        self.collection.upsert(
            ids=[GENERATION_ID], embeddings=[PLACEHOLDER_EMBEDDING], documents=["generation"],
            metadatas=[{"role": "generation", "token": uuid.uuid4().hex, "at": time.time()}],
        )

    def put(self, record: DocumentRecord) -> None:
        # the record first, then the marker: whoever sees the new marker also sees the record
        self.collection.upsert(
            ids=[self.row_id(record.source)], embeddings=[PLACEHOLDER_EMBEDDING],
            documents=[json.dumps(asdict(record), ensure_ascii=False)],
            metadatas=[{"role": "document", "source": record.source, "status": record.status}],
        )
        self._bump()
        self.records = {**self.records, record.source: record}

    def drop(self, source: str) -> None:
        self.collection.delete(ids=[self.row_id(source)])
        self._bump()
        self.records = {k: v for k, v in self.records.items() if k != source}


def manifest_json(records) -> str:
    """The manifest file format (also used inside backups)."""
    data = {"version": 1, "documents": {r.source: asdict(r) for r in sorted(records, key=lambda r: r.source)}}
    return json.dumps(data, ensure_ascii=False, indent=1)


def is_live(records: dict[str, DocumentRecord], meta: dict | None) -> bool:
    """A chunk may be searched only if its document is committed with the chunk's sha256."""
    if not meta:
        return False  # a row left without metadata by a killed write
    record = records.get(meta.get("source", ""))
    return bool(record and record.status == "committed" and record.sha256 == meta.get("sha256"))


def set_aside_name(path: Path, why: str) -> Path:
    """A free sibling name for a store folder that is moved aside (never deleted)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{why}-{stamp}")
    n = 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{why}-{stamp}-{n}")
    return candidate

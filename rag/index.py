"""The store: Chroma (dense vectors + chunk texts), a manifest of committed documents, and the
lexical index rebuilt from the store. Where they are kept (embedded folder or Chroma server) is
decided in :mod:`rag.store`.

Write order for one document (crash-safe): embed everything first (the slow part, old chunks stay
searchable), then mark the manifest entry ``indexing``, delete the old chunks, add the new ones,
and mark it ``committed``. Search keeps only chunks whose document is committed with the same
sha256, so a half-written document is never cited; an entry left ``indexing`` by a crash is
reported as interrupted and is re-indexed on the next run.

With a Chroma server, other processes write too: :meth:`Index.refresh` compares the manifest's
generation marker (at most every ``chroma_refresh_s``) and reloads the manifest and rebuilds BM25
when it changed; the same liveness rule keeps their half-written documents out of every search.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from rag.ingest import SUPPORTED_SUFFIXES, IngestError, IsolatedParser, LoadedDocument, load_path, sha256_bytes
from rag import lexical as lexical_store
from rag.lexical import LexicalIndex
from rag.ocr import OcrOptions, uncertain_label
from rag.settings import Settings
from rag.store import (  # noqa: F401  (StoreError & co. are part of this module's interface)
    DocumentRecord,
    ManifestStore,
    StoreError,
    StoreLock,
    StoreLockedError,
    forget_verified,
    is_live,
    make_client,
    probe_embedded,
    read_all,
    open_collection,
    open_manifest,
    same_sizes,
    store_files_state,
    verified_unchanged,
    write_verified,
)
from rag.structure import chunk_units, parse_units

log = logging.getLogger(__name__)


@dataclass
class FileResult:
    path: str
    source: str
    status: str  # indexed | skipped | failed
    message: str = ""
    chunks: int = 0
    articles: int = 0
    code: str = ""


KIND_JURISDICTION = {"law": "MA", "decree": "MA", "project": "MA", "intl_convention": "ILO"}


@dataclass
class Catalog:
    """Titles and citation labels the project knows for official texts, keyed by file name."""

    entries: dict[str, dict] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | None) -> "Catalog":
        if path is None or not path.exists():
            return cls()
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
        return cls({str(k): dict(v) for k, v in (data.get("sources") or {}).items()})

    def apply(self, doc: LoadedDocument) -> LoadedDocument:
        entry = self.entries.get(doc.source)
        if entry:
            doc.title = entry.get("title", doc.title)
            doc.kind = entry.get("kind", doc.kind)
            doc.lang = entry.get("lang", doc.lang)
        return doc

    def short(self, source: str, title: str) -> str:
        entry = self.entries.get(source)
        return (entry or {}).get("short") or title

    def jurisdiction(self, source: str, kind: str = "") -> str:
        """MA, FR, ILO… from the catalog; texts it does not list take their kind's usual one
        (laws, decrees and the project's fiches are Moroccan; a foreign upload needs a catalog line)."""
        entry = self.entries.get(source) or {}
        return entry.get("jurisdiction") or KIND_JURISDICTION.get(kind, "")

    def force(self, source: str) -> str:
        return (self.entries.get(source) or {}).get("force", "")


def chunk_metadata(chunk) -> dict:
    return {
        "source": chunk.source,
        "title": chunk.title,
        "kind": chunk.kind,
        "lang": chunk.lang,
        "article": chunk.article or "",
        "article_key": chunk.article_key or "",
        "heading": chunk.heading[:1000],
        "page": chunk.page if chunk.page is not None else -1,
        "pages": ",".join(str(p) for p in chunk.pages),
        "piece": chunk.piece,
        "pieces": chunk.pieces,
        "sha256": chunk.sha256,
        "ocr_confidence": chunk.confidence if chunk.confidence is not None else -1.0,  # -1: text layer, no OCR
        "uncertain_pages": ",".join(str(p) for p in chunk.uncertain_pages),
    }


class Index:
    """The indexed corpus. Thread-safe inside one process; one process per embedded store (lock
    file); any number of processes on a Chroma server (generation marker, see :meth:`refresh`)."""

    def __init__(self, settings: Settings, embedder, client=None, catalog: Catalog | None = None):
        self.settings = settings
        self.embedder = embedder
        self.catalog = catalog or Catalog.load(settings_catalog_path(settings))
        self._lock = threading.RLock()  # writes, and the BM25 build
        self._view_lock = threading.Lock()  # the generation check (server mode)
        self._store_lock: StoreLock | None = None
        self._owns_client = client is None
        self.client = client
        self._verified: dict | None = None  # embedded store's files as opened, once checked (see close)
        self._wrote = False
        stamped = False
        if client is None and not settings.chroma_url:
            self._store_lock = StoreLock(settings.store_dir).acquire()
            # files exactly as a clean read-only session left them: no probe child, no repair scan
            stamped = verified_unchanged(settings)
            if settings.probe_store and not stamped:
                try:
                    probe_embedded(settings)
                except StoreError:
                    self.close()
                    raise
            opened = store_files_state(settings)
        try:
            self.client = client or make_client(settings)
            self.collection = open_collection(self.client, settings)
            self.manifest: ManifestStore = open_manifest(self.client, settings)
        except StoreError:
            self.close()
            raise
        except PermissionError as exc:
            self.close()
            raise StoreError(f"Dossier du corpus en lecture seule ou inaccessible ({settings.store_dir}) : vérifiez ses droits.") from exc
        except Exception as exc:
            self.close()
            raise StoreError(f"Le corpus indexé ne peut pas être ouvert ({type(exc).__name__}: {exc}). Reconstruction : `rag rebuild`.") from exc
        # (generation it was built from, BM25, metadatas, texts)
        self._lexical: tuple[int, LexicalIndex, list[dict], list[str]] | None = None
        self._generation = 0  # this process's count of changes it knows about
        # server mode: the first read checks the marker and reloads (the marker must be read before
        # the manifest, and open_manifest has just read the manifest)
        self._seen_marker: str | None = None
        self._next_check = 0.0
        if not self.manifest.shared and not stamped:
            # on a server, rows no committed document owns may be another process's write in progress
            try:
                self.repair()
            except StoreError:
                self.close()
                raise
        if self._store_lock is not None:
            self._verified = opened

    def repair(self) -> int:
        """Delete rows no committed document owns (left by a crash); the manifest stays the truth."""
        try:
            data = read_all(self.collection, ["metadatas"])
        except Exception as exc:
            raise StoreError(f"Le corpus indexé est endommagé ({type(exc).__name__}) : reconstruction nécessaire (`rag rebuild`).") from exc
        orphans = [cid for cid, meta in zip(data["ids"], data["metadatas"]) if not self.is_live(meta)]
        live = Counter(meta.get("source") for meta in data["metadatas"] if self.is_live(meta))
        lost = [r.source for r in self.documents() if r.status == "committed" and live[r.source] < r.chunks]
        if lost:
            # e.g. the database file was emptied or deleted and Chroma silently made a new one
            raise StoreError(
                f"Le corpus indexé a perdu des passages de {len(lost)} texte(s) ({', '.join(lost[:3])}"
                f"{'…' if len(lost) > 3 else ''}) : reconstruction nécessaire (`rag rebuild`)."
            )
        if orphans:
            self._wrote = True
            for start in range(0, len(orphans), 500):
                self.collection.delete(ids=orphans[start:start + 500])
            log.warning("removed %d orphan passages left by an interrupted write", len(orphans))
        return len(orphans)

    def close(self) -> None:
        """Release the client (when this index opened it) and the store lock."""
        client, self.client = self.client, None
        closed = True
        if self._owns_client and client is not None and hasattr(client, "close"):
            try:
                client.close()  # lets the same process open this folder again, e.g. after a restore
            except Exception as exc:  # closing must not hide the reason the caller is closing
                closed = False
                log.debug("closing the Chroma client: %s", exc)
        verified, self._verified = getattr(self, "_verified", None), None
        if self._store_lock is not None and verified is not None:
            # a read-only session on checked files, ended cleanly with every file at its size: the
            # next open may trust them as they are now (rag.store.write_verified)
            if closed and not self._wrote and same_sizes(verified, store_files_state(self.settings)):
                write_verified(self.settings)
            else:
                forget_verified(self.settings)
        if self._store_lock is not None:
            self._store_lock.release()
            self._store_lock = None

    # ---- other processes' writes (server mode) ---------------------------------------------
    def refresh(self, force: bool = False) -> bool:
        """Pick up other processes' writes: compare the server's generation marker (at most every
        ``chroma_refresh_s`` unless ``force``) and reload the manifest when it changed. The marker is
        read *before* the manifest, so a change made in between is seen at the next check.
        Returns True when the view changed. Embedded mode: this process is the only writer."""
        if not self.manifest.shared:
            return False
        if not force and time.monotonic() < self._next_check:
            return False
        with self._view_lock:
            if not force and time.monotonic() < self._next_check:
                return False
            marker = self.manifest.generation()
            self._next_check = time.monotonic() + self.settings.chroma_refresh_s
            if marker == self._seen_marker:
                return False
            self.manifest.reload()
            self._seen_marker = marker
            self._changed()
            return True

    # ---- reading --------------------------------------------------------------------------
    def documents(self) -> list[DocumentRecord]:
        self.refresh()
        return sorted(self.manifest.records.values(), key=lambda r: (r.kind, r.source))

    def interrupted(self) -> list[DocumentRecord]:
        return [r for r in self.documents() if r.status != "committed"]

    def count(self) -> int:
        return self.collection.count()

    def is_live(self, meta: dict | None) -> bool:
        """Whether a chunk may be searched: its document is committed with the chunk's sha256."""
        self.refresh()
        return is_live(self.manifest.records, meta)

    def lexical(self) -> tuple[LexicalIndex, list[dict], list[str]]:
        """BM25 over every live chunk, rebuilt after each change (here or, on a server, elsewhere);
        saved beside an embedded store and loaded back while its manifest is unchanged (rag.lexical)."""
        self.refresh()
        with self._lock:
            if self._lexical is None or self._lexical[0] != self._generation:
                generation = self._generation
                records = self.manifest.records  # replaced, never mutated, by writers: a snapshot

                def read_rows() -> tuple[list[str], list[dict], list[str]]:
                    data = read_all(self.collection, ["documents", "metadatas"])
                    rows = [
                        (cid, meta, doc)
                        for cid, meta, doc in zip(data["ids"], data["metadatas"], data["documents"])
                        if is_live(records, meta)
                    ]
                    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

                built = lexical_store.load_or_build(
                    lexical_store.saved_root(self.settings), lexical_store.fingerprint(records.values(), lexical_store.scope(self.settings)), read_rows
                )
                # tagged with the generation it started from: a change during the build forces another
                self._lexical = (generation, *built)
            return self._lexical[1:]

    # ---- writing --------------------------------------------------------------------------
    def _changed(self) -> None:
        self._wrote = True
        self._generation += 1
        self._next_check = 0.0  # server mode: look at the marker again before the next read

    def needs_indexing(self, source: str, sha256: str) -> bool:
        record = self.manifest.records.get(source)
        return not (record and record.status == "committed" and record.sha256 == sha256)

    def add_document(self, doc: LoadedDocument, progress: Callable[[float, str], None] | None = None) -> FileResult:
        """Chunk, embed and commit one parsed document (replacing its previous version)."""
        self.catalog.apply(doc)
        units = parse_units(doc)
        from rag.offline import get_encoding

        encoding = get_encoding(str(self.settings.tiktoken_dir), self.settings.tiktoken_encoding)
        chunks = chunk_units(doc, units, encoding, self.settings.chunk_tokens, self.settings.chunk_overlap_tokens)
        chunks = [c for c in chunks if c.body.strip()]
        if not chunks:
            raise IngestError("no_text", "Aucun texte exploitable n'a été trouvé dans ce fichier.")
        vectors: list[list[float]] = []
        batch = self.settings.embed_batch
        for start in range(0, len(chunks), batch):
            part = chunks[start:start + batch]
            vectors.extend(self.embedder.embed_documents([c.dense_text for c in part]))
            if progress:
                progress(min(1.0, (start + len(part)) / len(chunks)), f"{doc.source} : {start + len(part)}/{len(chunks)} passages")
        articles = len({c.article for c in chunks if c.article})
        unsure = uncertain_label(doc.uncertain_pages)
        with self._lock:
            record = DocumentRecord(
                source=doc.source, sha256=doc.sha256, title=doc.title, kind=doc.kind, lang=doc.lang,
                format=doc.format, path=doc.path, status="indexing", chunks=len(chunks), articles=articles,
                indexed_at=time.time(),
            )
            self.manifest.put(record)
            self._changed()
            self.collection.delete(where={"source": doc.source})
            for start in range(0, len(chunks), 256):
                part = chunks[start:start + 256]
                # upsert, not add: on a shared server another process indexing the same file at the
                # same moment may have re-added these ids since our delete, and add() keeps theirs
                self.collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=vectors[start:start + 256],
                    documents=[c.text for c in part],
                    metadatas=[chunk_metadata(c) for c in part],
                )
            self.manifest.put(replace(record, status="committed"))
            self._changed()
        message = f"{len(chunks)} passages, {articles} articles" + (f" ; {unsure}" if unsure else "")
        return FileResult(doc.path, doc.source, "indexed", message, len(chunks), articles)

    def uncertain_pages(self) -> dict[str, list[int]]:
        """Pages that OCR read with a low confidence, per indexed document (for the Corpus table)."""
        data = read_all(self.collection, ["metadatas"], where={"uncertain_pages": {"$ne": ""}})
        pages: dict[str, set[int]] = {}
        for meta in data["metadatas"]:
            if self.is_live(meta):
                pages.setdefault(meta["source"], set()).update(int(p) for p in str(meta["uncertain_pages"]).split(",") if p)
        return {source: sorted(numbers) for source, numbers in pages.items()}

    def remove(self, source: str) -> bool:
        """Remove a document: mark it, delete its chunks, forget it (same crash-safe order)."""
        self.refresh(force=True)
        with self._lock:
            record = self.manifest.records.get(source)
            existing = read_all(self.collection, [], where={"source": source})["ids"]
            if record is None and not existing:
                return False
            if record is not None:
                self.manifest.put(replace(record, status="indexing"))
                self._changed()
            self.collection.delete(where={"source": source})
            self.manifest.drop(source)
            self._changed()
            return True

    def index_paths(
        self,
        paths: Iterable[Path],
        progress: Callable[[float, str], None] | None = None,
        isolated: bool = True,
        force: bool = False,
    ) -> list[FileResult]:
        """Index files and folders (recursively). A failing file is reported and the others go on."""
        files = list(expand_paths(paths))
        self.refresh(force=True)  # decide "unchanged" on what the server holds now
        results: list[FileResult] = []
        max_bytes = self.settings.max_upload_mb * 1024 * 1024
        ocr = OcrOptions.from_settings(self.settings)
        parser = IsolatedParser(self.settings.parse_timeout_s, max_bytes, self.settings.max_pdf_pages, ocr=ocr) if isolated else None
        try:
            for n, path in enumerate(files):
                share = (n / len(files), (n + 1) / len(files))

                def step(fraction: float, message: str, share=share) -> None:
                    if progress:
                        progress(share[0] + (share[1] - share[0]) * fraction, message)

                results.append(self._index_one(path, parser, max_bytes, step, force, ocr))
        finally:
            if parser is not None:
                parser.close()
        return results

    def _index_one(self, path: Path, parser, max_bytes: int, step, force: bool, ocr: OcrOptions | None = None) -> FileResult:
        from rag.ingest import clean_filename

        source = clean_filename(path.name)
        try:
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise IngestError("unsupported", f"Type de fichier non pris en charge ({path.suffix or 'sans extension'}) : PDF, DOCX, MD, TXT ou image (PNG, JPEG, TIFF).")
            size = path.stat().st_size
            if size > max_bytes:
                raise IngestError("too_large", f"Fichier de {size / 1048576:.1f} Mo : la limite est de {max_bytes / 1048576:.0f} Mo.")
            sha = sha256_bytes(path.read_bytes())
            if not force and not self.needs_indexing(source, sha):
                step(1.0, f"{source} : inchangé")
                return FileResult(str(path), source, "skipped", "inchangé depuis la dernière indexation")
            step(0.0, f"{source} : analyse")
            def reading(fraction: float, message: str) -> None:  # OCR, page by page; the bar moves when embedding
                step(0.0, f"{source} : {message}")

            doc = parser.load(path, reading) if parser else load_path(path, max_bytes, self.settings.max_pdf_pages, ocr=ocr, progress=reading)
            doc.path = str(path)
            result = self.add_document(doc, step)
            result.path = str(path)
            log.info("indexed %s: %s", source, result.message)
            return result
        except IngestError as exc:
            log.warning("failed %s: %s (%s)", path, exc.message, exc.code)
            return FileResult(str(path), source, "failed", exc.message, code=exc.code)
        except OSError as exc:
            log.warning("failed %s: %s", path, exc)
            message = "Disque plein : indexation interrompue, le corpus existant est intact." if exc.errno == errno.ENOSPC else f"Erreur d'accès au fichier : {exc.strerror or exc}."
            return FileResult(str(path), source, "failed", message, code="os_error")


def settings_catalog_path(settings: Settings) -> Path:
    from rag.settings import PROJECT_ROOT

    return PROJECT_ROOT / "corpus" / "catalog.yaml"


def expand_paths(paths: Iterable[Path]) -> Iterable[Path]:
    """Files as given, folders walked recursively (sorted, hidden files and READMEs skipped)."""
    for path in paths:
        path = Path(path)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file() and not any(part.startswith(".") for part in child.relative_to(path).parts):
                    if child.suffix.lower() in SUPPORTED_SUFFIXES and child.name.lower() not in {"readme.md", "sources.md"}:
                        yield child
        else:
            yield path

"""``rag rebuild``: a damaged store is moved aside (never deleted) and a new one is indexed from the
original files — every document the old manifest recorded (``DocumentRecord.path``) whose file
still exists, plus the corpus folders of the settings. What could not be re-indexed is reported.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rag.index import FileResult, Index
from rag.settings import Settings
from rag.store import (
    MANIFEST_NAME,
    DocumentRecord,
    FileManifest,
    StoreLock,
    make_client,
    manifest_collection_name,
    open_manifest,
    set_aside_name,
)

log = logging.getLogger(__name__)


@dataclass
class RebuildReport:
    set_aside: list[str] = field(default_factory=list)  # where the damaged store went
    results: list[FileResult] = field(default_factory=list)
    missing: list[DocumentRecord] = field(default_factory=list)  # recorded, but the file is gone
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.status == "failed"]


def recorded_documents(settings: Settings) -> tuple[list[DocumentRecord], list[str]]:
    """The documents the damaged store's manifest lists, as far as it can still be read."""
    try:
        if settings.chroma_url:
            return list(open_manifest(make_client(settings), settings).records.values()), []
        return list(FileManifest(settings.store_dir / MANIFEST_NAME).records.values()), []
    except Exception as exc:  # a damaged store may fail in any way; its files are still re-indexed
        log.warning("manifest unreadable: %s", exc)
        return [], [f"Manifeste illisible ({type(exc).__name__}) : seuls les dossiers du corpus sont ré-indexés."]


def set_aside(settings: Settings) -> list[str]:
    """Move the current store out of the way: the folder is renamed (under its lock), or the
    server's collections are renamed. Returns the new names."""
    if settings.chroma_url:
        client = make_client(settings)
        names = {c.name for c in client.list_collections()}
        stamp = time.strftime("%Y%m%d-%H%M%S")
        moved = []
        for name in (settings.collection, manifest_collection_name(settings)):
            if name in names:
                client.get_collection(name).modify(name=f"{name}-damaged-{stamp}")
                moved.append(f"{name}-damaged-{stamp}")
        return moved
    store = settings.store_dir
    if not store.exists():
        return []
    with StoreLock(store):  # refuses while the app or another command uses the store
        aside = set_aside_name(store, "damaged")
        os.rename(store, aside)
    return [str(aside)]


def rebuild_store(settings: Settings, open_index: Callable[[], Index]) -> RebuildReport:
    """Set the store aside, then index the recorded files and the corpus folders into a new one."""
    records, notes = recorded_documents(settings)
    report = RebuildReport(notes=notes)
    report.set_aside = set_aside(settings)
    folders = [Path(d).resolve() for d in settings.corpus_dirs if Path(d).is_dir()]
    paths: list[Path] = []
    for record in sorted(records, key=lambda r: r.source):
        path = Path(record.path).resolve() if record.path else None
        if path is None or not path.is_file():
            report.missing.append(record)
        elif not any(folder in path.parents for folder in folders):  # else indexed with its folder
            paths.append(path)
    paths.extend(folders)
    index = open_index()
    try:
        report.results = index.index_paths(paths)
    finally:
        index.close()
    indexed = {r.source for r in report.results if r.status in ("indexed", "skipped")}
    # a file recorded at a path that is gone may have come back through a corpus folder
    report.missing = [r for r in report.missing if r.source not in indexed]
    if not report.results and not report.missing:
        report.notes.append("Aucun fichier à ré-indexer : le nouveau corpus est vide.")
    return report


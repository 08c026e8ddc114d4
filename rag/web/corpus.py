"""The « Corpus » tab: what is indexed, and (administrators only) uploads, re-indexing, removal.

Outputs: ``index_results``, ``documents``, ``remove_pick``, ``source`` (the chat tab's filter),
``search_source`` (the search box's), ``status``, ``corpus_notice``; the search box: ``search_results``,
``search_rows``, ``search_notice``, ``search_article``.
"""

from __future__ import annotations

import errno
import logging
from pathlib import Path
from typing import Any

import gradio as gr

from rag.web.base import TabHandlers
from rag.web.render import describe_error, disk_nearly_full, md_escape
from rag.web.texts import KIND_LABELS, LANG_LABELS, RESULT_LABELS
from rag.workspace import discard_upload, prune_uploads, stage_upload

log = logging.getLogger(__name__)

MAX_UPLOADS = 50
# an unreferenced staged upload younger than this may still be waiting for the index lock
UPLOAD_GRACE_S = 600
SEARCH_RESULTS = 20  # rows of the search table


def file_path(item: Any) -> Path | None:
    """A path from what gr.File gives (a str path) or what an API client may send."""
    if item is None:
        return None
    if isinstance(item, (str, Path)):
        return Path(item)
    for attr in ("path", "name"):
        value = item.get(attr) if isinstance(item, dict) else getattr(item, attr, None)
        if value:
            return Path(str(value))
    return None


def _progress(progress):
    if progress is None:
        return None

    def step(fraction: float, message: str) -> None:
        try:
            progress(max(0.0, min(1.0, fraction)), desc=message)
        except Exception:  # progress is cosmetic
            pass

    return step


def _result_rows(results) -> list[list]:
    return [[r.source, RESULT_LABELS.get(r.status, r.status), r.message] for r in results]


def _summary(results) -> str:
    counts = {s: sum(1 for r in results if r.status == s) for s in RESULT_LABELS}
    return f"{counts['indexed']} indexé(s), {counts['skipped']} inchangé(s), {counts['failed']} en échec."


class CorpusTab(TabHandlers):
    def document_rows(self) -> list[list]:
        from rag.ocr import uncertain_label

        unsure = self.engine.index.uncertain_pages()  # scans: « p. 4 : lecture incertaine »
        return [
            [d.source, d.title, KIND_LABELS.get(d.kind, d.kind), LANG_LABELS.get(d.lang, d.lang), d.articles, d.chunks,
             ("indexé" if d.status == "committed" else "interrompu : à ré-indexer") + (f" ; {uncertain_label(unsure[d.source])}" if d.source in unsure else "")]
            for d in self.engine.index.documents()
        ]

    def remove_choices(self) -> list[str]:
        return [d.source for d in self.engine.index.documents()]

    def corpus_state(self, results: list | None = None, notice: str = "") -> dict:
        """The tab after an event; ``results`` None leaves the last per-file results shown."""
        state = {
            "documents": self.document_rows(), "remove_pick": gr.update(choices=self.remove_choices(), value=None),
            "source": gr.update(choices=self.source_choices()), "search_source": gr.update(choices=self.source_choices()),
            "status": self.status_line(), "corpus_notice": notice,
        }
        if results is not None:
            state["index_results"] = results
        return state

    def _copy_failure(self, item: Path, exc: OSError) -> list:
        from rag.ingest import clean_filename

        data_dir = self.settings.data_dir
        if exc.errno in (errno.ENOSPC, errno.EROFS) or disk_nearly_full(data_dir):  # our side, not the file
            reason = f"Copie impossible : {describe_error(exc, data_dir)}."
        else:
            reason = f"Fichier illisible : {exc.strerror or exc}."
        return [clean_filename(item.name), RESULT_LABELS["failed"], reason]

    def index_uploads(self, files, request: gr.Request | None = None, progress=gr.Progress()) -> dict:
        """Index uploaded files: each is copied under its cleaned name into a folder of our own first."""
        if not self.is_admin(request):
            return self.corpus_state(notice="⚠ Seuls les administrateurs peuvent ajouter des textes au corpus.")
        items = [p for p in (file_path(f) for f in (files or [])) if p is not None]
        if not items:
            return self.corpus_state(notice="⚠ Choisissez d'abord un ou plusieurs fichiers.")
        if len(items) > MAX_UPLOADS:
            return self.corpus_state(notice=f"⚠ Au plus {MAX_UPLOADS} fichiers à la fois.")
        data_dir = self.settings.data_dir
        staged, rows = [], []
        for item in items:
            if not self.shared.downloads.guard.allowed(str(item), self.user_of(request)):
                # an API client can name any file of Gradio's cache, including another user's export
                from rag.ingest import clean_filename

                rows.append([clean_filename(item.name), RESULT_LABELS["failed"], "Fichier refusé : il appartient à un autre utilisateur."])
                continue
            try:
                staged.append(stage_upload(data_dir, item))
            except OSError as exc:
                rows.append(self._copy_failure(item, exc))
        try:
            results = self.engine.index.index_paths(staged, progress=_progress(progress)) if staged else []
        except Exception as exc:
            log.exception("indexing failed")
            for path in staged:
                discard_upload(data_dir, path)
            return self.corpus_state(rows, notice=f"⚠ Indexation interrompue : {md_escape(describe_error(exc, self.settings.store_dir))}")
        for path, result in zip(staged, results):
            if result.status != "indexed":
                discard_upload(data_dir, path)
        prune_uploads(data_dir, {d.path for d in self.engine.index.documents()}, min_age_s=UPLOAD_GRACE_S)
        return self.corpus_state(rows + _result_rows(results), notice=_summary(results))

    def reindex_all(self, request: gr.Request | None = None, progress=gr.Progress()) -> dict:
        """Re-index the corpus folders and every recorded file that still exists (unchanged ones skipped)."""
        if not self.is_admin(request):
            return self.corpus_state(notice="⚠ Seuls les administrateurs peuvent ré-indexer le corpus.")
        folders = [Path(d) for d in self.settings.corpus_dirs if Path(d).is_dir()]
        paths: list[Path] = list(folders)
        for doc in self.engine.index.documents():
            path = Path(doc.path) if doc.path else None
            if path and path.is_file() and not any(path.resolve().is_relative_to(f.resolve()) for f in folders):
                paths.append(path)
        if not paths:
            return self.corpus_state([], notice="Rien à ré-indexer : aucun dossier de corpus ni fichier enregistré n'existe.")
        try:
            results = self.engine.index.index_paths(paths, progress=_progress(progress), force=False)
        except Exception as exc:
            log.exception("re-indexing failed")
            return self.corpus_state(notice=f"⚠ Ré-indexation interrompue : {md_escape(describe_error(exc, self.settings.store_dir))}")
        return self.corpus_state(_result_rows(results), notice=_summary(results))

    def remove_document(self, source, request: gr.Request | None = None) -> dict:
        if not self.is_admin(request):
            return self.corpus_state(notice="⚠ Seuls les administrateurs peuvent retirer des textes du corpus.")
        record = next((d for d in self.engine.index.documents() if d.source == source), None)
        if record is None:
            return self.corpus_state(notice="⚠ Choisissez d'abord un texte indexé.")
        try:
            self.engine.index.remove(record.source)
        except Exception as exc:
            log.exception("remove failed")
            return self.corpus_state(notice=f"⚠ Retrait impossible : {md_escape(describe_error(exc, self.settings.store_dir))}")
        if record.path:
            discard_upload(self.settings.data_dir, Path(record.path))
        return self.corpus_state(notice=f"Texte retiré : {md_escape(record.source)}.")

    # ---- the search box (everyone, admin or not) --------------------------------------------------
    def search_corpus(self, query, kinds=None, langs=None, source=None) -> dict:
        """Passages of the indexed texts for some words, with the filters: one row per article."""
        from rag.reader import search_corpus

        kinds = [k for k in (kinds or []) if k in KIND_LABELS]
        langs = [lang for lang in (langs or []) if lang in LANG_LABELS]
        known = {d.source for d in self.engine.index.documents()}
        sources = [source] if isinstance(source, str) and source in known else []
        cleared = {"search_results": [], "search_rows": [], "search_article": ""}
        try:
            rows = search_corpus(self.engine.retriever, query if isinstance(query, str) else "", kinds, langs, sources, k=SEARCH_RESULTS)
        except ValueError as exc:
            return {**cleared, "search_notice": f"⚠ {md_escape(exc)}"}
        except Exception as exc:
            log.exception("corpus search failed")
            return {**cleared, "search_notice": f"⚠ Recherche impossible : {md_escape(describe_error(exc, self.settings.store_dir))}"}
        if not rows:
            return {**cleared, "search_notice": "Aucun passage trouvé : essayez d'autres mots ou retirez un filtre."}
        table = [[r.label, r.article or "", r.page or "", r.source, r.snippet] for r in rows]
        return {"search_results": table, "search_rows": [r.to_json() for r in rows], "search_article": "",
                "search_notice": f"{len(rows)} passage(s) ; cliquez sur une ligne pour lire l'article entier."}

    def open_search_result(self, rows, evt: gr.SelectData) -> dict:
        """Clicking a result row shows its whole article (or the passage, for a text without articles)."""
        from rag.reader import read_article
        from rag.web.chat import article_markdown

        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        row = rows[index] if isinstance(rows, list) and isinstance(index, int) and 0 <= index < len(rows) else None
        if not isinstance(row, dict):
            return {"search_article": ""}
        if not row.get("article"):
            return {"search_article": f"**{md_escape(row.get('label'))}** — passage sans numéro d'article :\n\n{md_escape(row.get('snippet'))}"}
        return {"search_article": article_markdown(read_article(self.engine.index, str(row["article"]), source=str(row.get("source") or "")))}

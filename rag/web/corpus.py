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
from rag.web.texts import KIND_LABELS, LANG_LABELS, RESULT_LABELS, TEXTS, table, tr, ui_lang
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


def result_label(status: str, lang: str = "fr") -> str:
    return tr(f"result_{status}", lang) if f"result_{status}" in TEXTS else status


def kind_label(kind: str, lang: str = "fr") -> str:
    if lang == "fr" or f"kind_{kind}" not in TEXTS:
        return KIND_LABELS.get(kind, kind)
    return tr(f"kind_{kind}", lang)


def _result_rows(results, lang: str = "fr") -> list[list]:
    # the per-file message comes from rag.index, in French
    return [[r.source, result_label(r.status, lang), r.message] for r in results]


def relabel_results(rows: list[list], lang: str = "fr") -> list[list]:
    """Rows of the « Résultat par fichier » table already shown, their result word in ``lang``."""
    words = {tr(f"result_{status}", other): status for status in RESULT_LABELS for other in ("fr", "en", "ar")}
    return [[row[0], result_label(words[row[1]], lang) if row[1] in words else row[1], *row[2:]] if len(row) >= 2 else row for row in rows]


def _summary(results, lang: str = "fr") -> str:
    counts = {s: sum(1 for r in results if r.status == s) for s in RESULT_LABELS}
    return tr("index_summary", lang).format(**counts)


def search_table(rows: list[dict], lang: str = "fr") -> dict:
    """The search results table from the rows kept in ``search_rows`` (re-sent when the language changes)."""
    return table("search", [[r.get("label", ""), r.get("article") or "", r.get("page") or "", r.get("source", ""), r.get("snippet", "")]
                            for r in rows if isinstance(r, dict)], lang)


class CorpusTab(TabHandlers):
    def document_rows(self, lang: str = "fr") -> list[list]:
        from rag.ocr import uncertain_label

        unsure = self.engine.index.uncertain_pages()  # scans: « p. 4 : lecture incertaine » (rag.ocr's French)
        return [
            [d.source, d.title, kind_label(d.kind, lang), LANG_LABELS.get(d.lang, d.lang), d.articles, d.chunks,
             tr("result_indexed" if d.status == "committed" else "doc_interrupted", lang) + (f" ; {uncertain_label(unsure[d.source])}" if d.source in unsure else "")]
            for d in self.engine.index.documents()
        ]

    def documents_table(self, lang: str = "fr") -> dict:
        return table("documents", self.document_rows(lang), lang)

    def remove_choices(self) -> list[str]:
        return [d.source for d in self.engine.index.documents()]

    def corpus_state(self, results: list | None = None, notice: str = "", lang: str = "fr") -> dict:
        """The tab after an event; ``results`` None leaves the last per-file results shown."""
        state = {
            "documents": self.documents_table(lang), "remove_pick": gr.update(choices=self.remove_choices(), value=None),
            "source": gr.update(choices=self.source_choices(lang)), "search_source": gr.update(choices=self.source_choices(lang)),
            "status": self.status_line(lang), "corpus_notice": notice,
        }
        if results is not None:
            state["index_results"] = table("result", results, lang)
        return state

    def _copy_failure(self, item: Path, exc: OSError, lang: str = "fr") -> list:
        from rag.ingest import clean_filename

        data_dir = self.settings.data_dir
        if exc.errno in (errno.ENOSPC, errno.EROFS) or disk_nearly_full(data_dir):  # our side, not the file
            reason = tr("copy_failed", lang).format(reason=describe_error(exc, data_dir))
        else:
            reason = tr("file_unreadable", lang).format(reason=exc.strerror or exc)
        return [clean_filename(item.name), result_label("failed", lang), reason]

    def index_uploads(self, files, request: gr.Request | None = None, progress=gr.Progress(), lang: str = "fr") -> dict:
        """Index uploaded files: each is copied under its cleaned name into a folder of our own first."""
        lang = ui_lang(lang)
        if not self.is_admin(request):
            return self.corpus_state(notice=tr("admins_add", lang), lang=lang)
        items = [p for p in (file_path(f) for f in (files or [])) if p is not None]
        if not items:
            return self.corpus_state(notice=tr("choose_files", lang), lang=lang)
        if len(items) > MAX_UPLOADS:
            return self.corpus_state(notice=tr("too_many_files", lang).format(n=MAX_UPLOADS), lang=lang)
        data_dir = self.settings.data_dir
        staged, rows = [], []
        for item in items:
            if not self.shared.downloads.guard.allowed(str(item), self.user_of(request)):
                # an API client can name any file of Gradio's cache, including another user's export
                from rag.ingest import clean_filename

                rows.append([clean_filename(item.name), result_label("failed", lang), tr("file_refused", lang)])
                continue
            try:
                staged.append(stage_upload(data_dir, item))
            except OSError as exc:
                rows.append(self._copy_failure(item, exc, lang))
        try:
            results = self.engine.index.index_paths(staged, progress=_progress(progress)) if staged else []
        except Exception as exc:
            log.exception("indexing failed")
            for path in staged:
                discard_upload(data_dir, path)
            return self.corpus_state(rows, notice=tr("index_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.store_dir))), lang=lang)
        for path, result in zip(staged, results):
            if result.status != "indexed":
                discard_upload(data_dir, path)
        prune_uploads(data_dir, {d.path for d in self.engine.index.documents()}, min_age_s=UPLOAD_GRACE_S)
        return self.corpus_state(rows + _result_rows(results, lang), notice=_summary(results, lang), lang=lang)

    def reindex_all(self, request: gr.Request | None = None, progress=gr.Progress(), lang: str = "fr") -> dict:
        """Re-index the corpus folders and every recorded file that still exists (unchanged ones skipped)."""
        lang = ui_lang(lang)
        if not self.is_admin(request):
            return self.corpus_state(notice=tr("admins_reindex", lang), lang=lang)
        folders = [Path(d) for d in self.settings.corpus_dirs if Path(d).is_dir()]
        paths: list[Path] = list(folders)
        for doc in self.engine.index.documents():
            path = Path(doc.path) if doc.path else None
            if path and path.is_file() and not any(path.resolve().is_relative_to(f.resolve()) for f in folders):
                paths.append(path)
        if not paths:
            return self.corpus_state([], notice=tr("nothing_to_reindex", lang), lang=lang)
        try:
            results = self.engine.index.index_paths(paths, progress=_progress(progress), force=False)
        except Exception as exc:
            log.exception("re-indexing failed")
            return self.corpus_state(notice=tr("reindex_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.store_dir))), lang=lang)
        return self.corpus_state(_result_rows(results, lang), notice=_summary(results, lang), lang=lang)

    def remove_document(self, source, request: gr.Request | None = None, lang: str = "fr") -> dict:
        lang = ui_lang(lang)
        if not self.is_admin(request):
            return self.corpus_state(notice=tr("admins_remove", lang), lang=lang)
        record = next((d for d in self.engine.index.documents() if d.source == source), None)
        if record is None:
            return self.corpus_state(notice=tr("choose_document", lang), lang=lang)
        try:
            self.engine.index.remove(record.source)
        except Exception as exc:
            log.exception("remove failed")
            return self.corpus_state(notice=tr("remove_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.store_dir))), lang=lang)
        if record.path:
            discard_upload(self.settings.data_dir, Path(record.path))
        return self.corpus_state(notice=tr("document_removed", lang).format(source=md_escape(record.source)), lang=lang)

    # ---- the search box (everyone, admin or not) --------------------------------------------------
    def search_corpus(self, query, kinds=None, langs=None, source=None, lang: str = "fr") -> dict:
        """Passages of the indexed texts for some words, with the filters: one row per article."""
        from rag.reader import search_corpus

        lang = ui_lang(lang)
        kinds = [k for k in (kinds or []) if k in KIND_LABELS]
        langs = [lang for lang in (langs or []) if lang in LANG_LABELS]
        known = {d.source for d in self.engine.index.documents()}
        sources = [source] if isinstance(source, str) and source in known else []
        cleared = {"search_results": table("search", [], lang), "search_rows": [], "search_article": ""}
        try:
            rows = search_corpus(self.engine.retriever, query if isinstance(query, str) else "", kinds, langs, sources, k=SEARCH_RESULTS)
        except ValueError as exc:
            return {**cleared, "search_notice": f"⚠ {md_escape(exc)}"}
        except Exception as exc:
            log.exception("corpus search failed")
            return {**cleared, "search_notice": tr("search_failed", lang).format(reason=md_escape(describe_error(exc, self.settings.store_dir)))}
        if not rows:
            return {**cleared, "search_notice": tr("search_none", lang)}
        found = [r.to_json() for r in rows]
        return {"search_results": search_table(found, lang), "search_rows": found, "search_article": "",
                "search_notice": tr("search_found", lang).format(n=len(rows))}

    def open_search_result(self, rows, evt: gr.SelectData, lang: str = "fr") -> dict:
        """Clicking a result row shows its whole article (or the passage, for a text without articles)."""
        from rag.reader import read_article
        from rag.web.chat import article_markdown

        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        row = rows[index] if isinstance(rows, list) and isinstance(index, int) and 0 <= index < len(rows) else None
        if not isinstance(row, dict):
            return {"search_article": ""}
        if not row.get("article"):
            return {"search_article": f"**{md_escape(row.get('label'))}** — {tr('passage_no_article', ui_lang(lang))} :\n\n{md_escape(row.get('snippet'))}"}
        return {"search_article": article_markdown(read_article(self.engine.index, str(row["article"]), source=str(row.get("source") or "")), ui_lang(lang))}

"""The « Projet de convention » tab: the user's agreement project (title, preamble, clauses in
order), its preview and its Markdown / DOCX exports.

Every change made here (a clause added from Rédaction, edited, moved, removed, the title or the
preamble saved) is first saved to the user's JSON project, then taken into the current round of
the negotiation database (:func:`rag.negotiation.sync_workspace_project`). A clause changed in
both places is never overwritten: both texts are shown side by side. When the database cannot be
reached, the JSON save stands and the notice says so.

Outputs: ``project_title``, ``project_preamble``, ``project_table``, ``clause_pick``,
``project_preview``, ``project_notice``; after a change also ``project_conflicts``,
``take_negotiation`` (the button that resolves them, shown only then) and ``clause_edit``; exports give ``export_file`` and ``project_notice``.
"""

from __future__ import annotations

import html
import logging
import threading
import time

import gradio as gr

from rag.export import EXPORT_FORMATS
from rag.web.base import TabHandlers
from rag.web.render import describe_error, md_escape
from rag.web.texts import VARIANT_LABELS, table, tr, ui_lang
from rag.workspace import Workspace

log = logging.getLogger(__name__)

DB_RETRY_S = 30.0  # after a failed connection, the next changes do not wait on the database again before this
NOT_SYNCED = tr("not_synced")  # in French; the handlers word it in the interface language (rag.web.texts)


def project_state(ws: Workspace, notice: str = "", pick: int | None = None, lang: str = "fr") -> dict:
    """The tab as the project is on disk; ``pick``: the clause to keep selected; the table's
    headers and variants in the interface language ``lang``."""
    project = ws.load_project()
    rows, choices = [], []
    for n, c in enumerate(project["clauses"], start=1):
        below = sum(1 for k in c.get("checks") or [] if k.get("status") == "below_floor")
        variant = c.get("variant", "")
        rows.append([n, c.get("title", ""), tr(f"variant_{variant}", lang) if variant in VARIANT_LABELS else variant, below, str(c.get("added", ""))[:16].replace("T", " ")])
        choices.append((f"{n}. {c.get('title', '')}", n - 1))
    if pick is not None and not (0 <= pick < len(choices)):
        pick = None
    try:
        from rag.export import agreement_markdown

        preview = agreement_markdown(ws.agreement())
    except Exception as exc:
        log.warning("preview failed: %s", exc)
        preview = ""
    return {
        "project_title": project["title"], "project_preamble": project["preamble"], "project_table": table("project", rows, lang),
        "clause_pick": gr.update(choices=choices, value=pick), "project_preview": preview, "project_notice": notice,
    }


def conflicts_html(conflicts: list[dict]) -> str:
    """Each clause changed on both sides: the tab's text beside the negotiation's, with who wrote
    the latter and its version; what to do next. Everything escaped."""
    from rag.negotiation import diff_html

    if not conflicts:
        return ""
    parts = ['<div class="sync-conflicts"><p style="color:#b00;font-weight:600">⚠ Conflit de modification : '
             f"{len(conflicts)} clause(s) ont été modifiées à la fois ici et dans l'onglet Négociation. Rien n'a été écrasé : "
             "la négociation garde son texte, le vôtre reste dans le Projet de convention.</p>"]
    for c in conflicts:
        who = c.get("database_author") or "un membre"
        right = f"Négociation — version {c.get('database_version')} de {who} (gardée)"
        title = html.escape(str(c.get("title", "")))
        if c.get("workspace_text"):
            parts.append(f"<h4>« {title} »</h4>" + diff_html(str(c["workspace_text"]), str(c.get("database_text", "")),
                                                            left="Projet de convention — votre texte (non repris)", right=right))
        else:
            parts.append(f"<h4>« {title} » retirée ici, mais modifiée dans la négociation</h4>"
                         + diff_html("", str(c.get("database_text", "")), left="Projet de convention — clause retirée", right=right)
                         + "<p>Elle reste dans le tour en cours : pour la retirer, donnez-lui le statut « retirée » dans l'onglet Négociation.</p>")
    parts.append("<p>Pour garder le texte de la négociation : « Reprendre les textes de la négociation ». Pour imposer le vôtre : "
                 "enregistrez-le dans l'onglet Négociation (la version y est vérifiée).</p></div>")
    return "".join(parts)


def sync_error(exc: BaseException) -> str:
    """Why the negotiation could not be updated, in French (the database's own messages are)."""
    from rag.db import DatabaseError
    from rag.negotiation import StaleVersion

    if isinstance(exc, (DatabaseError, PermissionError, ValueError, StaleVersion)) and not isinstance(exc, OSError):
        return str(exc).rstrip(".")
    return describe_error(exc).rstrip(".")


def _index(pick) -> int | None:
    try:
        return int(pick)
    except (TypeError, ValueError):
        return None


class ProjectTab(TabHandlers):
    def __init__(self, shared):
        super().__init__(shared)
        self._db = None
        self._db_error: tuple[float, Exception] | None = None
        self._db_lock = threading.Lock()

    # ---- the negotiation database --------------------------------------------------------------
    def database(self):
        """The negotiation database, opened once (the Négociation tab shares it). Raises
        :class:`rag.db.DatabaseError`; after a failure, the same error for DB_RETRY_S seconds."""
        from rag.db import open_database

        with self._db_lock:
            if self._db is None:
                if self._db_error is not None and time.monotonic() - self._db_error[0] < DB_RETRY_S:
                    raise self._db_error[1]
                try:
                    self._db = open_database(self.settings)
                except Exception as exc:
                    self._db_error = (time.monotonic(), exc)
                    raise
                self._db_error = None
            return self._db

    def sync_report(self, request: gr.Request | None):
        """Take the user's JSON project into their negotiation project (see the module docstring)."""
        from rag.negotiation import sync_workspace_project

        return sync_workspace_project(self.database(), self.settings.data_dir, self.user_of(request), self.shared.library)

    def sync_negotiation(self, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """``project_notice`` (what the sync did, or why it could not), ``project_conflicts`` and the
        ``take_negotiation`` button (shown when a clause kept in the tab is in conflict)."""
        try:
            report = self.sync_report(request)
        except Exception as exc:  # the JSON save is done: a database failure must not break the tab
            log.error("negotiation sync failed: %s", exc)
            return {"project_notice": tr("not_synced", ui_lang(lang)).format(reason=md_escape(sync_error(exc))), "project_conflicts": "",
                    "take_negotiation": gr.update(visible=False)}
        return {"project_notice": md_escape(report.message()), "project_conflicts": conflicts_html(report.conflicts),
                "take_negotiation": gr.update(visible=any(c.get("workspace_text") for c in report.conflicts))}

    def _synced(self, ws: Workspace, notice: str = "", pick: int | None = None, request: gr.Request | None = None, lang: str = "fr") -> dict:
        state = project_state(ws, pick=pick, lang=lang)
        sync = self.sync_negotiation(request, lang)
        state["project_notice"] = "\n\n".join(n for n in (notice, sync["project_notice"]) if n)
        state["project_conflicts"], state["take_negotiation"] = sync["project_conflicts"], sync["take_negotiation"]
        state["clause_edit"] = self._clause_text(ws, pick)
        return state

    # ---- the tab's changes ----------------------------------------------------------------------
    def project_view(self, request: gr.Request | None = None, lang: str = "fr") -> dict:
        return project_state(self.workspace(request), lang=ui_lang(lang))

    def _not_saved(self, ws: Workspace, exc: OSError, pick: int | None = None, lang: str = "fr") -> dict:
        log.error("project not saved: %s", exc)
        return project_state(ws, notice=tr("not_saved", lang).format(reason=md_escape(describe_error(exc, self.settings.data_dir))), pick=pick, lang=lang)

    @staticmethod
    def _clause_text(ws: Workspace, pick: int | None) -> str:
        clauses = ws.load_project()["clauses"]
        return str(clauses[pick].get("text", "")) if pick is not None and 0 <= pick < len(clauses) else ""

    def pick_clause(self, pick, request: gr.Request | None = None) -> dict:
        """The chosen clause's text, to edit."""
        return {"clause_edit": self._clause_text(self.workspace(request), _index(pick))}

    def edit_clause(self, pick, text, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """Save the edited text of the chosen clause (its place and its id in the negotiation stay)."""
        from rag.workspace import MAX_CLAUSE_CHARS

        lang = ui_lang(lang)
        ws = self.workspace(request)
        index = _index(pick)
        text = text.replace("\r\n", "\n").strip() if isinstance(text, str) else ""
        if index is None or not 0 <= index < len(ws.load_project()["clauses"]):
            return project_state(ws, notice=tr("choose_clause", lang), lang=lang)
        if not text:
            return project_state(ws, notice=tr("edit_empty", lang), pick=index, lang=lang)
        if len(text) > MAX_CLAUSE_CHARS:
            return project_state(ws, notice=tr("edit_too_long", lang).format(n=MAX_CLAUSE_CHARS), pick=index, lang=lang)
        try:
            with ws.lock:
                project = ws.load_project()
                if not 0 <= index < len(project["clauses"]):
                    return project_state(ws, notice=tr("clause_gone", lang), lang=lang)
                clause = project["clauses"][index]
                unchanged = str(clause.get("text", "")).strip() == text
                if not unchanged:
                    clause["text"], clause["edited"] = text, True
                    ws.save_project(project)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index, lang=lang)
        return self._synced(ws, tr("text_unchanged", lang) if unchanged else tr("text_saved", lang).format(title=md_escape(clause.get("title", ""))),
                            index, request, lang)

    def take_negotiation_texts(self, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """Resolve the conflicts by taking the negotiation's texts into the JSON project (the
        clauses removed here stay removed: they are settled in the Négociation tab)."""
        from sqlalchemy import select

        from rag.db import ProjectClause
        from rag.negotiation import WORKSPACE_MARK, _readable, workspace_clause_ids

        ws = self.workspace(request)
        try:
            report = self.sync_report(request)
            conflicts = [c for c in report.conflicts if c.get("workspace_text")]
            if not conflicts:
                return self._synced(ws, tr("no_conflict", lang), None, request, lang)
            with self.database().session(write=False) as s:
                marks = {row.key: ((row.data or {}).get(WORKSPACE_MARK) or {}).get("id")
                         for row in s.scalars(select(ProjectClause).where(ProjectClause.project_id == report.project_id,
                                                                          ProjectClause.key.in_([c["key"] for c in conflicts])))}
        except Exception as exc:
            log.error("negotiation texts not read: %s", exc)
            return {**project_state(ws, lang=lang), "project_notice": tr("not_synced", lang).format(reason=md_escape(sync_error(exc)))}
        taken = []
        try:
            with ws.lock:
                project = ws.load_project()
                readable = [c for c in project["clauses"] if _readable(c)]
                by_id = dict(zip(workspace_clause_ids(readable), readable))
                for c in conflicts:
                    clause = by_id.get(marks.get(c["key"]) or "")
                    if clause is not None:
                        clause["text"], clause["title"] = c["database_text"].strip(), c["title"]
                        taken.append(c["title"])
                if taken:
                    ws.save_project(project)
        except OSError as exc:
            return self._not_saved(ws, exc)
        return self._synced(ws, tr("texts_taken", lang).format(titles=", ".join("« " + md_escape(t) + " »" for t in taken))
                            if taken else tr("conflicts_gone", lang), None, request, lang)

    def save_project_meta(self, title, preamble, request: gr.Request | None = None, lang: str = "fr") -> dict:
        lang = ui_lang(lang)
        ws = self.workspace(request)
        try:
            ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
        except OSError as exc:
            return self._not_saved(ws, exc, lang=lang)
        return self._synced(ws, tr("meta_saved", lang), request=request, lang=lang)

    def _move(self, pick, offset: int, request, lang: str = "fr") -> dict:
        lang = ui_lang(lang)
        ws = self.workspace(request)
        index = _index(pick)
        count = len(ws.load_project()["clauses"])
        if index is None or not 0 <= index < count:
            return project_state(ws, notice=tr("choose_clause", lang), lang=lang)
        if not 0 <= index + offset < count:
            return project_state(ws, notice=tr("at_the_end", lang), pick=index, lang=lang)
        try:
            ws.move_clause(index, offset)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index, lang=lang)
        return self._synced(ws, "", index + offset, request, lang)

    def move_clause_up(self, pick, request: gr.Request | None = None, lang: str = "fr") -> dict:
        return self._move(pick, -1, request, lang)

    def move_clause_down(self, pick, request: gr.Request | None = None, lang: str = "fr") -> dict:
        return self._move(pick, 1, request, lang)

    def remove_clause(self, pick, request: gr.Request | None = None, lang: str = "fr") -> dict:
        lang = ui_lang(lang)
        ws = self.workspace(request)
        index = _index(pick)
        project = ws.load_project()
        if index is None or not 0 <= index < len(project["clauses"]):
            return project_state(ws, notice=tr("choose_clause", lang), lang=lang)
        title = project["clauses"][index].get("title", "")
        try:
            ws.remove_clause(index)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index, lang=lang)
        return self._synced(ws, tr("clause_removed", lang).format(title=md_escape(title)), request=request, lang=lang)

    def export_project(self, fmt: str, title=None, preamble=None, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """Save title and preamble when given, write the export, hand the browser a private copy."""
        lang = ui_lang(lang)
        ws = self.workspace(request)
        if fmt not in EXPORT_FORMATS:
            return {"export_file": None, "project_notice": tr("unknown_format", lang)}
        try:
            if title is not None or preamble is not None:
                ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
            if not ws.load_project()["clauses"]:
                return {"export_file": None, "project_notice": tr("project_empty", lang)}
            path = ws.export(fmt)
            copy = self.shared.downloads.copy(path, self.user_of(request))
        except Exception as exc:
            log.exception("export failed")
            reason = describe_error(exc, self.settings.data_dir if isinstance(exc, OSError) else None)
            return {"export_file": None, "project_notice": tr("project_export_failed", lang).format(reason=md_escape(reason))}
        return {"export_file": str(copy), "project_notice": tr("export_ready", lang).format(name=md_escape(path.name))}

    def export_markdown(self, title=None, preamble=None, request: gr.Request | None = None, lang: str = "fr") -> dict:
        return self.export_project("md", title, preamble, request, lang)

    def export_docx(self, title=None, preamble=None, request: gr.Request | None = None, lang: str = "fr") -> dict:
        return self.export_project("docx", title, preamble, request, lang)

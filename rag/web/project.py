"""The « Projet de convention » tab: the user's agreement project (title, preamble, clauses in
order), its preview and its Markdown / DOCX exports.

Outputs: ``project_title``, ``project_preamble``, ``project_table``, ``clause_pick``,
``project_preview``, ``project_notice``; exports give ``export_file`` and ``project_notice``.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.web.base import TabHandlers
from rag.web.render import describe_error, md_escape
from rag.web.texts import VARIANT_LABELS
from rag.workspace import Workspace

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("md", "docx")


def project_state(ws: Workspace, notice: str = "", pick: int | None = None) -> dict:
    """The tab as the project is on disk; ``pick``: the clause to keep selected."""
    project = ws.load_project()
    rows, choices = [], []
    for n, c in enumerate(project["clauses"], start=1):
        below = sum(1 for k in c.get("checks") or [] if k.get("status") == "below_floor")
        rows.append([n, c.get("title", ""), VARIANT_LABELS.get(c.get("variant", ""), c.get("variant", "")), below, str(c.get("added", ""))[:16].replace("T", " ")])
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
        "project_title": project["title"], "project_preamble": project["preamble"], "project_table": rows,
        "clause_pick": gr.update(choices=choices, value=pick), "project_preview": preview, "project_notice": notice,
    }


def _index(pick) -> int | None:
    try:
        return int(pick)
    except (TypeError, ValueError):
        return None


class ProjectTab(TabHandlers):
    def project_view(self, request: gr.Request | None = None) -> dict:
        return project_state(self.workspace(request))

    def _not_saved(self, ws: Workspace, exc: OSError, pick: int | None = None) -> dict:
        log.error("project not saved: %s", exc)
        return project_state(ws, notice=f"⚠ Modification non enregistrée : {md_escape(describe_error(exc, self.settings.data_dir))}.", pick=pick)

    def save_project_meta(self, title, preamble, request: gr.Request | None = None) -> dict:
        ws = self.workspace(request)
        try:
            ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
        except OSError as exc:
            return self._not_saved(ws, exc)
        return project_state(ws, notice="Titre et préambule enregistrés.")

    def _move(self, pick, offset: int, request) -> dict:
        ws = self.workspace(request)
        index = _index(pick)
        count = len(ws.load_project()["clauses"])
        if index is None or not 0 <= index < count:
            return project_state(ws, notice="⚠ Choisissez d'abord une clause dans la liste.")
        if not 0 <= index + offset < count:
            return project_state(ws, notice="La clause est déjà à cette extrémité.", pick=index)
        try:
            ws.move_clause(index, offset)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index)
        return project_state(ws, pick=index + offset)

    def move_clause_up(self, pick, request: gr.Request | None = None) -> dict:
        return self._move(pick, -1, request)

    def move_clause_down(self, pick, request: gr.Request | None = None) -> dict:
        return self._move(pick, 1, request)

    def remove_clause(self, pick, request: gr.Request | None = None) -> dict:
        ws = self.workspace(request)
        index = _index(pick)
        project = ws.load_project()
        if index is None or not 0 <= index < len(project["clauses"]):
            return project_state(ws, notice="⚠ Choisissez d'abord une clause dans la liste.")
        title = project["clauses"][index].get("title", "")
        try:
            ws.remove_clause(index)
        except OSError as exc:
            return self._not_saved(ws, exc, pick=index)
        return project_state(ws, notice=f"Clause « {md_escape(title)} » retirée du projet.")

    def export_project(self, fmt: str, title=None, preamble=None, request: gr.Request | None = None) -> dict:
        """Save title and preamble when given, write the export, hand the browser a private copy."""
        ws = self.workspace(request)
        if fmt not in EXPORT_FORMATS:
            return {"export_file": None, "project_notice": "⚠ Format inconnu."}
        try:
            if title is not None or preamble is not None:
                ws.set_project_meta(title if isinstance(title, str) else "", preamble if isinstance(preamble, str) else "")
            if not ws.load_project()["clauses"]:
                return {"export_file": None, "project_notice": "⚠ Le projet ne contient encore aucune clause : ajoutez-en depuis l'onglet Rédaction."}
            path = ws.export(fmt)
            copy = self.shared.downloads.copy(path, self.user_of(request))
        except Exception as exc:
            log.exception("export failed")
            reason = describe_error(exc, self.settings.data_dir if isinstance(exc, OSError) else None)
            return {"export_file": None, "project_notice": f"⚠ Export impossible : {md_escape(reason)}. Aucun fichier incomplet n'a été laissé."}
        return {"export_file": str(copy), "project_notice": f"Export prêt : {md_escape(path.name)} (enregistré aussi dans votre dossier d'exports)."}

    def export_markdown(self, title=None, preamble=None, request: gr.Request | None = None) -> dict:
        return self.export_project("md", title, preamble, request)

    def export_docx(self, title=None, preamble=None, request: gr.Request | None = None) -> dict:
        return self.export_project("docx", title, preamble, request)

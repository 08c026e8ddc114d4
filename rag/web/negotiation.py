"""The « Négociation » tab: rounds, status per clause, counter-proposals, redline, costing.

:class:`NegotiationHandlers` holds the logic (plain methods returning dicts keyed by output name,
testable without a browser); :func:`build_negotiation_tab` lays the components out inside the
caller's ``gr.Tab`` and wires them. The member is the login (``user_of(request)``); files for
download go through the caller's ``deliver(path, user)``, which grants them to that user only.
"""

# no `from __future__ import annotations`: Gradio reads the `gr.Request` hints of the nested event
# functions below at run time, and `gr` is only imported inside build_negotiation_tab
import html
import logging
import tempfile
from pathlib import Path
from typing import Any, Callable

from rag.db import STATUS_LABELS, ClauseStatus, Database, DatabaseError, Project, migrate_workspaces, open_database
from rag.negotiation import (
    Negotiation, RoundClosed, StaleVersion, create_project, projects_for, share_project, sync_workspace_project, teams_for,
)
from rag.web.texts import tr

log = logging.getLogger(__name__)

STATUS_CHOICES = [(label, status.value) for status, label in STATUS_LABELS.items()]
CLAUSE_COLUMNS = ["N°", "Clause", "Statut", "Version", "Dernier auteur", "Mandat"]
ROUND_COLUMNS = ["Tour", "Date", "Note", "Ouvert par", "Statuts"]
NOT_SHARED = tr("nego_not_shared")  # in French; teams() words it in the interface language
COST_COLUMNS = ["Revendication", "Année", "Coût (MAD)", "% masse salariale", "Minimum légal (MAD)"]


class NegotiationHandlers:
    def __init__(self, db: Database, settings, library: list, rules: dict, deliver: Callable[[Path, str | None], Path] | None = None):
        self.db = db
        self.settings = settings
        self.library = library
        self.rules = rules
        self.deliver = deliver or (lambda path, user: path)
        self.exports = Path(tempfile.mkdtemp(prefix="ittifaq-nego-"))

    def _user(self, user: str | None) -> str:
        from rag.workspace import safe_user_id

        return safe_user_id(user)

    def _negotiation(self, project_id, user) -> Negotiation:
        return Negotiation(self.db, int(project_id), self._user(user), self.library, self.rules)

    def projects(self, user: str | None, lang: str = "fr") -> dict:
        """Projects of the member, after taking the « Projet de convention » tab into the current
        round (:func:`sync_workspace_project`; a project created from it when there is none yet).
        ``sync``: what the sync did; ``conflicts``: the clauses changed on both sides, side by side;
        ``teams``: the share dropdown (shown only with login on and for a member of a team)."""
        from rag.web.project import conflicts_html, sync_error

        sync, conflicts = "", ""
        try:
            migrate_workspaces(self.db, self.settings.data_dir, self.library)
            report = sync_workspace_project(self.db, self.settings.data_dir, self._user(user), self.library)
            sync, conflicts = report.message(), conflicts_html(report.conflicts)
        except Exception as exc:  # the list still opens: the projects already in the database
            log.error("negotiation sync failed: %s", exc)
            sync = f"⚠ Projet de convention non repris dans la négociation : {sync_error(exc)}."
        try:
            found = projects_for(self.db, self._user(user))
        except DatabaseError as exc:
            return {"projects": [], "notice": f"⚠ {exc}", "sync": sync, "conflicts": conflicts, "teams": self.teams(None, user, lang)}
        return {"projects": [(f"{p['title']} — tour {p['rounds']}" + (f" ({p['team']})" if p["team"] else ""), p["id"]) for p in found],
                "notice": "" if found else tr("nego_none", lang),
                "sync": sync, "conflicts": conflicts, "teams": self.teams(found[0]["id"] if found else None, user, lang)}

    def teams(self, project_id, user: str | None, lang: str = "fr") -> dict:
        """The share dropdown: the member's teams and the project's current one ("" : not shared).
        Hidden without login (no member) or for a member of no team."""
        hidden = {"visible": False, "choices": [], "value": None}
        if not user:
            return hidden
        try:
            teams = teams_for(self.db, self._user(user))
            if not teams:
                return hidden
            current = None
            if project_id not in (None, ""):
                with self.db.session(write=False) as s:
                    project = s.get(Project, int(project_id))
                    current = project.team_id if project is not None else None
        except (DatabaseError, ValueError, TypeError) as exc:
            log.error("teams not read: %s", exc)
            return hidden
        return {"visible": True, "choices": [(tr("nego_not_shared", lang), "")] + [(t["name"], str(t["id"])) for t in teams],
                "value": str(current) if current is not None else ""}

    def share(self, project_id, team, user: str | None, lang: str = "fr") -> dict:
        """Share the project with one of the member's teams ("" : theirs alone again)."""
        if project_id in (None, ""):
            return {"notice": tr("nego_pick_first", lang), "teams": self.teams(None, user, lang)}
        try:
            team_id = int(team) if team not in (None, "") else None
            share_project(self.db, int(project_id), self._user(user), team_id)
        except (DatabaseError, KeyError, PermissionError, ValueError, TypeError) as exc:
            reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            return {"notice": tr("nego_share_refused", lang).format(reason=reason), "teams": self.teams(project_id, user, lang)}
        teams = self.teams(project_id, user, lang)
        name = dict((v, k) for k, v in teams["choices"]).get(teams["value"], "")
        notice = tr("nego_shared", lang).format(name=name) if team_id else tr("nego_private", lang)
        return {"notice": notice, "teams": teams}

    def view(self, project_id, user: str | None, notice: str = "", lang: str = "fr") -> dict:
        if project_id in (None, ""):
            return {"rounds": [], "clauses": [], "clause_choices": [], "notice": notice or tr("nego_pick", lang)}
        try:
            n = self._negotiation(project_id, user)
            rounds = [[r.number, r.date, r.note, r.created_by, ", ".join(f"{STATUS_LABELS[ClauseStatus(k)]} : {v}" for k, v in r.statuses.items())] for r in n.rounds()]
            clauses = n.clauses()
        except (DatabaseError, KeyError, PermissionError) as exc:
            return {"rounds": [], "clauses": [], "clause_choices": [], "notice": f"⚠ {exc}"}
        rows = [[c.position, c.title, c.status_label, c.version, c.author, (c.mandate or {}).get("label", "—")] for c in clauses]
        return {"rounds": rounds, "clauses": rows, "clause_choices": [(f"{c.position}. {c.title}", c.key) for c in clauses], "notice": notice}

    def open_clause(self, project_id, key, user: str | None) -> dict:
        try:
            n = self._negotiation(project_id, user)
            c = n.clause(key)
            history = n.history(key)
        except (DatabaseError, KeyError, PermissionError) as exc:
            return {"text": "", "status": None, "version": None, "history": f"⚠ {html.escape(str(exc))}"}
        lines = [f"- tour {e['round']} · {e['at'].replace('T', ' ')} · **{html.escape(e['author'])}** · {e['status_label']}"
                 + (f" — {html.escape(e['note'])}" if e["note"] else "") for e in history]
        return {"text": c.text, "status": c.status, "version": c.version, "history": "\n".join(lines)}

    def save(self, project_id, key, text, status, version, user: str | None, lang: str = "fr") -> dict:
        try:
            n = self._negotiation(project_id, user)
            saved = n.save_clause(key, text or "", int(version), status=status or None)
        except StaleVersion as exc:
            out = self.view(project_id, user, f"⚠ {exc}")
            out.update(text=exc.their_text, version=exc.current.version, status=exc.current.status)
            return out
        except (DatabaseError, KeyError, ValueError, PermissionError, TypeError) as exc:
            return self.view(project_id, user, tr("nego_save_refused", lang).format(reason=exc))
        out = self.view(project_id, user, tr("nego_saved", lang).format(version=saved.version))
        out.update(text=saved.text, version=saved.version, status=saved.status)
        return out

    def new_round(self, project_id, note, user: str | None, lang: str = "fr") -> dict:
        try:
            r = self._negotiation(project_id, user).new_round(note or "")
        except (DatabaseError, RoundClosed, KeyError, PermissionError) as exc:
            return self.view(project_id, user, f"⚠ {exc}")
        return self.view(project_id, user, tr("nego_round_opened", lang).format(n=r.number))

    def import_counter(self, project_id, file, user: str | None, lang: str = "fr") -> dict:
        path = Path(getattr(file, "name", file) or "") if file else None
        if not path or not path.is_file():
            return {"comparison": None, "diff": "", "notice": tr("nego_counter_pick", lang)}
        try:
            comparison = self._negotiation(project_id, user).import_counter_proposal(path, max_bytes=self.settings.max_upload_mb * 1024 * 1024,
                                                                                    timeout_s=self.settings.parse_timeout_s)
        except (ValueError, DatabaseError, KeyError, PermissionError) as exc:
            return {"comparison": None, "diff": "", "notice": f"⚠ {exc}"}
        parts = []
        for p in comparison["pairs"]:
            head = html.escape(f"{p['our_title'] or '—'} ↔ {p['their_title'] or '—'} ({p['method']})")
            flags = "".join(f'<div style="color:#b00;font-weight:600">⚠ {html.escape(c["message"])} (art. {html.escape(str(c["article"]))})</div>' for c in p["below_floor"])
            parts.append(f"<h4>{head}</h4>{flags}{p['diff_html']}")
        changed = sum(1 for p in comparison["pairs"] if p["changed"] or p["key"] is None)
        return {"comparison": comparison, "diff": "".join(parts), "notice": tr("nego_compared", lang).format(n=changed)}

    def apply_counter(self, project_id, comparison, user: str | None, lang: str = "fr") -> dict:
        if not comparison:
            return self.view(project_id, user, tr("nego_import_first", lang))
        try:
            applied = self._negotiation(project_id, user).apply_counter_proposal(comparison)
        except StaleVersion as exc:
            return self.view(project_id, user, tr("nego_import_refused", lang).format(reason=exc))
        except (DatabaseError, KeyError, ValueError, PermissionError) as exc:
            return self.view(project_id, user, f"⚠ {exc}")
        return self.view(project_id, user, tr("nego_applied", lang).format(n=len(applied)))

    def redline(self, project_id, from_round, to_round, user: str | None, lang: str = "fr") -> dict:
        from rag.export import atomic_write_bytes, safe_filename

        try:
            n = self._negotiation(project_id, user)
            data = n.redline(int(from_round or 1), int(to_round) if to_round else None)
        except (DatabaseError, KeyError, PermissionError, ValueError, TypeError) as exc:
            return {"file": None, "notice": f"⚠ {exc}"}
        path = self.exports / safe_filename(f"{n.title}-modifications-tour-{from_round}", ".docx")
        atomic_write_bytes(path, data)
        return {"file": str(self.deliver(path, user)), "notice": tr("nego_redline_ready", lang)}

    def cost(self, project_id, grid_file, years, user: str | None, lang: str = "fr") -> dict:
        from rag.costing import GridError, cost_demands, costing_xlsx, demands_from_clause, load_grid
        from rag.export import atomic_write_bytes

        path = Path(getattr(grid_file, "name", grid_file) or "") if grid_file else None
        if not path or not path.is_file():
            return {"table": [], "chart": None, "file": None, "notice": tr("nego_grid_pick", lang)}
        try:
            grid, notices = load_grid(path, self.settings.max_grid_mb)
            n = self._negotiation(project_id, user)
            demands = []
            for clause in n.agreement().clauses:
                found, notes = demands_from_clause(clause, self.rules)
                demands += found
                notices += notes
            costing = cost_demands(grid, demands, int(years or 3), self.settings.employer_contribution_rate, notices, self.settings.employer_contribution_source)
        except (GridError, ValueError, DatabaseError, KeyError, PermissionError) as exc:
            return {"table": [], "chart": None, "file": None, "notice": f"⚠ {exc}"}
        table = [[line.label, y + 1, round(line.years[y]), round(line.shares[y], 2), round(line.floor_years[y])] for line in costing.lines for y in range(costing.years)]
        table += [["TOTAL", y + 1, round(costing.totals[y]), round(costing.total_shares[y], 2), round(costing.floor_totals[y])] for y in range(costing.years)]
        import pandas as pd

        chart = pd.DataFrame([{"revendication": line.label[:40], "année": f"an {y + 1}", "coût": round(line.years[y])} for line in costing.lines for y in range(costing.years)])
        out = self.exports / "chiffrage.xlsx"
        atomic_write_bytes(out, costing_xlsx(costing))
        notice = tr("nego_wage_bill", lang).format(amount=f"{round(costing.wage_bill):,}".replace(",", " ")) + "\n" + "\n".join(f"- {m}" for m in costing.notices)
        return {"table": table, "chart": chart, "file": str(self.deliver(out, user)), "notice": notice}


def build_negotiation_tab(settings, library: list, rules: dict, user_of: Callable[[Any], str | None],
                          deliver: Callable[[Path, str | None], Path] | None = None, db: Database | Callable[[], Database] | None = None,
                          lab: Callable | None = None, tab=None, lang=None, switch=None) -> NegotiationHandlers | None:
    """Lay out the tab inside the caller's ``with gr.Tab(...)`` block and wire it.
    ``lab(component, text_key, prop)`` registers a text for the language switch. ``db``: the
    database or what opens it (shared with the Projet de convention tab); ``tab``: that
    ``gr.Tab``, whose selection opens the project list (the Projet de convention taken in first);
    ``lang``: the State of the interface language (the tables' headers follow it); ``switch``: the
    language radio, whose change re-sends the tables (a State's own change event does not fire
    when a queue-less event sets it)."""
    import gradio as gr

    from rag.web.texts import shown_rows, table, tr, ui_lang

    with_lang = [lang] if lang is not None else []  # an extra input: the handlers' last argument

    lab = lab or (lambda component, key, prop="label": component)

    try:
        database = db() if callable(db) else (db or open_database(settings))
    except (DatabaseError, OSError) as exc:  # e.g. the PostgreSQL server is down: the rest of the app still works
        from rag.web.project import sync_error

        gr.Markdown(f"⚠ Négociation indisponible : {sync_error(exc)}.")
        return None
    h = NegotiationHandlers(database, settings, library, rules, deliver)
    comparison = gr.State(None)
    version = gr.State(None)
    with gr.Row():
        project = lab(gr.Dropdown(choices=[], value=None, label=tr("nego_project"), scale=3), "nego_project")
        refresh = lab(gr.Button(tr("nego_refresh"), scale=0), "nego_refresh", "value")
    with gr.Row():
        team = lab(gr.Dropdown(choices=[], value=None, label=tr("nego_team"), visible=False, scale=3), "nego_team")
        share = lab(gr.Button(tr("nego_share"), visible=False, scale=0), "nego_share", "value")
    sync_notice = gr.Markdown("", elem_id="nego-sync")
    sync_conflicts = gr.HTML("", elem_id="nego-conflicts")
    notice = gr.Markdown("", elem_id="nego-notice")
    rounds = lab(gr.Dataframe(headers=ROUND_COLUMNS, value=[], interactive=False, label=tr("nego_rounds"), elem_id="nego-rounds"), "nego_rounds")
    with gr.Row():
        round_note = lab(gr.Textbox(label=tr("nego_round_note"), scale=3), "nego_round_note")
        new_round = lab(gr.Button(tr("nego_new_round"), scale=1), "nego_new_round", "value")
    clauses = lab(gr.Dataframe(headers=CLAUSE_COLUMNS, value=[], interactive=False, label=tr("nego_clauses"), elem_id="nego-clauses"), "nego_clauses")
    with gr.Row():
        with gr.Column(scale=3):
            clause = lab(gr.Dropdown(choices=[], value=None, label=tr("nego_clause")), "nego_clause")
            text = lab(gr.Textbox(label=tr("nego_text"), lines=10, max_lines=30), "nego_text")
            status = lab(gr.Radio(STATUS_CHOICES, label=tr("nego_status")), "nego_status")
            save = lab(gr.Button(tr("nego_save"), variant="primary"), "nego_save", "value")
        with gr.Column(scale=2):
            history = lab(gr.Markdown("", label=tr("nego_history")), "nego_history")
    with lab(gr.Accordion(tr("nego_counter"), open=False, elem_id="nego-counter"), "nego_counter"):
        upload = lab(gr.File(label=tr("nego_counter_file"), file_types=[".docx", ".pdf", ".md", ".txt"], elem_id="nego-counter-file"), "nego_counter_file")
        compare = lab(gr.Button(tr("nego_compare")), "nego_compare", "value")
        diff = gr.HTML("")
        apply = lab(gr.Button(tr("nego_apply")), "nego_apply", "value")
    with lab(gr.Accordion(tr("nego_redline_box"), open=False, elem_id="nego-redline"), "nego_redline_box"):
        with gr.Row():
            from_round = lab(gr.Number(value=1, precision=0, label=tr("nego_from_round")), "nego_from_round")
            to_round = lab(gr.Number(value=None, precision=0, label=tr("nego_to_round")), "nego_to_round")
        redline = lab(gr.Button(tr("nego_redline")), "nego_redline", "value")
        redline_file = lab(gr.File(label=tr("nego_download"), interactive=False, elem_id="nego-redline-file"), "nego_download")
    with lab(gr.Accordion(tr("nego_costing_box"), open=False), "nego_costing_box"):
        grid = lab(gr.File(label=tr("nego_grid"), file_types=[".csv", ".xlsx"]), "nego_grid")
        years = lab(gr.Slider(1, 10, value=3, step=1, label=tr("nego_years")), "nego_years")
        cost = lab(gr.Button(tr("nego_cost")), "nego_cost", "value")
        cost_table = gr.Dataframe(headers=COST_COLUMNS, value=[], interactive=False)
        cost_chart = lab(gr.BarPlot(x="année", y="coût", color="revendication", label=tr("nego_chart")), "nego_chart")
        cost_file = lab(gr.File(label=tr("nego_cost_file"), interactive=False), "nego_cost_file")

    def views(out: dict, ui: str = "fr") -> dict:
        ui = ui_lang(ui)
        result = {rounds: table("nego_rounds", out.get("rounds", []), ui), clauses: table("nego_clauses", out.get("clauses", []), ui), notice: out.get("notice", "")}
        if "clause_choices" in out:
            result[clause] = gr.update(choices=out["clause_choices"])
        for name, comp in (("text", text), ("status", status), ("version", version)):
            if name in out:
                result[comp] = out[name]
        return result

    def team_updates(t: dict) -> dict:
        return {team: gr.update(choices=t["choices"], value=t["value"], visible=t["visible"]), share: gr.update(visible=t["visible"])}

    def on_projects(request: gr.Request, ui: str = "fr"):
        out = h.projects(user_of(request), ui_lang(ui))
        value = out["projects"][0][1] if out["projects"] else None
        return {project: gr.update(choices=out["projects"], value=value), notice: out["notice"], sync_notice: out["sync"],
                sync_conflicts: out["conflicts"], **team_updates(out["teams"])}

    def on_project(pid, request: gr.Request, ui: str = "fr"):
        return {**views(h.view(pid, user_of(request), lang=ui_lang(ui)), ui), **team_updates(h.teams(pid, user_of(request), ui_lang(ui)))}

    def on_share(pid, choice, request: gr.Request, ui: str = "fr"):
        out = h.share(pid, choice, user_of(request), ui_lang(ui))
        return {notice: out["notice"], **team_updates(out["teams"])}

    def on_clause(pid, key, request: gr.Request):
        out = h.open_clause(pid, key, user_of(request))
        return {text: out["text"], status: out["status"], version: out["version"], history: out["history"]}

    def on_save(pid, key, body, state, ver, request: gr.Request, ui: str = "fr"):
        return views(h.save(pid, key, body, state, ver, user_of(request), ui_lang(ui)), ui)

    def on_round(pid, note, request: gr.Request, ui: str = "fr"):
        return views(h.new_round(pid, note, user_of(request), ui_lang(ui)), ui)

    def on_compare(pid, file, request: gr.Request, ui: str = "fr"):
        out = h.import_counter(pid, file, user_of(request), ui_lang(ui))
        return {comparison: out["comparison"], diff: out["diff"], notice: out["notice"]}

    def on_apply(pid, cmp, request: gr.Request, ui: str = "fr"):
        return views(h.apply_counter(pid, cmp, user_of(request), ui_lang(ui)), ui)

    def on_redline(pid, start, end, request: gr.Request, ui: str = "fr"):
        out = h.redline(pid, start, end, user_of(request), ui_lang(ui))
        return {redline_file: out["file"], notice: out["notice"]}

    def on_cost(pid, file, n, request: gr.Request, ui: str = "fr"):
        out = h.cost(pid, file, n, user_of(request), ui_lang(ui))
        return {cost_table: table("cost", out["table"], ui_lang(ui)), cost_chart: out["chart"], cost_file: out["file"], notice: out["notice"]}

    def relabel(ui, shown_rounds, shown_clauses, shown_cost):
        """The language switch: the three tables again, their rows as shown, headers in ``ui``."""
        ui = ui_lang(ui)
        return [table(name, shown_rows(value), ui) for name, value in
                (("nego_rounds", shown_rounds), ("nego_clauses", shown_clauses), ("cost", shown_cost))]

    view_outputs = [rounds, clauses, notice, clause, text, status, version]
    list_outputs = [project, notice, sync_notice, sync_conflicts, team, share]
    refresh.click(on_projects, with_lang, list_outputs)
    if tab is not None:
        tab.select(on_projects, with_lang, list_outputs)
    project.change(on_project, [project, *with_lang], view_outputs + [team, share])
    share.click(on_share, [project, team, *with_lang], [notice, team, share])
    clause.change(on_clause, [project, clause], [text, status, version, history])
    save.click(on_save, [project, clause, text, status, version, *with_lang], view_outputs)
    new_round.click(on_round, [project, round_note, *with_lang], view_outputs)
    compare.click(on_compare, [project, upload, *with_lang], [comparison, diff, notice])
    apply.click(on_apply, [project, comparison, *with_lang], view_outputs)
    redline.click(on_redline, [project, from_round, to_round, *with_lang], [redline_file, notice])
    cost.click(on_cost, [project, grid, years, *with_lang], [cost_table, cost_chart, cost_file, notice])
    if switch is not None:
        switch.change(relabel, [switch, rounds, clauses, cost_table], [rounds, clauses, cost_table], queue=False)
    return h

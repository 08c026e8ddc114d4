"""The « Rédaction » tab: a clause drafted from a library topic (or a free one) and the
negotiators' demands, checked against the legal floors, then added to the agreement project.

Outputs: ``clause``, ``clause_title``, ``clause_text``, ``checks``, ``comparison``,
``clause_citations``, ``rationale``, ``draft_warnings``, ``draft_notice``; adding a clause gives
``draft_notice`` and the project tab's outputs.
"""

from __future__ import annotations

import logging

import gradio as gr

from rag.web.base import TabHandlers
from rag.web.project import project_state
from rag.web.render import checks_html, citations_html, describe_error, fr_int, md_escape
from rag.web.texts import VARIANT_ALIASES, VARIANT_LABELS, table, tr, ui_lang

log = logging.getLogger(__name__)

MAX_DEMANDS = 20
MAX_DEMAND_CHARS = 500
MAX_CONTEXT_CHARS = 2000
MAX_TOPIC_CHARS = 200
STATUS_WORDS = {"ok": "✔ conforme", "below_floor": "✘ sous le plancher", "unverified": "? non vérifié"}


def comparison_table(clause: dict | None, lang: str = "fr") -> dict:
    """The comparison table of a drafted clause (its JSON, as the ``clause`` State keeps it), in
    ``lang``; the parameters and figures are rag.draft's own (French)."""
    rows = (clause or {}).get("comparison") if isinstance(clause, dict) else None
    status = {key: tr(f"status_{key}", lang) for key in STATUS_WORDS}
    return table("comparison", [[r.get("parameter", ""), r.get("legal_floor", ""), r.get("draft", ""), status.get(r.get("status"), r.get("status", "—")),
                                 r.get("comparable", "")] for r in rows or [] if isinstance(r, dict)], lang)
EDITED_WARNING = "Texte modifié à la main après la rédaction : les contrôles de planchers portent sur la version générée."


def _refused(notice: str, lang: str = "fr") -> dict:
    """An empty draft with a notice: nothing of a previous clause may be added by mistake."""
    return {
        "clause": None, "clause_title": "", "clause_text": "", "checks": "", "comparison": comparison_table(None, lang), "clause_citations": "",
        "rationale": "", "draft_warnings": "", "draft_notice": notice,
    }


class DraftingTab(TabHandlers):
    def library_choices(self) -> list[tuple[str, str]]:
        return [(t.title, t.id) for t in self.shared.library]

    def _drafter(self, use_model: bool, lang: str = "fr"):
        if use_model:
            try:
                return self.engine.drafter(with_model=True), []
            except Exception as exc:
                log.warning("drafting without model: %s", exc)
                return self.engine.drafter(with_model=False), [tr("model_unavailable", lang).format(reason=describe_error(exc))]
        return self.engine.drafter(with_model=False), []

    def _problem(self, topic: str, lines: list[str], context: str, lang: str = "fr") -> str | None:
        if not topic:
            return tr("choose_topic", lang)
        if len(topic) > MAX_TOPIC_CHARS:
            return tr("topic_too_long", lang).format(n=MAX_TOPIC_CHARS)
        if len(lines) > MAX_DEMANDS or any(len(d) > MAX_DEMAND_CHARS for d in lines):
            return tr("too_many_demands", lang).format(n=MAX_DEMANDS, chars=MAX_DEMAND_CHARS)
        if len(context) > MAX_CONTEXT_CHARS:
            return tr("context_too_long", lang).format(n=fr_int(MAX_CONTEXT_CHARS))
        return None

    def draft_clause(self, library_topic, free_topic, demands, context, variant, use_model=True, request: gr.Request | None = None,
                     lang: str = "fr") -> dict:
        """Draft a clause from a library topic (or a free topic) and the negotiators' demands; the
        notices and headers in the interface language ``lang`` (the clause itself is French)."""
        lang = ui_lang(lang)
        topic = (free_topic or "").strip() if isinstance(free_topic, str) else ""
        topic = topic or (library_topic.strip() if isinstance(library_topic, str) else "")
        lines = [d.strip() for d in (demands if isinstance(demands, str) else "").splitlines() if d.strip()]
        context = context if isinstance(context, str) else ""
        problem = self._problem(topic, lines, context, lang)
        variant_key = VARIANT_ALIASES.get(str(variant or "target").strip().lower().split(" ")[0])
        if variant_key is None and not problem:
            problem = tr("unknown_variant", lang)
        if problem:
            return _refused(f"⚠ {problem}", lang)
        drafter, notes = self._drafter(bool(use_model), lang)
        try:
            clause = drafter.draft(topic, lines, context.strip(), variant_key)
        except ValueError as exc:
            return _refused(f"⚠ {md_escape(exc)}", lang)
        except Exception as exc:
            log.exception("drafting failed")
            return _refused(tr("draft_failed", lang).format(reason=md_escape(describe_error(exc))), lang)
        data = clause.to_json()
        warnings = notes + list(clause.warnings)
        origin = tr("origin_library", lang).format(id=clause.template_id) if clause.template_id else tr("origin_free", lang)
        variant_name = tr(f"variant_{clause.variant}", lang) if clause.variant in VARIANT_LABELS else clause.variant
        return {
            "clause": data,
            "clause_title": f"### {md_escape(clause.title)}\n*{md_escape(origin)} · {md_escape(tr('variant_line', lang).format(name=variant_name))}*",
            "clause_text": clause.text,
            "checks": checks_html(data["checks"], lang),
            "comparison": comparison_table(data, lang),
            "clause_citations": citations_html(data["citations"], lang),
            "rationale": f"**{tr('rationale', lang)}** : {md_escape(clause.rationale)}" if clause.rationale else "",
            "draft_warnings": "\n".join(f"- ⚠ {md_escape(w)}" for w in warnings),
            "draft_notice": tr("drafted" if clause.text else "no_clause", lang),
        }

    def add_to_project(self, clause, edited_text, request: gr.Request | None = None, lang: str = "fr") -> dict:
        """Save the drafted clause, with the negotiator's edits, into the user's agreement project."""
        lang = ui_lang(lang)
        ws = self.workspace(request)

        def after(notice: str) -> dict:
            return {"draft_notice": notice, **project_state(ws, lang=lang)}

        if not isinstance(clause, dict) or not clause.get("title"):
            return after(tr("draft_first", lang))
        data = dict(clause)
        text = edited_text if isinstance(edited_text, str) else data.get("text", "")
        if not text.strip():
            return after(tr("clause_empty", lang))
        if text.strip() != str(data.get("text", "")).strip():
            data["text"] = text.strip()
            data["edited"] = True
            data["warnings"] = list(data.get("warnings") or []) + [EDITED_WARNING]
        try:
            project = ws.add_clause(data)
        except (ValueError, OSError) as exc:
            reason = describe_error(exc, self.settings.data_dir) if isinstance(exc, OSError) else str(exc)
            return after(tr("clause_not_added", lang).format(reason=md_escape(reason)))
        return after(tr("clause_added", lang).format(title=md_escape(data["title"]), n=len(project["clauses"])))

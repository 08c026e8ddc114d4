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
from rag.web.texts import VARIANT_ALIASES, VARIANT_LABELS

log = logging.getLogger(__name__)

MAX_DEMANDS = 20
MAX_DEMAND_CHARS = 500
MAX_CONTEXT_CHARS = 2000
MAX_TOPIC_CHARS = 200
STATUS_WORDS = {"ok": "✔ conforme", "below_floor": "✘ sous le plancher", "unverified": "? non vérifié"}
EDITED_WARNING = "Texte modifié à la main après la rédaction : les contrôles de planchers portent sur la version générée."


def _refused(notice: str) -> dict:
    """An empty draft with a notice: nothing of a previous clause may be added by mistake."""
    return {
        "clause": None, "clause_title": "", "clause_text": "", "checks": "", "comparison": [], "clause_citations": "",
        "rationale": "", "draft_warnings": "", "draft_notice": notice,
    }


class DraftingTab(TabHandlers):
    def library_choices(self) -> list[tuple[str, str]]:
        return [(t.title, t.id) for t in self.shared.library]

    def _drafter(self, use_model: bool):
        if use_model:
            try:
                return self.engine.drafter(with_model=True), []
            except Exception as exc:
                log.warning("drafting without model: %s", exc)
                return self.engine.drafter(with_model=False), [f"Modèle indisponible ({describe_error(exc)}) : clause rédigée sans exposé des motifs."]
        return self.engine.drafter(with_model=False), []

    def _problem(self, topic: str, lines: list[str], context: str) -> str | None:
        if not topic:
            return "Choisissez un thème de la bibliothèque ou écrivez un thème libre."
        if len(topic) > MAX_TOPIC_CHARS:
            return f"Thème trop long (plus de {MAX_TOPIC_CHARS} caractères)."
        if len(lines) > MAX_DEMANDS or any(len(d) > MAX_DEMAND_CHARS for d in lines):
            return f"Au plus {MAX_DEMANDS} revendications de {MAX_DEMAND_CHARS} caractères chacune."
        if len(context) > MAX_CONTEXT_CHARS:
            return f"Contexte trop long (plus de {fr_int(MAX_CONTEXT_CHARS)} caractères)."
        return None

    def draft_clause(self, library_topic, free_topic, demands, context, variant, use_model=True, request: gr.Request | None = None) -> dict:
        """Draft a clause from a library topic (or a free topic) and the negotiators' demands."""
        topic = (free_topic or "").strip() if isinstance(free_topic, str) else ""
        topic = topic or (library_topic.strip() if isinstance(library_topic, str) else "")
        lines = [d.strip() for d in (demands if isinstance(demands, str) else "").splitlines() if d.strip()]
        context = context if isinstance(context, str) else ""
        problem = self._problem(topic, lines, context)
        variant_key = VARIANT_ALIASES.get(str(variant or "target").strip().lower().split(" ")[0])
        if variant_key is None and not problem:
            problem = "Variante inconnue : plancher, cible ou ambitieuse."
        if problem:
            return _refused(f"⚠ {problem}")
        drafter, notes = self._drafter(bool(use_model))
        try:
            clause = drafter.draft(topic, lines, context.strip(), variant_key)
        except ValueError as exc:
            return _refused(f"⚠ {md_escape(exc)}")
        except Exception as exc:
            log.exception("drafting failed")
            return _refused(f"⚠ La rédaction a échoué : {md_escape(describe_error(exc))}")
        data = clause.to_json()
        warnings = notes + list(clause.warnings)
        comparison = [[r.get("parameter", ""), r.get("legal_floor", ""), r.get("draft", ""), STATUS_WORDS.get(r.get("status"), r.get("status", "—")), r.get("comparable", "")]
                      for r in clause.comparison]
        origin = f"bibliothèque : {clause.template_id}" if clause.template_id else "hors bibliothèque"
        return {
            "clause": data,
            "clause_title": f"### {md_escape(clause.title)}\n*{md_escape(origin)} · variante {md_escape(VARIANT_LABELS.get(clause.variant, clause.variant))}*",
            "clause_text": clause.text,
            "checks": checks_html(data["checks"]),
            "comparison": comparison,
            "clause_citations": citations_html(data["citations"]),
            "rationale": f"**Exposé des motifs** : {md_escape(clause.rationale)}" if clause.rationale else "",
            "draft_warnings": "\n".join(f"- ⚠ {md_escape(w)}" for w in warnings),
            "draft_notice": "Clause rédigée : relisez-la, corrigez le texte si besoin, puis ajoutez-la au projet." if clause.text
                            else "⚠ Aucune clause proposée (voir les avertissements).",
        }

    def add_to_project(self, clause, edited_text, request: gr.Request | None = None) -> dict:
        """Save the drafted clause, with the negotiator's edits, into the user's agreement project."""
        ws = self.workspace(request)

        def after(notice: str) -> dict:
            return {"draft_notice": notice, **project_state(ws)}

        if not isinstance(clause, dict) or not clause.get("title"):
            return after("⚠ Rédigez d'abord une clause.")
        data = dict(clause)
        text = edited_text if isinstance(edited_text, str) else data.get("text", "")
        if not text.strip():
            return after("⚠ Le texte de la clause est vide : rien n'a été ajouté.")
        if text.strip() != str(data.get("text", "")).strip():
            data["text"] = text.strip()
            data["edited"] = True
            data["warnings"] = list(data.get("warnings") or []) + [EDITED_WARNING]
        try:
            project = ws.add_clause(data)
        except (ValueError, OSError) as exc:
            reason = describe_error(exc, self.settings.data_dir) if isinstance(exc, OSError) else str(exc)
            return after(f"⚠ Clause non ajoutée : {md_escape(reason)}")
        return after(f"Clause « {md_escape(data['title'])} » ajoutée au projet (n° {len(project['clauses'])}).")

"""Clause drafting: library template + negotiators' demands → clause, citations, floor checks.

The articles of a clause come from the project's template, filled with the demanded values (or
the chosen variant's); the model only writes the short "exposé des motifs" from retrieved law,
through the same citation check as the chat. Every figure bound to a statutory rule is compared
with the floor in plain code, and every legal reference is resolved to an indexed text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field

from rag.answer import ChatEngine, Citation, citation_label
from rag.library import UNIT_FAMILIES, UNIT_SYMBOLS, ClauseTemplate, FloorRule, find_template, format_value, render_model
from rag.lexical import tokenize
from rag.retrieve import Filters, Hit
from rag.structure import passage_body, passage_sentences

log = logging.getLogger(__name__)

HOURS_PER_MONTH = 191  # 2288 h a year / 12, the usual monthly base (C. trav. art. 184)

QUANTITY_RX = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(%|pour\s?cent|heures?|h\b|jours?|j\b|semaines?|mois|années?|ans?\b|mad|dh|dirhams?|minutes?|min\b|secondes?|sec\b|s\b|salariés?|délégués?)",
    re.I,
)
REFERENCE_RX = re.compile(r"C\.\s*trav\.\s*art\.\s*(\d+(?:-\d+)?)|Décret n°\s*([\d-]+),?\s*art\.\s*(\d+)", re.I)
DECREE_SOURCES = {
    "2-25-983": "ma_decret_2-25-983_smig_2026_ar.pdf",
    "2-04-570": "ma_decret_2-04-570_heures_supplementaires_ar.pdf",
    "2-04-568": "ma_decret_2-04-568_travail_nuit_femmes_ar.pdf",
}
CODE_SOURCES = ("ma_code_travail_fr_2011.pdf", "ma_mudawwana_shughl_ar_2021.pdf")
VARIANTS = ("floor", "target", "ambitious")
VARIANT_NAMES = {"floor": "plancher", "target": "cible", "ambitious": "ambitieuse"}


@dataclass
class Check:
    rule: str | None
    status: str  # ok | below_floor | unverified
    article: str | None
    message: str
    value: float | None = None
    floor: float | None = None
    unit: str = ""

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Quantity:
    value: float
    family: str
    unit: str
    text: str


RATIONALE_UNAVAILABLE = "Exposé des motifs indisponible :"
# qualifiers of a demand that change its meaning (a rate, a frequency, a scope)
QUALIFIER_RX = re.compile(
    r"\b(?:par|chaque|toutes les|tous les|per|every|each)\s+(?:\d+\s*)?(?:heures?|h|jours?|semaines?|mois|ans?|années?|"
    r"hours?|days?|weeks?|months?|years?|séquences?|appels?|salariés?)\b|\b(?:de nuit|le dimanche|jours fériés|at night|on sundays?)\b",
    re.I,
)


def unapplied_qualifiers(demand: str, label: str) -> list[str]:
    """Qualifiers of the demand (« par heure », « de nuit ») that the parameter it was applied to does not carry."""
    from rag.lexical import tokenize

    carried = set(tokenize(label))
    return [m.group(0) for m in QUALIFIER_RX.finditer(demand) if not set(tokenize(m.group(0))) <= carried]


def comparable_figures(comparables: list[Citation], family: str, most: int = 3) -> str:
    """What each comparable text states in the parameter's unit (« IDCC 2098, art. 4 : 25 % ; 15 % »):
    the figures to compare with, not only where they are; "—" when none states one in that unit."""
    from rag.figures import figures_in

    stated = []
    for c in comparables:
        figures = list(dict.fromkeys(f.label() for f in figures_in(passage_body(c.text)) if family and f.unit == family))
        if figures:
            stated.append(f"{c.label} : {' ; '.join(figures[:most])}")
    return " · ".join(stated) or "—"


def rule_rationale(checks: list["Check"], citations: list[Citation]) -> str:
    """An exposé des motifs assembled in code (instant, no model): the legal basis quoted, then how
    each figure of the clause stands against the statutory floor."""
    parts = []
    for c in citations[:3]:
        sentences = [s for s in passage_sentences(c.text, clauses=True) if len(s) > 20]
        stated = next((s for s in sentences if re.search(r"\d", s)), sentences[0] if sentences else "")  # the rule's figure first
        if stated:
            parts.append(f"{c.label} : « {stated[:300]} »")
    ok = [c for c in checks if c.status == "ok"]
    below = [c for c in checks if c.status == "below_floor"]
    if ok:
        parts.append(f"{len(ok)} chiffre(s) de la clause au moins aussi favorable(s) que la loi"
                     + " (" + "; ".join(f"art. {c.article}" for c in ok[:4] if c.article) + ")")
    if below:
        parts.append("À corriger : " + " ; ".join(c.message for c in below))
    return ". ".join(p.rstrip(". ") for p in parts) + ("." if parts else "")


@dataclass
class Clause:
    title: str
    topic: str
    template_id: str | None
    variant: str
    text: str
    values: dict = field(default_factory=dict)
    citations: list[Citation] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    comparison: list[dict] = field(default_factory=list)
    comparables: list[Citation] = field(default_factory=list)
    rationale: str = ""
    demands: list[str] = field(default_factory=list)
    order: int = 99
    status: str = "projet"
    model_error: str = ""  # why the model's rationale is missing (crash, timeout…), empty when it answered or was not asked
    generated_at: str = field(default_factory=lambda: dt.datetime.now().isoformat(timespec="seconds"))

    def to_json(self) -> dict:
        data = asdict(self)
        data["citations"] = [c.to_json() for c in self.citations]
        data["comparables"] = [c.to_json() for c in self.comparables]
        data["checks"] = [c.to_json() for c in self.checks]
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Clause":
        if not isinstance(data, dict) or "title" not in data or "text" not in data:
            raise ValueError("objet de clause invalide : il faut au moins 'title' et 'text'")

        def cite(c: dict) -> Citation:
            return Citation(c.get("key", ""), c.get("label") or c.get("source", ""), c.get("source", ""), c.get("title", ""), c.get("article"), c.get("page"), c.get("text", ""))

        return cls(
            title=str(data["title"]), topic=str(data.get("topic", data["title"])), template_id=data.get("template_id"),
            variant=str(data.get("variant", "target")), text=str(data["text"]), values=dict(data.get("values") or {}),
            citations=[cite(c) for c in data.get("citations") or []],
            checks=[Check(**{k: c.get(k) for k in Check.__dataclass_fields__ if k in c}) for c in data.get("checks") or []],
            warnings=list(data.get("warnings") or []), comparison=list(data.get("comparison") or []),
            comparables=[cite(c) for c in data.get("comparables") or []], rationale=str(data.get("rationale", "")),
            demands=list(data.get("demands") or []), order=int(data.get("order", 99)), status=str(data.get("status", "projet")),
            generated_at=str(data.get("generated_at", "")),
        )


# ------------------------------------------------------------------------------------------
# demands → quantities → parameters / rules


def _unit_of(token: str, context: str) -> tuple[str, str]:
    t = token.lower()
    ctx = context.lower()
    if t in {"%", "pour cent", "pourcent"}:
        return "percent", "percent"
    if t in {"h", "heure", "heures"}:
        if re.search(r"semaine|hebdo", ctx):
            return "hours", "hours_per_week"
        if re.search(r"\ban\b|année|annuel|par an", ctx):
            return "hours", "hours_per_year"
        if re.search(r"jour|quotidien", ctx):
            return "hours", "hours_per_day"
        return "hours", "hours"
    if t in {"jour", "jours", "j"}:
        return "days", "days"
    if t.startswith("semaine"):
        return "weeks", "weeks"
    if t == "mois":
        return "months", "months"
    if t in {"an", "ans", "année", "années"}:
        return "years", "years"
    if t in {"mad", "dh", "dirham", "dirhams"}:
        if re.search(r"heure|horaire|/\s*h\b", ctx):
            return "mad", "mad_per_hour"
        if re.search(r"\bjour\b|journ", ctx):
            return "mad", "mad_per_day"
        return "mad", "mad_per_month"
    if t.startswith("min"):
        return "minutes", "minutes"
    if t.startswith("sec") or t == "s":
        return "seconds", "seconds"
    return "count", "count"


def parse_quantities(demand: str) -> list[Quantity]:
    quantities = []
    for match in QUANTITY_RX.finditer(demand):
        family, unit = _unit_of(match.group(2), demand)
        value = float(match.group(1).replace(",", "."))
        if unit == "mad_per_month" and value < 200:
            unit = "mad_per_hour"  # "20 MAD" alone can only be an hourly rate
        quantities.append(Quantity(value, family, unit, match.group(0)))
    return quantities


def _overlap(a: str, b: str) -> float:
    ta, tb = set(tokenize(a)), set(tokenize(b))
    return len(ta & tb)


def _compatible(quantity: Quantity, unit: str) -> bool:
    family = UNIT_FAMILIES.get(unit, unit)
    if quantity.family == "hours" and family == "hours":
        return quantity.unit in {"hours", unit}
    if quantity.family == "mad":
        return quantity.unit == unit
    return quantity.family == family or (quantity.family == "days" and family == "days")


class Drafter:
    """Drafts clauses. Retriever, chat engine (may be None: template only), library and rules injected."""

    def __init__(self, retriever, chat: ChatEngine | None, library: list[ClauseTemplate], rules: dict[str, FloorRule], settings):
        self.retriever = retriever
        self.chat = chat
        self.library = library
        self.rules = rules
        self.settings = settings

    # ---- checks ------------------------------------------------------------------------------
    def check(self, rule: FloorRule, value: float, unit: str, what: str) -> Check:
        compared = value
        note = ""
        if rule.unit == "mad_per_hour" and unit == "mad_per_month":
            compared = value / HOURS_PER_MONTH
            note = f" (soit {format_value(round(compared, 2), 'mad_per_hour')} MAD/h sur {HOURS_PER_MONTH} h par mois)"
        symbol = UNIT_SYMBOLS.get(rule.unit, "")
        floor_text = f"{format_value(rule.value, rule.unit)} {symbol}".strip()
        value_text = f"{format_value(value, unit)} {UNIT_SYMBOLS.get(unit, symbol)}".strip()
        if rule.complies(compared):
            relation = "≥" if rule.direction == "minimum" else "≤"
            return Check(rule.id, "ok", rule.article, f"{what} : {value_text}{note} {relation} {floor_text}, conforme à {rule.reference}.", value, rule.value, rule.unit)
        relation = "<" if rule.direction == "minimum" else ">"
        return Check(
            rule.id, "below_floor", rule.article,
            f"{what} : {value_text}{note} {relation} {floor_text} — moins favorable que {rule.reference} ({rule.label}).",
            value, rule.value, rule.unit,
        )

    def match_rule(self, quantity: Quantity, text: str) -> FloorRule | None:
        """A floor rule for a demanded figure that no template parameter takes."""
        best, best_score = None, 0.0
        for rule in self.rules.values():
            if not _compatible(quantity, rule.unit) and not (quantity.family == "mad" and rule.unit.startswith("mad")):
                continue
            score = max([_overlap(text, k) / max(1, len(tokenize(k))) for k in rule.keywords] + [0.0])
            score += 0.5 * _overlap(text, rule.label) / max(1, len(tokenize(rule.label)))
            if score > best_score:
                best, best_score = rule, score
        return best if best_score >= 0.5 else None

    # ---- drafting ------------------------------------------------------------------------------
    def draft(self, topic: str, demands: list[str] | None = None, context: str = "", variant: str = "target") -> Clause:
        topic = (topic or "").strip()
        if not topic:
            raise ValueError("Indiquez un thème de clause.")
        demands = [d.strip() for d in demands or [] if d and d.strip()]
        if variant not in VARIANTS:
            raise ValueError(f"Variante inconnue {variant!r} : floor, target ou ambitious.")
        template = find_template(self.library, topic)
        if template is None:
            return self._draft_free(topic, demands, context)
        return self._draft_from_template(template, demands, context, variant)

    def _draft_from_template(self, template: ClauseTemplate, demands: list[str], context: str, variant: str) -> Clause:
        values = {p.name: p.value_for(variant) for p in template.parameters}
        checks: list[Check] = []
        warnings: list[str] = []
        demanded: dict[str, str] = {}
        for demand in demands:
            quantities = parse_quantities(demand)
            if not quantities:
                warnings.append(f"Demande sans chiffre reconnu, à intégrer à la main : « {demand} ».")
            for quantity in quantities:
                param = self._match_parameter(template, quantity, demand, exclude=set(demanded))
                if param is not None:
                    values[param.name] = quantity.value
                    demanded[param.name] = demand
                    unused = unapplied_qualifiers(demand, param.label)
                    if unused:
                        # « 10 minutes par heure » applied as « pause après chaque séquence : 10 min »:
                        # say what of the demand the clause does not carry, never change it silently
                        warnings.append(f"Revendication « {demand} » appliquée seulement comme « {param.label} : {quantity.text} » ; "
                                        f"« {', '.join(unused)} » n'est pas repris par la clause : vérifiez le texte ou précisez la revendication.")
                    continue
                if quantity.family in {"years", "count"} and any(q is not quantity and q.family not in {"years", "count"} for q in quantities):
                    continue  # "après 2 ans": a condition of another figure of the demand
                rule = self.match_rule(quantity, demand)
                if rule is not None:
                    checks.append(self.check(rule, quantity.value, quantity.unit, f"Demande « {demand} »"))
                else:
                    checks.append(Check(None, "unverified", None, f"Demande « {demand} » : aucune règle légale chiffrée ne s'y rapporte dans le corpus ; à vérifier.", quantity.value))
        for param in template.parameters:
            rule = self.rule_for(param)
            value = values.get(param.name)
            if rule is None or not isinstance(value, (int, float)):
                continue
            source = "demande" if param.name in demanded else f"variante {VARIANT_NAMES[variant]}"
            checks.append(self.check(rule, float(value), param.unit, f"{param.label} ({source})"))
        text = render_model(template, values)
        leftovers = re.findall(r"\{\{\s*(\w+)\s*\}\}", text)
        if leftovers:
            warnings.append("Paramètres sans valeur : " + ", ".join(sorted(set(leftovers))))
        citations, ref_warnings = self.resolve_references(text, template)
        warnings.extend(ref_warnings)
        comparables = self.comparables(template)
        clause = Clause(
            title=template.title, topic=template.id, template_id=template.id, variant=variant, text=text,
            values=values, citations=citations, checks=checks, warnings=warnings, comparables=comparables,
            demands=demands, order=template.order,
        )
        clause.comparison = self.comparison(template, values, checks, comparables)
        clause.rationale, more = self.rationale(template.title, demands, context, citations)
        clause.model_error = next((m for m in more if m.startswith(RATIONALE_UNAVAILABLE)), "")
        clause.warnings.extend(more)
        if not clause.rationale:
            clause.rationale = rule_rationale(checks, citations)
        return clause

    def rule_for(self, param) -> FloorRule | None:
        if param.rule:
            return self.rules.get(param.rule)
        if param.unit == "mad_per_month":
            # a monthly minimum is held against the hourly SMIG (converted on 191 h)
            return next((r for r in self.rules.values() if r.unit == "mad_per_hour" and r.topic == "salaire_minimum"), None)
        return None

    def _match_parameter(self, template: ClauseTemplate, quantity: Quantity, demand: str, exclude: set[str]):
        best, best_score = None, -1.0
        for param in template.parameters:
            if param.name in exclude or not _compatible(quantity, param.unit):
                continue
            score = _overlap(demand, param.label + " " + param.name.replace("_", " "))
            # "8 % après 2 ans" → the parameter whose label carries the other figure of the demand
            others = {q.text.split()[0] for q in parse_quantities(demand) if q is not quantity}
            score += 2 * sum(1 for o in others if re.search(rf"(?<!\d){re.escape(o)}(?!\d)", param.label))
            if score > best_score:
                best, best_score = param, score
        return best

    def resolve_references(self, text: str, template: ClauseTemplate | None) -> tuple[list[Citation], list[str]]:
        """Every statutory reference must resolve to an indexed text (or the project's fiches)."""
        refs: list[tuple[str, str]] = []
        for match in REFERENCE_RX.finditer(text):
            if match.group(1):
                refs.append((CODE_SOURCES[0], match.group(1)))
            else:
                source = DECREE_SOURCES.get(match.group(2))
                if source:
                    refs.append((source, match.group(3)))
        for basis in (template.legal_basis if template else []):
            refs.append((basis.get("source", CODE_SOURCES[0]), str(basis.get("article"))))
        citations: list[Citation] = []
        warnings: list[str] = []
        seen = set()
        for source, article in refs:
            if (source, article) in seen:
                continue
            seen.add((source, article))
            hits = self.retriever.get_article(source, article)
            if not hits and source in CODE_SOURCES:
                # any indexed version of the Labour Code (French, Arabic, or a user's own copy)
                laws = [d.source for d in self.retriever.index.documents() if d.kind == "law" and d.source != source]
                for other in sorted(laws, key=lambda s: s not in CODE_SOURCES):
                    hits = self.retriever.get_article(other, article)
                    if hits:
                        break
            fallback = False
            if not hits:
                hits = self._fiche_mentioning(article)
                fallback = bool(hits)
            if hits:
                hit = hits[0]
                short = self.retriever.index.catalog.short(hit.source, hit.title)
                label = f"{short} (art. {article})" if fallback else citation_label(hit, short)
                citations.append(Citation(f"R{len(citations) + 1}", label, hit.source, hit.title, article if fallback else hit.article, hit.page, "\n".join(h.text for h in hits)[:2500]))
                if fallback:
                    warnings.append(f"Art. {article} : texte officiel non indexé, référence appuyée sur la fiche « {hit.title} ».")
            else:
                warnings.append(f"Référence non vérifiée : art. {article} ({source}) n'est pas dans le corpus indexé.")
        return citations, warnings

    def _fiche_mentioning(self, article: str) -> list[Hit]:
        hits = self.retriever.search(f"art. {article}", k=8, filters=Filters(kinds=["project"]))
        rx = re.compile(rf"art\.\s*{re.escape(article)}\b")
        return [h for h in hits if rx.search(h.text)][:1]

    def comparables(self, template: ClauseTemplate) -> list[Citation]:
        out = []
        for item in template.comparables:
            for hit in self.retriever.get_article(item.get("source", ""), str(item.get("article", "")))[:1]:
                short = self.retriever.index.catalog.short(hit.source, hit.title)
                out.append(Citation(f"C{len(out) + 1}", citation_label(hit, short), hit.source, hit.title, hit.article, hit.page, hit.text[:2000]))
        return out

    def comparison(self, template: ClauseTemplate, values: dict, checks: list[Check], comparables: list[Citation]) -> list[dict]:
        rows = []
        status = {c.rule: c.status for c in checks if c.rule}
        for param in template.parameters:
            rule = self.rule_for(param)
            symbol = UNIT_SYMBOLS.get(param.unit, "")
            rows.append({
                "parameter": param.label,
                "legal_floor": f"{format_value(rule.value, rule.unit)} {UNIT_SYMBOLS.get(rule.unit, '')} ({rule.reference})".strip() if rule else "—",
                "draft": f"{format_value(values.get(param.name), param.unit)} {symbol}".strip(),
                "status": status.get(rule.id, "—") if rule else "—",
                "comparable": comparable_figures(comparables, UNIT_FAMILIES.get(param.unit, "")),
            })
        return rows

    def rationale(self, title: str, demands: list[str], context: str, citations: list[Citation]) -> tuple[str, list[str]]:
        """A short, cited "exposé des motifs" by the model; empty when no model is available."""
        if self.chat is None:
            return "", []
        hits = [Hit(c.key, c.source, c.title, c.article, c.page, "fr", "law", 1.0, c.text) for c in citations[:3]]
        if not hits:
            return "", []
        instruction = (
            f"Explique en 2 ou 3 phrases, pour des négociateurs, pourquoi la clause « {title} » est fondée en droit"
            + (f", compte tenu des demandes : {'; '.join(demands)}" if demands else "")
            + (f" (contexte : {context})" if context else "")
            + "."
        )
        try:
            text, _, warnings = self.chat.grounded_text(instruction, hits, "fr")
        except Exception as exc:
            from rag.models import classify_failure

            reason = str(classify_failure(exc))
            log.warning("rationale failed: %s", reason)
            return "", [f"{RATIONALE_UNAVAILABLE} {reason}"]
        return text, warnings

    def _draft_free(self, topic: str, demands: list[str], context: str) -> Clause:
        """A topic outside the library: draft only from retrieved law, or refuse."""
        hits = self.retriever.search(topic + " " + " ".join(demands), k=4, filters=Filters(kinds=["law", "decree", "project", "agreement"]))
        if self.chat is not None:
            hits = self.chat.relevant(hits, topic)
        if not hits or self.chat is None:
            reason = "aucun texte indexé ne traite de ce thème" if not hits else "aucun modèle disponible pour rédiger hors bibliothèque"
            return Clause(title=topic, topic=topic, template_id=None, variant="target", text="",
                          warnings=[f"Pas de clause proposée : {reason}. Choisissez un thème de la bibliothèque ou indexez le texte pertinent."], demands=demands)
        instruction = (
            f"Rédige une clause de convention collective sur « {topic} » en 2 à 4 articles numérotés « Article 1 — … », "
            "au moins aussi favorable que la loi" + (f", intégrant : {'; '.join(demands)}" if demands else "") + "."
        )
        text, citations, warnings = self.chat.grounded_text(instruction, hits, "fr", max_tokens=450)
        checks = []
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            for quantity in parse_quantities(sentence):
                rule = self.match_rule(quantity, sentence)
                if rule:
                    checks.append(self.check(rule, quantity.value, quantity.unit, f"Chiffre rédigé « {quantity.text} »"))
                else:
                    checks.append(Check(None, "unverified", None, f"Chiffre rédigé « {quantity.text} » : sans règle légale de comparaison.", quantity.value))
        for demand in demands:
            for quantity in parse_quantities(demand):
                rule = self.match_rule(quantity, demand)
                if rule:
                    checks.append(self.check(rule, quantity.value, quantity.unit, f"Demande « {demand} »"))
        return Clause(title=topic, topic=topic, template_id=None, variant="target", text=text, citations=citations,
                      checks=checks, warnings=warnings + ["Clause hors bibliothèque, rédigée par le modèle : relecture juridique indispensable."], demands=demands)

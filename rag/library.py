"""The project's own corpus as data: statutory floor rules and the clause library.

- ``corpus/rules/floors.yaml``: one rule per statutory figure (value, unit, direction, article).
- ``corpus/clauses/NN_topic.md``: a clause template per topic (front matter + sections, the model
  text with ``{{parameter}}`` placeholders bound to floor rules).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rag.ingest import split_front_matter
from rag.lexical import tokenize

UNIT_FAMILIES = {
    "percent": "percent",
    "hours_per_week": "hours", "hours_per_year": "hours", "hours_per_day": "hours", "hours": "hours", "hours_of_wage": "hours_of_wage",
    "days": "days", "working_days_per_month": "days", "working_days": "days",
    "weeks": "weeks", "months": "months", "years": "years",
    "mad_per_hour": "mad", "mad_per_month": "mad", "mad_per_day": "mad",
    "minutes": "minutes", "seconds": "seconds", "count": "count", "text": "text",
}

UNIT_SYMBOLS = {
    "percent": "%", "hours_per_week": "h/semaine", "hours_per_year": "h/an", "hours_per_day": "h/jour", "hours": "h",
    "hours_of_wage": "h de salaire", "days": "jours", "working_days_per_month": "jours ouvrables/mois",
    "working_days": "jours ouvrables", "weeks": "semaines", "months": "mois", "years": "ans", "mad_per_hour": "MAD/h",
    "mad_per_month": "MAD/mois", "mad_per_day": "MAD/jour", "minutes": "min", "seconds": "s", "count": "", "text": "",
}


@dataclass
class FloorRule:
    id: str
    topic: str
    label: str
    value: float
    unit: str
    direction: str  # minimum | maximum
    law: str
    source: str
    article: str
    evidence: str = ""
    unit_label: str = ""
    scope: str = ""
    conditions: str | None = None
    keywords: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        if self.source.startswith("ma_code_travail"):
            return f"C. trav. art. {self.article}"
        return f"{self.law}, art. {self.article}"

    def complies(self, value: float) -> bool:
        return value >= self.value if self.direction == "minimum" else value <= self.value


def load_rules(path: Path) -> dict[str, FloorRule]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rules = {}
    for raw in data.get("rules", []):
        known = {k: raw.get(k) for k in FloorRule.__dataclass_fields__ if k in raw}
        known["value"] = float(known["value"])
        known["article"] = str(known["article"])
        known["keywords"] = list(known.get("keywords") or [])
        rule = FloorRule(**known)
        if rule.direction not in {"minimum", "maximum"}:
            raise ValueError(f"{path}: rule {rule.id} has direction {rule.direction!r}")
        rules[rule.id] = rule
    return rules


@dataclass
class ClauseParameter:
    name: str
    label: str
    unit: str
    rule: str | None
    floor: float | str | None
    target: float | str | None
    ambitious: float | str | None

    def value_for(self, variant: str):
        return {"floor": self.floor, "target": self.target, "ambitious": self.ambitious}.get(variant, self.target)


@dataclass
class ClauseTemplate:
    id: str
    title: str
    order: int
    keywords: list[str]
    legal_basis: list[dict]
    comparables: list[dict]
    parameters: list[ClauseParameter]
    sections: dict[str, str]
    path: str = ""

    @property
    def model(self) -> str:
        return self.sections.get("Modèle", "")

    def parameter(self, name: str) -> ClauseParameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def parse_sections(body: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    current = None
    lines: list[str] = []
    for line in body.split("\n"):
        match = re.match(r"^##\s+(.+?)\s*$", line)
        if match:
            if current:
                sections[current] = "\n".join(lines).strip()
            current, lines = match.group(1), []
        elif current:
            lines.append(line)
    if current:
        sections[current] = "\n".join(lines).strip()
    return sections


def load_clause(path: Path) -> ClauseTemplate:
    front, body = split_front_matter(path.read_text(encoding="utf-8"))
    if not front.get("id"):
        raise ValueError(f"{path}: front matter without id")
    params = [
        ClauseParameter(p["name"], p.get("label", p["name"]), p.get("unit", "text"), p.get("rule"), p.get("floor"), p.get("target"), p.get("ambitious"))
        for p in front.get("parameters") or []
    ]
    return ClauseTemplate(
        id=str(front["id"]), title=str(front.get("title", front["id"])), order=int(front.get("order", 99)),
        keywords=list(front.get("keywords") or []), legal_basis=list(front.get("legal_basis") or []),
        comparables=list(front.get("comparables") or []), parameters=params, sections=parse_sections(body), path=str(path),
    )


@dataclass
class Library:
    """The clause templates that loaded, and a French message for each file that did not."""

    templates: list[ClauseTemplate]
    problems: dict[str, str] = field(default_factory=dict)


def read_library(folder: Path) -> Library:
    """Every template of the folder; one broken file is reported and skipped, never fatal."""
    templates, problems = [], {}
    for path in sorted(folder.glob("*.md")):
        try:
            templates.append(load_clause(path))
        except Exception as exc:  # YAML error, missing id, bad parameter: that file only
            problems[path.name] = f"modèle de clause illisible ({exc})"
    return Library(sorted(templates, key=lambda t: t.order), problems)


def load_library(folder: Path) -> list[ClauseTemplate]:
    """The templates that load (see :func:`read_library` for the files that do not)."""
    return read_library(folder).templates


def find_template(library: list[ClauseTemplate], topic: str) -> ClauseTemplate | None:
    """The library entry a topic names: by id, then title, then keyword overlap."""
    wanted = topic.strip().lower()
    for template in library:
        if wanted in {template.id, template.title.lower()}:
            return template
    query = set(tokenize(topic))
    if not query:
        return None
    best, best_score = None, 0.0
    for template in library:
        vocab = set(tokenize(" ".join([template.title, template.id.replace("_", " ")] + template.keywords)))
        score = len(query & vocab) / len(query)
        if score > best_score:
            best, best_score = template, score
    return best if best_score >= 0.5 else None


def format_value(value, unit: str) -> str:
    """French number formatting: 17.92 → "17,92", 3422.72 → "3 422,72", 5.0 → "5"."""
    if isinstance(value, str) or value is None:
        return str(value or "")
    number = float(value)
    if number.is_integer():
        text = f"{int(number):,}".replace(",", "\u202f")
    else:
        text = f"{number:,.2f}".rstrip("0").rstrip(".").replace(",", "\u202f").replace(".", ",")
    return text


def render_model(template: ClauseTemplate, values: dict[str, object]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(1)
        param = template.parameter(name)
        return format_value(values.get(name), param.unit if param else "text") if name in values else match.group(0)

    return re.sub(r"\{\{\s*(\w+)\s*\}\}", fill, template.model)

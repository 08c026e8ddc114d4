"""The « Calculs » tab: the legal calculators of rag.calc, with their arithmetic and articles.

Every figure is computed in code from the floor rules; the page shows the result, each step and
the article it rests on, so that a negotiator can read the reasoning aloud, not just the number.
"""

from __future__ import annotations

from typing import Any

import gradio as gr

from rag import calc
from rag.web.render import md_escape

CALCULATORS = [
    ("Prime d'ancienneté (art. 350)", calc.CalcName.SENIORITY),
    ("Indemnité de licenciement (art. 52–53)", calc.CalcName.SEVERANCE),
    ("Congé payé annuel (art. 231–232)", calc.CalcName.LEAVE),
    ("Délégués des salariés (art. 433)", calc.CalcName.DELEGATES),
    ("Représentants syndicaux (art. 470)", calc.CalcName.UNION_REPS),
    ("Majoration d'une heure supplémentaire (art. 201)", calc.CalcName.OVERTIME),
    ("Salaire minimum mensuel (décret 2-25-983, art. 184)", calc.CalcName.MINIMUM_WAGE),
]
# which inputs each calculator reads
FIELDS = {
    calc.CalcName.SENIORITY: {"years", "wage"},
    calc.CalcName.SEVERANCE: {"years", "wage"},
    calc.CalcName.LEAVE: {"months", "years", "age"},
    calc.CalcName.DELEGATES: {"employees"},
    calc.CalcName.UNION_REPS: {"employees"},
    calc.CalcName.OVERTIME: {"hour", "day", "rest_day"},
    calc.CalcName.MINIMUM_WAGE: {"date"},
}


def _number(value: Any, what: str, required: bool) -> float | None:
    if value in (None, ""):
        if required:
            raise calc.CalcError(f"indiquez {what}")
        return None
    return calc.read_number(str(value), what)


def compute(name: str, years: Any = None, wage: Any = None, months: Any = None, age: Any = None, employees: Any = None,
            hour: str = "", day: str = "", rest_day: str = calc.DEFAULT_REST_DAY, on: str = "") -> calc.Calculation:
    """Run one calculator from the form's raw values; raises :class:`rag.calc.CalcError` on bad input."""
    kind = calc.CalcName(name)
    if kind == calc.CalcName.SENIORITY:
        return calc.seniority_bonus(_number(years, "l'ancienneté (années)", True), _number(wage, "le salaire mensuel", False))
    if kind == calc.CalcName.SEVERANCE:
        return calc.severance_pay(_number(years, "l'ancienneté (années)", True), _number(wage, "le salaire mensuel", False))
    if kind == calc.CalcName.LEAVE:
        return calc.paid_leave(_number(months, "les mois de service", True), _number(years, "l'ancienneté (années)", False),
                               _number(age, "l'âge", False))
    if kind in (calc.CalcName.DELEGATES, calc.CalcName.UNION_REPS):
        count = _number(employees, "l'effectif (salariés)", True)
        if count is None or count != int(count):
            raise calc.CalcError("l'effectif doit être un nombre entier de salariés")
        function = calc.staff_delegates if kind == calc.CalcName.DELEGATES else calc.union_representatives
        return function(int(count))
    if kind == calc.CalcName.OVERTIME:
        if not (hour or "").strip():
            raise calc.CalcError("indiquez l'heure (HH:MM)")
        return calc.overtime_premium(hour.strip(), (day or "").strip() or None, (rest_day or calc.DEFAULT_REST_DAY).strip())
    return calc.minimum_wage(calc.parse_date(on.strip()) if (on or "").strip() else None)


def render(result: calc.Calculation) -> str:
    steps = "\n".join(f"{n}. {md_escape(step)}" for n, step in enumerate(result.arithmetic, start=1))
    refs = ", ".join(result.references) if result.references else f"{result.law}, art. {', '.join(result.articles)}"
    return (f"### {md_escape(result.summary)}\n\n**Calcul**\n\n{steps}\n\n"
            f"*Fondement : {md_escape(refs)} — règles du projet : {md_escape(', '.join(result.rule_ids))}.*")


def run(name, years, wage, months, age, employees, hour, day, rest_day, on) -> str:
    try:
        return render(compute(name, years, wage, months, age, employees, hour, day, rest_day, on))
    except (calc.CalcError, ValueError) as exc:
        return f"⚠ {exc}"


def show_fields(name: str) -> list[dict]:
    wanted = FIELDS.get(calc.CalcName(name), set())
    return [gr.update(visible=field in wanted) for field in ("years", "wage", "months", "age", "employees", "hour", "day", "rest_day", "date")]


def build_calc_tab() -> None:
    """Inside a ``gr.Tab``: the calculator picker, its inputs, the result with its arithmetic."""
    gr.Markdown("Calculs faits par le programme à partir des règles du Code du travail (jamais par le modèle) : "
                "chaque résultat donne son calcul et son article.")
    with gr.Row():
        with gr.Column(scale=1):
            name = gr.Dropdown([(label, str(value)) for label, value in CALCULATORS], value=str(calc.CalcName.SENIORITY), label="Calcul")
            years = gr.Number(label="Ancienneté (années)", value=None)
            wage = gr.Number(label="Salaire mensuel (MAD, facultatif)", value=None)
            months = gr.Number(label="Mois de service dans l'année", value=None, visible=False)
            age = gr.Number(label="Âge (facultatif)", value=None, visible=False)
            employees = gr.Number(label="Effectif (salariés)", value=None, visible=False)
            hour = gr.Textbox(label="Heure (HH:MM)", visible=False)
            days = [(d.capitalize(), d) for d in calc.WEEKDAYS]
            day = gr.Dropdown(days, value="mardi", label="Jour", visible=False)
            rest_day = gr.Dropdown(days, value=calc.DEFAULT_REST_DAY, label="Jour du repos hebdomadaire", visible=False)
            on = gr.Textbox(label="Date (AAAA-MM-JJ, facultatif : aujourd'hui)", visible=False)
            button = gr.Button("Calculer", variant="primary")
        with gr.Column(scale=2):
            result = gr.Markdown("", elem_classes=["bidi"], elem_id="calc-result")
    inputs = [name, years, wage, months, age, employees, hour, day, rest_day, on]
    name.change(show_fields, [name], [years, wage, months, age, employees, hour, day, rest_day, on])
    button.click(run, inputs, [result])

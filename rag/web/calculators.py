"""The « Calculs » tab: the legal calculators of rag.calc, with their arithmetic and articles.

Every figure is computed in code from the floor rules; the page shows the result, each step and
the article it rests on, so that a negotiator can read the reasoning aloud, not just the number.
"""

from __future__ import annotations

from typing import Any, Callable

import gradio as gr

from rag import calc
from rag.web.render import md_escape
from rag.web.texts import choices, tr, ui_lang

# each calculator and the key of its name in rag.web.texts
CALCULATORS = {
    calc.CalcName.SENIORITY: "calc_seniority",
    calc.CalcName.SEVERANCE: "calc_severance",
    calc.CalcName.LEAVE: "calc_leave",
    calc.CalcName.DELEGATES: "calc_delegates",
    calc.CalcName.UNION_REPS: "calc_union_reps",
    calc.CalcName.OVERTIME: "calc_overtime",
    calc.CalcName.MINIMUM_WAGE: "calc_minimum_wage",
}
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


def render(result: calc.Calculation, lang: str = "fr") -> str:
    """The result, its steps and its basis; the headings in ``lang``, the summary and the steps
    as rag.calc writes them (French)."""
    steps = "\n".join(f"{n}. {md_escape(step)}" for n, step in enumerate(result.arithmetic, start=1))
    refs = ", ".join(result.references) if result.references else f"{result.law}, art. {', '.join(result.articles)}"
    basis = tr("calc_basis", lang).format(refs=md_escape(refs), rules=md_escape(", ".join(result.rule_ids)))
    return f"### {md_escape(result.summary)}\n\n**{tr('calc_steps', lang)}**\n\n{steps}\n\n*{basis}*"


def missing_field(name: str, years, wage, months, age, employees, hour, lang: str = "fr") -> str | None:
    """The required field left empty, worded in ``lang`` (« indiquez l'ancienneté »), or None."""
    required = {calc.CalcName.SENIORITY: ("calc_years", years), calc.CalcName.SEVERANCE: ("calc_years", years),
                calc.CalcName.LEAVE: ("calc_months", months), calc.CalcName.DELEGATES: ("calc_employees", employees),
                calc.CalcName.UNION_REPS: ("calc_employees", employees), calc.CalcName.OVERTIME: ("calc_hour", hour)}
    try:
        key, value = required.get(calc.CalcName(name), (None, "x"))
    except ValueError:
        return None
    if key is None or (value not in (None, "") and str(value).strip()):
        return None
    return tr("calc_need", lang).format(what=tr(key, lang).lower() if lang != "ar" else tr(key, lang))


def run(name, years, wage, months, age, employees, hour, day, rest_day, on, lang: str = "fr") -> str:
    lang = ui_lang(lang)
    if lang != "fr":  # French keeps rag.calc's own wording (« indiquez l'ancienneté (années) »)
        missing = missing_field(name, years, wage, months, age, employees, hour, lang)
        if missing:
            return f"⚠ {missing}"
        if calc.CalcName(name) in (calc.CalcName.DELEGATES, calc.CalcName.UNION_REPS) and isinstance(employees, (int, float)) and employees != int(employees):
            return f"⚠ {tr('calc_whole', lang)}"
    try:
        return render(compute(name, years, wage, months, age, employees, hour, day, rest_day, on), lang)
    except (calc.CalcError, ValueError) as exc:  # rag.calc's messages are French
        return f"⚠ {exc}"


def show_fields(name: str) -> list[dict]:
    wanted = FIELDS.get(calc.CalcName(name), set())
    return [gr.update(visible=field in wanted) for field in ("years", "wage", "months", "age", "employees", "hour", "day", "rest_day", "date")]


def calculator_choices(lang: str = "fr") -> list[tuple[str, str]]:
    return choices({str(name): key for name, key in CALCULATORS.items()}, lang)


def day_choices(lang: str = "fr") -> list[tuple[str, str]]:
    return choices({day: f"day_{day}" for day in calc.WEEKDAYS}, lang)


def build_calc_tab(lab: Callable | None = None, lang=None) -> None:
    """Inside a ``gr.Tab``: the calculator picker, its inputs, the result with its arithmetic.
    ``lab(component, text_key, prop)`` registers a text for the language switch; ``lang``: the
    State of the interface language (the result's headings and missing-field notices)."""
    lab = lab or (lambda component, key, prop="label": component)
    lab(gr.Markdown(tr("calc_intro")), "calc_intro", "value")
    with gr.Row():
        with gr.Column(scale=1):
            name = lab(gr.Dropdown(calculator_choices(), value=str(calc.CalcName.SENIORITY), label=tr("calc_pick")), "calc_pick")
            lab(name, calculator_choices, "choices")
            years = lab(gr.Number(label=tr("calc_years"), value=None), "calc_years")
            wage = lab(gr.Number(label=tr("calc_wage"), value=None), "calc_wage")
            months = lab(gr.Number(label=tr("calc_months"), value=None, visible=False), "calc_months")
            age = lab(gr.Number(label=tr("calc_age"), value=None, visible=False), "calc_age")
            employees = lab(gr.Number(label=tr("calc_employees"), value=None, visible=False), "calc_employees")
            hour = lab(gr.Textbox(label=tr("calc_hour"), visible=False), "calc_hour")
            day = lab(gr.Dropdown(day_choices(), value="mardi", label=tr("calc_day"), visible=False), "calc_day")
            lab(day, day_choices, "choices")
            rest_day = lab(gr.Dropdown(day_choices(), value=calc.DEFAULT_REST_DAY, label=tr("calc_rest_day"), visible=False), "calc_rest_day")
            lab(rest_day, day_choices, "choices")
            on = lab(gr.Textbox(label=tr("calc_date"), visible=False), "calc_date")
            button = lab(gr.Button(tr("calc_btn"), variant="primary"), "calc_btn", "value")
        with gr.Column(scale=2):
            result = gr.Markdown("", elem_classes=["bidi"], elem_id="calc-result")
    inputs = [name, years, wage, months, age, employees, hour, day, rest_day, on]
    name.change(show_fields, [name], [years, wage, months, age, employees, hour, day, rest_day, on])
    button.click(run, inputs + ([lang] if lang is not None else []), [result])

"""Legal calculators: statutory figures computed in code, never by the model.

A 1.5B local model cannot be trusted with arithmetic, so every figure a negotiator may ask for
(seniority bonus, severance pay, paid leave, delegates, union representatives, overtime premium,
monthly minimum wage) is computed here from the floor rules of ``corpus/rules/floors.yaml``. Each
result is a :class:`Calculation`: the value, its unit, the articles and the official text it rests
on, the arithmetic step by step in French, and the floor rules used.

The rates, hours and counts come from the rules. The bracket bounds (2, 5, 12, 20, 25 years; 10,
25, 50… employees; 6 h and 21 h…) are the structure of each article: they live in the tables
below, each bound next to the rule it selects, and the tests find every one of them in the text of
the cited article of the official PDF.

``parse_question`` recognises, in code, a chat question that clearly asks for one of these
computations (French, Arabic or English) and runs it; anything less clear returns ``None``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from rag.library import FloorRule, format_value, load_rules
from rag.settings import PROJECT_ROOT

RULES_FILE = PROJECT_ROOT / "corpus" / "rules" / "floors.yaml"
CODE_SOURCE = "ma_code_travail_fr_2011.pdf"


class CalcName(StrEnum):
    SENIORITY = "seniority"
    SEVERANCE = "severance"
    LEAVE = "leave"
    DELEGATES = "delegates"
    UNION_REPS = "union_reps"
    OVERTIME = "overtime"
    MINIMUM_WAGE = "minimum_wage"


class CalcError(ValueError):
    """Input a calculator cannot take; the message is a French sentence for the user."""


# ------------------------------------------------------------------------------------------
# Bracket tables: bound(s) as printed in the article → the floor rule giving the figure

# art. 350: "5% du salaire versé, après deux ans de service ; 10 % … après cinq ans …"
SENIORITY_STEPS: tuple[tuple[int, str], ...] = (
    (2, "seniority_bonus_2y"), (5, "seniority_bonus_5y"), (12, "seniority_bonus_12y"),
    (20, "seniority_bonus_20y"), (25, "seniority_bonus_25y"),
)
# art. 53: "96 heures … pour les cinq premières années ; 144 … de 6 à 10 ans ; 192 … de 11 à 15 ans ;
# 240 … dépassant 15 ans" — (first year of the bracket, last year or None, rule)
SEVERANCE_BRACKETS: tuple[tuple[int, int | None, str], ...] = (
    (1, 5, "severance_years_1_5"), (6, 10, "severance_years_6_10"),
    (11, 15, "severance_years_11_15"), (16, None, "severance_years_over_15"),
)
# art. 433: "de dix à vingt-cinq salariés : un délégué titulaire et un délégué suppléant …"
DELEGATE_BRACKETS: tuple[tuple[int, int, str], ...] = (
    (10, 25, "staff_delegates_10_25"), (26, 50, "staff_delegates_26_50"), (51, 100, "staff_delegates_51_100"),
    (101, 250, "staff_delegates_101_250"), (251, 500, "staff_delegates_251_500"), (501, 1000, "staff_delegates_501_1000"),
)
DELEGATES_EXTRA_TRANCHE = 500  # art. 433, 7° "pour chaque tranche supplémentaire de cinq cents salariés"
# art. 470: "De 100 à 250 salariés 1 représentant syndical ; … Plus de 6000 salariés 6 …"
UNION_REP_BRACKETS: tuple[tuple[int, int | None, str], ...] = (
    (100, 250, "union_reps_100_250"), (251, 500, "union_reps_251_500"), (501, 2000, "union_reps_501_2000"),
    (2001, 3500, "union_reps_2001_3500"), (3501, 6000, "union_reps_3501_6000"), (6001, None, "union_reps_over_6000"),
)
# art. 201, activités non agricoles: 25 % "entre 6 heures et 21 heures", 50 % "entre 21 heures et 6 heures"
OVERTIME_DAY_FROM_HOUR = 6
OVERTIME_NIGHT_FROM_HOUR = 21
# art. 231, 2°: "pour les salariés âgés de moins de dix-huit ans"
LEAVE_MINOR_AGE = 18
# art. 232: "par période entière, continue ou non, de cinq années de service"
LEAVE_SENIORITY_PERIOD_YEARS = 5
LEAVE_MONTHS_PER_YEAR = 12
# decree 2-25-983, art. 1: "ابتداء من فاتح يناير 2026" (from 1 January 2026), non-agricultural activities.
# The earlier amount (decree 2.24.1122, repealed by art. 3 on that date) is not in the corpus.
SMIG_PERIODS: tuple[tuple[date, str], ...] = ((date(2026, 1, 1), "smig_2026_hourly"),)
SMIG_PREVIOUS_DECREE = "2.24.1122"
MONTH_HOURS_RULE = "month_of_work_hours"  # art. 238: 191 h of work = one month (non-agricultural)
ANNUAL_HOURS_RULE = "working_time_yearly"  # art. 184: 2288 h a year

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAY_NAMES: dict[str, str] = {
    **{d: d for d in WEEKDAYS},
    "monday": "lundi", "tuesday": "mardi", "wednesday": "mercredi", "thursday": "jeudi", "friday": "vendredi",
    "saturday": "samedi", "sunday": "dimanche",
    "mon": "lundi", "tue": "mardi", "wed": "mercredi", "thu": "jeudi", "fri": "vendredi", "sat": "samedi", "sun": "dimanche",
    "الاثنين": "lundi", "الإثنين": "lundi", "الثلاثاء": "mardi", "الأربعاء": "mercredi", "الاربعاء": "mercredi",
    "الخميس": "jeudi", "الجمعة": "vendredi", "السبت": "samedi", "الأحد": "dimanche", "الاحد": "dimanche",
}
DEFAULT_REST_DAY = "dimanche"


# ------------------------------------------------------------------------------------------
# Result


@dataclass
class Calculation:
    """One computed legal figure, with everything needed to check it by hand."""

    name: str
    value: float | int | None
    unit: str  # machine unit: percent, hours, MAD, days, persons
    unit_label: str  # French
    articles: list[str]  # article labels in `source`
    source: str  # file name of the official text
    law: str
    arithmetic: list[str]  # French steps
    rule_ids: list[str]
    inputs: dict
    summary: str
    details: dict = field(default_factory=dict)
    references: list[str] = field(default_factory=list)  # every reference, other texts included

    @property
    def reference(self) -> str:
        return " ; ".join(self.references) or _cite(self.source, self.law, self.articles)

    def to_json(self) -> dict:
        return {
            "name": self.name, "value": _plain(self.value), "unit": self.unit, "unit_label": self.unit_label,
            "article": self.articles[0] if len(self.articles) == 1 else list(self.articles),
            "source": self.source, "law": self.law, "arithmetic": "\n".join(self.arithmetic),
            "rule": list(self.rule_ids), "summary": self.summary, "inputs": dict(self.inputs),
            "details": dict(self.details), "references": list(self.references),
        }


def _plain(value):
    """10.0 → 10 in JSON; other values unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, FloorRule]:
    return load_rules(path)


def default_rules() -> dict[str, FloorRule]:
    return _load(RULES_FILE)


def _rule(rules: dict[str, FloorRule], rule_id: str) -> FloorRule:
    try:
        return rules[rule_id]
    except KeyError:
        raise LookupError(f"règle plancher {rule_id!r} absente de floors.yaml") from None


def _cite(source: str, law: str, articles: list[str]) -> str:
    prefix = "C. trav." if source.startswith("ma_code_travail") else law
    labels = list(dict.fromkeys(articles))
    if len(labels) == 1:
        return f"{prefix}, art. {labels[0]}"
    return f"{prefix}, art. " + ", ".join(labels[:-1]) + f" et {labels[-1]}"


def _build(name: CalcName, value, unit: str, unit_label: str, used: list[FloorRule], steps: list[str], inputs: dict,
           summary: str, *, extra_articles: tuple[str, ...] = (), details: dict | None = None) -> Calculation:
    """The primary text is the first rule's; the citation groups every rule's article by text."""
    primary = used[0]
    by_source: dict[str, tuple[str, list[str]]] = {primary.source: (primary.law, [])}
    for rule in used:
        by_source.setdefault(rule.source, (rule.law, []))[1].append(rule.article)
    by_source[primary.source][1].extend(extra_articles)
    references = [_cite(src, law, _sorted_articles(arts)) for src, (law, arts) in by_source.items() if arts]
    articles = _sorted_articles(by_source[primary.source][1])
    rule_ids = list(dict.fromkeys(r.id for r in used))
    return Calculation(
        name=str(name), value=value, unit=unit, unit_label=unit_label, articles=articles, source=primary.source,
        law=primary.law, arithmetic=steps, rule_ids=rule_ids, inputs=inputs,
        summary=f"{summary} ({' ; '.join(references)}).", details=details or {}, references=references,
    )


def _sorted_articles(articles: list[str]) -> list[str]:
    def key(label: str):
        match = re.match(r"\d+", label)
        return (int(match.group()) if match else 10**6, label)

    return sorted(dict.fromkeys(articles), key=key)


def _num(value: float) -> str:
    return format_value(round(value, 2), "")


def _mad(value: float) -> str:
    return f"{format_value(round(value, 2), 'mad')} MAD"


def _years_label(years: float) -> str:
    return f"{_num(years)} an" if years < 2 else f"{_num(years)} ans"


def _check_number(value, what: str, *, integer: bool = False, allow_zero: bool = True) -> None:
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or math.isinf(value):
        raise CalcError(f"{what} : un nombre est attendu.")
    if value < 0 or (value == 0 and not allow_zero):
        raise CalcError(f"{what} ne peut pas être {'négatif' if value < 0 else 'nul'} ({_num(value)}).")
    if integer and not float(value).is_integer():
        raise CalcError(f"{what} doit être un nombre entier ({_num(value)}).")


def read_number(text: str | float | int | None, what: str) -> float:
    """A user-typed number: "6000", "6 000", "6000,50". French message when it is not one."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    raw = str(text or "").strip().replace("\u202f", "").replace("\xa0", "").replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"[-+]?\d+(?:\.\d+)?", raw):
        raise CalcError(f"{what} : « {text} » n'est pas un nombre.")
    return float(raw)


# ------------------------------------------------------------------------------------------
# 1. Seniority bonus (art. 350)


def seniority_bonus(years: float, monthly_wage: float | None = None, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Statutory seniority bonus rate after `years` of service; the monthly amount if a wage is given."""
    rules = default_rules() if rules is None else rules
    _check_number(years, "Le nombre d'années de service")
    if monthly_wage is not None:
        _check_number(monthly_wage, "Le salaire mensuel", allow_zero=False)
    steps_rules = [(threshold, _rule(rules, rid)) for threshold, rid in SENIORITY_STEPS]
    reached = [(t, r) for t, r in steps_rules if years >= t]
    inputs = {"years": years, "monthly_wage": monthly_wage}
    if not reached:
        first_t, first = steps_rules[0]
        steps = [f"{_years_label(years)} < {first_t} ans → aucune prime d'ancienneté légale (la première tranche, {_num(first.value)} %, est due après {first_t} ans de service)"]
        return _build(CalcName.SENIORITY, 0, "percent", "% du salaire versé", [first], steps, inputs,
                      f"Avec {_years_label(years)} de service, aucune prime d'ancienneté légale n'est encore due : {_num(first.value)} % après {first_t} ans",
                      details={"rate_percent": 0, "amount": 0 if monthly_wage else None})
    index = len(reached) - 1
    threshold, rule = reached[-1]
    if index + 1 < len(steps_rules):
        upper = steps_rules[index + 1][0]
        step = f"{_years_label(years)} ≥ {threshold} ans et < {upper} ans → {_num(rule.value)} %"
    else:
        step = f"{_years_label(years)} ≥ {threshold} ans (dernière tranche) → {_num(rule.value)} %"
    steps = [step]
    summary = f"Après {_years_label(years)} de service, la prime d'ancienneté légale est de {_num(rule.value)} % du salaire versé"
    details = {"rate_percent": rule.value, "amount": None}
    value, unit, unit_label = rule.value, "percent", "% du salaire versé"
    if monthly_wage is not None:
        amount = round(monthly_wage * rule.value / 100, 2)
        steps.append(f"{_num(rule.value)} % × {_mad(monthly_wage)} = {_mad(amount)} par mois")
        summary += f", soit {_mad(amount)} par mois pour un salaire de {_mad(monthly_wage)}"
        details["amount"] = amount
        value, unit, unit_label = amount, "MAD", "dirhams par mois"
    return _build(CalcName.SENIORITY, value, unit, unit_label, [rule], steps, inputs, summary, details=details)


# ------------------------------------------------------------------------------------------
# 2. Severance pay (art. 52, 53)


def severance_pay(years: float, monthly_wage: float | None = None, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Statutory severance pay for `years` of service (fractions allowed): hours of wage, and MAD if a wage is given.

    Art. 53 prices "chaque année ou fraction d'année de travail effectif": a started year counts as a
    year, in the bracket of its rank; the pro-rata reading is shown as a remark, not retained.
    """
    rules = default_rules() if rules is None else rules
    _check_number(years, "Le nombre d'années de service")
    if monthly_wage is not None:
        _check_number(monthly_wage, "Le salaire mensuel", allow_zero=False)
    eligibility = _rule(rules, "severance_eligibility")
    inputs = {"years": years, "monthly_wage": monthly_wage}
    months = round(years * 12, 6)
    brackets = [(lo, hi, _rule(rules, rid)) for lo, hi, rid in SEVERANCE_BRACKETS]
    if months < eligibility.value:
        steps = [f"{_num(months)} mois de travail < {_num(eligibility.value)} mois → pas d'indemnité de licenciement (droit ouvert après six mois de travail dans la même entreprise)"]
        return _build(CalcName.SEVERANCE, 0, "MAD" if monthly_wage is not None else "hours", "dirhams" if monthly_wage is not None else "heures de salaire",
                      [eligibility], steps, inputs,
                      f"Avec {_num(months)} mois de travail, l'indemnité légale de licenciement n'est pas due : il faut au moins {_num(eligibility.value)} mois dans la même entreprise",
                      details={"hours": 0, "amount": 0 if monthly_wage is not None else None, "reason": "ancienneté inférieure à six mois"})
    exact = round(years, 6)
    counted = math.ceil(exact)
    steps = [f"{_num(months)} mois ≥ {_num(eligibility.value)} mois → indemnité due (hors faute grave)"]
    if counted != exact:
        steps.append(f"{_years_label(exact)} : la fraction d'année compte comme une année (« chaque année ou fraction d'année », art. 53) → {counted} années")
    total_hours = 0.0
    prorata_hours = 0.0
    used = [eligibility]
    for lo, hi, rule in brackets:
        last = counted if hi is None else min(hi, counted)
        n = last - lo + 1
        if n <= 0:
            continue
        used.append(rule)
        span = f"années {lo} à {last}" if n > 1 else f"année {lo}"
        steps.append(f"{span} : {n} × {_num(rule.value)} h = {_num(n * rule.value)} h")
        total_hours += n * rule.value
        prorata_hours += (min(exact, last) - (lo - 1)) * rule.value
    steps.append(f"Total : {_num(total_hours)} heures de salaire")
    if counted != exact:
        steps.append(f"Remarque : au prorata de la fraction (lecture non retenue ici), on aurait {_num(prorata_hours)} h")
    details = {"hours": total_hours, "counted_years": counted, "prorata_hours": round(prorata_hours, 2), "amount": None}
    summary = f"Pour {_years_label(exact)} de service, l'indemnité légale de licenciement est de {_num(total_hours)} heures de salaire"
    value, unit, unit_label = total_hours, "hours", "heures de salaire"
    extra: tuple[str, ...] = ()
    if monthly_wage is not None:
        month_hours = _rule(rules, MONTH_HOURS_RULE)
        smig = _rule(rules, SMIG_PERIODS[-1][1])
        used.append(month_hours)
        extra = ("55",)
        steps.append(
            f"Salaire horaire = salaire mensuel moyen des 52 dernières semaines (art. 55) ÷ {_num(month_hours.value)} h — "
            f"convention : le code ne fixe pas de diviseur pour cette indemnité ; {_num(month_hours.value)} h est l'équivalence "
            f"d'un mois de travail dans les activités non agricoles (art. {month_hours.article})"
        )
        hourly = monthly_wage / month_hours.value
        if hourly < smig.value:
            used.append(smig)
            extra += ("56",)
            steps.append(f"{_mad(monthly_wage)} ÷ {_num(month_hours.value)} h = {_num(hourly)} MAD/h < SMIG {_num(smig.value)} MAD/h → base portée au SMIG (art. 56)")
            amount = round(total_hours * smig.value, 2)
            steps.append(f"{_num(total_hours)} h × {_num(smig.value)} MAD/h = {_mad(amount)}")
        else:
            amount = round(total_hours * monthly_wage / month_hours.value, 2)
            steps.append(f"{_num(total_hours)} h × {_mad(monthly_wage)} ÷ {_num(month_hours.value)} h = {_mad(amount)}")
        summary += f", soit {_mad(amount)} pour un salaire mensuel de {_mad(monthly_wage)}"
        details["amount"] = amount
        value, unit, unit_label = amount, "MAD", "dirhams"
    return _build(CalcName.SEVERANCE, value, unit, unit_label, used, steps, inputs, summary, extra_articles=extra, details=details)


# ------------------------------------------------------------------------------------------
# 3. Paid annual leave (art. 231, 232)


def paid_leave(months: float, years: float | None = None, age: float | None = None, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Statutory paid leave for `months` of service in the reference year, `years` of seniority, `age`."""
    rules = default_rules() if rules is None else rules
    _check_number(months, "Le nombre de mois de service")
    if months > LEAVE_MONTHS_PER_YEAR:
        raise CalcError(f"Le nombre de mois de service de l'année de référence doit être compris entre 0 et {LEAVE_MONTHS_PER_YEAR} ({_num(months)}) ; l'ancienneté se donne en années (--years).")
    if years is not None:
        _check_number(years, "L'ancienneté en années")
    if age is not None:
        _check_number(age, "L'âge")
        if age < 12 or age > 100:
            raise CalcError(f"L'âge doit être compris entre 12 et 100 ans ({_num(age)}).")
    seniority_years = years if years is not None else months / 12
    inputs = {"months": months, "years": years, "age": age}
    eligibility = _rule(rules, "paid_leave_eligibility")
    minor = age is not None and age < LEAVE_MINOR_AGE
    accrual = _rule(rules, "paid_leave_accrual_minors" if minor else "paid_leave_accrual")
    service_months = max(months, seniority_years * 12)
    if service_months < eligibility.value:
        steps = [f"{_num(service_months)} mois de service continu < {_num(eligibility.value)} mois → droit au congé annuel payé pas encore ouvert"]
        return _build(CalcName.LEAVE, 0, "days", "jours de travail effectif", [eligibility], steps, inputs,
                      f"Avec {_num(service_months)} mois de service, le droit au congé annuel payé n'est pas encore ouvert (après {_num(eligibility.value)} mois de service continu)",
                      details={"reason": "moins de six mois de service continu"})
    steps = []
    if age is None:
        steps.append(f"Âge non précisé : salarié de {LEAVE_MINOR_AGE} ans ou plus → {_num(accrual.value)} jour par mois")
    elif minor:
        steps.append(f"{_num(age)} ans < {LEAVE_MINOR_AGE} ans → {_num(accrual.value)} jours par mois de service")
    else:
        steps.append(f"{_num(age)} ans ≥ {LEAVE_MINOR_AGE} ans → {_num(accrual.value)} jour par mois de service")
    base = months * accrual.value
    steps.append(f"{_num(months)} mois × {_num(accrual.value)} j = {_num(base)} jours")
    used = [accrual, eligibility]
    increase_rule = _rule(rules, "paid_leave_seniority_increase")
    cap_rule = _rule(rules, "paid_leave_seniority_cap")
    periods = math.floor(round(seniority_years, 6) / LEAVE_SENIORITY_PERIOD_YEARS)
    increase = periods * increase_rule.value
    total = base
    if periods:
        used.append(increase_rule)
        steps.append(f"Ancienneté {_years_label(seniority_years)} → {periods} période(s) entière(s) de {LEAVE_SENIORITY_PERIOD_YEARS} ans × {_num(increase_rule.value)} j = +{_num(increase)} jours")
        total = base + increase
        if total > cap_rule.value:
            used.append(cap_rule)
            capped = max(base, cap_rule.value)
            steps.append(f"{_num(base)} + {_num(increase)} = {_num(total)} > {_num(cap_rule.value)} → plafonné à {_num(capped)} jours (la majoration ne peut porter le congé au-delà de {_num(cap_rule.value)} jours)")
            total = capped
        else:
            steps.append(f"{_num(base)} + {_num(increase)} = {_num(total)} jours (≤ plafond de {_num(cap_rule.value)} jours)")
    else:
        steps.append(f"Ancienneté {_years_label(seniority_years)} < {LEAVE_SENIORITY_PERIOD_YEARS} ans → pas de majoration d'ancienneté")
    if not float(total).is_integer():
        steps.append("Le code ne prévoit pas d'arrondi : le résultat est donné tel quel")
    total = round(total, 2)
    who = f"un salarié de {_num(age)} ans" if age is not None else "un salarié majeur"
    summary = f"Pour {_num(months)} mois de service et {_years_label(seniority_years)} d'ancienneté, {who} a droit à {_num(total)} jours de travail effectif de congé annuel payé"
    return _build(CalcName.LEAVE, total, "days", "jours de travail effectif", used, steps, inputs, summary,
                  details={"base_days": round(base, 2), "seniority_days": round(increase, 2), "seniority_periods": periods})


# ------------------------------------------------------------------------------------------
# 4. Staff delegates (art. 430, 433)


def staff_delegates(employees: int, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Number of staff delegates (titulaires, and as many suppléants) for a headcount."""
    rules = default_rules() if rules is None else rules
    _check_number(employees, "L'effectif", integer=True)
    employees = int(employees)
    inputs = {"employees": employees}
    threshold = _rule(rules, "staff_delegates_threshold")
    unit_label = "délégués titulaires (et autant de suppléants)"
    if employees < threshold.value:
        steps = [f"{_num(employees)} salariés < {_num(threshold.value)} → pas d'élection obligatoire de délégués ; possible par accord écrit (art. 431)"]
        return _build(CalcName.DELEGATES, 0, "persons", unit_label, [threshold], steps, inputs,
                      f"Avec {_num(employees)} salariés, l'élection de délégués des salariés n'est pas obligatoire (au moins {_num(threshold.value)} salariés permanents)",
                      extra_articles=("431",), details={"titulaires": 0, "suppleants": 0})
    brackets = [(lo, hi, _rule(rules, rid)) for lo, hi, rid in DELEGATE_BRACKETS]
    used: list[FloorRule]
    for lo, hi, rule in brackets:
        if lo <= employees <= hi:
            count = int(rule.value)
            steps = [f"{_num(employees)} salariés : de {lo} à {hi} → {count} titulaire(s) + {count} suppléant(s)"]
            used = [rule]
            break
    else:
        lo, hi, top = brackets[-1]
        per = _rule(rules, "staff_delegates_per_extra_500")
        extra = math.ceil((employees - hi) / DELEGATES_EXTRA_TRANCHE)
        strict = (employees - hi) // DELEGATES_EXTRA_TRANCHE
        count = int(top.value + extra * per.value)
        steps = [
            f"{_num(employees)} salariés > {hi} : {_num(top.value)} titulaires pour {lo} à {hi}",
            f"{employees} − {hi} = {employees - hi} salariés → {extra} tranche(s) supplémentaire(s) de {DELEGATES_EXTRA_TRANCHE} (toute tranche commencée comptée, dans le prolongement des tranches « de {lo} à {hi} ») × {_num(per.value)} = +{_num(extra * per.value)}",
            f"{_num(top.value)} + {_num(extra * per.value)} = {count} titulaires + {count} suppléants",
        ]
        if strict != extra:
            steps.append(f"Remarque : en ne comptant que les tranches complètes de {DELEGATES_EXTRA_TRANCHE}, on aurait {int(top.value + strict * per.value)} titulaires")
        used = [top, per]
    summary = f"Pour {_num(employees)} salariés, il faut élire {count} délégué(s) titulaire(s) et {count} suppléant(s)"
    return _build(CalcName.DELEGATES, count, "persons", unit_label, used, steps, inputs, summary,
                  details={"titulaires": count, "suppleants": count})


# ------------------------------------------------------------------------------------------
# 5. Union representatives (art. 470)


def union_representatives(employees: int, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Number of union representatives the most representative union may appoint, for a headcount."""
    rules = default_rules() if rules is None else rules
    _check_number(employees, "L'effectif", integer=True)
    employees = int(employees)
    inputs = {"employees": employees}
    brackets = [(lo, hi, _rule(rules, rid)) for lo, hi, rid in UNION_REP_BRACKETS]
    unit_label = "représentants syndicaux"
    first_lo, _, first = brackets[0]
    if employees < first_lo:
        steps = [f"{_num(employees)} salariés < {first_lo} → le tableau de l'art. 470 ne prévoit pas de représentant syndical"]
        return _build(CalcName.UNION_REPS, 0, "persons", unit_label, [first], steps, inputs,
                      f"Avec {_num(employees)} salariés, la loi ne prévoit pas de représentant syndical dans l'entreprise (à partir de {first_lo} salariés)")
    for lo, hi, rule in brackets:
        if employees >= lo and (hi is None or employees <= hi):
            count = int(rule.value)
            span = f"de {lo} à {hi}" if hi is not None else f"plus de {lo - 1}"
            steps = [f"{_num(employees)} salariés : {span} → {count} représentant(s) syndical(aux)"]
            break
    summary = (f"Pour {_num(employees)} salariés, le syndicat le plus représentatif peut désigner {count} représentant(s) syndical(aux)")
    return _build(CalcName.UNION_REPS, count, "persons", unit_label, [rule], steps, inputs, summary)


# ------------------------------------------------------------------------------------------
# 6. Overtime premium (art. 201)


def parse_time(text: str) -> tuple[int, int]:
    """ "22:00", "22h", "22 h 30", "7h05", "22" → (hour, minute); French message otherwise."""
    raw = str(text or "").strip().lower()
    match = re.fullmatch(r"(\d{1,2})\s*(?:[:h]\s*(\d{2})?)?\s*", raw)
    if not match:
        raise CalcError(f"Heure « {text} » mal formée : attendu HH:MM (ex. 22:00 ou 6h30).")
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise CalcError(f"Heure « {text} » impossible : de 00:00 à 23:59.")
    return hour, minute


def normalise_day(text: str) -> str:
    """A weekday in French, English or Arabic → its French name; French message otherwise."""
    raw = unicodedata.normalize("NFC", str(text or "")).strip().lower()
    raw = re.sub(r"^(?:le|un|on|a|يوم)\s+", "", raw)
    plain = "".join(c for c in unicodedata.normalize("NFKD", raw) if not unicodedata.combining(c))
    day = DAY_NAMES.get(raw) or DAY_NAMES.get(plain)
    if day is None:
        raise CalcError(f"Jour « {text} » inconnu : lundi, mardi, mercredi, jeudi, vendredi, samedi ou dimanche (ou monday…sunday, الاثنين…الأحد).")
    return day


def overtime_premium(time: str, day: str | None = None, rest_day: str = DEFAULT_REST_DAY, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Statutory premium for an overtime hour worked at `time` on `day` (non-agricultural activities).

    `rest_day` is the establishment's weekly rest day (art. 206: Friday, Saturday, Sunday or the
    market day); it defaults to Sunday. Without a day, the hour is taken as on a working day.
    """
    rules = default_rules() if rules is None else rules
    hour, minute = parse_time(time)
    weekday = normalise_day(day) if day else None
    rest = normalise_day(rest_day)
    inputs = {"time": f"{hour:02d}:{minute:02d}", "day": weekday, "rest_day": rest}
    at = hour * 60 + minute
    night = at >= OVERTIME_NIGHT_FROM_HOUR * 60 or at < OVERTIME_DAY_FROM_HOUR * 60
    on_rest_day = weekday == rest
    rule = _rule(rules, {(False, False): "overtime_premium_day", (True, False): "overtime_premium_night",
                         (False, True): "overtime_premium_rest_day", (True, True): "overtime_premium_rest_day_night"}[(night, on_rest_day)])
    clock = f"{hour} h {minute:02d}"
    if night:
        steps = [f"{clock} : entre {OVERTIME_NIGHT_FROM_HOUR} h et {OVERTIME_DAY_FROM_HOUR} h → heure de nuit (activités non agricoles ; l'heure qui commence à {OVERTIME_NIGHT_FROM_HOUR} h 00 est de nuit)"]
    else:
        steps = [f"{clock} : entre {OVERTIME_DAY_FROM_HOUR} h et {OVERTIME_NIGHT_FROM_HOUR} h → heure de jour (activités non agricoles ; l'heure qui commence à {OVERTIME_DAY_FROM_HOUR} h 00 est de jour)"]
    default_note = " par défaut" if rest_day == DEFAULT_REST_DAY else ""
    if weekday is None:
        steps.append("Jour non précisé : compté comme un jour de travail, pas le jour du repos hebdomadaire")
    elif on_rest_day:
        steps.append(f"{weekday} = jour du repos hebdomadaire ({rest}{default_note} ; art. 206 : vendredi, samedi, dimanche ou jour du souk) → majoration portée à {_num(rule.value)} %")
    else:
        steps.append(f"{weekday} ≠ jour du repos hebdomadaire ({rest}{default_note} ; art. 206 : vendredi, samedi, dimanche ou jour du souk)")
    steps.append(f"Majoration : {_num(rule.value)} % du salaire horaire")
    when = f"un {weekday}" if weekday else "un jour de travail"
    kind = " (jour du repos hebdomadaire)" if on_rest_day else ""
    summary = f"Une heure supplémentaire effectuée à {clock} {when}{kind} est majorée de {_num(rule.value)} % du salaire horaire"
    return _build(CalcName.OVERTIME, rule.value, "percent", "% du salaire horaire", [rule], steps, inputs, summary,
                  extra_articles=("206",) if weekday else (), details={"night": night, "rest_day": on_rest_day})


# ------------------------------------------------------------------------------------------
# 7. Monthly minimum wage (decree 2-25-983, art. 1; C. trav. art. 184, 238)


def minimum_wage(on: date | None = None, *, rules: dict[str, FloorRule] | None = None) -> Calculation:
    """Monthly SMIG (non-agricultural) on a date: hourly SMIG × 191 h; unknown before the decree's date."""
    rules = default_rules() if rules is None else rules
    on = on or date.today()
    inputs = {"date": on.isoformat()}
    period = next(((start, rid) for start, rid in reversed(SMIG_PERIODS) if on >= start), None)
    first_start, first_id = SMIG_PERIODS[0]
    if period is None:
        rule = _rule(rules, first_id)
        steps = [
            f"{on.isoformat()} < {first_start.isoformat()} : le décret n° 2-25-983 fixe le SMIG à {_num(rule.value)} MAD/h à compter du {first_start.day}er janvier {first_start.year} seulement",
            f"Le montant antérieur était fixé par le décret n° {SMIG_PREVIOUS_DECREE} (abrogé à cette date, art. 3), qui n'est pas dans les textes du corpus → inconnu",
        ]
        return _build(CalcName.MINIMUM_WAGE, None, "MAD", "dirhams par mois", [rule], steps, inputs,
                      f"Le SMIG au {on.strftime('%d/%m/%Y')} n'est pas connu du corpus : le décret n° 2-25-983 ne fixe que le montant applicable à partir du {first_start.strftime('%d/%m/%Y')}, soit {_num(rule.value)} MAD/h",
                      details={"hourly": None, "reason": "date antérieure au décret n° 2-25-983"})
    start, rule_id = period
    hourly = _rule(rules, rule_id)
    month_hours = _rule(rules, MONTH_HOURS_RULE)
    annual = _rule(rules, ANNUAL_HOURS_RULE)
    monthly = round(hourly.value * month_hours.value, 2)
    steps = [
        f"SMIG horaire (activités non agricoles) au {on.isoformat()} : {_num(hourly.value)} MAD/h (en vigueur depuis le {start.isoformat()})",
        f"Base mensuelle : {_num(month_hours.value)} h = équivalence d'un mois de travail dans les activités non agricoles (C. trav., art. {month_hours.article}) ; "
        f"c'est aussi {_num(annual.value)} h ÷ 12 = {_num(annual.value / 12)} h (art. {annual.article}), arrondi à l'heure supérieure",
        f"{_num(hourly.value)} MAD/h × {_num(month_hours.value)} h = {_mad(monthly)} par mois",
    ]
    summary = f"Au {on.strftime('%d/%m/%Y')}, le SMIG mensuel (activités non agricoles) est de {_mad(monthly)} : {_num(hourly.value)} MAD/h × {_num(month_hours.value)} h"
    return _build(CalcName.MINIMUM_WAGE, monthly, "MAD", "dirhams par mois", [hourly, month_hours, annual], steps, inputs, summary,
                  details={"hourly": hourly.value, "hours_per_month": month_hours.value})


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise CalcError(f"Date « {text} » mal formée : attendu AAAA-MM-JJ (ex. 2026-03-01).") from None


# ------------------------------------------------------------------------------------------
# Chat questions → a calculation (conservative: None unless one computation is clearly asked)

_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

_CUES: dict[CalcName, str] = {
    CalcName.OVERTIME: r"heures?\s*sup\b|heures?\s+suppl[ée]mentaires?|\bh\s*sup\b|overtime|ساع(?:ة|ات)\s+(?:ال)?[إا]ضافي",
    CalcName.UNION_REPS: r"(?:repr[ée]sentants?|d[ée]l[ée]gu[ée]s?)\s+syndica|union\s+rep|shop\s+stewards?|(?:ال)?ممثل(?:ين|ون)?\s+(?:ال)?نقابي",
    CalcName.DELEGATES: r"d[ée]l[ée]gu[ée]s?(?!\s+syndica)\b|staff\s+(?:delegates|representatives)|(?:employee|workers?'?)\s+delegates|\bdelegates\b|مندوب",
    CalcName.SEVERANCE: r"licenciement|severance|redundancy\s+pay|dismissal\s+(?:pay|compensation|indemnity)|(?:ال)?تعويض\s+عن\s+(?:ال)?فصل|تعويض\s+(?:ال)?فصل",
    CalcName.LEAVE: r"cong[ée]s?\s+pay[ée]s?|cong[ée]s?\s+annuels?|jours?\s+de\s+cong[ée]s?|\bcong[ée]s?\b|paid\s+leave|annual\s+leave|\bvacation|(?:ال)?عطلة\s+(?:ال)?سنوية|(?:ال)?إجازة\s+(?:ال)?سنوية",
    CalcName.MINIMUM_WAGE: r"\bsmig\b|salaire\s+minim(?:um|al)|minimum\s+wage|(?:ال)?حد\s+(?:ال)?أدنى\s+(?:ال)?(?:قانوني\s+)?(?:لل)?أجر",
    CalcName.SENIORITY: r"primes?\s+d['e ]\s*anciennet[ée]|seniority\s+(?:bonus|pay|allowance|premium)|long[- ]service\s+(?:bonus|pay|allowance)|(?:علاوة|منحة)\s+(?:ال)?أقدمية",
}
# another subject than the calculator's: the question is not that computation
_EXCLUDE: dict[CalcName, str] = {
    CalcName.OVERTIME: r"f[ée]ri[ée]|jours?\s+de\s+f[êe]te|holiday|contingent|quota|plafond|عيد|عطلة",
    CalcName.UNION_REPS: r"heures?\s+de\s+d[ée]l[ée]gation|cr[ée]dit\s+d'heures|protection|licenci",
    CalcName.DELEGATES: r"heures?|d[ée]l[ée]gation|protection|licenci|mandat|[ée]lection",
    CalcName.SEVERANCE: r"abusi|dommages|pr[ée]avis|notice|wrongful|unfair|damages|تعسف|إخطار|faute\s+grave|d[ée]l[ée]gu|repr[ée]sentant",
    CalcName.LEAVE: r"maternit|naissance|mariage|paternit|maladie|formation|sans\s+solde|maternity|paternity|sick|wedding|ولادة|أمومة|الأمومة|زواج|مرض",
    CalcName.MINIMUM_WAGE: r"smag|agricole|agricultur|فلاحي",
    CalcName.SENIORITY: r"licenci|severance|cong[ée]|leave|pr[ée]avis|notice|essai|trial|retraite|pension",
}
_BARE_SENIORITY = r"anciennet[ée]|seniority|(?:ال)?أقدمية"
_BARE_SENIORITY_EXCLUDE = r"pr[ée]avis|notice|licenci|severance|cong[ée]|leave|essai|trial|retraite|pension|indemnit|dommage|إخطار|فصل|عطلة|تعويض|اختبار|تقاعد"

_N = r"(\d+(?:[.,]\d+)?)"
_YEARS_RX = re.compile(_N + r"\s*(?:ans?|ann[ée]es?|years?|yrs?|سنوات|سنة|سنين|أعوام|عاما|عام)(?!\w)")
_MONTHS_RX = re.compile(_N + r"\s*(?:mois|months?|أشهر|شهرا|شهر|شهور)(?!\w)")
_AGE_RX = re.compile(
    r"(?:[âa]g[ée]e?s?\s+de|aged|age[ds]?|of\s+age|عمره|عمرها|سنه|سنها|البالغ(?:ة)?\s+من\s+العمر)\s*(\d{1,2})"
    r"|(\d{1,2})\s*(?:ans?\s+d'[âa]ge|[- ]years?[- ]old|ans?\s+\(?[âa]ge)"
)
_WAGE_RX = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*(?:dh|dhs|mad|dirhams?|درهما?|دراهم)(?!\w)"
    r"|(?:salaire|wage|salary|pay\s+of|أجرة?|راتب)\s*(?:mensuel\s*|monthly\s*|شهري\s*)?(?:de|of|:|=|est\s+de|is)?\s*(\d+(?:[.,]\d+)?)"
)
_HEADCOUNT_RX = re.compile(
    r"(\d+)\s*(?:salari[ée]e?s?|employ[ée]e?s?|personnes|agents|collaborateurs|t[ée]l[ée]conseillers|employees|workers|staff|people|"
    r"أجراء|أجيرا|أجير|عمال|عاملا|عامل|مستخدما|مستخدمين|مستخدم|موظفين|موظفا|موظف)(?!\w)"
    r"|effectif\s+(?:de\s+)?(\d+)|headcount\s+(?:of\s+)?(\d+)"
)
_TIME_RXS = (
    re.compile(r"\b(1[0-2]|0?[1-9])(?::([0-5]\d))?\s*(am|pm)\b"),
    re.compile(r"\b([01]?\d|2[0-3])\s*[:h]\s*([0-5]\d)\b"),
    re.compile(r"(?:\bà|\ba|\bat|\bvers|\bdès|\bfrom|\baround|الساعة)\s*([01]?\d|2[0-3])(?![\d])(?![.,]\d)(?:\s*(?:h|heures?|:00)(?!\w))?+(?!\s*(?:sup|suppl|de\b|par\b|ans?\b|mois|jours?|heures?|h\b))"),
    re.compile(r"\b([01]?\d|2[0-3])\s*h(?!\w)(?!\s*(?:sup|suppl|de\b|par\b|en\b))"),
)
_DAY_RX = re.compile(r"(?<!\w)(" + "|".join(sorted((re.escape(k) for k in DAY_NAMES if len(k) > 3), key=len, reverse=True)) + r")(?!\w)")
_REST_DAY_RX = re.compile(r"jour\s+de\s+repos|repos\s+hebdomadaire|rest\s+day|day\s+off|يوم\s+(?:ال)?راحة|(?:ال)?راحة\s+(?:ال)?أسبوعية")
_ISO_DATE_RX = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_YEAR_RX = re.compile(r"\b(20\d{2})\b")
_MONTHLY_RX = re.compile(r"mensuel|par\s+mois|monthly|per\s+month|a\s+month|شهري|الشهري|في\s+الشهر|شهريا")


def _words_to_digits(text: str) -> str:
    try:
        from text_to_num import alpha2digit
    except ImportError:  # without text2num: digits only
        return text
    text = re.sub(r"(?<!\w)(?:un\s+an|une\s+ann[ée]e|one\s+year|a\s+year)(?!\w)", "1 an", text)
    for lang in ("fr", "en"):
        try:  # threshold 1: "deux ans" → "2 ans", while "un mardi" stays words
            text = alpha2digit(text, lang, threshold=1)
        except Exception:  # a number-word parser must never break a chat question
            pass
    return text


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFC", text).translate(_ARABIC_DIGITS).replace("’", "'").replace("`", "'").replace("٫", ",")
    t = t.lower()
    t = _words_to_digits(t)
    t = re.sub(r"(?<![\d.,])(\d{1,3})(?:[\u202f\xa0 .,](\d{3}))(?![\d])", r"\1\2", t)  # "6 000" / "6.000" → "6000"
    return re.sub(r"\s+", " ", t).strip()


def _number(raw: str) -> float:
    value = float(raw.replace(",", "."))
    return int(value) if value.is_integer() else value


def _years_and_months(text: str) -> tuple[float | None, float | None]:
    years = _YEARS_RX.search(text)
    months = _MONTHS_RX.search(text)
    return (_number(years.group(1)) if years else None, _number(months.group(1)) if months else None)


def _time_in(text: str) -> str | None:
    for n, rx in enumerate(_TIME_RXS):
        match = rx.search(text)
        if not match:
            continue
        if n == 0:
            hour = int(match.group(1)) % 12 + (12 if match.group(3) == "pm" else 0)
            return f"{hour:02d}:{int(match.group(2) or 0):02d}"
        if n == 1:
            return f"{int(match.group(1)):02d}:{match.group(2)}"
        return f"{int(match.group(1)):02d}:00"
    return None


def detect_calculation(question: str) -> CalcName | None:
    """The one calculator a question names, or None (none, several, or another subject)."""
    text = _normalise(question)
    cued = [name for name, cue in _CUES.items() if re.search(cue, text)]
    if CalcName.SEVERANCE in cued and CalcName.MINIMUM_WAGE in cued:
        cued.remove(CalcName.MINIMUM_WAGE)  # "indemnité … au SMIG": the wage is a parameter
    if not cued and re.search(_BARE_SENIORITY, text) and not re.search(_BARE_SENIORITY_EXCLUDE, text) and len(text.split()) <= 12:
        return CalcName.SENIORITY  # "أقدمية 7 سنوات", "ancienneté 7 ans ?"
    if len(cued) != 1 or re.search(_EXCLUDE[cued[0]], text):
        return None
    return cued[0]


def parse_question(text: str, *, rules: dict[str, FloorRule] | None = None) -> Calculation | None:
    """A chat question that clearly asks one computation → its Calculation, parameters parsed; else None."""
    if not text or len(text) > 500:
        return None
    name = detect_calculation(text)
    if name is None:
        return None
    t = _normalise(text)
    try:
        return _PARSERS[name](t, rules)
    except CalcError:
        return None


def _wage_in(t: str) -> float | None:
    match = _WAGE_RX.search(t)
    if not match:
        return None
    return _number(match.group(1) or match.group(2))


def _parse_seniority(t: str, rules) -> Calculation | None:
    years, _ = _years_and_months(t)
    if years is None:
        return None
    return seniority_bonus(years, _wage_in(t), rules=rules)


def _parse_severance(t: str, rules) -> Calculation | None:
    years, months = _years_and_months(t)
    if years is None and months is None:
        return None
    total = (years or 0) + (months or 0) / 12
    return severance_pay(round(total, 6), _wage_in(t), rules=rules)


def _parse_leave(t: str, rules) -> Calculation | None:
    age_match = _AGE_RX.search(t)
    age = _number(age_match.group(1) or age_match.group(2)) if age_match else None
    rest = t[: age_match.start()] + " " + t[age_match.end():] if age_match else t
    if age is None and re.search(r"\bmineurs?\b|\bminors?\b|moins\s+de\s+18\s+ans|under\s+18|(?:ال)?قاصر", t):
        age = LEAVE_MINOR_AGE - 1
    years, months = _years_and_months(rest)
    if years is None and months is None:
        return None
    if months is None:
        months = LEAVE_MONTHS_PER_YEAR  # "congé pour 10 ans d'ancienneté": a full year of service
    elif months > LEAVE_MONTHS_PER_YEAR:
        return None
    return paid_leave(months, years, age, rules=rules)


def _headcount_in(t: str) -> int | None:
    match = _HEADCOUNT_RX.search(t)
    return int(next(g for g in match.groups() if g)) if match else None


def _parse_delegates(t: str, rules) -> Calculation | None:
    employees = _headcount_in(t)
    return None if employees is None else staff_delegates(employees, rules=rules)


def _parse_union_reps(t: str, rules) -> Calculation | None:
    employees = _headcount_in(t)
    return None if employees is None else union_representatives(employees, rules=rules)


def _parse_overtime(t: str, rules) -> Calculation | None:
    at = _time_in(t)
    if at is None:
        return None
    day_match = _DAY_RX.search(t)
    day = DAY_NAMES[day_match.group(1)] if day_match else None
    if day is None and _REST_DAY_RX.search(t):
        day = DEFAULT_REST_DAY
    return overtime_premium(at, day, rules=rules)


def _parse_minimum_wage(t: str, rules) -> Calculation | None:
    iso = _ISO_DATE_RX.search(t)
    year = _YEAR_RX.search(t)
    if not (_MONTHLY_RX.search(t) or iso or year):
        return None
    if iso:
        on = parse_date(iso.group(0))
    elif year:
        on = date(int(year.group(1)), 1, 1)
    else:
        on = None
    return minimum_wage(on, rules=rules)


_PARSERS = {
    CalcName.SENIORITY: _parse_seniority, CalcName.SEVERANCE: _parse_severance, CalcName.LEAVE: _parse_leave,
    CalcName.DELEGATES: _parse_delegates, CalcName.UNION_REPS: _parse_union_reps, CalcName.OVERTIME: _parse_overtime,
    CalcName.MINIMUM_WAGE: _parse_minimum_wage,
}

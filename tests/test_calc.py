"""Legal calculators: each threshold, each figure found in its article of the official text, chat
questions recognised (and not), and the `rag calc` command."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from typer.testing import CliRunner

from rag import calc, cli
from rag.answer import numbers_in
from rag.calc import CalcError, parse_question
from rag.structure import normalise_article_label
from tests.conftest import SHARED_CORPUS
from tests.test_rules import RULES, SPELLED, articles_of

CODE = "ma_code_travail_fr_2011.pdf"
SMIG_DECREE = "ma_decret_2-25-983_smig_2026_ar.pdf"


# ------------------------------------------------------------------------------------------
# thresholds: at, just below, just above


@pytest.mark.parametrize("years, rate", [
    (0, 0), (1.99, 0), (2, 5), (2.01, 5), (4.99, 5), (5, 10), (5.01, 10), (11.99, 10), (12, 15), (12.01, 15),
    (19.99, 15), (20, 20), (20.01, 20), (24.99, 20), (25, 25), (25.01, 25), (40, 25),
])
def test_seniority_rate_at_each_threshold(years, rate):
    result = calc.seniority_bonus(years)
    assert result.value == rate and result.unit == "percent"
    assert result.articles == ["350"] and result.source == CODE
    assert "(C. trav., art. 350)" in result.summary


def test_seniority_arithmetic_and_amount():
    result = calc.seniority_bonus(7)
    assert result.arithmetic == ["7 ans ≥ 5 ans et < 12 ans → 10 %"]
    assert result.rule_ids == ["seniority_bonus_5y"]
    with_wage = calc.seniority_bonus(7, 6000)
    assert with_wage.value == 600 and with_wage.unit == "MAD" and with_wage.details["rate_percent"] == 10
    assert "10 % × 6\u202f000 MAD = 600 MAD par mois" in with_wage.arithmetic
    assert "600 MAD par mois" in with_wage.summary
    last = calc.seniority_bonus(30)
    assert "dernière tranche" in last.arithmetic[0]
    assert calc.seniority_bonus(1, 6000).value == 0


@pytest.mark.parametrize("years, hours", [
    (0.5, 96), (1, 96), (4.99, 480), (5, 480), (5.01, 624), (6, 624), (9.99, 1200), (10, 1200), (10.01, 1392),
    (11, 1392), (14.99, 2160), (15, 2160), (15.01, 2400), (16, 2400), (20, 3360),
])
def test_severance_hours_by_bracket(years, hours):
    result = calc.severance_pay(years)
    assert result.value == hours and result.unit == "hours"
    assert result.articles[:2] == ["52", "53"]


def test_severance_below_six_months_is_zero_with_the_reason():
    below = calc.severance_pay(5 / 12)
    assert below.value == 0 and below.details["reason"] and below.rule_ids == ["severance_eligibility"]
    assert "6 mois" in below.arithmetic[0] and below.articles == ["52"]
    at = calc.severance_pay(6 / 12)
    assert at.value == 96


def test_severance_fraction_counts_as_a_year_and_prorata_is_shown():
    result = calc.severance_pay(8.5)
    assert result.value == 5 * 96 + 4 * 144
    assert result.details["prorata_hours"] == 5 * 96 + 3.5 * 144
    assert any("fraction d'année" in step for step in result.arithmetic)
    assert any("prorata" in step for step in result.arithmetic)
    assert not any("prorata" in step for step in calc.severance_pay(8).arithmetic)


def test_severance_amount_divides_the_monthly_wage_by_191_and_says_why():
    result = calc.severance_pay(8, 6000)
    assert result.value == round(912 * 6000 / 191, 2) == 28649.21
    assert result.unit == "MAD" and result.details["hours"] == 912
    assert "month_of_work_hours" in result.rule_ids and "238" in result.articles
    assert any("convention" in step and "191" in step and "art. 238" in step for step in result.arithmetic)
    low = calc.severance_pay(8, 2000)  # 2000 / 191 < SMIG: art. 56 raises the base
    assert low.value == round(912 * RULES["smig_2026_hourly"].value, 2)
    assert "56" in low.articles and "smig_2026_hourly" in low.rule_ids


@pytest.mark.parametrize("months, years, age, days", [
    (5, None, None, 0), (6, None, None, 9), (12, None, None, 18), (7, None, None, 10.5),
    (12, None, 17, 24), (12, None, 18, 18), (12, None, 17.9, 24),
    (12, 4.99, None, 18), (12, 5, None, 19.5), (12, 9.99, None, 19.5), (12, 10, None, 21),
    (12, 40, None, 30), (12, 44.99, None, 30), (12, 45, None, 30), (3, 2, None, 4.5), (12, 30, 17, 30),
])
def test_paid_leave(months, years, age, days):
    result = calc.paid_leave(months, years, age)
    assert result.value == days and result.unit == "days"
    assert set(result.articles) <= {"231", "232"}


def test_paid_leave_cap_and_eligibility_steps():
    capped = calc.paid_leave(12, 45)
    assert "paid_leave_seniority_cap" in capped.rule_ids
    assert any("plafonné à 30 jours" in step for step in capped.arithmetic)
    assert "paid_leave_seniority_cap" not in calc.paid_leave(12, 40).rule_ids
    early = calc.paid_leave(5)
    assert early.value == 0 and early.details["reason"] and early.rule_ids == ["paid_leave_eligibility"]
    minor = calc.paid_leave(12, None, 17)
    assert "paid_leave_accrual_minors" in minor.rule_ids
    with pytest.raises(CalcError, match="entre 0 et 12"):
        calc.paid_leave(13)


@pytest.mark.parametrize("employees, titulaires", [
    (0, 0), (9, 0), (10, 1), (11, 1), (25, 1), (26, 2), (50, 2), (51, 3), (100, 3), (101, 5), (250, 5),
    (251, 7), (500, 7), (501, 9), (999, 9), (1000, 9), (1001, 10), (1500, 10), (1501, 11), (2000, 11), (2001, 12),
])
def test_staff_delegates(employees, titulaires):
    result = calc.staff_delegates(employees)
    assert result.value == titulaires and result.unit == "persons"
    assert result.details == {"titulaires": titulaires, "suppleants": titulaires}
    assert result.articles == (["430", "431"] if employees < 10 else ["433"])


def test_staff_delegates_beyond_1000_show_both_readings_of_the_tranche():
    result = calc.staff_delegates(1200)
    assert result.value == 10 and "staff_delegates_per_extra_500" in result.rule_ids
    assert any("tranches complètes" in step and "9 titulaires" in step for step in result.arithmetic)
    assert not any("tranches complètes" in step for step in calc.staff_delegates(1500).arithmetic)


@pytest.mark.parametrize("employees, reps", [
    (0, 0), (99, 0), (100, 1), (101, 1), (250, 1), (251, 2), (500, 2), (501, 3), (2000, 3), (2001, 4),
    (3500, 4), (3501, 5), (6000, 5), (6001, 6), (20000, 6),
])
def test_union_representatives(employees, reps):
    result = calc.union_representatives(employees)
    assert result.value == reps and result.articles == ["470"]


@pytest.mark.parametrize("time, day, rest_day, premium", [
    ("05:59", "mardi", "dimanche", 50), ("06:00", "mardi", "dimanche", 25), ("06:01", "mardi", "dimanche", 25),
    ("20:59", "mardi", "dimanche", 25), ("21:00", "mardi", "dimanche", 50), ("21:01", "mardi", "dimanche", 50),
    ("00:00", "mardi", "dimanche", 50), ("22:00", "tuesday", "dimanche", 50),
    ("05:59", "dimanche", "dimanche", 100), ("06:00", "dimanche", "dimanche", 50), ("20:59", "Sunday", "dimanche", 50),
    ("21:00", "dimanche", "dimanche", 100), ("10:00", "vendredi", "vendredi", 50), ("10:00", "dimanche", "vendredi", 25),
    ("23:00", "الجمعة", "vendredi", 100), ("22h", "le samedi", "dimanche", 50), ("6h30", "Lundi", "dimanche", 25),
])
def test_overtime_premium(time, day, rest_day, premium):
    result = calc.overtime_premium(time, day, rest_day)
    assert result.value == premium and result.unit == "percent"
    assert result.articles == ["201", "206"]


def test_overtime_says_the_rest_day_default_and_the_band():
    result = calc.overtime_premium("22:00", "mardi")
    assert result.inputs == {"time": "22:00", "day": "mardi", "rest_day": "dimanche"}
    assert any("dimanche par défaut" in step for step in result.arithmetic)
    assert any("entre 21 h et 6 h" in step for step in result.arithmetic)
    no_day = calc.overtime_premium("10:00")
    assert no_day.value == 25 and any("Jour non précisé" in step for step in no_day.arithmetic)


@pytest.mark.parametrize("bad", ["25:00", "12:60", "midi", "", "22-00"])
def test_overtime_rejects_malformed_hours(bad):
    with pytest.raises(CalcError, match="Heure"):
        calc.overtime_premium(bad, "mardi")


def test_minimum_wage_on_and_before_the_decree_date():
    result = calc.minimum_wage(date(2026, 1, 1))
    assert result.value == round(17.92 * 191, 2) == 3422.72 and result.unit == "MAD"
    assert result.source == SMIG_DECREE and result.articles == ["1"]
    assert result.rule_ids == ["smig_2026_hourly", "month_of_work_hours", "working_time_yearly"]
    assert "C. trav., art. 184 et 238" in result.summary and "Décret n° 2-25-983, art. 1" in result.summary
    assert any("2\u202f288 h ÷ 12 = 190,67 h" in step for step in result.arithmetic)
    assert "17,92 MAD/h × 191 h = 3\u202f422,72 MAD par mois" in result.arithmetic
    before = calc.minimum_wage(date(2025, 12, 31))
    assert before.value is None and "inconnu" in " ".join(before.arithmetic) and "2.24.1122" in " ".join(before.arithmetic)
    assert calc.minimum_wage().inputs["date"] == date.today().isoformat()


@pytest.mark.parametrize("call, message", [
    (lambda: calc.seniority_bonus(-1), "négatif"), (lambda: calc.severance_pay(-0.5), "négatif"),
    (lambda: calc.seniority_bonus(3, 0), "nul"), (lambda: calc.staff_delegates(12.5), "entier"),
    (lambda: calc.union_representatives(-3), "négatif"), (lambda: calc.paid_leave(12, -1), "négatif"),
    (lambda: calc.paid_leave(12, 3, 7), "âge"), (lambda: calc.overtime_premium("10:00", "funday"), "Jour"),
    (lambda: calc.read_number("abc", "--years"), "pas un nombre"), (lambda: calc.parse_date("01/03/2026"), "AAAA-MM-JJ"),
])
def test_bad_input_is_a_french_calc_error(call, message):
    with pytest.raises(CalcError, match=message):
        call()


def test_every_figure_comes_from_the_rules_file():
    """A calculation's figures are those of the rules it names: changing a rule changes the result."""
    rules = dict(RULES)
    from dataclasses import replace

    rules["seniority_bonus_5y"] = replace(rules["seniority_bonus_5y"], value=11)
    assert calc.seniority_bonus(7, rules=rules).value == 11
    rules["month_of_work_hours"] = replace(rules["month_of_work_hours"], value=190)
    assert calc.minimum_wage(date(2026, 2, 1), rules=rules).value == round(17.92 * 190, 2)
    with pytest.raises(LookupError):
        calc.union_representatives(300, rules={})


# ------------------------------------------------------------------------------------------
# each figure a calculator uses is in the text of the cited article of the official PDF


def _need(source: str) -> None:
    if not (SHARED_CORPUS / source).exists():
        pytest.skip(f"{source} not in ../shared/corpus")


def _article_text(source: str, article: str) -> str:
    """The article as the PDF gives it, numbers written in words turned into digits."""
    from text_to_num import alpha2digit

    text = articles_of(source).get(normalise_article_label(article))
    assert text, f"{source} has no article {article}"
    # "premières" is an ordinal the converter would turn into "1ères": kept as a word
    parts = re.split(r"(premi(?:er|ère)s?)", text)
    digits = "".join(part if n % 2 else alpha2digit(part, "fr", threshold=0) for n, part in enumerate(parts))
    return re.sub(r"\s+", " ", digits).strip()


def _value_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


SCENARIOS = [
    calc.seniority_bonus(0), *(calc.seniority_bonus(y, 6000) for y in (2, 5, 12, 20, 25)),
    calc.severance_pay(0.2), calc.severance_pay(20, 6000), calc.severance_pay(3, 2000),
    calc.paid_leave(3), calc.paid_leave(12, 45), calc.paid_leave(12, 5, 16),
    *(calc.staff_delegates(n) for n in (5, 20, 40, 80, 200, 400, 800, 2600)),
    *(calc.union_representatives(n) for n in (50, 200, 400, 1000, 3000, 5000, 9000)),
    *(calc.overtime_premium(t, d) for t in ("10:00", "23:00") for d in ("mardi", "dimanche")),
    calc.minimum_wage(date(2026, 6, 1)), calc.minimum_wage(date(2025, 6, 1)),
]


@pytest.mark.parametrize("result", SCENARIOS, ids=lambda r: f"{r.name}-{'-'.join(str(v) for v in r.inputs.values())}")
def test_each_rule_used_is_cited_and_its_value_is_in_the_article(result):
    for rule_id in result.rule_ids:
        rule = RULES[rule_id]
        _need(rule.source)
        if rule.source == result.source:
            assert rule.article in result.articles, (rule_id, result.articles)
        assert any(f"art. {rule.article}" in ref or f", {rule.article}" in ref or f"et {rule.article}" in ref for ref in result.references), (rule_id, result.references)
        article = articles_of(rule.source)[normalise_article_label(rule.article)]
        assert re.sub(r"\s+", " ", rule.evidence) in article
        stated = numbers_in(_article_text(rule.source, rule.article)) | {_value_text(v) for k, v in SPELLED.items() if k in article.lower()}
        assert _value_text(rule.value) in stated, (rule_id, rule.value)


def test_seniority_brackets_are_those_of_art_350():
    _need(CODE)
    text = _article_text(CODE, "350")
    for threshold, rule_id in calc.SENIORITY_STEPS:
        value = _value_text(RULES[rule_id].value)
        assert re.search(rf"{value}\s?% du salaire versé, après {threshold} ans de service", text), (threshold, rule_id)


def test_severance_brackets_and_conditions_are_those_of_art_52_to_56():
    _need(CODE)
    text = _article_text(CODE, "53")
    assert "pour chaque année ou fraction d'année de travail effectif" in text
    for lo, hi, rule_id in calc.SEVERANCE_BRACKETS:
        hours = _value_text(RULES[rule_id].value)
        if lo == 1:
            assert f"{hours} heures de salaire pour les {hi} premières années" in text
        elif hi is None:
            assert f"{hours} heures de salaire pour la période d'ancienneté dépassant {lo - 1} ans" in text
        else:
            assert f"{hours} heures de salaire pour la période d'ancienneté allant de {lo} à {hi} ans" in text
    assert f"après {_value_text(RULES['severance_eligibility'].value)} mois de travail" in _article_text(CODE, "52")
    assert "52 semaines" in _article_text(CODE, "55")
    assert "ne peut être inférieur au salaire minimum légal" in _article_text(CODE, "56")
    assert "191 heures dans les activités non agricoles" in _article_text(CODE, "238")


def test_leave_figures_are_those_of_art_231_and_232():
    _need(CODE)
    text = _article_text(CODE, "231")
    assert f"après {_value_text(RULES['paid_leave_eligibility'].value)} mois de service continu" in text
    assert f"salariés âgés de moins de {calc.LEAVE_MINOR_AGE} ans" in text
    more = _article_text(CODE, "232")
    assert f"par période entière, continue ou non, de {calc.LEAVE_SENIORITY_PERIOD_YEARS} années de service" in more
    assert f"plus de {_value_text(RULES['paid_leave_seniority_cap'].value)} jours de travail effectif" in more


def test_delegate_brackets_are_those_of_art_430_and_433():
    _need(CODE)
    text = _article_text(CODE, "433")
    for lo, hi, rule_id in calc.DELEGATE_BRACKETS:
        n = _value_text(RULES[rule_id].value)
        plural = "s" if n != "1" else ""
        assert f"de {lo} à {hi} salariés : {n} délégué{plural} titulaire{plural} et {n} délégué{plural} suppléant{plural}" in text, (lo, hi)
    assert f"1 délégué titulaire et 1 délégué suppléant s'ajoutent pour chaque tranche supplémentaire de {calc.DELEGATES_EXTRA_TRANCHE} salariés" in text
    threshold = _value_text(RULES["staff_delegates_threshold"].value)
    assert f"au moins {threshold} salariés permanents" in _article_text(CODE, "430")
    assert f"moins de {threshold} salariés permanents" in _article_text(CODE, "431")


def test_union_rep_brackets_are_those_of_art_470():
    _need(CODE)
    text = _article_text(CODE, "470")
    for lo, hi, rule_id in calc.UNION_REP_BRACKETS:
        n = _value_text(RULES[rule_id].value)
        if hi is None:
            assert f"Plus de {lo - 1} salariés {n} représentants syndicaux" in text
        else:
            assert re.search(rf"De {lo} à {hi} salariés {n} représentants? syndica", text), (lo, hi)


def test_overtime_bands_are_those_of_art_201_and_rest_days_of_art_206():
    _need(CODE)
    text = _article_text(CODE, "201")
    day, night = calc.OVERTIME_DAY_FROM_HOUR, calc.OVERTIME_NIGHT_FROM_HOUR
    assert f"{_value_text(RULES['overtime_premium_day'].value)} % si elles sont effectuées entre {day} heures et {night} heures pour les activités non agricoles" in text
    assert f"{_value_text(RULES['overtime_premium_night'].value)} % si elles sont effectuées entre {night} heures et {day} heures pour les activités non agricoles" in text
    assert (f"respectivement à {_value_text(RULES['overtime_premium_rest_day'].value)} % et à "
            f"{_value_text(RULES['overtime_premium_rest_day_night'].value)} % si les heures supplémentaires sont effectuées le jour du repos hebdomadaire") in text
    rest = _article_text(CODE, "206")
    for name in ("vendredi", "samedi", "dimanche", "marché hebdomadaire"):
        assert name in rest


def test_minimum_wage_figures_are_those_of_the_decree_and_art_184_238():
    _need(SMIG_DECREE)
    decree = articles_of(SMIG_DECREE)
    first = re.sub(r"\s+", " ", decree["1"])
    start, rule_id = calc.SMIG_PERIODS[0]
    assert start == date(2026, 1, 1) and "ابتداء من فاتح يناير 2026" in first
    assert "17,92" in first and "غير الفلاحية" in first and rule_id == "smig_2026_hourly"
    assert calc.SMIG_PREVIOUS_DECREE in decree["3"]
    _need(CODE)
    assert "2288 heures par année" in _article_text(CODE, "184")
    assert f"{_value_text(RULES['month_of_work_hours'].value)} heures dans les activités non agricoles" in _article_text(CODE, "238")


# ------------------------------------------------------------------------------------------
# chat questions


@pytest.mark.parametrize("question, name, value, inputs", [
    ("prime d'ancienneté après 7 ans", "seniority", 10, {"years": 7}),
    ("Prime d’ancienneté après sept ans ?", "seniority", 10, {"years": 7}),
    ("prime d'ancienneté après deux ans", "seniority", 5, {"years": 2}),
    ("seniority bonus after 13 years", "seniority", 15, {"years": 13}),
    ("أقدمية 7 سنوات", "seniority", 10, {"years": 7}),
    ("علاوة الأقدمية بعد 25 سنة", "seniority", 25, {"years": 25}),
    ("prime d'ancienneté après 12 ans pour un salaire de 8 000 DH", "seniority", 1200, {"years": 12, "monthly_wage": 8000}),
    ("320 salariés combien de délégués", "delegates", 7, {"employees": 320}),
    ("how many staff delegates for 1200 employees", "delegates", 10, {"employees": 1200}),
    ("délégués du personnel pour vingt-cinq salariés", "delegates", 1, {"employees": 25}),
    ("عدد مندوبي الأجراء في مقاولة تشغل 320 أجيرا", "delegates", 7, {"employees": 320}),
    ("combien de représentants syndicaux pour 600 salariés", "union_reps", 3, {"employees": 600}),
    ("union representatives for 4000 employees", "union_reps", 5, {"employees": 4000}),
    ("الممثلين النقابيين 300 أجير", "union_reps", 2, {"employees": 300}),
    ("heure sup à 22 h un mardi", "overtime", 50, {"time": "22:00", "day": "mardi"}),
    ("heures supplémentaires le dimanche à 23h30", "overtime", 100, {"time": "23:30", "day": "dimanche"}),
    ("overtime at 10 pm on Saturday", "overtime", 50, {"time": "22:00", "day": "samedi"}),
    ("overtime at 6:00 on a Tuesday", "overtime", 25, {"time": "06:00", "day": "mardi"}),
    ("الساعات الإضافية على الساعة 22 يوم الأحد", "overtime", 100, {"time": "22:00", "day": "dimanche"}),
    ("indemnité de licenciement pour 8 ans avec 6000 DH", "severance", 28649.21, {"years": 8, "monthly_wage": 6000}),
    ("indemnité de licenciement pour huit ans et six mois, salaire 6 000 dh", "severance", 33172.77, {"years": 8.5}),
    ("severance pay for 12 years with a salary of 8000 MAD", "severance", round((480 + 720 + 384) * 8000 / 191, 2), {"years": 12}),
    ("التعويض عن الفصل عن 8 سنوات", "severance", 912, {"years": 8}),
    ("combien de jours de congés payés pour 12 mois et 10 ans d'ancienneté", "leave", 21, {"months": 12, "years": 10}),
    ("congé annuel d'un salarié âgé de 17 ans après 12 mois", "leave", 24, {"months": 12, "age": 17}),
    ("paid leave for 8 months", "leave", 12, {"months": 8}),
    ("العطلة السنوية عن 12 شهرا", "leave", 18, {"months": 12}),
    ("SMIG mensuel au 2026-03-01", "minimum_wage", 3422.72, {"date": "2026-03-01"}),
    ("monthly minimum wage in 2026", "minimum_wage", 3422.72, {"date": "2026-01-01"}),
    ("SMIG mensuel en 2025", "minimum_wage", None, {"date": "2025-01-01"}),
    ("الحد الأدنى للأجر الشهري", "minimum_wage", None, {}),
])
def test_parse_question_recognises_a_calculation(question, name, value, inputs):
    result = parse_question(question)
    assert result is not None, question
    assert result.name == name
    if value is not None or name != "minimum_wage":
        assert result.value == value
    for key, expected in inputs.items():
        assert result.inputs[key] == expected, (key, result.inputs)


@pytest.mark.parametrize("question", [
    "quelle est la durée du travail",
    "Quelle est la durée du travail hebdomadaire ?",
    "qu'est-ce que la prime d'ancienneté ?",
    "délai de préavis pour 5 ans d'ancienneté",
    "préavis de licenciement pour 8 ans d'ancienneté",
    "combien d'heures supplémentaires par an au maximum ?",
    "2 heures supplémentaires payées combien ?",
    "heures supplémentaires un jour férié à 22 h",
    "rédige une clause sur les délégués du personnel",
    "combien d'heures de délégation pour 320 salariés",
    "délégués du personnel et représentants syndicaux pour 600 salariés",
    "que dit l'article 350 ?",
    "congé de maternité de 14 semaines",
    "prime d'ancienneté et congés pour 10 ans",
    "dommages-intérêts pour licenciement abusif après 8 ans",
    "le SMIG a-t-il augmenté ?",
    "le SMAG mensuel",
    "période d'essai de 3 mois pour un cadre",
    "travail de nuit des femmes après 21 h",
    "What is the weekly working time?",
    "ما هي مدة الشغل الأسبوعية؟",
    "",
])
def test_parse_question_does_not_trigger_on_other_questions(question):
    assert parse_question(question) is None


# ------------------------------------------------------------------------------------------
# rag calc


@pytest.fixture
def runner():
    return CliRunner()


def test_cli_each_calculator_prints_a_summary_and_the_arithmetic(runner):
    cases = [
        (["seniority", "--years", "7"], "10 %"), (["severance", "--years", "8", "--monthly-wage", "6000"], "28\u202f649,21 MAD"),
        (["leave", "--months", "12", "--years", "10", "--age", "30"], "21 jours"), (["delegates", "--employees", "320"], "7 délégué"),
        (["union-reps", "--employees", "320"], "2 représentant"), (["overtime", "--hour", "22:00", "--day", "mardi"], "50 %"),
        (["minimum-wage", "--date", "2026-03-01"], "3\u202f422,72 MAD"),
    ]
    for args, expected in cases:
        result = runner.invoke(cli.app, ["calc", *args])
        assert result.exit_code == 0, (args, result.output)
        assert expected in result.stdout and "C. trav." in result.stdout and "•" in result.stdout


def test_cli_json_contract(runner):
    result = runner.invoke(cli.app, ["calc", "seniority", "--years", "7", "--monthly-wage", "6000", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("value", "unit", "article", "source", "arithmetic", "rule", "summary"):
        assert key in data
    assert data["value"] == 600 and data["unit"] == "MAD" and data["article"] == "350" and data["source"] == CODE
    assert data["rule"] == ["seniority_bonus_5y"] and "7 ans ≥ 5 ans et < 12 ans → 10 %" in data["arithmetic"]
    assert isinstance(data["arithmetic"], str) and "(C. trav., art. 350)" in data["summary"]
    several = json.loads(runner.invoke(cli.app, ["calc", "leave", "--months", "12", "--years", "45", "--json"]).stdout)
    assert several["article"] == ["231", "232"] and several["value"] == 30
    overtime = json.loads(runner.invoke(cli.app, ["calc", "overtime", "--hour", "21:00", "--day", "vendredi", "--rest-day", "vendredi", "--json"]).stdout)
    assert overtime["value"] == 100 and overtime["rule"] == ["overtime_premium_rest_day_night"]
    unknown = json.loads(runner.invoke(cli.app, ["calc", "minimum-wage", "--date", "2025-06-01", "--json"]).stdout)
    assert unknown["value"] is None and unknown["source"] == SMIG_DECREE


@pytest.mark.parametrize("args, message", [
    (["seniority", "--years", "-3"], "négatif"),
    (["severance", "--years", "abc"], "pas un nombre"),
    (["severance", "--years", "5", "--monthly-wage", "-100"], "négatif"),
    (["leave", "--months", "14"], "entre 0 et 12"),
    (["delegates", "--employees", "12.5"], "entier"),
    (["union-reps", "--employees", "-1"], "négatif"),
    (["overtime", "--hour", "25:00", "--day", "mardi"], "Heure"),
    (["overtime", "--hour", "22h", "--day", "funday"], "Jour"),
    (["overtime", "--hour", "vingt-deux", "--day", "mardi"], "mal formée"),
    (["minimum-wage", "--date", "01/03/2026"], "AAAA-MM-JJ"),
])
def test_cli_bad_input_is_a_french_message_and_exit_2(runner, args, message):
    result = runner.invoke(cli.app, ["calc", *args, "--json"])
    assert result.exit_code == 2, result.output
    assert message in result.stderr and "Erreur" in result.stderr
    assert result.stdout == "" and "Traceback" not in result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)

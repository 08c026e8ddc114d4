"""Floor rules and the clause library: every statutory figure is found in the official text."""

from __future__ import annotations

import re
from functools import lru_cache

import pytest

from rag.answer import numbers_in
from rag.ingest import load_path
from rag.library import UNIT_FAMILIES, load_library, load_rules
from rag.settings import PROJECT_ROOT
from rag.structure import normalise_article_label, parse_units
from tests.conftest import SHARED_CORPUS

RULES = load_rules(PROJECT_ROOT / "corpus" / "rules" / "floors.yaml")
LIBRARY = load_library(PROJECT_ROOT / "corpus" / "clauses")
# written-out values that the number reader does not know as one word
SPELLED = {"un jour et demi": 1.5, "un mois et demi": 1.5, "نصف ساعة": 0.5, "une demi-heure": 0.5, "demi-heure": 0.5, "dix-huit": 18, "quatre-vingts": 80, "quatre-vingt": 80}


@lru_cache(maxsize=None)
def articles_of(source: str) -> dict[str, str]:
    path = SHARED_CORPUS / source
    units = parse_units(load_path(path, 10**9, 5000))
    out: dict[str, str] = {}
    for unit in units:
        if unit.article:
            out.setdefault(normalise_article_label(unit.article), "")
            out[normalise_article_label(unit.article)] += " " + unit.text
    return {k: re.sub(r"\s+", " ", v) for k, v in out.items()}


def collapse(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_rules_cover_the_required_topics():
    ids = set(RULES)
    for required in ["working_time_weekly", "working_time_yearly", "overtime_premium_day", "overtime_premium_night",
                     "overtime_premium_rest_day", "overtime_premium_rest_day_night", "overtime_annual_quota",
                     "paid_leave_accrual", "paid_leave_seniority_increase", "seniority_bonus_2y", "seniority_bonus_25y",
                     "smig_2026_hourly", "maternity_leave", "nursing_break_daily", "severance_years_1_5",
                     "staff_delegates_10_25", "night_work_period_start"]:
        assert required in ids
    assert len(RULES) >= 40


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_value_is_in_its_article_of_the_official_text(rule_id):
    rule = RULES[rule_id]
    if not (SHARED_CORPUS / rule.source).exists():
        pytest.skip(f"{rule.source} not in ../shared/corpus")
    article = articles_of(rule.source).get(normalise_article_label(rule.article))
    assert article, f"{rule.source} has no article {rule.article}"
    evidence = collapse(rule.evidence)
    assert evidence in article, f"evidence {evidence!r} not in art. {rule.article}"
    values = numbers_in(evidence) | {str(v if not float(v).is_integer() else int(v)) for k, v in SPELLED.items() if k in evidence.lower()}
    value = rule.value if not rule.value.is_integer() else int(rule.value)
    assert str(value) in values, f"value {rule.value} not stated in evidence {evidence!r}"


def test_every_clause_parameter_rule_exists_with_same_unit_and_floor():
    for template in LIBRARY:
        for param in template.parameters:
            if param.rule:
                rule = RULES[param.rule]
                assert UNIT_FAMILIES[rule.unit] == UNIT_FAMILIES[param.unit], (template.id, param.name)
                assert float(param.floor) == rule.value, (template.id, param.name)


def test_library_has_at_least_15_complete_topics():
    assert len(LIBRARY) >= 15
    for template in LIBRARY:
        for section in ("Objet", "Fondement juridique", "Modèle", "Variantes", "Arguments de négociation"):
            assert template.sections.get(section), (template.id, section)
        placeholders = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", template.model))
        assert placeholders == {p.name for p in template.parameters}, template.id
        assert template.legal_basis, template.id


def test_variants_are_at_least_as_favourable_as_the_floor():
    for template in LIBRARY:
        for param in template.parameters:
            rule = RULES.get(param.rule) if param.rule else None
            if rule is None:
                continue
            for variant in ("floor", "target", "ambitious"):
                assert rule.complies(float(param.value_for(variant))), (template.id, param.name, variant)


def test_clause_legal_basis_articles_exist_in_the_code():
    code = SHARED_CORPUS / "ma_code_travail_fr_2011.pdf"
    if not code.exists():
        pytest.skip("code not available")
    articles = articles_of(code.name)
    for template in LIBRARY:
        for basis in template.legal_basis:
            if basis.get("source") == code.name:
                assert normalise_article_label(str(basis["article"])) in articles, (template.id, basis)

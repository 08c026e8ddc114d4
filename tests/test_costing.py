"""Costing of demands: hand-computed cases, grids from CSV and XLSX, bad grids, exports, CLI."""

from __future__ import annotations

import io
import json

import pytest
from typer.testing import CliRunner

from rag import cli
from rag.costing import (
    SENIORITY_BRACKETS, Category, Demand, DemandKind, GridError, cost_demands, costing_csv, costing_docx, costing_xlsx,
    demands_from_clause, load_grid,
)
from rag.library import load_rules
from rag.settings import PROJECT_ROOT
from tests.test_negotiation import five_clauses

RULES = load_rules(PROJECT_ROOT / "corpus" / "rules" / "floors.yaml")
HEADER = "categorie;effectif;salaire_base_mensuel;" + ";".join(SENIORITY_BRACKETS) + ";part_heures_nuit;part_heures_dimanche;heures_sup_jour_an;heures_sup_nuit_an"


def one_category(**extra) -> list[Category]:
    """10 agents at 5 000 MAD, all with 2 to 5 years of service."""
    seniority = {b: (1.0 if b == "anc_2_5" else 0.0) for b in SENIORITY_BRACKETS}
    return [Category("Conseiller", 10, 5000.0, seniority, **extra)]


def test_general_increase_compounds_and_a_one_off_bonus_does_not():
    costing = cost_demands(one_category(), [
        Demand(DemandKind.general_increase, "Augmentation générale 5 %", 5.0, 0.0),
        Demand(DemandKind.one_off_bonus, "Prime exceptionnelle", 1000.0, 0.0),
    ], years=2)
    increase, bonus = costing.lines
    # year 1: 5 000 × 5 % = 250 MAD × 12 × 10; year 2: 5 000 × 1,05² − 5 000 = 512,50 MAD × 12 × 10 (not 2 × 250)
    assert increase.years == pytest.approx([30_000.0, 61_500.0])
    assert bonus.years == pytest.approx([10_000.0, 0.0])
    assert costing.wage_bill == 600_000.0
    assert increase.shares == pytest.approx([5.0, 10.25])
    assert costing.totals == pytest.approx([40_000.0, 61_500.0])
    assert "Charges patronales non comptées" in " ".join(costing.notices)


def test_premiums_on_the_increased_wage_and_the_floor_beside_them():
    grid = one_category(night_share=0.2, sunday_share=0.1, overtime_day_hours=10, overtime_night_hours=5)
    costing = cost_demands(grid, [
        Demand(DemandKind.general_increase, "AG", 5.0, 0.0),
        Demand(DemandKind.seniority, "Ancienneté", {1: 3.0, 2: 6.0, 5: 11.0}, {2: 5.0, 5: 10.0}),
        Demand(DemandKind.night_premium, "Nuit", 25.0, 0.0),
        Demand(DemandKind.overtime_premium, "HS", {"day": 30.0, "night": 60.0}, {"day": 25.0, "night": 50.0}),
        Demand(DemandKind.extra_leave, "Congés", 21.0, 18.0),
    ], years=2)
    _, seniority, night, overtime, leave = costing.lines
    # 6 % of 5 250 (year 1) and of 5 512,50 (year 2), × 12 × 10; the law: 5 % of today's 5 000
    assert seniority.years == pytest.approx([37_800.0, 39_690.0]) and seniority.floor_years == pytest.approx([30_000.0, 30_000.0])
    # 25 % × 20 % of the annual wage 63 000 × 10
    assert night.years[0] == pytest.approx(31_500.0) and night.floor_years == [0.0, 0.0]
    # hourly 5 250 / 191; (10 h × 30 % + 5 h × 60 %) × 10 agents
    assert overtime.years[0] == pytest.approx(5250 / 191 * 6 * 10)
    assert overtime.floor_years[0] == pytest.approx(5000 / 191 * (10 * 0.25 + 5 * 0.5) * 10)
    # 21 days of 5 250 / 26 × 10; the law's 18 days on today's wage
    assert leave.years[0] == pytest.approx(21 * 5250 / 26 * 10) and leave.floor_years[0] == pytest.approx(18 * 5000 / 26 * 10)


def test_minimum_wage_revaluation_compounds_and_contributions_are_added():
    grid = [Category("Débutant", 4, 3600.0), Category("Confirmé", 6, 4500.0)]
    costing = cost_demands(grid, [Demand(DemandKind.minimum_wage, "Minimum", 4000.0, 3422.72, annual_increase=10.0)], years=3, contribution_rate=0.2)
    [line] = costing.lines
    # minimum 4 000, 4 400, 4 840: the top-up of the 3 600 MAD agents (and from year 3 the 4 500 ones), × 12, + 20 %
    assert line.years == pytest.approx([1.2 * 4 * 12 * 400, 1.2 * 4 * 12 * 800, 1.2 * (4 * 12 * 1240 + 6 * 12 * 340)])
    assert line.floor_years == [0.0, 0.0, 0.0]  # nobody under the SMIG
    assert any("20 %" in n for n in costing.notices)


def test_demands_read_from_drafted_clauses():
    demands, notes = [], []
    for clause in five_clauses():
        found, more = demands_from_clause(clause.to_json(), RULES)
        demands += found
        notes += more
    kinds = [d.kind for d in demands]
    assert kinds == [DemandKind.minimum_wage, DemandKind.seniority, DemandKind.overtime_premium, DemandKind.night_premium, DemandKind.night_rest,
                     DemandKind.sunday_premium, DemandKind.holiday_premium, DemandKind.extra_leave, DemandKind.seniority_leave]
    minimum = demands[0]
    assert minimum.value == 4011.0 and minimum.floor == pytest.approx(17.92 * 191) and minimum.annual_increase == 3.0
    assert demands[1].value == {1: 3.0, 2: 6.0, 5: 11.0, 12: 16.0, 20: 21.0, 25: 26.0} and demands[1].floor[2] == 5.0
    # the « cible » variant of the library: 30 / 60 / 60 / 110 % against the law's 25 / 50 / 50 / 100 % (art. 201)
    assert demands[2].value == {"day": 30.0, "night": 60.0, "rest_day": 60.0, "rest_day_night": 110.0}
    assert demands[2].floor == {"day": 25.0, "night": 50.0, "rest_day": 50.0, "rest_day_night": 100.0}
    assert (demands[4].value, demands[6].value, demands[6].floor) == (6.0, 150.0, 100.0)  # night rest 6 %, holiday indemnity 150 % vs 100 % (art. 224)
    assert demands[7].value == pytest.approx(21.0) and demands[7].floor == pytest.approx(18.0)
    assert demands[8].value == {"base": 21.0, "per_period": 2.0, "period_years": 5, "cap": 33.0}
    assert demands[8].floor == {"base": 18.0, "per_period": 1.5, "period_years": 5, "cap": 30.0}
    assert not any("ne sont pas chiffré" in n for n in notes)
    from rag.draft import Clause

    free = Clause("Salaires", "salaires", None, "target", "…", demands=["augmentation générale de 4 % par an", "prime exceptionnelle de 1 500 MAD"])
    found, _ = demands_from_clause(free)
    assert [(d.kind, d.value) for d in found] == [(DemandKind.general_increase, 4.0), (DemandKind.one_off_bonus, 1500.0)]


def test_grid_from_csv_with_french_numbers(tmp_path):
    path = tmp_path / "grille.csv"
    path.write_text(HEADER + "\nConseiller;120;3 600,50;40;30;30;0;0;0;0;15;10;20;5\nSuperviseur;12;6500;0;0;20;50;30;0;0;5;5;10;0\n", encoding="cp1252")
    categories, notices = load_grid(path)
    assert [(c.name, c.headcount, c.base_monthly) for c in categories] == [("Conseiller", 120, 3600.5), ("Superviseur", 12, 6500.0)]
    assert categories[0].night_share == pytest.approx(0.15) and categories[1].seniority["anc_5_12"] == pytest.approx(0.5)


def test_grid_from_xlsx_and_exports(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Catégorie", "Effectif", "Salaire de base mensuel (MAD)", "Part heures nuit (%)"])
    sheet.append(["Conseiller", 10, 5000, 20])
    book.save(tmp_path / "grille.xlsx")
    categories, notices = load_grid(tmp_path / "grille.xlsx")
    assert (categories[0].headcount, categories[0].base_monthly, categories[0].night_share) == (10, 5000.0, pytest.approx(0.2))
    assert any("ancienneté" in n for n in notices)
    costing = cost_demands(categories, [Demand(DemandKind.night_premium, "Nuit", 25.0, 0.0)], years=2)
    rows = list(openpyxl.load_workbook(io.BytesIO(costing_xlsx(costing))).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("demande", "clause", "annee", "cout_mad") and rows[1][3] == pytest.approx(30_000.0)
    assert "Nuit;;1;30000.0;5.0;0.0;30000.0" in costing_csv(costing)
    import docx

    annex = docx.Document(io.BytesIO(costing_docx(costing)))
    assert annex.tables[0].rows[1].cells[0].text == "Nuit" and "Annexe" in annex.paragraphs[0].text


@pytest.mark.parametrize("row,message", [
    ("Conseiller;-3;5000", "effectif négatif"),
    ("Conseiller;dix;5000", "« dix » n'est pas un nombre"),
    ("Conseiller;10;5 000 MAD", "n'est pas un nombre"),
    ("Conseiller;10;0", "salaire de base mensuel manquant ou nul"),
    (";10;5000", "catégorie sans nom"),
    ("Conseiller;10,5;5000", "effectif non entier"),
])
def test_bad_grid_rows_get_clear_messages(tmp_path, row, message):
    path = tmp_path / "grille.csv"
    path.write_text("categorie;effectif;salaire_base_mensuel\n" + row + "\n", encoding="utf-8")
    with pytest.raises(GridError, match=message) as refused:
        load_grid(path)
    assert "ligne 2" in str(refused.value) and "rien n'a été chiffré" in str(refused.value)


def test_bad_grids_as_files(tmp_path):
    big = tmp_path / "grande.csv"
    with big.open("w", encoding="utf-8") as handle:  # 10 MB: refused before it is read
        handle.write("categorie;effectif;salaire_base_mensuel\n")
        handle.write("Conseiller;10;5000\n" * (10 * 1024 * 1024 // 19))
    with pytest.raises(GridError, match="limitée à 5 Mo"):
        load_grid(big, max_mb=5)
    missing = tmp_path / "colonnes.csv"
    missing.write_text("poste;nombre\nConseiller;10\n", encoding="utf-8")
    with pytest.raises(GridError, match="salaire_base_mensuel"):
        load_grid(missing)
    spread = tmp_path / "anciennete.csv"
    spread.write_text(HEADER + "\nConseiller;10;5000;50;30;30;0;0;0;0;0;0;0;0\n", encoding="utf-8")
    with pytest.raises(GridError, match="totalise 110 %"):
        load_grid(spread)
    (tmp_path / "vide.csv").write_bytes(b"")
    with pytest.raises(GridError, match="vide"):
        load_grid(tmp_path / "vide.csv")
    (tmp_path / "faux.xlsx").write_bytes(b"not a zip")
    with pytest.raises(GridError, match="illisible"):
        load_grid(tmp_path / "faux.xlsx")
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["categorie", "effectif", "salaire_base_mensuel"])
    book.active.append(["Conseiller", "=2*5", 5000])  # a formula never computed (written by a program, not Excel)
    book.save(tmp_path / "formules.xlsx")
    with pytest.raises(GridError, match="formule"):
        load_grid(tmp_path / "formules.xlsx")


def test_cost_cli_json_and_bad_grid(tmp_path):
    grid = tmp_path / "grille.csv"
    grid.write_text(HEADER + "\nConseiller;100;3600;40;30;30;0;0;0;0;15;10;20;5\n", encoding="utf-8")
    drafts = tmp_path / "projet.json"
    drafts.write_text(json.dumps([c.to_json() for c in five_clauses()], ensure_ascii=False), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(cli.app, ["cost", "--grid", str(grid), "--years", "2", "--json", "--xlsx", str(tmp_path / "c.xlsx"), str(drafts)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["years"] == 2 and data["wage_bill"] == 100 * 3600 * 12 and len(data["lines"]) == 9
    minimum = data["lines"][0]
    assert minimum["years"][0] == pytest.approx(100 * 12 * (4011 - 3600)) and minimum["floor_years"] == [0.0, 0.0]
    assert data["totals"][0] == pytest.approx(sum(line["years"][0] for line in data["lines"]), abs=0.1)
    assert (tmp_path / "c.xlsx").stat().st_size > 0
    text = runner.invoke(cli.app, ["cost", "--grid", str(grid), str(drafts)])
    assert text.exit_code == 0 and "TOTAL" in text.stdout and "Salaire minimum conventionnel" in text.stdout
    bad = tmp_path / "mauvaise.csv"
    bad.write_text("categorie;effectif;salaire_base_mensuel\nConseiller;-5;3600\n", encoding="utf-8")
    refused = runner.invoke(cli.app, ["cost", "--grid", str(bad), str(drafts)])
    assert refused.exit_code == 2 and "effectif négatif" in refused.output


def test_overtime_on_the_weekly_rest_day():
    """10 agents at 5 730 MAD (30 MAD an hour on 191 h), 12 h of rest-day overtime by day and 4 h by night a year."""
    grid = [Category("Conseiller", 10, 5730.0, overtime_rest_day_hours=12, overtime_rest_night_hours=4)]
    rates = {"day": 30.0, "night": 60.0, "rest_day": 60.0, "rest_day_night": 110.0}
    law = {"day": 25.0, "night": 50.0, "rest_day": 50.0, "rest_day_night": 100.0}
    costing = cost_demands(grid, [Demand(DemandKind.overtime_premium, "HS", rates, law)], years=1)
    [line] = costing.lines
    # 30 MAD × (12 h × 60 % + 4 h × 110 %) × 10 = 30 × 11,6 × 10; the law: 30 × (12 × 50 % + 4 × 100 %) × 10 = 30 × 10 × 10
    assert line.years == pytest.approx([3480.0]) and line.floor_years == pytest.approx([3000.0])
    notice = next(n for n in costing.notices if "heures supplémentaires" in n)
    assert "heures_sup_jour_an" in notice and "heures_sup_nuit_an" in notice and "repos" not in notice


def test_holiday_indemnity_night_rest_and_seniority_leave():
    seniority = {b: 0.0 for b in SENIORITY_BRACKETS} | {"anc_2_5": 0.5, "anc_5_12": 0.3, "anc_25_plus": 0.2}
    grid = [Category("Technicien", 20, 5200.0, seniority, night_share=0.25, holidays_worked=3)]  # a day's pay: 5 200 / 26 = 200 MAD
    costing = cost_demands(grid, [
        Demand(DemandKind.holiday_premium, "Fériés", 150.0, 100.0),
        Demand(DemandKind.night_rest, "Repos de nuit", 6.0, 0.0),
        Demand(DemandKind.seniority_leave, "Congé d'ancienneté", {"base": 21.0, "per_period": 2.0, "period_years": 5, "cap": 33.0},
               {"base": 18.0, "per_period": 1.5, "period_years": 5, "cap": 30.0}),
    ], years=1)
    holiday, rest, leave = costing.lines
    # 3 days × 200 MAD × 150 % × 20 agents; the law (art. 224): an indemnity equal to the day's wage
    assert holiday.years == pytest.approx([18_000.0]) and holiday.floor_years == pytest.approx([12_000.0])
    # 6 % of the night hours paid as rest: 62 400 MAD × 25 % × 6 % × 20
    assert rest.years == pytest.approx([18_720.0]) and rest.floor_years == [0.0]
    # 2 to 5 years: no whole period; 5 to 12: 1 period (2 days, law 1,5); 25+: 5 periods, 10 days but the cap leaves 33 − 21 = 12,
    # the law 7,5 days within 30 − 18 = 12 → 0,3 × 2 + 0,2 × 10 = 2,6 days; law 0,3 × 1,5 + 0,2 × 7,5 = 1,95 days; × 200 MAD × 20
    assert leave.years == pytest.approx([2.6 * 200 * 20]) and leave.floor_years == pytest.approx([1.95 * 200 * 20])


def test_seniority_leave_cap():
    from rag.costing import seniority_leave_days

    law = {"base": 18.0, "per_period": 1.5, "period_years": 5, "cap": 30.0}
    assert [seniority_leave_days(law, y) for y in (0, 4, 5, 12, 20, 25, 40)] == [0.0, 0.0, 1.5, 3.0, 6.0, 7.5, 12.0]
    assert seniority_leave_days({"base": 24.0, "per_period": 3.0, "period_years": 5, "cap": 30.0}, 25) == 6.0  # capped at 30 in all
    assert seniority_leave_days({"base": 31.0, "per_period": 3.0, "period_years": 5, "cap": 30.0}, 25) == 0.0


def test_three_year_deal_increases_compound_bonuses_do_not():
    """One category of 10 at 4 000 MAD over 3 years: general increases of 2 % and 3 % (they compound with
    each other, 1,02 × 1,03 = 1,0506 a year), an allowance of 200 MAD a month indexed at 5 % a year, a one-off
    bonus of 1 500 MAD, and the night premium of 20 % on a 10 % night share, taken on the increased wage."""
    grid = [Category("Agent", 10, 4000.0, night_share=0.1)]
    costing = cost_demands(grid, [
        Demand(DemandKind.general_increase, "AG 2 %", 2.0, 0.0),
        Demand(DemandKind.general_increase, "AG 3 %", 3.0, 0.0),
        Demand(DemandKind.allowance, "Indemnité de transport", 200.0, 0.0, annual_increase=5.0),
        Demand(DemandKind.one_off_bonus, "Prime de signature", 1500.0, 0.0),
        Demand(DemandKind.night_premium, "Nuit", 20.0, 0.0),
    ], years=3)
    first, second, allowance, bonus, night = costing.lines
    wages = [4000 * 1.0506, 4000 * 1.0506 ** 2, 4000 * 1.0506 ** 3]  # 4 202,40 ; 4 415,04 ; 4 638,44
    increase_total = [10 * 12 * (w - 4000) for w in wages]             # 24 288 ; 49 804,97 ; 76 613,10
    assert increase_total == pytest.approx([24_288.0, 49_804.97, 76_613.10], abs=0.01)
    assert [a + b for a, b in zip(first.years, second.years)] == pytest.approx(increase_total)
    # the 2 % line: 4 000 × 1,02^n − 4 000; the 3 % line what the 3 % adds on top: 4 000 × (1,0506^n − 1,02^n)
    assert first.years == pytest.approx([10 * 12 * 4000 * (1.02 ** n - 1) for n in (1, 2, 3)])
    assert first.years[0] == pytest.approx(9600.0) and second.years[0] == pytest.approx(14_688.0)
    assert allowance.years == pytest.approx([24_000.0, 25_200.0, 26_460.0])  # 200, 210, 220,50 MAD × 12 × 10
    assert bonus.years == pytest.approx([15_000.0, 0.0, 0.0])
    assert night.years == pytest.approx([10 * 12 * w * 0.1 * 0.2 for w in wages])
    assert night.years[0] == pytest.approx(10_085.76)
    assert sum(costing.totals) == pytest.approx(sum(increase_total) + 75_660.0 + 15_000.0 + sum(night.years))


def test_employer_contribution_rate_and_its_source():
    grid = [Category("Agent", 10, 4000.0)]
    bonus = [Demand(DemandKind.one_off_bonus, "Prime", 1000.0, 0.0)]
    none = cost_demands(grid, bonus, years=1)
    assert none.lines[0].years == [10_000.0] and any("non comptées" in n and "RAG_EMPLOYER_CONTRIBUTION_SOURCE" in n for n in none.notices)
    sourced = cost_demands(grid, bonus, years=1, contribution_rate=0.2109, contribution_source="Barème CNSS/AMO en vigueur au 1er janvier 2026")
    assert sourced.lines[0].years == pytest.approx([12_109.0])
    assert "Charges patronales comptées à 21,09 % (réglage employer_contribution_rate ; source : Barème CNSS/AMO" in " ".join(sourced.notices)
    assert sourced.to_json()["contribution_source"].startswith("Barème CNSS")
    unsourced = cost_demands(grid, bonus, years=1, contribution_rate=0.2)
    assert any("sans source indiquée" in n for n in unsourced.notices)
    for bad in (1.5, -0.1, "21 %", True):
        with pytest.raises(ValueError, match="entre 0 et 1"):
            cost_demands(grid, bonus, years=1, contribution_rate=bad)


def test_cost_cli_uses_the_contribution_settings(tmp_path, monkeypatch):
    grid = tmp_path / "grille.csv"
    grid.write_text("categorie;effectif;salaire_base_mensuel;heures_sup_repos_jour_an;jours_feries_travailles_an\nAgent;10;5730;12;2\n", encoding="utf-8")
    drafts = tmp_path / "projet.json"
    drafts.write_text(json.dumps([c.to_json() for c in five_clauses()], ensure_ascii=False), encoding="utf-8")
    monkeypatch.setenv("RAG_EMPLOYER_CONTRIBUTION_RATE", "0.25")
    monkeypatch.setenv("RAG_EMPLOYER_CONTRIBUTION_SOURCE", "décret de test")
    result = CliRunner().invoke(cli.app, ["cost", "--grid", str(grid), "--years", "1", "--json", str(drafts)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    lines = {line["kind"]: line for line in data["lines"]}
    # rest-day overtime 12 h × 30 MAD × 60 % × 10 (law 50 %); 2 holidays × 5 730 / 26 × 150 % × 10 (law 100 %); + 25 %
    assert lines["majoration_heures_sup"]["years"] == [pytest.approx(1.25 * 12 * 30 * 0.6 * 10, abs=0.01)]
    assert lines["majoration_heures_sup"]["floor_years"] == [pytest.approx(1.25 * 12 * 30 * 0.5 * 10, abs=0.01)]
    assert lines["indemnite_jour_ferie"]["years"] == [pytest.approx(1.25 * 2 * 5730 / 26 * 1.5 * 10, abs=0.01)]
    assert data["contribution_rate"] == 0.25 and data["contribution_source"] == "décret de test"
    assert any("source : décret de test" in n for n in data["notices"])


@pytest.mark.parametrize("column,value,message", [
    ("heures_sup_repos_jour_an", "-2", "heures_sup_repos_jour_an négatif"),
    ("heures_sup_repos_nuit_an", "9000", "plus que l'année n'en compte"),
    ("jours_feries_travailles_an", "400", "plus que l'année n'en compte"),
    ("jours_feries_travailles_an", "deux", "« deux » n'est pas un nombre"),
])
def test_bad_values_in_the_new_columns(tmp_path, column, value, message):
    path = tmp_path / "grille.csv"
    path.write_text(f"categorie;effectif;salaire_base_mensuel;{column}\nAgent;10;5000;{value}\n", encoding="utf-8")
    with pytest.raises(GridError, match=message):
        load_grid(path)


OFFICIAL_CODE = PROJECT_ROOT.parent / "shared" / "corpus" / "ma_code_travail_fr_2011.pdf"


def _article(text: str, number: int) -> str:
    """The text of one article of the code, up to the next one."""
    start = text.index(f"Article {number} ")
    end = text.find(f"Article {number + 1} ", start)
    return text[start:end if end > 0 else start + 3000]


@pytest.mark.skipif(not OFFICIAL_CODE.is_file(), reason="official Code du travail PDF not in ../shared/corpus")
def test_statutory_values_are_in_the_official_code():
    """Every statutory figure the costing uses as a floor, found in the official text (loi 65-99, 2011 edition)."""
    import re

    import pypdf

    from rag.costing import (
        HOURS_PER_MONTH, STATUTORY_HOLIDAY_INDEMNITY, STATUTORY_LEAVE, STATUTORY_OVERTIME, STATUTORY_SENIORITY, WORKING_DAYS_PER_MONTH,
    )

    reader = pypdf.PdfReader(str(OFFICIAL_CODE))
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))
    art201 = _article(text, 201)
    assert f"majoration de salaire de {STATUTORY_OVERTIME['day']:g} % si elles sont effectuées entre 6 heures et 21 heures" in art201
    assert f"et de {STATUTORY_OVERTIME['night']:g} % si elles sont effectuées entre 21 heures et 6 heures" in art201
    assert (f"portée respectivement à {STATUTORY_OVERTIME['rest_day']:g} % et à {STATUTORY_OVERTIME['rest_day_night']:g} % si les heures "
            "supplémentaires sont effectuées le jour du repos hebdomadaire") in art201
    assert STATUTORY_HOLIDAY_INDEMNITY == 100 and "une indemnité supplémentaire égale au montant de ce salaire" in _article(text, 224)
    assert STATUTORY_LEAVE["base"] == 12 * 1.5 and "un jour et demi de travail effectif par mois de service" in _article(text, 231)
    art232 = _article(text, 232)
    assert STATUTORY_LEAVE["per_period"] == 1.5 and "d'un jour et demi de travail effectif par période entière" in art232
    assert STATUTORY_LEAVE["period_years"] == 5 and "de cinq années de service" in art232
    assert STATUTORY_LEAVE["cap"] == 30 and "plus de trente jours de travail effectif" in art232
    art238 = _article(text, 238)
    assert WORKING_DAYS_PER_MONTH == 26 and "vingt-six jours de travail effectif" in art238
    assert f"{HOURS_PER_MONTH} heures dans les activités non agricoles" in art238
    art350 = re.sub(r"(\d)\s*%", r"\1 %", _article(text, 350))
    words = {2: "deux", 5: "cinq", 12: "douze", 20: "vingt", 25: "vingt-cinq"}
    for years, rate in STATUTORY_SENIORITY.items():
        if rate:
            assert f"{rate:g} % du salaire versé, après {words[years]} ans de service" in art350

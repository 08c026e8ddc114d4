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
    assert kinds == [DemandKind.minimum_wage, DemandKind.seniority, DemandKind.overtime_premium, DemandKind.night_premium,
                     DemandKind.sunday_premium, DemandKind.extra_leave]
    minimum = demands[0]
    assert minimum.value == 4011.0 and minimum.floor == pytest.approx(17.92 * 191) and minimum.annual_increase == 3.0
    assert demands[1].value == {1: 3.0, 2: 6.0, 5: 11.0, 12: 16.0, 20: 21.0, 25: 26.0} and demands[1].floor[2] == 5.0
    assert demands[5].value == pytest.approx(21.0) and demands[5].floor == pytest.approx(18.0)
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
    assert data["years"] == 2 and data["wage_bill"] == 100 * 3600 * 12 and len(data["lines"]) == 6
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

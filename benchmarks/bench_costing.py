"""Costing benchmark: a 200-category grid for 100,000 employees, every demand of the five costed
clauses, over 4 years; grid read from CSV, costed, exported to XLSX and CSV. Prints the times.

    .venv/bin/python benchmarks/bench_costing.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rag.costing import SENIORITY_BRACKETS, cost_demands, costing_csv, costing_xlsx, demands_from_clause, load_grid  # noqa: E402
from rag.library import load_library, load_rules, render_model  # noqa: E402
from rag.draft import Clause  # noqa: E402
from rag.settings import PROJECT_ROOT  # noqa: E402

CATEGORIES, EMPLOYEES, YEARS = 200, 100_000, 4


def write_grid(path: Path) -> None:
    rng = random.Random(18)
    sizes = [rng.randint(1, 100) for _ in range(CATEGORIES)]
    scale = EMPLOYEES / sum(sizes)
    heads = [max(1, round(s * scale)) for s in sizes]
    heads[-1] += EMPLOYEES - sum(heads)
    lines = ["categorie;effectif;salaire_base_mensuel;" + ";".join(SENIORITY_BRACKETS) + ";part_heures_nuit;part_heures_dimanche;heures_sup_jour_an;heures_sup_nuit_an;part_teletravail"]
    for n, head in enumerate(heads, start=1):
        cuts = sorted(rng.randint(0, 100) for _ in range(len(SENIORITY_BRACKETS) - 1))
        shares = [b - a for a, b in zip([0] + cuts, cuts + [100])]
        lines.append(f"Catégorie {n};{head};{rng.randint(3500, 15000)};" + ";".join(map(str, shares))
                     + f";{rng.randint(0, 40)};{rng.randint(0, 20)};{rng.randint(0, 80)};{rng.randint(0, 20)};{rng.randint(0, 60)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    library = load_library(PROJECT_ROOT / "corpus" / "clauses")
    rules = load_rules(PROJECT_ROOT / "corpus" / "rules" / "floors.yaml")
    clauses = []
    for t in library:
        if t.id in {"salaire_minimum_conventionnel", "prime_anciennete", "heures_supplementaires", "travail_nuit_dimanche_feries", "conges_payes_fetes", "teletravail"}:
            values = {p.name: p.value_for("ambitious") for p in t.parameters}
            clauses.append(Clause(t.title, t.id, t.id, "ambitious", render_model(t, values), values))
    clauses.append(Clause("Salaires", "salaires", None, "target", "", demands=["augmentation générale de 4 % par an", "prime exceptionnelle de 1500 MAD"]))
    with tempfile.TemporaryDirectory() as folder:
        grid_path = Path(folder) / "grille.csv"
        write_grid(grid_path)
        t0 = time.perf_counter()
        grid, notices = load_grid(grid_path)
        t1 = time.perf_counter()
        demands = [d for c in clauses for d in demands_from_clause(c, rules)[0]]
        costing = cost_demands(grid, demands, YEARS, 0.0, notices)
        t2 = time.perf_counter()
        xlsx, csv_text = costing_xlsx(costing), costing_csv(costing)
        t3 = time.perf_counter()
    assert sum(c.headcount for c in grid) == EMPLOYEES and len(grid) == CATEGORIES
    print(f"grid: {CATEGORIES} categories, {EMPLOYEES} employees; {len(demands)} demands over {YEARS} years")
    print(f"read CSV      {1000 * (t1 - t0):8.1f} ms")
    print(f"cost          {1000 * (t2 - t1):8.1f} ms")
    print(f"export XLSX+CSV {1000 * (t3 - t2):6.1f} ms ({len(xlsx)} + {len(csv_text)} bytes)")
    print(f"total         {1000 * (t3 - t0):8.1f} ms (target < 1000 ms)")
    print(f"year-4 cost: {costing.totals[-1]:,.0f} MAD = {costing.total_shares[-1]:.2f} % of the wage bill")


if __name__ == "__main__":
    main()

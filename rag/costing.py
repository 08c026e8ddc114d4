"""Costing of demands: what each clause of the project costs on the negotiators' own salary grid.

The grid (CSV or XLSX, one row per job category; columns in :data:`GRID_COLUMNS`, documented in
the README) gives headcount, base monthly wage (excluding premiums), the spread of seniority and
the share of night and Sunday hours. Each demand is costed for every year of a multi-year deal:

- every line is the annual cost of the item at the demanded level, and beside it the same item
  at the statutory floor (``corpus/rules/floors.yaml``; 0 where the law sets no figure), so the
  difference is what the demand adds to the law;
- a general increase compounds year on year and the wage-proportional items of that year are
  computed on the increased wage; a revaluation of the conventional minimum compounds too;
  a one-off bonus is paid in year 1 only;
- the share of the wage bill is taken on the reference bill: headcount × base wage × 12;
- employer social contributions are added at ``Settings.employer_contribution_rate`` with the
  source the negotiators name in ``Settings.employer_contribution_source`` (0 by default, with a
  notice: no rate is documented in the corpus; a rate without a source gets a notice too).

Statutory values used as floors (C. trav., loi 65-99, checked against the official text by
``tests/test_costing.py::test_statutory_values_are_in_the_official_code``): overtime premiums 25 %
by day and 50 % by night, 50 % and 100 % on the weekly rest day (art. 201); a paid or public
holiday worked in a continuous establishment earns an extra indemnity equal to that day's wage
(art. 224); 1.5 days of paid leave per month (art. 231) plus 1.5 days per whole period of five
years of service, up to 30 days (art. 232); a month is 26 working days and 191 hours (art. 238);
seniority bonus 5 / 10 / 15 / 20 / 25 % after 2 / 5 / 12 / 20 / 25 years (art. 350).

Each demand is costed on its own (no cross-effects except the general increase); the seniority
spread stays as in the grid over the years. Pure Python: 200 categories over 4 years take
milliseconds (``benchmarks/bench_costing.py``).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path

HOURS_PER_MONTH = 191     # C. trav. art. 238 (non-agricultural activities)
WORKING_DAYS_PER_MONTH = 26  # a working day's pay = monthly wage / 26 (six-day weeks, art. 231 counts working days)
MAX_GRID_ROWS = 5_000
MAX_YEARS = 10

# bracket column → (lower bound in years of service, label)
SENIORITY_BRACKETS = {
    "anc_moins_1": (0, "moins d'un an"), "anc_1_2": (1, "1 à 2 ans"), "anc_2_5": (2, "2 à 5 ans"), "anc_5_12": (5, "5 à 12 ans"),
    "anc_12_20": (12, "12 à 20 ans"), "anc_20_25": (20, "20 à 25 ans"), "anc_25_plus": (25, "25 ans et plus"),
}
# statutory seniority bonus by years of service (C. trav. art. 350), also read from the rules when given
STATUTORY_SENIORITY = {0: 0.0, 1: 0.0, 2: 5.0, 5: 10.0, 12: 15.0, 20: 20.0, 25: 25.0}
# overtime premiums in % (C. trav. art. 201): day 6 h – 21 h, night 21 h – 6 h, and on the weekly rest day
STATUTORY_OVERTIME = {"day": 25.0, "night": 50.0, "rest_day": 50.0, "rest_day_night": 100.0}
OVERTIME_HOURS = {"day": "overtime_day_hours", "night": "overtime_night_hours", "rest_day": "overtime_rest_day_hours", "rest_day_night": "overtime_rest_night_hours"}
# a paid or public holiday worked: an extra indemnity equal to that day's wage, in % (C. trav. art. 224)
STATUTORY_HOLIDAY_INDEMNITY = 100.0
# paid leave (C. trav. art. 231, 232): 1.5 days a month, + 1.5 days per whole 5 years of service, up to 30 days
STATUTORY_LEAVE = {"base": 18.0, "per_period": 1.5, "period_years": 5, "cap": 30.0}

GRID_COLUMNS = {
    "categorie": "Nom de la catégorie ou de l'emploi (texte, obligatoire).",
    "effectif": "Nombre de salariés (entier ≥ 0, obligatoire).",
    "salaire_base_mensuel": "Salaire de base mensuel brut en MAD, hors primes (> 0, obligatoire).",
    **{k: f"Part de l'effectif ayant {label} d'ancienneté, en % (facultatif ; les 7 colonnes totalisent 100)." for k, (_, label) in SENIORITY_BRACKETS.items()},
    "part_heures_nuit": "Part des heures travaillées de nuit (21 h – 6 h), en % (facultatif, 0 par défaut).",
    "part_heures_dimanche": "Part des heures travaillées le dimanche, en % (facultatif, 0 par défaut).",
    "heures_sup_jour_an": "Heures supplémentaires de jour par salarié et par an (facultatif, 0 par défaut).",
    "heures_sup_nuit_an": "Heures supplémentaires de nuit par salarié et par an (facultatif, 0 par défaut).",
    "heures_sup_repos_jour_an": "Heures supplémentaires de jour (6 h – 21 h) faites le jour du repos hebdomadaire, par salarié et par an (facultatif, 0 par défaut).",
    "heures_sup_repos_nuit_an": "Heures supplémentaires de nuit (21 h – 6 h) faites le jour du repos hebdomadaire, par salarié et par an (facultatif, 0 par défaut).",
    "jours_feries_travailles_an": "Jours de fête payés et jours fériés travaillés par salarié et par an (facultatif, 0 par défaut).",
    "heures_mensuelles": "Heures mensuelles d'un temps plein (facultatif, 191 par défaut, C. trav. art. 238).",
    "part_teletravail": "Part de l'effectif en télétravail, en % (facultatif ; sans elle l'indemnité de télétravail est comptée pour tous).",
}
REQUIRED = ("categorie", "effectif", "salaire_base_mensuel")
ALIASES = {
    "categorie": {"category", "categories", "emploi", "poste", "niveau"},
    "effectif": {"effectifs", "headcount", "nombre", "nb_salaries", "salaries"},
    "salaire_base_mensuel": {"salaire_base", "salaire_de_base", "salaire_de_base_mensuel", "salaire_mensuel", "base_monthly_wage", "salaire"},
    "part_heures_nuit": {"nuit", "heures_nuit", "part_nuit"},
    "part_heures_dimanche": {"dimanche", "heures_dimanche", "part_dimanche"},
    "heures_sup_jour_an": {"heures_sup_jour", "hs_jour", "hs_jour_an"},
    "heures_sup_nuit_an": {"heures_sup_nuit", "hs_nuit", "hs_nuit_an"},
    "heures_sup_repos_jour_an": {"heures_sup_repos_jour", "heures_sup_repos", "hs_repos", "hs_repos_jour", "hs_repos_jour_an"},
    "heures_sup_repos_nuit_an": {"heures_sup_repos_nuit", "hs_repos_nuit", "hs_repos_nuit_an"},
    "jours_feries_travailles_an": {"jours_feries_travailles", "feries_travailles", "jours_feries"},
    "heures_mensuelles": {"heures_mois", "hours_per_month"},
    "part_teletravail": {"teletravail"},
}


class GridError(ValueError):
    """A salary grid that cannot be costed; the message says where and why, in French."""


class DemandKind(StrEnum):
    minimum_wage = "salaire_minimum"
    general_increase = "augmentation_generale"
    seniority = "prime_anciennete"
    night_premium = "majoration_nuit"
    sunday_premium = "majoration_dimanche"
    overtime_premium = "majoration_heures_sup"
    night_rest = "repos_compensateur_nuit"
    holiday_premium = "indemnite_jour_ferie"
    extra_leave = "conges"
    seniority_leave = "conges_anciennete"
    allowance = "indemnite"
    one_off_bonus = "prime_exceptionnelle"


@dataclass
class Category:
    name: str
    headcount: int
    base_monthly: float
    seniority: dict[str, float] = field(default_factory=dict)  # bracket column → share in [0, 1]
    night_share: float = 0.0
    sunday_share: float = 0.0
    overtime_day_hours: float = 0.0
    overtime_night_hours: float = 0.0
    overtime_rest_day_hours: float = 0.0
    overtime_rest_night_hours: float = 0.0
    holidays_worked: float = 0.0
    hours_per_month: float = HOURS_PER_MONTH
    telework_share: float | None = None


@dataclass
class Demand:
    """One costable demand. ``value`` / ``floor``: a number, or for seniority a dict
    {bracket lower bound in years: rate %}, for overtime {"day": %, "night": %, "rest_day": %,
    "rest_day_night": %} (keys left out cost nothing), for the seniority leave {"base": annual days,
    "per_period": days per whole period, "period_years": 5, "cap": most days in all}."""

    kind: DemandKind
    label: str
    value: float | dict
    floor: float | dict | None = None
    annual_increase: float = 0.0  # % per year, compounding (minimum wage revaluation, indexed allowance)
    clause: str = ""
    floor_reference: str = ""


@dataclass
class CostLine:
    label: str
    kind: str
    clause: str
    years: list[float]
    floor_years: list[float]
    shares: list[float]         # % of the reference wage bill, per year
    floor_reference: str = ""

    @property
    def total(self) -> float:
        return sum(self.years)

    @property
    def floor_total(self) -> float:
        return sum(self.floor_years)

    def to_json(self) -> dict:
        data = asdict(self)
        data.update(total=round(self.total, 2), floor_total=round(self.floor_total, 2), extra_total=round(self.total - self.floor_total, 2),
                    years=[round(v, 2) for v in self.years], floor_years=[round(v, 2) for v in self.floor_years], shares=[round(v, 4) for v in self.shares])
        return data


@dataclass
class Costing:
    years: int
    wage_bill: float             # reference annual wage bill (base wages × 12)
    headcount: int
    lines: list[CostLine]
    contribution_rate: float
    notices: list[str] = field(default_factory=list)
    contribution_source: str = ""

    @property
    def totals(self) -> list[float]:
        return [sum(line.years[y] for line in self.lines) for y in range(self.years)]

    @property
    def floor_totals(self) -> list[float]:
        return [sum(line.floor_years[y] for line in self.lines) for y in range(self.years)]

    @property
    def total_shares(self) -> list[float]:
        return [100 * t / self.wage_bill if self.wage_bill else 0.0 for t in self.totals]

    def to_json(self) -> dict:
        return {
            "years": self.years, "wage_bill": round(self.wage_bill, 2), "headcount": self.headcount, "contribution_rate": self.contribution_rate,
            "contribution_source": self.contribution_source, "lines": [line.to_json() for line in self.lines],
            "totals": [round(v, 2) for v in self.totals], "floor_totals": [round(v, 2) for v in self.floor_totals],
            "total_shares": [round(v, 4) for v in self.total_shares], "grand_total": round(sum(self.totals), 2),
            "floor_grand_total": round(sum(self.floor_totals), 2), "notices": self.notices,
        }


# ------------------------------------------------------------------------------------------------
# reading a grid


def _key(header: str) -> str:
    text = unicodedata.normalize("NFKD", str(header or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"\(.*?\)|%|mad|dh", " ", text)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")


def _column(header: str) -> str | None:
    key = _key(header)
    if key in GRID_COLUMNS:
        return key
    for column, names in ALIASES.items():
        if key in names:
            return column
    return None


def parse_number(raw: object, where: str) -> float | None:
    """« 4 500,50 », "4500.5", 4500.5 → 4500.5; empty → None; anything else → GridError."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise GridError(f"{where} : valeur « {raw} » qui n'est pas un nombre.")
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = str(raw).strip().replace("\u202f", "").replace("\u00a0", "").replace(" ", "").rstrip("%")
        if not text:
            return None
        if text.startswith("="):
            raise GridError(f"{where} : formule « {raw} » sans valeur calculée ; enregistrez le fichier depuis Excel ou LibreOffice (valeurs calculées), ou saisissez le nombre.")
        if re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+(?:,\d+)?", text):  # 4.500,50
            text = text.replace(".", "")
        text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise GridError(f"{where} : « {str(raw)[:40]} » n'est pas un nombre.") from None
    if not math.isfinite(value):
        raise GridError(f"{where} : valeur « {raw} » qui n'est pas un nombre fini.")
    return value


def read_grid_rows(rows: list[dict], source: str = "grille") -> tuple[list[Category], list[str]]:
    """Categories from rows keyed by header. Every problem of every row is collected, then one
    :class:`GridError` lists them (up to 20) — not the first one only."""
    if not rows:
        raise GridError(f"{source} : grille vide (aucune ligne de catégorie).")
    if len(rows) > MAX_GRID_ROWS:
        raise GridError(f"{source} : {len(rows)} lignes ; au plus {MAX_GRID_ROWS} catégories.")
    headers = list(rows[0].keys())
    mapping = {h: _column(h) for h in headers}
    present = {c for c in mapping.values() if c}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise GridError(
            f"{source} : colonne(s) obligatoire(s) absente(s) : {', '.join(missing)}. Colonnes reconnues : {', '.join(GRID_COLUMNS)} "
            f"(trouvées : {', '.join(str(h) for h in headers)[:300]})."
        )
    notices = []
    unknown = [str(h) for h, c in mapping.items() if c is None and str(h or "").strip()]
    if unknown:
        notices.append(f"Colonnes ignorées : {', '.join(unknown)[:300]}.")
    has_seniority = any(c in SENIORITY_BRACKETS for c in present)
    if not has_seniority:
        notices.append("Pas de répartition par ancienneté dans la grille : la prime et le congé d'ancienneté ne sont pas chiffrés.")
    errors: list[str] = []
    categories: list[Category] = []
    seen: set[str] = set()
    for n, raw in enumerate(rows, start=2):  # line 1 is the header
        row = {mapping[h]: v for h, v in raw.items() if mapping.get(h)}
        if all(v in (None, "") for v in row.values()):
            continue
        name = str(row.get("categorie") or "").strip()
        where = f"ligne {n}" + (f" ({name[:40]})" if name else "")
        try:
            if not name:
                raise GridError(f"{where} : catégorie sans nom.")
            values = {c: parse_number(v, f"{where}, colonne {c}") for c, v in row.items() if c != "categorie"}
            headcount = values.get("effectif")
            if headcount is None:
                raise GridError(f"{where} : effectif manquant.")
            if headcount < 0:
                raise GridError(f"{where} : effectif négatif ({headcount:g}).")
            if headcount != int(headcount):
                raise GridError(f"{where} : effectif non entier ({headcount:g}).")
            wage = values.get("salaire_base_mensuel")
            if wage is None or wage <= 0:
                raise GridError(f"{where} : salaire de base mensuel manquant ou nul.")
            if wage > 1_000_000:
                raise GridError(f"{where} : salaire de base mensuel de {wage:g} MAD invraisemblable (un salaire mensuel est attendu).")
            for c in ("part_heures_nuit", "part_heures_dimanche", "part_teletravail", *SENIORITY_BRACKETS):
                v = values.get(c)
                if v is not None and not 0 <= v <= 100:
                    raise GridError(f"{where} : {c} = {v:g} % hors de 0 à 100 %.")
            for c in ("heures_sup_jour_an", "heures_sup_nuit_an", "heures_sup_repos_jour_an", "heures_sup_repos_nuit_an", "jours_feries_travailles_an", "heures_mensuelles"):
                v = values.get(c)
                if v is not None and v < 0:
                    raise GridError(f"{where} : {c} négatif ({v:g}).")
                if v is not None and c.endswith("_an") and v > (366 if c.startswith("jours") else 8784):
                    raise GridError(f"{where} : {c} = {v:g} par salarié et par an, plus que l'année n'en compte.")
            seniority = {c: (values.get(c) or 0.0) / 100 for c in SENIORITY_BRACKETS} if has_seniority else {}
            if has_seniority and headcount and abs(sum(seniority.values()) - 1) > 0.01:
                raise GridError(f"{where} : la répartition par ancienneté totalise {100 * sum(seniority.values()):g} % au lieu de 100 %.")
            if name.lower() in seen:
                notices.append(f"{where} : catégorie « {name[:40]} » en double ; les deux lignes sont comptées.")
            seen.add(name.lower())
            share = values.get("part_teletravail")
            categories.append(Category(
                name=name[:200], headcount=int(headcount), base_monthly=wage, seniority=seniority,
                night_share=(values.get("part_heures_nuit") or 0) / 100, sunday_share=(values.get("part_heures_dimanche") or 0) / 100,
                overtime_day_hours=values.get("heures_sup_jour_an") or 0.0, overtime_night_hours=values.get("heures_sup_nuit_an") or 0.0,
                overtime_rest_day_hours=values.get("heures_sup_repos_jour_an") or 0.0, overtime_rest_night_hours=values.get("heures_sup_repos_nuit_an") or 0.0,
                holidays_worked=values.get("jours_feries_travailles_an") or 0.0,
                hours_per_month=values.get("heures_mensuelles") or HOURS_PER_MONTH, telework_share=None if share is None else share / 100,
            ))
        except GridError as exc:
            errors.append(str(exc))
    if errors:
        more = f" (et {len(errors) - 20} autre(s))" if len(errors) > 20 else ""
        raise GridError(f"{source} : grille refusée, rien n'a été chiffré.\n- " + "\n- ".join(errors[:20]) + more)
    if not categories:
        raise GridError(f"{source} : aucune catégorie renseignée.")
    return categories, notices


def load_grid(path: Path, max_mb: float = 5.0) -> tuple[list[Category], list[str]]:
    """A grid from a CSV (``;`` or ``,`` separated, any usual encoding) or XLSX file; refused
    before reading when larger than ``max_mb``."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise GridError(f"{path.name} : fichier introuvable ou illisible ({exc.strerror}).") from exc
    if size > max_mb * 1024 * 1024:
        raise GridError(f"{path.name} : fichier de {size / 1048576:.1f} Mo ; une grille de salaires est limitée à {max_mb:g} Mo.")
    if size == 0:
        raise GridError(f"{path.name} : fichier vide.")
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        return read_grid_rows(_xlsx_rows(data, path.name), path.name)
    if suffix in {".csv", ".txt"}:
        return read_grid_rows(_csv_rows(data, path.name), path.name)
    raise GridError(f"{path.name} : format non pris en charge ({suffix or 'sans extension'}) : CSV ou XLSX.")


def _csv_rows(data: bytes, name: str) -> list[dict]:
    from rag.ingest import decode_text

    if data[:2] == b"PK":
        raise GridError(f"{name} : ce fichier est un classeur (zip), pas un CSV ; renommez-le en .xlsx.")
    text = decode_text(data).lstrip("\ufeff")
    if "\x00" in text:
        raise GridError(f"{name} : fichier binaire, pas un CSV.")
    first = text.split("\n", 1)[0]
    delimiter = max([";", ",", "\t"], key=first.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = []
        for row in reader:
            if None in row:  # more cells than headers
                raise GridError(f"{name}, ligne {reader.line_num} : plus de cellules que de colonnes (séparateur « {delimiter} » ; décimales à la virgule sans guillemets ?).")
            rows.append(row)
            if len(rows) > MAX_GRID_ROWS:
                break
        return rows
    except csv.Error as exc:
        raise GridError(f"{name} : CSV illisible ({exc}).") from exc


def _xlsx_rows(data: bytes, name: str) -> list[dict]:
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(i.file_size for i in archive.infolist()) > 200 * 1024 * 1024:
                raise GridError(f"{name} : classeur anormal (contenu décompressé démesuré).")
    except zipfile.BadZipFile as exc:
        raise GridError(f"{name} : classeur Excel illisible (ce n'est pas un fichier .xlsx valide).") from exc
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types on broken parts
        raise GridError(f"{name} : classeur Excel illisible ({type(exc).__name__}).") from exc
    sheet, raw_sheet = book.worksheets[0], formulas.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True, max_row=MAX_GRID_ROWS + 2))
    raw_rows = list(raw_sheet.iter_rows(values_only=True, max_row=MAX_GRID_ROWS + 2))
    book.close()
    formulas.close()
    if not rows:
        raise GridError(f"{name} : première feuille vide.")
    headers = [str(h).strip() if h is not None else "" for h in rows[0]]
    out = []
    for r, (values, raws) in enumerate(zip(rows[1:], raw_rows[1:]), start=2):
        row = {}
        for c, header in enumerate(headers):
            value = values[c] if c < len(values) else None
            raw = raws[c] if c < len(raws) else None
            if value is None and isinstance(raw, str) and raw.startswith("="):
                value = raw  # a formula never computed: parse_number says so
            row[header] = value
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------------
# demands of a clause


def _rule_value(rules: dict | None, rule_id: str, default: float) -> float:
    rule = (rules or {}).get(rule_id)
    return float(rule.value) if rule is not None else default


def demands_from_clause(clause, rules: dict | None = None) -> tuple[list[Demand], list[str]]:
    """The costable demands of a drafted clause (a :class:`rag.draft.Clause` or its JSON), from
    its template values, or from its demands' wording for clauses outside the library
    (« augmentation générale de 4 % par an », « prime exceptionnelle de 1 500 MAD »)."""
    from rag.draft import Clause

    clause = clause if isinstance(clause, Clause) else Clause.from_json(clause)
    v = {k: val for k, val in (clause.values or {}).items() if isinstance(val, (int, float)) and not isinstance(val, bool)}
    title, tid = clause.title, clause.template_id
    smig_hour = _rule_value(rules, "smig_2026_hourly", 17.92)
    out: list[Demand] = []
    notes: list[str] = []
    if tid == "salaire_minimum_conventionnel":
        monthly = v.get("salaire_mensuel_min") or (v["salaire_horaire_min"] * HOURS_PER_MONTH if "salaire_horaire_min" in v else None)
        if monthly:
            out.append(Demand(DemandKind.minimum_wage, "Salaire minimum conventionnel", float(monthly), round(smig_hour * HOURS_PER_MONTH, 2),
                              float(v.get("revalorisation_annuelle_min", 0.0)), title, "SMIG (Décret n° 2-25-983, art. 1) × 191 h"))
    elif tid == "prime_anciennete":
        bounds = {"taux_1_an": 1, "taux_2_ans": 2, "taux_5_ans": 5, "taux_12_ans": 12, "taux_20_ans": 20, "taux_25_ans": 25}
        rates = {bound: float(v[name]) for name, bound in bounds.items() if name in v}
        if rates:
            floor = {0: 0.0, 1: 0.0, 2: _rule_value(rules, "seniority_bonus_2y", 5), 5: _rule_value(rules, "seniority_bonus_5y", 10),
                     12: _rule_value(rules, "seniority_bonus_12y", 15), 20: _rule_value(rules, "seniority_bonus_20y", 20), 25: _rule_value(rules, "seniority_bonus_25y", 25)}
            out.append(Demand(DemandKind.seniority, "Prime d'ancienneté", rates, floor, 0.0, title, "C. trav. art. 350"))
    elif tid == "heures_supplementaires":
        names = {"day": "majoration_jour", "night": "majoration_nuit_hs", "rest_day": "majoration_repos", "rest_day_night": "majoration_repos_nuit"}
        rule_ids = {"day": "overtime_premium_day", "night": "overtime_premium_night", "rest_day": "overtime_premium_rest_day",
                    "rest_day_night": "overtime_premium_rest_day_night"}
        if any(name in v for name in names.values()):
            floor = {k: _rule_value(rules, rule_ids[k], STATUTORY_OVERTIME[k]) for k in names}
            # a rate the clause leaves out is the law's
            value = {k: float(v[name]) if name in v else floor[k] for k, name in names.items()}
            out.append(Demand(DemandKind.overtime_premium, "Majorations des heures supplémentaires", value, floor, 0.0, title,
                              "C. trav. art. 201 : 25 % de jour, 50 % de nuit ; 50 % et 100 % le jour du repos hebdomadaire"))
    elif tid == "travail_nuit_dimanche_feries":
        if "majoration_nuit" in v:
            out.append(Demand(DemandKind.night_premium, "Majoration des heures de nuit", float(v["majoration_nuit"]), 0.0, 0.0, title,
                              "aucune majoration légale des heures normales de nuit (seules les heures supplémentaires, art. 201)"))
        if "repos_compensateur_nuit" in v:
            out.append(Demand(DemandKind.night_rest, "Repos compensateur des heures de nuit", float(v["repos_compensateur_nuit"]), 0.0, 0.0, title,
                              "aucun repos compensateur légal des heures normales de nuit"))
        if "majoration_dimanche" in v:
            out.append(Demand(DemandKind.sunday_premium, "Majoration du dimanche travaillé", float(v["majoration_dimanche"]), 0.0, 0.0, title,
                              "aucune majoration légale chiffrée dans le corpus"))
        if "majoration_ferie" in v:
            out.append(Demand(DemandKind.holiday_premium, "Indemnité des jours fériés travaillés", float(v["majoration_ferie"]), STATUTORY_HOLIDAY_INDEMNITY,
                              0.0, title, "C. trav. art. 224 : indemnité égale au salaire de la journée (activité continue)"))
    elif tid == "conges_payes_fetes":
        base = 12 * float(v["conges_mensuels"]) if "conges_mensuels" in v else None
        law_base = 12 * _rule_value(rules, "paid_leave_accrual", 1.5)
        if base is not None:
            out.append(Demand(DemandKind.extra_leave, "Congé annuel payé (jours par an)", base, law_base, 0.0, title, "C. trav. art. 231 : 1,5 jour par mois"))
        if "majoration_anciennete_conges" in v:
            law = {"base": law_base, "per_period": _rule_value(rules, "paid_leave_seniority_increase", STATUTORY_LEAVE["per_period"]),
                   "period_years": STATUTORY_LEAVE["period_years"], "cap": _rule_value(rules, "paid_leave_seniority_cap", STATUTORY_LEAVE["cap"])}
            demanded = {"base": base if base is not None else law_base, "per_period": float(v["majoration_anciennete_conges"]),
                        "period_years": STATUTORY_LEAVE["period_years"], "cap": float(v.get("plafond_conges", law["cap"]))}
            out.append(Demand(DemandKind.seniority_leave, "Congé supplémentaire d'ancienneté (jours par an)", demanded, law, 0.0, title,
                              "C. trav. art. 232 : 1,5 jour par période de 5 ans, 30 jours au plus"))
    elif tid == "teletravail":
        if "indemnite_teletravail" in v:
            out.append(Demand(DemandKind.allowance, "Indemnité mensuelle de télétravail", float(v["indemnite_teletravail"]), 0.0, 0.0, title,
                              "aucune indemnité légale"))
    for text in clause.demands or []:
        low = text.lower()
        percent = re.search(r"(\d+(?:[.,]\d+)?)\s*%", low)
        amount = re.search(r"(\d[\d\s\u202f\u00a0]*(?:[.,]\d+)?)\s*(?:mad|dh|dirhams?)", low)
        if re.search(r"augmentation|hausse|revalorisation", low) and percent and not tid:
            out.append(Demand(DemandKind.general_increase, f"Augmentation générale de {percent.group(1)} % par an", float(percent.group(1).replace(",", ".")),
                              0.0, 0.0, title, "aucune obligation légale d'augmentation"))
        elif re.search(r"prime (?:exceptionnelle|unique|ponctuelle)|prime de signature", low) and amount:
            value = float(re.sub(r"[\s\u202f\u00a0]", "", amount.group(1)).replace(",", "."))
            out.append(Demand(DemandKind.one_off_bonus, f"Prime exceptionnelle de {value:g} MAD (une fois)", value, 0.0, 0.0, title, "—"))
        elif re.search(r"indemnit|prime (?:de )?(?:transport|panier|repas)", low) and amount and not tid:
            value = float(re.sub(r"[\s\u202f\u00a0]", "", amount.group(1)).replace(",", "."))
            out.append(Demand(DemandKind.allowance, text.strip()[:80], value, 0.0, 0.0, title, "aucune indemnité légale"))
    if not out:
        notes.append(f"« {title} » : rien de chiffrable (pas de salaire, de prime, de majoration, de congé ni d'indemnité).")
    return out, notes


# ------------------------------------------------------------------------------------------------
# the computation


def _seniority_rate(rates: dict, lower_bound: int) -> float:
    """The rate due at a bracket's lower bound: the highest threshold reached."""
    reached = [t for t in rates if t <= lower_bound]
    return float(rates[max(reached)]) if reached else 0.0


def seniority_leave_days(terms: dict, years_of_service: int) -> float:
    """Leave days added for seniority: ``per_period`` days per whole period of ``period_years``
    years of service, the whole leave (``base`` + these days) kept within ``cap``. A bracket is
    counted at its lower bound (5 to 12 years: one period), so the cost is never overstated."""
    periods = int(years_of_service // max(1, int(terms.get("period_years", 5))))
    extra = periods * float(terms.get("per_period", 0.0))
    room = float(terms.get("cap", math.inf)) - float(terms.get("base", 0.0))
    return max(0.0, min(extra, room))


def _demand_cost(d: Demand, value, grid: list[Category], wages: list[float], year: int, notices: list[str]) -> float:
    """Annual cost of one demand at ``value`` in year ``year`` (0-based), wages of that year given."""
    total = 0.0
    if d.kind == DemandKind.general_increase:  # costed in cost_demands (several increases share the compounding)
        return 0.0
    if d.kind == DemandKind.one_off_bonus:
        return sum(c.headcount for c in grid) * float(value) if year == 0 else 0.0
    for c, wage in zip(grid, wages):
        if not c.headcount:
            continue
        annual = wage * 12
        if d.kind == DemandKind.minimum_wage:
            minimum = float(value) * (1 + d.annual_increase / 100) ** year if value is not None else 0.0
            total += c.headcount * 12 * max(0.0, minimum - wage)
        elif d.kind == DemandKind.seniority:
            if c.seniority:
                rate = sum(share * _seniority_rate(value, SENIORITY_BRACKETS[b][0]) for b, share in c.seniority.items())
                total += c.headcount * annual * rate / 100
        elif d.kind == DemandKind.night_premium:
            total += c.headcount * annual * c.night_share * float(value) / 100
        elif d.kind == DemandKind.sunday_premium:
            total += c.headcount * annual * c.sunday_share * float(value) / 100
        elif d.kind == DemandKind.night_rest:
            # paid rest worth ``value`` % of the night hours: as many hours paid and not worked
            total += c.headcount * annual * c.night_share * float(value) / 100
        elif d.kind == DemandKind.overtime_premium:
            hourly = wage / c.hours_per_month
            total += c.headcount * hourly * sum(getattr(c, attr) * float(value.get(key, 0)) for key, attr in OVERTIME_HOURS.items()) / 100
        elif d.kind == DemandKind.holiday_premium:
            total += c.headcount * c.holidays_worked * wage / WORKING_DAYS_PER_MONTH * float(value) / 100
        elif d.kind == DemandKind.extra_leave:
            total += c.headcount * float(value) * wage / WORKING_DAYS_PER_MONTH
        elif d.kind == DemandKind.seniority_leave:
            if c.seniority:
                days = sum(share * seniority_leave_days(value, SENIORITY_BRACKETS[b][0]) for b, share in c.seniority.items())
                total += c.headcount * days * wage / WORKING_DAYS_PER_MONTH
        elif d.kind == DemandKind.allowance:
            amount = float(value) * (1 + d.annual_increase / 100) ** year
            share = c.telework_share if (c.telework_share is not None and "télétravail" in d.label.lower()) else 1.0
            total += c.headcount * share * amount * 12
    return total


def cost_demands(grid: list[Category], demands: list[Demand], years: int = 3, contribution_rate: float = 0.0,
                 notices: list[str] | None = None, contribution_source: str = "") -> Costing:
    """Cost every demand for each of ``years`` years; see the module docstring for the rules.
    Several general increases compound with each other (2 % and 3 % make 5,06 %, not 5 %)."""
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"Durée de l'accord : de 1 à {MAX_YEARS} ans.")
    if isinstance(contribution_rate, bool) or not isinstance(contribution_rate, (int, float)) or not 0 <= contribution_rate <= 1:
        raise ValueError(f"Taux de charges patronales « {contribution_rate} » : un nombre entre 0 et 1 est attendu (0,21 pour 21 %).")
    notices = list(notices or [])
    wage_bill = sum(c.headcount * c.base_monthly * 12 for c in grid)
    headcount = sum(c.headcount for c in grid)
    growth = math.prod(1 + float(d.value) / 100 for d in demands if d.kind == DemandKind.general_increase)
    wages_by_year = [[c.base_monthly * growth ** (y + 1) for c in grid] for y in range(years)]
    base_wages = [c.base_monthly for c in grid]
    factor = 1 + contribution_rate
    # each general increase costs what it adds on top of the ones before it (so that with 2 % then 3 %
    # the two lines add up to the compounded 5,06 %, not to 2 × the whole increase)
    steps: dict[int, tuple[float, float]] = {}
    before = 1.0
    for d in demands:
        if d.kind == DemandKind.general_increase:
            steps[id(d)] = (before, before * (1 + float(d.value) / 100))
            before = steps[id(d)][1]
    lines = []
    for d in demands:
        amounts, floors = [], []
        for y in range(years):
            if d.kind == DemandKind.general_increase:
                low, high = steps[id(d)]
                amounts.append(factor * sum(c.headcount * 12 * c.base_monthly * (high ** (y + 1) - low ** (y + 1)) for c in grid))
                floors.append(0.0)
                continue
            # the floor is costed on today's wages: the law does not move with the demanded increase
            amounts.append(factor * _demand_cost(d, d.value, grid, wages_by_year[y], y, notices))
            if d.kind in (DemandKind.general_increase, DemandKind.one_off_bonus) or d.floor is None:
                floors.append(0.0)
                continue
            # the law alone, on today's wages: no demanded increase, no revaluation of the SMIG assumed
            floors.append(factor * _demand_cost(Demand(d.kind, d.label, d.floor, None, 0.0), d.floor, grid, base_wages, y, notices))
        shares = [100 * a / wage_bill if wage_bill else 0.0 for a in amounts]
        lines.append(CostLine(d.label, str(d.kind), d.clause, amounts, floors, shares, d.floor_reference))
        if d.kind == DemandKind.overtime_premium:
            columns = {"day": "heures_sup_jour_an", "night": "heures_sup_nuit_an", "rest_day": "heures_sup_repos_jour_an", "rest_day_night": "heures_sup_repos_nuit_an"}
            missing = [columns[k] for k, attr in OVERTIME_HOURS.items() if k in d.value and not any(getattr(c, attr) for c in grid)]
            if missing:
                notices.append(f"La grille ne donne pas ces heures supplémentaires ({', '.join(missing)}) : leurs majorations valent 0.")
        if d.kind == DemandKind.holiday_premium and not any(c.holidays_worked for c in grid):
            notices.append(f"La grille ne donne pas de jours fériés travaillés (jours_feries_travailles_an) : « {d.label} » vaut 0.")
        if d.kind in (DemandKind.seniority, DemandKind.seniority_leave) and not any(c.seniority for c in grid):
            notices.append(f"La grille ne donne pas de répartition par ancienneté (anc_…) : « {d.label} » vaut 0.")
        if d.kind in (DemandKind.night_premium, DemandKind.night_rest, DemandKind.sunday_premium) and not any(c.sunday_share if d.kind == DemandKind.sunday_premium else c.night_share for c in grid):
            notices.append(f"La grille ne donne pas de part d'heures {'du dimanche' if d.kind == DemandKind.sunday_premium else 'de nuit'} : « {d.label} » vaut 0.")
    notices.append(contribution_notice(contribution_rate, contribution_source))
    return Costing(years, wage_bill, headcount, lines, contribution_rate, list(dict.fromkeys(notices)), " ".join((contribution_source or "").split())[:300])


def contribution_notice(rate: float, source: str = "") -> str:
    """What the costing says about employer social contributions: none counted (rate 0), or the
    rate with the source the negotiators gave for it, or a warning that they gave none."""
    source = " ".join((source or "").split())[:300]
    if rate == 0:
        return ("Charges patronales non comptées (taux à 0 : aucun taux n'est documenté dans le corpus) ; réglez RAG_EMPLOYER_CONTRIBUTION_RATE "
                "(et RAG_EMPLOYER_CONTRIBUTION_SOURCE, le texte qui le fixe) pour les inclure.")
    percent = f"{100 * rate:.2f}".rstrip("0").rstrip(".").replace(".", ",")
    if source:
        return f"Charges patronales comptées à {percent} % (réglage employer_contribution_rate ; source : {source})."
    return (f"Charges patronales comptées à {percent} % (réglage employer_contribution_rate) sans source indiquée : "
            "vérifiez ce taux et nommez le texte qui le fixe dans RAG_EMPLOYER_CONTRIBUTION_SOURCE.")


# ------------------------------------------------------------------------------------------------
# exports


def costing_rows(costing: Costing) -> list[list]:
    """The costing table: one row per demand and year (plus totals), numbers unrounded."""
    rows = [["demande", "clause", "annee", "cout_mad", "part_masse_salariale_pct", "cout_minimum_legal_mad", "surcout_mad", "reference_legale"]]
    for line in costing.lines:
        for y in range(costing.years):
            rows.append([line.label, line.clause, y + 1, round(line.years[y], 2), round(line.shares[y], 4), round(line.floor_years[y], 2),
                         round(line.years[y] - line.floor_years[y], 2), line.floor_reference])
    for y in range(costing.years):
        rows.append(["TOTAL", "", y + 1, round(costing.totals[y], 2), round(costing.total_shares[y], 4), round(costing.floor_totals[y], 2),
                     round(costing.totals[y] - costing.floor_totals[y], 2), ""])
    return rows


def costing_csv(costing: Costing) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows(costing_rows(costing))
    writer.writerow([])
    writer.writerow(["masse_salariale_reference_mad", round(costing.wage_bill, 2)])
    for notice in costing.notices:
        writer.writerow(["note", notice])
    return buffer.getvalue()


def costing_xlsx(costing: Costing) -> bytes:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Chiffrage"
    for row in costing_rows(costing):
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([])
    sheet.append(["Masse salariale de référence (MAD/an)", round(costing.wage_bill, 2)])
    sheet.append(["Effectif", costing.headcount])
    notes = book.create_sheet("Notes")
    for notice in costing.notices:
        notes.append([notice])
    for column, width in zip("ABCDEFGH", (40, 30, 8, 16, 14, 18, 16, 50)):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def fr_amount(value: float) -> str:
    return f"{value:,.0f}".replace(",", "\u202f")


def add_costing_annex(document, costing: Costing) -> None:
    """Append the costing as an annex (heading, table, notes) to a python-docx Document."""
    document.add_heading("Annexe — Chiffrage des revendications", level=1)
    document.add_paragraph(f"Masse salariale de référence : {fr_amount(costing.wage_bill)} MAD par an, {costing.headcount} salariés.")
    table = document.add_table(rows=1, cols=2 + 2 * costing.years)
    header = table.rows[0].cells
    header[0].text = "Revendication"
    for y in range(costing.years):
        header[1 + 2 * y].text = f"Année {y + 1} (MAD)"
        header[2 + 2 * y].text = f"Année {y + 1} (% masse)"
    header[-1].text = "Minimum légal, total (MAD)"
    for line in costing.lines:
        cells = table.add_row().cells
        cells[0].text = line.label
        for y in range(costing.years):
            cells[1 + 2 * y].text = fr_amount(line.years[y])
            cells[2 + 2 * y].text = f"{line.shares[y]:.2f} %".replace(".", ",")
        cells[-1].text = fr_amount(line.floor_total)
    cells = table.add_row().cells
    cells[0].text = "Total"
    for y in range(costing.years):
        cells[1 + 2 * y].text = fr_amount(costing.totals[y])
        cells[2 + 2 * y].text = f"{costing.total_shares[y]:.2f} %".replace(".", ",")
    cells[-1].text = fr_amount(sum(costing.floor_totals))
    for notice in costing.notices:
        document.add_paragraph(notice, style="List Bullet")


def costing_docx(costing: Costing, agreement_docx_bytes: bytes | None = None) -> bytes:
    """The costing annex alone, or appended to an agreement DOCX (``rag.export.agreement_docx``)."""
    import docx

    document = docx.Document(io.BytesIO(agreement_docx_bytes)) if agreement_docx_bytes else docx.Document()
    add_costing_annex(document, costing)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()

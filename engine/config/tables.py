"""Reference tables shipped as package data, and CSV tables given by scenarios.

Every table is an array over ``(sex, age)`` with sex 0 = female, 1 = male and integer ages
``0..MAX_AGE``; ages a table does not cover are NaN. Each built-in table keeps its source
lines (the ``#`` header of its file in ``engine/data``); :func:`table_source` returns them so
that results can carry them.

Built-in tables
---------------
Incidence (rate per 100,000 person-years, all cancers but non-melanoma skin unless stated):

``ci5plus_china_pooled_2008_2012``
    IARC CI5plus, four mainland registries pooled (Shanghai, Harbin, Zhongshan, Jiashan),
    2008–2012, crude age-specific rates in 5-year bands (step function within a band).
``industry_ci25_insured_2006_2010``
    Insured-lives incidence of 25 critical illnesses (not only cancer) from one unverified
    secondary copy of the industry table; an annual probability ``q`` read as the rate
    ``-ln(1 - q) * 100000``. Low-medium confidence; with it set ``cancer_share_of_claims``
    to the share of claims the 25 illnesses make (1.0 when they are all that is covered).

Mortality:

``cl2010_2013_nonpension_1`` (CL1/CL2), ``cl2010_2013_nonpension_2`` (CL3/CL4),
``cl2010_2013_pension`` (CL5/CL6)
    China Life Insurance Mortality Table CL(2010–2013), annual ``qx`` of insured lives.
``wpp2024_china_2010_2015``, ``wpp2024_china_2015_2020``, ``wpp2024_china_2020_2025``
    UN WPP 2024 central death rates ``mx`` of the general population, 5-year bands.

Age–sex mixes (shares summing to 1 over ages 0..MAX_AGE):

``cnnic2020_internet_users``
    Internet users by age and sex, derived in :func:`internet_user_mix`.
``wpp2020_population``
    China's population in 2020 (UN WPP 2019), split uniformly within 5-year bands.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from engine.config.labels import parse_age_band
from engine.errors import Problem, TableError, read_user_file

MAX_AGE = 110
N_AGES = MAX_AGE + 1
SEXES = ("female", "male")


# --------------------------------------------------------------------------- CSV reading

@dataclass(frozen=True)
class CsvTable:
    """A CSV file's comment header, column names and rows (each with its line number)."""

    path: str
    comments: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[int, dict[str, str]], ...]


def read_csv(path: str | Path, required: tuple[str, ...] = ()) -> CsvTable:
    """Read a CSV whose ``#`` lines are comments; check the required columns exist.

    Raises
    ------
    TableError
        When the file is missing or unreadable, has no header, lacks a required column or
        has a row with the wrong number of fields; the message names the file and row.
    """
    label = str(path)
    text = read_user_file(path, TableError, "table file", "cannot read table",
                          encoding="utf-8-sig")
    comments: list[str] = []
    lines: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#"):
            comments.append(line[1:].strip())
        elif line.strip():
            lines.append((number, line))
    if not lines:
        raise TableError.one(label, "", "table has no header row", has_got=False)
    header_line, header = lines[0]
    columns = tuple(c.strip() for c in next(csv.reader([header])))
    missing = [c for c in required if c not in columns]
    if missing:
        raise TableError.one(
            label, f"row {header_line}", f"missing column(s) {', '.join(missing)}",
            ",".join(columns))
    rows = []
    for number, line in lines[1:]:
        fields = next(csv.reader([line]))
        if len(fields) != len(columns):
            raise TableError.one(
                label, f"row {number}", f"expected {len(columns)} fields", len(fields))
        rows.append((number, {c: f.strip() for c, f in zip(columns, fields, strict=True)}))
    return CsvTable(label, tuple(comments), columns, tuple(rows))


def read_age_sex_table(path: str | Path, value_column: str, *, lo: float = 0.0,
                       hi: float = math.inf) -> np.ndarray:
    """Read an ``age,sex,VALUE`` CSV into an array over ``(sex, age)``, NaN where absent.

    ``age`` is an integer or a band ``lo-hi`` / ``85+``; a band's value applies to each of
    its ages. Values must lie in ``[lo, hi]``.

    Raises
    ------
    TableError
        Naming file and row for a bad sex, age, number, out-of-range value or an age given
        twice for the same sex.
    """
    table = read_csv(path, ("age", "sex", value_column))
    out = np.full((2, N_AGES), np.nan)
    problems: list[Problem] = []
    for number, row in table.rows:
        where = f"row {number}"
        sex = row["sex"].lower()
        if sex not in SEXES:
            problems.append(Problem(table.path, where, "sex must be female or male", row["sex"]))
            continue
        try:
            a0, a1 = parse_age_band(row["age"], open_top=MAX_AGE)
        except ValueError:
            problems.append(Problem(table.path, where, "age must be like 42, 40-44 or 85+",
                                    row["age"]))
            continue
        if a1 > MAX_AGE:
            problems.append(Problem(table.path, where, f"age above {MAX_AGE}", row["age"]))
            continue
        try:
            value = float(row[value_column])
        except ValueError:
            problems.append(Problem(table.path, where, f"{value_column} is not a number",
                                    row[value_column]))
            continue
        if not (lo <= value <= hi) or math.isnan(value):
            bound = f"[{lo:g}, {hi:g}]" if math.isfinite(hi) else f"≥ {lo:g}"
            problems.append(Problem(table.path, where, f"{value_column} must be {bound}", value))
            continue
        s = SEXES.index(sex)
        if not np.all(np.isnan(out[s, a0:a1 + 1])):
            problems.append(Problem(table.path, where,
                                    f"age {row['age']} for {sex} overlaps an earlier row",
                                    row["age"]))
            continue
        out[s, a0:a1 + 1] = value
    if problems:
        raise TableError(problems)
    return out


# ------------------------------------------------------------------------ package data

def data_path(name: str) -> Path:
    """Path of a file in ``engine/data``."""
    return Path(str(resources.files("engine") / "data" / name))


@cache
def _read_data(name: str) -> CsvTable:
    return read_csv(data_path(name))


def data_table(name: str) -> CsvTable:
    """A built-in data file (``engine/data/NAME``), read once."""
    return _read_data(name)


def table_source(name: str) -> str:
    """The source lines of a built-in data file, joined by newlines."""
    return "\n".join(_read_data(name).comments)


INCIDENCE_TABLES = {
    "ci5plus_china_pooled_2008_2012": "incidence_ci5plus_china_pooled_2008_2012.csv",
    "industry_ci25_insured_2006_2010": "critical_illness_incidence_industry_25_diseases.csv",
}
_CL_COLUMNS = {
    "cl2010_2013_nonpension_1": ("CL2_female_nonpension_I", "CL1_male_nonpension_I"),
    "cl2010_2013_nonpension_2": ("CL4_female_nonpension_II", "CL3_male_nonpension_II"),
    "cl2010_2013_pension": ("CL6_female_pension", "CL5_male_pension"),
}
_WPP_PERIODS = {
    "wpp2024_china_2010_2015": "2010-2015",
    "wpp2024_china_2015_2020": "2015-2020",
    "wpp2024_china_2020_2025": "2020-2025",
}
MORTALITY_TABLES = {
    **{k: "mortality_cl_2010_2013.csv" for k in _CL_COLUMNS},
    **{k: "mortality_china_wpp2024_mx_abridged.csv" for k in _WPP_PERIODS},
}
MIX_TABLES = {
    "cnnic2020_internet_users": "internet_users_age_structure_cnnic.csv",
    "wpp2020_population": "population_china_wpp2019_by_age_sex.csv",
}
# The built-in tables each table key of the schema (engine.config.schema.TABLE_KEYS) may name
BUILTIN_TABLES = {
    "incidence.table": INCIDENCE_TABLES,
    "mortality.table": MORTALITY_TABLES,
    "population.initial_age_mix": MIX_TABLES,
    "growth.joiner_age_mix": MIX_TABLES,
}
BUILTIN_NAMES = frozenset(name for names in BUILTIN_TABLES.values() for name in names)


def _band_array(table: CsvTable, value_of, select) -> np.ndarray:
    """Spread 5-year-band rows (``age_group`` like 40-44, 85+, 100+) over single ages."""
    out = np.full((2, N_AGES), np.nan)
    for _, row in table.rows:
        if not select(row):
            continue
        a0, a1 = parse_age_band(row["age_group"], open_top=MAX_AGE)
        out[SEXES.index(row["sex"]), a0:a1 + 1] = value_of(row, a1 - a0 + 1)
    return out


@cache
def builtin_incidence_per_100k(name: str) -> np.ndarray:
    """A built-in incidence table as rates per 100,000 person-years over ``(sex, age)``."""
    if name == "ci5plus_china_pooled_2008_2012":
        return read_age_sex_table(data_path(INCIDENCE_TABLES[name]), "rate_per_100k", lo=0.0)
    if name == "industry_ci25_insured_2006_2010":
        table = _read_data(INCIDENCE_TABLES[name])
        out = np.full((2, N_AGES), np.nan)
        for _, row in table.rows:
            age = int(row["age"])
            for s, col in enumerate(("ci_incidence_female", "ci_incidence_male")):
                # An annual probability q read as a constant rate: r = -ln(1 - q) per year.
                out[s, age] = -math.log1p(-float(row[col])) * 100_000.0
        return out
    raise KeyError(name)


@cache
def builtin_mortality(name: str) -> tuple[str, np.ndarray]:
    """A built-in mortality table: ``("qx", annual probabilities)`` or ``("mx", rates)``."""
    if name in _CL_COLUMNS:
        table = _read_data(MORTALITY_TABLES[name])
        out = np.full((2, N_AGES), np.nan)
        for _, row in table.rows:
            age = int(row["age"])
            for s, col in enumerate(_CL_COLUMNS[name]):
                out[s, age] = float(row[col])
        return "qx", out
    if name in _WPP_PERIODS:
        period = _WPP_PERIODS[name]
        table = _read_data(MORTALITY_TABLES[name])
        # WPP's first two groups are "0" and "1-4"; later ones are 5-year bands.
        mx = _band_array(table, lambda r, _w: float(r["mx"]), lambda r: r["period"] == period)
        return "mx", mx
    raise KeyError(name)


@cache
def wpp_population(year: int) -> np.ndarray:
    """China's population (persons) over ``(sex, age)`` in ``year`` (2010, 2015 or 2020).

    UN WPP 2019 gives 5-year bands; each band's count is split equally among its ages
    (the open band 100+ over ages 100..MAX_AGE).
    """
    table = _read_data(MIX_TABLES["wpp2020_population"])
    return _band_array(table, lambda r, width: float(r["population_thousands"]) * 1000 / width,
                       lambda r: int(r["year"]) == year)


def internet_user_mix() -> np.ndarray:
    """Age–sex mix of China's internet users, December 2020.

    Notes
    -----
    Derivation (documented in README, "Reference tables"):

    1. CNNIC's 47th report (Dec 2020) gives the shares of internet users aged 20–29 (17.8 %),
       30–39 (20.5 %), 40–49 (18.8 %), 50+ (26.3 %), 60+ (11.2 %) and under 40 (54.9 %).
       Hence under 20 = 54.9 − 17.8 − 20.5 = 16.6 % and 50–59 = 26.3 − 11.2 = 15.1 %; the six
       groups sum to 100 %.
    2. Within each group, users are spread over single ages and sexes in proportion to
       China's 2020 population (UN WPP 2019, uniform within 5-year bands). This assumes
       internet use does not vary by age within a group nor by sex; the CNNIC summaries
       quoted publicly do not give sex by age.

    Returns shares over ``(sex, age)`` summing to 1.
    """
    table = _read_data(MIX_TABLES["cnnic2020_internet_users"])
    share = {r["age_group"]: float(r["share_pct"]) for _, r in table.rows
             if r["as_of"] == "2020-12"}
    groups = {
        (0, 19): share["under 40"] - share["20-29"] - share["30-39"],
        (20, 29): share["20-29"],
        (30, 39): share["30-39"],
        (40, 49): share["40-49"],
        (50, 59): share["50+"] - share["60+"],
        (60, MAX_AGE): share["60+"],
    }
    population = np.nan_to_num(wpp_population(2020))
    mix = np.zeros((2, N_AGES))
    for (a0, a1), pct in groups.items():
        block = population[:, a0:a1 + 1]
        mix[:, a0:a1 + 1] = pct / 100.0 * block / block.sum()
    return mix / mix.sum()


@cache
def builtin_mix(name: str) -> np.ndarray:
    """A built-in age–sex mix over ``(sex, age)``, summing to 1."""
    if name == "cnnic2020_internet_users":
        return internet_user_mix()
    if name == "wpp2020_population":
        population = np.nan_to_num(wpp_population(2020))
        return population / population.sum()
    raise KeyError(name)


@cache
def ncc_crude_incidence_per_100k(year: int) -> tuple[float, float] | None:
    """NCC's national crude cancer incidence (female, male) per 100,000 in ``year``, if any."""
    table = _read_data("ncc_national_crude_incidence.csv")
    found = {r["sex"]: float(r["rate_per_100k"]) for _, r in table.rows if int(r["year"]) == year}
    if set(found) != set(SEXES):
        return None
    return found["female"], found["male"]


def ncc_years() -> list[int]:
    """Years with a national crude incidence for both sexes."""
    table = _read_data("ncc_national_crude_incidence.csv")
    years = sorted({int(r["year"]) for _, r in table.rows})
    return [y for y in years if ncc_crude_incidence_per_100k(y) is not None]


def national_level_factors(rate_per_100k: np.ndarray, year: int) -> np.ndarray:
    """Factors by sex that rescale an incidence table to NCC's national crude rate of ``year``.

    Notes
    -----
    For sex ``s`` the factor is ``k_s = R_s / Σ_a r[s, a] w[s, a]`` where ``R_s`` is NCC's
    crude rate and ``w`` the national population shares by age within sex (UN WPP 2019 in
    the WPP year nearest ``year``, of 2010, 2015 and 2020). The table's age shape is kept;
    only its level changes (the registries are urban and older than the nation).
    """
    crude = ncc_crude_incidence_per_100k(year)
    if crude is None:
        raise KeyError(year)
    wpp_year = min((2010, 2015, 2020), key=lambda y: abs(y - year))
    population = np.nan_to_num(wpp_population(wpp_year))
    factors = np.empty(2)
    for s in range(2):
        w = population[s] / population[s].sum()
        table_crude = float(np.nansum(rate_per_100k[s] * w))
        factors[s] = crude[s] / table_crude
    return factors


@cache
def health_premiums_yuan() -> dict[int, float]:
    """China's commercial health-insurance premiums by year, yuan
    (china_health_insurance_premiums.csv; years without a public figure are absent)."""
    table = _read_data("china_health_insurance_premiums.csv")
    return {int(row["year"]): float(row["premium_billion_yuan"]) * 1e9
            for _, row in table.rows}


def premiums_with(by_year: dict | None) -> dict[int, float]:
    """The shipped premiums (:func:`health_premiums_yuan`) with a scenario's
    ``market.health_premium_by_year`` (year → yuan) on top: the series a run uses."""
    out = dict(health_premiums_yuan())
    out.update({int(y): float(v) for y, v in (by_year or {}).items()})
    return out

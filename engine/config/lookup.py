"""A scenario's table references → arrays by sex and age, with every problem reported.

A table key (:data:`engine.config.schema.TABLE_KEYS`) names a built-in table
(:data:`engine.config.tables.BUILTIN_TABLES`) or an ``age,sex,VALUE`` CSV file, relative to
the scenario file's folder. :func:`scenario_tables` reads the four tables a scenario names
over its ages, ``age_min..age_max``, as the model takes them (the model converts the
mortality measure to a quarterly probability, :mod:`engine.model.units`);
:func:`age_mix_share` gives a plan's part of an age mix. A table that is missing, malformed,
does not cover the ages or that a multiplier pushes past a probability of 1 is a problem
naming the key: the checks of :mod:`engine.config.scenario` read the tables through here, so
that a scenario that validates runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import tables
from engine.errors import Problems, ScenarioError, TableError


@dataclass(frozen=True)
class ScenarioTables:
    """The tables a scenario names, by sex (female, male) and age ``age_min..age_max``.

    Shapes ``(2, ages)``. ``incidence_per_100k`` is after ``national_level_year`` (before
    ``cancer_share_of_claims``, the group multipliers, selection and trend);
    ``death_per_year`` after ``mortality.multiplier``, an annual probability when
    ``death_measure`` is ``"qx"`` and a central rate when it is ``"mx"``; the mixes are
    shares summing to 1, after ``female_share``.
    """

    incidence_per_100k: np.ndarray
    death_measure: str
    death_per_year: np.ndarray
    initial_age_mix: np.ndarray
    joiner_age_mix: np.ndarray


def scenario_tables(scenario) -> ScenarioTables:
    """Read the tables a validated scenario names over its ages.

    Raises
    ------
    ScenarioError
        With every problem of the four tables: one is missing or malformed, does not cover
        the scenario's ages, ``mortality.multiplier`` makes an annual death probability
        exceed 1, or a mix has no members to share out.
    """
    problems = Problems(scenario.file)
    pop = scenario.population
    ages = np.arange(pop.age_min, pop.age_max + 1)
    incidence = _incidence(scenario, problems, ages)
    measure, death = _mortality(scenario, problems, ages)
    initial = _mix(scenario, "population.initial_age_mix", pop.initial_age_mix, problems, ages)
    joiner = _mix(scenario, "growth.joiner_age_mix", scenario.growth.joiner_age_mix, problems,
                  ages)
    if problems:
        raise ScenarioError(problems.items)
    return ScenarioTables(incidence, measure, death, initial, joiner)


def resolve_table(key: str, ref: str, base_dir: Path, problems: Problems):
    """``("builtin", name)`` or ``("csv", path)`` of the table ``key`` names; ``(None,
    None)`` after recording a problem when it is neither a built-in name nor a CSV file."""
    builtins = tables.BUILTIN_TABLES[key]
    if ref in builtins:
        return "builtin", ref
    path = Path(ref)
    if not path.is_absolute():
        path = base_dir / path
    if path.suffix.lower() != ".csv" or not path.is_file():
        problems.add(key, f"not a built-in table ({', '.join(builtins)}) nor an existing "
                     "CSV file", ref)
        return None, None
    return "csv", path


def age_mix_share(scenario, key: str, ref: str, lo: int, hi: int) -> float:
    """``Σ_{a=lo..hi} π(a) / Σ_{a=age_min..age_max} π(a)``: a plan's part of the platform's
    age mix ``key`` (exactly 1.0 for the platform's own ages); 0 when the mix is empty or
    cannot be read (the platform's validation reports that)."""
    age_min, age_max = scenario.population.age_min, scenario.population.age_max
    ages = np.arange(min(lo, age_min), max(hi, age_max) + 1)
    mix = _mix(scenario, key, ref, Problems(scenario.file), ages).sum(axis=0)
    plan = mix[(ages >= lo) & (ages <= hi)].sum()
    platform = mix[(ages >= age_min) & (ages <= age_max)].sum()
    return float(plan / platform) if platform > 0 else 0.0


def _cover_problem(problems: Problems, key: str, ref: str, values: np.ndarray, ages) -> bool:
    missing = np.isnan(values[:, ages])
    if missing.any():
        s, i = np.argwhere(missing)[0]
        problems.add(key, f"table does not cover age {ages[i]} for {tables.SEXES[s]}", ref)
        return True
    return False


def _load(loader, problems: Problems) -> np.ndarray | None:
    try:
        return loader()
    except TableError as exc:
        problems.extend(exc.problems)
        return None


def _table_values(scenario, key: str, ref: str, from_builtin, column: str,
                  problems: Problems, hi: float = np.inf):
    """``(measure, values (2, ages))`` of a built-in table (``from_builtin(name)`` gives
    both) or of an ``age,sex,COLUMN`` CSV (measure ``column``, values in ``[0, hi]``);
    ``(None, None)`` after recording a problem."""
    kind, resolved = resolve_table(key, ref, scenario.base_dir, problems)
    if kind is None:
        return None, None
    if kind == "builtin":
        return from_builtin(resolved)
    values = _load(lambda: tables.read_age_sex_table(resolved, column, lo=0.0, hi=hi), problems)
    return column, values


def _incidence(scenario, problems: Problems, ages) -> np.ndarray:
    inc = scenario.incidence
    _, rates = _table_values(scenario, "incidence.table", inc.table,
                             lambda name: ("rate_per_100k",
                                           tables.builtin_incidence_per_100k(name)),
                             "rate_per_100k", problems)
    if rates is None:
        return np.zeros((2, len(ages)))
    if inc.national_level_year is not None:
        rates = rates * tables.national_level_factors(rates, inc.national_level_year)[:, None]
    if _cover_problem(problems, "incidence.table", inc.table, rates, ages):
        return np.zeros((2, len(ages)))
    return rates[:, ages]


def _mortality(scenario, problems: Problems, ages) -> tuple[str, np.ndarray]:
    """``(measure, values)``: ``"qx"`` annual probabilities or ``"mx"`` central rates,
    times ``mortality.multiplier``; a probability pushed past 1 is a problem."""
    mort = scenario.mortality
    measure, values = _table_values(scenario, "mortality.table", mort.table,
                                    tables.builtin_mortality, "qx", problems, hi=1.0)
    if values is None or _cover_problem(problems, "mortality.table", mort.table, values, ages):
        return "qx", np.zeros((2, len(ages)))
    values = values[:, ages] * mort.multiplier
    if measure == "qx":
        over = values > 1.0
        if over.any():
            s, i = np.argwhere(over)[0]
            problems.add("mortality.multiplier", "makes the annual death probability exceed 1 "
                         f"at age {ages[i]} ({tables.SEXES[s]})", mort.multiplier)
            return "qx", np.zeros((2, len(ages)))
    return measure, values


def _mix(scenario, key: str, ref: str, problems: Problems, ages) -> np.ndarray:
    """Shares over ``(sex, ages)`` summing to 1, reweighted to ``female_share`` if set;
    uniform after recording a problem."""
    uniform = np.full((2, len(ages)), 1.0 / (2 * len(ages)))
    kind, resolved = resolve_table(key, ref, scenario.base_dir, problems)
    if kind is None:
        return uniform
    if kind == "builtin":
        mix = tables.builtin_mix(resolved)
    else:
        mix = _load(lambda: tables.read_age_sex_table(resolved, "share", lo=0.0), problems)
        if mix is None:
            return uniform
    mix = np.nan_to_num(mix)[:, ages]
    female_share = scenario.population.female_share
    if female_share is not None:
        totals = mix.sum(axis=1)
        if np.any(totals == 0):
            problems.add("population.female_share", f"{key} has no members of one sex to "
                         "reweight", female_share)
            return uniform
        mix = mix / totals[:, None] * np.array([female_share, 1 - female_share])[:, None]
    total = mix.sum()
    if total <= 0:
        problems.add(key, f"shares are all zero over ages {ages[0]}-{ages[-1]}", ref)
        return uniform
    return mix / total

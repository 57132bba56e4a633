"""``[output]``: results by sex, age band, risk group and plan, on request (DESIGN §3, §4).

::

    [output]
    detail = ["claims", "members", "aid"]
    by = ["sex", "age_band"]                       # any of sex, age_band, risk_group, plan
    age_bands = [[18, 29], [30, 39], [40, 59]]     # default: five-year bands

Each variable of ``detail`` is written as ``NAME_by (scenario, path, quarter, <dims>)``, the
dimensions of ``by`` in the order of :data:`DIMS` whatever order ``by`` gives; summed over
those dimensions it is the variable's total (:mod:`engine.run.detail`). Only quantities
that belong to a member's cell can be detailed (:data:`engine.variables.DETAIL_VARIABLES`);
a member's age is the age in completed years at the event (members and sharers: at the
quarter's end and when the cost is shared).

Age bands are ``[lo, hi]`` in completed years, both ends included, in increasing order with
no gap and no overlap, and they must cover every age of the scenario (each plan's of a
platform). Without ``age_bands`` the bands are five-year ones, ``[5k, 5k + 4]``, from the
youngest age of any scenario or plan of the set to the oldest (:func:`default_age_bands`,
set by :func:`with_default_bands` once the whole set is known).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from engine.errors import Problems

DIMS = ("sex", "age_band", "risk_group", "plan")
DEFAULT_BY = ("sex", "age_band")
SEXES = ("female", "male")        # row = sex · K + group (engine.model.inputs)
BAND_YEARS = 5                    # the default bands' width (five-year bands, as in CI5)
MAX_AGE = 110                     # population.age_max's upper bound (engine.config.schema)


def _names(v: Any, key: str, problems: Problems, valid: tuple[str, ...], what: str
           ) -> list[str] | None:
    """A list of distinct names from ``valid``, or ``None`` after recording a problem."""
    if not isinstance(v, list):
        problems.add(key, f"must be a list of {what} ({', '.join(valid)})", v)
        return None
    out: list[str] = []
    for x in v:
        if x not in valid:
            problems.add(key, f"unknown {what} (valid: {', '.join(valid)})", x)
            return None
        if x in out:
            problems.add(key, f"lists {x} twice", x)
            return None
        out.append(x)
    return out


def check_detail(v: Any, key: str, problems: Problems) -> list[str] | None:
    """``output.detail``: variables of :data:`engine.variables.DETAIL_VARIABLES`."""
    from engine.variables import DETAIL_VARIABLES

    return _names(v, key, problems, DETAIL_VARIABLES, "variable")


def check_by(v: Any, key: str, problems: Problems) -> list[str] | None:
    """``output.by``: dimensions of :data:`DIMS`, kept in that order."""
    names = _names(v, key, problems, DIMS, "dimension")
    return None if names is None else [d for d in DIMS if d in names]


def check_age_bands(v: Any, key: str, problems: Problems) -> list[list[int]] | None:
    """``output.age_bands``: ``[[lo, hi], ...]`` integers, increasing, without gap or
    overlap."""
    shape = "a list of [lo, hi] age bands in years, like [[18, 29], [30, 39]]"
    if not isinstance(v, list) or not v:
        problems.add(key, f"must be {shape}", v)
        return None
    out: list[list[int]] = []
    for band in v:
        if (not isinstance(band, list) or len(band) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in band)):
            problems.add(key, f"must be {shape}", band)
            return None
        lo, hi = band
        if not 0 <= lo <= hi <= MAX_AGE:
            problems.add(key, f"a band needs 0 ≤ lo ≤ hi ≤ {MAX_AGE}", band)
            return None
        if out and lo <= out[-1][1]:
            problems.add(key, f"band {lo}-{hi} overlaps band {out[-1][0]}-{out[-1][1]} "
                         "(bands in increasing order, no age in two)", band)
            return None
        if out and lo > out[-1][1] + 1:
            problems.add(key, f"leaves ages {out[-1][1] + 1}-{lo - 1} in no band", band)
            return None
        out.append([lo, hi])
    return out


def cross_check(values: dict, problems: Problems) -> None:
    """``by`` and ``age_bands`` need ``detail``; given bands cover the scenario's ages."""
    out = values["output"]
    pop = values["population"]
    detail, bands = out["detail"], out["age_bands"]
    if not detail:
        for k in ("by", "age_bands"):
            if out[k] not in (None, [], list(DEFAULT_BY)):
                problems.add(f"output.{k}", "needs output.detail (the variables to detail)",
                             out[k])
        return
    if bands and pop["age_min"] is not None and pop["age_max"] is not None:
        lo, hi = bands[0][0], bands[-1][1]
        if pop["age_min"] < lo or pop["age_max"] > hi:
            missing = (f"{pop['age_min']}-{lo - 1}" if pop["age_min"] < lo
                       else f"{hi + 1}-{pop['age_max']}")
            problems.add("output.age_bands", f"leaves the scenario's ages {missing} in no band "
                         f"(ages {pop['age_min']}-{pop['age_max']})", [lo, hi])


def check_platform(scenario, problems: Problems) -> None:
    """``by = ["plan"]`` needs a platform file's plans."""
    if scenario is not None and "plan" in scenario.output.by and not scenario.plans:
        problems.add("output.by", "plan needs a platform file (a [[plans]] list)", "plan")


def default_age_bands(age_lo: int, age_hi: int) -> list[list[int]]:
    """Five-year bands ``[5k, 5k + 4]`` from the band holding ``age_lo`` to the one holding
    ``age_hi`` (the last one stops at :data:`MAX_AGE`)."""
    first = BAND_YEARS * (age_lo // BAND_YEARS)
    return [[lo, min(lo + BAND_YEARS - 1, MAX_AGE)]
            for lo in range(first, age_hi + 1, BAND_YEARS)]


def _all_ages(scenarios) -> tuple[int, int]:
    ages = [(p.population.age_min, p.population.age_max)
            for s in scenarios for p in (s.plans or (s,))]
    return min(a for a, _ in ages), max(b for _, b in ages)


def with_default_bands(scenarios: tuple) -> tuple:
    """The scenarios (and their plans) with the set's default age bands filled in where
    ``detail`` is asked for without ``age_bands``: one band dimension for the whole set."""
    if not scenarios or not scenarios[0].output.detail or scenarios[0].output.age_bands:
        return scenarios
    bands = default_age_bands(*_all_ages(scenarios))

    def filled(s):
        out = replace(s.output, age_bands=bands)
        return replace(s, output=out, plans=tuple(replace(p, output=out) for p in s.plans))

    return tuple(filled(s) for s in scenarios)


def band_labels(bands: list[list[int]]) -> list[str]:
    """``"18-29"`` per band."""
    return [f"{lo}-{hi}" for lo, hi in bands]


def check_groups(scenarios, problems: Problems) -> None:
    """Detail by ``risk_group`` needs the same groups in every scenario of a set (one
    dimension for the whole file)."""
    if not scenarios or "risk_group" not in scenarios[0].output.by \
            or not scenarios[0].output.detail:
        return
    first = [g["name"] for g in scenarios[0].risk.groups]
    for s in scenarios[1:]:
        names = [g["name"] for g in s.risk.groups]
        if names != first:
            problems.add("output.by", f"risk_group needs the same risk groups in every "
                         f"scenario of the set ({s.name} has {', '.join(names) or 'none'}, "
                         f"the first {', '.join(first) or 'none'})", "risk_group")
            return


def age_band_index(bands: list[list[int]] | None, age_years) -> np.ndarray:
    """The band of each age (``age_years``, completed years): ``(A,)`` int64, 0 where
    there are no bands."""
    ages = np.asarray(age_years, dtype=np.int64)
    out = np.zeros(ages.shape, dtype=np.int64)
    for j, (lo, _) in enumerate(bands or []):
        out[ages >= lo] = j
    return out


def bands_of(scenario) -> list[list[int]]:
    """The scenario's age bands: as given or set for its set, else (a scenario built
    outside a set) five-year bands over its own ages; ``[]`` without detail."""
    out = scenario.output
    if not out.detail:
        return []
    return out.age_bands or default_age_bands(scenario.population.age_min,
                                              scenario.population.age_max)


def detail_fields(scenario, age_years) -> dict:
    """The model inputs' detail fields (:class:`engine.model.inputs.ModelInputs`): the
    variables, the number of bands and the band of each age (``age_years`` per
    age-quarter)."""
    bands = bands_of(scenario)
    return {"detail": tuple(scenario.output.detail), "n_age_bands": len(bands),
            "age_band": age_band_index(bands, age_years)}

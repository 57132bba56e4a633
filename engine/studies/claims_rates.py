"""Claims per 100,000 member-years, the model's against the population's (the study's
"claims in range", issue 26).

A platform's claims rate is the share of its members aided in a year, scaled to 100,000
member-years. Set beside the population's cancer incidence for the same ages and sexes it
shows the selection the model implies: members who have just joined (and are healthy
enough to join) claim less than the population, and a waiting period removes the earliest
diagnoses altogether.

Units: counts in persons, exposure in member-years (a member held for a quarter is 0.25
member-years), rates per 100,000 member-years or person-years.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.analysis import weighted as W

PER_100K = 100_000.0
QUARTER_YEARS = 0.25


def member_years(members_end: np.ndarray, initial: float | np.ndarray = 0.0) -> np.ndarray:
    """Member-years of each quarter from the members at the quarter's ends.

    Parameters
    ----------
    members_end : ndarray, shape (..., T)
        Members at the end of each quarter (persons).
    initial : float or ndarray broadcastable to ``members_end[..., 0]``
        Members at the start of the first quarter (persons).

    Returns
    -------
    ndarray, shape (..., T)
        Member-years of each quarter.

    Notes
    -----
    The members are taken to change linearly within a quarter (the trapezium rule, as the
    disclosure's rate figures, :func:`engine.studies.observations.model_values`):

    ``E_t = 0.25 · (N_{t−1} + N_t) / 2``,  with ``N_{−1}`` = ``initial``.
    """
    n = np.asarray(members_end, dtype=float)
    first = np.broadcast_to(np.asarray(initial, dtype=float), n.shape[:-1] + (1,))
    start = np.concatenate([first, n[..., :-1]], axis=-1)
    return QUARTER_YEARS * 0.5 * (start + n)


def rate_per_100k(claims: np.ndarray, exposure_years: np.ndarray,
                  quarters: slice | list[int]) -> np.ndarray:
    """Claims per 100,000 member-years over a set of quarters, per path.

    Parameters
    ----------
    claims, exposure_years : ndarray, shape (..., T)
        Claims (persons) and member-years of each quarter.
    quarters : slice or list of int
        The quarters counted.

    Returns
    -------
    ndarray, shape (...)
        ``10⁵ · Σ_t C_t / Σ_t E_t`` over the chosen quarters; NaN where there is no
        exposure.
    """
    c = np.asarray(claims, dtype=float)[..., quarters].sum(axis=-1)
    e = np.asarray(exposure_years, dtype=float)[..., quarters].sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(e > 0, PER_100K * c / np.where(e > 0, e, 1.0), np.nan)


def population_rate_per_100k(incidence_per_100k: np.ndarray, mix: np.ndarray,
                             factor: float = 1.0) -> float:
    """The population's incidence for a plan's ages and sexes, weighted by its members.

    Parameters
    ----------
    incidence_per_100k : ndarray, shape (2, ages)
        Incidence per 100,000 person-years by sex (female, male) and age.
    mix : ndarray, shape (2, ages)
        The plan's members (or joiners) by sex and age, any scale.
    factor : float
        A multiplier on the whole table (the trend to the year of interest).

    Returns
    -------
    float
        ``factor · Σ_{s,a} w_{s,a} · r_{s,a} / Σ_{s,a} w_{s,a}``, per 100,000 person-years.
    """
    r = np.nan_to_num(np.asarray(incidence_per_100k, dtype=float))
    w = np.nan_to_num(np.asarray(mix, dtype=float))
    if w.sum() <= 0:
        raise ValueError("a plan's age mix has no members")
    return float(factor * (w * r).sum() / w.sum())


@dataclass(frozen=True)
class YearRate:
    """One plan's claims rate in one calendar year: the model's (median and 90 % interval
    over paths) against the population's incidence for its ages and sexes."""

    plan: str
    year: str
    quarters: int
    median: float
    p05: float
    p95: float
    population: float

    @property
    def ratio(self) -> float:
        """The model's median over the population's rate: the selection the model
        implies (1 = members claim as the population falls ill)."""
        return self.median / self.population if self.population > 0 else float("nan")


def yearly_rates(plan: str, claims: np.ndarray, members_end: np.ndarray, initial: float,
                 quarter_labels: list[str], population_by_year: dict[str, float]
                 ) -> list[YearRate]:
    """Claims per 100,000 member-years by calendar year (paths ``(P, T)``), each beside
    the population's rate of that year (``population_by_year``); years with no exposure
    on any path are left out."""
    exposure = member_years(members_end, initial)
    out = []
    for year in sorted({q[:4] for q in quarter_labels}):
        idx = [t for t, q in enumerate(quarter_labels) if q.startswith(year)]
        rates = rate_per_100k(claims, exposure, idx)
        rates = rates[np.isfinite(rates)]
        if rates.size == 0:
            continue
        p05, mid, p95 = (float(v) for v in W.quantile(rates, [0.05, 0.5, 0.95]))
        out.append(YearRate(plan, year, len(idx), mid, p05, p95,
                            population_by_year.get(year, float("nan"))))
    return out


def plan_population_rates(plan_scenario, quarter_labels: list[str]) -> dict[str, float]:
    """The population's incidence for one plan (a scenario) by calendar year, per 100,000
    person-years, as the model's diagnosis hazard reads it before selection.

    Notes
    -----
    ``r_y = Σ w_{s,a} · i_{s,a} / c · (1 + g)^{τ_y} / Σ w_{s,a}`` with ``i`` the scenario's
    incidence table over the plan's ages after ``incidence.national_level_year`` (the
    table's age shape at NCC's national crude rate of that year), ``c`` =
    ``incidence.cancer_share_of_claims`` (the claimable events' rate), ``g`` =
    ``incidence.trend_per_year``, ``τ_y`` the mean over year ``y``'s quarters ``t`` of
    ``t / 4`` (the model's trend, :func:`engine.model.units.years_since_start`), and
    ``w`` the plan's joiner age mix (``growth.joiner_age_mix``): the results hold members
    by plan, not by age, so the joiners' ages stand in for the members'.
    """
    from engine.config.lookup import scenario_tables

    read = scenario_tables(plan_scenario)
    inc = plan_scenario.incidence
    base = population_rate_per_100k(read.incidence_per_100k / inc.cancer_share_of_claims,
                                    read.joiner_age_mix)
    out = {}
    for year in sorted({q[:4] for q in quarter_labels}):
        idx = [t for t, q in enumerate(quarter_labels) if q.startswith(year)]
        years = float(np.mean(idx)) * QUARTER_YEARS
        out[year] = base * (1.0 + inc.trend_per_year) ** years
    return out


def study_view(scenario, series: dict) -> dict:
    """The study's claims in range: each plan's (or the pool's) claims per 100,000
    member-years by calendar year beside its population rate (:func:`yearly_rates`,
    :func:`plan_population_rates`), from the document's per-quarter ``series`` (paths
    pooled, ``claims`` and ``members``, ``*_by_plan`` for a platform).

    Returns ``{"rates": [YearRate], "population_note": str}``.
    """
    labels = series["quarters"]
    plans = list(scenario.plans) or [scenario]
    names = series.get("plans") or ["platform"]
    rates: list[YearRate] = []
    for j, (plan, name) in enumerate(zip(plans, names, strict=True)):
        claims = series["claims_by_plan"][j] if scenario.plans else series["claims"]
        members = series["members_by_plan"][j] if scenario.plans else series["members"]
        rates += yearly_rates(name, claims, members, float(plan.population.initial_members),
                              labels, plan_population_rates(plan, labels))
    inc = scenario.incidence
    note = (f"the scenario's table ({inc.table}"
            + (f", scaled to the National Cancer Center's crude rate of "
               f"{inc.national_level_year}" if inc.national_level_year else "")
            + (f", {inc.trend_per_year:+.1%} a year" if inc.trend_per_year else "")
            + "), weighted by the plan's joiner age mix by age and sex: the results hold "
            "members by plan, not by age, so the joiners' ages stand in for the members'.")
    return {"rates": rates, "population_note": note}

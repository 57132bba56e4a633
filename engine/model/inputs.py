"""A validated scenario → the arrays the quarter step reads (probabilities, amounts, mixes).

Cells are ``(sex, age_q, duration)``: sex 0 = female, 1 = male; ``age_q`` counts quarters of
age from ``4 · age_min`` (so ``age_q // 4`` is the age in completed years above ``age_min``);
duration counts quarters since joining, ``0..D`` with ``D`` holding everyone at or past it.
Tracking age in quarters makes ageing exact and draw-free: each quarter every member moves
one age-quarter on, and those past ``age_max`` leave (DESIGN §1 step 5).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config import tables
from engine.config.labels import quarter_labels, quarter_offset
from engine.errors import Problems, ScenarioError, TableError
from engine.model import units
from engine.model.growth import GrowthModel
from engine.model.sharing import SharingRule, ShortfallRule

AGE_Q_BITS = 10   # absolute age in quarters < 1024 (ages ≤ 255)
DURATION_BITS = 6


@dataclass(frozen=True)
class ModelInputs:
    """Everything the quarter step needs, as arrays with units in their names.

    Shapes: ``S = 2`` sexes, ``A`` age-quarters, ``Dn = D + 1`` durations, ``T`` quarters.
    """

    name: str
    quarters: int
    quarter_labels: tuple[str, ...]
    age_min: int
    age_max: int
    n_age_q: int
    n_durations: int
    waiting_quarters: int
    cell_id: np.ndarray                # (S, A, Dn) uint32 stream cell keys
    age_years: np.ndarray              # (A,) age in completed years of each age-quarter
    death_q: np.ndarray                # (S, A) quarterly death probability
    diagnosis_hazard_q: np.ndarray     # (S, A, Dn) quarterly hazard before trend/shock/anti
    hazard_factor: np.ndarray          # (T,) (1 + trend)^(t/4) · shock_t
    lapse_base_q: np.ndarray           # (Dn,) base quarterly lapse probability
    benefit_yuan: np.ndarray           # (A,) aid per (non-mild) claim by age at diagnosis
    mild_yuan: float
    mild_share: float
    join_mix: np.ndarray               # (S, A) joiners' shares, sum 1
    initial_members: np.ndarray        # (S, A, Dn) int64
    growth_model: int
    market_potential: float
    innovation_q: float
    imitation_q: float
    joins_series: np.ndarray           # (T,) expected joins (fixed model)
    join_dispersion: float
    join_cost_elasticity: float
    lapse_cost_elasticity: float
    reference_cost_yuan_q: float
    cost_window_quarters: int
    antiselection: float
    fee_rate: float
    sharers_eligible_only: bool
    cap_per_quarter_yuan: float        # inf when none
    cap_per_year_yuan: float           # inf when none
    shortfall_rule: int
    reserve_initial_yuan: float
    reserve_growth_q: float            # (1 + i)^(1/4)
    loading_yuan_q: float
    year_starts: np.ndarray            # (T,) bool: quarter t is a Q1 (yearly cap resets)
    joins_open: np.ndarray             # (T,) bool: joins allowed in quarter t
    benefit_factor: np.ndarray         # (T,) (1 + benefit inflation)^(t/4)
    payment_pattern: np.ndarray        # (L,) shares of a quarter's claims paid t, t+1, ...
    platform_funds: np.ndarray         # (T,) bool: members pay nothing in quarter t
    closure_quarter: int               # index of the plan's last quarter, −1 if none
    prepaid: bool                      # sharing.funding = "prepaid"
    deposit_yuan: float                # pre-paid balance on joining
    topup_yuan: float                  # what a member adds when the balance runs short
    topup_probability: float           # chance of topping up rather than being suspended
    sharing_rule: int                  # SharingRule of sharing.rule
    share_weight: np.ndarray           # (S, A) expected aid per member-quarter (age_rated)

    @property
    def n_cells(self) -> int:
        return 2 * self.n_age_q * self.n_durations


def build_inputs(scenario) -> ModelInputs:
    """Turn a validated :class:`~engine.config.scenario.Scenario` into :class:`ModelInputs`.

    Raises
    ------
    ScenarioError
        When a table a key names is missing, malformed, does not cover the plan's ages, or
        a multiplier makes an annual probability exceed 1.
    """
    problems = Problems(scenario.file)
    pop, inc = scenario.population, scenario.incidence
    lapse, ben, sharing = scenario.lapse, scenario.benefits, scenario.sharing
    age_min, age_max = pop.age_min, pop.age_max
    ages = np.arange(age_min, age_max + 1)
    n_age_q = 4 * len(ages)
    age_years = np.repeat(ages, 4)
    dcap = scenario.duration_cap
    n_dur = dcap + 1
    durations = np.arange(n_dur)
    T = scenario.scenario.quarters

    incidence = _incidence(scenario, problems, ages)
    death_q = _mortality(scenario, problems, ages)
    joiner_mix = _mix(scenario, "growth.joiner_age_mix", scenario.growth.joiner_age_mix,
                      problems, ages)
    initial_mix = _mix(scenario, "population.initial_age_mix", pop.initial_age_mix,
                       problems, ages)
    if problems:
        raise ScenarioError(problems.items)

    hazard = _diagnosis_hazard(inc, incidence, durations)

    t = np.arange(T)
    factor = _hazard_factor(scenario, t)
    lapse_base = _lapse_base(lapse, durations)

    benefit = _benefit_by_age(ben, ages)

    d0 = dcap if pop.initial_duration_quarters is None else min(pop.initial_duration_quarters,
                                                                 dcap)
    initial = np.zeros((2, n_age_q, n_dur), dtype=np.int64)
    initial[:, :, d0] = allocate_counts(pop.initial_members, np.repeat(initial_mix, 4, axis=1))

    # Age-rated sharing charges each member in proportion to the aid a member of that age
    # and sex is expected to receive per quarter, once fully selected: h[s, a, D] times the
    # aid per claim (mild claims at the mild amount).
    per_claim = (1.0 - ben.mild_share) * np.repeat(benefit, 4) + ben.mild_share * float(
        ben.mild_amount or 0.0)
    share_weight = hazard[:, :, -1] * per_claim[None, :]
    growth = scenario.growth
    series = np.zeros(T) if growth.series is None else np.asarray(growth.series[:T], float)
    start = scenario.scenario.start

    def offset(label, default):
        return default if label is None else quarter_offset(start, label)

    stop = offset(growth.stop_joins_from, T + 1)
    closure = offset(scenario.closure.quarter, -1)
    closure = closure if closure < T else -1
    funds_from = offset(scenario.closure.platform_funds_from, T + 1)
    labels = tuple(quarter_labels(scenario.scenario.start, T))
    abs_age_q = 4 * age_min + np.arange(n_age_q)
    cell_id = ((np.arange(2)[:, None, None] << (AGE_Q_BITS + DURATION_BITS))
               | (abs_age_q[None, :, None] << DURATION_BITS)
               | durations[None, None, :]).astype(np.uint32)
    inf = float("inf")
    return ModelInputs(
        name=scenario.name,
        quarters=T,
        quarter_labels=labels,
        age_min=age_min,
        age_max=age_max,
        n_age_q=n_age_q,
        n_durations=n_dur,
        waiting_quarters=ben.waiting_quarters,
        cell_id=cell_id,
        age_years=age_years,
        death_q=np.repeat(death_q, 4, axis=1),
        diagnosis_hazard_q=hazard,
        hazard_factor=factor,
        lapse_base_q=lapse_base,
        benefit_yuan=np.repeat(benefit, 4),
        mild_yuan=float(ben.mild_amount or 0.0),
        mild_share=float(ben.mild_share),
        join_mix=np.repeat(joiner_mix, 4, axis=1) / 4.0,
        initial_members=initial,
        growth_model=int(GrowthModel[growth.model.upper()]),
        market_potential=float(growth.market_potential or 0.0),
        innovation_q=units.per_quarter_coefficient(growth.innovation),
        imitation_q=units.per_quarter_coefficient(growth.imitation),
        joins_series=series,
        join_dispersion=float(growth.dispersion),
        join_cost_elasticity=float(growth.cost_elasticity),
        lapse_cost_elasticity=float(lapse.cost_elasticity),
        reference_cost_yuan_q=float(lapse.reference_cost or 1.0),
        cost_window_quarters=int(lapse.cost_window_quarters),
        antiselection=float(lapse.antiselection),
        fee_rate=float(sharing.fee_rate),
        sharers_eligible_only=sharing.sharers == "eligible",
        cap_per_quarter_yuan=inf if sharing.cap_per_quarter is None else sharing.cap_per_quarter,
        cap_per_year_yuan=inf if sharing.cap_per_year is None else sharing.cap_per_year,
        shortfall_rule=int(ShortfallRule[sharing.shortfall.upper()]),
        reserve_initial_yuan=float(scenario.reserve.initial),
        reserve_growth_q=units.quarterly_growth_factor(scenario.reserve.interest_per_year),
        loading_yuan_q=float(scenario.reserve.loading_per_member_quarter),
        year_starts=np.array([lab.endswith("Q1") for lab in labels]),
        joins_open=(t < stop) & (t < (closure if closure >= 0 else T + 1)),
        benefit_factor=(1.0 + ben.inflation_per_year) ** units.years_since_start(t),
        payment_pattern=np.asarray(ben.payment_pattern, dtype=float),
        platform_funds=t >= funds_from,
        closure_quarter=closure,
        prepaid=sharing.funding == "prepaid",
        deposit_yuan=float(scenario.prepaid.deposit),
        topup_yuan=float(scenario.prepaid.deposit if scenario.prepaid.topup_amount is None
                         else scenario.prepaid.topup_amount),
        topup_probability=float(scenario.prepaid.topup_probability),
        sharing_rule=int(SharingRule[sharing.rule.upper()]),
        share_weight=share_weight,
    )


def _diagnosis_hazard(inc, incidence: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Quarterly hazard ``(S, A, Dn)`` of ``incidence / cancer_share · selection[d]``."""
    selection = np.asarray(inc.selection, dtype=float)
    selection_by_d = selection[np.minimum(durations // 4, len(selection) - 1)]
    base_hazard = units.quarterly_hazard_from_rate_per_100k(
        incidence / inc.cancer_share_of_claims)                         # (S, ages)
    return np.repeat(base_hazard, 4, axis=1)[:, :, None] * selection_by_d[None, None, :]


def _benefit_by_age(ben, ages: np.ndarray) -> np.ndarray:
    """Aid per (non-mild) claim by age at diagnosis (yuan)."""
    benefit = np.zeros(len(ages))
    for lo, hi, amount in ben.amount_by_age:
        benefit[(ages >= lo) & (ages <= hi)] = amount
    return benefit


def _hazard_factor(scenario, t: np.ndarray) -> np.ndarray:
    """``(1 + trend)^(t/4) · shock_t`` per quarter."""
    inc = scenario.incidence
    factor = (1.0 + inc.trend_per_year) ** units.years_since_start(t)
    for shock in inc.shocks:
        first = quarter_offset(scenario.scenario.start, shock["start"])
        hit = (t >= first) & (t < first + shock["quarters"])
        factor = np.where(hit, factor * shock["multiplier"], factor)
    return factor


def _lapse_base(lapse, durations: np.ndarray) -> np.ndarray:
    """Base quarterly lapse probability by duration (the last value holds on)."""
    if lapse.by_duration is not None:
        by_d = np.asarray(lapse.by_duration, dtype=float)
        return by_d[np.minimum(durations, len(by_d) - 1)]
    return np.full(durations.size, lapse.base_quarterly)


def allocate_counts(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` persons over cells in proportion to ``shares`` (largest remainder).

    The counts are integers summing exactly to ``total``; each is within one of
    ``total · share``. Ties go to the earlier cell (C order), so the result is deterministic.
    """
    shares = np.asarray(shares, dtype=float)
    if total == 0:
        return np.zeros(shares.shape, dtype=np.int64)
    exact = total * shares.ravel() / shares.sum()
    counts = np.floor(exact).astype(np.int64)
    left = int(total - counts.sum())
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:left]] += 1
    return counts.reshape(shares.shape)


# ------------------------------------------------------------------------------ tables

def _resolve_table(scenario, key: str, ref: str, builtins: dict, problems: Problems):
    """Return ``("builtin", name)`` or ``("csv", path)``; record a problem if neither."""
    if ref in builtins:
        return "builtin", ref
    path = Path(ref)
    if not path.is_absolute():
        path = scenario.base_dir / path
    if path.suffix.lower() != ".csv" or not path.is_file():
        problems.add(key, f"not a built-in table ({', '.join(builtins)}) nor an existing "
                     "CSV file", ref)
        return None, None
    return "csv", path


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


def _table_values(scenario, key: str, ref: str, builtins: dict, from_builtin, column: str,
                  problems: Problems, hi: float = np.inf):
    """``(measure, values (2, ages))`` of a built-in table (``from_builtin(name)`` gives
    both) or of an ``age,sex,COLUMN`` CSV (measure ``column``, values in ``[0, hi]``);
    ``(None, None)`` after recording a problem."""
    kind, resolved = _resolve_table(scenario, key, ref, builtins, problems)
    if kind is None:
        return None, None
    if kind == "builtin":
        return from_builtin(resolved)
    values = _load(lambda: tables.read_age_sex_table(resolved, column, lo=0.0, hi=hi), problems)
    return column, values


def _incidence(scenario, problems: Problems, ages) -> np.ndarray:
    inc = scenario.incidence
    _, rates = _table_values(scenario, "incidence.table", inc.table, tables.INCIDENCE_TABLES,
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


def _mortality(scenario, problems: Problems, ages) -> np.ndarray:
    mort = scenario.mortality
    measure, values = _table_values(scenario, "mortality.table", mort.table,
                                    tables.MORTALITY_TABLES, tables.builtin_mortality, "qx",
                                    problems, hi=1.0)
    if values is None:
        return np.zeros((2, len(ages)))
    if _cover_problem(problems, "mortality.table", mort.table, values, ages):
        return np.zeros((2, len(ages)))
    values = values[:, ages] * mort.multiplier
    if measure == "qx":
        over = values > 1.0
        if over.any():
            s, i = np.argwhere(over)[0]
            problems.add("mortality.multiplier", "makes the annual death probability exceed 1 "
                         f"at age {ages[i]} ({tables.SEXES[s]})", mort.multiplier)
            return np.zeros((2, len(ages)))
        return units.quarterly_prob_from_annual_prob(values)
    return units.quarterly_prob_from_central_rate(values)


def _mix(scenario, key: str, ref: str, problems: Problems, ages) -> np.ndarray:
    kind, resolved = _resolve_table(scenario, key, ref, tables.MIX_TABLES, problems)
    if kind is None:
        return np.full((2, len(ages)), 1.0 / (2 * len(ages)))
    if kind == "builtin":
        mix = tables.builtin_mix(resolved)
    else:
        mix = _load(lambda: tables.read_age_sex_table(resolved, "share", lo=0.0), problems)
        if mix is None:
            return np.full((2, len(ages)), 1.0 / (2 * len(ages)))
    mix = np.nan_to_num(mix)[:, ages]
    female_share = scenario.population.female_share
    if female_share is not None:
        totals = mix.sum(axis=1)
        if np.any(totals == 0):
            problems.add("population.female_share", f"{key} has no members of one sex to "
                         "reweight", female_share)
            return np.full((2, len(ages)), 1.0 / (2 * len(ages)))
        mix = mix / totals[:, None] * np.array([female_share, 1 - female_share])[:, None]
    total = mix.sum()
    if total <= 0:
        problems.add(key, f"shares are all zero over ages {ages[0]}-{ages[-1]}", ref)
        return np.full((2, len(ages)), 1.0 / (2 * len(ages)))
    return mix / total

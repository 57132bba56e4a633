"""A validated scenario → the arrays the quarter step reads (probabilities, amounts, mixes).

Cells are ``(row, age_quarter, duration)``. A row is a (sex, risk group): ``row = sex · K + group``
with sex 0 = female, 1 = male and ``K`` groups (one unless ``[risk] groups`` lists several);
``age_quarter`` counts quarters of
age from ``4 · age_min`` (so ``age_quarter // 4`` is the age in completed years above ``age_min``);
duration counts quarters since joining, ``0..D`` with ``D`` holding everyone at or past it.
Tracking age in quarters makes ageing exact and draw-free: each quarter every member moves
one age-quarter on, and those past ``age_max`` leave (DESIGN §1 step 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.config.labels import quarter_labels, quarter_offset
from engine.config.lookup import scenario_tables
from engine.config.output import detail_fields
from engine.config.schema import AGE_TILT_PIVOT, GROUP_KEYS
from engine.model import growth as growth_rules
from engine.model import lapse as lapse_rules
from engine.model import payout, units
from engine.model.growth import GrowthModel
from engine.model.sharing import SharingRule, ShortfallRule
from engine.model.systematic import NOT_FIXED, FixedDrivers, SystematicRisk
from engine.model.tilt import Tilt

AGE_Q_BITS = 10   # absolute age in quarters < 1024 (ages ≤ 255)
DURATION_BITS = 6
SEX_BITS = 1      # risk groups are keyed above the sex bit, so group 0 keeps its old keys
ONE_GROUP = ({"name": "all", "population_share": 1.0, "incidence": 1.0,
              "lapse_sensitivity": 1.0, "join_sensitivity": 0.0},)


@dataclass(frozen=True)
class ModelInputs:
    """Everything the quarter step needs, as arrays with units in their names.

    Shapes: ``R = 2 K`` rows (sex, risk group), ``K`` groups, ``A`` age-quarters,
    ``Dn = D + 1`` durations, ``T`` quarters. Duration 0 holds only the quarter's joiners
    (``D ≥ 1``): they carry half a quarter of exposure to death and diagnosis.

    Names: the suffix ``_q`` means *per quarter* and nothing else (a probability, hazard,
    rate or amount in yuan per quarter: ``death_q``, ``innovation_q``,
    ``reference_cost_yuan_q``); counts and indices of quarters are spelled out
    (``n_age_quarters``, ``waiting_quarters``).
    """

    name: str
    quarters: int
    quarter_labels: tuple[str, ...]
    age_min: int
    age_max: int
    n_age_quarters: int
    n_durations: int
    waiting_quarters: int
    group_names: tuple[str, ...]
    row_group: np.ndarray              # (R,) group of each row
    group_incidence: np.ndarray        # (R,) the row's group incidence multiplier
    lapse_exponent: np.ndarray         # (R,) η σ_k of the row's group
    group_share: np.ndarray            # (K,) population share of each group
    group_join_sensitivity: np.ndarray  # (K,) β_k
    cell_id: np.ndarray                # (R, A, Dn) uint32 stream cell keys
    age_years: np.ndarray              # (A,) age in completed years of each age-quarter
    death_q: np.ndarray                # (R, A) quarterly death probability
    death_q_joiners: np.ndarray        # (R, A) over half a quarter: 1 − √(1 − qd)
    diagnosis_hazard_q: np.ndarray     # (R, A, Dn) quarterly hazard before trend/shock/Λ
    hazard_factor: np.ndarray          # (T,) (1 + trend)^(t/4) · shock_t
    systematic: SystematicRisk         # Λ[p, t] (engine.model.systematic)
    year_of_quarter: np.ndarray        # (T,) calendar year of quarter t less the first
    lapse_fixed_q: np.ndarray          # (Dn,) ℓ0: lapse that does not depend on cost
    lapse_cost_q: np.ndarray           # (Dn,) ℓc: cost-driven lapse at c = c_ref
    benefit_yuan: np.ndarray           # (T, A) aid per (non-mild) claim by quarter and age at
                                       # diagnosis (benefits.changes date the rows)
    mild_yuan: float
    mild_share: float
    payout_level_yuan: np.ndarray      # (T, A, K) payout of each level ℓ_k (engine.model.payout)
    payout_level_p: np.ndarray         # (K,) its conditional probability ρ_k in the chain
    payout_probabilities: np.ndarray   # (K,) π_k: a not-mild claim's probability of level k
    join_mix: np.ndarray               # (2, A) joiners' (sex, age-quarter) shares π, sum 1
    join_split_p: np.ndarray           # (L,) tree over the (sex, age-quarter) joiner mix π
                                       # (engine.model.growth.split_tree; leaf s·A + a)
    initial_members: np.ndarray        # (R, A, Dn) int64
    growth_model: int
    market_potential: float            # persons; 0: no limit (fixed series)
    innovation_q: float
    imitation_q: float
    joins_series: np.ndarray           # (T,) expected joins (fixed model)
    join_dispersion: float
    join_cost_elasticity: float
    lapse_cost_elasticity: float
    reference_cost_yuan_q: float
    cost_window_quarters: int
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
    share_weight: np.ndarray           # (R, A) expected aid per member-quarter (age_rated)
    systematic_seed: int | None = None  # incidence.systematic_seed (None: the run's seed)
    join_cell: int = 0                 # plan j of a platform: j · 2**24 added to the cells
                                       # of its join draws (its joiners' own streams)
    enrolled_per_joiner: float = 0.0   # r: joins Poisson(r · the enrolling plan's joins)
                                       # and its leavers' share as lapses (0: own growth)
    tilt: Tilt = Tilt()                # [tail]: tilted systematic draws (engine.model.tilt)
    fixed_drivers: FixedDrivers = NOT_FIXED  # [drivers]: held systematic draws
    detail: tuple[str, ...] = ()       # [output] detail: variables kept by (row, age band)
    n_age_bands: int = 0               # [output] age_bands (engine.config.output)
    age_band: np.ndarray | None = None  # (A,) int64 band of each age-quarter (None: no detail)

    @property
    def n_groups(self) -> int:
        return len(self.group_names)

    @property
    def n_rows(self) -> int:
        return 2 * self.n_groups

    @property
    def n_cells(self) -> int:
        return self.n_rows * self.n_age_quarters * self.n_durations

    # The claim-count tilt as the kernel's scalars (engine.model.tilt)
    @property
    def claims_tilted(self) -> bool:
        return self.tilt.claim_tilt is not None

    @property
    def claim_tilt(self) -> float:
        return self.tilt.claim_tilt or 0.0

    @property
    def claim_tilt_first(self) -> int:
        return self.tilt.claim_first_quarter

    @property
    def n_payout_levels(self) -> int:
        return len(self.payout_level_p)

    @property
    def claim_tilt_stop(self) -> int:
        return self.quarters if self.tilt.quarters is None else self.tilt.quarters


PER_QUARTER = ("hazard_factor", "year_of_quarter", "benefit_yuan", "joins_series",
               "year_starts", "joins_open", "benefit_factor", "platform_funds",
               "payout_level_yuan")


def first_quarters(inputs: ModelInputs, quarters: int) -> ModelInputs:
    """The same scenario stopped after ``quarters`` quarters: every path's first
    ``quarters`` quarters are drawn and computed as in the whole run (each draw is keyed by
    its quarter), for a pilot that only needs the target's period (engine.run.tail)."""
    if quarters >= inputs.quarters:
        return inputs
    import dataclasses

    closure = inputs.closure_quarter if inputs.closure_quarter < quarters else -1
    return dataclasses.replace(
        inputs, quarters=quarters, quarter_labels=inputs.quarter_labels[:quarters],
        closure_quarter=closure,
        **{name: getattr(inputs, name)[:quarters] for name in PER_QUARTER})


def build_inputs(scenario) -> ModelInputs:
    """Turn a validated :class:`~engine.config.scenario.Scenario` into :class:`ModelInputs`.

    Raises
    ------
    ScenarioError
        When a table a key names is missing, malformed, does not cover the plan's ages, or
        a multiplier makes an annual probability exceed 1.
    """
    pop, inc, lapse, ben = (scenario.population, scenario.incidence, scenario.lapse,
                            scenario.benefits)
    age_min, age_max = pop.age_min, pop.age_max
    ages = np.arange(age_min, age_max + 1)
    n_age_quarters = 4 * len(ages)
    dcap = scenario.duration_cap
    durations = np.arange(dcap + 1)
    T = scenario.scenario.quarters

    used = tables_as_used(scenario)
    groups = scenario.risk.groups or ONE_GROUP
    row_group, row_sex, multiplier, share = _rows(groups)

    base_hazard = _diagnosis_hazard(inc, used["incidence_per_100k"], durations, ages)
    hazard = base_hazard[row_sex] * multiplier[row_group][:, None, None]
    # joiners arrive spread through the quarter: half a quarter of exposure at d = 0
    hazard[:, :, 0] *= 0.5

    fixed_q, cost_q = lapse_rules.split_base(_lapse_base(lapse, durations),
                                             lapse.cost_driven_share)
    benefit_t = _benefit_by_quarter(scenario, _benefit_by_age(ben, ages), ages, T)
    initial = _initial_members(pop, dcap, np.repeat(used["initial_age_mix"], 4, axis=1)[row_sex]
                               * share[row_group][:, None])
    q_death = np.repeat(used["death_q"], 4, axis=1)[row_sex]
    abs_age_quarters = 4 * age_min + np.arange(n_age_quarters)
    cell_id = _cell_ids(row_group, row_sex, abs_age_quarters, durations, scenario.plan_own_cells
                        and scenario.plan_index)
    group_keys = {key: np.array([g[key] for g in groups]) for key in GROUP_KEYS}
    return ModelInputs(
        **_calendar(scenario, T),
        **_growth_fields(scenario, T, used["joiner_age_mix"]),
        **_money_fields(scenario),
        name=scenario.name,
        quarters=T,
        age_min=age_min,
        age_max=age_max,
        n_age_quarters=n_age_quarters,
        n_durations=dcap + 1,
        waiting_quarters=ben.waiting_quarters,
        group_names=tuple(g["name"] for g in groups),
        row_group=row_group,
        group_incidence=multiplier[row_group],
        lapse_exponent=float(lapse.cost_elasticity) * group_keys["lapse_sensitivity"][row_group],
        group_share=share,
        group_join_sensitivity=group_keys["join_sensitivity"],
        cell_id=cell_id,
        age_years=np.repeat(ages, 4),
        death_q=q_death,
        death_q_joiners=1.0 - np.sqrt(1.0 - q_death),
        diagnosis_hazard_q=hazard,
        hazard_factor=_hazard_factor(scenario, np.arange(T)),
        systematic=_systematic(inc),
        lapse_fixed_q=fixed_q,
        lapse_cost_q=cost_q,
        benefit_yuan=np.repeat(benefit_t, 4, axis=1),
        mild_yuan=float(ben.mild_amount or 0.0),
        mild_share=float(ben.mild_share),
        **payout.level_inputs(np.repeat(benefit_t, 4, axis=1), ben.payout_levels or []),
        initial_members=initial,
        lapse_cost_elasticity=float(lapse.cost_elasticity),
        reference_cost_yuan_q=float(lapse.reference_cost or 1.0),
        cost_window_quarters=int(lapse.cost_window_quarters),
        benefit_factor=(1.0 + ben.inflation_per_year) ** units.years_since_start(np.arange(T)),
        payment_pattern=np.asarray(ben.payment_pattern, dtype=float),
        join_cell=int(scenario.plan_index) << 24, systematic_seed=inc.systematic_seed,
        enrolled_per_joiner=float(scenario.enrolled_with[1]) if scenario.enrolled_with else 0.0,
        share_weight=_share_weight(ben, base_hazard[row_sex, :, -1], benefit_t[0]),
        tilt=Tilt.of(scenario.tail),
        fixed_drivers=fixed_drivers_of(scenario),
        **detail_fields(scenario, np.repeat(ages, 4)),
    )


def fixed_drivers_of(scenario) -> FixedDrivers:
    """The ``[drivers]`` table as :class:`~engine.model.systematic.FixedDrivers`, indexed
    from the run's first calendar year and quarter."""
    fixed, start = scenario.drivers, scenario.scenario.start
    first_year = int(quarter_labels(start, 1)[0][:4])
    starts = fixed.shock_starts
    return FixedDrivers(
        level=tuple(sorted((int(y) - first_year, float(v))
                           for y, v in (fixed.level_innovations or {}).items())),
        trend=fixed.trend,
        join=tuple(sorted((quarter_offset(start, q), float(v))
                          for q, v in (fixed.join_multipliers or {}).items())),
        shock_starts=None if starts is None else tuple(quarter_offset(start, q)
                                                        for q in starts))


def _growth_fields(scenario, T: int, joiner_mix: np.ndarray) -> dict:
    """Expected joins: the growth model's parameters, the joiners' (sex, age-quarter) mix
    and its split tree, a fixed series."""
    growth = scenario.growth
    series = np.zeros(T) if growth.series is None else np.asarray(growth.series[:T], float)
    return dict(
        join_mix=np.repeat(joiner_mix, 4, axis=1) / 4.0,
        join_split_p=growth_rules.split_tree((np.repeat(joiner_mix, 4, axis=1) / 4.0).ravel()),
        growth_model=int(GrowthModel[growth.model.upper()]),
        market_potential=float(growth.market_potential or 0.0),
        innovation_q=units.per_quarter_coefficient(growth.innovation),
        imitation_q=units.per_quarter_coefficient(growth.imitation),
        joins_series=series,
        join_dispersion=float(growth.dispersion),
        join_cost_elasticity=float(growth.cost_elasticity),
    )


def _money_fields(scenario) -> dict:
    """Sharing (fee, sharers, caps, shortfall, rule), the reserve and pre-paid balances."""
    sharing, reserve, prepaid = scenario.sharing, scenario.reserve, scenario.prepaid
    inf = float("inf")
    return dict(
        fee_rate=float(sharing.fee_rate),
        sharers_eligible_only=sharing.sharers == "eligible",
        cap_per_quarter_yuan=inf if sharing.cap_per_quarter is None else sharing.cap_per_quarter,
        cap_per_year_yuan=inf if sharing.cap_per_year is None else sharing.cap_per_year,
        shortfall_rule=int(ShortfallRule[sharing.shortfall.upper()]),
        reserve_initial_yuan=float(reserve.initial),
        reserve_growth_q=units.quarterly_growth_factor(reserve.interest_per_year),
        loading_yuan_q=float(reserve.loading_per_member_quarter),
        prepaid=sharing.funding == "prepaid",
        deposit_yuan=float(prepaid.deposit),
        topup_yuan=float(prepaid.deposit if prepaid.topup_amount is None
                         else prepaid.topup_amount),
        topup_probability=float(prepaid.topup_probability),
        sharing_rule=int(SharingRule[sharing.rule.upper()]),
    )


def _share_weight(ben, selected_hazard: np.ndarray, first_benefit: np.ndarray) -> np.ndarray:
    """``(R, A)`` weights of age-rated sharing from the fully selected hazard ``(R, A)``.

    Age-rated sharing charges each member in proportion to the aid a member of that age
    and sex is expected to receive per quarter, once fully selected: h[s, a, D] times the
    aid per claim (mild claims at the mild amount, payout levels at theirs:
    :func:`engine.model.payout.expected_aid_per_claim`). The platform does not know the
    groups.
    """
    levels = ben.payout_levels or []
    benefit = np.repeat(first_benefit, 4)
    per_claim = payout.expected_aid_per_claim(
        benefit, ben.mild_share, float(ben.mild_amount or 0.0),
        payout.level_amounts_yuan(benefit, [lv["share_of_cap"] for lv in levels]),
        [lv["probability"] for lv in levels])
    return selected_hazard * per_claim[None, :]


def tables_as_used(scenario) -> dict[str, np.ndarray]:
    """The scenario's tables as the model uses them, by sex (female, male) and age
    ``age_min..age_max`` (years): what a results file stores so that it can be read away
    from the tables.

    ``incidence_per_100k`` (before ``cancer_share_of_claims``, the group multipliers,
    selection and trend; after ``national_level_year``), ``death_q`` (quarterly probability
    of death, after ``mortality.multiplier``), ``initial_age_mix`` and ``joiner_age_mix``
    (shares summing to 1, after ``female_share``). The configuration reads them
    (:func:`engine.config.lookup.scenario_tables`); the model converts the annual death
    measure to a quarterly probability (:mod:`engine.model.units`).

    Raises
    ------
    ScenarioError
        As :func:`build_inputs` for a table that cannot be read.
    """
    read = scenario_tables(scenario)
    to_quarterly = (units.quarterly_prob_from_annual_prob if read.death_measure == "qx"
                    else units.quarterly_prob_from_central_rate)
    return {
        "incidence_per_100k": read.incidence_per_100k,
        "death_q": to_quarterly(read.death_per_year),
        "initial_age_mix": read.initial_age_mix,
        "joiner_age_mix": read.joiner_age_mix,
    }


def _rows(groups) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(row_group, row_sex, incidence multiplier, population share)``: row = sex·K + k."""
    K = len(groups)
    multiplier = np.array([g["incidence"] for g in groups], dtype=float)
    share = np.array([g["population_share"] for g in groups], dtype=float)
    return np.tile(np.arange(K), 2), np.repeat(np.arange(2), K), multiplier, share


def _initial_members(pop, dcap: int, mix_by_row: np.ndarray) -> np.ndarray:
    """Initial members ``(R, A, Dn)`` at their duration, split by the rows' mix."""
    d0 = dcap if pop.initial_duration_quarters is None else min(pop.initial_duration_quarters,
                                                                 dcap)
    initial = np.zeros(mix_by_row.shape + (dcap + 1,), dtype=np.int64)
    initial[:, :, d0] = allocate_counts(pop.initial_members, mix_by_row)
    return initial


def _calendar(scenario, T: int) -> dict:
    """The quarter labels and the quarters' flags: year starts (caps reset), joins open,
    platform funding, the closure quarter (−1 if none) and each quarter's year index."""
    start = scenario.scenario.start
    t = np.arange(T)

    def offset(label, default):
        return default if label is None else quarter_offset(start, label)

    stop = offset(scenario.growth.stop_joins_from, T + 1)
    launch = offset(scenario.growth.start_joins_from, 0)
    closure = offset(scenario.closure.quarter, -1)
    closure = closure if closure < T else -1
    funds_from = offset(scenario.closure.platform_funds_from, T + 1)
    labels = tuple(quarter_labels(start, T))
    first_year = int(labels[0][:4])
    return dict(
        quarter_labels=labels,
        year_starts=np.array([lab.endswith("Q1") for lab in labels]),
        joins_open=(t >= launch) & (t < stop) & (t < (closure if closure >= 0 else T + 1)),
        platform_funds=t >= funds_from,
        closure_quarter=closure,
        year_of_quarter=np.array([int(lab[:4]) - first_year for lab in labels]),
    )


def _systematic(inc) -> SystematicRisk:
    return SystematicRisk(
        level_sd=float(inc.level_sd_per_year),
        level_autocorrelation=float(inc.level_autocorrelation),
        trend_sd=float(inc.trend_sd),
        shock_probability_per_year=float(inc.shock_probability_per_year),
        shock_size=float(inc.shock_size), shock_quarters=int(inc.shock_quarters),
        shock_catch_up=float(inc.shock_catch_up))


def _cell_ids(row_group, row_sex, abs_age_quarters, durations, plan: int = 0) -> np.ndarray:
    """Stream cell keys ``(R, A, Dn)``: group above sex above age-quarter above duration,
    so that group 0's cells keep the keys cells had before risk groups. Plans whose ages
    may overlap are separate products: plan ``j`` adds ``j · 2**24`` (above a cell's 21
    bits), so its draws are its own."""
    return ((plan << 24) | (row_group[:, None, None] << (SEX_BITS + AGE_Q_BITS + DURATION_BITS))
            | (row_sex[:, None, None] << (AGE_Q_BITS + DURATION_BITS))
            | (abs_age_quarters[None, :, None] << DURATION_BITS)
            | durations[None, None, :]).astype(np.uint32)


def _diagnosis_hazard(inc, incidence: np.ndarray, durations: np.ndarray,
                      ages: np.ndarray) -> np.ndarray:
    """Quarterly hazard ``(S, A, Dn)`` of ``incidence / cancer_share · selection[d]``, each
    age's rate first × ``exp(τ (age − 40) / 10)`` (``incidence.age_tilt_per_decade``)."""
    selection = np.asarray(inc.selection, dtype=float)
    selection_by_d = selection[np.minimum(durations // 4, len(selection) - 1)]
    rate = incidence / inc.cancer_share_of_claims                      # (S, ages)
    if inc.age_tilt_per_decade != 0.0:      # no tilt: the rates' bits as before it existed
        rate = rate * np.exp(inc.age_tilt_per_decade * (ages - AGE_TILT_PIVOT) / 10.0)
    base_hazard = units.quarterly_hazard_from_rate_per_100k(rate)
    return np.repeat(base_hazard, 4, axis=1)[:, :, None] * selection_by_d[None, None, :]


def _benefit_by_age(ben, ages: np.ndarray) -> np.ndarray:
    """Aid per (non-mild) claim by age at diagnosis (yuan)."""
    benefit = np.zeros(len(ages))
    for lo, hi, amount in ben.amount_by_age:
        benefit[(ages >= lo) & (ages <= hi)] = amount
    return benefit


def _benefit_by_quarter(scenario, benefit: np.ndarray, ages: np.ndarray, T: int
                        ) -> np.ndarray:
    """``(T, len(ages))`` aid per claim: the first quarter's amounts, and from each dated
    change's quarter on the amounts of the bands it lists (changes apply in date order)."""
    out = np.broadcast_to(benefit, (T, len(ages))).copy()
    start = scenario.scenario.start
    for change in sorted(scenario.benefits.changes, key=lambda c: quarter_offset(start,
                                                                                 c["from"])):
        first = quarter_offset(start, change["from"])
        for lo, hi, amount in change["amount_by_age"]:
            out[first:, (ages >= lo) & (ages <= hi)] = amount
    return out


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

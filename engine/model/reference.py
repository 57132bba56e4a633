"""The quarter step in plain numpy, vectorised across paths: the model's reference.

Order of events within quarter ``t`` (the one place it is written; the numba kernel
follows it step for step)
--------------------------------------------------------------------------------------
State per path: members ``N[s, a, d]`` (sex, age-quarter, duration), the anti-selection
factor ``m``, the costs per member of the last ``k`` quarters (``c`` below is their mean,
``k = cost_window_quarters``; before the first quarter they are ``c_ref``), persons ever
joined ``C``, the reserve ``R`` and what a sharer has paid this calendar year ``y``.

1. **Joins.** ``λ = growth(N, C) · exp(−ε (c / c_ref − 1)) · G_t`` where ``G_t`` is the
   negative-binomial mixing multiplier (Gamma with mean 1 and variance ``dispersion``; 1
   when the dispersion is 0). Joins per (sex, age-quarter) cell are
   ``Poisson(λ · π[s, a])``; they enter at duration 0. Joiners dilute the anti-selection
   factor: ``m ← (m N + J) / (N + J)``.
2. **Deaths.** ``Binomial(N, qd[s, a])``.
3. **Diagnoses.** ``Binomial(N, 1 − exp(−h[s, a, d] · g_t · m))`` where ``h`` is the
   quarterly hazard of ``incidence / cancer_share · selection[d]`` and
   ``g_t = (1 + trend)^(t/4) · shock_t``. Diagnoses at ``d ≥ waiting`` are claims; those at
   ``d < waiting`` are not paid. All diagnosed members leave. Claims per (sex, age-quarter)
   split into mild ones by ``Binomial(claims, mild_share)``. Aid incurred
   ``(Σ (claims − mild) · benefit[a] + mild · mild_amount) · (1 + inflation)^(t/4)``.
4. **Lapses.** ``ℓ_d = min(1, ℓ_base[d] · (c / c_ref)^η)``; ``Binomial(N, ℓ_d)``. Before the
   draw, the anti-selection factor becomes ``m ← m · (1 + α E / S)`` with
   ``E = Σ_d n_d max(0, ℓ_d − ℓ_base[d])`` (expected cost-driven leavers) and
   ``S = Σ_d n_d (1 − ℓ_d)`` (expected stayers): cost-driven leavers carry ``(1 − α)`` times
   the pool's incidence, so the stayers' average rises.
5. **Sharers** are counted now (after lapses, before ageing): all members, or those at
   ``d ≥ waiting`` (``sharers = "eligible"``), per (sex, age-quarter).
6. **Cost sharing and reserve** (:mod:`engine.model.sharing`), for the sharers counted in 5: ``A``
   is the aid falling due this
   quarter under the payment pattern (:func:`report_claims`); ``c* = A (1 + f) / S``, caps,
   (age-rated sharing: shares in proportion to each cell's expected aid, caps per cell,
   and each cell's lapses react to what that cell paid; :func:`cell_lapse_probabilities`),
   shortfall, reserve with interest and loading, solvency gap; what a sharer paid enters
   the cost window.
7. **Ageing and duration.** Every member moves one age-quarter on; those past ``age_max``
   leave (``aged_out``). Durations advance, ``d → min(d + 1, D)``. In the closure quarter
   every remaining member then leaves (``closed_out``). (DESIGN lists ageing before
   sharing; sharing only uses the sharers counted in 5, so the order does not matter.)

Pre-paid funding (``sharing.funding = "prepaid"``): after the joins, each duration cohort
whose average balance cannot cover last quarter's charge tops up (probability
``topup_probability``, by as many ``topup_amount`` as cover it) or is suspended:
``Binomial(N, 1 − p_topup)``
leave (``suspended``); sharers' balances then pay each quarter's charge, and balances move on
with their cohorts.

Roll-forward identity (tested): ``members_end = members_start + joins − suspended − deaths −
claims − diagnosed_in_waiting − lapses − aged_out − closed_out``. Joins are zero from
``growth.stop_joins_from`` and from the closure quarter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import growth, lapse, payment, prepaid, sharing
from engine.model.inputs import ModelInputs
from engine.model.units import prob_from_hazard
from engine.random import samplers, streams
from engine.variables import VARIABLES

_ALL_VARIABLES = tuple(v.name for v in VARIABLES)


class KeyedDraws:
    """Exact random draws from the keyed streams of ``seed`` (the simulation)."""

    def __init__(self, seed: int):
        self.seed = seed

    def binomial(self, n, p, t: int, kind: int, path, cell):
        return samplers.binomial(n, p, streams.Stream(self.seed, t, kind), path, cell)

    def poisson(self, lam, t: int, kind: int, path, cell):
        return samplers.poisson(lam, streams.Stream(self.seed, t, kind), path, cell)


class MeanDraws:
    """Each draw replaced by its mean (``n p``, ``λ``): the step then gives the expected path.

    The expectation is exact while the step is linear in the state: no cost feedback
    (both elasticities and anti-selection 0), caps that do not bind and a fixed or
    innovation-only growth model; otherwise it is the first-order (mean-field) path.
    """

    def binomial(self, n, p, t, kind, path, cell):
        return n * np.asarray(p, dtype=np.float64)

    def poisson(self, lam, t, kind, path, cell):
        return np.asarray(lam, dtype=np.float64)


@dataclass
class State:
    """Per-path state of a chunk of ``P`` paths (arrays are updated in place)."""

    members: np.ndarray          # (P, S, A, Dn) int64
    antiselection: np.ndarray    # (P,) float
    cost_window_yuan: np.ndarray  # (P, k) float: what a sharer paid in the last k quarters
    ever_joined: np.ndarray      # (P,) int64
    reserve_yuan: np.ndarray     # (P,) float
    paid_this_year_yuan: np.ndarray  # (P,) float
    pending_aid_yuan: np.ndarray     # (L−1, P) aid of earlier quarters falling due later
    pending_claims: np.ndarray       # (L−1, P) their claims (expected shares)
    cell_window_yuan: np.ndarray     # (P, k, S, A) age-rated: what each cell paid, last k
    cell_paid_this_year_yuan: np.ndarray  # (P, S, A) age-rated: paid this year, per cell
    balance_yuan: np.ndarray         # (P, Dn) pre-paid: average balance per member, by duration
    last_charge_yuan: np.ndarray     # (P,) pre-paid: what a sharer paid last quarter


def initial_state(inputs: ModelInputs, n_paths: int, dtype=np.int64) -> State:
    """Every path starts from the scenario's initial members, reserve and a neutral cost.

    ``dtype=float`` gives the state of the expected path (:class:`MeanDraws`).
    """
    members = np.broadcast_to(inputs.initial_members.astype(dtype),
                              (n_paths, *inputs.initial_members.shape)).copy()
    total = int(inputs.initial_members.sum())
    return State(
        members=members,
        antiselection=np.ones(n_paths),
        cost_window_yuan=np.full((n_paths, inputs.cost_window_quarters),
                                 inputs.reference_cost_yuan_q),
        ever_joined=np.full(n_paths, total, dtype=dtype),
        reserve_yuan=np.full(n_paths, inputs.reserve_initial_yuan),
        paid_this_year_yuan=np.zeros(n_paths),
        pending_aid_yuan=np.zeros((len(inputs.payment_pattern) - 1, n_paths)),
        pending_claims=np.zeros((len(inputs.payment_pattern) - 1, n_paths)),
        cell_window_yuan=np.full((n_paths, inputs.cost_window_quarters, 2, inputs.n_age_q),
                                 inputs.reference_cost_yuan_q),
        cell_paid_this_year_yuan=np.zeros((n_paths, 2, inputs.n_age_q)),
        balance_yuan=np.full((n_paths, inputs.n_durations), inputs.deposit_yuan),
        last_charge_yuan=np.zeros(n_paths),
    )


def perceived_cost(state: State) -> np.ndarray:
    """``c``: mean cost per member over the window, summed in a fixed order."""
    window = state.cost_window_yuan
    total = np.zeros(window.shape[0])
    for j in range(window.shape[1]):
        total = total + window[:, j]
    return total / window.shape[1]


def lapse_probabilities(inputs: ModelInputs, cost_prev_yuan: np.ndarray) -> np.ndarray:
    """``ℓ[p, d] = min(1, ℓ_base[d] · (c_p / c_ref)^η)`` (:mod:`engine.model.lapse`)."""
    ratio = lapse.cost_ratio(cost_prev_yuan, inputs.reference_cost_yuan_q,
                             inputs.lapse_cost_elasticity)
    return lapse.lapse_probability(inputs.lapse_base_q[None, :], ratio[:, None])


def report_claims(inputs: ModelInputs, state: State, aid, claims):
    """Aid and claims falling due this quarter (:func:`engine.model.payment.fall_due`)."""
    w = inputs.payment_pattern
    return (payment.fall_due(aid, state.pending_aid_yuan, w),
            payment.fall_due(claims.astype(np.float64), state.pending_claims, w))


def shift_balances(inputs: ModelInputs, state: State, counts) -> None:
    """Pre-paid balances follow their cohorts to the next duration; the last duration
    holds the count-weighted mean of the two cohorts that meet there."""
    D = inputs.n_durations - 1
    b = state.balance_yuan
    b[:, D] = prepaid.blend(counts[:, D - 1].astype(np.float64), b[:, D - 1],
                            counts[:, D].astype(np.float64), b[:, D], b[:, D])
    for d in range(D - 1, 0, -1):
        b[:, d] = b[:, d - 1]
    b[:, 0] = inputs.deposit_yuan


def cell_lapse_probabilities(inputs: ModelInputs, state: State) -> np.ndarray:
    """Age-rated sharing: ``ℓ[p, s, a, d] = min(1, ℓ_base[d] · (c[p, s, a] / c_ref)^η)``
    with ``c`` what the cell's members paid on average over the window (summed in a fixed
    order)."""
    window = state.cell_window_yuan
    total = np.zeros(window.shape[:1] + window.shape[2:])
    for j in range(window.shape[1]):
        total = total + window[:, j]
    ratio = lapse.cost_ratio(total / window.shape[1], inputs.reference_cost_yuan_q,
                             inputs.lapse_cost_elasticity)
    return lapse.lapse_probability(inputs.lapse_base_q[None, None, None, :], ratio[..., None])


def step_quarter(inputs: ModelInputs, state: State, t: int, draws, paths: np.ndarray,
                 join_gamma: np.ndarray, out: dict[str, np.ndarray],
                 trace: dict | None = None) -> None:
    """Advance ``state`` by quarter ``t`` and write column ``t`` of ``out``.

    ``draws`` is :class:`KeyedDraws` (simulation) or :class:`MeanDraws` (expected path);
    ``paths`` are the global path indices (the streams' counters); ``join_gamma`` the
    joins' mixing multipliers for this quarter, one per path. ``trace``, if given, receives
    per-cell arrays of the quarter: ``at_risk_of_diagnosis``, ``diagnosed`` and
    ``before_ageing`` (members after every decrement, before ageing: the sharers' base).
    """
    col: dict[str, np.ndarray] = {}
    cost_prev = perceived_cost(state)
    _joins(inputs, state, t, draws, paths, join_gamma, cost_prev, col)
    _suspensions(inputs, state, t, draws, paths, col)
    _deaths_and_diagnoses(inputs, state, t, draws, paths, col, trace)
    _lapses(inputs, state, t, draws, paths, cost_prev, col)
    first = inputs.waiting_quarters if inputs.sharers_eligible_only else 0
    sharer_cells = state.members[:, :, :, first:].sum(axis=3)             # (P, S, A)
    col["sharers"] = sharer_cells.sum(axis=(1, 2))
    if trace is not None:
        trace["before_ageing"] = state.members.copy()
    _share(inputs, state, t, sharer_cells, col)
    _age(inputs, state, t, col)
    for name, values in col.items():
        out[name][:, t] = values


def _cells(inputs: ModelInputs, paths: np.ndarray):
    """Stream cells and path counters shaped for (P, S, A, Dn) and (P, S, A) draws."""
    return (inputs.cell_id[None], paths[:, None, None, None], inputs.cell_id[None, :, :, 0],
            paths[:, None, None])


def _joins(inputs, state, t, draws, paths, join_gamma, cost_prev, col) -> None:
    """1. Joins (Poisson per cell given the mixing multiplier), deposits, anti-selection
    diluted by joiners."""
    N = state.members
    _, _, cell_sa, p_sa = _cells(inputs, paths)
    start_total = N.sum(axis=(1, 2, 3))
    lam = growth.expected_joins(inputs.growth_model, start_total.astype(np.float64),
                                state.ever_joined.astype(np.float64), inputs.market_potential,
                                inputs.innovation_q, inputs.imitation_q,
                                inputs.joins_series[t])
    lam = lam * growth.join_damping(cost_prev, inputs.reference_cost_yuan_q,
                                    inputs.join_cost_elasticity) * join_gamma
    if not inputs.joins_open[t]:
        lam = np.zeros_like(lam)
    joins_cells = draws.poisson(lam[:, None, None] * inputs.join_mix[None], t,
                                streams.Kind.JOINS, p_sa, cell_sa)
    joins = joins_cells.sum(axis=(1, 2))
    grown = start_total + joins
    state.antiselection = np.where(
        grown > 0, (state.antiselection * start_total + joins) / np.where(grown > 0, grown, 1),
        state.antiselection)
    if inputs.prepaid:
        # Joiners bring the deposit into the first duration cohort (empty unless D = 0).
        held = N[:, :, :, 0].sum(axis=(1, 2)).astype(np.float64)
        state.balance_yuan[:, 0] = prepaid.blend(held, state.balance_yuan[:, 0], joins,
                                                 inputs.deposit_yuan, inputs.deposit_yuan)
    N[:, :, :, 0] += joins_cells
    state.ever_joined += joins
    col["joins"], col["expected_joins"] = joins, lam


def _suspensions(inputs, state, t, draws, paths, col) -> None:
    """1b. Pre-paid: a cohort whose balance cannot cover last quarter's charge tops up
    (probability ``topup_probability``) or is suspended and leaves."""
    N = state.members
    col["suspended"] = np.zeros(len(paths), dtype=N.dtype)
    if not inputs.prepaid:
        return
    cell, p_col, _, _ = _cells(inputs, paths)
    short = prepaid.is_short(state.balance_yuan, state.last_charge_yuan[:, None])   # (P, Dn)
    p_susp = prepaid.suspension_probability(short, inputs.topup_probability)
    suspended_cells = draws.binomial(N, p_susp[:, None, None, :], t, streams.Kind.SUSPENSIONS,
                                     p_col, cell)
    N -= suspended_cells
    col["suspended"] = suspended_cells.sum(axis=(1, 2, 3))
    state.balance_yuan = np.where(short, prepaid.topped_up(
        state.balance_yuan, state.last_charge_yuan[:, None], inputs.topup_yuan),
        state.balance_yuan)


def _deaths_and_diagnoses(inputs, state, t, draws, paths, col, trace) -> None:
    """2.–3. Deaths, diagnoses (claims past the waiting period), mild claims, aid."""
    N = state.members
    cell, p_col, cell_sa, p_sa = _cells(inputs, paths)
    deaths_cells = draws.binomial(N, inputs.death_q[None, :, :, None], t, streams.Kind.DEATHS,
                                  p_col, cell)
    N -= deaths_cells
    if trace is not None:
        trace["at_risk_of_diagnosis"] = N.copy()
    hazard = (inputs.diagnosis_hazard_q[None] * inputs.hazard_factor[t]
              * state.antiselection[:, None, None, None])
    diagnosed = draws.binomial(N, prob_from_hazard(hazard), t, streams.Kind.DIAGNOSES, p_col,
                               cell)
    if trace is not None:
        trace["diagnosed"] = np.array(diagnosed, dtype=np.float64)
    N -= diagnosed
    W = inputs.waiting_quarters
    claims_sa = diagnosed[:, :, :, W:].sum(axis=3)
    mild_sa = draws.binomial(claims_sa, inputs.mild_share, t, streams.Kind.MILD, p_sa, cell_sa)
    # Summed cell by cell in (sex, age) order, as the kernel does, so that amounts with
    # fractions of a yuan agree to the last bit too (cumsum adds sequentially).
    severe = ((claims_sa - mild_sa) * inputs.benefit_yuan[None, None, :]).reshape(len(paths), -1)
    aid = ((np.cumsum(severe, axis=1)[:, -1] + mild_sa.sum(axis=(1, 2)) * inputs.mild_yuan)
           * inputs.benefit_factor[t])
    claims = claims_sa.sum(axis=(1, 2))
    col["aid_reported"], col["claims_reported"] = report_claims(inputs, state, aid, claims)
    col.update(deaths=deaths_cells.sum(axis=(1, 2, 3)), claims=claims, aid=aid,
               diagnosed_in_waiting=diagnosed[:, :, :, :W].sum(axis=(1, 2, 3)),
               mild_claims=mild_sa.sum(axis=(1, 2)))


def _lapses(inputs, state, t, draws, paths, cost_prev, col) -> None:
    """4. Lapses, after raising the anti-selection factor by the expected cost-driven
    leavers (:mod:`engine.model.lapse`)."""
    N = state.members
    cell, p_col, _, _ = _cells(inputs, paths)
    n_paths = len(paths)
    if sharing.charges_by_cell(inputs.sharing_rule):
        lapse_cells = cell_lapse_probabilities(inputs, state)            # (P, S, A, Dn)
        base = np.broadcast_to(inputs.lapse_base_q, lapse_cells.shape)
        excess, stayers = lapse.excess_and_stayers(N.astype(np.float64), lapse_cells, base)
        # summed cell by cell in (sex, age, duration) order, as the kernel does
        excess = np.cumsum(excess.reshape(n_paths, -1), axis=1)[:, -1]
        stayers = np.cumsum(stayers.reshape(n_paths, -1), axis=1)[:, -1]
    else:
        lapse_q = lapse_probabilities(inputs, cost_prev)                 # (P, Dn)
        lapse_cells = lapse_q[:, None, None, :]
        by_duration = N.sum(axis=(1, 2))                                 # (P, Dn)
        excess, stayers = np.zeros(n_paths), np.zeros(n_paths)
        for d in range(inputs.n_durations):                              # fixed order
            e, s = lapse.excess_and_stayers(by_duration[:, d].astype(np.float64),
                                            lapse_q[:, d], inputs.lapse_base_q[d])
            excess += e
            stayers += s
    lift = lapse.antiselection_lift(inputs.antiselection, excess, stayers)
    state.antiselection = state.antiselection * (1.0 + lift)
    lapses_cells = draws.binomial(N, lapse_cells, t, streams.Kind.LAPSES, p_col, cell)
    N -= lapses_cells
    col["lapses"] = lapses_cells.sum(axis=(1, 2, 3))
    col["antiselection_factor"] = state.antiselection


def _share(inputs, state, t, sharer_cells, col) -> None:
    """6. Cost sharing and reserve (:mod:`engine.model.sharing`) for the sharers counted
    in 5; what a sharer paid enters the cost window (and pre-paid balances)."""
    n_paths = len(sharer_cells)
    if inputs.year_starts[t]:
        state.paid_this_year_yuan = np.zeros(n_paths)
        state.cell_paid_this_year_yuan = np.zeros_like(state.cell_paid_this_year_yuan)
    rules = dict(fee_rate=inputs.fee_rate, cap_per_quarter_yuan=inputs.cap_per_quarter_yuan,
                 cap_per_year_yuan=inputs.cap_per_year_yuan,
                 shortfall_rule=inputs.shortfall_rule, loading_yuan_q=inputs.loading_yuan_q,
                 reserve_growth_q=inputs.reserve_growth_q,
                 platform_funds=bool(inputs.platform_funds[t]))
    K = inputs.cost_window_quarters
    if inputs.sharing_rule == sharing.SharingRule.AGE_RATED:
        money = sharing.share_costs_age_rated(
            col["aid_reported"], sharer_cells, inputs.share_weight,
            state.cell_paid_this_year_yuan, state.reserve_yuan, **rules)
        state.cell_window_yuan[:, t % K] = money["charged_cells"]
        state.cell_paid_this_year_yuan = money["paid_this_year_cells"]
        # What a cell has paid moves on with its members' age (the youngest cell keeps its
        # own perceived costs; nobody in it has paid yet this year).
        state.cell_window_yuan[:, :, :, 1:] = state.cell_window_yuan[:, :, :, :-1].copy()
        state.cell_paid_this_year_yuan[:, :, 1:] = state.cell_paid_this_year_yuan[:, :, :-1].copy()
        state.cell_paid_this_year_yuan[:, :, 0] = 0.0
    else:
        money = sharing.share_costs(col["aid_reported"], col["sharers"],
                                    state.paid_this_year_yuan, state.reserve_yuan, **rules)
        state.paid_this_year_yuan = money["paid_this_year"]
    state.reserve_yuan = money["reserve"]
    state.cost_window_yuan[:, t % K] = money["cost_per_member"]
    if inputs.prepaid:
        first = inputs.waiting_quarters if inputs.sharers_eligible_only else 0
        paid = money["cost_per_member"]
        state.balance_yuan[:, first:] = state.balance_yuan[:, first:] - paid[:, None]
        state.last_charge_yuan = paid
    col.update({k: money[k] for k in ("cost_per_member", "required_cost_per_member",
                                      "shortfall", "aid_paid", "platform_funding",
                                      "fee_revenue", "reserve", "solvency_gap")})


def _age(inputs, state, t, col) -> None:
    """7. Ageing and duration; closure; members and pre-paid balance at the quarter's end."""
    N = state.members
    n_paths = N.shape[0]
    col["aged_out"] = N[:, :, -1, :].sum(axis=(1, 2))
    N[:, :, 1:, :] = N[:, :, :-1, :].copy()
    N[:, :, 0, :] = 0
    D = inputs.n_durations - 1
    if inputs.prepaid and D > 0:
        shift_balances(inputs, state, N.sum(axis=(1, 2)))
    if D > 0:
        N[:, :, :, D] += N[:, :, :, D - 1]
        N[:, :, :, 1:D] = N[:, :, :, 0:D - 1].copy()
        N[:, :, :, 0] = 0
    col["closed_out"] = np.zeros(n_paths, dtype=N.dtype)
    if t == inputs.closure_quarter:
        col["closed_out"] = N.sum(axis=(1, 2, 3))
        N[...] = 0
    balance = np.zeros(n_paths)
    if inputs.prepaid:
        counts = N.sum(axis=(1, 2)).astype(np.float64)                      # (P, Dn)
        held, total = np.zeros(n_paths), np.zeros(n_paths)
        for d in range(inputs.n_durations):                                 # fixed order
            held = held + counts[:, d] * state.balance_yuan[:, d]
            total = total + counts[:, d]
        balance = np.where(total > 0, held / np.where(total > 0, total, 1.0), 0.0)
    col["balance_per_member"] = balance
    col["members"] = N.sum(axis=(1, 2, 3))


def expected_path(inputs: ModelInputs) -> dict[str, np.ndarray]:
    """The expected path (see :class:`MeanDraws`): one value per variable and quarter."""
    out = {name: np.zeros((1, inputs.quarters)) for name in _ALL_VARIABLES}
    state = initial_state(inputs, 1, dtype=np.float64)
    paths = np.zeros(1, dtype=np.int64)
    draws = MeanDraws()
    for t in range(inputs.quarters):
        step_quarter(inputs, state, t, draws, paths, np.ones(1), out)
    return {k: v[0] for k, v in out.items()}

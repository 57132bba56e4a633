"""The quarter step in plain numpy, vectorised across paths: the model's reference.

Order of events within quarter ``t`` (the one place it is written; the numba kernel
follows it step for step)
--------------------------------------------------------------------------------------
State per path: members ``N[r, a, d]`` (row = sex and risk group, age-quarter, duration),
the costs per member of the last ``k`` quarters (``c`` below is their mean,
``k = cost_window_quarters``; before the first quarter they are ``c_ref``), persons ever
joined ``C``, the reserve ``R`` and what a sharer has paid this calendar year ``y``. The
systematic incidence level ``Λ[p, t]`` (:mod:`engine.model.systematic`) and the joins'
mixing multiplier ``G[p, t]`` are drawn for the whole path before it starts.

1. **Joins** (:mod:`engine.model.growth`). ``λ = min(growth(N, C) · exp(−ε (c / c_ref − 1))
   · G_t, R)`` with ``R = ⌊M − C⌋``; ``J ~ Binomial(R, λ / R)`` (``Poisson(λ)`` without a
   market potential), split over (sex, age-quarter) cells by the binary tree of the
   joiners' mix ``π`` and then over risk groups by ``share_k exp(−β_k (c / c_ref − 1))``.
   Joiners enter at duration 0, which holds nobody else (``D ≥ 1``).
2.–4. **The decrements**, in the order of the table :data:`engine.model.events.DECREMENTS`
(each row names its stream, whom it draws from, its output and its probability; drawn by
:mod:`engine.model.decrements`); today pre-paid suspensions (below), then:

2. **Deaths.** ``Binomial(N, qd[s, a])``; at ``d = 0`` (joiners, half a quarter of
   exposure) ``1 − √(1 − qd)``.
3. **Diagnoses.** ``Binomial(N, 1 − exp(−h[r, a, d] · g_t · Λ_t))`` where ``h`` is the
   quarterly hazard of ``incidence / cancer_share · group_multiplier[k] · selection[d]``
   (halved at ``d = 0``) and ``g_t = (1 + trend)^(t/4) · shock_t``. Diagnoses at
   ``d > W`` are claims; at ``d < W`` they are not paid; in the quarter the waiting period
   ends (``d = W ≥ 1``) joiners who arrived spread through the quarter are past it for half
   of it, so ``Binomial(diagnosed, 1/2)`` of them are claims. All diagnosed members leave.
   Claims per (row, age-quarter) split into mild ones by ``Binomial(claims, mild_share)``.
   Aid incurred ``(Σ (claims − mild) · benefit[a] + mild · mild_amount) · (1 +
   inflation)^(t/4)``.
4. **Lapses** (:mod:`engine.model.lapse`). ``ℓ[r, d] = min(1, ℓ0[d] + ℓc[d] · (c /
   c_ref)^(η σ_k))`` for ``d ≥ 1``; joiners (``d = 0``) do not react to cost: they lapse
   at ``min(1, ℓ0[0] + ℓc[0])``, as at the reference cost.
   ``Binomial(N, ℓ)``. A plan enrolled by another (children by their parents,
   :mod:`engine.config.platform`) lapses at ``f^k_t``, the share of the enrolling plan's
   members who lapsed or were suspended this quarter, at every duration, and joins
   ``Poisson(r J^k_t)`` in step 1 in place of its own growth. The anti-selection factor
   reported is the pool's incidence multiplier ``Σ N_r m_k(r) / Σ N_r`` after the lapses
   (1 = the population's mix).
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

Roll-forward identity (tested): ``members_end = members_start + joins − Σ leaving −
aged_out − closed_out``, the sum over the counts of members leaving by a decrement
(:data:`engine.model.events.LEAVING`: today suspended, deaths, claims, diagnosed_in_waiting
and lapses). Joins are zero from ``growth.stop_joins_from`` and from the closure quarter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.model import growth, payment, prepaid, sharing
from engine.model.decrements import draw_decrements
from engine.model.inputs import ModelInputs
from engine.model.tilt import CLAIM_STATS
from engine.random import samplers, streams
from engine.variables import CELLS_PREFIX


class KeyedDraws:
    """Exact random draws from the keyed streams of ``seed`` (the simulation); the other
    kind is :class:`engine.model.mean_path.MeanDraws` (each draw its mean)."""

    keyed = True    # draws that a claim tilt can tilt (a mean path has none)

    def __init__(self, seed: int):
        self.seed = seed

    def binomial(self, n, p, t: int, kind: int, path, cell):
        return samplers.binomial(n, p, streams.Stream(self.seed, t, kind), path, cell)

    def poisson(self, lam, t: int, kind: int, path, cell):
        return samplers.poisson(lam, streams.Stream(self.seed, t, kind), path, cell)


@dataclass
class State:
    """Per-path state of a chunk of ``P`` paths (arrays are updated in place)."""

    members: np.ndarray          # (P, R, A, Dn) int64
    cost_window_yuan: np.ndarray  # (P, k) float: what a sharer paid in the last k quarters
    ever_joined: np.ndarray      # (P,) int64
    reserve_yuan: np.ndarray     # (P,) float
    paid_this_year_yuan: np.ndarray  # (P,) float
    pending_aid_yuan: np.ndarray     # (L−1, P) aid of earlier quarters falling due later
    pending_claims: np.ndarray       # (L−1, P) their claims (expected shares)
    cell_window_yuan: np.ndarray     # (P, k, R, A) age-rated: what each cell paid, last k
    cell_paid_this_year_yuan: np.ndarray  # (P, R, A) age-rated: paid this year, per cell
    balance_yuan: np.ndarray         # (P, Dn) pre-paid: average balance per member, by duration
    last_charge_yuan: np.ndarray     # (P,) pre-paid: what a sharer paid last quarter
    claim_stats: np.ndarray          # (P, 4) tilted claims (engine.model.tilt.CLAIM_STATS)
    detail_cells: dict | None = None  # the quarter's [output] detail by (P, R, A), or None


def initial_state(inputs: ModelInputs, n_paths: int, dtype=np.int64) -> State:
    """Every path starts from the scenario's initial members, reserve and a neutral cost.

    ``dtype=float`` gives the state of the expected path (:mod:`engine.model.mean_path`).
    """
    members = np.broadcast_to(inputs.initial_members.astype(dtype),
                              (n_paths, *inputs.initial_members.shape)).copy()
    total = int(inputs.initial_members.sum())
    return State(
        members=members,
        cost_window_yuan=np.full((n_paths, inputs.cost_window_quarters),
                                 inputs.reference_cost_yuan_q),
        ever_joined=np.full(n_paths, total, dtype=dtype),
        reserve_yuan=np.full(n_paths, inputs.reserve_initial_yuan),
        paid_this_year_yuan=np.zeros(n_paths),
        pending_aid_yuan=np.zeros((len(inputs.payment_pattern) - 1, n_paths)),
        pending_claims=np.zeros((len(inputs.payment_pattern) - 1, n_paths)),
        cell_window_yuan=np.full((n_paths, inputs.cost_window_quarters, inputs.n_rows,
                                  inputs.n_age_quarters), inputs.reference_cost_yuan_q),
        cell_paid_this_year_yuan=np.zeros((n_paths, inputs.n_rows, inputs.n_age_quarters)),
        balance_yuan=np.full((n_paths, inputs.n_durations), inputs.deposit_yuan),
        last_charge_yuan=np.zeros(n_paths),
        claim_stats=np.zeros((n_paths, len(CLAIM_STATS))),
    )


def perceived_cost(state: State) -> np.ndarray:
    """``c``: mean cost per member over the window, summed in a fixed order."""
    window = state.cost_window_yuan
    total = np.zeros(window.shape[0])
    for j in range(window.shape[1]):
        total = total + window[:, j]
    return total / window.shape[1]




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




def step_quarter(inputs: ModelInputs, state: State, t: int, draws, paths: np.ndarray,
                 join_gamma: np.ndarray, incidence_level: np.ndarray,
                 out: dict[str, np.ndarray], trace: dict | None = None,
                 moves: dict | None = None) -> None:
    """Advance ``state`` by quarter ``t`` and write column ``t`` of ``out``.

    ``draws`` is :class:`KeyedDraws` (simulation) or
    :class:`engine.model.mean_path.MeanDraws` (expected path);
    ``paths`` are the global path indices (the streams' counters); ``join_gamma`` the
    joins' mixing multipliers and ``incidence_level`` the systematic level ``Λ`` of this
    quarter, one per path. ``trace``, if given, receives
    per-cell arrays of the quarter: ``at_risk_of_diagnosis``, ``diagnosed`` and
    ``before_ageing`` (members after every decrement, before ageing: the sharers' base).
    ``moves`` (a platform's plans, :mod:`engine.run.plans`): ``moves["in"]`` ``(P, R,
    Dn)`` members who enter at the youngest age after ageing (or None), and
    ``moves["out"]``, if given, receives the ``(P, R, Dn)`` members who aged out;
    ``moves["enrolment"]``, for an enrolled plan, is ``(J^k_t, f^k_t)`` per path, the
    enrolling plan's joins and leavers' share of the quarter.
    """
    col: dict[str, np.ndarray] = {}
    # the results' detail by (path, row, age), for each variable ``out`` keeps it of
    cells = {} if any(CELLS_PREFIX + name in out for name in inputs.detail) else None
    state.detail_cells = cells
    cost_prev = perceived_cost(state)
    enrolment = None if moves is None else moves.get("enrolment")
    _joins(inputs, state, t, draws, paths, join_gamma, cost_prev, col, enrolment)
    claims, mild, below_cap = draw_decrements(inputs, state, t, draws, paths, incidence_level,
                                              cost_prev, col, trace,
                                              None if enrolment is None else enrolment[1])
    _aid(inputs, state, t, claims, mild, below_cap, col)
    col["antiselection_factor"] = pool_incidence(inputs, state.members)
    col["incidence_level"] = incidence_level + np.zeros(len(paths))
    first = inputs.waiting_quarters if inputs.sharers_eligible_only else 0
    sharer_cells = state.members[:, :, :, first:].sum(axis=3)             # (P, S, A)
    col["sharers"] = sharer_cells.sum(axis=(1, 2))
    if trace is not None:
        trace["before_ageing"] = state.members.copy()
    _share(inputs, state, t, sharer_cells, col)
    _age(inputs, state, t, col, moves)
    for name, values in col.items():
        out[name][:, t] = values
    if cells is not None:
        cells.update(sharers=sharer_cells, members=state.members.sum(axis=3))
        for name in inputs.detail:
            if CELLS_PREFIX + name in out:
                out[CELLS_PREFIX + name][:, t] = to_bands(
                    cells.get(name, np.zeros_like(cells["claims"])), inputs.age_band,
                    inputs.n_age_bands)


def to_bands(cells: np.ndarray, band: np.ndarray, n_bands: int) -> np.ndarray:
    """``(P, R, A)`` counts or amounts by cell as ``(P, R, B)`` by age band, each band's
    cells added in age order (the kernel's order, so that amounts agree to the bit)."""
    out = np.zeros(cells.shape[:2] + (n_bands,), dtype=cells.dtype)
    for a in range(cells.shape[2]):
        out[:, :, band[a]] += cells[:, :, a]
    return out




def _aid(inputs, state, t, claims, mild, below_cap, col) -> None:
    """3. Aid incurred by the quarter's claims, mild claims and claims at a payout level
    (``below_cap``: each level's ``x (ℓ_k − b)``) per (path, row, age), and what falls due
    (:func:`report_claims`)."""
    # Summed cell by cell in (row, age) order, then level by level, as the kernel does, so
    # that amounts with fractions of a yuan agree to the last bit too (cumsum adds
    # sequentially).
    n_paths = len(claims)
    severe = ((claims - mild) * inputs.benefit_yuan[t][None, None, :]).reshape(n_paths, -1)
    severe_yuan = np.cumsum(severe, axis=1)[:, -1]
    for level in below_cap:
        severe_yuan = severe_yuan + np.cumsum(level.reshape(n_paths, -1), axis=1)[:, -1]
    aid = (severe_yuan + mild.sum(axis=(1, 2)) * inputs.mild_yuan) * inputs.benefit_factor[t]
    # fractions of a yuan: a level rounded to 0 less the full amount can leave −1e−18
    aid = np.where(aid < 0.0, 0.0, aid)
    col["claims"] = claims.sum(axis=(1, 2))
    col["aid"] = aid
    cells = state.detail_cells
    if cells is not None:
        # the detail's aid per cell, operation for operation as the kernel adds it
        aid_cells = ((claims - mild) * inputs.benefit_yuan[t][None, None, :]
                     + mild * inputs.mild_yuan)
        for level in below_cap:
            aid_cells = aid_cells + level
        cells.update(claims=claims, aid=aid_cells * inputs.benefit_factor[t])
    col["aid_reported"], col["claims_reported"] = report_claims(inputs, state, aid, col["claims"])


def _joins(inputs, state, t, draws, paths, join_gamma, cost_prev, col, enrolment) -> None:
    """1. Joins: the quarter's total within the market, or an enrolled plan's
    ``Poisson(r J^k_t)`` (``enrolment``), split over cells and groups
    (:mod:`engine.model.growth`); deposits."""
    N = state.members
    n_paths = len(paths)
    enrolled = inputs.enrolled_per_joiner > 0.0
    if enrolled:
        lam = inputs.enrolled_per_joiner * np.asarray(enrolment[0], dtype=np.float64)
    else:
        lam = growth.expected_joins(inputs.growth_model,
                                    N.sum(axis=(1, 2, 3)).astype(np.float64),
                                    state.ever_joined.astype(np.float64),
                                    inputs.market_potential, inputs.innovation_q,
                                    inputs.imitation_q, inputs.joins_series[t])
        lam = lam * growth.join_damping(cost_prev, inputs.reference_cost_yuan_q,
                                        inputs.join_cost_elasticity) * join_gamma
    if not inputs.joins_open[t]:
        lam = np.zeros_like(lam)
    if inputs.market_potential > 0.0 and not enrolled:
        room = growth.remaining_market(inputs.market_potential,
                                       state.ever_joined.astype(np.float64))
        lam = np.minimum(lam, room)
        total = draws.binomial(room.astype(np.int64), growth.join_probability(lam, room), t,
                               streams.Kind.JOINS_TOTAL, paths, inputs.join_cell)
    else:
        total = draws.poisson(lam, t, streams.Kind.JOINS_TOTAL, paths, inputs.join_cell)
    joins_cells = _split_joins(inputs, total, cost_prev, t, draws, paths)  # (P, R, A)
    joins = joins_cells.sum(axis=(1, 2))
    if inputs.prepaid:
        # Joiners bring the deposit into the first duration cohort (empty: D ≥ 1).
        held = N[:, :, :, 0].sum(axis=(1, 2)).astype(np.float64)
        state.balance_yuan[:, 0] = prepaid.blend(held, state.balance_yuan[:, 0], joins,
                                                 inputs.deposit_yuan, inputs.deposit_yuan)
    N[:, :, :, 0] += joins_cells
    if state.detail_cells is not None:
        state.detail_cells["joins"] = joins_cells
    state.ever_joined += joins
    col["joins"], col["expected_joins"] = joins, lam + np.zeros(n_paths)


def _split_joins(inputs, total, cost_prev, t, draws, paths):
    """The quarter's joins over (row, age-quarter) cells: the binary tree over the
    (sex, age) mix, one vectorised draw per level, then the groups in order."""
    p_left = inputs.join_split_p
    L = len(p_left)
    nodes = np.zeros((len(paths), 2 * L), dtype=total.dtype)
    nodes[:, 1] = total
    level = 1
    while level < L:
        inner = np.arange(level, 2 * level)
        n = nodes[:, inner]
        p = np.broadcast_to(p_left[inner], n.shape)
        left = draws.binomial(n, p, t, streams.Kind.JOINS, paths[:, None],
                              inner[None, :] + inputs.join_cell)
        nodes[:, 2 * inner] = left
        nodes[:, 2 * inner + 1] = n - left
        level *= 2
    A = inputs.n_age_quarters
    by_sex_age = nodes[:, L:L + 2 * A].reshape(len(paths), 2, A)
    K = inputs.n_groups
    out = np.zeros((len(paths), 2 * K, A), dtype=total.dtype)
    if K == 1:
        out[:] = by_sex_age
        return out
    weight = np.stack([growth.group_tilt(inputs.group_share[k],
                                         inputs.group_join_sensitivity[k], cost_prev,
                                         inputs.reference_cost_yuan_q) for k in range(K)],
                      axis=1)                                               # (P, K)
    suffix = np.zeros_like(weight)
    acc = np.zeros(len(paths))
    for k in range(K - 1, -1, -1):                                          # fixed order
        acc = acc + weight[:, k]
        suffix[:, k] = acc
    left = by_sex_age
    for k in range(K):
        rows = np.arange(2) * K + k
        if k == K - 1:
            out[:, rows] = left
            break
        p = np.where(suffix[:, k] > 0, weight[:, k] / np.where(suffix[:, k] > 0,
                                                                suffix[:, k], 1.0), 0.0)
        x = draws.binomial(left, np.broadcast_to(p[:, None, None], left.shape), t,
                           streams.Kind.JOINS_GROUP, paths[:, None, None],
                           inputs.cell_id[rows][None, :, :, 0] + inputs.join_cell)
        out[:, rows] = x
        left = left - x
    return out










def pool_incidence(inputs: ModelInputs, members: np.ndarray) -> np.ndarray:
    """``Σ_r N_r m_k(r) / Σ_r N_r`` per path (rows in order; 1 when nobody is left)."""
    by_row = members.sum(axis=(2, 3))                                    # (P, R) exact
    weighted = np.zeros(by_row.shape[0])
    for r in range(by_row.shape[1]):                                     # fixed order
        weighted = weighted + by_row[:, r] * inputs.group_incidence[r]
    total = by_row.sum(axis=1)
    return np.where(total > 0, weighted / np.where(total > 0, total, 1), 1.0)


def _share(inputs, state, t, sharer_cells, col) -> None:
    """6. Cost sharing and reserve (:mod:`engine.model.sharing`) for the sharers counted
    in 5; what a sharer paid enters the cost window (and pre-paid balances)."""
    n_paths = len(sharer_cells)
    if inputs.year_starts[t]:
        state.paid_this_year_yuan = np.zeros(n_paths)
        state.cell_paid_this_year_yuan = np.zeros_like(state.cell_paid_this_year_yuan)
    terms = sharing.SharingTerms(
        fee_rate=inputs.fee_rate, cap_per_quarter_yuan=inputs.cap_per_quarter_yuan,
        cap_per_year_yuan=inputs.cap_per_year_yuan, shortfall_rule=inputs.shortfall_rule,
        loading_yuan_q=inputs.loading_yuan_q, reserve_growth_q=inputs.reserve_growth_q,
        platform_funds=bool(inputs.platform_funds[t]))
    K = inputs.cost_window_quarters
    if inputs.sharing_rule == sharing.SharingRule.AGE_RATED:
        money = sharing.share_costs_age_rated(
            col["aid_reported"], sharer_cells, inputs.share_weight,
            state.cell_paid_this_year_yuan, state.reserve_yuan, terms)
        state.cell_window_yuan[:, t % K] = money["charged_cells"]
        state.cell_paid_this_year_yuan = money["paid_this_year_cells"]
        # What a cell has paid moves on with its members' age (the youngest cell keeps its
        # own perceived costs; nobody in it has paid yet this year).
        state.cell_window_yuan[:, :, :, 1:] = state.cell_window_yuan[:, :, :, :-1].copy()
        state.cell_paid_this_year_yuan[:, :, 1:] = state.cell_paid_this_year_yuan[:, :, :-1].copy()
        state.cell_paid_this_year_yuan[:, :, 0] = 0.0
    else:
        money = sharing.share_costs(col["aid_reported"], col["sharers"],
                                    state.paid_this_year_yuan, state.reserve_yuan, terms)
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


def _age(inputs, state, t, col, moves=None) -> None:
    """7. Ageing and duration; members moving in from a younger plan; closure; members and
    pre-paid balance at the quarter's end."""
    N = state.members
    n_paths = N.shape[0]
    col["aged_out"] = N[:, :, -1, :].sum(axis=(1, 2))
    if moves is not None and moves.get("out") is not None:
        moves["out"][...] = N[:, :, -1, :]
    N[:, :, 1:, :] = N[:, :, :-1, :].copy()
    N[:, :, 0, :] = 0
    D = inputs.n_durations - 1
    if inputs.prepaid and D > 0:
        shift_balances(inputs, state, N.sum(axis=(1, 2)))
    if D > 0:
        N[:, :, :, D] += N[:, :, :, D - 1]
        N[:, :, :, 1:D] = N[:, :, :, 0:D - 1].copy()
        N[:, :, :, 0] = 0
    if moves is not None and moves.get("in") is not None:
        N[:, :, 0, :] += moves["in"]
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

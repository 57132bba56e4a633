"""Kernel steps that move members: start of a path, joins, decrements, ageing.

Each step is one ``@njit`` function (compiled into the cached path loop) of the records of
:mod:`engine.kernel.records`, following the order of events of
:mod:`engine.model.reference` operation for operation; the rules themselves (growth, lapse,
pre-paid, conversions) are the model's own functions, compiled here for one path.
Explicit loops, not slice assignment: broadcasting checks pull in seconds of compile.
``no_cpython_wrapper``: the steps are called only from the path loop, and the wrapper that
would let Python call one unboxes every array of the records (about 4 s of cold compile).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine.kernel.records import FLT, INT, ROUTE, STAGE, STAGE_ROUTE, STAGE_SLOT
from engine.model.growth import (
    expected_joins,
    group_tilt,
    join_damping,
    join_probability,
    remaining_market,
)
from engine.model.lapse import cost_ratio, joiners_lapse, lapse_probability
from engine.model.prepaid import blend, is_short, suspension_probability, topped_up
from engine.model.sharing import charges_by_cell
from engine.model.tilt import CLAIM_TILT_UNIT_YUAN, claim_tilted_probability
from engine.model.units import prob_from_hazard
from engine.random.compiled import binomial, poisson

CLAIM_UNIT = 1.0 / CLAIM_TILT_UNIT_YUAN


@njit(error_model="numpy", no_cpython_wrapper=True)
def start_path(par, initial_members, st):
    """Every path starts from the initial members, reserve and a neutral perceived cost."""
    S, A, Dn = st.members.shape
    ever = 0
    for s in range(S):
        for a in range(A):
            for d in range(Dn):
                st.members[s, a, d] = initial_members[s, a, d]
                ever += initial_members[s, a, d]
            st.paid_year_cells[s, a] = 0.0
            for j in range(st.cost_window.size):
                st.cell_window[j, s, a] = par.reference_cost_yuan_q
    for j in range(st.cost_window.size):
        st.cost_window[j] = par.reference_cost_yuan_q
    for d in range(Dn):
        st.balance[d] = par.deposit_yuan
    for j in range(st.pending_aid.size):
        st.pending_aid[j] = 0.0
        st.pending_claims[j] = 0.0
    st.ever_joined[0] = ever
    st.reserve[0] = par.reserve_initial_yuan
    st.paid_year[0] = 0.0
    st.last_charge[0] = 0.0


@njit(error_model="numpy", no_cpython_wrapper=True)
def perceived_cost(window):
    """``c``: mean cost per member over the window, summed in a fixed order."""
    total = 0.0
    for j in range(window.size):
        total = total + window[j]
    return total / window.size


@njit(error_model="numpy", no_cpython_wrapper=True)
def joins(t, i, c0, par, tab, keys, st, scr, out, drivers):
    """1. Joins: the quarter's total within the market (``Binomial(R, λ/R)``, or Poisson
    without a market potential; an enrolled plan ``Poisson(r J^k_t)`` of the enrolling
    plan's joins), split over (sex, age) cells by the binary tree of the joiners' mix and
    over risk groups by their tilt (:mod:`engine.model.growth`); deposits."""
    cost_prev = perceived_cost(st.cost_window)
    N = st.members
    S, A, Dn = N.shape
    start_total = 0
    for s in range(S):
        for a in range(A):
            for d in range(Dn):
                start_total += N[s, a, d]
    enrolled = par.enrolled_per_joiner > 0.0
    if enrolled:
        lam = par.enrolled_per_joiner * drivers.source_joins[i, t]
    else:
        lam = expected_joins(par.growth_model, float(start_total), float(st.ever_joined[0]),
                             par.market_potential, par.innovation_q, par.imitation_q,
                             tab.joins_series[t])
        lam = lam * join_damping(cost_prev, par.reference_cost_yuan_q,
                                 par.join_cost_elasticity)
        lam = lam * drivers.join_gamma[i, t]
    if not tab.joins_open[t]:
        lam = 0.0
    if par.market_potential > 0.0 and not enrolled:
        room = remaining_market(par.market_potential, float(st.ever_joined[0]))
        lam = min(lam, room)
        total = binomial(np.int64(room), join_probability(lam, room), keys.k0, keys.k1, c0,
                         np.uint64(keys.joins_total[t]), np.uint64(keys.join_cell))
    else:
        total = poisson(lam, keys.k0, keys.k1, c0, np.uint64(keys.joins_total[t]),
                        np.uint64(keys.join_cell))
    held_new = 0
    if par.prepaid:
        for s in range(S):
            for a in range(A):
                held_new += N[s, a, 0]
    _split_joins(t, c0, tab, keys, scr, total)
    joined = _joins_into_groups(t, i, c0, tab, keys, st, scr, out, cost_prev,
                                par.reference_cost_yuan_q)
    if par.prepaid:
        st.balance[0] = blend(float(held_new), st.balance[0], float(joined), par.deposit_yuan,
                              par.deposit_yuan)
        for d in range(Dn):
            scr.short[d] = is_short(st.balance[d], st.last_charge[0])
    st.ever_joined[0] += joined
    out.ints[INT.joins, i, t] = joined
    out.floats[FLT.expected_joins, i, t] = lam


@njit(error_model="numpy", no_cpython_wrapper=True)
def _split_joins(t, c0, tab, keys, scr, total):
    """The binary tree of binomial splits over the (sex, age) mix
    (:func:`engine.model.growth.split_tree`): leaves ``L + s·A + a`` of ``scr.join_nodes``."""
    p_left = tab.join_split_p
    L = p_left.size
    nodes = scr.join_nodes
    nodes[1] = total
    word = np.uint64(keys.joins[t])
    level = 1
    while level < L:
        for node in range(level, 2 * level):
            n = nodes[node]
            x = binomial(n, p_left[node], keys.k0, keys.k1, c0, word,
                         np.uint64(node + keys.join_cell))
            nodes[2 * node] = x
            nodes[2 * node + 1] = n - x
        level *= 2


@njit(error_model="numpy", no_cpython_wrapper=True)
def _joins_into_groups(t, i, c0, tab, keys, st, scr, out, cost_prev, reference_cost):
    """Each (sex, age) cell's joiners over the risk groups, in order, by the groups' tilt;
    they enter at duration 0 (and the joins' detail, if asked). Returns the quarter's
    joins."""
    N = st.members
    L = tab.join_split_p.size
    G = tab.group_share.size
    A = N.shape[1]
    acc = 0.0
    for k in range(G - 1, -1, -1):
        scr.group_weight[k] = group_tilt(tab.group_share[k], tab.group_join_sensitivity[k],
                                         cost_prev, reference_cost)
        acc = acc + scr.group_weight[k]
        scr.group_suffix[k] = acc
    word = np.uint64(keys.joins_group[t])
    joined = 0
    slot = out.detail_slot[INT.joins]
    for s in range(2):
        for a in range(A):
            left = scr.join_nodes[L + s * A + a]
            for k in range(G):
                r = s * G + k
                if k == G - 1:
                    x = left
                else:
                    suffix = scr.group_suffix[k]
                    p = scr.group_weight[k] / suffix if suffix > 0.0 else 0.0
                    x = binomial(left, p, keys.k0, keys.k1, c0, word,
                                 np.uint64(tab.cell_id[r, a, 0] + keys.join_cell))
                N[r, a, 0] += x
                left -= x
                joined += x
                if slot >= 0:
                    out.detail_counts[slot, i, t, r, out.detail_band[a]] += x
    return joined


@njit(error_model="numpy", no_cpython_wrapper=True)
def prepare_lapses(par, tab, st, scr, leave_q):
    """4. (before the draws) Lapse probabilities of the quarter: per row and duration, or
    (age-rated sharing) the cost ratio per cell (:mod:`engine.model.lapse`), from the cost
    perceived at the quarter's start (the window is not updated before the sharing); an
    enrolled plan's ``leave_q``, the enrolling plan's leavers' share, at every duration."""
    R, A, Dn = st.members.shape
    if par.enrolled_per_joiner > 0.0:
        for r in range(R):
            for d in range(Dn):
                scr.lapse_q[r, d] = leave_q
    elif charges_by_cell(par.sharing_rule):
        # each cell reacts to what its members paid
        K = st.cost_window.size
        for r in range(R):
            for a in range(A):
                total = 0.0
                for j in range(K):
                    total = total + st.cell_window[j, r, a]
                scr.lapse_ratio_cells[r, a] = cost_ratio(total / K, par.reference_cost_yuan_q,
                                                         tab.lapse_exponent[r])
    else:
        cost_prev = perceived_cost(st.cost_window)
        for r in range(R):
            ratio = cost_ratio(cost_prev, par.reference_cost_yuan_q, tab.lapse_exponent[r])
            scr.lapse_q[r, 0] = joiners_lapse(tab.lapse_fixed_q[0], tab.lapse_cost_q[0])
            for d in range(1, Dn):
                scr.lapse_q[r, d] = lapse_probability(tab.lapse_fixed_q[d], tab.lapse_cost_q[d],
                                                      ratio)


@njit(error_model="numpy", no_cpython_wrapper=True)
def pool_incidence(t, i, group_incidence, st, out, level_t):
    """4. (after the draws) The pool's incidence: the systematic level ``Λ`` of the quarter
    (``level_t``) and the multiplier ``Σ N_r m_r / Σ N_r`` (1 when nobody is left), the
    anti-selection the risk groups produce."""
    out.floats[FLT.incidence_level, i, t] = level_t
    R, A, Dn = st.members.shape
    weighted = 0.0
    total = 0
    for r in range(R):
        n = 0
        for a in range(A):
            for d in range(Dn):
                n += st.members[r, a, d]
        weighted = weighted + float(n) * group_incidence[r]
        total += n
    out.floats[FLT.antiselection_factor, i, t] = weighted / float(total) if total > 0 else 1.0


@njit(error_model="numpy", no_cpython_wrapper=True)
def apply_stage(stage, k, t, i, par, tab, st, scr, out, count):
    """2.–4. (after the draws) A stage's ``count`` draws ``scr.draws.x`` applied to their
    cells (``scr.draw_cell``) by the decrement's route (:class:`engine.model.events.Route`),
    in the order :func:`gather_stage` gathered them; the claim tilt's sums added to the
    path's; the count added to the stage's output variable (and its detail). Returns the
    aid of the severe claims (yuan): for mild claims, the severe ones' at the full benefit;
    for payout level ``k``, what its claims are paid less than that, ``Σ x (ℓ_k − b)``; 0
    for the others. Diagnoses past the waiting period go to ``scr.claims_cells``, those in
    the quarter it ends to ``scr.boundary_cells`` (half of them are claims: the eligible
    stage); the others drawn are counted in the stage's output."""
    route = STAGE_ROUTE[stage]
    tilting = _tilting(route, t, par)
    N = st.members
    waiting = par.waiting_quarters
    first_claim_d = waiting + 1 if waiting > 0 else 0
    cd = scr.draws
    drawn = 0
    severe_yuan = 0.0
    # [output] detail: the stage's count by (row, age band), and the aid per cell
    slot = out.detail_slot[STAGE_SLOT[stage]]
    aid_cells = out.detail_aid.shape[0] > 0
    log_w = 0.0
    tilted_aid = 0.0
    tilted_mean = 0.0
    tilted_var = 0.0
    for j in range(count):
        s = scr.draw_cell[j, 0]
        a = scr.draw_cell[j, 1]
        d = scr.draw_cell[j, 2]
        n = cd.n[j]
        x = cd.x[j]
        if tilting and d >= first_claim_d:
            p = cd.p[j]
            b = tab.benefit_yuan[t, a] * tab.benefit_factor[t] * CLAIM_UNIT
            theta_c = par.claim_tilt * b
            log_w = log_w + (-theta_c * x + n * math.log(scr.draw_norm[j]))
            tilted_aid = tilted_aid + b * x
            tilted_mean = tilted_mean + n * b * p
            tilted_var = tilted_var + n * b * b * p * (1.0 - p)
        counted = x        # what the stage's output variable counts of the cell
        if route == ROUTE.mild:
            severe_yuan += float(n - x) * tab.benefit_yuan[t, a]
            scr.severe_cells[s, a] = n - x
            if aid_cells:
                scr.aid_cells[s, a] = (float(n - x) * tab.benefit_yuan[t, a]
                                       + float(x) * par.mild_yuan)
        elif route == ROUTE.payout:
            level_yuan = float(x) * (tab.payout_level_yuan[t, a, k] - tab.benefit_yuan[t, a])
            severe_yuan += level_yuan
            scr.severe_cells[s, a] = n - x
            if aid_cells:
                scr.aid_cells[s, a] += level_yuan
        elif route == ROUTE.eligible:
            scr.claims_cells[s, a] += x
            counted = n - x
        else:
            N[s, a, d] = n - x
            if route == ROUTE.diagnose and d >= waiting:
                counted = 0
                if d == waiting and waiting > 0:
                    scr.boundary_cells[s, a] = x
                else:
                    scr.claims_cells[s, a] += x
        drawn += counted
        if slot >= 0:
            out.detail_counts[slot, i, t, s, out.detail_band[a]] += counted
    if tilting:
        # one sum per quarter, added to the path's: the reference sums in the same order
        out.claim_stats[i, 0] += log_w
        out.claim_stats[i, 1] += tilted_aid
        out.claim_stats[i, 2] += tilted_mean
        out.claim_stats[i, 3] += tilted_var
    # added, not set: two stages may count into one variable (diagnosed_in_waiting)
    out.ints[STAGE_SLOT[stage], i, t] += drawn
    return severe_yuan


@njit(error_model="numpy", no_cpython_wrapper=True)
def _tilting(route, t, par):
    """Whether the claim-count tilt (:mod:`engine.model.tilt`) applies to the stage's draws:
    diagnoses, in the quarters it covers."""
    return (route == ROUTE.diagnose and par.claims_tilted
            and par.claim_tilt_first <= t < par.claim_tilt_stop)


@njit(error_model="numpy", no_cpython_wrapper=True)
def _prepare_stage(stage, route, par, tab, st, scr, leave_q):
    """What a stage needs before its cells: diagnoses start the quarter's claims from 0,
    lapses their probabilities (:func:`prepare_lapses`)."""
    if route == ROUTE.diagnose:
        S, A = scr.claims_cells.shape
        for s in range(S):
            for a in range(A):
                scr.claims_cells[s, a] = 0
                scr.boundary_cells[s, a] = 0
                scr.severe_cells[s, a] = 0
                scr.aid_cells[s, a] = 0.0
    if stage == STAGE.lapses:
        prepare_lapses(par, tab, st, scr, leave_q)


@njit(error_model="numpy", no_cpython_wrapper=True)
def gather_stage(stage, k, t, par, tab, st, scr, level_t, leave_q):
    """2.–4. (before the draws) One decrement of :data:`engine.model.events.DECREMENTS`
    (``k``: its repetition, the payout level): every non-empty cell its route draws from
    (members, diagnoses in the quarter waiting ends, claims, severe claims), its trials,
    probability and counter word to ``scr.draws``, its (row, age, duration) to
    ``scr.draw_cell``. Returns how many cells.

    The probabilities are written out here, one branch per decrement, with scalar rules
    only: a call per cell that passes the records counts references to each of their
    arrays (measured: six times slower). The draws are made by the caller
    (:mod:`engine.kernel.path`): one function fewer compiles the samplers (about 1 s).
    """
    N = st.members
    S, A, Dn = N.shape
    route = STAGE_ROUTE[stage]
    per_cell = route == ROUTE.mild or route == ROUTE.eligible or route == ROUTE.payout
    durations = 1 if per_cell else Dn
    waiting = par.waiting_quarters
    _prepare_stage(stage, route, par, tab, st, scr, leave_q)
    own_lapses = par.enrolled_per_joiner == 0.0
    hazard_scale = tab.hazard_factor[t]
    # the claim-count tilt (engine.model.tilt): cells whose diagnoses are claims
    tilting = _tilting(route, t, par)
    first_claim_d = waiting + 1 if waiting > 0 else 0
    cd = scr.draws
    count = np.int64(0)   # not a literal 0: the callees are compiled for int64 only
    for s in range(S):
        for a in range(A):
            for d in range(durations):
                # (read here, not by a helper per cell: a call that takes arrays counts
                # references to them on each call, measured 3x slower for the kernel)
                if route == ROUTE.mild:
                    n = scr.claims_cells[s, a]
                elif route == ROUTE.eligible:
                    n = scr.boundary_cells[s, a]
                elif route == ROUTE.payout:
                    n = scr.severe_cells[s, a]
                else:
                    n = N[s, a, d]
                if n == 0:
                    continue
                # the decrement's probability (engine.model.events: Decrement.probability)
                if stage == STAGE.suspensions:
                    p = suspension_probability(scr.short[d], par.topup_probability)
                elif stage == STAGE.deaths:
                    p = tab.death_q_joiners[s, a] if d == 0 else tab.death_q[s, a]
                elif stage == STAGE.diagnoses:
                    p = prob_from_hazard(tab.diagnosis_hazard_q[s, a, d] * hazard_scale
                                         * level_t)
                elif stage == STAGE.eligible:
                    p = 0.5
                elif stage == STAGE.mild:
                    p = par.mild_share
                elif stage == STAGE.payout_level:
                    p = tab.payout_level_p[k]
                # lapses, the last branch (an enrolled plan's: all in scr.lapse_q)
                elif d == 0 and own_lapses:
                    p = joiners_lapse(tab.lapse_fixed_q[0], tab.lapse_cost_q[0])
                elif own_lapses and charges_by_cell(par.sharing_rule):
                    p = lapse_probability(tab.lapse_fixed_q[d], tab.lapse_cost_q[d],
                                          scr.lapse_ratio_cells[s, a])
                else:
                    p = scr.lapse_q[s, d]
                if tilting and d >= first_claim_d and par.claim_tilt != 0.0:
                    theta_c = par.claim_tilt * (tab.benefit_yuan[t, a] * tab.benefit_factor[t]
                                                * CLAIM_UNIT)
                    p, scr.draw_norm[count] = claim_tilted_probability(p, math.exp(theta_c))
                else:
                    scr.draw_norm[count] = 1.0
                cd.n[count] = n
                cd.p[count] = p
                # the diagnoses in the quarter waiting ends draw on their duration's cell,
                # payout level k on the cell's duration bits (engine.model.events.repeats)
                cd.cell[count] = (tab.cell_id[s, a, waiting] if route == ROUTE.eligible
                                  else tab.cell_id[s, a, d] + k)
                scr.draw_cell[count, 0] = s
                scr.draw_cell[count, 1] = a
                scr.draw_cell[count, 2] = d
                count += 1
    return count


@njit(error_model="numpy", no_cpython_wrapper=True)
def top_ups(par, st, scr):
    """Pre-paid cohorts that were short and not suspended top up (engine.model.prepaid)."""
    if par.prepaid and par.topup_yuan > 0.0:
        for d in range(st.balance.size):
            if scr.short[d]:
                st.balance[d] = topped_up(st.balance[d], st.last_charge[0], par.topup_yuan)


@njit(error_model="numpy", no_cpython_wrapper=True)
def age_and_close(t, i, par, st, out, arrivals, aged_cells):
    """7. Ageing (those past the maximum age leave), durations, members moving in from a
    younger plan (``arrivals[i, t]``, if it has rows), closure; members at the quarter's end
    and the pre-paid balance per member. ``aged_cells[i, t]``, if it has rows, receives who
    aged out by (row, duration)."""
    N = st.members
    S, A, Dn = N.shape
    aged = 0
    keep = aged_cells.shape[0] > 0
    for s in range(S):
        for d in range(Dn):
            aged += N[s, A - 1, d]
            if keep:
                aged_cells[i, t, s, d] = N[s, A - 1, d]
        for a in range(A - 1, 0, -1):
            for d in range(Dn):
                N[s, a, d] = N[s, a - 1, d]
        for d in range(Dn):
            N[s, 0, d] = 0
    D = Dn - 1
    if par.prepaid and D > 0:
        # balances follow their cohorts; the last duration blends the two that meet there
        n_last = 0
        n_cap = 0
        for s in range(S):
            for a in range(A):
                n_last += N[s, a, D - 1]
                n_cap += N[s, a, D]
        st.balance[D] = blend(float(n_last), st.balance[D - 1], float(n_cap), st.balance[D],
                              st.balance[D])
        for d in range(D - 1, 0, -1):
            st.balance[d] = st.balance[d - 1]
        st.balance[0] = par.deposit_yuan
    if D > 0:
        for s in range(S):
            for a in range(A):
                N[s, a, D] += N[s, a, D - 1]
                for d in range(D - 1, 0, -1):
                    N[s, a, d] = N[s, a, d - 1]
                N[s, a, 0] = 0
    if arrivals.shape[0] > 0:
        for s in range(S):
            for d in range(Dn):
                N[s, 0, d] += arrivals[i, t, s, d]
    members = 0
    slot = out.detail_slot[INT.members] if t != par.closure_quarter else -1
    for s in range(S):
        for a in range(A):
            for d in range(Dn):
                members += N[s, a, d]
                if slot >= 0:
                    out.detail_counts[slot, i, t, s, out.detail_band[a]] += N[s, a, d]
    if t == par.closure_quarter:
        out.ints[INT.closed_out, i, t] = members
        members = 0
        for s in range(S):
            for a in range(A):
                for d in range(Dn):
                    N[s, a, d] = 0
    out.ints[INT.aged_out, i, t] = aged
    out.ints[INT.members, i, t] = members
    if par.prepaid:
        # balance per member, count-weighted in a fixed order
        held = 0.0
        total = 0.0
        for d in range(Dn):
            n_d = 0
            for s in range(S):
                for a in range(A):
                    n_d += N[s, a, d]
            held = held + float(n_d) * st.balance[d]
            total = total + float(n_d)
        out.floats[FLT.balance_per_member, i, t] = held / total if total > 0.0 else 0.0

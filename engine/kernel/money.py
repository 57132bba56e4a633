"""Kernel steps that move money: aid falling due, sharers, cost sharing, the reserve.

One ``@njit`` function (compiled into the cached path loop) per step of
:mod:`engine.model.reference`; the rules
(payment pattern, caps, settlement, solvency gap) are :mod:`engine.model.payment` and
:mod:`engine.model.sharing`, compiled here for one path.
``no_cpython_wrapper``: the steps are called only from the path loop, and the wrapper that
would let Python call one unboxes every array of the records (measured: about 4 s of the
kernel's cold compile).
"""

from __future__ import annotations

from numba import njit

from engine.kernel.records import FLT, INT
from engine.model.elementwise import select
from engine.model.payment import fall_due
from engine.model.sharing import (
    SharingRule,
    allowed_per_sharer,
    average_charge,
    charge_cell,
    charge_equally,
    charge_per_weight,
    required_per_sharer,
    settle,
    solvency_gap,
    terms_of_the_quarter,
)

_AGE_RATED = int(SharingRule.AGE_RATED)


@njit(error_model="numpy", no_cpython_wrapper=True)
def aid_due(t, i, par, st, scr, out, severe_yuan, benefit_factor_t, pattern):
    """3. (end) Claims and aid incurred (benefits inflated by ``benefit_factor_t``), and
    what falls due under the payment pattern."""
    S, A = scr.claims_cells.shape
    claims = 0
    slot = out.detail_slot[INT.claims]
    aid_cells = out.detail_aid.shape[0] > 0
    for s in range(S):
        for a in range(A):
            claims += scr.claims_cells[s, a]
            # [output] detail by (row, age band), cells in order (the reference's order)
            if slot >= 0:
                out.detail_counts[slot, i, t, s, out.detail_band[a]] += scr.claims_cells[s, a]
            if aid_cells:
                out.detail_aid[i, t, s, out.detail_band[a]] += (scr.aid_cells[s, a]
                                                                * benefit_factor_t)
    mild = out.ints[INT.mild_claims, i, t]
    aid = (severe_yuan + float(mild) * par.mild_yuan) * benefit_factor_t
    if aid < 0.0:
        # fractions of a yuan: a level rounded to 0 less the full amount can leave −1e−18
        aid = 0.0
    due = fall_due(aid, st.pending_aid, pattern)
    out.ints[INT.claims, i, t] = claims
    out.floats[FLT.aid, i, t] = aid
    out.floats[FLT.aid_reported, i, t] = due
    out.floats[FLT.claims_reported, i, t] = fall_due(float(claims), st.pending_claims, pattern)
    return due


@njit(error_model="numpy", no_cpython_wrapper=True)
def count_sharers(t, i, par, st, scr, out):
    """5. Sharers: members after the decrements, before ageing (all, or those past the
    waiting period), per (sex, age) cell."""
    N = st.members
    S, A, Dn = N.shape
    first_d = par.waiting_quarters if par.sharers_eligible_only else 0
    sharers = 0
    for s in range(S):
        for a in range(A):
            in_cell = 0
            for d in range(first_d, Dn):
                in_cell += N[s, a, d]
            scr.sharer_cells[s, a] = float(in_cell)
            sharers += in_cell
            slot = out.detail_slot[INT.sharers]
            if slot >= 0:
                out.detail_counts[slot, i, t, s, out.detail_band[a]] += in_cell
    out.ints[INT.sharers, i, t] = sharers


@njit(error_model="numpy", no_cpython_wrapper=True)
def _share_age_rated(t, par, weight, st, scr, required_total, sharers, cap_q, loading):
    """Age-rated sharing over the cells (:func:`engine.model.sharing.share_costs_age_rated`):
    ``(charged per sharer on average, shortfall)``; what each cell paid moves on with its
    members' age."""
    S, A = scr.sharer_cells.shape
    total_weight = 0.0
    for s in range(S):
        for a in range(A):
            total_weight += scr.sharer_cells[s, a] * weight[s, a]
    unit = charge_per_weight(required_total, total_weight)
    binds = total_weight <= 0.0 and required_total > 0.0
    funded = 0.0
    for s in range(S):
        for a in range(A):
            allowed = allowed_per_sharer(cap_q, par.cap_per_year_yuan, st.paid_year_cells[s, a])
            charged, cell_binds = charge_cell(unit * weight[s, a], allowed,
                                              scr.sharer_cells[s, a])
            binds = binds or cell_binds
            scr.charged_cells[s, a] = charged
            funded += charged * scr.sharer_cells[s, a]
    shortfall = required_total - funded if binds else 0.0
    charged = average_charge(required_total, funded, sharers, binds)
    K = st.cost_window.size
    slot = t % K
    extra = select(sharers > 0.0, loading, 0.0)
    for s in range(S):
        for a in range(A):
            st.cell_window[slot, s, a] = scr.charged_cells[s, a] + extra
            st.paid_year_cells[s, a] = st.paid_year_cells[s, a] + scr.charged_cells[s, a]
        for a in range(A - 1, 0, -1):
            for j in range(K):
                st.cell_window[j, s, a] = st.cell_window[j, s, a - 1]
            st.paid_year_cells[s, a] = st.paid_year_cells[s, a - 1]
        st.paid_year_cells[s, 0] = 0.0
    return charged, shortfall


@njit(error_model="numpy", no_cpython_wrapper=True)
def share(t, i, par, st, scr, out, due, new_year, platform_funds, weight):
    """6. Cost sharing, the shortfall rule and the reserve, for the sharers counted in 5;
    what a sharer paid enters the cost window (and the pre-paid balances). ``new_year``:
    the yearly caps reset; ``platform_funds``: members pay nothing this quarter;
    ``weight``: age-rated shares per cell."""
    if new_year:
        st.paid_year[0] = 0.0
        S, A = st.paid_year_cells.shape
        for s in range(S):
            for a in range(A):
                st.paid_year_cells[s, a] = 0.0
    cap_q, rule, loading = terms_of_the_quarter(platform_funds, par.cap_per_quarter_yuan,
                                                par.shortfall_rule, par.loading_yuan_q)
    sharers = float(out.ints[INT.sharers, i, t])
    required_total = due * (1.0 + par.fee_rate)
    if par.sharing_rule == _AGE_RATED:
        required = required_per_sharer(required_total, sharers)
        charged, shortfall = _share_age_rated(t, par, weight, st, scr, required_total, sharers,
                                              cap_q, loading)
    else:
        allowed = allowed_per_sharer(cap_q, par.cap_per_year_yuan, st.paid_year[0])
        required, charged, shortfall = charge_equally(required_total, sharers, allowed)
    reserve, aid_paid, platform = settle(st.reserve[0], shortfall, loading * sharers, due,
                                         par.fee_rate, rule, par.reserve_growth_q)
    cost = charged + select(sharers > 0.0, loading, 0.0)
    st.reserve[0] = reserve
    st.paid_year[0] = st.paid_year[0] + charged
    st.cost_window[t % st.cost_window.size] = cost
    if par.prepaid:
        first_d = par.waiting_quarters if par.sharers_eligible_only else 0
        for d in range(first_d, st.balance.size):
            st.balance[d] = st.balance[d] - cost
        st.last_charge[0] = cost
    out.floats[FLT.cost_per_member, i, t] = cost
    out.floats[FLT.required_cost_per_member, i, t] = required
    out.floats[FLT.shortfall, i, t] = shortfall
    out.floats[FLT.reserve, i, t] = reserve
    out.floats[FLT.solvency_gap, i, t] = solvency_gap(reserve)
    out.floats[FLT.fee_revenue, i, t] = par.fee_rate * aid_paid
    out.floats[FLT.aid_paid, i, t] = aid_paid
    out.floats[FLT.platform_funding, i, t] = platform

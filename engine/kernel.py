"""The quarter step compiled with numba: parallel over paths, allocation-free per quarter.

Follows the order of events written once in :mod:`engine.reference` (its module docstring),
operation for operation, on the same keyed streams (:mod:`engine.streams`) with the same
sampling algorithms (:mod:`engine.samplers`), so that counts and money amounts equal the
reference's. Where they can differ: the reference evaluates ``exp``, ``expm1``, ``log`` and
``pow`` with numpy's SIMD routines, this kernel with the C library's; the two may differ in
the last bit, which changes a count only if a uniform falls within that bit of a decision
boundary (about 1e-16 per draw). Amounts are sums of integer-valued products (exact below
2**53 yuan) when benefits are whole yuan, so their summation order does not matter.

Each sampler has one call site (the binomial draws of a quarter run through one loop over
stages), which keeps LLVM from inlining its body several times; every function is
module-level with ``cache=True`` so that compiled code is read back from the cache.

Parallel over paths: :func:`simulate_paths_serial` releases the GIL and
:func:`engine.simulate.simulate_paths` runs disjoint ranges of paths on several threads. A
``prange`` loop around the same path function compiled twice as slowly (numba's parallel
wrapper re-optimises the whole inlined path function: about 20 s cold against 10 s), and
each path's numbers do not depend on the thread that ran it either way.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from engine import streams
from engine.samplers import (
    BINOMIAL_INVERSION_MAX,
    LOG_SQRT_2PI,
    POISSON_INVERSION_MAX,
    STIRLING_TAIL,
)

_M0 = np.uint64(streams.PHILOX_M0)
_M1 = np.uint64(streams.PHILOX_M1)
_W0 = np.uint64(streams.PHILOX_W0)
_W1 = np.uint64(streams.PHILOX_W1)
_MASK = np.uint64(streams.MASK32)
_S32 = np.uint64(32)
_S20 = np.uint64(20)
_S12 = np.uint64(12)
_TWO_M52 = streams.TWO_POW_M52
_FC = STIRLING_TAIL.copy()

# Output slots (see engine.variables for units and meanings).
INT_VARIABLES = ("members", "joins", "lapses", "deaths", "claims", "diagnosed_in_waiting",
                 "mild_claims", "aged_out", "sharers", "closed_out", "suspended")
FLOAT_VARIABLES = ("aid", "cost_per_member", "shortfall", "reserve", "solvency_gap",
                   "fee_revenue", "required_cost_per_member", "aid_paid", "platform_funding",
                   "expected_joins", "antiselection_factor", "aid_reported", "claims_reported",
                   "balance_per_member")
(I_MEMBERS, I_JOINS, I_LAPSES, I_DEATHS, I_CLAIMS, I_WAITING, I_MILD, I_AGED,
 I_SHARERS, I_CLOSED, I_SUSPENDED) = range(len(INT_VARIABLES))
(F_AID, F_COST, F_SHORTFALL, F_RESERVE, F_GAP, F_FEE, F_REQUIRED, F_AID_PAID, F_PLATFORM,
 F_LAMBDA, F_ANTI, F_AID_REPORTED, F_CLAIMS_REPORTED, F_BALANCE) = range(len(FLOAT_VARIABLES))

# Scalar parameters passed in one float array and one integer array.
(P_MARKET, P_INNOVATION, P_IMITATION, P_JOIN_ELASTICITY, P_LAPSE_ELASTICITY, P_REF_COST,
 P_ANTISELECTION, P_FEE, P_CAP_Q, P_CAP_Y, P_RESERVE0, P_RESERVE_GROWTH, P_LOADING,
 P_MILD_SHARE, P_MILD_YUAN, P_DEPOSIT, P_TOPUP, P_TOPUP_PROB) = range(18)
(Q_MODEL, Q_WAITING, Q_ELIGIBLE_ONLY, Q_RULE, Q_WINDOW, Q_CLOSURE, Q_AGE_RATED,
 Q_PREPAID) = range(8)
# rows of the per-path cell scratch array used by age-rated sharing
_C_PAID_YEAR, _C_LAPSE_RATIO, _C_SHARERS, _C_CHARGED = range(4)

_STAGE_SUSPENSIONS, _STAGE_DEATHS, _STAGE_DIAGNOSES, _STAGE_MILD, _STAGE_LAPSES = range(5)


# ---------------------------------------------------------------------- streams, samplers

@njit(cache=True)
def _uniforms(k0, k1, c0, c1, c2, c3):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1) → two uniforms."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = c0 * _M0
        p1 = c2 * _M1
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n2 = (p0 >> _S32) ^ c3 ^ k1
        c1 = p1 & _MASK
        c3 = p0 & _MASK
        c0 = n0
        c2 = n2
    u = (float((c0 << _S20) | (c1 >> _S12)) + 0.5) * _TWO_M52
    v = (float((c2 << _S20) | (c3 >> _S12)) + 0.5) * _TWO_M52
    return u, v


@njit(cache=True)
def _fc(k):
    """Stirling remainder fc(k) (engine.samplers.stirling_tail)."""
    if k < 10:
        return _FC[int(k)]
    kp1 = k + 1.0
    kp1sq = kp1 * kp1
    return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260) / kp1sq) / kp1sq) / kp1


@njit(cache=True)
def _binomial(n, p, k0, k1, c0, c1, c2):
    """Binomial(n, p) on the stream (key, counter words c0..c2); engine.samplers.binomial."""
    if n <= 0 or p <= 0.0:
        return 0
    flip = p > 0.5
    r = 1.0 - p if flip else p
    if r == 0.0:
        return n
    nf = float(n)
    if nf * r < BINOMIAL_INVERSION_MAX:
        q = 1.0 - r
        s = r / q
        a = (nf + 1.0) * s
        # The restart bound needs a square root; it is at least min(n, n r + 9), so it is
        # computed only once k passes that.
        cheap_bound = min(nf, nf * r + 9.0)
        bound = -1.0
        f0 = q ** nf
        attempt = np.uint64(0)
        while True:
            u, _ = _uniforms(k0, k1, c0, c1, c2, attempt)
            if flip:
                u = 1.0 - u
            f = f0
            k = 0.0
            restart = False
            while u > f:
                u -= f
                k += 1.0
                f *= a / k - s
                if k > cheap_bound:
                    if bound < 0.0:
                        bound = min(nf, math.floor(nf * r + 10.0 * math.sqrt(nf * r * q + 1.0)))
                    if k > bound:
                        restart = True
                        break
            if not restart:
                x = int(k)
                return n - x if flip else x
            attempt += np.uint64(1)
    q = 1.0 - r
    spq = math.sqrt(nf * r * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * r
    c = nf * r + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    lpq = r / q
    m = math.floor((nf + 1.0) * r)
    h = 0.0
    have_h = False  # h is needed only when the squeeze fails: compute it then, once
    attempt = np.uint64(0)
    while True:
        u, v = _uniforms(k0, k1, c0, c1, c2, attempt)
        attempt += np.uint64(1)
        u = u - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0.0 or k > nf:
            continue
        if us >= 0.07 and v <= v_r:
            x = int(k)
            return n - x if flip else x
        if not have_h:
            h = (m + 0.5) * math.log((m + 1.0) / (lpq * (nf - m + 1.0))) + _fc(m) + _fc(nf - m)
            have_h = True
        lhs = math.log(v * alpha / (a / (us * us) + b))
        rhs = (h + (nf + 1.0) * math.log((nf - m + 1.0) / (nf - k + 1.0))
               + (k + 0.5) * math.log(lpq * (nf - k + 1.0) / (k + 1.0))
               - _fc(k) - _fc(nf - k))
        if lhs <= rhs:
            x = int(k)
            return n - x if flip else x


@njit(cache=True)
def _poisson(lam, k0, k1, c0, c1, c2):
    """Poisson(λ) on the stream; engine.samplers.poisson."""
    if not lam > 0.0:
        return 0
    if lam < POISSON_INVERSION_MAX:
        bound = math.floor(lam + 10.0 * math.sqrt(lam) + 10.0)
        f0 = math.exp(-lam)
        attempt = np.uint64(0)
        while True:
            u, _ = _uniforms(k0, k1, c0, c1, c2, attempt)
            f = f0
            k = 0.0
            restart = False
            while u > f:
                u -= f
                k += 1.0
                f *= lam / k
                if k > bound:
                    restart = True
                    break
            if not restart:
                return int(k)
            attempt += np.uint64(1)
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    log_invalpha = math.log(1.1239 + 1.1328 / (b - 3.4))
    v_r = 0.9277 - 3.6224 / (b - 2.0)
    attempt = np.uint64(0)
    while True:
        u, v = _uniforms(k0, k1, c0, c1, c2, attempt)
        attempt += np.uint64(1)
        u = u - 0.5
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if k < 0.0:
            continue
        if us >= 0.07 and v <= v_r:
            return int(k)
        if us < 0.013 and v > us:
            continue
        lhs = math.log(v) + log_invalpha - math.log(a / (us * us) + b)
        log_k_factorial = (k + 0.5) * math.log(k + 1.0) - (k + 1.0) + LOG_SQRT_2PI + _fc(k)
        if lhs <= -lam + k * loglam - log_k_factorial:
            return int(k)


# ------------------------------------------------------------------------- sampler tests

@njit(cache=True)
def binomial_draws(n, p, seed_k0, seed_k1, word1, path, cell, out):
    """Fill ``out[i]`` with Binomial(n[i], p[i]) on counter (path[i], word1, cell[i])."""
    for i in range(n.size):
        out[i] = _binomial(n[i], p[i], np.uint64(seed_k0), np.uint64(seed_k1),
                           np.uint64(path[i]), np.uint64(word1), np.uint64(cell[i]))


@njit(cache=True)
def poisson_draws(lam, seed_k0, seed_k1, word1, path, cell, out):
    """Fill ``out[i]`` with Poisson(lam[i]) on counter (path[i], word1, cell[i])."""
    for i in range(lam.size):
        out[i] = _poisson(lam[i], np.uint64(seed_k0), np.uint64(seed_k1),
                          np.uint64(path[i]), np.uint64(word1), np.uint64(cell[i]))


@njit(cache=True)
def uniform_sum(seed_k0, seed_k1, blocks):
    """Sum of the first uniform of ``blocks`` Philox blocks (to time the generator alone)."""
    total = 0.0
    k0, k1 = np.uint64(seed_k0), np.uint64(seed_k1)
    for i in range(blocks):
        u, _ = _uniforms(k0, k1, np.uint64(i), np.uint64(1), np.uint64(2), np.uint64(0))
        total += u
    return total


# ------------------------------------------------------------------------------ the path

@njit(cache=True)
def _simulate_path(i, path, k0, k1, words, fp, ip, cell_id, death_q, hazard, hazard_factor,
                   lapse_base, benefit, join_mix, initial, series, join_gamma, year_starts,
                   quarter_flags, benefit_factor, pattern, share_weight, N, claims_sa,
                   window, lapse_q, by_duration, pending, cells, cell_window, balance,
                   short, out_int, out_float):
    S, A, Dn = N.shape
    T = hazard_factor.size
    W = ip[Q_WAITING]
    K = ip[Q_WINDOW]
    market = fp[P_MARKET]
    ref_cost = fp[P_REF_COST]
    fee = fp[P_FEE]
    # Explicit loops, not slice assignment: broadcasting checks pull in seconds of compile.
    for s in range(S):
        for a in range(A):
            for d in range(Dn):
                N[s, a, d] = initial[s, a, d]
    anti = 1.0
    for j in range(K):
        window[j] = ref_cost
    age_rated = ip[Q_AGE_RATED] == 1
    prepaid = ip[Q_PREPAID] == 1
    for d in range(Dn):
        balance[d] = fp[P_DEPOSIT]
    last_charge = 0.0
    for s in range(S):
        for a in range(A):
            cells[_C_PAID_YEAR, s, a] = 0.0
            for j in range(K):
                cell_window[j, s, a] = ref_cost
    ever = 0
    for s in range(S):
        for a in range(A):
            for d in range(Dn):
                ever += initial[s, a, d]
    reserve = fp[P_RESERVE0]
    paid_year = 0.0
    L = pattern.size
    for j in range(L - 1):
        pending[0, j] = 0.0
        pending[1, j] = 0.0
    c0 = np.uint64(path)
    for t in range(T):
        # perceived cost: mean of the window in a fixed order
        total_cost = 0.0
        for j in range(K):
            total_cost = total_cost + window[j]
        cost_prev = total_cost / K

        # 1. joins
        start_total = 0
        for s in range(S):
            for a in range(A):
                for d in range(Dn):
                    start_total += N[s, a, d]
        members_f = float(start_total)
        model = ip[Q_MODEL]
        if model == 0:
            room = max(0.0, market - float(ever))
            lam = (fp[P_INNOVATION] + fp[P_IMITATION] * members_f / market) * room
            lam = min(lam, room)
        elif model == 1:
            lam = fp[P_IMITATION] * members_f * max(0.0, 1.0 - members_f / market)
        else:
            lam = series[t]
        lam = lam * math.exp(-fp[P_JOIN_ELASTICITY] * (cost_prev / ref_cost - 1.0))
        lam = lam * join_gamma[i, t]
        if quarter_flags[0, t] == 0:  # joins closed
            lam = 0.0
        joins = 0
        held_new = 0
        if prepaid:
            for s in range(S):
                for a in range(A):
                    held_new += N[s, a, 0]
        w_joins = np.uint64(words[0, t])
        for s in range(S):
            for a in range(A):
                x = _poisson(lam * join_mix[s, a], k0, k1, c0, w_joins,
                             np.uint64(cell_id[s, a, 0]))
                N[s, a, 0] += x
                joins += x
        if prepaid:
            # joiners bring the deposit into the first duration cohort (reference step 1)
            both = float(held_new) + float(joins)
            if both > 0.0:
                balance[0] = (float(held_new) * balance[0] + float(joins) * fp[P_DEPOSIT]) / both
            else:
                balance[0] = fp[P_DEPOSIT]
            for d in range(Dn):
                short[d] = 1 if balance[d] < last_charge else 0
        grown = start_total + joins
        if grown > 0:
            anti = (anti * float(start_total) + float(joins)) / float(grown)
        ever += joins

        # 2.-4. deaths, diagnoses, mild claims, lapses: one binomial call site
        g = hazard_factor[t]
        ratio = (cost_prev / ref_cost) ** fp[P_LAPSE_ELASTICITY]
        deaths = 0
        waiting = 0
        lapses = 0
        suspended = 0
        mild_total = 0
        severe_yuan = 0.0
        for s in range(S):
            for a in range(A):
                claims_sa[s, a] = 0
        for stage in range(5):
            if stage == _STAGE_SUSPENSIONS and not prepaid:
                continue
            if stage == _STAGE_LAPSES and age_rated:
                # each cell reacts to what its members paid (reference.cell_lapse_probabilities)
                for s in range(S):
                    for a in range(A):
                        total = 0.0
                        for j in range(K):
                            total = total + cell_window[j, s, a]
                        cells[_C_LAPSE_RATIO, s, a] = ((total / K) / ref_cost) ** \
                            fp[P_LAPSE_ELASTICITY]
                excess = 0.0
                stayers = 0.0
                for s in range(S):
                    for a in range(A):
                        for d in range(Dn):
                            n_f = float(N[s, a, d])
                            lq = min(1.0, lapse_base[d] * cells[_C_LAPSE_RATIO, s, a])
                            excess += n_f * max(0.0, lq - lapse_base[d])
                            stayers += n_f * (1.0 - lq)
            elif stage == _STAGE_LAPSES:
                for d in range(Dn):
                    lapse_q[d] = min(1.0, lapse_base[d] * ratio)
                    by_duration[d] = 0
                for s in range(S):
                    for a in range(A):
                        for d in range(Dn):
                            by_duration[d] += N[s, a, d]
                excess = 0.0
                stayers = 0.0
                for d in range(Dn):
                    n_d = float(by_duration[d])
                    excess += n_d * max(0.0, lapse_q[d] - lapse_base[d])
                    stayers += n_d * (1.0 - lapse_q[d])
            if stage == _STAGE_LAPSES:
                lift = fp[P_ANTISELECTION] * excess / stayers if stayers > 0.0 else 0.0
                anti = anti * (1.0 + lift)
            w = np.uint64(words[stage + 1, t])
            durations = 1 if stage == _STAGE_MILD else Dn
            for s in range(S):
                for a in range(A):
                    for d in range(durations):
                        n = claims_sa[s, a] if stage == _STAGE_MILD else N[s, a, d]
                        if n == 0:
                            continue
                        if stage == _STAGE_MILD:
                            p = fp[P_MILD_SHARE]
                        elif stage == _STAGE_SUSPENSIONS:
                            p = 1.0 - fp[P_TOPUP_PROB] if short[d] == 1 else 0.0
                        elif stage == _STAGE_DEATHS:
                            p = death_q[s, a]
                        elif stage == _STAGE_DIAGNOSES:
                            p = -math.expm1(-(hazard[s, a, d] * g * anti))
                        elif age_rated:
                            p = min(1.0, lapse_base[d] * cells[_C_LAPSE_RATIO, s, a])
                        else:
                            p = lapse_q[d]
                        x = _binomial(n, p, k0, k1, c0, w, np.uint64(cell_id[s, a, d]))
                        if stage == _STAGE_SUSPENSIONS:
                            N[s, a, d] = n - x
                            suspended += x
                        elif stage == _STAGE_DEATHS:
                            N[s, a, d] = n - x
                            deaths += x
                        elif stage == _STAGE_DIAGNOSES:
                            N[s, a, d] = n - x
                            if d >= W:
                                claims_sa[s, a] += x
                            else:
                                waiting += x
                        elif stage == _STAGE_MILD:
                            mild_total += x
                            severe_yuan += float(n - x) * benefit[a]
                        else:
                            N[s, a, d] = n - x
                            lapses += x
        if prepaid and fp[P_TOPUP] > 0.0:
            # the fewest top-ups that cover the last charge (reference.topped_up)
            for d in range(Dn):
                if short[d] == 1:
                    balance[d] = balance[d] + math.ceil(
                        (last_charge - balance[d]) / fp[P_TOPUP]) * fp[P_TOPUP]
        claims = 0
        for s in range(S):
            for a in range(A):
                claims += claims_sa[s, a]
        aid = (severe_yuan + float(mild_total) * fp[P_MILD_YUAN]) * benefit_factor[t]
        # what falls due this quarter under the payment pattern (reference.report_claims)
        aid_due = pattern[0] * aid
        claims_due = pattern[0] * float(claims)
        if L > 1:
            aid_due = aid_due + pending[0, 0]
            claims_due = claims_due + pending[1, 0]
            for j in range(L - 2):
                pending[0, j] = pending[0, j + 1] + pattern[j + 1] * aid
                pending[1, j] = pending[1, j + 1] + pattern[j + 1] * float(claims)
            pending[0, L - 2] = pattern[L - 1] * aid
            pending[1, L - 2] = pattern[L - 1] * float(claims)

        # 5. sharers
        sharers = 0
        first_d = W if ip[Q_ELIGIBLE_ONLY] == 1 else 0
        for s in range(S):
            for a in range(A):
                in_cell = 0
                for d in range(first_d, Dn):
                    in_cell += N[s, a, d]
                cells[_C_SHARERS, s, a] = float(in_cell)
                sharers += in_cell

        # 6. sharing and reserve (engine.sharing), for the sharers counted in 5
        if year_starts[t]:
            paid_year = 0.0
            for s in range(S):
                for a in range(A):
                    cells[_C_PAID_YEAR, s, a] = 0.0
        cap_q = fp[P_CAP_Q]
        rule = ip[Q_RULE]
        loading = fp[P_LOADING]
        if quarter_flags[1, t] == 1:  # the platform funds this quarter
            cap_q = 0.0
            rule = 2
            loading = 0.0
        sharers_f = float(sharers)
        required_total = aid_due * (1.0 + fee)
        has = sharers_f > 0.0
        if has:
            required = required_total / sharers_f
        elif required_total > 0.0:
            required = np.inf
        else:
            required = 0.0
        if age_rated:
            # engine.sharing.share_costs_age_rated
            total_weight = 0.0
            for s in range(S):
                for a in range(A):
                    total_weight += cells[_C_SHARERS, s, a] * share_weight[s, a]
            unit = required_total / total_weight if total_weight > 0.0 else 0.0
            binds = total_weight <= 0.0 and required_total > 0.0
            funded = 0.0
            for s in range(S):
                for a in range(A):
                    in_cell = cells[_C_SHARERS, s, a]
                    asked = unit * share_weight[s, a]
                    allowed_cell = max(0.0, min(cap_q, fp[P_CAP_Y] - cells[_C_PAID_YEAR, s, a]))
                    charged_cell = 0.0
                    if in_cell > 0.0:
                        if asked > allowed_cell:
                            binds = True
                            charged_cell = allowed_cell
                        else:
                            charged_cell = asked
                    cells[_C_CHARGED, s, a] = charged_cell
                    funded += charged_cell * in_cell
            shortfall = required_total - funded if binds else 0.0
            if has:
                charged = (funded if binds else required_total) / sharers_f
            else:
                charged = 0.0
            k_slot = t % K
            extra = loading if has else 0.0
            for s in range(S):
                for a in range(A):
                    cell_window[k_slot, s, a] = cells[_C_CHARGED, s, a] + extra
                    cells[_C_PAID_YEAR, s, a] = (cells[_C_PAID_YEAR, s, a]
                                                 + cells[_C_CHARGED, s, a])
                for a in range(A - 1, 0, -1):
                    for j in range(K):
                        cell_window[j, s, a] = cell_window[j, s, a - 1]
                    cells[_C_PAID_YEAR, s, a] = cells[_C_PAID_YEAR, s, a - 1]
                cells[_C_PAID_YEAR, s, 0] = 0.0
        else:
            allowed = max(0.0, min(cap_q, fp[P_CAP_Y] - paid_year))
            binds = required > allowed or (not has and required_total > 0.0)
            if has:
                charged = allowed if binds else required
            else:
                charged = 0.0
            shortfall = required_total - charged * sharers_f if binds else 0.0
        loading_total = loading * sharers_f
        platform = 0.0
        aid_paid = aid_due
        if rule == 0:
            reserve = (reserve - shortfall + loading_total) * fp[P_RESERVE_GROWTH]
        elif rule == 1:
            reserve = (reserve + loading_total) * fp[P_RESERVE_GROWTH]
            aid_paid = aid_due - shortfall / (1.0 + fee)
        else:
            reserve = (reserve + loading_total) * fp[P_RESERVE_GROWTH]
            platform = shortfall
        cost = charged + (loading if has else 0.0)
        paid_year = paid_year + charged
        window[t % K] = cost
        if prepaid:
            for d in range(first_d, Dn):
                balance[d] = balance[d] - cost
            last_charge = cost

        # 7. ageing and duration
        aged = 0
        for s in range(S):
            for d in range(Dn):
                aged += N[s, A - 1, d]
            for a in range(A - 1, 0, -1):
                for d in range(Dn):
                    N[s, a, d] = N[s, a - 1, d]
            for d in range(Dn):
                N[s, 0, d] = 0
        D = Dn - 1
        if prepaid and D > 0:
            # balances move on with their cohorts (reference.shift_balances)
            n_last = 0
            n_cap = 0
            for s in range(S):
                for a in range(A):
                    n_last += N[s, a, D - 1]
                    n_cap += N[s, a, D]
            both = float(n_last) + float(n_cap)
            if both > 0.0:
                balance[D] = (float(n_last) * balance[D - 1] + float(n_cap) * balance[D]) / both
            for d in range(D - 1, 0, -1):
                balance[d] = balance[d - 1]
            balance[0] = fp[P_DEPOSIT]
        if D > 0:
            for s in range(S):
                for a in range(A):
                    N[s, a, D] += N[s, a, D - 1]
                    for d in range(D - 1, 0, -1):
                        N[s, a, d] = N[s, a, d - 1]
                    N[s, a, 0] = 0
        members = 0
        for s in range(S):
            for a in range(A):
                for d in range(Dn):
                    members += N[s, a, d]
        closed = 0
        if t == ip[Q_CLOSURE]:
            closed = members
            members = 0
            for s in range(S):
                for a in range(A):
                    for d in range(Dn):
                        N[s, a, d] = 0
        balance_out = 0.0
        if prepaid:
            held = 0.0
            total = 0.0
            for d in range(Dn):
                n_d = 0
                for s in range(S):
                    for a in range(A):
                        n_d += N[s, a, d]
                held = held + float(n_d) * balance[d]
                total = total + float(n_d)
            balance_out = held / total if total > 0.0 else 0.0

        out_int[I_MEMBERS, i, t] = members
        out_int[I_JOINS, i, t] = joins
        out_int[I_LAPSES, i, t] = lapses
        out_int[I_DEATHS, i, t] = deaths
        out_int[I_CLAIMS, i, t] = claims
        out_int[I_WAITING, i, t] = waiting
        out_int[I_MILD, i, t] = mild_total
        out_int[I_AGED, i, t] = aged
        out_int[I_SHARERS, i, t] = sharers
        out_int[I_CLOSED, i, t] = closed
        out_int[I_SUSPENDED, i, t] = suspended
        out_float[F_AID, i, t] = aid
        out_float[F_COST, i, t] = cost
        out_float[F_SHORTFALL, i, t] = shortfall
        out_float[F_RESERVE, i, t] = reserve
        out_float[F_GAP, i, t] = max(0.0, -reserve)
        out_float[F_FEE, i, t] = fee * aid_paid
        out_float[F_REQUIRED, i, t] = required
        out_float[F_AID_PAID, i, t] = aid_paid
        out_float[F_PLATFORM, i, t] = platform
        out_float[F_LAMBDA, i, t] = lam
        out_float[F_ANTI, i, t] = anti
        out_float[F_AID_REPORTED, i, t] = aid_due
        out_float[F_CLAIMS_REPORTED, i, t] = claims_due
        out_float[F_BALANCE, i, t] = balance_out


@njit(cache=True, nogil=True)
def simulate_paths_serial(first, stop, path_start, k0, k1, words, fp, ip, cell_id, death_q,
                          hazard, hazard_factor, lapse_base, benefit, join_mix, initial,
                          series, quarter_flags, benefit_factor, pattern, share_weight,
                          join_gamma, year_starts, out_int, out_float):
    """Simulate rows ``first .. stop − 1`` of a chunk (paths ``path_start + row``), one after
    another, reusing one set of scratch arrays; releases the GIL so that threads can run
    disjoint row ranges at once (:func:`engine.simulate.simulate_paths`)."""
    S, A, Dn = initial.shape
    K = ip[Q_WINDOW]
    N = np.empty((S, A, Dn), dtype=np.int64)
    claims_sa = np.empty((S, A), dtype=np.int64)
    window = np.empty(K)
    lapse_q = np.empty(Dn)
    by_duration = np.empty(Dn, dtype=np.int64)
    pending = np.empty((2, max(pattern.size - 1, 1)))
    cells = np.empty((4, S, A))
    cell_window = np.empty((K, S, A))
    balance = np.empty(Dn)
    short = np.empty(Dn, dtype=np.int64)
    for i in range(first, stop):
        _simulate_path(i, path_start + i, np.uint64(k0), np.uint64(k1), words, fp, ip,
                       cell_id, death_q, hazard, hazard_factor, lapse_base, benefit, join_mix,
                       initial, series, join_gamma, year_starts, quarter_flags,
                       benefit_factor, pattern, share_weight, N, claims_sa, window, lapse_q,
                       by_duration, pending, cells, cell_window, balance, short, out_int,
                       out_float)

"""Steps 2–4 of the reference's quarter: the decrements of :data:`engine.model.events.
DECREMENTS`, in order, each drawn from the cells of its route with its probability.

The loop reads the table as the numba kernel does (``engine.kernel.members.gather_stage``
and ``apply_stage``): which cells a decrement draws from and where its count goes follow
its :class:`~engine.model.events.Route`, when it is left out its
:class:`~engine.model.events.Skip`; :func:`decrement_probability` is the one place the
reference builds each decrement's probability.
"""

from __future__ import annotations

import numpy as np

from engine.model import lapse, prepaid, sharing
from engine.model.elementwise import c_exp, c_log
from engine.model.events import DECREMENTS, Route, skipped
from engine.model.inputs import ModelInputs
from engine.model.tilt import CLAIM_TILT_UNIT_YUAN, claim_tilted_probability
from engine.model.units import prob_from_hazard
from engine.random import streams

CLAIM_UNIT = 1.0 / CLAIM_TILT_UNIT_YUAN


def draw_decrements(inputs: ModelInputs, state, t: int, draws, paths: np.ndarray,
                    level: np.ndarray, cost_prev: np.ndarray, col: dict,
                    trace: dict | None, leave_q: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, list]:
    """2.–4. Every decrement of the quarter, in the table's order: members leave
    ``state.members``, each decrement's count is added to ``col[output]``. Returns the
    quarter's claims and mild claims per (path, row, age), and per payout level what its
    claims are paid less than the full benefit, ``x (ℓ_k − b)`` per (path, row, age).
    ``leave_q`` (an enrolled plan): the enrolling plan's leavers' share per path, its
    lapse probability. ``state.detail_cells``, if not None, receives each output's counts
    by (path, row, age): the results' detail (:mod:`engine.config.output`)."""
    N = state.members
    cells = state.detail_cells
    cell, p_col, cell_sa, p_sa = cells_of(inputs, paths)
    waiting = inputs.waiting_quarters
    claims = boundary = mild = None
    below_cap = []
    for dec in DECREMENTS:
        col.setdefault(dec.output, np.zeros(len(paths), dtype=N.dtype))
        if skipped(dec.skip, inputs.prepaid, waiting):
            continue
        p = decrement_probability(dec.kind, inputs, state, t, level, cost_prev, leave_q)
        if dec.route == Route.ELIGIBLE:
            x = draws.binomial(boundary, p, t, dec.kind, p_sa,
                               inputs.cell_id[None, :, :, waiting])
            claims = claims + x
            col[dec.output] = col[dec.output] + (boundary - x).sum(axis=(1, 2))
            _count(cells, dec.output, boundary - x)
            continue
        if dec.route == Route.MILD:
            mild = draws.binomial(claims, p, t, dec.kind, p_sa, cell_sa)
            col[dec.output] = col[dec.output] + mild.sum(axis=(1, 2))
            _count(cells, dec.output, mild)
            continue
        if dec.route == Route.PAYOUT:
            below_cap = _payout_levels(inputs, t, draws, dec, p, claims - mild, p_sa, cell_sa,
                                       col, cells)
            continue
        if dec.route == Route.DIAGNOSE and trace is not None:
            trace["at_risk_of_diagnosis"] = N.copy()
        if dec.route == Route.DIAGNOSE and inputs.tilt.claims_tilted_at(t) and draws.keyed:
            # (the expected path is the model's own: a tilt changes how paths are drawn)
            x = _tilted_diagnoses(inputs, state, t, draws, p, N, p_col, cell)
        else:
            x = draws.binomial(N, p, t, dec.kind, p_col, cell)
        N -= x
        if dec.route == Route.LEAVE:
            col[dec.output] = col[dec.output] + x.sum(axis=(1, 2, 3))
            _count(cells, dec.output, x.sum(axis=3))
            continue
        if trace is not None:
            trace["diagnosed"] = np.array(x, dtype=np.float64)
        claims = x[:, :, :, waiting + (waiting > 0):].sum(axis=3)
        boundary = x[:, :, :, waiting]
        col[dec.output] = col[dec.output] + x[:, :, :, :waiting].sum(axis=(1, 2, 3))
        _count(cells, dec.output, x[:, :, :, :waiting].sum(axis=3))
    if inputs.prepaid:
        _top_up(inputs, state)
    return claims, mild, below_cap


def _count(cells: dict | None, name: str, x: np.ndarray) -> None:
    """Add a decrement's counts by (path, row, age) to ``cells[name]`` (when kept)."""
    if cells is not None:
        cells[name] = cells[name] + x if name in cells else x


def _payout_levels(inputs, t, draws, dec, rho, severe, p_sa, cell_sa, col, cells) -> list:
    """The chain of binomials over the severe claims (:mod:`engine.model.payout`): level
    ``k`` draws ``Binomial(left, ρ_k)`` on the cells' duration bits ``k``; each level's
    count is added to ``col[output]``. Returns each level's ``x (ℓ_k − b)``."""
    b = inputs.benefit_yuan[t][None, None, :]
    left = severe
    below_cap = []
    for k in range(inputs.n_payout_levels):
        x = draws.binomial(left, rho[k], t, dec.kind, p_sa, cell_sa + k)
        left = left - x
        col[dec.output] = col[dec.output] + x.sum(axis=(1, 2))
        _count(cells, dec.output, x)
        below_cap.append(x * (inputs.payout_level_yuan[t][None, None, :, k] - b))
    return below_cap


def decrement_probability(kind: streams.Kind, inputs: ModelInputs, state, t: int,
                          level: np.ndarray, cost_prev: np.ndarray,
                          leave_q: np.ndarray | None = None):
    """The probability of decrement ``kind`` in quarter ``t``, shaped against its cells
    (``(P, R, A, Dn)`` for members, ``(P, R, A)`` for claims; a scalar where it is one):
    the rules that :data:`engine.model.events.DECREMENTS` names (an enrolled plan's lapses:
    ``leave_q`` per path, :mod:`engine.config.platform`)."""
    if kind == streams.Kind.SUSPENSIONS:
        short = prepaid.is_short(state.balance_yuan, state.last_charge_yuan[:, None])
        return prepaid.suspension_probability(short, inputs.topup_probability)[:, None, None, :]
    if kind == streams.Kind.DEATHS:
        later = np.broadcast_to(inputs.death_q[:, :, None],
                                inputs.death_q.shape + (inputs.n_durations - 1,))
        return np.concatenate([inputs.death_q_joiners[:, :, None], later], axis=2)[None]
    if kind == streams.Kind.DIAGNOSES:
        return prob_from_hazard(inputs.diagnosis_hazard_q[None] * inputs.hazard_factor[t]
                                * level[:, None, None, None])
    if kind == streams.Kind.ELIGIBLE:
        return 0.5
    if kind == streams.Kind.MILD:
        return inputs.mild_share
    if kind == streams.Kind.PAYOUT_LEVEL:
        return inputs.payout_level_p                          # (K,): one level at a time
    if kind == streams.Kind.LAPSES:
        if inputs.enrolled_per_joiner > 0.0:
            return np.asarray(leave_q, dtype=np.float64)[:, None, None, None]  # (P, 1, 1, 1)
        if sharing.charges_by_cell(inputs.sharing_rule):
            return cell_lapse_probabilities(inputs, state)                # (P, R, A, Dn)
        return lapse_probabilities(inputs, cost_prev)[:, :, None, :]      # (P, R, 1, Dn)
    raise ValueError(f"no probability for the decrement {kind!r}")


def cells_of(inputs: ModelInputs, paths: np.ndarray):
    """Stream cells and path counters shaped for (P, S, A, Dn) and (P, S, A) draws."""
    return (inputs.cell_id[None], paths[:, None, None, None], inputs.cell_id[None, :, :, 0],
            paths[:, None, None])


def _top_up(inputs: ModelInputs, state) -> None:
    """Pre-paid: the cohorts short of last quarter's charge that were not suspended top up
    (:mod:`engine.model.prepaid`); balances did not move during the decrements."""
    short = prepaid.is_short(state.balance_yuan, state.last_charge_yuan[:, None])
    state.balance_yuan = np.where(short, prepaid.topped_up(
        state.balance_yuan, state.last_charge_yuan[:, None], inputs.topup_yuan),
        state.balance_yuan)


def lapse_probabilities(inputs: ModelInputs, cost_prev_yuan: np.ndarray) -> np.ndarray:
    """``ℓ[p, r, d] = min(1, ℓ0[d] + ℓc[d] (c_p / c_ref)^(η σ_r))``, ``ℓ_base[0]`` at ``d = 0``
    (:mod:`engine.model.lapse`)."""
    ratio = lapse.cost_ratio(cost_prev_yuan[:, None], inputs.reference_cost_yuan_q,
                             inputs.lapse_exponent[None, :])                  # (P, R)
    out = lapse.lapse_probability(inputs.lapse_fixed_q[None, None, :],
                                  inputs.lapse_cost_q[None, None, :], ratio[:, :, None])
    out[:, :, 0] = lapse.joiners_lapse(inputs.lapse_fixed_q[0], inputs.lapse_cost_q[0])
    return out


def cell_lapse_probabilities(inputs: ModelInputs, state) -> np.ndarray:
    """Age-rated sharing: ``ℓ[p, r, a, d]`` as :func:`lapse_probabilities` with ``c`` what
    the cell's members paid on average over the window (summed in a fixed order)."""
    window = state.cell_window_yuan
    total = np.zeros(window.shape[:1] + window.shape[2:])
    for j in range(window.shape[1]):
        total = total + window[:, j]
    ratio = lapse.cost_ratio(total / window.shape[1], inputs.reference_cost_yuan_q,
                             inputs.lapse_exponent[None, :, None])            # (P, R, A)
    out = lapse.lapse_probability(inputs.lapse_fixed_q[None, None, None, :],
                                  inputs.lapse_cost_q[None, None, None, :], ratio[..., None])
    out[..., 0] = lapse.joiners_lapse(inputs.lapse_fixed_q[0], inputs.lapse_cost_q[0])
    return out


def _tilted_diagnoses(inputs, state, t, draws, p, N, p_col, cell):
    """3. Diagnoses with the claim counts tilted (:mod:`engine.model.tilt`): cells at
    claim durations drawn with ``p'``; each path's ``log w`` and cross-entropy statistics
    added to ``state.claim_stats``, summed cell by cell in (row, age, duration) order and
    then onto the path's, as the kernel does."""
    waiting = inputs.waiting_quarters
    claim_d = np.arange(inputs.n_durations) >= (waiting + 1 if waiting > 0 else 0)  # (Dn,)
    b = inputs.benefit_yuan[t] * inputs.benefit_factor[t] * CLAIM_UNIT           # (A,)
    theta_c = inputs.claim_tilt * b
    b = np.broadcast_to(b[None, None, :, None], p.shape)
    if inputs.claim_tilt != 0.0:
        tilted, norm = claim_tilted_probability(p, c_exp(theta_c)[None, None, :, None])
        p = np.where(claim_d, tilted, p)
        log_norm = c_log(np.where(claim_d, norm, 1.0))
    else:
        log_norm = np.zeros(p.shape)
    diagnosed = draws.binomial(N, p, t, streams.Kind.DIAGNOSES, p_col, cell)
    theta_c = np.broadcast_to(theta_c[None, None, :, None], p.shape)
    terms = (-theta_c * diagnosed + N * log_norm, b * diagnosed, N * b * p,
             N * b * b * p * (1.0 - p))
    for j, term in enumerate(terms):
        by_cell = np.where(claim_d, term, 0.0).reshape(len(N), -1)
        state.claim_stats[:, j] += np.cumsum(by_cell, axis=1)[:, -1]
    return diagnosed

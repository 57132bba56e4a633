"""Expected joins per quarter: the growth models and their damping by cost (DESIGN §1.1).

All functions take per-path arrays (or scalars) and return per-path arrays.

Notes
-----
With ``N`` members at the start of quarter ``t``, ``C`` persons who have ever joined
(initial members included), market potential ``M`` and the quarterly coefficients
``p = innovation / 4``, ``q = imitation / 4``:

* Bass (word of mouth from current members)::

      λ_t = min(M − C, (p + q · N / M) · (M − C)),  0 when C ≥ M

  the discrete-time Bass model, except that imitation is driven by current members
  rather than by everyone who ever joined, so that members who leave stop recruiting.
* logistic::

      λ_t = q · N · max(0, 1 − N / M)

* fixed: ``λ_t = series[t]``.

Damping by last quarter's cost per member ``c`` against the reference ``c_ref``::

      λ_t ← λ_t · exp(−ε (c / c_ref − 1))
"""

from __future__ import annotations

import math

import numpy as np

BASS, LOGISTIC, FIXED = 0, 1, 2


def expected_joins(model: int, t: int, members, ever_joined, market_potential: float,
                   innovation_q: float, imitation_q: float, series):
    """Expected joins ``λ_t`` before cost damping (persons per quarter), per path."""
    members = np.asarray(members, dtype=np.float64)
    if model == BASS:
        room = np.maximum(0.0, market_potential - np.asarray(ever_joined, dtype=np.float64))
        lam = (innovation_q + imitation_q * members / market_potential) * room
        return np.minimum(lam, room)
    if model == LOGISTIC:
        return imitation_q * members * np.maximum(0.0, 1.0 - members / market_potential)
    return np.full(members.shape, float(series[t]))


def join_damping(cost_prev_yuan, reference_cost_yuan: float, elasticity: float):
    """``exp(−ε (c / c_ref − 1))``: fewer joins when last quarter's cost was high.

    One value per path, each with the C library's ``exp`` (as the numba kernel uses), so
    that both backends give the same bits; numpy's vectorised ``exp`` may differ in the
    last one.
    """
    x = -elasticity * (np.asarray(cost_prev_yuan, dtype=np.float64) / reference_cost_yuan - 1.0)
    return np.array([math.exp(v) for v in x.ravel()]).reshape(x.shape)

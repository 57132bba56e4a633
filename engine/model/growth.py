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

from enum import IntEnum

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import c_exp


class GrowthModel(IntEnum):
    """``growth.model`` of a scenario file (the lower-case name) as the kernel reads it."""

    BASS = 0
    LOGISTIC = 1
    FIXED = 2


@register_jitable
def expected_joins(model: int, members, ever_joined, market_potential: float,
                   innovation_q: float, imitation_q: float, series_t: float):
    """Expected joins ``λ_t`` before cost damping (persons per quarter), per path.

    Scalars or per-path arrays (one rule for both engines); ``series_t`` is the fixed
    model's value for this quarter.
    """
    if model == GrowthModel.BASS:
        room = np.maximum(0.0, market_potential - ever_joined)
        lam = (innovation_q + imitation_q * members / market_potential) * room
        return np.minimum(lam, room)
    if model == GrowthModel.LOGISTIC:
        return imitation_q * members * np.maximum(0.0, 1.0 - members / market_potential)
    return series_t + 0.0 * members


@register_jitable
def join_damping(cost_prev_yuan, reference_cost_yuan: float, elasticity: float):
    """``exp(−ε (c / c_ref − 1))``: fewer joins when last quarter's cost was high.

    With the C library's ``exp`` in both engines, so that they give the same bits.
    """
    return c_exp(-elasticity * (cost_prev_yuan / reference_cost_yuan - 1.0))

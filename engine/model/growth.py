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

Joins never exceed the market (DESIGN §1 step 1). After damping and the over-dispersion
factor ``G``, ``λ ← min(λ G, R)`` with ``R = ⌊M − C⌋`` the persons left to join, and the
quarter's joins are ``J ~ Binomial(R, λ / R)`` (each person left joins with probability
``λ / R``; close to ``Poisson(λ)`` while ``λ ≪ R``), so ``C ≤ M`` on every path. Without a
market potential (a fixed series) ``J ~ Poisson(λ)``.

``J`` is split over the (sex, age-quarter) cells multinomially with the joiners' mix ``π``,
by a binary tree of binomial splits (:func:`split_tree`: node ``i`` sends
``Binomial(n_i, W_2i / W_i)`` to its left child), so that the numpy reference draws a
level of the tree at once. Each cell's joiners are then split over the risk groups in
proportion to ``share_k exp(−β_k (c / c_ref − 1))`` (:func:`group_tilt`; one group: no
draw): groups with a larger join sensitivity ``β_k`` join less when the cost is high.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import c_exp, select


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


@register_jitable
def remaining_market(market_potential: float, ever_joined):
    """``R = ⌊M − C⌋ ≥ 0``: persons still to join (as a float)."""
    return np.floor(np.maximum(0.0, market_potential - ever_joined))


@register_jitable
def join_probability(lam, room):
    """``λ / R`` for the joins' binomial, with ``λ ≤ R`` (0 when ``R = 0``)."""
    has = room > 0.0
    return select(has, np.minimum(lam, room) / select(has, room, 1.0), 0.0)


@register_jitable
def group_tilt(share: float, sensitivity: float, cost_prev_yuan, reference_cost_yuan: float):
    """``share_k exp(−β_k (c / c_ref − 1))``: group ``k``'s unnormalised weight among
    joiners."""
    return share * c_exp(-sensitivity * (cost_prev_yuan / reference_cost_yuan - 1.0))


def split_tree(weights: np.ndarray) -> np.ndarray:
    """The left-child probabilities of a binary tree over ``weights`` (heap order).

    Leaves ``L .. L + n − 1`` (``L`` the power of two ≥ ``n``, ≥ 2) hold the weights, the
    others 0; node ``i < L`` has weight ``W_i = W_2i + W_2i+1`` and sends a share
    ``W_2i / W_i`` (0 when ``W_i = 0``) of its joiners left. Returns ``p`` of length ``L``
    (``p[0]`` unused).
    """
    n = len(weights)
    L = 2
    while L < n:
        L *= 2
    w = np.zeros(2 * L)
    w[L:L + n] = weights
    for i in range(L - 1, 0, -1):
        w[i] = w[2 * i] + w[2 * i + 1]
    p = np.zeros(L)
    inner = np.arange(1, L)
    p[1:] = np.where(w[inner] > 0, w[2 * inner] / np.where(w[inner] > 0, w[inner], 1.0), 0.0)
    return p


"""Lapses driven by what members paid (DESIGN §1.4): one rule for both engines.

Notes
-----
With ``c`` the mean cost per member over the last ``k`` quarters, the reference cost
``c_ref`` and the elasticity ``η``::

    ℓ[d] = min(1, ℓ_base[d] · (c / c_ref)^η)

The anti-selection factor ``m`` rises before the lapse draws by ``m ← m · (1 + α E / S)``
with ``E = Σ n max(0, ℓ − ℓ_base)`` (expected cost-driven leavers) and ``S = Σ n (1 − ℓ)``
(expected stayers).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import c_pow, select


@register_jitable
def cost_ratio(cost_yuan, reference_cost_yuan: float, elasticity: float):
    """``(c / c_ref)^η`` with the C library's ``pow`` in both engines."""
    return c_pow(cost_yuan / reference_cost_yuan, elasticity)


@register_jitable
def lapse_probability(base_q, ratio):
    """``min(1, ℓ_base · ratio)``: the quarterly lapse probability."""
    return np.minimum(1.0, base_q * ratio)


@register_jitable
def excess_and_stayers(members, lapse_q, base_q):
    """One cell's terms of ``E`` and ``S`` (module notes).

    ``(n max(0, ℓ − ℓ_base), n (1 − ℓ))``.
    """
    return members * np.maximum(0.0, lapse_q - base_q), members * (1.0 - lapse_q)


@register_jitable
def antiselection_lift(antiselection: float, excess, stayers):
    """``α E / S`` (0 when nobody is expected to stay)."""
    has = stayers > 0.0
    return select(has, antiselection * excess / select(has, stayers, 1.0), 0.0)

"""Lapses: a part that does not depend on cost and a part driven by it (DESIGN §1 step 4).

Notes
-----
With ``c`` the mean cost per member over the last ``k`` quarters, the reference cost
``c_ref``, the elasticity ``η`` and risk group ``k``'s lapse sensitivity ``σ_k``::

    ℓ[k, d] = min(1, ℓ0[d] + ℓc[d] · (c / c_ref)^(η σ_k))

``ℓ0 = (1 − φ) ℓ_base`` and ``ℓc = φ ℓ_base``, with ``ℓ_base`` the lapse at ``c = c_ref``
(``lapse.base_quarterly`` or ``by_duration``) and ``φ`` its cost-driven share
(``lapse.cost_driven_share``). At zero cost the lapse is ``ℓ0``, not 0. Joiners do not react
to cost in the quarter they join: their lapse is that at the reference cost,
``min(1, ℓ0[0] + ℓc[0]) = ℓ_base[0]`` (:func:`joiners_lapse`).

Anti-selection is not a separate multiplier: groups with a larger ``σ_k`` leave faster as
the cost rises, so the pool's incidence moves towards that of the groups that stay, and it
never exceeds the riskiest group's.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import c_pow

# Where ``(c / c_ref)^(η σ_k)`` overflows, it is held here: ``ℓc`` times it still makes the
# lapse 1 (for ``ℓc`` not tiny), and ``ℓc = 0`` times it stays 0, where ``0 · inf`` is NaN.
RATIO_MAX = 1e300


@register_jitable
def cost_ratio(cost_yuan, reference_cost_yuan: float, exponent):
    """``min((c / c_ref)^(η σ_k), 10³⁰⁰)`` with the C library's ``pow`` in both engines."""
    return np.minimum(c_pow(cost_yuan / reference_cost_yuan, exponent), RATIO_MAX)


@register_jitable
def lapse_probability(fixed_q, cost_driven_q, ratio):
    """``min(1, ℓ0 + ℓc · ratio)``: the quarterly lapse probability."""
    return np.minimum(1.0, fixed_q + cost_driven_q * ratio)


@register_jitable
def joiners_lapse(fixed_q, cost_driven_q):
    """``min(1, ℓ0 + ℓc · 1)``: the lapse of the quarter's joiners, as at ``c = c_ref``."""
    return lapse_probability(fixed_q, cost_driven_q, 1.0)


def split_base(base_q: np.ndarray, cost_driven_share: float) -> tuple[np.ndarray, np.ndarray]:
    """``(ℓ0, ℓc) = ((1 − φ) ℓ_base, φ ℓ_base)`` by duration."""
    return (1.0 - cost_driven_share) * base_q, cost_driven_share * base_q

"""Pre-paid funding (``sharing.funding = "prepaid"``): top-ups and suspensions, one rule for
both engines.

Notes
-----
A duration cohort whose average balance ``b`` cannot cover last quarter's charge ``c``
tops up with probability ``p_topup``, by the fewest ``top_up`` amounts that cover it,
``b ← b + ⌈(c − b) / top_up⌉ · top_up``, or is suspended: ``Binomial(N, 1 − p_topup)``
leave. Joiners bring the deposit into the first duration cohort.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import select


@register_jitable
def is_short(balance_yuan, last_charge_yuan):
    """The cohort's balance cannot cover the last charge."""
    return balance_yuan < last_charge_yuan


@register_jitable
def suspension_probability(short, topup_probability: float):
    """``1 − p_topup`` for a short cohort, 0 otherwise."""
    return select(short, 1.0 - topup_probability, 0.0)


@register_jitable
def topped_up(balance_yuan, last_charge_yuan, topup_yuan: float):
    """A short balance after the fewest top-ups that cover the last charge (none if the
    top-up amount is 0)."""
    if topup_yuan <= 0.0:
        return balance_yuan
    return balance_yuan + np.ceil((last_charge_yuan - balance_yuan) / topup_yuan) * topup_yuan


@register_jitable
def blend(count_a, balance_a, count_b, balance_b, default_yuan):
    """Count-weighted mean balance of two cohorts that merge (``default`` if both empty)."""
    both = count_a + count_b
    has = both > 0.0
    return select(has, (count_a * balance_a + count_b * balance_b) / select(has, both, 1.0),
                  default_yuan)

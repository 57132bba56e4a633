"""Hörmann's transformed rejection (BTRS for the binomial, PTRS for Poisson), the parts the
numpy samplers and the numba ones share: each sampler's constants and the transformation of
a uniform into a candidate. Written once for scalars (numba, one draw) and arrays (numpy,
many draws) with ``register_jitable``; Hörmann, "The generation of binomial random
variates" (1993) and "The transformed rejection method for generating Poisson random
variables" (1993).
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable


@register_jitable
def btrs_constants(nf, r):
    """``(q, spq, b, a, c, v_r, alpha, lpq, m)`` of BTRS for ``n`` trials (as a float) and
    ``r ≤ 1/2``."""
    q = 1.0 - r
    spq = np.sqrt(nf * r * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * r
    return (q, spq, b, a, nf * r + 0.5, 0.92 - 4.2 / b, (2.83 + 5.1 / b) * spq, r / q,
            np.floor((nf + 1.0) * r))


@register_jitable
def ptrs_constants(lam):
    """``(log λ, b, a, log(1/α), v_r)`` of PTRS for ``λ ≥ 10``."""
    b = 0.931 + 2.53 * np.sqrt(lam)
    return (np.log(lam), b, -0.059 + 0.02483 * b, np.log(1.1239 + 1.1328 / (b - 3.4)),
            0.9277 - 3.6224 / (b - 2.0))


@register_jitable
def candidate(u, a, b, shift, extra):
    """``(us, k)``: ``us = 1/2 − |u − 1/2|`` and the candidate
    ``k = ⌊(2a/us + b)(u − 1/2) + shift + extra⌋`` (added in that order)."""
    u = u - 0.5
    us = 0.5 - np.abs(u)
    return us, np.floor((2.0 * a / us + b) * u + shift + extra)

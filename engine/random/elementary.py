"""Elementary functions written as arithmetic, the same for numpy arrays and numba scalars.

A call to the C library's ``pow``, ``exp`` or ``log`` from compiled code is a call per
value (about 15–20 ns for ``pow`` on the machines we measure) that LLVM cannot vectorise;
the functions here are additions, multiplications, one division and ``floor``, so a loop
over many cells runs eight at a time (AVX-512), and numpy, applying the same operations to
arrays, rounds every one of them the same way: the reference samplers and the compiled ones
draw the same numbers. No fused multiply-add is formed (numba does not allow contraction).

:func:`no_event_probability` is ``(1 − r)**n``, the probability that none of ``n`` trials
occurs, which the binomial inversion starts from. ``(1.0 - r) ** n`` rounds ``1 − r``
first, an error ``n`` times larger after the power (relative ``5e-11`` at ``n = 10**6``);
here ``r`` is used as it is, through ``log(1 − r) = −2 atanh(r/(2 − r))``:

``(1 − r)**n = exp(y)``, ``y = −2 n s (1 + s²/3 + s⁴/5 + …)``, ``s = r/(2 − r) ≤ 1/3``
(18 terms: the first left out is below ``2**-60`` of the sum). ``exp(y) = 2**k e**t`` with
``k = ⌊y/log 2 + 1/2⌋`` and ``t = y − k log 2`` (Cody and Waite's two-part ``log 2``, so
``|t| ≤ 0.347``), ``e**t`` by its Taylor series to ``t**13/13!`` (the rest below
``2**-57``), and ``2**k`` built exactly from the bits of ``−k``. Relative error, from the
rounding of ``s`` and the products: at most about ``(5|y| + 4)·2**-53`` (``tests``
check it against 50-digit arithmetic); the inversion's range ``n·r < 10`` has
``|y| < 14``.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

LN2_HI = 6.93147180369123816490e-01   # log 2, its first 32 bits: k·LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10   # the rest of log 2 (fdlibm's e_exp.c)
INV_LN2 = 1.44269504088896338700e+00
ROUNDER = 1.5 * 2.0 ** 52   # (x + ROUNDER) − ROUNDER: x rounded to an integer (|x| < 2**51)
HALVE_32 = 1.0 - 2.0 ** -32   # 1 − 2**-b, b = 32, 16, 8, 4: see exp_nonpositive
HALVE_16 = 1.0 - 2.0 ** -16
HALVE_8 = 1.0 - 2.0 ** -8
HALVE_4 = 1.0 - 2.0 ** -4

# The series are evaluated by helpers with their coefficients as arguments, not by a loop
# over a tuple of coefficients: numba does not unroll such a loop, and LLVM then vectorises
# nothing. The small helpers are left to LLVM, which inlines them; the functions callers
# use are inlined by numba itself (``inline="always"``: LLVM did not inline the composed
# function, and a call in a loop is not vectorised). Numba inlining the helpers as well
# cost 8 s of cold compile.


@register_jitable(error_model="numpy")
def _horner6(x, c0, c1, c2, c3, c4, c5):
    """``c0 + c1 x + … + c5 x**5`` by Horner's rule (highest term first)."""
    return c0 + x * (c1 + x * (c2 + x * (c3 + x * (c4 + x * c5))))


@register_jitable(error_model="numpy")
def _horner9(x, c0, c1, c2, c3, c4, c5, c6, c7, c8):
    """``c0 + c1 x + … + c8 x**8`` by Horner's rule (the same operations, in order)."""
    return c0 + x * (c1 + x * (c2 + x * _horner6(x, c3, c4, c5, c6, c7, c8)))


@register_jitable(error_model="numpy")
def _halve_if_set(rest, scale, b, drop):
    """One bit ``b`` of ``rest`` (``rest ≥ b``): ``(rest − b, scale·2**-b)``, else
    ``(rest, scale)``; ``drop = 1 − 2**-b``, so ``1 − has·drop`` is ``2**-b`` or 1 exactly."""
    has = 1.0 * (rest >= b)
    return rest - b * has, scale * (1.0 - has * drop)


@register_jitable(error_model="numpy", inline="always")
def log_one_minus(r):
    """``log(1 − r)`` for ``0 ≤ r ≤ 1/2``: ``−2 s (1 + w/3 + w²/5 + … + w**18/37)``,
    ``s = r/(2 − r)``, ``w = s²``."""
    s = r / (2.0 - r)
    w = s * s
    v = w * w
    # z = 1/3 + w/5 + w²/7 + … + w**17/37 as even + w·odd terms: two chains of half the
    # length (a vector loop waits on the chain, not on the arithmetic units)
    even = _horner9(v, 1.0 / 3.0, 1.0 / 7.0, 1.0 / 11.0, 1.0 / 15.0, 1.0 / 19.0, 1.0 / 23.0,
                    1.0 / 27.0, 1.0 / 31.0, 1.0 / 35.0)
    odd = _horner9(v, 1.0 / 5.0, 1.0 / 9.0, 1.0 / 13.0, 1.0 / 17.0, 1.0 / 21.0, 1.0 / 25.0,
                   1.0 / 29.0, 1.0 / 33.0, 1.0 / 37.0)
    z = even + w * odd
    return -2.0 * s * (1.0 + w * z)


@register_jitable(error_model="numpy", inline="always")
def exp_reduced(y):
    """``(e**t, k)`` with ``e**y = 2**k e**t``: ``k`` the integer nearest ``y/log 2`` (no
    ``floor``: numba calls it, not vectorised), ``e**t = 1 + t + t²/2! + … + t**13/13!``."""
    k = (y * INV_LN2 + ROUNDER) - ROUNDER
    t = (y - k * LN2_HI) - k * LN2_LO
    # e**t = 1 + t + t²(1/2! + t/3! + … + t**11/13!), the bracket as even + t·odd terms
    t2 = t * t
    even = _horner6(t2, 0.5, 1.0 / 24.0, 1.0 / 720.0, 1.0 / 40320.0, 1.0 / 3628800.0,
                    1.0 / 479001600.0)
    odd = _horner6(t2, 1.0 / 6.0, 1.0 / 120.0, 1.0 / 5040.0, 1.0 / 362880.0, 1.0 / 39916800.0,
                   1.0 / 6227020800.0)
    return 1.0 + (t + t2 * (even + t * odd)), k


@register_jitable(error_model="numpy", inline="always")
def power_of_two(k):
    """``2**k`` for an integer-valued float ``−63 ≤ k ≤ 0``, exactly, in arithmetic."""
    # 2**k exactly from the bits of −k: a bit b present halves b times (1 − (1 − 2**-b)
    # is exact), absent multiplies by 1
    rest, scale = _halve_if_set(-k, 1.0, 32.0, HALVE_32)
    rest, scale = _halve_if_set(rest, scale, 16.0, HALVE_16)
    rest, scale = _halve_if_set(rest, scale, 8.0, HALVE_8)
    rest, scale = _halve_if_set(rest, scale, 4.0, HALVE_4)
    rest, scale = _halve_if_set(rest, scale, 2.0, 0.75)
    _, scale = _halve_if_set(rest, scale, 1.0, 0.5)
    return scale


@register_jitable(error_model="numpy", inline="always")
def exp_nonpositive(y):
    """``e**y`` for ``−63 log 2 < y ≤ 0``."""
    e, k = exp_reduced(y)
    return e * power_of_two(k)


@register_jitable(error_model="numpy", inline="always")
def no_event_probability(n, r):
    """``(1 − r)**n``: no event in ``n`` trials (a float) of probability ``r ≤ 1/2`` each,
    for ``n·r < 30`` (module docstring)."""
    return exp_nonpositive(n * log_one_minus(r))


def no_event_probability_array(n, r):
    """:func:`no_event_probability` for numpy arrays, bit for bit: ``2**k`` by ``np.ldexp``
    (exact, as the product by :func:`power_of_two` is), a quarter fewer array passes."""
    e, k = exp_reduced(n * log_one_minus(r))
    return np.ldexp(e, k.astype(np.int64))

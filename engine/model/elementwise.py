"""Element-wise primitives that let one rule serve both engines.

A rule of the model (settlement, caps, growth, payment pattern, top-ups, conversions) is
written once with these primitives and numpy's ``minimum``/``maximum``: the numpy reference
calls it on per-path arrays, and the numba kernel compiles the very same source for scalars
(``numba.njit(rule)``). Each primitive has a numpy definition (below) and a scalar one that
numba uses (registered with :func:`numba.extending.overload`).

Why not plain ``np.exp`` and friends: numpy's vectorised ``exp``, ``pow`` and ``expm1`` may
differ in the last bit from the C library's, which numba calls. Where a primitive below goes
through the C library in both engines (``c_exp``, ``c_pow``) the engines agree bit for bit;
``expm1`` and ``positive_part`` keep each engine's own routine (numpy's SIMD ``expm1``;
``np.maximum(0.0, -0.0)`` is ``-0.0`` where the scalar ``max`` gives ``0.0``), the one
documented place where the two engines may differ in the last bit or the sign of a zero.
"""

from __future__ import annotations

import math

import numpy as np
from numba.extending import overload


def select(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false`` (``np.where``)."""
    return np.where(condition, if_true, if_false)


def _exp(v: float) -> float:
    try:
        return math.exp(v)
    except OverflowError:       # C returns +HUGE_VAL where Python raises
        return math.inf


def _pow(v: float, w: float) -> float:
    try:
        return math.pow(v, w)
    except (OverflowError, ValueError):
        # C's pow: ±HUGE_VAL on overflow and for a zero base with a negative exponent
        # (negative only for a negative base and an odd integer exponent), NaN for a
        # negative base with a non-integer exponent.
        if v < 0.0 and w != math.floor(w):
            return math.nan
        odd = w == math.floor(w) and math.fmod(w, 2.0) != 0.0
        return -math.inf if odd and math.copysign(1.0, v) < 0.0 else math.inf


def _log(v: float) -> float:
    try:
        return math.log(v)
    except ValueError:          # C: log(±0) = −HUGE_VAL, log(v < 0) = NaN
        return -math.inf if v == 0.0 else math.nan


def c_exp(x):
    """``exp(x)`` element by element with the C library's ``exp`` (``inf`` on overflow,
    as C gives, where Python's ``math.exp`` raises)."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([_exp(v) for v in x.ravel()]).reshape(x.shape)


def c_pow(x, y):
    """``x ** y`` element by element with the C library's ``pow`` (``x`` and ``y``
    broadcast together; ``±inf`` on overflow and ``nan`` off the domain, as C gives)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, np.float64))
    return np.array([_pow(v, w) for v, w in zip(x.ravel(), y.ravel(), strict=True)]
                    ).reshape(x.shape)


def c_log(x):
    """``log(x)`` element by element with the C library's ``log`` (``−inf`` at 0 and
    ``nan`` below, as C gives)."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([_log(v) for v in x.ravel()]).reshape(x.shape)


def expm1(x):
    """``exp(x) − 1`` without cancellation near 0."""
    return np.expm1(x)


def positive_part(x):
    """``max(0, x)``."""
    return np.maximum(0.0, x)


@overload(select)
def _select_scalar(condition, if_true, if_false):
    return lambda condition, if_true, if_false: if_true if condition else if_false


@overload(c_exp)
def _c_exp_scalar(x):
    return lambda x: math.exp(x)


@overload(c_log)
def _c_log_scalar(x):
    return lambda x: math.log(x)


@overload(c_pow)
def _c_pow_scalar(x, y):
    return lambda x, y: x ** y


@overload(expm1)
def _expm1_scalar(x):
    return lambda x: math.expm1(x)


@overload(positive_part)
def _positive_part_scalar(x):
    return lambda x: max(0.0, x)

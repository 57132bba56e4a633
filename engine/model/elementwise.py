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


def c_exp(x):
    """``exp(x)`` element by element with the C library's ``exp``."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([math.exp(v) for v in x.ravel()]).reshape(x.shape)


def c_pow(x, y):
    """``x ** y`` element by element with the C library's ``pow`` (``x`` and ``y``
    broadcast together)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, np.float64))
    return np.array([math.pow(v, w) for v, w in zip(x.ravel(), y.ravel(), strict=True)]
                    ).reshape(x.shape)


def c_log(x):
    """``log(x)`` element by element with the C library's ``log``."""
    x = np.asarray(x, dtype=np.float64)
    return np.array([math.log(v) for v in x.ravel()]).reshape(x.shape)


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

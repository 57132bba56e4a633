"""engine.random.elementary: (1 − r)**n without pow, against 50-digit arithmetic, and the
same bits from numpy arrays and from compiled scalars."""

from __future__ import annotations

import decimal

import numpy as np
from numba import njit

from engine.random.elementary import (
    exp_nonpositive,
    log_one_minus,
    no_event_probability,
    no_event_probability_array,
)

ULP = 2.0 ** -53


@njit(error_model="numpy")
def _compiled(n, r, out):
    for i in range(r.size):
        out[i] = no_event_probability(n[i], r[i])


def _cases(seed=11, count=600):
    """(n, r) over the binomial inversion's range n·r < 10, r ≤ 1/2, with its edges."""
    rng = np.random.default_rng(seed)
    n = np.floor(10.0 ** rng.uniform(0.0, 7.0, count))
    r = np.minimum(rng.uniform(0.0, 10.0, count) / n, 0.5)
    n = np.r_[n, 1.0, 1.0, 20.0, 19.0, 1e7, 3.0]
    r = np.r_[r, 0.5, 1e-300, 0.5, 0.5, 1e-12, 2.0 ** -52]
    return n, r


def _exact(n, r):
    decimal.getcontext().prec = 50
    return ((decimal.Decimal(1) - decimal.Decimal(r)).ln() * decimal.Decimal(n)).exp()


def test_no_event_probability_within_its_stated_error():
    """Relative error at most (5|y| + 4)·2**-53, y = n log(1 − r) (module docstring); the
    power of the rounded 1 − r misses by up to n·2**-53, which the new form avoids."""
    n, r = _cases()
    ours = no_event_probability(n, r)
    worst = 0.0
    for ni, ri, oi in zip(n, r, ours, strict=True):
        exact = _exact(ni, ri)
        y = abs(float(exact.ln()))
        err = float(abs(decimal.Decimal(oi) / exact - 1))
        worst = max(worst, err / ((5.0 * y + 4.0) * ULP))
    assert worst <= 1.0, worst


def test_compiled_and_numpy_give_the_same_bits():
    n, r = _cases(seed=12, count=5000)
    out = np.zeros(r.size)
    _compiled(n, r, out)
    assert np.array_equal(out, no_event_probability(n, r))
    assert np.array_equal(out, no_event_probability_array(n, r))


def test_parts_on_their_own():
    """log(1 − r) and e**y near the C library's (which rounds within an ulp or so)."""
    r = np.r_[np.linspace(0.0, 0.5, 1001), 1e-300, 1e-17, 2.0 ** -30]
    assert np.allclose(log_one_minus(r), np.log1p(-r), rtol=4 * ULP, atol=0.0)
    y = np.r_[np.linspace(-43.0, 0.0, 4001), -1e-300, -0.5 * np.log(2.0)]
    assert np.allclose(exp_nonpositive(y), np.exp(y), rtol=8 * ULP, atol=0.0)
    assert exp_nonpositive(0.0) == 1.0 and log_one_minus(0.0) == 0.0

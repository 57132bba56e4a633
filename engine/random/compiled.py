"""The exact samplers compiled with numba, on the keyed Philox streams.

The same algorithms as :mod:`engine.random.samplers` (numpy), draw for draw: Philox4x32-10
(:mod:`engine.random.streams`), binomial by inversion or BTRS, Poisson by inversion or PTRS.
Each function is module-level with ``cache=True`` so that compiled code is read back from
the cache; the kernel calls each sampler from one call site only, which keeps LLVM from
inlining its body several times.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import register_jitable

from engine.random import streams
from engine.random.elementary import no_event_probability
from engine.random.rejection import btrs_constants, candidate, ptrs_constants
from engine.random.samplers import (
    BINOMIAL_INVERSION_MAX,
    LOG_SQRT_2PI,
    POISSON_INVERSION_MAX,
    STIRLING_TAIL,
)

_M0 = np.uint64(streams.PHILOX_M0)
_M1 = np.uint64(streams.PHILOX_M1)
_W0 = np.uint64(streams.PHILOX_W0)
_W1 = np.uint64(streams.PHILOX_W1)
_MASK = np.uint64(streams.MASK32)
_S32 = np.uint64(32)
_S20 = np.uint64(20)
_S12 = np.uint64(12)
_TWO_M52 = streams.TWO_POW_M52
_FC = STIRLING_TAIL.copy()


@register_jitable(inline="always")
def philox_uniforms(k0, k1, c0, c1, c2, c3):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1) → two uniforms.

    Inlined by numba itself (``inline="always"``), not left to LLVM: called in a loop over
    many cells (:func:`engine.random.cells.first_blocks`), a call LLVM does not inline keeps
    the loop from being vectorised (13.7 against 1.9 ns a block)."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _MASK
            k1 = (k1 + _W1) & _MASK
        p0 = c0 * _M0
        p1 = c2 * _M1
        n0 = (p1 >> _S32) ^ c1 ^ k0
        n2 = (p0 >> _S32) ^ c3 ^ k1
        c1 = p1 & _MASK
        c3 = p0 & _MASK
        c0 = n0
        c2 = n2
    u = (float((c0 << _S20) | (c1 >> _S12)) + 0.5) * _TWO_M52
    v = (float((c2 << _S20) | (c3 >> _S12)) + 0.5) * _TWO_M52
    return u, v


@njit(cache=True)
def uniforms(k0, k1, c0, c1, c2, c3):
    """Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1) → two uniforms."""
    return philox_uniforms(k0, k1, c0, c1, c2, c3)


@njit(cache=True)
def _fc(k):
    """Stirling remainder fc(k) (engine.random.samplers.stirling_tail)."""
    if k < 10:
        return _FC[int(k)]
    kp1 = k + 1.0
    kp1sq = kp1 * kp1
    return (1.0 / 12 - (1.0 / 360 - (1.0 / 1260) / kp1sq) / kp1sq) / kp1


@njit(cache=True)
def _inversion(f0, a, s, mean, var, extra, cap, flip, key, u0):
    """Sequential inversion shared by the binomial and Poisson samplers: the smallest ``k``
    with ``u ≤ F(k)``, walking ``f(k) = f(k−1) (a/k − s)`` from ``f(0) = f0`` (binomial:
    ``a = (n+1) r/q``, ``s = r/q``; Poisson: ``a = λ``, ``s = 0``), ``1 − u`` when ``flip``.
    A walk past ``min(cap, ⌊mean + 10 √var + extra⌋)`` (rounding ran out) restarts on the
    next block; that bound needs a square root and is at least ``min(cap, mean + 9)``, so
    it is computed only once ``k`` passes that. ``key``: the stream's ``(k0, k1, c0, c1,
    c2)``; ``u0``: the first uniform of its block 0 (already computed by the caller)."""
    cheap_bound = min(cap, mean + 9.0)
    bound = -1.0
    attempt = np.uint64(0)
    while True:
        u = u0
        if attempt > 0:
            u, _ = uniforms(key[0], key[1], key[2], key[3], key[4], attempt)
        if flip:
            u = 1.0 - u
        f = f0
        k = 0.0
        restart = False
        while u > f:
            u -= f
            k += 1.0
            f *= a / k - s
            if k > cheap_bound:
                if bound < 0.0:
                    bound = min(cap, math.floor(mean + 10.0 * math.sqrt(var) + extra))
                if k > bound:
                    restart = True
                    break
        if not restart:
            return int(k)
        attempt += np.uint64(1)


@njit(cache=True)
def binomial(n, p, k0, k1, c0, c1, c2):
    """Binomial(n, p) on the stream (key, counter words c0..c2); engine.random.samplers.binomial."""
    if n <= 0 or p <= 0.0:
        return 0
    u0, v0 = uniforms(k0, k1, c0, c1, c2, np.uint64(0))
    return binomial_given(n, p, u0, v0, np.int64(0), k0, k1, c0, c1, c2)


@njit(cache=True)
def binomial_given(n, p, u0, v0, first, k0, k1, c0, c1, c2):
    """:func:`binomial` with the two uniforms of the stream's block 0 given (``u0``, ``v0``):
    the caller may have computed many cells' first blocks at once
    (:mod:`engine.random.cells`); later blocks are computed here. ``first > 0`` (BTRS
    only): blocks ``0 .. first − 1`` were tried and rejected; go on from block ``first``."""
    if n <= 0 or p <= 0.0:
        return 0
    flip = p > 0.5
    r = 1.0 - p if flip else p
    if r == 0.0:
        return n
    nf = float(n)
    if nf * r < BINOMIAL_INVERSION_MAX:
        q = 1.0 - r
        s = r / q
        x = _inversion(no_event_probability(nf, r), (nf + 1.0) * s, s, nf * r, nf * r * q + 1.0,
                       0.0, nf, flip, (k0, k1, c0, c1, c2), u0)
        return n - x if flip else x
    return _btrs(n, nf, r, flip, u0, v0, first, (k0, k1, c0, c1, c2))


@njit(cache=True)
def _btrs(n, nf, r, flip, u0, v0, first, key):
    """BTRS for ``n·r ≥ 10``, ``r ≤ 1/2`` (mirrored when ``flip``), block 0 given, from
    block ``first`` on; ``key`` as :func:`_inversion`'s."""
    _, _, b, a, c, v_r, alpha, lpq, m = btrs_constants(nf, r)
    h = 0.0
    have_h = False  # h is needed only when the squeeze fails: compute it then, once
    attempt = np.uint64(first)
    u, v = u0, v0
    while True:
        if attempt > 0:
            u, v = uniforms(key[0], key[1], key[2], key[3], key[4], attempt)
        attempt += np.uint64(1)
        us, k = candidate(u, a, b, c, 0.0)
        if k < 0.0 or k > nf:
            continue
        if us >= 0.07 and v <= v_r:
            x = int(k)
            return n - x if flip else x
        if not have_h:
            h = (m + 0.5) * math.log((m + 1.0) / (lpq * (nf - m + 1.0))) + _fc(m) + _fc(nf - m)
            have_h = True
        lhs = math.log(v * alpha / (a / (us * us) + b))
        rhs = (h + (nf + 1.0) * math.log((nf - m + 1.0) / (nf - k + 1.0))
               + (k + 0.5) * math.log(lpq * (nf - k + 1.0) / (k + 1.0))
               - _fc(k) - _fc(nf - k))
        if lhs <= rhs:
            x = int(k)
            return n - x if flip else x


@njit(cache=True)
def poisson(lam, k0, k1, c0, c1, c2):
    """Poisson(λ) on the stream; engine.random.samplers.poisson."""
    if not lam > 0.0:
        return 0
    if lam < POISSON_INVERSION_MAX:
        u0, _ = uniforms(k0, k1, c0, c1, c2, np.uint64(0))
        # np.bool_, not a literal False: _inversion then compiles once for both samplers
        return _inversion(math.exp(-lam), lam, 0.0, lam, lam, 10.0, math.inf, np.bool_(False),
                          (k0, k1, c0, c1, c2), u0)
    loglam, b, a, log_invalpha, v_r = ptrs_constants(lam)
    attempt = np.uint64(0)
    while True:
        u, v = uniforms(k0, k1, c0, c1, c2, attempt)
        attempt += np.uint64(1)
        us, k = candidate(u, a, b, lam, 0.43)
        if k < 0.0:
            continue
        if us >= 0.07 and v <= v_r:
            return int(k)
        if us < 0.013 and v > us:
            continue
        lhs = math.log(v) + log_invalpha - math.log(a / (us * us) + b)
        log_k_factorial = (k + 0.5) * math.log(k + 1.0) - (k + 1.0) + LOG_SQRT_2PI + _fc(k)
        if lhs <= -lam + k * loglam - log_k_factorial:
            return int(k)

"""Exact samplers driven by keyed streams, vectorised in numpy (the reference samplers).

Each draw ``i`` reads the blocks ``attempt = 0, 1, ...`` of its own counter
``(path[i], quarter, kind, cell[i])`` (see :mod:`engine.random.streams`), so its value does not
depend on the other draws computed with it. The numba samplers follow the same algorithms,
step for step, on the same blocks.

Algorithms
----------
Binomial(n, p)
    With ``r = min(p, 1 − p)``: inversion when ``n·r < BINOMIAL_INVERSION_MAX`` (sequential
    search from 0 with ``f(0) = (1 − r)**n`` from
    :func:`engine.random.elementary.no_event_probability_array`, one uniform; past
    ``n·r + 10·sqrt(n·r·(1 − r) + 1)`` the try restarts on the next block, which only
    rounding can cause), otherwise BTRS, the transformed rejection with squeeze of Hörmann
    (1993), "The generation of binomial random variates", J. Stat. Comput. Simul. 46, valid
    for ``n·r ≥ 10``, two uniforms a try. For ``p > 1/2`` the draw is ``n − X(n, 1 − p)``;
    inversion then uses ``1 − u`` so that, within the inversion range, the draw is the same
    non-decreasing function of ``u`` and ``p``.
Poisson(λ)
    Inversion for ``λ < POISSON_INVERSION_MAX``, otherwise PTRS, Hörmann (1993), "The
    transformed rejection method for generating Poisson random variables", Insurance:
    Mathematics and Economics 12.
Gamma(shape, 1)
    Marsaglia & Tsang (2000), with a Box–Muller normal; shape < 1 by ``G(a+1) · U^(1/a)``.
Negative binomial(mean m, dispersion α)
    The gamma–Poisson mixture: ``G ~ Gamma(1/α, scale α)`` from one stream, then
    ``Poisson(m G)`` from another, so that ``Var = m + α m²``. The model draws joins this
    way, with one ``G`` per (path, quarter) shared by every cell (``engine.run.simulate``).
"""

from __future__ import annotations

import math

import numpy as np

from engine.random.elementary import no_event_probability_array
from engine.random.rejection import btrs_constants, candidate, ptrs_constants
from engine.random.streams import Stream

BINOMIAL_INVERSION_MAX = 10.0
POISSON_INVERSION_MAX = 10.0
GAMMA_SMALL_SHAPE_BLOCK = 2 ** 31   # block of the extra uniform for shape < 1

# Stirling series remainder fc(k) = log k! − [(k + 1/2) log(k + 1) − (k + 1) + log √(2π)],
# exact values for k < 10 (Hörmann 1993, Table 1; the same constants as TensorFlow/JAX).
STIRLING_TAIL = np.array([
    0.08106146679532726, 0.04134069595540929, 0.02767792568499834, 0.02079067210376509,
    0.01664469118982119, 0.01387612882307075, 0.01189670994589177, 0.01041126526197209,
    0.009255462182712733, 0.008330563433362871,
])
LOG_SQRT_2PI = 0.9189385332046727


def stirling_tail(k):
    """``fc(k)``: table below 10, series ``(1/12 − (1/360 − 1/1260/(k+1)²)/(k+1)²)/(k+1)``."""
    k = np.asarray(k, dtype=np.float64)
    kp1 = k + 1.0
    kp1sq = kp1 * kp1
    series = (1.0 / 12 - (1.0 / 360 - (1.0 / 1260) / kp1sq) / kp1sq) / kp1
    small = k < 10
    table = STIRLING_TAIL[np.where(small, k, 0).astype(np.int64)]
    return np.where(small, table, series)


def log_factorial(k):
    """``log k!`` from Stirling's series with the remainder ``fc`` (exact table below 10)."""
    k = np.asarray(k, dtype=np.float64)
    return (k + 0.5) * np.log(k + 1.0) - (k + 1.0) + LOG_SQRT_2PI + stirling_tail(k)


def _flat(shape, *arrays):
    return [np.broadcast_to(a, shape).ravel() for a in arrays]


# ------------------------------------------------------------------------------ binomial

def binomial(n, p, stream: Stream, path, cell) -> np.ndarray:
    """Exact Binomial(n, p) draws, one per element of ``n`` (``p``, ``path``, ``cell`` broadcast).

    Parameters
    ----------
    n : int array, ≥ 0
    p : float array in [0, 1]
    stream : the (seed, quarter, kind) of the draws
    path, cell : counter words of each draw
    """
    n = np.asarray(n, dtype=np.int64)
    shape = n.shape
    nf, pf, pathf, cellf = _flat(shape, n, np.asarray(p, np.float64), np.asarray(path),
                                 np.asarray(cell))
    out = np.zeros(nf.size, dtype=np.int64)
    flip = pf > 0.5
    r = np.where(flip, 1.0 - pf, pf)
    out[(r == 0.0) & flip] = nf[(r == 0.0) & flip]
    active = (nf > 0) & (r > 0.0)
    nr = nf * r
    small = np.flatnonzero(active & (nr < BINOMIAL_INVERSION_MAX))
    large = np.flatnonzero(active & (nr >= BINOMIAL_INVERSION_MAX))
    if small.size:
        k = _binomial_inversion(nf[small], r[small], flip[small], stream, pathf[small],
                                cellf[small])
        out[small] = np.where(flip[small], nf[small] - k, k)
    if large.size:
        k = _binomial_btrs(nf[large], r[large], stream, pathf[large], cellf[large])
        out[large] = np.where(flip[large], nf[large] - k, k)
    return out.reshape(shape)


def _binomial_inversion(n, r, flip, stream, path, cell):
    """Sequential inversion: smallest k with u ≤ F(k); ``1 − u`` when the draw is mirrored."""
    nf = n.astype(np.float64)
    q = 1.0 - r
    s = r / q
    bound = np.minimum(nf, np.floor(nf * r + 10.0 * np.sqrt(nf * r * q + 1.0)))
    return _inversion(no_event_probability_array(nf, r), (nf + 1.0) * s, s, bound, flip, stream,
                      path, cell)


def _inversion(f0, a, s, bound, flip, stream, path, cell):
    """Sequential inversion shared by the binomial and Poisson samplers: the smallest ``k``
    with ``u ≤ F(k)``, walking ``f(k) = f(k−1) (a/k − s)`` from ``f(0) = f0`` (binomial:
    ``a = (n+1) r/q``, ``s = r/q``; Poisson: ``a = λ``, ``s = 0``), ``1 − u`` where
    ``flip``. A walk past ``bound`` (rounding ran out) restarts on the next block."""
    out = np.zeros(f0.size, dtype=np.int64)
    todo = np.arange(f0.size)
    attempt = 0
    while todo.size:
        u, _ = stream.uniforms(path[todo], cell[todo], attempt)
        u = np.where(flip[todo], 1.0 - u, u)
        f = f0[todo].copy()
        k = np.zeros(todo.size, dtype=np.float64)
        go = np.flatnonzero(u > f)
        restart = np.zeros(todo.size, dtype=bool)
        while go.size:
            u[go] -= f[go]
            k[go] += 1.0
            f[go] *= a[todo[go]] / k[go] - s[todo[go]]
            over = k[go] > bound[todo[go]]
            restart[go[over]] = True
            go = go[~over]
            go = go[u[go] > f[go]]
        done = ~restart
        out[todo[done]] = k[done].astype(np.int64)
        todo = todo[restart]
        attempt += 1
    return out


def _binomial_btrs(n, r, stream, path, cell):
    """BTRS (Hörmann 1993) for ``n·r ≥ 10``, ``r ≤ 1/2``: two uniforms per try."""
    nf = n.astype(np.float64)
    _, _, b, a, c, v_r, alpha, lpq, m = btrs_constants(nf, r)
    h = ((m + 0.5) * np.log((m + 1.0) / (lpq * (nf - m + 1.0)))
         + stirling_tail(m) + stirling_tail(nf - m))
    out = np.zeros(n.size, dtype=np.int64)
    todo = np.arange(n.size)
    attempt = 0
    while todo.size:
        u, v = stream.uniforms(path[todo], cell[todo], attempt)
        us, k = candidate(u, a[todo], b[todo], c[todo], 0.0)
        valid = (k >= 0.0) & (k <= nf[todo])
        accept = valid & (us >= 0.07) & (v <= v_r[todo])
        test = np.flatnonzero(valid & ~accept)
        if test.size:
            i = todo[test]
            kt, ust = k[test], us[test]
            lhs = np.log(v[test] * alpha[i] / (a[i] / (ust * ust) + b[i]))
            rhs = (h[i] + (nf[i] + 1.0) * np.log((nf[i] - m[i] + 1.0) / (nf[i] - kt + 1.0))
                   + (kt + 0.5) * np.log(lpq[i] * (nf[i] - kt + 1.0) / (kt + 1.0))
                   - stirling_tail(kt) - stirling_tail(nf[i] - kt))
            accept[test] = lhs <= rhs
        out[todo[accept]] = k[accept].astype(np.int64)
        todo = todo[~accept]
        attempt += 1
    return out


# ------------------------------------------------------------------------------- Poisson

def poisson(lam, stream: Stream, path, cell) -> np.ndarray:
    """Exact Poisson(λ) draws, one per element of ``lam`` (λ ≥ 0, finite)."""
    lam = np.asarray(lam, dtype=np.float64)
    shape = lam.shape
    lamf, pathf, cellf = _flat(shape, lam, np.asarray(path), np.asarray(cell))
    out = np.zeros(lamf.size, dtype=np.int64)
    small = np.flatnonzero((lamf > 0.0) & (lamf < POISSON_INVERSION_MAX))
    large = np.flatnonzero(lamf >= POISSON_INVERSION_MAX)
    if small.size:
        out[small] = _poisson_inversion(lamf[small], stream, pathf[small], cellf[small])
    if large.size:
        out[large] = _poisson_ptrs(lamf[large], stream, pathf[large], cellf[large])
    return out.reshape(shape)


def _poisson_inversion(lam, stream, path, cell):
    return _inversion(np.exp(-lam), lam, np.zeros_like(lam),
                      np.floor(lam + 10.0 * np.sqrt(lam) + 10.0),
                      np.zeros(lam.size, dtype=bool), stream, path, cell)


def _poisson_ptrs(lam, stream, path, cell):
    loglam, b, a, log_invalpha, v_r = ptrs_constants(lam)
    out = np.zeros(lam.size, dtype=np.int64)
    todo = np.arange(lam.size)
    attempt = 0
    while todo.size:
        u, v = stream.uniforms(path[todo], cell[todo], attempt)
        us, k = candidate(u, a[todo], b[todo], lam[todo], 0.43)
        accept = (us >= 0.07) & (v <= v_r[todo]) & (k >= 0.0)
        test = np.flatnonzero(~accept & (k >= 0.0) & ~((us < 0.013) & (v > us)))
        if test.size:
            i = todo[test]
            kt, ust = k[test], us[test]
            lhs = np.log(v[test]) + log_invalpha[i] - np.log(a[i] / (ust * ust) + b[i])
            rhs = -lam[i] + kt * loglam[i] - log_factorial(kt)
            accept[test] = lhs <= rhs
        out[todo[accept]] = k[accept].astype(np.int64)
        todo = todo[~accept]
        attempt += 1
    return out


# -------------------------------------------------------------------------------- normal

def normal(stream: Stream, path, cell) -> np.ndarray:
    """Standard normal draws (Box–Muller on block 0: ``√(−2 ln u) cos 2πv``), one per
    ``(path, cell)`` (broadcast together)."""
    u, v = stream.uniforms(np.asarray(path), np.asarray(cell), 0)
    return np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * math.pi * v)


def uniform(stream: Stream, path, cell) -> np.ndarray:
    """One uniform in (0, 1) per ``(path, cell)``: the first of block 0."""
    u, _ = stream.uniforms(np.asarray(path), np.asarray(cell), 0)
    return u


# --------------------------------------------------------------------------------- gamma

def gamma(shape_param, stream: Stream, path, cell) -> np.ndarray:
    """Exact Gamma(shape, scale 1) draws (Marsaglia–Tsang), one per element of ``shape``.

    Try ``j`` reads blocks ``2j`` (two uniforms for a Box–Muller normal) and ``2j + 1``
    (the acceptance uniform). For shape ``a < 1`` the draw is ``G(a + 1) · U^(1/a)`` with
    ``U`` from block ``GAMMA_SMALL_SHAPE_BLOCK``.
    """
    a = np.asarray(shape_param, dtype=np.float64)
    if not np.all(np.isfinite(a) & (a > 0)):
        raise ValueError("gamma shape must be finite and positive")   # it would never accept
    shape = a.shape
    af, pathf, cellf = _flat(shape, a, np.asarray(path), np.asarray(cell))
    boosted = af < 1.0
    d = np.where(boosted, af + 1.0, af) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.zeros(af.size)
    todo = np.arange(af.size)
    attempt = 0
    while todo.size:
        u1, u2 = stream.uniforms(pathf[todo], cellf[todo], 2 * attempt)
        u3, _ = stream.uniforms(pathf[todo], cellf[todo], 2 * attempt + 1)
        x = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
        v = 1.0 + c[todo] * x
        ok = v > 0.0
        v3 = np.where(ok, v * v * v, 1.0)
        dd = d[todo]
        accept = ok & (np.log(u3) < 0.5 * x * x + dd - dd * v3 + dd * np.log(v3))
        out[todo[accept]] = dd[accept] * v3[accept]
        todo = todo[~accept]
        attempt += 1
    small = np.flatnonzero(boosted)
    if small.size:
        u, _ = stream.uniforms(pathf[small], cellf[small], GAMMA_SMALL_SHAPE_BLOCK)
        out[small] *= np.power(u, 1.0 / af[small])
    return out.reshape(shape)

"""Goodness of fit against exact distributions, with the significance level stated."""

from __future__ import annotations

import numpy as np
from scipy import stats

# Each chi-square test rejects a correct sampler with probability ALPHA; the seeds are
# fixed, so a pass is reproducible, and with a few dozen tests the chance that a correct
# implementation fails one for an unlucky seed is under 1 in 1,000.
ALPHA = 1e-5


def chi_square_discrete(sample: np.ndarray, dist, min_expected: float = 5.0
                        ) -> tuple[float, int]:
    """Chi-square test of an integer sample against a frozen scipy discrete ``dist``.

    Bins with fewer than ``min_expected`` expected counts are merged into their neighbours;
    the mass below the sample's minimum and above its maximum goes into the end bins.
    Returns ``(p_value, bins)``.
    """
    sample = np.asarray(sample, dtype=np.int64)
    n = sample.size
    lo, hi = int(sample.min()), int(sample.max())
    ks = np.arange(lo, hi + 1)
    probs = dist.pmf(ks)
    probs[0] += dist.cdf(lo - 1)
    probs[-1] += dist.sf(hi)
    observed = np.bincount(sample - lo, minlength=len(ks)).astype(float)
    expected = probs * n
    edges = _merge(expected, min_expected)
    obs = np.add.reduceat(observed, edges)
    exp = np.add.reduceat(expected, edges)
    if len(obs) < 2:
        return 1.0, len(obs)
    stat = float(np.sum((obs - exp) ** 2 / exp))
    return float(stats.chi2.sf(stat, len(obs) - 1)), len(obs)


def _merge(expected: np.ndarray, min_expected: float) -> np.ndarray:
    """Start indices of bins, each (but possibly the last) with ``min_expected`` or more."""
    starts, acc = [0], 0.0
    for i, e in enumerate(expected):
        acc += e
        if acc >= min_expected and i + 1 < len(expected):
            starts.append(i + 1)
            acc = 0.0
    if acc < min_expected and len(starts) > 1:
        starts.pop()  # fold a thin last bin into the one before
    return np.array(starts)


def tail_probability(x, threshold: float, w=None) -> float:
    """``P(X > threshold)`` estimated by ``Σ w 1{x > t} / n`` (plain when ``w`` is None)."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    return float(np.sum(w * (x > threshold)) / x.size)


def tail_probability_standard_error(x, threshold: float, w=None) -> float:
    """Its standard error: the s.d. of ``w 1{x > t}`` over ``√n``."""
    x = np.asarray(x, dtype=float)
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float)
    hit = w * (x > threshold)
    return float(np.std(hit, ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0

"""Exact samplers against scipy's distributions, in every regime, at fixed seeds."""

import numpy as np
import pytest
from scipy import stats

from engine.random.samplers import (
    BINOMIAL_INVERSION_MAX,
    binomial,
    gamma,
    poisson,
)
from engine.random.streams import Stream
from tests.statistical.helpers import ALPHA, chi_square_discrete

DRAWS = 40_000
PATHS = np.arange(DRAWS)

BINOMIAL_CASES = [
    (0, 0.3), (1, 0.5), (7, 0.01), (20, 0.45), (100, 0.05), (1000, 0.0099),
    (1000, 0.0101), (100, 0.1), (200, 0.12), (60, 0.5), (10**4, 0.0015), (10**4, 0.003),
    (10**5, 0.3), (10**6, 1e-6), (10**6, 0.999), (10**9, 1e-9), (10**9, 1e-8), (10**9, 2e-8),
    (10**9, 0.5), (50, 0.8), (50, 0.95), (40, 1.0), (12, 0.0),
]


@pytest.mark.parametrize("n,p", BINOMIAL_CASES)
def test_binomial_matches_the_exact_distribution(n, p):
    x = binomial(np.full(DRAWS, n), p, Stream(11, 2, 4), PATHS, n % 97)
    assert x.min() >= 0 and x.max() <= n
    if p in (0.0, 1.0) or n == 0:
        assert np.all(x == n * p)
        return
    pvalue, bins = chi_square_discrete(x, stats.binom(n, p))
    assert pvalue > ALPHA, f"Binomial({n}, {p}): chi-square p = {pvalue:.2g} over {bins} bins"


def test_binomial_switch_point_is_where_stated():
    # n·p just below and above the switch use different algorithms; both are exact.
    for npr in (BINOMIAL_INVERSION_MAX * 0.999, BINOMIAL_INVERSION_MAX * 1.001):
        n = 2000
        x = binomial(np.full(DRAWS, n), npr / n, Stream(3, 0, 4), PATHS, 0)
        pvalue, _ = chi_square_discrete(x, stats.binom(n, npr / n))
        assert pvalue > ALPHA


def test_binomial_with_per_cell_parameters():
    rng = np.random.default_rng(5)  # only to pick parameters
    n = rng.integers(0, 5000, DRAWS)
    p = rng.random(DRAWS) ** 3
    x = binomial(n, p, Stream(1, 1, 3), PATHS, 4)
    # The standardised sum is N(0, 1) when every draw has its own exact distribution.
    z = (x.sum() - (n * p).sum()) / np.sqrt((n * p * (1 - p)).sum())
    assert abs(z) < 4.5


def test_binomial_inversion_is_monotone_in_p():
    n = np.full(DRAWS, 30)
    lo = binomial(n, 0.05, Stream(9, 0, 4), PATHS, 0)
    hi = binomial(n, 0.2, Stream(9, 0, 4), PATHS, 0)
    mirrored = binomial(n, 0.9, Stream(9, 0, 4), PATHS, 0)  # n·(1 − p) = 3: inversion too
    assert np.all(hi >= lo) and np.all(mirrored >= hi)


@pytest.mark.parametrize("lam", [1e-9, 0.01, 0.7, 4.0, 9.99, 10.0, 10.01, 27.0, 300.0, 1e5,
                                 1e8])
def test_poisson_matches_the_exact_distribution(lam):
    x = poisson(np.full(DRAWS, lam), Stream(12, 5, 2), PATHS, 3)
    assert x.min() >= 0
    pvalue, bins = chi_square_discrete(x, stats.poisson(lam))
    assert pvalue > ALPHA, f"Poisson({lam}): chi-square p = {pvalue:.2g} over {bins} bins"


def test_poisson_of_zero_is_zero():
    assert np.all(poisson(np.zeros(10), Stream(1, 0, 2), np.arange(10), 0) == 0)


@pytest.mark.parametrize("shape", [0.05, 0.5, 1.0, 2.5, 50.0, 1e4])
def test_gamma_matches_the_exact_distribution(shape):
    x = gamma(np.full(DRAWS, shape), Stream(13, 0, 1), PATHS, 0)
    assert np.all(x > 0)
    pvalue = stats.kstest(x, stats.gamma(shape).cdf).pvalue
    assert pvalue > ALPHA, f"Gamma({shape}): KS p = {pvalue:.2g}"


@pytest.mark.parametrize("mean,alpha", [(0.3, 2.0), (4.0, 0.05), (12.0, 1.0), (500.0, 0.01),
                                        (5e4, 0.002), (2.0, 0.0)])
def test_poisson_with_a_gamma_mixed_mean_is_negative_binomial(mean, alpha):
    """The joins' over-dispersion without a market cap: ``Poisson(λ G)``, ``G ~ Gamma(1/α,
    α)``, is NB with ``r = 1/α`` and ``p = 1/(1 + α λ)`` (``α = 0``: Poisson(λ))."""
    mix = (gamma(np.full(DRAWS, 1.0 / alpha), Stream(14, 3, 1), PATHS, 0) * alpha
           if alpha > 0 else np.ones(DRAWS))
    x = poisson(mean * mix, Stream(14, 3, 2), PATHS, 0)
    if alpha == 0:
        dist = stats.poisson(mean)
    else:
        dist = stats.nbinom(1.0 / alpha, 1.0 / (1.0 + alpha * mean))
    pvalue, bins = chi_square_discrete(x, dist)
    assert pvalue > ALPHA, f"NB({mean}, {alpha}): chi-square p = {pvalue:.2g} over {bins} bins"

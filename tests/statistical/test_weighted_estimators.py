"""Weighted (importance-sampling) estimators against exact laws (issue 14, first part).

Unit weights give the plain estimators of ``engine.analysis.metrics`` exactly. On a law with
a closed form (X ~ N(0, 1), paths drawn from N(μ, 1) with weights ``exp(−μ x + μ²/2)``) the
weighted tail probability, VaR and TVaR at 99.5 % match the exact values within 4 standard
errors, the weights average 1, the reported standard errors match the spread of 200
independent replications within 20 %, and the variance of the tail estimate falls by the
factor the theory gives.
"""

import numpy as np
import pytest
from scipy import stats

from engine.analysis import metrics
from engine.analysis import weighted as W
from tests.conftest import assert_within_se
from tests.statistical.helpers import tail_probability, tail_probability_standard_error

ALPHA = 0.995
EXACT_VAR = float(stats.norm.ppf(ALPHA))                             # 2.5758
EXACT_TVAR = float(stats.norm.pdf(EXACT_VAR) / (1 - ALPHA))          # 2.8919
SHIFT = EXACT_VAR                   # the mean shift to the quantile (Glasserman §4.6.1)


def tilted(n, rng, shift=SHIFT):
    x = rng.normal(shift, 1.0, n)
    return x, np.exp(-shift * x + 0.5 * shift * shift)


def test_unit_weights_are_the_plain_estimators():
    rng = np.random.default_rng(1)
    for n in (1, 7, 200, 1000, 2001):
        for x in (rng.normal(size=n), rng.integers(0, 4, n).astype(float)):
            ones = np.ones(n)
            for alpha in (0.25, 0.5, 0.95, 0.995):
                assert W.var(x, alpha, ones) == metrics.var(x, alpha)
                assert W.tvar(x, alpha, ones) == pytest.approx(metrics.tvar(x, alpha),
                                                              rel=1e-12)
                assert W.quantile(x, alpha, ones) == metrics.quantile(x, alpha)
            assert W.effective_sample_size(np.ones(n)) == pytest.approx(n)


def test_weighted_estimates_match_the_exact_law():
    rng = np.random.default_rng(2)
    x, w = tilted(20_000, rng)
    assert_within_se(W.mean(w), 1.0, W.mean_standard_error(w), what="mean weight")
    p = tail_probability(x, EXACT_VAR, w)
    assert_within_se(p, 1 - ALPHA, tail_probability_standard_error(x, EXACT_VAR, w),
                     what="tail probability")
    assert_within_se(W.var(x, ALPHA, w), EXACT_VAR, W.var_standard_error(x, ALPHA, w),
                     what="VaR 99.5%")
    assert_within_se(W.tvar(x, ALPHA, w), EXACT_TVAR, W.tvar_standard_error(x, ALPHA, w),
                     what="TVaR 99.5%")
    assert 0 < W.effective_sample_size(w) < x.size


@pytest.mark.parametrize("estimate,se", [
    (lambda x, w: W.var(x, ALPHA, w), lambda x, w: W.var_standard_error(x, ALPHA, w)),
    (lambda x, w: W.tvar(x, ALPHA, w), lambda x, w: W.tvar_standard_error(x, ALPHA, w)),
    (lambda x, w: tail_probability(x, EXACT_VAR, w),
     lambda x, w: tail_probability_standard_error(x, EXACT_VAR, w)),
], ids=["VaR", "TVaR", "tail probability"])
def test_reported_standard_errors_match_200_replications(estimate, se):
    """The spread of 200 independent estimates against the mean reported s.e.: the spread's
    own relative error is about 1/√(2·199) = 5 % and the batch s.e.'s averages out, so 20 %
    is about 4 of their combined standard errors."""
    rng = np.random.default_rng(3)
    values, reported = [], []
    for _ in range(200):
        x, w = tilted(4000, rng)
        values.append(estimate(x, w))
        reported.append(se(x, w))
    spread = float(np.std(values, ddof=1))
    assert np.mean(reported) == pytest.approx(spread, rel=0.2)


def test_the_tilt_reduces_the_variance_of_the_tail_probability():
    """Exact variances per path: plain p(1 − p); tilted by μ, E_g[w² 1{X > t}] − p² with
    E_g[w² 1{X > t}] = e^{μ²} Φ̄(t + μ)."""
    p = 1 - ALPHA
    plain = p * (1 - p)
    second = np.exp(SHIFT ** 2) * stats.norm.sf(EXACT_VAR + SHIFT)
    assert plain / (second - p * p) > 50       # the theory: about 80×
    rng = np.random.default_rng(4)
    x, w = tilted(200_000, rng)
    measured = np.var(w * (x > EXACT_VAR), ddof=1)
    assert measured == pytest.approx(second - p * p, rel=0.1)

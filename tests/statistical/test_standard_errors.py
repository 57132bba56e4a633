"""Standard errors that respect the design (issue 11): over independent replications, each
estimator's reported standard error matches the replications' standard deviation. Test data,
not engine noise: ``S`` scenarios × ``P`` paths where, as under common random numbers, the
values of one path are strongly correlated across scenarios (a shared path effect,
correlation 0.9), against the same with every value independent and against a single
scenario of as many paths. The reported s.e. is averaged over the replications; the
replications' standard deviation of the estimate has a relative sampling error of about
1/√(2R) = 5 % with R = 200, so 20 % is four of its standard errors plus the estimators' own
small-sample bias. (With only about ten values beyond VaR 99.5 % every quantile s.e.
estimator overstates, the Maritz–Jarrett one used by about 20 %; the summary flags such
tails.)
"""

import numpy as np
import pytest

from engine.analysis import metrics

R, S, P, RHO2 = 200, 5, 2000, 0.9


def _sample(rng, design: str) -> tuple[np.ndarray, np.ndarray | None]:
    if design == "single":
        return rng.standard_normal(S * P), None          # as many values as the pools
    e = rng.standard_normal((S, P))
    if design == "independent":
        return e.ravel(), None
    z = rng.standard_normal(P)
    x = np.sqrt(RHO2) * z[None, :] + np.sqrt(1 - RHO2) * e
    return x.ravel(), np.tile(np.arange(P), S)


ESTIMATORS = {
    "ruin probability": (lambda x: float(np.mean(x > 1.5)),
                         lambda x, c: metrics.cluster_standard_error(x > 1.5, c)),
    "mean cost": (lambda x: float(np.mean(np.exp(x))),
                  lambda x, c: metrics.cluster_standard_error(np.exp(x), c)),
    "VaR 99.5 %": (lambda x: metrics.var(np.exp(x), 0.995),
                   lambda x, c: metrics.clustered_quantile_standard_error(np.exp(x), 0.995, c)),
    "TVaR 99.5 %": (lambda x: metrics.tvar(np.exp(x), 0.995),
                    lambda x, c: metrics.clustered_tvar_standard_error(np.exp(x), 0.995, c)),
}


@pytest.mark.parametrize("design", ["common", "independent", "single"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_reported_standard_errors_match_replications(design, name):
    rng = np.random.default_rng(20261202)
    estimate, standard_error = ESTIMATORS[name]
    values, reported = [], []
    for _ in range(R):
        x, clusters = _sample(rng, design)
        values.append(estimate(x))
        reported.append(standard_error(x, clusters))
    actual = float(np.std(values, ddof=1))
    mean_reported = float(np.mean(reported))
    assert abs(mean_reported / actual - 1) < 0.2, (name, design, mean_reported, actual)


def test_ignoring_the_design_understates_the_error_of_a_pooled_common_set():
    rng = np.random.default_rng(5)
    x, clusters = _sample(rng, "common")
    naive = metrics.cluster_standard_error(x > 1.5)
    honest = metrics.cluster_standard_error(x > 1.5, clusters)
    assert honest > 1.8 * naive        # about √(1 + (S − 1) ρ_indicator) here
    assert metrics.design_effect(x > 1.5, clusters) > 3


@pytest.mark.parametrize("k,n,text", [(0, 2000, "0 of 2,000 paths, below 0.15% (95%)"),
                                      (2000, 2000, "2,000 of 2,000 paths, above 99.85% (95%)")])
def test_certain_and_impossible_events_get_exact_bounds(k, n, text):
    assert metrics.proportion_text(k / n, n) == text
    lo, hi = metrics.clopper_pearson(k, n)
    assert (lo, hi) == ((0.0, pytest.approx(1 - 0.05 ** (1 / n))) if k == 0
                        else (pytest.approx(0.05 ** (1 / n)), 1.0))


def test_clopper_pearson_matches_its_definition():
    """The two-sided interval's ends solve P(X ≥ k | lo) = 2.5 % and P(X ≤ k | hi) = 2.5 %."""
    from scipy import stats

    lo, hi = metrics.clopper_pearson(7, 300)
    assert stats.binom.sf(6, 300, lo) == pytest.approx(0.025, rel=1e-6)
    assert stats.binom.cdf(7, 300, hi) == pytest.approx(0.025, rel=1e-6)

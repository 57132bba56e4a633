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


@pytest.mark.slow
@pytest.mark.parametrize("design", ["common", "independent", "single"])
def test_engine_replications_confirm_the_reported_errors(tmp_path, design):
    """The same check on the engine itself: a small plan whose capped shares leave a
    shortfall on some paths (ruin about 0.2), four scenarios a little apart (the initial
    reserve) pooled on common or on independent streams, or one scenario with as many
    paths; 200 replications, each on its own seed. Every reported s.e. (as the pooled
    summary computes it) is within 20 % of the replications' standard deviation."""
    from engine.model.inputs import build_inputs
    from engine.run.simulate import scenario_seeds, simulate_paths
    from tests.conftest import load, scenario_dict

    n_scen, paths, reps = 4, 2000, 200
    inputs = [build_inputs(load(tmp_path, scenario_dict(
        scenario__quarters=4, population__initial_members=2000, population__age_min=40,
        population__age_max=40, benefits__amount_by_age=[[40, 40, 100000]],
        growth__series=[0.0] * 4, benefits__waiting_quarters=0,
        sharing__cap_per_quarter=60.0, reserve__initial=150_000.0 + 5_000.0 * s),
        name=f"s{s}.toml").base) for s in range(n_scen)]
    estimates = {name: [] for name in ESTIMATOR_NAMES}
    reported = {name: [] for name in ESTIMATOR_NAMES}
    for r in range(reps):
        seed = 1_000 + r
        if design == "single":
            runs = [simulate_paths(inputs[0], seed, 0, n_scen * paths)]
            clusters = None
        else:
            seeds = scenario_seeds(seed, n_scen, design)
            runs = [simulate_paths(inputs[s], seeds[s], 0, paths) for s in range(n_scen)]
            clusters = np.tile(np.arange(paths), n_scen) if design == "common" else None
        ruined = np.concatenate([np.any(o["solvency_gap"] > 0, axis=1) for o in runs])
        shortfall = np.concatenate([o["shortfall"].sum(axis=1) for o in runs])
        cost = np.concatenate([o["cost_per_member"].sum(axis=1) for o in runs])
        for name, (value, se) in {
            "ruin probability": (ruined.mean(), metrics.cluster_standard_error(ruined, clusters)),
            "mean cost": (cost.mean(), metrics.cluster_standard_error(cost, clusters)),
            "VaR 99.5 %": (metrics.var(shortfall, 0.995),
                           metrics.clustered_quantile_standard_error(shortfall, 0.995, clusters)),
            "TVaR 99.5 %": (metrics.tvar(shortfall, 0.995),
                            metrics.clustered_tvar_standard_error(shortfall, 0.995, clusters)),
        }.items():
            estimates[name].append(value)
            reported[name].append(se)
    for name in ESTIMATOR_NAMES:
        actual = float(np.std(estimates[name], ddof=1))
        ratio = float(np.mean(reported[name])) / actual
        assert abs(ratio - 1) < 0.2, (name, design, ratio)


ESTIMATOR_NAMES = ("ruin probability", "mean cost", "VaR 99.5 %", "TVaR 99.5 %")

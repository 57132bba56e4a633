"""Tilted claim counts (issue 14, item 3): an Esscher tilt of each cell's binomial with its
exact likelihood ratio, against laws computed exactly.

* A closed four-cell quarter (benefits 300,000 and 100,000 yuan, aid per cell binomial):
  the weighted VaR 99.5 %, TVaR and tail probabilities match the exact convolution, with
  at least ten times less variance than plain sampling (so a tenth of the paths).
* A discrete-time ruin probability near 1 % from a reserve with a fixed loading matches an
  exact lattice dynamic programme.
* The likelihood ratios average 1 within their exact standard error; the kernel and the
  numpy reference draw the same tilted counts and weights; a zero tilt is the plain run.
"""

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from engine.analysis import weighted as W
from engine.model import units
from engine.model.tilt import CLAIM_STATS_KEY, Tilt
from engine.model.units import prob_from_hazard
from engine.run.plans import PlatformInputs
from engine.run.simulate import simulate_paths
from engine.run.tail import choose_tilt
from engine.variables import WEIGHT
from tests.conftest import assert_within_se
from tests.statistical.helpers import tail_probability, tail_probability_standard_error
from tests.statistical.test_model_statistics import closed_cohort

UNIT = 100000.0                      # yuan: the lattice of the aid
# (row, age-quarter, members, quarterly hazard, benefit yuan): four cells, two benefits
CELLS = ((0, 0, 400, 0.004, 300000), (0, 4, 600, 0.008, 100000),
         (1, 0, 300, 0.006, 300000), (1, 4, 500, 0.010, 100000))
SEED = 7
PATHS_IS = 2000


def tail(target: str, **changes) -> SimpleNamespace:
    """A ``[tail]`` table as the scenario loader gives it, tilting the claim counts."""
    values = dict(target=target, year=1, level=0.995, horizon_quarters=None, pilot_paths=500,
                  drivers="claims", pilot=None, level_shift=0.0, trend_shift=0.0,
                  shock_probability_per_year=None, join_multiplier_mean=1.0, claim_tilt=None)
    return SimpleNamespace(**{**values, **changes})


@pytest.fixture(scope="module")
def four_cells(tmp_path_factory):
    """One quarter, no joins, deaths or lapses, no cap (every yuan of aid is shortfall, met
    by the reserve), no fee: the shortfall is ``Σ_c b_c K_c``, ``K_c ~ Binomial(n_c, p_c)``."""
    base = closed_cohort(tmp_path_factory.mktemp("four"), rate_per_100k=1000.0, quarters=1,
                         members=1000)
    members = np.zeros_like(base.initial_members)
    hazard = np.zeros_like(base.diagnosis_hazard_q)
    benefit = np.zeros_like(base.benefit_yuan)
    d = members.shape[2] - 1
    for r, a, n, h, b in CELLS:
        members[r, a, d], hazard[r, a, d], benefit[:, a] = n, h, b
    return dataclasses.replace(base, initial_members=members, diagnosis_hazard_q=hazard,
                               benefit_yuan=benefit, cap_per_quarter_yuan=0.0, fee_rate=0.0)


def exact_four_cell_law() -> np.ndarray:
    """The pmf of the aid in units of 100,000 yuan: the cells' binomials convolved."""
    pmf = np.array([1.0])
    for _, _, n, h, b in CELLS:
        step = int(b // UNIT)
        cell = np.zeros(n * step + 1)
        cell[::step] = stats.binom(n, prob_from_hazard(h)).pmf(np.arange(n + 1))
        pmf = np.convolve(pmf, cell)
    return pmf


@pytest.fixture(scope="module")
def tilted_four_cells(four_cells):
    tilt, record = choose_tilt(
        lambda t: PlatformInputs.of_plan(dataclasses.replace(four_cells, tilt=t)), SEED,
        tail("shortfall"))
    out = simulate_paths(dataclasses.replace(four_cells, tilt=tilt), SEED, 0, PATHS_IS)
    return tilt, record, out["shortfall"][:, 0] / UNIT, out[WEIGHT]


def test_the_pilot_tilts_the_claims_up(tilted_four_cells):
    tilt, record, _, _ = tilted_four_cells
    assert tilt.claim_tilt > 0
    assert record["rounds"][-1]["tilt"]["claim_tilt"] == tilt.claim_tilt
    # the systematic drivers are left as they were
    assert tilt.level_shift == 0.0 and tilt.join_multiplier_mean == 1.0


def test_weighted_tail_of_four_cells_matches_the_exact_convolution(tilted_four_cells):
    _, _, x, w = tilted_four_cells
    pmf = exact_four_cell_law()
    cdf = np.cumsum(pmf)
    support = np.arange(pmf.size)
    exact_var = int(np.searchsorted(cdf, 0.995))          # smallest s with F(s) ≥ 0.995
    exact_tvar = exact_var + np.sum(pmf * np.maximum(support - exact_var, 0)) / 0.005
    v, v_se = W.var(x, 0.995, w), W.var_standard_error(x, 0.995, w)
    # a lattice quantile: the estimate may sit one support point off as well
    assert abs(v - exact_var) <= max(4 * v_se, 1.0), (v, v_se, exact_var)
    assert_within_se(W.tvar(x, 0.995, w), exact_tvar, W.tvar_standard_error(x, 0.995, w),
                     what="TVaR 99.5 %")
    for s in (exact_var - 2, exact_var, exact_var + 3):
        p = 1.0 - cdf[s]
        est, se = tail_probability(x, s, w), tail_probability_standard_error(x, s, w)
        assert_within_se(est, p, se, what=f"P(aid > {s} units)")
        # a tenth of the paths: the plain estimator's variance p(1 − p)/n, ten times over
        assert p * (1 - p) / PATHS_IS >= 10 * se ** 2, (s, p, se)


def test_the_likelihood_ratios_average_one(four_cells, tilted_four_cells):
    """``E_g[w] = 1`` and ``E_g[w²] = E_f[w] = Π_c ((1 − p + p e^{θ_c})(1 − p + p e^{−θ_c}))^{n_c}``
    exactly, which gives the mean's exact standard error (the sample's would understate a
    skewed ratio's)."""
    tilt, _, _, w = tilted_four_cells
    second = 1.0
    for _, _, n, h, b in CELLS:
        p, theta_c = prob_from_hazard(h), tilt.claim_tilt * b / UNIT
        second *= ((1 - p + p * np.exp(theta_c)) * (1 - p + p * np.exp(-theta_c))) ** n
    assert_within_se(w.mean(), 1.0, np.sqrt((second - 1.0) / w.size), what="mean weight")


def test_kernel_and_reference_draw_the_same_tilted_claims(four_cells):
    tilted = dataclasses.replace(four_cells, tilt=Tilt(claim_tilt=0.4))
    kernel = simulate_paths(tilted, SEED, 0, 300)
    reference = simulate_paths(tilted, SEED, 0, 300, backend="numpy")
    for name in kernel:
        np.testing.assert_array_equal(kernel[name], reference[name], err_msg=name)
    # the weight is the product of the cells' ratios, −θ_c K + n log(1 − p + p e^{θ_c})
    log_w = np.zeros(300)
    claims = kernel["claims"][:, 0]
    assert claims.sum() > 0
    stats_ = kernel[CLAIM_STATS_KEY]
    np.testing.assert_allclose(np.log(kernel[WEIGHT]), stats_[:, 0], rtol=1e-12)
    expected_mean = 0.0
    for _, _, n, h, b in CELLS:
        p, theta_c = prob_from_hazard(h), 0.4 * b / UNIT
        tilted_p = p * np.exp(theta_c) / (1 - p + p * np.exp(theta_c))
        expected_mean += n * tilted_p * b / UNIT
        log_w += n * np.log(1 - p + p * np.exp(theta_c))
    aid_units = kernel["aid"][:, 0] / UNIT
    np.testing.assert_allclose(stats_[:, 1], aid_units, rtol=1e-12)
    np.testing.assert_allclose(stats_[:, 0], log_w - 0.4 * aid_units, rtol=1e-9)
    np.testing.assert_allclose(stats_[:, 2], expected_mean, rtol=1e-12)


def test_a_zero_claim_tilt_draws_the_plain_counts(four_cells):
    plain = simulate_paths(four_cells, SEED, 0, 200)
    zero = simulate_paths(dataclasses.replace(four_cells, tilt=Tilt(claim_tilt=0.0)), SEED, 0,
                          200)
    for name in plain:
        np.testing.assert_array_equal(plain[name], zero[name], err_msg=name)


# --- ruin: a reserve with a fixed loading, against an exact lattice dynamic programme ------

RUIN_MEMBERS, RUIN_RATE, RUIN_QUARTERS = 1000, 2000.0, 8
RUIN_LOADING, RUIN_BENEFIT = 520.0, 100000.0


def ruin_by_quarter_exact(members: int, q: float, benefit: float, loading: float,
                          reserve: float, quarters: int) -> np.ndarray:
    """``P(R_s < 0 for some s ≤ h)``, h = 1..quarters, exactly.

    Each member is diagnosed in a quarter with probability ``q`` and leaves; with ``C_t``
    the claims by quarter ``t``, ``K_t = C_t − C_{t−1} ~ Binomial(N − C_{t−1}, q)`` and the
    sharers ``N − C_t`` each pay the loading, so ``R_t = R_0 + L (t N − Σ_{s≤t} C_s) −
    B C_t``: the lattice state is ``(C_t, Σ_{s≤t} C_s)``, with ruined paths absorbed."""
    width = members * quarters + 1
    alive = {0: np.eye(1, width)[0]}            # C_t → probability by Σ C_s
    ruined, out = 0.0, []
    for t in range(1, quarters + 1):
        moved: dict[int, np.ndarray] = {}
        for c, row in alive.items():
            pk = stats.binom(members - c, q).pmf(np.arange(members - c + 1))
            top = int(np.nonzero(pk > 1e-18)[0].max())
            used = np.nonzero(row)[0].max() + 1
            for k in range(top + 1):
                c2 = c + k
                vec = moved.setdefault(c2, np.zeros(width))
                vec[c2:c2 + used] += row[:used] * pk[k]
        alive = {}
        for c2, vec in moved.items():
            reserve_t = reserve + loading * (t * members - np.arange(width)) - benefit * c2
            ruined += vec[reserve_t < 0].sum()
            vec[reserve_t < 0] = 0.0
            if vec.any():
                alive[c2] = vec
        out.append(ruined)
    return np.array(out)


def ruin_inputs(tmp_path, reserve: float):
    base = closed_cohort(tmp_path, rate_per_100k=RUIN_RATE, quarters=RUIN_QUARTERS,
                         members=RUIN_MEMBERS)
    return dataclasses.replace(base, cap_per_quarter_yuan=0.0, fee_rate=0.0,
                               reserve_initial_yuan=reserve, loading_yuan_q=RUIN_LOADING)


def test_tilted_ruin_near_one_percent_matches_the_lattice(tmp_path):
    reserve = 1_400_000.0
    q = units.quarterly_prob_from_rate_per_100k(RUIN_RATE)
    exact = ruin_by_quarter_exact(RUIN_MEMBERS, q, RUIN_BENEFIT, RUIN_LOADING, reserve,
                                  RUIN_QUARTERS)[-1]
    assert 0.005 < exact < 0.02
    inputs = ruin_inputs(tmp_path, reserve)
    tilt, _ = choose_tilt(
        lambda t: PlatformInputs.of_plan(dataclasses.replace(inputs, tilt=t)), SEED,
        tail("ruin"))
    assert tilt.claim_tilt > 0
    out = simulate_paths(dataclasses.replace(inputs, tilt=tilt), SEED, 0, PATHS_IS)
    ruined = (out["solvency_gap"] > 0).any(axis=1).astype(float)
    est, se = W.mean(ruined, out[WEIGHT]), W.mean_standard_error(ruined, out[WEIGHT])
    assert_within_se(est, exact, se, what="ruin by quarter 8")
    assert exact * (1 - exact) / PATHS_IS >= 10 * se ** 2, (exact, se)


def test_the_lattice_programme_matches_a_plain_run(tmp_path):
    """The programme checks itself against the model untilted, quarter by quarter."""
    reserve = 800_000.0                     # ruin by quarter 8 about 11 %: plain is enough
    q = units.quarterly_prob_from_rate_per_100k(RUIN_RATE)
    exact = ruin_by_quarter_exact(RUIN_MEMBERS, q, RUIN_BENEFIT, RUIN_LOADING, reserve,
                                  RUIN_QUARTERS)
    out = simulate_paths(ruin_inputs(tmp_path, reserve), SEED, 0, 4000)
    by_quarter = np.maximum.accumulate(out["solvency_gap"] > 0, axis=1).mean(axis=0)
    for h in range(RUIN_QUARTERS):
        se = np.sqrt(max(exact[h] * (1 - exact[h]), 1e-4) / 4000)
        assert_within_se(by_quarter[h], exact[h], se, what=f"ruin by quarter {h + 1}")


@pytest.mark.parametrize("statistic", ["tail_probability", "tvar"])
def test_reported_standard_errors_match_200_replications(four_cells, tilted_four_cells,
                                                         statistic):
    """The spread of 200 independent tilted runs (seeds 1000..1199, 1,000 paths each)
    against the mean reported standard error: within 20 % (the spread's own relative
    s.e. is about 1/√(2·200) = 5 %, more for a skewed estimator). Not VaR: on a lattice
    the quantile jumps between support points and has no standard error to speak of (the
    continuous case is tests/statistical/test_weighted_estimators.py)."""
    tilt = tilted_four_cells[0]
    pmf = exact_four_cell_law()
    threshold = int(np.searchsorted(np.cumsum(pmf), 0.995))
    estimators = {
        "tail_probability": (lambda x, w: tail_probability(x, threshold, w),
                             lambda x, w: tail_probability_standard_error(x, threshold, w)),
        "tvar": (lambda x, w: W.tvar(x, 0.995, w),
                 lambda x, w: W.tvar_standard_error(x, 0.995, w)),
    }
    estimate, standard_error = estimators[statistic]
    values, errors = [], []
    for seed in range(1000, 1200):
        out = simulate_paths(dataclasses.replace(four_cells, tilt=tilt), seed, 0, 1000)
        x, w = out["shortfall"][:, 0] / UNIT, out[WEIGHT]
        values.append(estimate(x, w))
        errors.append(standard_error(x, w))
    spread, reported = np.std(values, ddof=1), np.sqrt(np.mean(np.square(errors)))
    assert abs(reported / spread - 1.0) < 0.2, (statistic, reported, spread)


def test_the_benchmarks_closed_group_is_the_lattice():
    """benchmarks/closed_group.toml (bench.py: tail_ruin) states its ruin probability:
    the file's own pilot and tilted run find it within 4 s.e."""
    from pathlib import Path

    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.runner import tilted_set

    path = Path(__file__).parents[2] / "benchmarks" / "closed_group.toml"
    asked = load_scenario_set(path)
    exact = ruin_by_quarter_exact(RUIN_MEMBERS, units.quarterly_prob_from_rate_per_100k(
        RUIN_RATE), RUIN_BENEFIT, RUIN_LOADING, 1_900_000.0, RUIN_QUARTERS)[-1]
    assert f"{exact:.7f}" in path.read_text(encoding="utf-8")
    tilted, record = tilted_set(asked, asked.base.scenario.seed, "numba")
    out = simulate_plans(build_run_inputs(tilted.base), asked.base.scenario.seed, 0, PATHS_IS)
    ruined = (out["solvency_gap"] > 0).any(axis=1).astype(float)
    est, se = W.mean(ruined, out[WEIGHT]), W.mean_standard_error(ruined, out[WEIGHT])
    assert_within_se(est, exact, se, what="closed group's ruin by quarter 8")
    assert exact * (1 - exact) / PATHS_IS >= 10 * se ** 2

"""The simulated model against exact distributions and closed-form expectations."""

import numpy as np
from scipy import stats

from engine.analysis.metrics import tvar, var
from engine.model import units
from engine.model.inputs import build_inputs
from engine.model.reference import expected_path
from engine.run.simulate import simulate_paths
from tests.conftest import SCENARIOS, constant_table, load, scenario_dict, write_csv
from tests.statistical.helpers import ALPHA, chi_square_discrete


def closed_cohort(tmp_path, *, rate_per_100k, quarters, members, death_q_annual=0.0,
                  lapse_q=0.0, joins=0.0):
    """Ages 30–31 only, constant rates for every age, no ageing out within the horizon."""
    constant_table(tmp_path / "inc.csv", "rate_per_100k", rate_per_100k)
    constant_table(tmp_path / "mort.csv", "qx", death_q_annual)
    write_csv(tmp_path / "mix.csv", "age,sex,share", ["30-31,female,1", "30-31,male,1"])
    data = scenario_dict(
        scenario__quarters=quarters, scenario__seed=2024,
        population__initial_members=members, population__age_min=30,
        population__age_max=40, population__initial_age_mix="mix.csv",
        growth__series=[joins] * quarters, growth__joiner_age_mix="mix.csv",
        incidence__table="inc.csv", incidence__selection=[1.0],
        mortality__table="mort.csv", lapse__base_quarterly=lapse_q,
        benefits__waiting_quarters=0, benefits__amount_by_age=[[30, 40, 100000]])
    return build_inputs(load(tmp_path, data).base)


def test_total_claims_of_a_closed_cohort_are_binomial(tmp_path):
    """No joins, deaths or lapses, constant incidence: each member is diagnosed within T
    quarters with probability 1 − (1 − q)^T, independently, so total claims per path are
    Binomial(N0, 1 − (1 − q)^T) exactly."""
    quarters, members, rate = 8, 3000, 4000.0
    inputs = closed_cohort(tmp_path, rate_per_100k=rate, quarters=quarters, members=members)
    paths = 3000
    out = simulate_paths(inputs, 2024, 0, paths)
    total = out["claims"].sum(axis=1)
    q = units.quarterly_prob_from_rate_per_100k(rate)
    p_total = 1 - (1 - q) ** quarters
    pvalue, bins = chi_square_discrete(total, stats.binom(members, p_total))
    assert pvalue > ALPHA, f"chi-square p = {pvalue:.2g} over {bins} bins"
    mean, exact = total.mean(), members * p_total
    se = np.sqrt(members * p_total * (1 - p_total) / paths)
    assert abs(mean - exact) < 4 * se, f"mean {mean:.4g} vs exact {exact:.4g}, 4 SE {4*se:.3g}"


def test_mean_members_and_claims_match_the_closed_form(tmp_path):
    """Constant joins J, and per quarter survival s = (1 − qd)(1 − qc)(1 − ℓ):
    E[N_t] = (E[N_{t−1}] + J) s and E[claims_t] = (E[N_{t−1}] + J)(1 − qd) qc."""
    quarters, members, joins = 10, 5000, 400.0
    inputs = closed_cohort(tmp_path, rate_per_100k=2000.0, quarters=quarters, members=members,
                           death_q_annual=0.02, lapse_q=0.04, joins=joins)
    qd = units.quarterly_prob_from_annual_prob(0.02)
    qc = units.quarterly_prob_from_rate_per_100k(2000.0)
    s = (1 - qd) * (1 - qc) * (1 - 0.04)
    n_prev, exact_members, exact_claims = float(members), [], []
    for _ in range(quarters):
        exact_claims.append((n_prev + joins) * (1 - qd) * qc)
        n_prev = (n_prev + joins) * s
        exact_members.append(n_prev)
    paths = 1500
    out = simulate_paths(inputs, 99, 0, paths)
    for name, exact in (("members", exact_members), ("claims", exact_claims)):
        sim = out[name].astype(float)
        se = sim.std(axis=0, ddof=1) / np.sqrt(paths)
        z = (sim.mean(axis=0) - np.array(exact)) / se
        # 20 comparisons: 4.5 SE keeps the family-wise false alarm near 1e-4.
        assert np.all(np.abs(z) < 4.5), f"{name}: z = {np.round(z, 2)}"
    # The step with each draw replaced by its mean is the same recursion.
    e = expected_path(inputs)
    assert np.allclose(e["members"], exact_members, rtol=1e-12)
    assert np.allclose(e["claims"], exact_claims, rtol=1e-12)


def test_mean_path_of_a_full_plan_matches_the_expected_path(tmp_path):
    """The Xiang Hu Bao plan with every feedback switched off (linear in the state): the
    simulated means of members, claims and aid match the exact expected path."""
    text = (SCENARIOS / "xianghubao.toml").read_text()
    for old, new in (("cost_elasticity = 0.5", "cost_elasticity = 0.0"),
                     ("cost_elasticity = 1.0", "cost_elasticity = 0.0"),
                     ("antiselection = 0.5", "antiselection = 0.0"),
                     ("imitation = 1.0", "imitation = 0.0"),
                     ("cap_per_year = 188", "# no cap"), ("quarters = 21", "quarters = 8")):
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "x.toml").write_text(text)
    from engine.config.scenario import load_scenario_set
    inputs = build_inputs(load_scenario_set(tmp_path / "x.toml").base)
    paths = 200
    out = simulate_paths(inputs, 1, 0, paths)
    e = expected_path(inputs)
    for name in ("members", "claims", "aid", "lapses", "deaths"):
        sim = out[name].astype(float)
        se = sim.std(axis=0, ddof=1) / np.sqrt(paths)
        ok = se > 0
        z = (sim.mean(axis=0)[ok] - e[name][ok]) / se[ok]
        assert np.all(np.abs(z) < 4.5), f"{name}: z = {np.round(z, 2)}"


def test_var_and_tvar_estimators_on_a_known_distribution():
    """Exponential(1): VaR_α = −ln(1 − α), TVaR_α = VaR_α + 1. Standard errors from the
    asymptotic formulas: sqrt(α(1 − α)/n) / f(VaR) for the quantile and
    sqrt(Var((X − VaR)⁺)/n) / (1 − α) for TVaR."""
    alpha, n = 0.995, 400_000
    x = np.random.default_rng(20240601).exponential(size=n)  # test data, not engine noise
    exact_var = -np.log(1 - alpha)
    se_var = np.sqrt(alpha * (1 - alpha) / n) / (1 - alpha)
    tail = 1 - alpha
    se_tvar = np.sqrt((2 * tail - tail**2) / n) / tail
    assert abs(var(x, alpha) - exact_var) < 4 * se_var
    assert abs(tvar(x, alpha) - (exact_var + 1)) < 4 * se_tvar


def test_same_seed_same_numbers_and_paths_do_not_depend_on_company(tmp_path):
    inputs = build_inputs(load(tmp_path, scenario_dict(growth__dispersion=0.2)).base)
    a = simulate_paths(inputs, 5, 0, 10)
    b = simulate_paths(inputs, 5, 0, 10)
    big = simulate_paths(inputs, 5, 0, 1000)
    middle = simulate_paths(inputs, 5, 3, 4)
    other_seed = simulate_paths(inputs, 6, 0, 10)
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name
        assert np.array_equal(a[name], big[name][:10], equal_nan=True), name
        assert np.array_equal(middle[name], big[name][3:7], equal_nan=True), name
    assert not np.array_equal(a["claims"], other_seed["claims"])


def test_first_quarter_joins_are_negative_binomial(tmp_path):
    """Given the mixing draw G, the joins of every cell are Poisson(λ_c G), so the quarter's
    total is NB with mean λ = Σ λ_c and variance λ + α λ²; in the first quarter λ does not
    depend on earlier draws, so the total can be tested against scipy's exact law."""
    alpha = 0.05
    inputs = build_inputs(load(tmp_path, scenario_dict(growth__dispersion=alpha)).base)
    mean = float(expected_path(inputs)["joins"][0])
    joins = simulate_paths(inputs, 8, 0, 20_000)["joins"][:, 0]
    dist = stats.nbinom(1.0 / alpha, 1.0 / (1.0 + alpha * mean))
    pvalue, bins = chi_square_discrete(joins, dist)
    assert pvalue > ALPHA, f"joins: chi-square p = {pvalue:.2g} over {bins} bins"


def _hand_expected_path(inputs, quarters):
    """The mean-field recursion of DESIGN §1 written out independently of the reference:
    equal sharing, no caps, no waiting period, mild share 0, cost window 1, fixed joins."""
    N = inputs.initial_members.astype(float)
    S, A, Dn = N.shape
    ref = inputs.reference_cost_yuan_q
    cost, m, out = ref, 1.0, {k: [] for k in ("members", "claims", "aid", "cost_per_member",
                                             "antiselection_factor", "lapses")}
    for t in range(quarters):
        lam = inputs.joins_series[t] * np.exp(-inputs.join_cost_elasticity * (cost / ref - 1))
        joins = lam * inputs.join_mix
        start = N.sum()
        m = (m * start + joins.sum()) / (start + joins.sum())
        N[:, :, 0] += joins
        N *= 1.0 - inputs.death_q[:, :, None]
        diagnosed = N * (1.0 - np.exp(-inputs.diagnosis_hazard_q * inputs.hazard_factor[t] * m))
        N -= diagnosed
        aid = float((diagnosed.sum(axis=2) * inputs.benefit_yuan[None, :]).sum()
                    * inputs.benefit_factor[t])
        lapse = np.minimum(1.0, inputs.lapse_base_q * (cost / ref) ** inputs.lapse_cost_elasticity)
        by_d = N.sum(axis=(0, 1))
        excess = (by_d * np.maximum(0.0, lapse - inputs.lapse_base_q)).sum()
        stayers = (by_d * (1.0 - lapse)).sum()
        m *= 1.0 + inputs.antiselection * excess / stayers
        lapses = N * lapse[None, None, :]
        N -= lapses
        cost = aid * (1.0 + inputs.fee_rate) / N.sum()
        N[:, 1:, :] = N[:, :-1, :].copy()                     # ageing: the oldest leave
        N[:, 0, :] = 0.0
        if Dn > 1:
            N[:, :, -1] += N[:, :, -2]
            N[:, :, 1:-1] = N[:, :, :-2].copy()
            N[:, :, 0] = 0.0
        for key, value in (("members", N.sum()), ("claims", diagnosed.sum()), ("aid", aid),
                           ("cost_per_member", cost), ("antiselection_factor", m),
                           ("lapses", lapses.sum())):
            out[key].append(value)
    return {k: np.array(v) for k, v in out.items()}


def test_expected_path_of_a_plan_with_feedback_matches_a_hand_computation(tmp_path):
    """Cost feedback on joins and lapses and anti-selection on, two durations: the
    reference's expected path equals the recursion written out by hand (to rounding)."""
    quarters = 6
    data = scenario_dict(scenario__quarters=quarters, population__age_min=40,
                         population__age_max=41, growth__series=[4000.0] * quarters,
                         growth__cost_elasticity=0.8, lapse__cost_elasticity=1.0,
                         lapse__reference_cost=20.0, lapse__antiselection=0.6,
                         benefits__waiting_quarters=0, incidence__selection=[0.5, 1.0],
                         incidence__trend_per_year=0.05,
                         benefits__amount_by_age=[[40, 41, 100000]])
    inputs = build_inputs(load(tmp_path, data).base)
    assert inputs.cost_window_quarters == 1 and inputs.mild_share == 0.0
    hand = _hand_expected_path(inputs, quarters)
    e = expected_path(inputs)
    for name, values in hand.items():
        np.testing.assert_allclose(e[name], values, rtol=1e-10, err_msg=name)
    # the feedback is really on: costs far from the reference, so lapses and joins react
    # and the anti-selection factor rises
    assert abs(hand["cost_per_member"].mean() / inputs.reference_cost_yuan_q - 1.0) > 0.5
    assert hand["antiselection_factor"].max() > 1.01

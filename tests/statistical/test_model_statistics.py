"""The simulated model against exact distributions and closed-form expectations."""

import numpy as np
from scipy import stats

from engine.analysis.metrics import tvar, var
from engine.model import units
from engine.model.inputs import build_inputs
from engine.model.mean_path import expected_path
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
    """Constant joins J, per quarter survival s = (1 − qd)(1 − qc)(1 − ℓ), and joiners'
    half quarter s½ = √(1 − qd)(1 − qc½)(1 − ℓ) with qc½ = 1 − e^(−h/2):
    E[N_t] = E[N_{t−1}] s + J s½ and E[claims_t] = E[N_{t−1}](1 − qd) qc + J √(1 − qd) qc½."""
    quarters, members, joins = 10, 5000, 400.0
    inputs = closed_cohort(tmp_path, rate_per_100k=2000.0, quarters=quarters, members=members,
                           death_q_annual=0.02, lapse_q=0.04, joins=joins)
    qd = units.quarterly_prob_from_annual_prob(0.02)
    qc = units.quarterly_prob_from_rate_per_100k(2000.0)
    qc_half = units.quarterly_prob_from_rate_per_100k(1000.0)
    s = (1 - qd) * (1 - qc) * (1 - 0.04)
    s_half = np.sqrt(1 - qd) * (1 - qc_half) * (1 - 0.04)
    n_prev, exact_members, exact_claims = float(members), [], []
    for _ in range(quarters):
        exact_claims.append(n_prev * (1 - qd) * qc + joins * np.sqrt(1 - qd) * qc_half)
        n_prev = n_prev * s + joins * s_half
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
    """The Xiang Hu Bao plan with every feedback switched off (linear in the state: no cost
    elasticity, no join sensitivity of the risk groups, no imitation, no cap) and without
    systematic risk: the simulated means of members, claims and aid match the exact
    expected path."""
    import tomllib

    import tomli_w

    raw = tomllib.loads((SCENARIOS / "xianghubao.toml").read_text())
    raw["growth"].update(cost_elasticity=0.0, imitation=0.0)
    raw["lapse"]["cost_elasticity"] = 0.0
    raw["sharing"].pop("cap_per_year")
    raw["scenario"]["quarters"] = 8
    raw.pop("precision")                       # its years are past an 8-quarter run
    for key in ("level_sd_per_year", "trend_sd", "shock_probability_per_year"):
        raw["incidence"][key] = 0.0
    for group in raw["risk"]["groups"]:
        group["join_sensitivity"] = 0.0
    (tmp_path / "x.toml").write_text(tomli_w.dumps(raw))
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
    """Given the mixing draw G, the quarter's joins are Poisson(λ G) (a fixed series has no
    market potential to cap them), so their total is NB with mean λ and variance λ + α λ²;
    in the first quarter λ does not depend on earlier draws, so the total can be tested
    against scipy's exact law."""
    alpha = 0.05
    inputs = build_inputs(load(tmp_path, scenario_dict(growth__dispersion=alpha)).base)
    mean = float(expected_path(inputs)["joins"][0])
    joins = simulate_paths(inputs, 8, 0, 20_000)["joins"][:, 0]
    dist = stats.nbinom(1.0 / alpha, 1.0 / (1.0 + alpha * mean))
    pvalue, bins = chi_square_discrete(joins, dist)
    assert pvalue > ALPHA, f"joins: chi-square p = {pvalue:.2g} over {bins} bins"


GROUPS = [{"name": "low", "population_share": 0.6, "incidence": 0.5, "lapse_sensitivity": 1.5,
           "join_sensitivity": 1.0},
          {"name": "high", "population_share": 0.4, "incidence": 1.75, "lapse_sensitivity": 0.5,
           "join_sensitivity": 0.0}]


def _hand_expected_path(rate_per_100k, selection, eta, phi, base, epsilon, fee, quarters,
                        series, join_mix, death_q, benefit_yuan, ref):
    """The mean-field recursion of DESIGN §1 written out independently of the reference,
    for :data:`GROUPS`: equal sharing, no caps, no waiting period, mild share 0, cost window
    1, fixed joins, a constant incidence rate, selection by year since joining."""
    K = len(GROUPS)
    share = np.array([g["population_share"] for g in GROUPS])
    mult = np.array([g["incidence"] for g in GROUPS])
    sigma = np.array([g["lapse_sensitivity"] for g in GROUPS])
    beta = np.array([g["join_sensitivity"] for g in GROUPS])
    A = join_mix.shape[1]
    Dn = 4 * (len(selection) - 1) + 1
    N = np.zeros((2, K, A, Dn))
    h = rate_per_100k / 1e5 / 4 * np.array([selection[min(d // 4, len(selection) - 1)]
                                            for d in range(Dn)])
    cost, out = ref, {k: [] for k in ("members", "claims", "aid", "cost_per_member",
                                      "antiselection_factor", "lapses", "joins")}
    for _ in range(quarters):
        lam = series * np.exp(-epsilon * (cost / ref - 1))
        tilt = share * np.exp(-beta * (cost / ref - 1))
        tilt = tilt / tilt.sum()
        N[:, :, :, 0] += lam * join_mix[:, None, :] * tilt[None, :, None]
        # joiners: half a quarter of exposure to death and diagnosis
        q = death_q[:, None, :, None]
        N[..., :1] *= np.sqrt(1 - q)
        N[..., 1:] *= 1 - q
        exposure = np.ones(Dn)
        exposure[0] = 0.5
        hazard = mult[None, :, None, None] * h[None, None, None, :] * exposure
        diagnosed = N * (1.0 - np.exp(-hazard))
        N -= diagnosed
        aid = float((diagnosed.sum(axis=(1, 3)) * benefit_yuan[None, :]).sum())
        lapse = np.minimum(1.0, (1 - phi) * base + phi * base
                           * (cost / ref) ** (eta * sigma[None, :, None, None])
                           * np.ones((1, 1, 1, Dn)))
        lapse[..., 0] = base                                 # joiners ignore cost
        lapses = N * lapse
        N -= lapses
        by_group = N.sum(axis=(0, 2, 3))
        anti = (by_group * mult).sum() / by_group.sum()
        cost = aid * (1.0 + fee) / N.sum()
        members_before_ageing = N.copy()
        N[:, :, 1:, :] = members_before_ageing[:, :, :-1, :]  # ageing: the oldest leave
        N[:, :, 0, :] = 0.0
        N[..., -1] += N[..., -2]
        N[..., 1:-1] = N[..., :-2].copy()
        N[..., 0] = 0.0
        for key, value in (("members", N.sum()), ("claims", diagnosed.sum()), ("aid", aid),
                           ("cost_per_member", cost), ("antiselection_factor", anti),
                           ("lapses", lapses.sum()), ("joins", lam)):
            out[key].append(value)
    return {k: np.array(v) for k, v in out.items()}


def test_expected_path_of_a_plan_with_feedback_matches_a_hand_computation(tmp_path):
    """Cost feedback on joins and lapses, two risk groups that lapse and join differently,
    joiners' half exposure, selection over two years: the reference's expected path equals
    the recursion written out by hand (to rounding)."""
    quarters = 6
    constant_table(tmp_path / "inc.csv", "rate_per_100k", 3000.0)
    data = scenario_dict(scenario__quarters=quarters, population__age_min=40,
                         population__age_max=41, population__initial_members=0,
                         growth__series=[4000.0] * quarters,
                         growth__cost_elasticity=0.8, lapse__cost_elasticity=1.0,
                         lapse__reference_cost=300.0, lapse__base_quarterly=0.05,
                         lapse__cost_driven_share=0.7, incidence__table="inc.csv",
                         incidence__cancer_share_of_claims=1.0,
                         benefits__waiting_quarters=0, incidence__selection=[0.5, 1.0],
                         benefits__amount_by_age=[[40, 41, 100000]], risk__groups=GROUPS)
    inputs = build_inputs(load(tmp_path, data).base)
    assert inputs.cost_window_quarters == 1 and inputs.mild_share == 0.0
    assert inputs.hazard_factor.tolist() == [1.0] * quarters
    hand = _hand_expected_path(
        3000.0, [0.5, 1.0], 1.0, 0.7, 0.05, 0.8,
        inputs.fee_rate, quarters, 4000.0, inputs.join_mix, inputs.death_q[::2],
        inputs.benefit_yuan[0], 300.0)
    e = expected_path(inputs)
    for name, values in hand.items():
        np.testing.assert_allclose(e[name], values, rtol=1e-9, err_msg=name)
    # the feedback is really on: costs far from the reference, so lapses and joins react,
    # the low-risk group leaves faster and the pool's incidence rises above the population's
    ratio = hand["cost_per_member"] / inputs.reference_cost_yuan_q
    assert ratio.min() < 0.8 and ratio.max() > 1.4
    assert hand["antiselection_factor"].max() > 1.01
    assert hand["antiselection_factor"].max() < 1.75



def test_systematic_level_has_the_stated_law():
    """The log level z is a stationary AR(1): mean 0, variance σ², lag-1 correlation ρ;
    Λ = exp(z − σ²/2) has mean 1. Each estimate within 4 standard errors of its
    exact value (SEs from the sample itself: of a mean, a variance and a correlation)."""
    from engine.model.systematic import SystematicRisk, incidence_levels, yearly_log_levels
    sd, rho, n = 0.2, 0.6, 40_000
    risk = SystematicRisk(level_sd=sd, level_autocorrelation=rho)
    paths = np.arange(n)
    z, _ = yearly_log_levels(risk, 2024, paths, 6)
    for y in (0, 5):
        zy = z[:, y]
        assert abs(zy.mean()) < 4 * zy.std(ddof=1) / np.sqrt(n)
        var_se = np.sqrt((((zy - zy.mean()) ** 2 - zy.var()) ** 2).mean() / n)
        assert abs(zy.var(ddof=1) - sd ** 2) < 4 * var_se
    for y in range(5):
        r = np.corrcoef(z[:, y], z[:, y + 1])[0, 1]
        assert abs(r - rho) < 4 * (1 - rho ** 2) / np.sqrt(n), (y, r)
    level, _ = incidence_levels(risk, 2024, paths, np.repeat(np.arange(6), 4))
    assert np.all(level[:, 0] == level[:, 3])           # one level per year
    x = level[:, ::4]
    se = x.std(axis=0, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(x.mean(axis=0) - 1.0) < 4 * se), x.mean(axis=0)


def test_systematic_shocks_have_the_stated_frequency_and_catch_up():
    """A shock starts in a quarter with probability 1 − (1 − p)^(1/4) while none is in
    progress; the first quarter's share of paths in a shock is that probability (binomial
    SE), and every shock of size s is followed by as many quarters at 1 − s · catch-up."""
    from engine.model.systematic import SystematicRisk, shock_multipliers
    p, n = 0.3, 40_000
    risk = SystematicRisk(shock_probability_per_year=p, shock_size=-0.2, shock_quarters=2,
                          shock_catch_up=0.5)
    m, _ = shock_multipliers(risk, 7, np.arange(n), 12)
    q = 1 - (1 - p) ** 0.25
    hit0 = (m[:, 0] == 0.8).mean()
    assert abs(hit0 - q) < 4 * np.sqrt(q * (1 - q) / n)
    assert set(np.unique(m)) <= {0.8, 1.0, 1.1}
    started = np.flatnonzero(m[:, 0] == 0.8)
    assert np.all(m[started, 1] == 0.8) and np.all(m[started, 2:4] == 1.1)

"""Issue 10's behaviour: risk groups, lapses with a cost-free part, joins within the market,
joiners' half exposure and waiting periods that end part-way, who shares."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.scenario import scenario_set_from_dict
from engine.model import units
from engine.model.decrements import lapse_probabilities
from engine.model.inputs import build_inputs
from engine.model.mean_path import MeanDraws, expected_path
from engine.model.reference import initial_state, step_quarter
from engine.run.simulate import simulate_paths
from engine.variables import VARIABLES
from tests.conftest import constant_table, inputs_of, scenario_dict, write_csv
from tests.strategies import risk_groups, scenarios

TWO = [{"name": "low", "population_share": 0.75, "incidence": 0.6, "lapse_sensitivity": 2.0,
        "join_sensitivity": 1.0},
       {"name": "high", "population_share": 0.25, "incidence": 2.2, "lapse_sensitivity": 0.2,
        "join_sensitivity": 0.0}]


def run(tmp_path, backend="numba", paths=8, **changes):
    return simulate_paths(inputs_of(tmp_path, scenario_dict(**changes)), 11, 0, paths, backend)


def test_no_risk_table_and_one_group_give_the_same_bits(tmp_path):
    feedback = dict(lapse__cost_elasticity=1.5, lapse__reference_cost=20.0,
                    growth__cost_elasticity=0.5, growth__dispersion=0.1)
    plain = run(tmp_path, **feedback)
    for group in ({"name": "everyone", "population_share": 1.0},
                  {"name": "x", "population_share": 1.0, "incidence": 1.0,
                   "lapse_sensitivity": 1.0, "join_sensitivity": 3.0}):
        grouped = run(tmp_path, risk__groups=[group], **feedback)
        for v in VARIABLES:
            assert np.array_equal(plain[v.name], grouped[v.name]), v.name


def test_zero_systematic_parameters_give_the_same_bits(tmp_path):
    zeros = dict(incidence__level_sd_per_year=0.0, incidence__level_autocorrelation=0.7,
                 incidence__trend_sd=0.0, incidence__shock_probability_per_year=0.0,
                 incidence__shock_size=-0.3, incidence__shock_quarters=2,
                 incidence__shock_catch_up=0.5)
    plain, zero = run(tmp_path), run(tmp_path, **zeros)
    for v in VARIABLES:
        assert np.array_equal(plain[v.name], zero[v.name]), v.name
    on = run(tmp_path, incidence__level_sd_per_year=0.2)
    assert not np.array_equal(plain["claims"], on["claims"])
    # the level touches diagnoses only: deaths are drawn before it and keep their bits
    assert np.array_equal(plain["deaths"][:, 0], on["deaths"][:, 0])


def test_survivors_of_a_lapse_keep_the_exact_group_ratio(tmp_path):
    """Two groups, nothing but lapses (no incidence, deaths or joins), a perceived cost of
    twice the reference: after one quarter the groups' shares among the survivors are
    N_k (1 − ℓ_k) / Σ_j N_j (1 − ℓ_j) with ℓ_k = min(1, ℓ0 + ℓc 2^(η σ_k))."""
    constant_table(tmp_path / "zero.csv", "rate_per_100k", 0.0)
    constant_table(tmp_path / "nodeath.csv", "qx", 0.0)
    inputs = inputs_of(tmp_path, scenario_dict(
        incidence__table="zero.csv", mortality__table="nodeath.csv", growth__series=[0.0] * 6,
        lapse__base_quarterly=0.1, lapse__cost_driven_share=0.6, lapse__cost_elasticity=1.3,
        lapse__reference_cost=10.0, risk__groups=TWO))
    state = initial_state(inputs, 1, dtype=np.float64)
    state.cost_window_yuan[:] = 20.0
    before = state.members.sum(axis=(0, 2, 3)).reshape(2, 2).sum(axis=0)    # (K,)
    out = {v.name: np.zeros((1, 6)) for v in VARIABLES}
    step_quarter(inputs, state, 0, MeanDraws(), np.zeros(1, np.int64), np.ones(1), np.ones(1),
                 out)
    trace = {}
    state = initial_state(inputs, 1, dtype=np.float64)
    state.cost_window_yuan[:] = 20.0
    step_quarter(inputs, state, 0, MeanDraws(), np.zeros(1, np.int64), np.ones(1), np.ones(1),
                 out, trace=trace)
    after = trace["before_ageing"][0].sum(axis=(1, 2)).reshape(2, 2).sum(axis=0)
    lapse = np.array([min(1.0, 0.04 + 0.06 * 2.0 ** (1.3 * g["lapse_sensitivity"]))
                      for g in TWO])
    exact = before * (1 - lapse) / (before * (1 - lapse)).sum()
    np.testing.assert_allclose(after / after.sum(), exact, rtol=1e-12)
    assert before[0] / before.sum() == pytest.approx(0.75, abs=1e-4)


def test_zero_cost_gives_exactly_the_base_lapse(tmp_path):
    inputs = inputs_of(tmp_path, scenario_dict(
        lapse__base_quarterly=0.08, lapse__cost_driven_share=0.25, lapse__cost_elasticity=2.0,
        lapse__reference_cost=10.0, risk__groups=TWO))
    lapse = lapse_probabilities(inputs, np.array([0.0, 10.0]))
    assert np.all(lapse[0, :, 1:] == (1 - 0.25) * 0.08)
    # at the reference cost every group lapses at the base rate; joiners always do
    np.testing.assert_allclose(lapse[1, :, 1:], 0.08, rtol=1e-15)
    np.testing.assert_allclose(lapse[:, :, 0], 0.08, rtol=1e-15)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenarios(feedback=True), risk_groups(max_groups=3))
def test_the_pools_incidence_stays_between_the_groups(raw, risk):
    if risk:
        raw["risk"] = risk
    ss = scenario_set_from_dict(raw, "<h>", "", _here())
    inputs = build_inputs(ss.base)
    out = simulate_paths(inputs, raw["scenario"]["seed"] % 2**32, 0, 3)
    multipliers = inputs.group_incidence
    factor = out["antiselection_factor"]
    assert np.all(factor >= multipliers.min() * (1 - 1e-12))
    assert np.all(factor <= multipliers.max() * (1 + 1e-12))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(market=st.floats(10.0, 1e6), innovation=st.floats(0.0, 8.0), imitation=st.floats(0, 8),
       elasticity=st.floats(0.0, 5.0), dispersion=st.floats(0.0, 2.0),
       model=st.sampled_from(["bass", "logistic"]), initial=st.integers(1, 50),
       seed=st.integers(0, 2**32))
def test_joins_never_exceed_the_market(tmp_path_factory, market, innovation, imitation,
                                       elasticity, dispersion, model, initial, seed):
    """After damping (which exceeds 1 while the cost is below the reference) and the
    over-dispersion factor, cumulative joins ≤ market potential on every path."""
    tmp = tmp_path_factory.mktemp("m")
    initial = min(initial, int(market))
    data = scenario_dict(growth__model=model, growth__series=None,
                         growth__market_potential=market, growth__innovation=innovation,
                         growth__imitation=imitation, growth__cost_elasticity=elasticity,
                         growth__dispersion=dispersion, lapse__reference_cost=500.0,
                         population__initial_members=initial, scenario__seed=seed)
    inputs = inputs_of(tmp, data)
    out = simulate_paths(inputs, seed, 0, 16)
    ever = initial + np.cumsum(out["joins"], axis=1)
    assert np.all(ever <= math.floor(market) + 0 * ever), (ever.max(), market)


def test_joiners_carry_half_a_quarter_of_exposure(tmp_path):
    """Joiners only, no lapses, constant rates: on the expected path the first quarter's
    deaths are J (1 − √(1 − q)), its diagnoses J √(1 − q) (1 − e^(−h/2)); with a waiting
    period of one quarter, half of the next quarter's diagnoses of that cohort are paid."""
    constant_table(tmp_path / "inc.csv", "rate_per_100k", 2000.0)
    constant_table(tmp_path / "mort.csv", "qx", 0.02)
    write_csv(tmp_path / "mix.csv", "age,sex,share",
              [f"{ages},{sex},{share}" for sex in ("female", "male")
               for ages, share in (("0-39", 0.0), ("40", 0.5), ("41-110", 0.0))])
    J = 10_000.0
    inputs = inputs_of(tmp_path, scenario_dict(
        incidence__table="inc.csv", mortality__table="mort.csv",
        incidence__cancer_share_of_claims=1.0, population__initial_members=0,
        growth__series=[J, 0, 0, 0, 0, 0], lapse__base_quarterly=0.0,
        benefits__waiting_quarters=1, incidence__selection=[1.0],
        population__age_max=45, benefits__amount_by_age=[[30, 45, 100000]],
        growth__joiner_age_mix="mix.csv"))
    assert inputs.join_mix[:, -12:].sum() == 0       # nobody ages out within 3 quarters
    e = expected_path(inputs)
    q_q = 1 - (1 - 0.02) ** 0.25
    h = units.quarterly_hazard_from_rate_per_100k(2000.0)
    alive = J * math.sqrt(1 - q_q)
    assert e["deaths"][0] == pytest.approx(J * (1 - math.sqrt(1 - q_q)), rel=1e-12)
    first = alive * (1 - math.exp(-h / 2))
    assert e["diagnosed_in_waiting"][0] == pytest.approx(first, rel=1e-12)
    assert e["claims"][0] == 0
    second = (alive - first) * (1 - q_q) * (1 - math.exp(-h))
    assert e["claims"][1] == pytest.approx(second / 2, rel=1e-12)
    assert e["diagnosed_in_waiting"][1] == pytest.approx(second / 2, rel=1e-12)
    third_pool = (alive - first) * (1 - q_q) * math.exp(-h) * (1 - q_q)
    assert e["claims"][2] == pytest.approx(third_pool * (1 - math.exp(-h)), rel=1e-9)


@pytest.mark.parametrize("sharers", ["all", "eligible"])
@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_sharers_are_the_members_after_decrements_before_ageing(tmp_path, sharers, backend):
    """DESIGN §1 step 5: the members present at the quarter's end after deaths, diagnoses
    and lapses, before ageing: all of them, or those at duration ≥ waiting; members who age
    out at the end of the quarter share it (one age only, so every quarter some do)."""
    data = scenario_dict(population__age_min=40, population__age_max=40,
                         benefits__amount_by_age=[[40, 40, 100000]],
                         benefits__waiting_quarters=2, sharing__sharers=sharers,
                         population__initial_duration_quarters=1)
    inputs = inputs_of(tmp_path, data)
    out = simulate_paths(inputs, 3, 0, 4, backend)
    first = 2 if sharers == "eligible" else 0
    traces = _traces(inputs, 3, 4)
    for t, trace in enumerate(traces):
        expected = trace["before_ageing"][:, :, :, first:].sum(axis=(1, 2, 3))
        assert np.array_equal(out["sharers"][:, t], expected)
    assert out["aged_out"].sum() > 0
    if sharers == "eligible":
        assert np.all(out["sharers"] <= out["members"] + out["aged_out"])


def _traces(inputs, seed, paths):
    from engine.model.reference import KeyedDraws
    from engine.model.systematic import incidence_levels, join_multipliers

    idx = np.arange(paths)
    gamma = join_multipliers(inputs.join_dispersion, inputs.quarters, inputs.tilt, seed, idx)[0]
    levels, _ = incidence_levels(inputs.systematic, seed, idx, inputs.year_of_quarter)
    state = initial_state(inputs, paths)
    out = {v.name: np.zeros((paths, inputs.quarters), v.dtype) for v in VARIABLES}
    traces = []
    for t in range(inputs.quarters):
        trace = {}
        step_quarter(inputs, state, t, KeyedDraws(seed), idx, gamma[:, t], levels[:, t], out,
                     trace=trace)
        traces.append(trace)
    return traces


def _here():
    from pathlib import Path
    return Path(__file__).parent


@pytest.mark.parametrize("alpha", [5e-324, 1e-300, 1e-13])
def test_a_vanishing_over_dispersion_is_none(tmp_path, alpha):
    """α below 1e-12 (a subnormal α makes 1/α infinite, a shape no gamma sampler can draw)
    gives multipliers of exactly 1, as α = 0 does; found by hypothesis."""
    from engine.model.systematic import join_multipliers
    inputs = inputs_of(tmp_path, scenario_dict(growth__dispersion=alpha))
    gamma, log_w = join_multipliers(alpha, inputs.quarters, inputs.tilt, 3, np.arange(4))
    assert np.array_equal(gamma, np.ones((4, 6))) and np.array_equal(log_w, np.zeros(4))
    with pytest.raises(ValueError):
        from engine.random.samplers import gamma
        from engine.random.streams import Kind, Stream
        gamma(np.array([np.inf]), Stream(3, 0, Kind.JOIN_GAMMA), np.arange(1), 0)

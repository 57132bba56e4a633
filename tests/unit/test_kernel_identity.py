"""The numba kernel and samplers give the numpy reference's numbers, bit for bit."""

from pathlib import Path

import numba
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from engine.config.scenario import load_scenario_set, scenario_set_from_dict
from engine.model.inputs import build_inputs
from engine.random import batch as kernel
from engine.random import samplers, streams
from engine.run.simulate import simulate_paths
from tests.conftest import SCENARIOS, load, scenario_dict
from tests.statistical.test_samplers import BINOMIAL_CASES
from tests.strategies import scenarios

DRAWS = 20_000


def test_numba_binomial_equals_the_reference_in_every_regime():
    rng = np.random.default_rng(3)  # picks parameters only
    cases = [(n, p) for n, p in BINOMIAL_CASES]
    n = np.concatenate([np.full(2000, n_) for n_, _ in cases] + [rng.integers(0, 10**6, DRAWS)])
    p = np.concatenate([np.full(2000, p_) for _, p_ in cases] + [rng.random(DRAWS) ** 4])
    path = np.arange(n.size)
    cell = rng.integers(0, 2**17, n.size)
    k0, k1 = streams.seed_key(2**40 + 17)
    word = streams.quarter_kind_word(9, streams.Kind.DIAGNOSES)
    fast = np.zeros(n.size, dtype=np.int64)
    kernel.binomial_draws(n, p, k0, k1, word, path, cell, fast)
    ref = samplers.binomial(n, p, streams.Stream(2**40 + 17, 9, streams.Kind.DIAGNOSES), path, cell)
    assert np.array_equal(fast, ref)


def test_numba_poisson_equals_the_reference():
    rng = np.random.default_rng(4)
    lam = np.concatenate([rng.random(DRAWS) * 12, rng.random(DRAWS) * 1e6, np.zeros(10)])
    path, cell = np.arange(lam.size), np.arange(lam.size) % 977
    k0, k1 = streams.seed_key(99)
    fast = np.zeros(lam.size, dtype=np.int64)
    kernel.poisson_draws(lam, k0, k1, streams.quarter_kind_word(3, streams.Kind.JOINS), path, cell,
                         fast)
    ref = samplers.poisson(lam, streams.Stream(99, 3, streams.Kind.JOINS), path, cell)
    assert np.array_equal(fast, ref)


def assert_same(a, b):
    assert a.keys() == b.keys()
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.mark.parametrize("name,paths", [("xianghubao.toml", 24), ("emutual.toml", 24)])
def test_kernel_equals_reference_on_the_shipped_scenarios(name, paths):
    scenario = load_scenario_set(SCENARIOS / name).base
    inputs = build_inputs(scenario)
    seed = scenario.scenario.seed
    assert_same(simulate_paths(inputs, seed, 5, paths, backend="numba"),
                simulate_paths(inputs, seed, 5, paths, backend="numpy"))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_kernel_equals_reference_on_random_scenarios(raw):
    inputs = build_inputs(scenario_set_from_dict(raw, "<h>", "", Path(".")).base)
    seed = raw["scenario"]["seed"]
    assert_same(simulate_paths(inputs, seed, 0, 3, backend="numba"),
                simulate_paths(inputs, seed, 0, 3, backend="numpy"))


def test_thread_count_does_not_change_results(tmp_path):
    inputs = build_inputs(load(tmp_path, scenario_dict(growth__dispersion=0.1,
                                                       lapse__cost_elasticity=1.0,
                                                       lapse__reference_cost=5.0)).base)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate_paths(inputs, 3, 0, 64, backend="numba")
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = simulate_paths(inputs, 3, 0, 64, backend="numba")
    finally:
        numba.set_num_threads(before)
    assert_same(one, many)


def test_engines_agree_and_aid_is_not_negative_with_amounts_below_a_yuan():
    # Found by the random scenarios: a payout level rounds to 0 yuan while the full amount
    # is 0.0139, so "full amount plus (level − full amount)" left −1.7e−18 yuan of aid, a
    # negative cost per member, and the reference's power of it failed.
    raw = {"scenario": {"name": "h", "start": "2019Q3", "quarters": 2, "paths": 3, "seed": 0},
           "population": {"initial_members": 216, "age_min": 65, "age_max": 67},
           "growth": {"model": "fixed", "series": [0.0, 0.0]},
           "incidence": {"selection": [2.0]},
           "mortality": {"multiplier": 0.0},
           "lapse": {"base_quarterly": 0.0, "cost_elasticity": 0.5, "reference_cost": 1.0,
                     "cost_window_quarters": 1},
           "benefits": {"amount_by_age": [[65, 65, 0.0], [66, 67, 0.01387612882307075]],
                        "mild_share": 0.0,
                        "payout_levels": [{"share_of_cap": 1.0, "probability": 0.5},
                                          {"share_of_cap": 1.0, "probability": 0.5}]},
           "sharing": {"fee_rate": 0.0}}
    inputs = build_inputs(scenario_set_from_dict(raw, "<h>", "", Path(".")).base)
    a = simulate_paths(inputs, 0, 0, 3, backend="numba")
    assert_same(a, simulate_paths(inputs, 0, 0, 3, backend="numpy"))
    assert a["claims"].sum() > 0 and np.all(a["aid"] >= 0) and np.all(a["cost_per_member"] >= 0)

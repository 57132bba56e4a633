"""Invariants of the quarter step over random scenarios (hypothesis)."""

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.scenario import scenario_set_from_dict
from engine.model.events import DECREMENTS, LEAVING
from engine.model.inputs import build_inputs
from engine.model.mean_path import expected_path
from engine.run.simulate import simulate_paths
from tests.strategies import scenarios

# every decrement's counts (engine.model.events) and the other member flows
COUNTS = tuple(dict.fromkeys((*(d.output for d in DECREMENTS), *LEAVING, "joins", "aged_out",
                              "members", "sharers", "closed_out")))


def inputs_of(raw):
    ss = scenario_set_from_dict(raw, "<hypothesis>", "", Path("."))
    return build_inputs(ss.base), raw["scenario"]["seed"]


SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios())
def test_roll_forward_and_no_negative_counts(raw):
    inputs, seed = inputs_of(raw)
    out = simulate_paths(inputs, seed, 0, 3)
    start = inputs.initial_members.sum()
    members_start = np.concatenate([np.full((3, 1), start), out["members"][:, :-1]], axis=1)
    # members leave by the decrements the table says they leave by, by ageing and closure
    leaving = sum(out[name] for name in LEAVING)
    flows = out["joins"] - leaving - out["aged_out"] - out["closed_out"]
    assert np.array_equal(out["members"], members_start + flows)
    for name in COUNTS:
        assert np.all(out[name] >= 0), name
    assert np.all(out["mild_claims"] <= out["claims"])
    assert np.all(out["shortfall"] >= -1e-6 * np.maximum(1.0, out["aid"]))
    assert np.all(out["solvency_gap"] >= 0)
    assert np.all(out["cost_per_member"] >= 0)
    # Every claim incurred is paid over the pattern (what is still pending at the horizon
    # is the tail of the pattern of the last quarters).
    w = inputs.payment_pattern
    T = out["claims"].shape[1]
    due_by_end = sum(w[k] * out["claims"][:, : T - k].sum(axis=1) for k in range(min(len(w), T)))
    assert np.allclose(out["claims_reported"].sum(axis=1), due_by_end)


@SETTINGS
@given(scenarios())
def test_zero_incidence_gives_zero_aid_and_cost(raw):
    raw["incidence"]["selection"] = [0.0]
    raw["reserve"]["loading_per_member_quarter"] = 0.0
    inputs, seed = inputs_of(raw)
    out = simulate_paths(inputs, seed, 0, 3)
    for name in ("claims", "diagnosed_in_waiting", "aid", "cost_per_member", "shortfall",
                 "fee_revenue"):
        assert np.all(out[name] == 0), name


@SETTINGS
@given(scenarios(feedback=False), st.floats(1.0, 3.0))
def test_higher_incidence_means_more_expected_claims(raw, factor):
    """Without cost feedback, expected claims over the horizon grow with incidence; so does
    expected aid when the benefit does not depend on age."""
    raw["benefits"]["amount_by_age"] = [[raw["population"]["age_min"],
                                         raw["population"]["age_max"], 100000.0]]
    raw["benefits"]["mild_share"] = 0.0
    low, _ = inputs_of(raw)
    raw["incidence"]["selection"] = [s * factor for s in raw["incidence"]["selection"]]
    high, _ = inputs_of(raw)
    e_low, e_high = expected_path(low), expected_path(high)
    tol = 1e-9 * max(1.0, e_low["claims"].sum())
    assert e_high["claims"].sum() >= e_low["claims"].sum() - tol
    assert e_high["aid"].sum() >= e_low["aid"].sum() - tol * 1e5


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**64 - 1), st.floats(1.0, 4.0), st.integers(0, 2000))
def test_same_streams_give_at_least_as_much_aid_on_every_path(seed, factor, members):
    """One quarter, every diagnosis cell in the inversion range (n p < 10): inversion is
    non-decreasing in p, so on common random numbers aid cannot fall on any path."""
    raw = {
        "scenario": {"name": "m", "start": "2020Q1", "quarters": 1, "paths": 50, "seed": seed},
        "population": {"initial_members": members, "age_min": 40, "age_max": 49},
        "growth": {"model": "fixed", "series": [500.0]},
        "incidence": {"selection": [1.0]},
        "lapse": {"base_quarterly": 0.05},
        "benefits": {"amount_by_age": [[40, 44, 300000], [45, 49, 100000]],
                     "mild_share": 0.3, "mild_amount": 50000},
    }
    low, _ = inputs_of(raw)
    raw["incidence"]["selection"] = [factor]
    high, _ = inputs_of(raw)
    cells_np = (members + 500) / 80 * high.diagnosis_hazard_q.max() * 1.1
    assert cells_np < 1.0  # well inside the inversion range
    a = simulate_paths(low, seed, 0, 50)
    b = simulate_paths(high, seed, 0, 50)
    assert np.all(b["claims"] >= a["claims"])
    assert np.all(b["aid"] >= a["aid"])

"""Invariants of the quarter step over random scenarios (hypothesis)."""

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.inputs import build_inputs
from engine.reference import expected_path
from engine.scenario import scenario_set_from_dict
from engine.simulate import simulate_paths

COUNTS = ("joins", "deaths", "claims", "diagnosed_in_waiting", "lapses", "aged_out", "members",
          "mild_claims", "sharers", "closed_out", "suspended")


@st.composite
def scenarios(draw, feedback: bool = True):
    age_min = draw(st.integers(0, 90))
    age_max = draw(st.integers(age_min, min(110, age_min + 3)))
    quarters = draw(st.integers(1, 6))
    model = draw(st.sampled_from(["fixed", "bass", "logistic"]))
    growth = {"model": model, "dispersion": draw(st.sampled_from([0.0, 0.3]))}
    initial = draw(st.integers(0 if model != "logistic" else 1, 4000))
    if model == "fixed":
        growth["series"] = draw(st.lists(st.floats(0, 3000), min_size=quarters,
                                         max_size=quarters))
    else:
        growth["market_potential"] = draw(st.floats(1.0, 1e5))
        growth["innovation"] = draw(st.floats(0, 2))
        growth["imitation"] = draw(st.floats(0, 3))
    lapse = {"base_quarterly": draw(st.floats(0, 0.5))}
    if feedback:
        lapse.update(cost_elasticity=draw(st.floats(0, 2)), reference_cost=draw(st.floats(1, 50)),
                     antiselection=draw(st.floats(0, 1)),
                     cost_window_quarters=draw(st.integers(1, 4)))
        growth["cost_elasticity"] = draw(st.floats(0, 2))
    split = draw(st.integers(age_min, age_max))
    bands = [[age_min, split, draw(st.floats(0, 5e5))]]
    if split < age_max:
        bands.append([split + 1, age_max, draw(st.floats(0, 5e5))])
    sharing = {"fee_rate": draw(st.floats(0, 0.2)),
               "rule": draw(st.sampled_from(["equal", "age_rated"])),
               "sharers": draw(st.sampled_from(["all", "eligible"])),
               "shortfall": draw(st.sampled_from(["reserve", "haircut", "platform"]))}
    prepaid = {}
    if sharing["rule"] == "equal" and draw(st.booleans()):
        sharing["funding"] = "prepaid"
        prepaid = {"deposit": draw(st.floats(0, 50)), "topup_amount": draw(st.floats(0, 50)),
                   "topup_probability": draw(st.floats(0, 1))}
    if draw(st.booleans()):
        sharing["cap_per_quarter"] = draw(st.floats(0, 100))
    if draw(st.booleans()):
        sharing["cap_per_year"] = draw(st.floats(0, 300))
    quarter_labels = ["2019Q3", "2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    if draw(st.booleans()):
        growth["stop_joins_from"] = draw(st.sampled_from(quarter_labels))
    pattern = draw(st.sampled_from([[1.0], [0.5, 0.5], [0.25, 0.5, 0.25], [0.0, 0.7, 0.3]]))
    closure = {}
    if draw(st.booleans()):
        closure["quarter"] = draw(st.sampled_from(quarter_labels))
    if draw(st.booleans()):
        closure["platform_funds_from"] = draw(st.sampled_from(quarter_labels))
    return {
        "prepaid": prepaid,
        "closure": closure,
        "scenario": {"name": "h", "start": "2019Q3", "quarters": quarters, "paths": 3,
                     "seed": draw(st.integers(0, 2**64 - 1))},
        "population": {"initial_members": initial, "age_min": age_min, "age_max": age_max},
        "growth": growth,
        "incidence": {"selection": draw(st.lists(st.floats(0, 20), min_size=1, max_size=3)),
                      "trend_per_year": draw(st.floats(-0.5, 0.5))},
        "mortality": {"multiplier": draw(st.floats(0, 1))},
        "lapse": lapse,
        "benefits": {"waiting_quarters": draw(st.integers(0, 3)), "amount_by_age": bands,
                     "mild_share": draw(st.floats(0, 1)), "mild_amount": 50000.0,
                     "inflation_per_year": draw(st.floats(-0.2, 0.2)),
                     "payment_pattern": pattern},
        "sharing": sharing,
        "reserve": {"initial": draw(st.floats(0, 1e6)),
                    "loading_per_member_quarter": draw(st.floats(0, 5))},
    }


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
    flows = (out["joins"] - out["suspended"] - out["deaths"] - out["claims"]
             - out["diagnosed_in_waiting"] - out["lapses"] - out["aged_out"] - out["closed_out"])
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

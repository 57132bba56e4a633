"""Cost sharing, caps, shortfall rules and the reserve on hand-checked cases."""

import numpy as np
import pytest

from engine.model.sharing import SharingTerms, ShortfallRule, share_costs

RESERVE, HAIRCUT, PLATFORM = ShortfallRule

AID = 1_000_000.0
SHARERS = 1000


def share(aid=AID, sharers=SHARERS, paid=0.0, reserve=0.0, **kw):
    params = dict(fee_rate=0.08, cap_per_quarter_yuan=np.inf, cap_per_year_yuan=np.inf,
                  shortfall_rule=RESERVE, loading_yuan_q=0.0, reserve_growth_q=1.0)
    params.update(kw)
    out = share_costs(np.array([aid]), np.array([sharers]), np.array([paid]),
                      np.array([reserve]), SharingTerms(**params))
    return {k: float(v[0]) for k, v in out.items()}


def test_uncapped_sharing_funds_aid_and_fee():
    out = share()
    assert out["required_cost_per_member"] == pytest.approx(1080.0)
    assert out["cost_per_member"] == pytest.approx(1080.0)
    assert out["shortfall"] == 0.0
    assert out["fee_revenue"] == pytest.approx(80_000.0)
    assert out["reserve"] == 0.0 and out["solvency_gap"] == 0.0


def test_quarterly_cap_leaves_a_shortfall_met_by_the_reserve():
    out = share(cap_per_quarter_yuan=500.0, reserve=100_000.0)
    assert out["cost_per_member"] == 500.0
    assert out["shortfall"] == pytest.approx(1_080_000 - 500_000)
    assert out["reserve"] == pytest.approx(100_000 - 580_000)
    assert out["solvency_gap"] == pytest.approx(480_000)
    assert out["aid_paid"] == AID and out["platform_funding"] == 0.0


def test_haircut_cuts_benefits_pro_rata():
    out = share(cap_per_quarter_yuan=500.0, shortfall_rule=HAIRCUT)
    assert out["aid_paid"] == pytest.approx(500_000 / 1.08)
    assert out["aid_paid"] * 1.08 == pytest.approx(500 * SHARERS)  # funded exactly
    assert out["fee_revenue"] == pytest.approx(0.08 * 500_000 / 1.08)
    assert out["reserve"] == 0.0


def test_platform_pays_the_shortfall():
    out = share(cap_per_quarter_yuan=500.0, shortfall_rule=PLATFORM)
    assert out["platform_funding"] == pytest.approx(580_000)
    assert out["aid_paid"] == AID and out["reserve"] == 0.0


def test_yearly_cap_counts_what_was_paid_this_year():
    out = share(paid=150.0, cap_per_year_yuan=188.0)
    assert out["cost_per_member"] == pytest.approx(38.0)
    assert out["paid_this_year"] == pytest.approx(188.0)
    assert out["shortfall"] == pytest.approx(1_080_000 - 38_000)


def test_no_sharers_means_everything_is_unfunded():
    out = share(sharers=0)
    assert out["cost_per_member"] == 0.0
    assert out["required_cost_per_member"] == np.inf
    assert out["shortfall"] == pytest.approx(1_080_000)


def test_no_aid_costs_nothing():
    out = share(aid=0.0, sharers=0)
    assert out["required_cost_per_member"] == 0.0 and out["shortfall"] == 0.0


def test_loading_and_interest_build_the_reserve():
    out = share(reserve=10_000.0, loading_yuan_q=2.0, reserve_growth_q=1.01)
    assert out["reserve"] == pytest.approx((10_000 + 2 * SHARERS) * 1.01)
    assert out["cost_per_member"] == pytest.approx(1082.0)


def test_age_rated_shares_follow_the_weights():
    from engine.model.sharing import share_costs_age_rated

    weight = np.array([[1.0, 3.0]])                        # one sex, two age cells
    sharers = np.array([[[10, 10]]])
    common = dict(fee_rate=0.0, cap_per_year_yuan=np.inf, shortfall_rule=RESERVE,
                  loading_yuan_q=0.0, reserve_growth_q=1.0)
    out = share_costs_age_rated(np.array([400_000.0]), sharers, weight, np.zeros((1, 1, 2)),
                                np.array([0.0]),
                                SharingTerms(cap_per_quarter_yuan=np.inf, **common))
    assert out["charged_cells"][0, 0].tolist() == [10_000.0, 30_000.0]   # unit 400000/40
    assert out["shortfall"][0] == 0.0
    assert out["cost_per_member"][0] == pytest.approx(20_000.0)          # the average
    capped = share_costs_age_rated(np.array([400_000.0]), sharers, weight,
                                   np.zeros((1, 1, 2)), np.array([0.0]),
                                   SharingTerms(cap_per_quarter_yuan=20_000.0, **common))
    assert capped["charged_cells"][0, 0].tolist() == [10_000.0, 20_000.0]
    assert capped["shortfall"][0] == pytest.approx(100_000.0)
    assert capped["reserve"][0] == pytest.approx(-100_000.0)


def test_age_rated_charges_per_cell_against_a_hand_computation():
    """Four cells with weights 1, 2, 3, 4 and 10 sharers each, aid 1,000 yuan, fee 10 %:
    the charge per unit of weight is u = 1,100 / (10 · 10) = 11, so cells are asked 11, 22,
    33 and 44 yuan. A quarterly cap of 30 binds on the last two cells only (the third has
    paid 5 yuan this year against a yearly cap of 40, so it may pay 30 more), which funds
    10 · (11 + 22 + 30 + 30) = 930 and leaves 170 unfunded."""
    from engine.model.sharing import share_costs_age_rated

    weight = np.array([[1.0, 2.0], [3.0, 4.0]])
    sharers = np.full((1, 2, 2), 10.0)
    paid = np.array([[[0.0, 0.0], [5.0, 0.0]]])
    common = dict(fee_rate=0.1, cap_per_year_yuan=40.0, shortfall_rule=RESERVE,
                  loading_yuan_q=0.0, reserve_growth_q=1.0)
    out = share_costs_age_rated(np.array([1000.0]), sharers, weight, paid, np.array([0.0]),
                                SharingTerms(cap_per_quarter_yuan=30.0, **common))
    assert np.allclose(out["charged_cells"][0], [[11.0, 22.0], [30.0, 30.0]])
    assert np.isclose(out["shortfall"][0], 1100.0 - 930.0)
    assert np.isclose(out["cost_per_member"][0], 930.0 / 40.0)
    assert np.allclose(out["paid_this_year_cells"][0], [[11.0, 22.0], [35.0, 30.0]])
    # without caps every cell pays what it is asked and the cells' charges add up to the
    # aid plus fee
    free = share_costs_age_rated(np.array([1000.0]), sharers, weight, paid, np.array([0.0]),
                                 SharingTerms(cap_per_quarter_yuan=np.inf,
                                              **{**common, "cap_per_year_yuan": np.inf}))
    assert np.allclose(free["charged_cells"][0], [[11.0, 22.0], [33.0, 44.0]])
    assert np.isclose((free["charged_cells"][0] * sharers[0]).sum(), 1100.0)
    assert free["shortfall"][0] == 0.0


def test_age_rated_lapses_react_by_age(tmp_path):
    """With lapse elasticity, age-rated sharing makes the old (who pay more) leave more and
    the young less than under equal sharing: the members left are younger."""
    from engine.model.inputs import build_inputs
    from engine.model.mean_path import expected_path
    from tests.conftest import load, scenario_dict

    common = dict(population__age_min=20, population__age_max=59, scenario__quarters=12,
                  growth__series=[3000.0] * 12, benefits__amount_by_age=[[20, 59, 100000]],
                  lapse__cost_elasticity=1.5, lapse__reference_cost=30.0)
    equal = build_inputs(load(tmp_path, scenario_dict(**common)).base)
    rated = build_inputs(load(tmp_path, scenario_dict(sharing__rule="age_rated", **common),
                              "r.toml").base)
    e, r = expected_path(equal), expected_path(rated)
    # Older members claim more: with them leaving, claims per member fall.
    assert (r["claims"] / r["members"])[-1] < (e["claims"] / e["members"])[-1]


def prepaid_plan(tmp_path, probability, name="p.toml"):
    from engine.model.inputs import build_inputs
    from tests.conftest import load, scenario_dict

    data = scenario_dict(growth__series=[0.0] * 6, incidence__selection=[3.0],
                         benefits__waiting_quarters=0, sharing__sharers="all",
                         sharing__funding="prepaid")
    data["prepaid"] = {"deposit": 30.0, "topup_amount": 25.0, "topup_probability": probability}
    return build_inputs(load(tmp_path, data, name).base)


def test_prepaid_balances_pay_the_charges_and_top_up(tmp_path):
    from engine.model.mean_path import expected_path

    inputs = prepaid_plan(tmp_path, 1.0)
    e = expected_path(inputs)
    balance, last = 30.0, 0.0
    for t in range(6):
        if balance < last:
            balance += np.ceil((last - balance) / 25.0) * 25.0
        balance -= e["cost_per_member"][t]
        last = e["cost_per_member"][t]
        assert e["balance_per_member"][t] == pytest.approx(balance, rel=1e-12)
    assert np.all(e["suspended"] == 0)


def test_members_who_do_not_top_up_are_suspended(tmp_path):
    from engine.model.mean_path import expected_path
    from engine.run.simulate import simulate_paths

    inputs = prepaid_plan(tmp_path, 0.3)
    e = expected_path(inputs)
    short_quarters = [t for t in range(6) if e["suspended"][t] > 0]
    assert short_quarters, "the deposit should run short within six quarters"
    t = short_quarters[0]
    start = e["members"][t - 1]                 # no joins: the quarter starts with these
    assert e["suspended"][t] == pytest.approx(0.7 * start, rel=1e-12)
    out = simulate_paths(inputs, 5, 0, 30)
    assert np.all(out["suspended"][:, :t] == 0) and np.all(out["suspended"][:, t] > 0)


def test_prepaid_needs_equal_sharing(tmp_path):
    from engine.errors import ScenarioError
    from tests.conftest import load, scenario_dict

    with pytest.raises(ScenarioError, match="equal sharing only"):
        load(tmp_path, scenario_dict(sharing__funding="prepaid", sharing__rule="age_rated"))

"""Cost sharing, caps, shortfall rules and the reserve on hand-checked cases."""

import numpy as np
import pytest

from engine.sharing import HAIRCUT, PLATFORM, RESERVE, share_costs

AID = 1_000_000.0
SHARERS = 1000


def share(aid=AID, sharers=SHARERS, paid=0.0, reserve=0.0, **kw):
    params = dict(fee_rate=0.08, cap_per_quarter_yuan=np.inf, cap_per_year_yuan=np.inf,
                  shortfall_rule=RESERVE, loading_yuan_q=0.0, reserve_growth_q=1.0)
    params.update(kw)
    out = share_costs(np.array([aid]), np.array([sharers]), np.array([paid]),
                      np.array([reserve]), **params)
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

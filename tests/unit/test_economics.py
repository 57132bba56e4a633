"""Platform value and market share on hand-checked numbers."""

import numpy as np
import pytest

from engine.analysis import economics
from engine.config import tables
from engine.config.scenario import SECTIONS

VALUATION = SECTIONS["valuation"](discount_rate=0.1, user_value_per_quarter=1.0,
                                  acquisition_cost=2.0, opex_per_member_quarter=0.5,
                                  gap_funded_by="members")


def test_platform_value_discounts_quarterly_cash_flows():
    results = {"fee_revenue": np.array([[100.0, 200.0]]), "members": np.array([[10, 20]]),
               "joins": np.array([[5, 0]]), "platform_funding": np.array([[0.0, 50.0]])}
    # cash: 100 + 10 − 2·5 − 0.5·10 − 0 = 95;  200 + 20 − 0 − 10 − 50 = 160
    v = 1.1 ** -0.25
    assert economics.platform_value(results, VALUATION)[0] == pytest.approx(95 * v + 160 * v**2)


@pytest.mark.parametrize("rule,gap_cost", [
    ("platform", (108.0, -40.0)),            # the gap's increases: 108, then −40 repaid
    ("members", (0.0, 0.0)),
    ("nobody", (8.0, 0.0)),                  # fee f/(1+f) = 0.08/1.08 on the 108 not paid
])
def test_platform_value_under_each_gap_rule(rule, gap_cost):
    """A two-quarter plan with a gap of 108 yuan after quarter 1 and 68 after quarter 2
    (the reserve recovered 40): cash 95 and 160 as above, less the rule's gap cost."""
    results = {"fee_revenue": np.array([[100.0, 200.0]]), "members": np.array([[10, 20]]),
               "joins": np.array([[5, 0]]), "platform_funding": np.array([[0.0, 50.0]]),
               "solvency_gap": np.array([[108.0, 68.0]])}
    valuation = SECTIONS["valuation"](**{**VALUATION.__dict__, "gap_funded_by": rule})
    v = 1.1 ** -0.25
    got = economics.platform_value(results, valuation, fee_rate=0.08)[0]
    assert got == pytest.approx((95 - gap_cost[0]) * v + (160 - gap_cost[1]) * v**2)


def test_contributions_and_market_share_by_calendar_year():
    results = {"cost_per_member": np.array([[1.0, 2.0, 3.0]]),
               "sharers": np.array([[10, 10, 20]])}
    labels = ["2019Q4", "2020Q1", "2020Q2"]
    premiums = tables.premiums_with({2019: 1000.0})
    shares = economics.market_share_by_year(results, labels, premiums)
    assert shares[2019]["contributions"][0] == 10.0 and shares[2019]["quarters"] == 1
    assert shares[2019]["share"][0] == pytest.approx(10.0 / 1000.0)    # the scenario's figure
    assert shares[2020]["contributions"][0] == 80.0 and shares[2020]["quarters"] == 2
    assert shares[2020]["premium"] == pytest.approx(817.3e9)           # the shipped table
    assert shares[2020]["share"][0] == pytest.approx(80.0 / 817.3e9)


def test_years_without_a_published_premium_are_not_filled_in():
    results = {"cost_per_member": np.array([[1.0]]), "sharers": np.array([[10]])}
    entry = economics.market_share_by_year(results, ["2013Q3"], tables.premiums_with({}))[2013]
    assert entry["premium"] is None and entry["share"] is None


def test_every_premium_row_names_a_source():

    for _, row in tables.data_table("china_health_insurance_premiums.csv").rows:
        assert row["source_url"].startswith("http"), row

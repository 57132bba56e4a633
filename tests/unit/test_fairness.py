"""The fairness table: identities and closed forms."""

import numpy as np
import pytest

from engine.model import units
from engine.studies.fairness import analyse
from tests.conftest import constant_table, inputs_of, scenario_dict, write_csv


def plan(tmp_path, incidence_by_age=None, **changes):
    if incidence_by_age is None:
        constant_table(tmp_path / "inc.csv", "rate_per_100k", 800.0)
    else:
        write_csv(tmp_path / "inc.csv", "age,sex,rate_per_100k",
                  [f"{a},{s},{r}" for a, r in incidence_by_age.items()
                   for s in ("female", "male")])
    settings = dict(incidence__table="inc.csv", population__age_min=30,
                    population__age_max=39, benefits__amount_by_age=[[30, 39, 100000]],
                    incidence__selection=[1.0], benefits__waiting_quarters=0,
                    sharing__sharers="all", scenario__quarters=8,
                    growth__series=[3000.0] * 8)
    data = scenario_dict(**{**settings, **changes})
    return inputs_of(tmp_path, data)


def test_age_rating_collects_the_same_total(tmp_path):
    ages = {a: 100.0 * (a - 29) for a in range(30, 40)}     # incidence rising with age
    rows = analyse(plan(tmp_path, ages))
    equal = sum(r.contributions_per_member_year * r.member_years for r in rows)
    rated = sum(r.age_rated_per_member_year * r.member_years for r in rows)
    assert rated == pytest.approx(equal, rel=1e-9)
    # Equal sharing: the young pay more than they receive, the old less.
    young, old = rows[0], rows[1]
    assert young.ratio > 1 > old.ratio
    # Age-rated: contributions follow expected benefits (equal ratios at fixed behaviour).
    ratios = [r.age_rated_per_member_year / r.benefits_per_member_year for r in rows]
    assert max(ratios) == pytest.approx(min(ratios), rel=0.02)


def test_no_cross_subsidy_when_incidence_does_not_depend_on_age(tmp_path):
    rows = analyse(plan(tmp_path))
    ratios = [r.ratio for r in rows]
    assert max(ratios) == pytest.approx(min(ratios), rel=0.02)


def test_lifetime_benefits_of_a_closed_cohort(tmp_path):
    """No deaths, lapses or waiting and constant incidence: a joiner has half a quarter of
    exposure in the quarter it joins (claim probability q½ = 1 − e^(−h/2)), then whole
    quarters (q = 1 − e^(−h)), so expected lifetime aid over T quarters is
    B (1 − (1 − q½)(1 − q)^(T − 1))."""
    write_csv(tmp_path / "mort.csv", "age,sex,qx", ["0-110,female,0", "0-110,male,0"])
    rows = analyse(plan(tmp_path, mortality__table="mort.csv", lapse__base_quarterly=0.0,
                        population__age_max=45,
                        benefits__amount_by_age=[[30, 45, 100000]]))
    q = units.quarterly_prob_from_rate_per_100k(800.0)
    q_half = units.quarterly_prob_from_rate_per_100k(400.0)
    expected = 100000 * (1 - (1 - q_half) * (1 - q) ** 7)
    for r in rows:
        if r.ages in ("30-34", "35-39"):
            assert r.lifetime_benefits == pytest.approx(expected, rel=1e-9), r
    assert np.isfinite([r.ratio for r in rows]).all()

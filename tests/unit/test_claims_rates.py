"""Claims per 100,000 member-years (issue 26): the model's rate and the population's, each
against a computation by hand."""

import numpy as np
import pytest

from engine.studies.claims_rates import (
    member_years,
    population_rate_per_100k,
    rate_per_100k,
    yearly_rates,
)


def test_member_years_take_the_mean_of_each_quarters_start_and_end():
    # 0 members at the start, 1,000 / 3,000 / 3,000 at the ends of three quarters:
    # 0.25 * (0 + 1000) / 2 = 125, 0.25 * (1000 + 3000) / 2 = 500, 0.25 * 3000 = 750
    e = member_years(np.array([[1000.0, 3000.0, 3000.0]]), 0.0)
    np.testing.assert_allclose(e, [[125.0, 500.0, 750.0]])


def test_a_rate_is_claims_over_member_years_per_100000():
    claims = np.array([[1.0, 2.0, 3.0, 0.0]])
    members = np.array([[4000.0, 4000.0, 4000.0, 4000.0]])
    e = member_years(members, 4000.0)              # 1,000 member-years each quarter
    # a year of 4,000 members is 4,000 member-years; 6 claims: 6 / 4000 * 1e5 = 150
    assert rate_per_100k(claims, e, slice(0, 4))[0] == pytest.approx(150.0)
    assert np.isnan(rate_per_100k(claims, member_years(0 * members), slice(0, 4))[0])


def test_the_population_rate_weighs_each_age_and_sex_by_the_members():
    rates = np.array([[10.0, 100.0], [20.0, 300.0]])     # (female, male) × two ages
    mix = np.array([[1.0, 1.0], [2.0, 0.0]])
    # (1*10 + 1*100 + 2*20 + 0*300) / 4 = 37.5, times a trend factor of 1.1
    assert population_rate_per_100k(rates, mix, 1.1) == pytest.approx(41.25)


def test_yearly_rates_set_the_model_beside_the_population_by_calendar_year():
    labels = ["2020Q3", "2020Q4", "2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    members = np.full((3, 6), 2000.0)
    claims = np.zeros((3, 6))
    claims[:, 2:] = [[1.0], [2.0], [3.0]]              # 4, 8, 12 claims a path in 2021
    rows = yearly_rates("adults", claims, members, 2000.0, labels,
                        {"2020": 100.0, "2021": 400.0})
    assert [(r.year, r.quarters) for r in rows] == [("2020", 2), ("2021", 4)]
    r = rows[1]
    # 2,000 member-years in 2021: 8 claims on the middle path = 400 per 100,000
    assert r.median == pytest.approx(400.0)
    assert r.ratio == pytest.approx(1.0)
    assert r.p05 < r.median < r.p95
    assert rows[0].median == 0.0

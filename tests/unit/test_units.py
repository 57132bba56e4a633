"""Rate and probability conversions (DESIGN §2), age bands and quarter labels."""

import math

import numpy as np
import pytest

from engine.config import labels
from engine.model import units


def test_incidence_rate_to_quarterly_probability_is_constant_hazard():
    rate = 300.0  # per 100,000 person-years
    q = units.quarterly_prob_from_rate_per_100k(rate)
    assert q == pytest.approx(1 - math.exp(-rate / 100000 / 4), rel=1e-15)
    # Four quarters at that probability give the annual probability of the same hazard.
    assert 1 - (1 - q) ** 4 == pytest.approx(1 - math.exp(-rate / 100000), rel=1e-12)


def test_tiny_rates_keep_their_digits():
    q = units.quarterly_prob_from_rate_per_100k(1e-4)  # 1e-9 per person-year
    assert q == pytest.approx(1e-4 / 100000 / 4, rel=1e-9)


def test_annual_probability_to_quarterly():
    for qa in (0.0, 1e-6, 0.01, 0.5, 0.999):
        q = units.quarterly_prob_from_annual_prob(qa)
        assert 1 - (1 - q) ** 4 == pytest.approx(qa, rel=1e-12, abs=1e-15)
    assert units.quarterly_prob_from_annual_prob(1.0) == 1.0


def test_central_rate_to_quarterly():
    assert units.quarterly_prob_from_central_rate(0.02) == pytest.approx(1 - math.exp(-0.005))


def test_interest_factor():
    assert units.quarterly_growth_factor(0.04) ** 4 == pytest.approx(1.04)


@pytest.mark.parametrize("text,band", [("42", (42, 42)), ("40-44", (40, 44)),
                                       ("85+", (85, 110)), (" 0 - 4 ", (0, 4))])
def test_age_bands(text, band):
    assert labels.parse_age_band(text) == band


@pytest.mark.parametrize("text", ["", "x", "44-40", "-3", "40-"])
def test_bad_age_bands(text):
    with pytest.raises(ValueError):
        labels.parse_age_band(text)


def test_quarter_labels_roll_over_years():
    assert labels.quarter_labels("2018Q4", 3) == ["2018Q4", "2019Q1", "2019Q2"]
    assert labels.quarter_offset("2018Q4", "2020Q1") == 5
    with pytest.raises(ValueError):
        labels.parse_quarter("2019Q5")


def test_conversions_work_on_arrays():
    rates = np.array([0.0, 100.0, 1000.0])
    assert units.quarterly_prob_from_rate_per_100k(rates).shape == (3,)

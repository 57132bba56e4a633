"""Scenario → arrays: counts, durations, cells and probabilities."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.model import units
from engine.model.inputs import allocate_counts
from tests.conftest import constant_table, inputs_of, scenario_dict


@given(st.integers(0, 10**9), st.lists(st.floats(0, 1), min_size=1, max_size=50))
def test_allocation_is_exact_and_close(total, shares):
    shares = np.array(shares)
    if shares.sum() == 0:
        shares[0] = 1.0
    counts = allocate_counts(total, shares)
    assert counts.sum() == total and np.all(counts >= 0)
    assert np.all(np.abs(counts - total * shares / shares.sum()) < 1.0 + 1e-6 * total)


def test_shapes_durations_and_cells(tmp_path):
    inp = inputs_of(tmp_path, scenario_dict(incidence__selection=[0.5, 0.8, 1.0],
                                            benefits__waiting_quarters=2))
    assert inp.n_age_quarters == 5 * 4 and inp.n_durations == 9  # D = max(2, 4 * (3 - 1)) = 8
    assert len(np.unique(inp.cell_id)) == inp.cell_id.size
    assert inp.initial_members.sum() == 20000
    assert inp.initial_members[:, :, :-1].sum() == 0      # initial members sit at D
    assert inp.join_mix.sum() == pytest.approx(1.0)


def test_hazard_includes_selection_and_cancer_share(tmp_path):
    constant_table(tmp_path / "inc.csv", "rate_per_100k", 400.0)
    inp = inputs_of(tmp_path, scenario_dict(incidence__table="inc.csv",
                                            incidence__cancer_share_of_claims=0.8,
                                            incidence__selection=[0.5, 1.0]))
    h = units.quarterly_hazard_from_rate_per_100k(400.0 / 0.8)
    assert inp.diagnosis_hazard_q[0, 0, 1] == pytest.approx(0.5 * h)
    # joiners (duration 0) carry half a quarter of exposure
    assert inp.diagnosis_hazard_q[0, 0, 0] == pytest.approx(0.25 * h)
    assert inp.diagnosis_hazard_q[1, -1, -1] == pytest.approx(h)


def test_the_age_tilt_multiplies_each_age_s_rate(tmp_path):
    constant_table(tmp_path / "inc.csv", "rate_per_100k", 400.0)
    data = scenario_dict(incidence__table="inc.csv", incidence__selection=[1.0],
                         population__age_min=20, population__age_max=59,
                         benefits__amount_by_age=[[20, 59, 100000]])
    flat = inputs_of(tmp_path, data)
    data["incidence"]["age_tilt_per_decade"] = 0.0
    assert np.array_equal(inputs_of(tmp_path, data).diagnosis_hazard_q,
                          flat.diagnosis_hazard_q)          # τ = 0: the same bits
    data["incidence"]["age_tilt_per_decade"] = -0.8
    tilted = inputs_of(tmp_path, data).diagnosis_hazard_q
    ages = flat.age_years
    expected = flat.diagnosis_hazard_q * np.exp(-0.8 * (ages - 40) / 10.0)[None, :, None]
    np.testing.assert_allclose(tilted, expected, rtol=1e-14)
    # 40 is the pivot: its rate is the table's
    at_40 = ages == 40
    assert np.array_equal(tilted[:, at_40], flat.diagnosis_hazard_q[:, at_40])


def test_trend_and_shocks(tmp_path):
    inp = inputs_of(tmp_path, scenario_dict(
        incidence__trend_per_year=0.1,
        incidence__shocks=[{"start": "2020Q3", "quarters": 2, "multiplier": 2.0}]))
    expected = 1.1 ** (np.arange(6) / 4) * np.array([1, 1, 2, 2, 1, 1])
    assert np.allclose(inp.hazard_factor, expected)


def test_benefits_by_age_quarter(tmp_path):
    inp = inputs_of(tmp_path, scenario_dict(
        benefits__amount_by_age=[[30, 31, 300000], [32, 34, 100000]]))
    assert inp.benefit_yuan[0, :8].tolist() == [300000] * 8
    assert inp.benefit_yuan[0, 8:].tolist() == [100000] * 12


def test_female_share_reweights_the_mix(tmp_path):
    inp = inputs_of(tmp_path, scenario_dict(population__female_share=0.7))
    assert inp.join_mix[0].sum() == pytest.approx(0.7)
    assert inp.initial_members[0].sum() == 14000

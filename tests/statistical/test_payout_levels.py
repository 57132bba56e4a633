"""Payout levels below the full amount (engine.model.payout) against their exact laws.

One quarter of a closed cohort with constant incidence, no deaths, lapses, joins or waiting
period: each of the N members is a claim with probability q, independently, and a claim is
paid a quarter of the full amount with probability 0.3, half of it with probability 0.2 and
the full amount otherwise. The quarter's aid in units of a quarter of the full amount is the
sum of N independent copies of Y (0 w.p. 1 − q, 1, 2 and 4 w.p. 0.3 q, 0.2 q, 0.5 q): its law
is the N-fold convolution of Y's, computed exactly below.
"""

import numpy as np
import pytest
from scipy import stats

from engine.model import units
from engine.model.inputs import build_inputs
from engine.model.mean_path import expected_path
from engine.run.simulate import simulate_paths
from tests.conftest import constant_table, load, scenario_dict, write_csv
from tests.statistical.helpers import ALPHA, chi_square_discrete

FULL_YUAN = 100_000
LEVELS = [{"share_of_cap": 0.25, "probability": 0.3}, {"share_of_cap": 0.5, "probability": 0.2}]
RATE = 40_000.0    # per 100,000 a year: about 38 claims a quarter among 400 members
PATHS = 4000


def one_quarter(tmp_path, levels=LEVELS):
    constant_table(tmp_path / "inc.csv", "rate_per_100k", RATE)
    constant_table(tmp_path / "mort.csv", "qx", 0.0)
    write_csv(tmp_path / "mix.csv", "age,sex,share", ["30,female,1", "30,male,1"])
    data = scenario_dict(
        scenario__quarters=1, scenario__seed=7, population__initial_members=400,
        population__age_min=30, population__age_max=40, population__initial_age_mix="mix.csv",
        growth__series=[0.0], growth__joiner_age_mix="mix.csv", incidence__table="inc.csv",
        incidence__selection=[1.0], mortality__table="mort.csv", lapse__base_quarterly=0.0,
        benefits__waiting_quarters=0, benefits__amount_by_age=[[30, 40, FULL_YUAN]],
        benefits__payout_levels=levels)
    return build_inputs(load(tmp_path, data).base)


def exact_aid_law(members: int, q: float) -> np.ndarray:
    """P(aid = 25,000 k) for k = 0..4N: the N-fold convolution of one member's law."""
    one = np.zeros(5)
    one[[0, 1, 2, 4]] = [1 - q, 0.3 * q, 0.2 * q, 0.5 * q]
    law, power, n = np.array([1.0]), one, members
    while n:
        if n & 1:
            law = np.convolve(law, power)
        power = np.convolve(power, power)
        n >>= 1
    return law


def test_a_quarters_aid_with_two_payout_levels_has_the_exact_compound_law(tmp_path):
    inputs = one_quarter(tmp_path)
    members = int(inputs.initial_members.sum())
    q = units.quarterly_prob_from_rate_per_100k(RATE)
    out = simulate_paths(inputs, 7, 0, PATHS)
    units_of_aid = out["aid"][:, 0] / (FULL_YUAN / 4)
    assert np.array_equal(units_of_aid, np.round(units_of_aid))   # whole level amounts
    law = exact_aid_law(members, q)
    support = np.arange(law.size)
    pvalue, bins = chi_square_discrete(units_of_aid.astype(np.int64),
                                       stats.rv_discrete(values=(support, law)))
    assert pvalue > ALPHA, f"chi-square p = {pvalue:.2g} over {bins} bins"
    mean = float(support @ law)
    sd = float(np.sqrt(((support - mean) ** 2) @ law))
    se = sd / np.sqrt(PATHS)
    assert abs(units_of_aid.mean() - mean) < 4 * se, (units_of_aid.mean(), mean, 4 * se)
    # the claims paid below the full amount are Binomial(N, 0.5 q) exactly
    pvalue, bins = chi_square_discrete(out["claims_below_cap"][:, 0],
                                       stats.binom(members, 0.5 * q))
    assert pvalue > ALPHA, f"chi-square p = {pvalue:.2g} over {bins} bins"


def test_the_kernel_draws_the_levels_as_the_reference_does(tmp_path):
    inputs = one_quarter(tmp_path)
    kernel = simulate_paths(inputs, 7, 0, 200, backend="numba")
    reference = simulate_paths(inputs, 7, 0, 200, backend="numpy")
    for name in ("aid", "claims", "claims_below_cap", "cost_per_member", "members"):
        assert np.array_equal(kernel[name], reference[name]), name


def test_the_expected_path_pays_the_expected_level(tmp_path):
    inputs = one_quarter(tmp_path)
    members = int(inputs.initial_members.sum())
    q = units.quarterly_prob_from_rate_per_100k(RATE)
    per_claim = FULL_YUAN * (0.3 * 0.25 + 0.2 * 0.5 + 0.5)
    e = expected_path(inputs)
    assert e["aid"][0] == pytest.approx(members * q * per_claim, rel=1e-12)
    assert e["claims_below_cap"][0] == pytest.approx(members * q * 0.5, rel=1e-12)


def test_without_levels_every_claim_is_paid_in_full(tmp_path):
    inputs = one_quarter(tmp_path, levels=[])
    out = simulate_paths(inputs, 7, 0, 50)
    assert np.array_equal(out["aid"], out["claims"] * float(FULL_YUAN))
    assert not out["claims_below_cap"].any()

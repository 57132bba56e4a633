"""Risk measures and their standard errors against distributions computed exactly."""

import numpy as np
import pytest
from scipy import stats

from engine.analysis.summary import risk_measures
from engine.model import units
from tests.statistical.test_model_statistics import closed_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """A closed cohort (no joins, deaths or lapses; constant incidence; no waiting) whose
    quarterly cap of 0 leaves every claim unfunded: the one-year shortfall is exactly
    B (1 + f) · Binomial(N0, 1 − (1 − q)^4)."""
    from engine.run.simulate import simulate_paths

    tmp = tmp_path_factory.mktemp("cohort")
    members, rate = 2000, 2800.0
    inputs = closed_cohort(tmp, rate_per_100k=rate, quarters=8, members=members)
    inputs = inputs.__class__(**{**inputs.__dict__, "cap_per_quarter_yuan": 0.0,
                                 "reserve_initial_yuan": 100000 * 1.08 * 100 - 1.0})
    paths = 6000
    out = simulate_paths(inputs, 77, 0, paths)
    q = units.quarterly_prob_from_rate_per_100k(rate)
    return out, members, q, paths, [f"2020Q{i}" for i in (1, 2, 3, 4)] + \
        [f"2021Q{i}" for i in (1, 2, 3, 4)]


def test_var_and_tvar_of_the_one_year_shortfall(cohort):
    out, members, q, paths, labels = cohort
    risk = risk_measures(out, labels)
    unit = 100000 * 1.08                               # benefit × (1 + fee)
    k = stats.binom(members, 1 - (1 - q) ** 4)
    support = np.arange(members + 1)
    for alpha, tag in ((0.9, "90"), (0.99, "99"), (0.995, "995")):
        exact_var = unit * k.ppf(alpha)                # lower quantile, as defined
        pmf = k.pmf(support)
        exact_tvar = exact_var + unit * np.sum(pmf * np.maximum(support - k.ppf(alpha), 0)) \
            / (1 - alpha)
        est = risk["shortfall_one_year"]["year 1"]
        v, tv = est[f"var_{tag}"], est[f"tvar_{tag}"]
        # Discrete quantiles: allow the estimate to sit one support point off as well.
        assert abs(v["value"] - exact_var) <= max(4 * v["se"], unit), (alpha, v, exact_var)
        assert abs(tv["value"] - exact_tvar) < 4 * tv["se"], (alpha, tv, exact_tvar)
        assert tv["se"] > 0  # a VaR s.e. may be 0: its interval can sit inside one atom
    assert risk["capital_995"] == risk["shortfall_one_year"]["year 1"]["var_995"]


def test_ruin_probability_by_horizon(cohort):
    """The reserve covers 99 claims: ruin by quarter h ⟺ at least 100 claims by h,
    probability P(Binomial(N0, 1 − (1 − q)^h) ≥ 100)."""
    out, members, q, paths, labels = cohort
    risk = risk_measures(out, labels)
    for key, row in risk["ruin_probability_by_horizon"].items():
        h = row["quarters"]
        exact = stats.binom(members, 1 - (1 - q) ** h).sf(99)
        se = np.sqrt(exact * (1 - exact) / paths)
        assert abs(row["probability"] - exact) < 4 * max(se, 1 / paths), (key, row, exact)
    shares = risk["time_to_ruin"]
    assert sum(shares.values()) == pytest.approx(1.0)


def test_too_few_paths_are_flagged(cohort):
    out, _, _, _, labels = cohort
    small = {k: v[:150] for k, v in out.items()}
    warnings = risk_measures(small, labels)["warnings"]
    assert any("99.5%" in w and "use at least 2000" in w for w in warnings), warnings

"""VaR, TVaR and ruin on samples whose answers are known exactly."""

import numpy as np
import pytest

from engine.analysis import metrics


def test_var_is_the_lower_quantile():
    x = np.arange(1, 1001)  # each value once: F(k) = k / 1000
    assert metrics.var(x, 0.995) == 995.0
    assert metrics.var(x, 0.9951) == 996.0


def test_tvar_is_the_mean_of_the_worst_tail():
    x = np.arange(1, 1001)
    # 995 + E[(X - 995)+] / 0.005 = 995 + (1+2+3+4+5)/1000/0.005 = 998 = mean(996..1000)
    assert metrics.tvar(x, 0.995) == pytest.approx(998.0)


def test_tvar_splits_an_atom_at_var():
    x = np.r_[np.zeros(990), np.full(10, 100.0)]
    assert metrics.var(x, 0.995) == 100.0 and metrics.tvar(x, 0.995) == 100.0
    assert metrics.var(x, 0.99) == 0.0
    assert metrics.tvar(x, 0.99) == pytest.approx(100.0)  # 0 + E[X] / 0.01


def test_ruin_is_the_first_quarter_with_a_gap():
    gap = np.array([[0, 0, 5, 0], [0, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 2]], dtype=float)
    assert metrics.ruin_probability(gap) == 0.75
    assert list(metrics.ruin_by_quarter(gap)) == [0.25, 0.25, 0.5, 0.75]


def test_yearly_sums_handle_a_short_last_year():
    x = np.arange(6, dtype=float)[None, :]
    assert metrics.yearly_sums(x).tolist() == [[6.0, 9.0]]

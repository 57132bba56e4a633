"""Reverse sensitivity by reweighting (issue 28, engine.analysis.stress_weights): the
KL-optimal weights of SWIM's theorems, reproduced.

A normal output stressed in its mean: the weights are an exponential tilt whose parameter
is ``θ = (m − μ) / σ²`` for the normal law (the sample's θ within its sampling error of it);
a VaR stress: the weights take two values (piecewise constant); every stressed statistic
equals its target to 1e-6, and the weights average 1.
"""

import numpy as np
import pytest

from engine.analysis import stress_weights as S
from engine.analysis import weighted as W

N = 20_000
MU, SIGMA = 10.0, 2.0


def normal_sample(seed=3):
    return np.random.default_rng(seed).normal(MU, SIGMA, N)


def test_a_mean_stress_of_a_normal_output_is_the_closed_form_tilt():
    y = normal_sample()
    target = y.mean() + 0.5
    out = S.stress_mean(y, np.ones(N), target)
    assert abs(out.weights.mean() - 1.0) < 1e-12
    assert abs(np.mean(out.weights * y) - target) < 1e-6
    # an exponential tilt: log w is linear in y with slope θ
    slope = np.polyfit(y, np.log(out.weights), 1)[0]
    assert np.isclose(slope, out.theta, rtol=1e-9)
    # θ = (m − μ) / σ² for the normal law; the sample's θ is within a few of its s.e.
    # (θ̂ ≈ shift / s²: relative s.e. of s² is √(2 / N))
    exact = 0.5 / y.var()
    assert abs(out.theta - exact) < 4 * exact * np.sqrt(2.0 / N) + 1e-3 * exact
    assert abs(out.theta - 0.5 / SIGMA ** 2) < 4 * (0.5 / SIGMA ** 2) * np.sqrt(2.0 / N)


def test_a_var_stress_gives_two_weights_and_the_target_var():
    y = normal_sample(4)
    base_var = W.var(y, 0.95)
    out = S.stress_var(y, np.ones(N), 0.95, 1.1 * base_var)
    assert len(np.unique(np.round(out.weights, 12))) == 2
    assert abs(out.weights.mean() - 1.0) < 1e-12
    assert out.target >= 1.1 * base_var            # rounded up to a path's value
    assert abs(W.var(y, 0.95, out.weights) - out.target) < 1e-6
    assert out.achieved == out.target


def test_a_tvar_stress_keeps_the_var_and_meets_the_tvar():
    y = normal_sample(5)
    w = np.ones(N)
    base_var, base_tvar = W.var(y, 0.95), W.tvar(y, 0.95)
    out = S.stress_tvar(y, w, 0.95, 1.05 * base_tvar)
    assert abs(out.weights.mean() - 1.0) < 1e-12
    assert abs(W.var(y, 0.95, out.weights) - base_var) < 1e-9
    assert abs(W.tvar(y, 0.95, out.weights) - 1.05 * base_tvar) < 1e-6
    below = y <= base_var
    assert len(np.unique(np.round(out.weights[below], 12))) == 1


def test_a_probability_stress_is_piecewise_constant_and_exact():
    y = normal_sample(6)
    out = S.stress_probability(y, np.ones(N), 14.0, 0.05)
    assert abs(np.mean(out.weights * (y > 14.0)) - 0.05) < 1e-12
    assert len(np.unique(np.round(out.weights, 12))) == 2


def test_stresses_start_from_the_files_own_weights():
    """From tilted paths the base statistic is the weighted one, and the stressed weights
    still average 1 and meet the target."""
    rng = np.random.default_rng(7)
    shift = 1.0
    z = rng.normal(shift, 1.0, N)
    w = np.exp(-shift * z + 0.5 * shift ** 2)
    out = S.stress_mean(z, w, 0.3)
    assert abs(out.base - np.sum(w * z) / w.sum()) < 1e-12
    assert abs(np.mean(out.weights * z) - 0.3) < 1e-6
    assert abs(out.weights.mean() - 1.0) < 1e-12
    assert S.kl_divergence(out.weights, w) > 0


@pytest.mark.parametrize("call,what", [
    (lambda y: S.stress_var(y, np.ones(N), 0.95, y.max() + 1), "beyond the largest path"),
    (lambda y: S.stress_mean(y, np.ones(N), y.max() + 1), "beyond the paths' range"),
    (lambda y: S.stress_probability(y, np.ones(N), y.max() + 1, 0.1), "no path"),
    (lambda y: S.stress_probability(y, np.ones(N), 12.0, 1.5), "must be in (0, 1)"),
])
def test_an_infeasible_stress_says_so(call, what):
    with pytest.raises(S.StressError, match=what.replace("(", r"\(").replace(")", r"\)")):
        call(normal_sample())


# ------------------------------------------------------------------ the command

def test_the_command_writes_a_stressed_file_every_reader_reads(tmp_path, capsys):
    import xarray as xr

    from engine.analysis.stress_spec import parse_stress
    from tests.statistical.test_reverse_stress import RUINOUS
    from tests.statistical.test_tilted_runs import results, run

    out = results(tmp_path, "sys", 300, **RUINOUS)
    folder = tmp_path / "sw"
    stress = "mean cost_per_member year 1 +5%"
    assert run("stress-weights", out, "--stress", stress, "--out", folder) == 0
    text = capsys.readouterr().out
    assert "drivers under the stress" in text and "e+" not in text
    with xr.open_dataset(out, engine="h5netcdf") as base, \
            xr.open_dataset(folder / "stressed.h5", engine="h5netcdf") as ds:
        w = ds["weight"].values[0]
        assert abs(w.mean() - 1.0) < 1e-9
        y = parse_stress(stress, list(ds["quarter"].values)).output.values(ds, 0)
        target = 1.05 * y.mean()                    # the base file is plain
        assert abs(np.mean(w * y) - target) < 1e-6 * target
        assert np.array_equal(ds["members"].values, base["members"].values)
        assert ds.attrs["stress"] == stress
    assert run("summary", folder / "stressed.h5") == 0
    assert "stressed by `mutualsim stress-weights`" in capsys.readouterr().out
    for name in ("stress_weights.json", "moves.csv", "stress_weights.png"):
        assert (folder / name).is_file()


@pytest.mark.parametrize("stress,what", [
    ("median shortfall year 1 +10%", "not a stress"),
    ("mean premiums year 1 +10%", "unknown output"),
    ("mean members at 2031Q1 +10%", "quarter outside the run"),
    ("P shortfall year 1 > lots = 5%", "the threshold is not a number"),
    ("VaR99.5 cost_per_member year 1 +50%", "beyond the largest path"),
])
def test_a_bad_stress_is_one_line_and_nothing_written(tmp_path, capsys, stress, what):
    from tests.statistical.test_reverse_stress import RUINOUS
    from tests.statistical.test_tilted_runs import results, run

    out = results(tmp_path, "sys", 30, **RUINOUS)
    folder = tmp_path / "sw"
    assert run("stress-weights", out, "--stress", stress, "--out", folder) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and ": --stress: " in lines[0] and what in lines[0], lines
    assert not folder.exists()


def test_a_file_from_before_weights_is_stressed_too(tmp_path, capsys):
    """engine 0.1.0's file has no weight variable: the stressed copy gains one."""
    import xarray as xr

    from tests.conftest import ROOT
    from tests.statistical.test_tilted_runs import run

    old = ROOT / "tests" / "fixtures" / "results" / "engine_0.1.0.h5"
    with xr.open_dataset(old, engine="h5netcdf") as ds:
        assert "weight" not in ds
        last = str(ds["quarter"].values[-1])
    folder = tmp_path / "sw"
    assert run("stress-weights", old, "--stress", f"mean members at {last} -0.2%", "--out",
               folder) == 0
    with xr.open_dataset(folder / "stressed.h5", engine="h5netcdf") as ds:
        w = ds["weight"].values
        assert w.shape == (ds.sizes["scenario"], ds.sizes["path"])
        assert abs(w[0].mean() - 1.0) < 1e-9
    assert run("summary", folder / "stressed.h5") == 0
    assert "stressed" in capsys.readouterr().out

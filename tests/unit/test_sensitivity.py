"""Issue 27: Sobol sets and global sensitivity indices (`mutualsim sensitivity`)."""

import csv
import math
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from engine.analysis.sensitivity import OUTPUTS, SensitivityError, indices
from engine.config.sweeps import _sobol
from tests.conftest import load, scenario_dict, write_toml

# Ishigami (a = 7, b = 0.1) on [−π, π]³: the indices are known in closed form
ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x: np.ndarray) -> np.ndarray:
    return (np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2
            + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0]))


def set_of(x: np.ndarray, y: np.ndarray, method: str, samples: int = 0) -> xr.Dataset:
    """A dataset laid out as a results file's: ``members`` at the horizon is ``y`` on all four
    paths (no Monte Carlo noise), the swept values are scenario coordinates."""
    S = len(y)
    members = np.repeat(y[:, None, None], 4, axis=1)
    ds = xr.Dataset({"members": (("scenario", "path", "quarter"), members)},
                    coords={"scenario": [f"s[{i}]" for i in range(S)],
                            "quarter": ["2020Q1"],
                            **{f"x{j + 1}": ("scenario", x[:, j]) for j in range(x.shape[1])}})
    ds.attrs.update(swept_keys="x1,x2,x3", sweep_method=method, sweep_samples=samples,
                    sweep_second_order=0)
    return ds


def test_sobol_indices_of_the_ishigami_function_contain_the_exact_values():
    ranges = [("range", -math.pi, math.pi, "float")] * 3
    x = np.array(_sobol(ranges, 1024, False, seed=7))
    assert x.shape == (1024 * 5, 3)
    (result,) = indices(set_of(x, ishigami(x), "sobol", 1024), ["members_at_horizon_mean"])
    assert result.noise_share == 0.0
    got = {(r["key"], r["index"]): r for r in result.rows}
    for j in range(3):
        for kind, exact in (("S1", ISHIGAMI_S1[j]), ("ST", ISHIGAMI_ST[j])):
            r = got[(f"x{j + 1}", kind)]
            assert r["low"] <= exact <= r["high"], (j, kind, r)
            assert r["high"] - r["low"] < 0.2, (j, kind, r)


def test_given_data_indices_rank_a_latin_set_of_the_ishigami_function():
    # Given-data estimators bin the inputs, so with 1,000 scenarios they see x2's two
    # periods coarsely (S1 of x2 about 0.28 against 0.44); what they must show: x1 and x2
    # matter alone, x3 does not alone, yet δ (the whole law, not only the mean) sees it.
    rng = np.random.default_rng(3)
    x = rng.uniform(-math.pi, math.pi, size=(1000, 3))
    (result,) = indices(set_of(x, ishigami(x), "latin"), ["members_at_horizon_mean"])
    s1 = {r["key"]: r for r in result.rows if r["index"] == "S1"}
    delta = {r["key"]: r for r in result.rows if r["index"] == "delta"}
    assert s1["x1"]["low"] <= ISHIGAMI_S1[0] <= s1["x1"]["high"], s1["x1"]
    assert s1["x2"]["low"] > 0.15 and s1["x3"]["high"] < 0.05, s1
    assert delta["x3"]["low"] > 0.05, delta["x3"]


def sobol_platform(tmp_path, second_order=False, samples=8):
    data = scenario_dict(scenario__paths=6)
    data["sweep"] = {"method": "sobol", "samples": samples, "second_order": second_order,
                     "lapse.base_quarterly": {"low": 0.01, "high": 0.2},
                     "valuation.discount_rate": {"low": 0.02, "high": 0.2}}
    return data


def test_a_sobol_set_is_the_same_scenarios_on_every_run(tmp_path):
    a = load(tmp_path, sobol_platform(tmp_path))
    b = load(tmp_path, sobol_platform(tmp_path))
    assert len(a.scenarios) == 8 * (2 + 2)
    assert [s.swept for s in a.scenarios] == [s.swept for s in b.scenarios]
    second = load(tmp_path, sobol_platform(tmp_path, second_order=True))
    assert len(second.scenarios) == 8 * (2 * 2 + 2)
    assert a.method == "sobol" and a.samples == 8 and not a.second_order


def run_set(tmp_path, data, name="r.h5"):
    path = write_toml(tmp_path / "set.toml", data)
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--out", str(out),
                           "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return out


def sensitivity(*args):
    return subprocess.run([sys.executable, "-m", "engine", "sensitivity", *map(str, args)],
                          capture_output=True, text=True)


def test_the_command_writes_indices_and_a_key_that_cannot_move_members_gets_zero(tmp_path):
    results = run_set(tmp_path, sobol_platform(tmp_path))
    out = tmp_path / "sens"
    proc = sensitivity(results, "--out", out)
    assert proc.returncode == 0, proc.stderr
    with (out / "sensitivity.csv").open() as f:
        rows = list(csv.DictReader(f))
    import json
    written = json.loads((out / "sensitivity.json").read_text())
    assert [o["output"] for o in written["outputs"]] == list(OUTPUTS)
    # an output that no scenario moves (no path is ruined here) has a note, not indices
    for o in written["outputs"]:
        assert o["indices"] or "does not vary" in o["note"], o
    assert "members_at_horizon_mean" in {r["output"] for r in rows}
    assert {r["index"] for r in rows} == {"S1", "ST"}
    # the discount rate cannot move members: on common random numbers its total index is 0
    total = [r for r in rows if r["output"] == "members_at_horizon_mean"
             and r["key"] == "valuation.discount_rate" and r["index"] == "ST"]
    assert float(total[0]["low_95"]) <= 0.0 <= float(total[0]["high_95"])
    assert (out / "sensitivity_members_at_horizon_mean.png").stat().st_size > 0
    assert "first-order" in proc.stdout and "total" in proc.stdout
    # capital of a chosen projection year; a year the run does not have is one line
    year = sensitivity(results, "--out", tmp_path / "year", "--output", "capital_995_year_2")
    assert year.returncode == 0, year.stderr
    beyond = sensitivity(results, "--out", tmp_path / "beyond", "--output",
                         "capital_995_year_40")
    assert beyond.returncode == 2 and "capital_995_year_40" in beyond.stderr
    assert not (tmp_path / "beyond").exists()


@pytest.mark.parametrize(("sweep", "key", "got"), [
    ({"method": "sobol", "samples": 6, "lapse.base_quarterly": {"low": 0.01, "high": 0.2}},
     "sweep.samples", "6"),
    ({"method": "sobol", "samples": 4, "lapse.base_quarterly": [0.01, 0.2]},
     "sweep.lapse.base_quarterly", "0.01"),
    ({"method": "latin", "samples": 4, "second_order": True,
      "lapse.base_quarterly": {"low": 0.01, "high": 0.2}}, "sweep.second_order", "True"),
    ({"method": "sobol", "samples": 4, "lapse.base_quarterly": {"low": 0.2, "high": 0.2}},
     "sweep.lapse.base_quarterly", "0.2"),
])
def test_bad_sobol_sweeps_are_one_line(tmp_path, sweep, key, got):
    data = scenario_dict()
    data["sweep"] = sweep
    path = write_toml(tmp_path / "bad.toml", data)
    proc = subprocess.run([sys.executable, "-m", "engine", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and got in lines[0], lines


def test_sensitivity_refuses_one_scenario_a_single_value_and_an_unknown_output(tmp_path):
    single = run_set(tmp_path, scenario_dict(), "one.h5")
    grid = scenario_dict()
    grid["sweep"] = {"lapse.base_quarterly": [0.02], "benefits.mild_share": [0.1, 0.2]}
    flat = run_set(tmp_path, grid, "flat.h5")
    for results, args, fragment in ((single, (), "scenario"),
                                    (flat, (), "lapse.base_quarterly"),
                                    (flat, ("--output", "nonsense"), "nonsense")):
        out = tmp_path / f"sens_{results.stem}_{len(args)}"
        proc = sensitivity(results, "--out", out, *args)
        assert proc.returncode == 2, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and str(results) in lines[0] and fragment in lines[0], lines
        assert not out.exists()


def test_an_output_that_never_varies_says_so():
    x = np.column_stack([np.linspace(0, 1, 8)] * 3)
    (result,) = indices(set_of(x, np.ones(8), "latin"), ["members_at_horizon_mean"])
    assert not result.rows and "does not vary" in result.note
    with pytest.raises(SensitivityError):
        indices(set_of(x, np.ones(8), "latin"), ["value"])


def noisy_set(noise: np.ndarray, f: np.ndarray, x: np.ndarray) -> xr.Dataset:
    """``members`` at the horizon ``f(x_s) + noise[s, p]`` on every path ``p``."""
    ds = set_of(x, f, "latin")
    members = f[:, None, None] + noise[:, :, None]
    return ds.assign(members=(("scenario", "path", "quarter"), members))


def test_the_noise_share_counts_only_noise_that_differs_between_scenarios():
    rng = np.random.default_rng(11)
    S, P, sigma = 400, 40, 2.0
    x = rng.uniform(0, 1, size=(S, 3))
    f = 3.0 * x[:, 0]
    # independent paths: each scenario's mean carries noise of variance σ²/P
    (own,) = indices(noisy_set(rng.normal(0, sigma, (S, P)), f, x),
                     ["members_at_horizon_mean"], with_delta=False)
    exact = sigma ** 2 / P / own.variance
    assert abs(own.noise_share - exact) < 4 * math.sqrt(2 / (S - 1)) * exact
    # common random numbers: path p's noise is the same in every scenario, and moves every
    # scenario's mean alike: none of it is in the variance across scenarios
    common = np.broadcast_to(rng.normal(0, sigma, P), (S, P))
    (shared,) = indices(noisy_set(common, f, x), ["members_at_horizon_mean"],
                        with_delta=False)
    assert shared.noise_share < 1e-12

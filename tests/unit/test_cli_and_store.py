"""The command line end to end on a small scenario: results, summary, plots, bad input."""

import json
import os
import sys

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.run import plans, simulate
from tests.conftest import scenario_dict, write_toml
from tests.contract import contract_problems


@pytest.fixture
def scenario_file(tmp_path):
    return write_toml(tmp_path / "small.toml", scenario_dict())


def run(*args) -> int:
    return cli.main([str(a) for a in args])


def test_run_writes_a_contract_file(tmp_path, scenario_file, capsys):
    out = tmp_path / "r.h5"
    assert run("run", scenario_file, "--out", out, "--paths", 12, "--chunk", 5, "--quiet") == 0
    assert out.is_file() and not (tmp_path / "r.h5.part").exists()
    assert contract_problems(out) == []
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.sizes["path"] == 12 and ds.sizes["quarter"] == 6
        assert list(ds["quarter"].values) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4",
                                              "2021Q1", "2021Q2"]
        assert ds.attrs["scenario_toml"] == scenario_file.read_text()
        assert int(ds.attrs["seed"]) == 7
        assert ds.attrs["generator"] == "philox4x32-10"


def test_seed_and_paths_override_the_file(tmp_path, scenario_file):
    out = tmp_path / "r.h5"
    assert run("run", scenario_file, "--out", out, "--paths", 3, "--seed", 2**63 + 1,
               "--quiet") == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert int(ds.attrs["seed"]) == 2**63 + 1 and ds.sizes["path"] == 3


def test_summary_json_has_the_contract_keys(tmp_path, scenario_file, capsys):
    out = tmp_path / "r.h5"
    run("run", scenario_file, "--out", out, "--paths", 10, "--quiet")
    capsys.readouterr()
    assert run("summary", out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("ruin_probability", "shortfall_var_995", "shortfall_tvar_995",
                "cost_per_member_quantiles", "members_quantiles", "claims_quantiles"):
        assert "small" in summary[key], key
    assert len(summary["members_quantiles"]["small"]["0.5"]) == 6
    assert run("summary", out) == 0
    assert "scenario small" in capsys.readouterr().out


def test_plot_writes_pngs(tmp_path, scenario_file, capsys):
    out = tmp_path / "r.h5"
    run("run", scenario_file, "--out", out, "--paths", 10, "--quiet")
    assert run("plot", out, "--out", tmp_path / "plots") == 0
    names = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    for var in ("members", "claims", "cost_per_member", "reserve", "shortfall_year1"):
        assert f"small_{var}.png" in names
    assert all((tmp_path / "plots" / n).read_bytes()[:4] == b"\x89PNG" for n in names)


def test_results_folder_must_exist(tmp_path, scenario_file, capsys):
    out = tmp_path / "missing" / "r.h5"
    assert run("run", scenario_file, "--out", out, "--quiet") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "folder does not exist" in err[0] and str(out) in err[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs a read-only /proc")
def test_results_folder_must_be_writable(scenario_file, capsys):
    assert run("run", scenario_file, "--out", "/proc/mutualsim-test.h5", "--quiet") == 2
    assert "folder is not writable" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_results_folder_without_permission(tmp_path, scenario_file, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert run("run", scenario_file, "--out", locked / "r.h5", "--quiet") == 2


def test_bad_scenario_writes_nothing(tmp_path, capsys):
    bad = write_toml(tmp_path / "bad.toml", scenario_dict(lapse__base_quarterly=3.0))
    out = tmp_path / "r.h5"
    assert run("run", bad, "--out", out, "--quiet") == 2
    assert not out.exists() and not (tmp_path / "r.h5.part").exists()
    err = capsys.readouterr().err
    assert err.strip() == f"{bad}: lapse.base_quarterly: must be in [0, 1] (got 3.0)"


@pytest.mark.parametrize("args", [["--paths", "0"], ["--chunk", "0"], ["--seed", "-1"],
                                  ["--backend", "cuda"]])
def test_bad_options_exit_2(scenario_file, args, capsys):
    with pytest.raises(SystemExit) as info:
        run("run", scenario_file, *args)
    assert info.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_ctrl_c_leaves_no_file(tmp_path, scenario_file, monkeypatch, capsys):
    real = plans.simulate_plans
    calls = []

    def interrupted(*a, **k):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(plans, "simulate_plans", interrupted)
    out = tmp_path / "r.h5"
    assert run("run", scenario_file, "--out", out, "--paths", 10, "--chunk", 4,
               "--quiet") == 130
    assert not out.exists()
    # What was finished stays, marked, for --resume.
    with xr.open_dataset(tmp_path / "r.h5.part", engine="h5netcdf") as ds:
        assert ds["chunk_done"].values.tolist() == [[1, 0, 0]]
    assert "--resume" in capsys.readouterr().err


def test_validate_exit_status(tmp_path, scenario_file, capsys):
    bad = write_toml(tmp_path / "bad.toml", scenario_dict(population__age_min=99))
    assert run("validate", scenario_file) == 0
    assert run("validate", scenario_file, bad) == 2
    captured = capsys.readouterr()
    assert "ok" in captured.out and "population.age_min" in captured.err


def test_summary_of_a_file_that_is_not_ours(tmp_path, capsys):
    other = tmp_path / "x.h5"
    other.write_bytes(b"not hdf5")
    assert run("summary", other) == 2
    assert run("summary", tmp_path / "none.h5") == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and all(str(tmp_path) in line for line in lines)


def test_results_round_trip(tmp_path, scenario_file):
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs

    out = tmp_path / "r.h5"
    run("run", scenario_file, "--out", out, "--paths", 6, "--chunk", 4, "--quiet")
    direct = simulate.simulate_paths(build_inputs(load_scenario_set(scenario_file).base), 7,
                                     0, 6)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        for name, values in direct.items():
            assert np.array_equal(ds[name].values[0], values), name


@pytest.mark.parametrize("reserve,cap,words", [
    (1e12, None, "0 of 50 paths, below 5.82% (95%)"),      # 1 − 0.05^(1/50)
    (0.0, 0.0, "50 of 50 paths, above 94.18% (95%)"),      # a zero cap: every path short
])
def test_certain_and_impossible_ruin_get_exact_bounds(tmp_path, capsys, reserve, cap, words):
    changes = {"reserve__initial": reserve}
    if cap is not None:
        changes["sharing__cap_per_quarter"] = cap
    path = write_toml(tmp_path / "s.toml", scenario_dict(**changes))
    out = tmp_path / "r.h5"
    assert run("run", path, "--out", out, "--paths", 50, "--quiet") == 0
    capsys.readouterr()
    assert run("summary", out, "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["ruin_probability_text"]["small"] == words
    lo, hi = summary["ruin_probability_interval"]["small"]
    assert (lo, hi) == ((0.0, pytest.approx(1 - 0.05 ** (1 / 50))) if reserve
                        else (pytest.approx(0.05 ** (1 / 50)), 1.0))
    assert run("summary", out) == 0
    text = capsys.readouterr().out
    assert words in text and "± 0" not in text and "±0.0000" not in text

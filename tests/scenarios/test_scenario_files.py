"""Every scenario file shipped validates, runs 20 paths and round-trips through HDF5."""

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.config.scenario import load_scenario_set
from engine.run.plans import build_run_inputs, simulate_plans
from engine.run.runner import tilted_set
from engine.run.simulate import scenario_seeds
from tests.conftest import SCENARIOS
from tests.contract import contract_problems

# sector.toml lists platforms, not a scenario (tests/unit/test_sector.py)
FILES = sorted(p for p in SCENARIOS.rglob("*.toml") if p.name != "sector.toml")


def test_there_are_scenarios():
    assert {"xianghubao.toml", "emutual.toml"} <= {f.name for f in FILES}


# The sector's platforms are sets of ten parameter draws: their round trip is slow (CI runs
# it; their golden checksums pin their numbers, tests/unit/test_sector.py loads them).
# A study of hundreds of scenarios (a Sobol set) takes minutes at 20 paths each: CI runs it.
LARGE = {"sobol_capital.toml"}
ROUND_TRIP = [pytest.param(p, marks=pytest.mark.slow)
              if p.parent.name == "sector" or p.name in LARGE else p for p in FILES]


@pytest.mark.parametrize("path", ROUND_TRIP, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_scenario_runs_and_round_trips(path, tmp_path, capsys):
    assert cli.main(["validate", str(path)]) == 0
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(path), "--paths", "20", "--chunk", "8", "--out", str(out),
                     "--quiet"]) == 0
    assert contract_problems(out) == []
    ss = load_scenario_set(path)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert [str(s) for s in ds["scenario"].values] == [s.name for s in ss.scenarios]
        assert ds.attrs["scenario_toml"] == ss.text
        if "extends" not in path.read_text(encoding="utf-8"):
            assert ss.text == path.read_text(encoding="utf-8")
        # a set with independent streams draws scenario i from its own seed; a [tail]
        # target's set is run with the tilt its pilot chooses (a pure function of the seed)
        seeds = scenario_seeds(ss.base.scenario.seed, len(ss.scenarios), ss.streams)
        tilted, _ = tilted_set(ss, ss.base.scenario.seed, "numba")
        for i, scenario in enumerate(tilted.scenarios[:2]):
            direct = simulate_plans(build_run_inputs(scenario), seeds[i], 0, 20)
            for name, values in direct.items():
                assert np.array_equal(ds[name].values[i], values, equal_nan=True), name
    assert cli.main(["summary", str(out), "--json"]) == 0



STRESS = sorted((SCENARIOS / "stress").glob("*.toml"))


def test_the_stress_library_is_there():
    names = {f.stem for f in STRESS}
    assert {"incidence_shock", "spiral", "stop_joins", "closure_runoff", "fee_and_cap",
            "benefit_inflation", "waiting_period"} <= names
    for f in STRESS:
        head = f.read_text(encoding="utf-8").splitlines()[0]
        assert head.startswith("# "), f"{f.name} should open with what it represents"


# the Latin set's 32 scenarios take half a minute to compare and report: CI runs them (and
# tests/unit/test_compare_sets.py a large set in make test)
COMPARED_IN_CI = LARGE | {"sensitivity_latin.toml"}


@pytest.mark.parametrize("path", [pytest.param(p, marks=pytest.mark.slow)
                                  if p.name in COMPARED_IN_CI else p for p in STRESS],
                         ids=lambda p: p.stem)
def test_compare_and_report_on_each_stress_set(path, tmp_path, capsys):
    import html

    out = tmp_path / "r.h5"
    assert cli.main(["run", str(path), "--paths", "20", "--out", str(out), "--quiet"]) == 0
    assert cli.main(["compare", str(out), "--out", str(tmp_path / "cmp")]) == 0
    table = (tmp_path / "cmp" / "compare.csv").read_text().splitlines()
    names = [s.name for s in load_scenario_set(path).scenarios]
    assert len(table) == 1 + len(names)
    # one number per scenario against an independent computation from the file itself
    import csv

    import h5py
    import numpy as np

    rows = list(csv.DictReader(table))
    with h5py.File(out, "r") as f:
        members = f["members"][...]                         # (scenario, path, quarter)
        weight = f["weight"][...] if "weight" in f else np.ones(members.shape[:2])
    for s, row in enumerate(rows):
        # the lower median (the engine's quantiles are inf{x : F_n(x) ≥ α}), of the paths
        # weighted by their likelihood ratios where a [tail] tilt drew them
        order = np.argsort(members[s, :, -1], kind="stable")
        cdf = np.cumsum(weight[s][order]) / weight[s].sum()
        expected = float(members[s, order[np.searchsorted(cdf, 0.5)], -1])
        got = float(row["members_at_horizon_median"])
        # compare.csv writes 6 significant digits
        assert abs(got - expected) <= 5e-6 * max(1.0, expected), (row["scenario"], got, expected)
    if len(names) > 1:
        assert (tmp_path / "cmp" / "tornado_capital_995_worst_year.png").is_file()
    assert cli.main(["report", str(out), "--out", str(tmp_path / "report.html")]) == 0
    page = (tmp_path / "report.html").read_text()
    # no external links (base64 images never hold a colon, so "http:" cannot occur by chance)
    assert page.startswith("<!doctype html>") and "http:" not in page.split("<pre>")[0]
    assert "https:" not in page.split("<pre>")[0]
    for name in names:
        assert html.escape(name) in page

"""Every scenario file shipped validates, runs 20 paths and round-trips through HDF5."""

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.inputs import build_inputs
from engine.scenario import load_scenario_set
from engine.simulate import simulate_paths
from tests.conftest import SCENARIOS
from tests.contract import contract_problems

FILES = sorted(SCENARIOS.rglob("*.toml"))


def test_there_are_scenarios():
    assert {"xianghubao.toml", "emutual.toml"} <= {f.name for f in FILES}


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_scenario_runs_and_round_trips(path, tmp_path, capsys):
    assert cli.main(["validate", str(path)]) == 0
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(path), "--paths", "20", "--chunk", "8", "--out", str(out),
                     "--quiet"]) == 0
    assert contract_problems(out) == []
    ss = load_scenario_set(path)
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert [str(s) for s in ds["scenario"].values] == [s.name for s in ss.scenarios]
        assert ds.attrs["scenario_toml"] == path.read_text(encoding="utf-8")
        for i, scenario in enumerate(ss.scenarios[:2]):
            direct = simulate_paths(build_inputs(scenario), scenario.scenario.seed, 0, 20)
            for name, values in direct.items():
                assert np.array_equal(ds[name].values[i], values, equal_nan=True), name
    assert cli.main(["summary", str(out), "--json"]) == 0


"""Scenario sets: grid sizes, zip, Latin hypercube strata, limits, common random numbers."""

import numpy as np
import pytest

from engine import cli
from engine.errors import ScenarioError
from tests.conftest import load, scenario_dict, write_toml


def with_sweep(base=None, **sweep):
    data = base or scenario_dict()
    data["sweep"] = sweep
    return data


def test_grid_is_the_cartesian_product(tmp_path):
    ss = load(tmp_path, with_sweep(**{"lapse.base_quarterly": [0.01, 0.02, 0.03],
                                      "sharing.fee_rate": [0.0, 0.08],
                                      "incidence.selection": [[0.5, 1.0], [1.0]]}))
    assert len(ss.scenarios) == 12
    combos = {(s.lapse.base_quarterly, s.sharing.fee_rate, tuple(s.incidence.selection))
              for s in ss.scenarios}
    assert len(combos) == 12                                  # table-valued key swept too


def test_zip_pairs_the_lists(tmp_path):
    ss = load(tmp_path, with_sweep(method="zip", **{"lapse.base_quarterly": [0.01, 0.02],
                                                    "sharing.fee_rate": [0.05, 0.1]}))
    assert [(s.lapse.base_quarterly, s.sharing.fee_rate) for s in ss.scenarios] == \
        [(0.01, 0.05), (0.02, 0.1)]


def test_latin_hypercube_uses_each_stratum_once(tmp_path):
    n = 25
    spec = {"lapse.cost_elasticity": {"low": 0.5, "high": 3.0},
            "benefits.waiting_quarters": {"low": 0, "high": 4},
            "sharing.shortfall": ["reserve", "haircut", "platform", "reserve", "haircut"]}
    base = scenario_dict(lapse__reference_cost=10.0)
    ss = load(tmp_path, with_sweep(base, method="latin", samples=n, **spec))
    assert len(ss.scenarios) == n
    eta = np.array([s.lapse.cost_elasticity for s in ss.scenarios])
    strata = np.floor((eta - 0.5) / 2.5 * n).astype(int)
    assert sorted(strata) == list(range(n))                   # one draw in each stratum
    waits = [s.benefits.waiting_quarters for s in ss.scenarios]
    assert sorted(set(waits)) == [0, 1, 2, 3, 4] and all(waits.count(w) == 5 for w in range(5))
    # Reproducible: the same file expands to the same set.
    again = load(tmp_path, with_sweep(scenario_dict(lapse__reference_cost=10.0),
                                       method="latin", samples=n, **spec), name="t2.toml")
    assert [s.lapse.cost_elasticity for s in again.scenarios] == list(eta)


@pytest.mark.parametrize("sweep,fragment", [
    ({"lapse.nonsense": [1]}, "no such key to sweep"),
    ({"lapse.base_quarterly": []}, "non-empty list"),
    ({"lapse.base_quarterly": [0.1, "x"]}, "must be a number"),
    ({"scenario.seed": [1, 2]}, "cannot be swept"),
    ({"method": "latin", "lapse.base_quarterly": {"low": 0.1}}, "samples"),
    ({"method": "latin", "samples": 3, "lapse.base_quarterly": {"low": 0.2, "high": 0.1}},
     "low < high"),
    ({"method": "zip", "lapse.base_quarterly": [0.1, 0.2], "sharing.fee_rate": [0.1]},
     "same length"),
    ({"method": "spiral"}, "must be one of grid, zip, latin"),
])
def test_bad_sweeps(tmp_path, sweep, fragment):
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, with_sweep(**sweep))
    assert any(fragment in str(p) for p in info.value.problems), info.value.problems


def test_large_sweeps_need_force(tmp_path, capsys):
    data = with_sweep(**{"lapse.base_quarterly": [i / 1000 for i in range(40)],
                         "sharing.fee_rate": [i / 100 for i in range(30)]})
    path = write_toml(tmp_path / "big.toml", data)
    assert cli.main(["validate", str(path)]) == 2
    assert "1200 scenarios, more than 1000: pass --force" in capsys.readouterr().err
    assert cli.main(["validate", str(path), "--force"]) == 0


def test_common_random_numbers_make_nearby_scenarios_comparable(tmp_path):
    """Incidence 5 % higher: on common random numbers the per-path difference of total
    claims has under 5 % of the variance it has between independent runs (measured: about
    0.2 %), and no path has fewer claims in the riskier scenario."""
    import tomllib

    from engine.config.scenario import scenario_set_from_dict
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths
    from tests.conftest import SCENARIOS

    raw = tomllib.loads((SCENARIOS / "xianghubao.toml").read_text())
    raw["scenario"]["quarters"] = 8
    raw.pop("precision")                       # its years are past an 8-quarter run
    selection = raw["incidence"]["selection"]
    raw["sweep"] = {"incidence.selection": [selection, [s * 1.05 for s in selection]]}
    ss = scenario_set_from_dict(raw, "x", "", SCENARIOS)
    low, high = (build_inputs(s) for s in ss.scenarios)
    paths = 300
    a = simulate_paths(low, 1, 0, paths)["claims"].sum(axis=1).astype(float)
    b = simulate_paths(high, 1, 0, paths)["claims"].sum(axis=1).astype(float)
    independent = simulate_paths(high, 2, 0, paths)["claims"].sum(axis=1).astype(float)
    fraction = np.var(b - a) / np.var(independent - a)
    assert fraction < 0.05, fraction
    assert np.all(b >= a)


@pytest.mark.parametrize("choice", ["common", "independent"])
def test_stream_choice_of_a_set(tmp_path, choice):
    """Two identical scenarios: on common streams their paths are equal, on independent
    streams each draws its own (paths not equal to scenario 0's), and the results file says
    which; a pooled summary clusters by path only for common streams."""
    import h5py

    from engine.analysis.summary import summarize
    from engine.store import open_results

    data = scenario_dict(scenario__paths=40)
    data["sweep"] = {"streams": choice, "method": "zip",
                     "lapse.base_quarterly": [0.03, 0.03, 0.03]}
    path = write_toml(tmp_path / "s.toml", data)
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    with h5py.File(out, "r") as f:
        claims = f["claims"][...]
        assert f.attrs["streams"] == choice
    same = [np.array_equal(claims[0], claims[s]) for s in (1, 2)]
    assert same == ([True, True] if choice == "common" else [False, False])
    with open_results(out) as ds:
        pooled = summarize(ds, pooled=True)
    name = pooled["scenarios"][0]
    effective = pooled["effective_paths"][name]
    if choice == "common":
        assert effective == pytest.approx(40, rel=0.03)   # three copies of the same 40 paths
    else:
        assert effective == pytest.approx(120, rel=0.5)


def test_differences_between_scenarios_get_paired_errors(tmp_path):
    """Incidence 5 % apart on common streams: the paired s.e. of the difference in cost per
    member is far below either scenario's own s.e. (and equals the s.d. of the per-path
    differences over √P); on independent streams it is about √2 times one scenario's."""
    import h5py

    from engine.analysis.compare import compare
    from engine.store import open_results

    errors = {}
    for choice in ("common", "independent"):
        data = scenario_dict(scenario__paths=60)
        data["sweep"] = {"streams": choice, "incidence.selection": [[0.5, 1.0], [0.525, 1.05]]}
        path = write_toml(tmp_path / f"{choice}.toml", data)
        out = tmp_path / f"{choice}.h5"
        assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 0
        with open_results(out) as ds:
            rows = compare(ds).rows
        errors[choice] = rows[1]["cost_per_member_year_mean_diff_se"]
        with h5py.File(out, "r") as f:
            cost = f["cost_per_member"][...]
            years = [str(q)[:4] for q in f["quarter"].asstr()[...]]
        per_path = np.mean([cost[:, :, [t for t, y in enumerate(years) if y == year]]
                            .sum(axis=2) for year in dict.fromkeys(years)], axis=0)  # (S, P)
        own = per_path[0].std(ddof=1) / np.sqrt(60)
        if choice == "common":
            d = per_path[1] - per_path[0]
            assert errors[choice] == pytest.approx(d.std(ddof=1) / np.sqrt(60))
            assert errors[choice] < 0.5 * own
        else:
            assert errors[choice] == pytest.approx(own * np.sqrt(2), rel=0.3)
        assert rows[0]["cost_per_member_year_mean_diff"] == 0.0
    assert errors["common"] < 0.5 * errors["independent"]

"""Runs that stop at a stated precision (``[precision]``, ``--precision``): a stopped run is
the fixed run of its paths bit for bit, resumes and clusters stop at the same count, a set on
independent streams stops each scenario on its own with masked paths every reader skips."""

import subprocess
import sys

import h5py
import numpy as np
import pytest

from engine import cli
from engine.analysis.precision import Target, estimate
from engine.analysis.summary import summarize
from engine.results_check import results_problems
from engine.run.precision import PrecisionOrder
from engine.run.simulate import Chunk
from engine.store import open_results
from engine.variables import WEIGHT
from tests.conftest import assert_one_line_error, scenario_dict, write_toml
from tests.unit.test_resume_and_identity import _interrupted, assert_same_data, data_of

QUARTERS = 8
CLAIMS_2_PERCENT = {"statistic": "mean", "variable": "claims", "year": 1, "relative_se": 0.02}


def precision_file(tmp_path, targets, sweep=None, min_paths=20, max_paths=400, name="p.toml"):
    data = scenario_dict(growth__dispersion=0.05, lapse__cost_elasticity=1.0,
                         lapse__reference_cost=20.0, scenario__quarters=QUARTERS,
                         growth__series=[3000.0] * QUARTERS)
    data["precision"] = {"targets": targets, "min_paths": min_paths, "max_paths": max_paths}
    if sweep:
        data["sweep"] = sweep
    return write_toml(tmp_path / name, data)


def run(*args) -> int:
    return cli.main([str(a) for a in args])


def used(path) -> list[int]:
    with h5py.File(path, "r") as f:
        return f["paths_used"][()].tolist()


def test_a_stopped_run_is_the_fixed_run_of_its_paths(tmp_path, capsys):
    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT])
    out = tmp_path / "p.h5"
    assert run("run", scenario, "--out", out, "--chunk", 10) == 0
    n = used(out)[0]
    assert 20 < n < 400 and n % 10 == 0, n     # checked chunk by chunk, past min_paths
    assert f"× {n} paths" in capsys.readouterr().out
    fixed = tmp_path / "f.h5"
    assert run("run", scenario, "--out", fixed, "--paths", n, "--chunk", 10, "--quiet") == 0
    assert_same_data(data_of(fixed), data_of(out))
    # the stopping rule: met at n, not at n − 10 (the same estimator on the first paths)
    with open_results(out) as ds:
        claims = ds["claims"].values[0][:, :4].sum(axis=1).astype(float)
        figures = summarize(ds)
    target = Target("mean", "claims", 1, None, None, None, 0.02, None)
    assert estimate(target, claims).met(target)
    assert not estimate(target, claims[:n - 10]).met(target)
    row, = figures["precision"]["small"]
    assert row["met"] and row["paths"] == n == figures["paths_used"]["small"]
    assert row["se"] == pytest.approx(claims.std(ddof=1) / np.sqrt(n), rel=1e-12)
    assert run("summary", out) == 0
    text = capsys.readouterr().out
    assert f"1 of 1 met with {n} paths" in text and "mean claims, year 1" in text


def test_a_target_never_met_stops_at_max_paths_and_says_so(tmp_path, capsys):
    scenario = precision_file(tmp_path, [dict(CLAIMS_2_PERCENT, relative_se=1e-6)],
                              max_paths=55)
    out = tmp_path / "p.h5"
    assert run("run", scenario, "--out", out, "--chunk", 10, "--quiet") == 0
    assert used(out) == [55]
    assert run("summary", out) == 0
    assert "0 of 1 met with 55 paths" in capsys.readouterr().out


def test_precision_on_the_command_line_replaces_the_table(tmp_path):
    scenario = precision_file(tmp_path, [dict(CLAIMS_2_PERCENT, relative_se=1e-6)])
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert run("run", scenario, "--out", a, "--chunk", 10, "--quiet", "--precision",
               "statistic=mean,variable=claims,year=1,relative_se=2%",
               "--precision", "min_paths=20,max_paths=400") == 0
    assert run("run", precision_file(tmp_path, [CLAIMS_2_PERCENT], name="q.toml"), "--out",
               b, "--chunk", 10, "--quiet") == 0
    assert used(a) == used(b)
    assert_same_data(data_of(a), data_of(b))


def test_resume_stops_at_the_same_count(tmp_path):
    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT])
    whole, out = tmp_path / "w.h5", tmp_path / "r.h5"
    assert run("run", scenario, "--out", whole, "--chunk", 10, "--quiet") == 0
    _interrupted(tmp_path, scenario, out, "--chunk", 10, after=3)
    assert run("run", scenario, "--out", out, "--resume", "--quiet") == 0
    assert used(out) == used(whole)
    assert_same_data(data_of(whole), data_of(out))


def test_chunks_computed_out_of_order_and_ahead_stop_at_the_same_count():
    """A cluster's order: chunks arrive in any order, some past the stop; the kept chunks
    and the stop are those of chunk-by-chunk decisions."""
    rng = np.random.default_rng(5)
    values = rng.lognormal(0.0, 1.0, size=(2, 1000))
    target = Target("mean", "claims", 1, None, None, None, 0.04, None)

    def data(c):
        x = values[c.scenario, c.start:c.start + c.count]
        return {"claims": np.column_stack([x, np.zeros((x.size, 3))]),
                WEIGHT: np.ones(x.size)}

    def stops(shuffled: bool, common: bool):
        order = PrecisionOrder(2, 1000, 25, 50, [[target], [target]], common)
        kept = []
        while True:
            batch = []
            while (c := order.next_chunk(ahead=6 if shuffled else 0)) is not None:
                batch.append(c)
            if not batch:
                break
            if shuffled:
                rng.shuffle(batch)
            for c in batch:
                kept += [k for k, _ in order.offer(c, data(c))]
        return order.paths_used().tolist(), sorted((k.scenario, k.index) for k in kept)

    for common in (True, False):
        plain = stops(False, common)
        assert stops(True, common) == plain
        assert plain[1] == [(s, k) for s in range(2) for k in range(plain[0][s] // 25)]
    assert len(set(stops(False, True)[0])) == 1      # common streams: one count


def test_independent_scenarios_stop_on_their_own_and_readers_skip_masked_paths(tmp_path,
                                                                              capsys):
    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT], sweep={
        "population.initial_members": [20000, 4000], "streams": "independent"})
    out = tmp_path / "p.h5"
    assert run("run", scenario, "--out", out, "--chunk", 10, "--quiet") == 0
    n_big, n_small = used(out)
    assert n_big < n_small, (n_big, n_small)      # the small pool's claims vary more
    assert results_problems(out) == []
    with h5py.File(out, "r") as f:
        assert f["members"].shape[1] == n_small
        assert np.all(f["members"][0, n_big:] == 0)
        assert np.all(np.isnan(f["cost_per_member"][0, n_big:]))
        assert np.all(f[WEIGHT][0, n_big:] == 0)
        assert np.all(f["chunk_done"][0, n_big // 10:] == 2)
    # scenario 0 reads exactly as the fixed run of its paths
    fixed = tmp_path / "f.h5"
    assert run("run", scenario, "--out", fixed, "--paths", n_big, "--chunk", 10,
               "--quiet") == 0
    with open_results(out) as ds, open_results(fixed) as ds_fixed:
        ragged, plain = summarize(ds), summarize(ds_fixed)
    name = ragged["scenarios"][0]
    for key in ("ruin_probability", "shortfall_var_995_by_year", "cost_per_member_quantiles",
                "mean", "platform_value", "risk", "precision", "paths_used"):
        assert ragged[key][name] == plain[key][name], key
    assert run("summary", out) == 0
    assert "nan" not in capsys.readouterr().out.lower()


@pytest.mark.parametrize("table, key, shown", [
    ({"targets": [{"statistic": "median", "relative_se": 0.1}]}, "statistic", "median"),
    ({"targets": [{"statistic": "var", "year": 1, "level": 1.5, "relative_se": 0.1}]},
     "level", "1.5"),
    ({"targets": [dict(CLAIMS_2_PERCENT, relative_se=0)]}, "relative_se", "0"),
    ({"targets": [CLAIMS_2_PERCENT], "min_paths": 500, "max_paths": 100}, "min_paths", "500"),
    ({"targets": [CLAIMS_2_PERCENT], "max_paths": 2 ** 33}, "max_paths", str(2 ** 33)),
    ({"targets": [dict(CLAIMS_2_PERCENT, year=9)]}, "year", "9"),
    ({"targets": [{"statistic": "ruin", "by": "2031Q1", "absolute_se": 0.01}]}, "by",
     "2031Q1"),
])
def test_bad_precision_is_one_line_and_writes_nothing(tmp_path, table, key, shown):
    data = scenario_dict(scenario__quarters=QUARTERS, growth__series=[3000.0] * QUARTERS)
    data["precision"] = table
    scenario = write_toml(tmp_path / "bad.toml", data)
    out = tmp_path / "bad.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(scenario), "--out",
                           str(out)], capture_output=True, text=True)
    where = key if key in ("min_paths", "max_paths") else f"targets[0].{key}"
    assert_one_line_error(proc, str(scenario), f"precision.{where}", shown)
    assert not out.exists() and not list(tmp_path.glob("bad.h5*"))


@pytest.mark.parametrize("spec, key", [
    ("statistic=tvar,year=1,level=0,relative_se=5%", "precision.targets[0].level"),
    ("statistic=mean,year=1,absolute_se=-1", "precision.targets[0].absolute_se"),
    ("statistic=mode,relative_se=1%", "precision.targets[0].statistic"),
])
def test_bad_precision_option_is_one_line(tmp_path, spec, key):
    data = scenario_dict(scenario__quarters=QUARTERS, growth__series=[3000.0] * QUARTERS)
    scenario = write_toml(tmp_path / "s.toml", data)
    out = tmp_path / "s.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(scenario), "--out",
                           str(out), "--precision", spec], capture_output=True, text=True)
    assert_one_line_error(proc, "--precision", key)
    assert not out.exists()


def test_a_chunk_order_keeps_chunks_in_order():
    order = PrecisionOrder(1, 100, 10, 10, [[Target("mean", "claims", 1, None, None, None,
                                                    1e-9, None)]], True)
    first, second = order.next_chunk(ahead=1), order.next_chunk(ahead=1)
    assert (first.index, second.index) == (0, 1)
    x = {"claims": np.arange(40.0).reshape(10, 4), WEIGHT: np.ones(10)}
    assert order.offer(second, x) == []             # waits for chunk 0
    kept = order.offer(first, x)
    assert [c.index for c, _ in kept] == [0, 1]
    assert isinstance(kept[0][0], Chunk)


def test_precision_and_a_fixed_count_together_are_refused(tmp_path):
    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT])
    out = tmp_path / "both.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(scenario), "--out",
                           str(out), "--paths", "20", "--precision",
                           "statistic=mean,variable=claims,year=1,relative_se=2%"],
                          capture_output=True, text=True)
    assert_one_line_error(proc, "--precision", "--paths")
    assert not out.exists()


def test_a_fixed_count_overrides_the_files_precision(tmp_path):
    """``--paths N`` runs N paths whatever the ``[precision]`` table asks; the file then
    records no precision."""
    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT])
    out = tmp_path / "fixed.h5"
    assert run("run", scenario, "--out", out, "--paths", 30, "--chunk", 10, "--quiet") == 0
    assert used(out) == [30]
    with h5py.File(out, "r") as f:
        assert f.attrs["precision"] in ("", b"")
        assert np.asarray(f.attrs["planned_paths"]).ravel()[0] == 30

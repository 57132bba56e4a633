"""Chunk size, backend and interruption do not change a run's results; bad resumes exit 2."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.run.journal import journal_dir
from engine.variables import VARIABLES
from tests.conftest import SCENARIOS, scenario_dict, write_toml

ROOT = SCENARIOS.parent


def data_of(path) -> dict[str, np.ndarray]:
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return {v.name: ds[v.name].values.copy() for v in VARIABLES}


def assert_same_data(a, b):
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


def run(*args) -> int:
    return cli.main([str(a) for a in args])


@pytest.fixture
def sweep_file(tmp_path):
    data = scenario_dict(growth__dispersion=0.05, lapse__cost_elasticity=1.0,
                         lapse__reference_cost=20.0)
    data["sweep"] = {"lapse.base_quarterly": [0.02, 0.05]}
    return write_toml(tmp_path / "sweep.toml", data)


def test_chunk_size_and_backend_do_not_change_the_file(tmp_path, sweep_file):
    files = []
    for i, (backend, chunk) in enumerate([("numba", 7), ("numba", 50), ("numpy", 13),
                                          ("numba", 1)]):
        out = tmp_path / f"r{i}.h5"
        assert run("run", sweep_file, "--out", out, "--paths", 50, "--chunk", chunk,
                   "--backend", backend, "--quiet") == 0
        files.append(data_of(out))
    for other in files[1:]:
        assert_same_data(files[0], other)


def test_threads_option(tmp_path, sweep_file, capsys):
    a, b = tmp_path / "a.h5", tmp_path / "b.h5"
    assert run("run", sweep_file, "--out", a, "--paths", 30, "--threads", 1, "--quiet") == 0
    assert run("run", sweep_file, "--out", b, "--paths", 30, "--quiet") == 0
    assert_same_data(data_of(a), data_of(b))
    assert run("run", sweep_file, "--out", a, "--threads", 10_000, "--quiet") == 2
    assert "--threads" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        run("run", sweep_file, "--threads", 0)
    assert info.value.code == 2


def _start(scenario, out, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "run", str(scenario), "--out",
                             str(out), "--quiet", *map(str, extra)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_chunks(out, count, proc, timeout=120.0):
    folder = journal_dir(out)
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if len(list(folder.glob("*.h5"))) >= count:
            return
        time.sleep(0.01)


@pytest.mark.slow
def test_sigkill_at_any_point_then_resume_gives_the_uninterrupted_data(tmp_path):
    scenario = SCENARIOS / "xianghubao.toml"
    args = ("--paths", 600, "--chunk", 25)
    whole = tmp_path / "whole.h5"
    assert run("run", scenario, "--out", whole, *args, "--quiet") == 0
    expected = data_of(whole)
    out = tmp_path / "killed.h5"
    # Kill at several points: before any chunk, after some, mid-run after a random pause.
    rng = np.random.default_rng(11)
    for first, chunks in enumerate((0, 3, 9, 15)):
        proc = _start(scenario, out, *args, *(["--resume"] if first else []))
        _wait_for_chunks(out, chunks, proc)
        time.sleep(float(rng.uniform(0, 0.05)))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert not out.exists() or proc.returncode == 0
    proc = _start(scenario, out, *args, "--resume")
    assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()
    assert out.exists() and not journal_dir(out).exists()
    assert not out.with_name(out.name + ".part").exists()
    assert_same_data(expected, data_of(out))
    # Resuming a finished run does nothing.
    assert run("run", scenario, "--out", out, *args, "--resume", "--quiet") == 0


def _interrupted(tmp_path, scenario, out, *args, after: int = 1):
    """A run stopped by Ctrl-C after its first ``after`` chunks, leaving a journal."""
    from engine.run import plans

    real, calls = plans.simulate_plans, []

    def stop_second(*a, **k):
        calls.append(1)
        if len(calls) == after + 1:
            raise KeyboardInterrupt
        return real(*a, **k)

    plans.simulate_plans = stop_second
    try:
        assert run("run", scenario, "--out", out, *args, "--quiet") == 130
    finally:
        plans.simulate_plans = real
    assert journal_dir(out).is_dir() and not out.exists()


def _snapshot(folder):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.mark.slow
def test_ctrl_c_then_resume(tmp_path, sweep_file):
    out = tmp_path / "r.h5"
    _interrupted(tmp_path, sweep_file, out, "--paths", 40, "--chunk", 10)
    assert run("run", sweep_file, "--out", out, "--paths", 40, "--resume", "--quiet") == 0
    whole = tmp_path / "w.h5"
    run("run", sweep_file, "--out", whole, "--paths", 40, "--chunk", 10, "--quiet")
    assert_same_data(data_of(whole), data_of(out))


@pytest.mark.parametrize("change", ["seed", "paths", "scenario", "engine_version"])
def test_resume_of_another_run_exits_2_and_touches_nothing(tmp_path, sweep_file, change,
                                                            capsys):
    out = tmp_path / "r.h5"
    _interrupted(tmp_path, sweep_file, out, "--paths", 40, "--chunk", 10)
    args = ["--paths", 40]
    scenario = sweep_file
    if change == "seed":
        args += ["--seed", 12345]
    elif change == "paths":
        args = ["--paths", 41]
    elif change == "scenario":
        scenario = write_toml(tmp_path / "other.toml", scenario_dict(lapse__base_quarterly=0.1))
    else:
        manifest = journal_dir(out) / "manifest.json"
        data = json.loads(manifest.read_text())
        data["engine_version"] = "0.0.0-other"
        manifest.write_text(json.dumps(data))
    before = _snapshot(tmp_path)
    capsys.readouterr()
    assert run("run", scenario, "--out", out, *args, "--resume", "--quiet") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--resume" in err[0] and "another run" in err[0], err
    assert _snapshot(tmp_path) == before


def test_resume_on_a_file_that_is_not_ours(tmp_path, sweep_file, capsys):
    out = tmp_path / "r.h5"
    out.write_bytes(b"somebody else's data")
    before = _snapshot(tmp_path)
    assert run("run", sweep_file, "--out", out, "--resume", "--quiet") == 2
    assert "not a mutualsim results file" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before


def test_resume_on_results_of_another_scenario(tmp_path, sweep_file, capsys):
    out = tmp_path / "r.h5"
    other = write_toml(tmp_path / "other.toml", scenario_dict())
    assert run("run", other, "--out", out, "--paths", 10, "--quiet") == 0
    before = _snapshot(tmp_path)
    assert run("run", sweep_file, "--out", out, "--paths", 10, "--resume", "--quiet") == 2
    assert "another run" in capsys.readouterr().err
    assert _snapshot(tmp_path) == before

"""Runs on a Dask cluster of local processes: identical results, lost workers, resume."""

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
from tests.conftest import ROOT, SCENARIOS, scenario_dict, write_toml

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")


def data_of(path):
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return {v.name: ds[v.name].values.copy() for v in VARIABLES}


def assert_same(a, b):
    for name in a:
        assert np.array_equal(a[name], b[name], equal_nan=True), name


@pytest.fixture
def sweep_file(tmp_path):
    data = scenario_dict(growth__dispersion=0.05)
    data["sweep"] = {"lapse.base_quarterly": [0.02, 0.05]}
    return write_toml(tmp_path / "sweep.toml", data)


def test_local_cluster_run_equals_a_single_process_run(tmp_path, sweep_file):
    single, cluster = tmp_path / "single.h5", tmp_path / "cluster.h5"
    assert cli.main(["run", str(sweep_file), "--paths", "60", "--chunk", "7", "--out",
                     str(single), "--quiet"]) == 0
    assert cli.main(["run", str(sweep_file), "--paths", "60", "--chunk", "7", "--out",
                     str(cluster), "--scheduler", "local:2", "--quiet"]) == 0
    assert_same(data_of(single), data_of(cluster))
    with xr.open_dataset(cluster, engine="h5netcdf") as ds:
        assert ds.attrs["scheduler"] == "local:2"
        assert ds["chunk_done"].values.all()


def test_a_precision_run_on_a_cluster_stops_at_the_counts_of_one_process(tmp_path):
    """Chunks computed ahead and in any order on the workers: the same kept paths, the same
    stop per scenario (a set on independent streams, so each stops on its own)."""
    from tests.unit.test_precision_run import CLAIMS_2_PERCENT, precision_file

    scenario = precision_file(tmp_path, [CLAIMS_2_PERCENT], sweep={
        "population.initial_members": [20000, 4000], "streams": "independent"})
    single, cluster = tmp_path / "single.h5", tmp_path / "cluster.h5"
    assert cli.main(["run", str(scenario), "--chunk", "10", "--out", str(single),
                     "--quiet"]) == 0
    assert cli.main(["run", str(scenario), "--chunk", "10", "--out", str(cluster),
                     "--scheduler", "local:2", "--quiet"]) == 0
    assert_same(data_of(single), data_of(cluster))
    with xr.open_dataset(single, engine="h5netcdf") as a, \
            xr.open_dataset(cluster, engine="h5netcdf") as b:
        assert a["paths_used"].values.tolist() == b["paths_used"].values.tolist()
        assert len(set(a["paths_used"].values.tolist())) == 2


def _run_cli(*args):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "engine.cli", "run", *map(str, args),
                             "--quiet"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def _wait_for_chunks(out, count, proc, timeout=180.0):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if len(list(journal_dir(out).glob("*.h5"))) >= count:
            return True
        time.sleep(0.02)
    return False


XHB_ARGS = ("--paths", 400, "--chunk", 20)


def test_a_worker_killed_mid_run_loses_nothing(tmp_path):
    from distributed import Client, LocalCluster

    scenario = SCENARIOS / "xianghubao.toml"
    reference = tmp_path / "reference.h5"
    assert cli.main(["run", str(scenario), *map(str, XHB_ARGS), "--out", str(reference),
                     "--quiet"]) == 0
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env={"NUMBA_NUM_THREADS": "1"}) as cluster, \
            Client(cluster) as client:
        pids = client.run(os.getpid)
        out = tmp_path / "cluster.h5"
        proc = _run_cli(scenario, *XHB_ARGS, "--out", out, "--scheduler",
                        cluster.scheduler_address)
        assert _wait_for_chunks(out, 3, proc), proc.stderr.read().decode()[-2000:]
        os.kill(next(iter(pids.values())), signal.SIGKILL)   # a worker dies mid-run
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-3000:]
    assert_same(data_of(reference), data_of(out))
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["chunk_done"].values.all()


def test_a_killed_client_is_finished_by_resume(tmp_path):
    scenario = SCENARIOS / "xianghubao.toml"
    reference = tmp_path / "reference.h5"
    assert cli.main(["run", str(scenario), *map(str, XHB_ARGS), "--out", str(reference),
                     "--quiet"]) == 0
    out = tmp_path / "cluster.h5"
    proc = _run_cli(scenario, *XHB_ARGS, "--out", out, "--scheduler", "local:2")
    assert _wait_for_chunks(out, 4, proc), proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)                         # the client dies
    proc.wait()
    assert not out.exists()
    again = _run_cli(scenario, *XHB_ARGS, "--out", out, "--scheduler", "local:2", "--resume")
    assert again.wait(timeout=300) == 0, again.stderr.read().decode()[-3000:]
    assert_same(data_of(reference), data_of(out))


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, sweep_file, capsys):
    out = tmp_path / "r.h5"
    started = time.time()
    assert cli.main(["run", str(sweep_file), "--out", str(out), "--scheduler",
                     "tcp://127.0.0.1:9", "--quiet"]) == 2
    assert time.time() - started < 60
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the scheduler" in err[0], err
    assert not out.exists() and not journal_dir(out).exists()


@pytest.mark.parametrize("bad", ["local:0", "local", "http://x:1", "tcp://nohostport"])
def test_bad_scheduler_option(tmp_path, sweep_file, bad, capsys):
    assert cli.main(["run", str(sweep_file), "--out", str(tmp_path / "r.h5"), "--scheduler",
                     bad, "--quiet"]) == 2
    assert "--scheduler" in capsys.readouterr().err

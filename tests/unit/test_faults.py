"""Everyday faults end in one line or a recovery, never a traceback (issue 13).

A second run on the same target, a stale lock, a damaged or unrecorded journal chunk, a
damaged results file read by every command, and a disk that fills during a run.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest
import xarray as xr

from engine import cli, space
from engine.run import journal as journal_module
from engine.run.journal import COMMITTED, journal_dir
from engine.run.lock import RunLock, lock_path
from engine.store import part_path
from tests.conftest import SCENARIOS, scenario_dict, write_toml
from tests.unit.test_resume_and_identity import (
    _interrupted,
    _snapshot,
    _start,
    _wait_for_chunks,
    assert_same_data,
    data_of,
)

ARGS = ("--paths", 40, "--chunk", 10)


def run(*args) -> int:
    return cli.main([str(a) for a in args])


@pytest.fixture
def scenario(tmp_path):
    return write_toml(tmp_path / "s.toml", scenario_dict(growth__dispersion=0.05))


@pytest.fixture
def whole(tmp_path, scenario):
    """The uninterrupted run every recovery must reproduce."""
    out = tmp_path / "whole.h5"
    assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 0
    return out


def one_line(capsys) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def same_file(a, b) -> None:
    """The data and the provenance (but the clock and the command line) are equal."""
    assert_same_data(data_of(a), data_of(b))
    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y:
        skip = {"start_time", "end_time", "command"}
        assert {k: str(v) for k, v in x.attrs.items() if k not in skip} == \
            {k: str(v) for k, v in y.attrs.items() if k not in skip}


# --- one writer per target ---------------------------------------------------------------

def test_a_second_run_on_a_locked_target_exits_2_naming_the_holder(tmp_path, scenario,
                                                                     capsys):
    out = tmp_path / "r.h5"
    with RunLock(out, "mutualsim run first.toml"):
        before = _snapshot(tmp_path)
        assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 2
        line = one_line(capsys)
        assert str(out) in line and f"process {os.getpid()}" in line, line
        assert "first.toml" in line and lock_path(out).name in line
        assert _snapshot(tmp_path) == before          # nothing written, the lock untouched
        assert run("run", scenario, "--out", out, *ARGS, "--resume", "--quiet") == 2
        capsys.readouterr()
    assert not lock_path(out).exists()                # released and removed
    assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 0
    assert not lock_path(out).exists()


def test_a_stale_lock_from_a_dead_process_is_cleared(tmp_path, scenario, whole, capsys):
    out = tmp_path / "r.h5"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    lock_path(out).write_text(json.dumps({"pid": int(dead), "host": "here",
                                          "since": "2026-01-01T00:00:00+00:00",
                                          "command": "mutualsim run s.toml"}))
    assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 0
    err = capsys.readouterr().err
    assert "cleared a stale lock" in err and f"process {dead}" in err, err
    assert not lock_path(out).exists()
    same_file(whole, out)


@pytest.mark.slow
def test_two_processes_at_once_on_one_target(tmp_path):
    """The issue's case: two `mutualsim run` at once; the second exits 2 naming the first;
    a `kill -9` of the first leaves a stale lock that `--resume` clears."""
    scenario = SCENARIOS / "xianghubao.toml"
    args = ("--paths", 600, "--chunk", 25)
    whole = tmp_path / "whole.h5"
    assert run("run", scenario, "--out", whole, *args, "--quiet") == 0
    out = tmp_path / "same.h5"
    first = _start(scenario, out, *args)
    _wait_for_chunks(out, 2, first)
    second = _start(scenario, out, *args)
    assert second.wait(timeout=120) == 2
    err = second.stderr.read().decode().strip().splitlines()
    assert len(err) == 1 and f"process {first.pid}" in err[0], err
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert lock_path(out).exists()
    third = _start(scenario, out, *args, "--resume")
    assert third.wait(timeout=300) == 0
    assert "cleared a stale lock" in third.stderr.read().decode()
    assert not lock_path(out).exists() and not journal_dir(out).exists()
    assert_same_data(data_of(whole), data_of(out))


# --- journal checksums -------------------------------------------------------------------

def _damage(path, count=300, at=0.5):
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    for i in range(start, min(start + count, len(data))):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def test_damaged_and_unrecorded_chunks_are_recomputed_with_one_warning_each(
        tmp_path, scenario, whole, capsys):
    out = tmp_path / "r.h5"
    _interrupted(tmp_path, scenario, out, *ARGS, after=3)
    folder = journal_dir(out)
    chunks = sorted(folder.glob("s*-c*.h5"))
    assert len(chunks) >= 3
    with h5py.File(chunks[0]) as f:     # every dataset carries HDF5's fletcher32 filter
        assert all(f[name].fletcher32 for name in f)
    _damage(chunks[0])                                # damage HDF5 may or may not notice
    _damage(chunks[1], count=8, at=0.9)
    log = folder / COMMITTED                          # a commit whose line never landed
    log.write_text("\n".join(line for line in log.read_text().splitlines()
                             if not line.startswith(chunks[2].name)))
    capsys.readouterr()
    assert run("run", scenario, "--out", out, *ARGS, "--resume", "--quiet") == 0
    warnings = [line for line in capsys.readouterr().err.splitlines()
                if line.startswith("warning:")]
    assert len(warnings) == 3, warnings
    assert chunks[0].name in warnings[0] and "damaged" in warnings[0]
    assert chunks[1].name in warnings[1] and "damaged" in warnings[1]
    assert chunks[2].name in warnings[2] and "no checksum" in warnings[2]
    assert all("recomputing its 10 paths" in w for w in warnings)
    assert not folder.exists() and not part_path(out).exists()
    same_file(whole, out)


def test_a_torn_commit_line_costs_only_its_chunk(tmp_path):
    """The commit log's newline leads each line, so a line torn by a crash is ended by the
    next commit's and never spoils it."""
    j = journal_module.Journal(tmp_path / "r.h5")
    j.start(journal_module.Manifest("a", "f", 1, 2, 2, 3, 1, "v", "g"))
    j.save(0, 0, {"x": np.arange(4.0)})
    with open(j.dir / COMMITTED, "a") as log:
        log.write("\ns0-c1.h5 35")                    # torn
    j.save(0, 2, {"x": np.arange(4.0)})
    assert set(j.recorded()) == {"s0-c0.h5", "s0-c2.h5"}
    assert j.verified({})[0] == {(0, 0), (0, 2)}


# --- damaged results files ---------------------------------------------------------------

def _flip_data(path):
    with h5py.File(path, "r") as f:
        offset = f["members"].id.get_chunk_info(0).byte_offset
    data = bytearray(path.read_bytes())
    for i in range(offset + 16, offset + 48):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def _flip_metadata(path):
    data = bytearray(path.read_bytes())
    for i in range(2000, 2300):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _drop_variable(path):
    with h5py.File(path, "a") as f:
        del f["claims"]


def _undone_chunk(path):
    with h5py.File(path, "a") as f:
        f["chunk_done"][0, 1] = 0


def _negative_counts(path):
    with h5py.File(path, "a") as f:
        f["deaths"][0, 3, 2] = -5


def _not_hdf5(path):
    path.write_text("date,metric\n")


DAMAGE = {"data chunk": (_flip_data, "members cannot be read"),
          "metadata": (_flip_metadata, "damaged"),
          "truncated": (_truncate, "not a readable HDF5 file"),
          "variable removed": (_drop_variable, "variables missing: claims"),
          "chunk not done": (_undone_chunk, "incomplete: 3 of 4 chunks"),
          "negative counts": (_negative_counts, "deaths holds negative counts"),
          "not HDF5": (_not_hdf5, "not a readable HDF5 file")}


@pytest.fixture(scope="module")
def good_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("good")
    scenario = write_toml(folder / "s.toml", scenario_dict())
    out = folder / "good.h5"
    assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 0
    return out


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_every_reader_refuses_a_damaged_results_file_in_one_line(tmp_path, good_results,
                                                                 damage, capsys):
    bad = tmp_path / "bad.h5"
    shutil.copy(good_results, bad)
    change, what = DAMAGE[damage]
    change(bad)
    obs = SCENARIOS.parent / "data" / "observations" / "xianghubao.csv"
    commands = {"summary": ["summary", bad],
                "plot": ["plot", bad, "--out", tmp_path / "plots"],
                "compare": ["compare", bad, "--out", tmp_path / "compare"],
                "report": ["report", bad, "--out", tmp_path / "report.html"],
                "disclose": ["disclose", obs, bad, "--out", tmp_path / "disclosure"]}
    capsys.readouterr()
    for name, argv in commands.items():
        assert run(*argv) == 2, name
        line = one_line(capsys)
        assert line.startswith(f"{bad}: ") and what in line, (name, line)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.h5"]   # nothing written


def test_a_good_file_passes_its_own_checks(good_results):
    from engine.results_check import results_problems

    assert results_problems(good_results) == []
    with h5py.File(good_results) as f:
        assert f["members"].fletcher32 and f["members"].compression == "gzip"


# --- a disk that fills -------------------------------------------------------------------

def _room_for(monkeypatch, chunks: int):
    """A file system with room for the results file's creation and ``chunks`` chunks."""
    calls = []
    real = space.room

    def room(path):
        calls.append(path)
        return real(path) if len(calls) <= chunks + 1 else 1024
    monkeypatch.setattr(space, "room", room)


@pytest.mark.parametrize("where", ["results file", "journal"])
def test_a_full_disk_leaves_the_journal_resumable_and_no_target(tmp_path, scenario, whole,
                                                                where, monkeypatch, capsys):
    out = tmp_path / "r.h5"
    if where == "results file":
        _room_for(monkeypatch, chunks=2)
    else:
        real, calls = os.fsync, []

        def fsync(fd):
            calls.append(fd)
            if len(calls) > 5:     # the manifest, then two chunks (file + commit line each)
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(fd)
        monkeypatch.setattr(journal_module.os, "fsync", fsync)
    assert run("run", scenario, "--out", out, *ARGS, "--quiet") == 2
    line = one_line(capsys)
    assert str(out) in line and "the disk filled" in line and "--resume" in line, line
    assert not out.exists() and not part_path(out).exists() and not lock_path(out).exists()
    folder = journal_dir(out)
    assert not list(folder.glob("*.tmp"))             # no half-written chunk
    assert len(list(folder.glob("s*-c*.h5"))) >= 2
    monkeypatch.undo()
    assert run("run", scenario, "--out", out, *ARGS, "--resume", "--quiet") == 0
    assert capsys.readouterr().err == ""              # every kept chunk verifies
    same_file(whole, out)


@pytest.mark.slow
def test_a_file_size_limit_is_a_full_disk(tmp_path):
    """A real limit (``ulimit -f``) in a real process: HDF5 is never asked to write past
    it (which would crash the process), the run says so in one line and resumes."""
    scenario = SCENARIOS / "xianghubao.toml"
    args = ["--paths", "400", "--chunk", "50", "--quiet"]
    whole = tmp_path / "whole.h5"
    assert run("run", scenario, "--out", whole, *args) == 0
    limit = space.MARGIN_BYTES + whole.stat().st_size // 2

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = tmp_path / "full.h5"
    env = dict(os.environ, PYTHONPATH=str(SCENARIOS.parent))
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(scenario), "--out",
                           str(out), *args], capture_output=True, text=True, env=env,
                          preexec_fn=limited, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "the disk filled" in lines[0], lines
    assert not out.exists() and not part_path(out).exists()
    assert run("run", scenario, "--out", out, *args, "--resume") == 0
    assert_same_data(data_of(whole), data_of(out))


def test_the_lock_is_released_however_a_run_ends(tmp_path, scenario, capsys):
    out = tmp_path / "r.h5"
    _interrupted(tmp_path, scenario, out, *ARGS)                          # Ctrl-C, exit 130
    assert not lock_path(out).exists()
    capsys.readouterr()
    assert run("run", scenario, "--out", out, "--paths", 41, "--resume", "--quiet") == 2
    assert "another run" in one_line(capsys)
    assert not lock_path(out).exists()

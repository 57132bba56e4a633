"""The kernel's compiled cache follows every source it depends on (issue 24).

numba's own ``cache=True`` checks only the file of the cached function: an edit to a
callee of the path loop ran the old machine code. :mod:`engine.jit_cache` names the cache
folder by a digest of the sources; here a copy of the package is edited and run again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine import jit_cache
from tests.conftest import ROOT, scenario_dict

# Runs a small scenario in a fresh interpreter on the package at sys.path[0] and prints what
# the test needs: where the package and its cache are, the numbers, the compile's cost.
RUN = """
import json, sys, time
start = time.perf_counter()
from pathlib import Path
import engine
from engine.config.scenario import scenario_set_from_dict
from engine.model.inputs import build_inputs
from engine.run.simulate import simulate_paths
from engine.kernel.path import simulate_paths_serial
raw = json.loads(sys.argv[1])
inputs = build_inputs(scenario_set_from_dict(raw, "<test>", "", Path(".")).base)
out = simulate_paths(inputs, raw["scenario"]["seed"], 0, raw["scenario"]["paths"])
stats = simulate_paths_serial.stats
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "package": str(Path(engine.__file__).parent),
    "folder": str(getattr(sys.modules.get("engine.jit_cache"), "CACHE_FOLDER", None)),
    "cache_path": stats.cache_path,
    "hits": sum(stats.cache_hits.values()),
    "misses": sum(stats.cache_misses.values()),
    "lapses": out["lapses"].tolist(),
}))
"""

# Lapses respond to the perceived cost (elasticity 1 against 5 yuan a quarter).
SCENARIO = scenario_dict(lapse__cost_elasticity=1.0, lapse__reference_cost=5.0,
                         scenario__paths=4)


def copy_package(to: Path) -> Path:
    """A copy of ``engine/`` (without caches) under ``to``; returns the copy's folder."""
    shutil.copytree(ROOT / "engine", to / "engine",
                    ignore=shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc"))
    return to / "engine"


def run_copy(root: Path, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    # the copy first on the path; any per-user fallback folder inside the test's tmp
    env.update(PYTHONPATH=str(root), XDG_CACHE_HOME=str(home), NUMBA_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", RUN, json.dumps(SCENARIO)], cwd=root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(result["package"]) == root / "engine"
    return result


@pytest.mark.slow
def test_an_edit_to_a_callee_of_the_path_loop_recompiles_then_reads_back(tmp_path):
    package = copy_package(tmp_path / "copy")
    home = tmp_path / "home"
    before = run_copy(package.parent, home)
    assert before["misses"] == 1 and before["hits"] == 0
    assert sum(map(sum, before["lapses"])) > 0

    # Doubling the perceived cost raises every lapse probability.
    members = package / "kernel" / "members.py"
    source = members.read_text(encoding="utf-8")
    old = "    return total / window.size\n"
    assert source.count(old) == 1
    members.write_text(source.replace(old, "    return 2.0 * total / window.size\n"),
                       encoding="utf-8")
    edited = run_copy(package.parent, home)
    assert edited["lapses"] != before["lapses"]  # before issue 24: the old cache's numbers
    assert edited["misses"] == 1 and edited["hits"] == 0
    assert Path(before["folder"]).is_relative_to(package / "__pycache__")
    assert edited["folder"] != before["folder"]

    again = run_copy(package.parent, home)
    assert again["folder"] == edited["folder"]
    assert again["hits"] == 1 and again["misses"] == 0
    assert Path(again["cache_path"]).is_relative_to(again["folder"])
    assert again["lapses"] == edited["lapses"]
    assert again["seconds"] < 0.5 * edited["seconds"], (again["seconds"], edited["seconds"])
    # nothing cached where numba's default would look without the digest
    assert not list((package / "kernel").rglob("*.nbi"))
    assert not list(home.rglob("*.nbi"))


def test_the_digest_follows_the_sources_and_only_them(tmp_path):
    package = copy_package(tmp_path)
    first = jit_cache.source_digest(package)
    assert jit_cache.source_digest(package) == first
    (package / "cli.py").write_text("# not compiled into the kernel\n", encoding="utf-8")
    (package / "kernel" / "__pycache__").mkdir()
    (package / "kernel" / "__pycache__" / "x.nbi").write_bytes(b"cache files do not count")
    assert jit_cache.source_digest(package) == first
    for name in ("kernel/members.py", "model/lapse.py", "random/compiled.py", "variables.py"):
        path = package / name
        text = path.read_text(encoding="utf-8")
        path.write_text(text + "\n", encoding="utf-8")
        assert jit_cache.source_digest(package) != first, name
        path.write_text(text, encoding="utf-8")
        assert jit_cache.source_digest(package) == first, name
    (package / "model" / "new_rule.py").write_text("", encoding="utf-8")
    assert jit_cache.source_digest(package) != first


def test_old_digests_folders_are_pruned_once_untouched(tmp_path):
    now = time.time()
    current, recent, old = (tmp_path / name for name in ("0" * 16, "1" * 16, "2" * 16))
    not_ours = tmp_path / "notes"
    for folder in (current, recent, old, not_ours):
        (folder / "kernel_x").mkdir(parents=True)
        (folder / "kernel_x" / "f.nbi").write_bytes(b"")
    hour_ago = now - 2 * jit_cache.KEEP_SECONDS
    for folder in (old, not_ours):
        for path in (folder, folder / "kernel_x", folder / "kernel_x" / "f.nbi"):
            os.utime(path, (hour_ago, hour_ago))
    assert jit_cache.prune_siblings(current, now=now) == [old]
    assert current.exists() and recent.exists() and not_ours.exists() and not old.exists()
    # a file written lately keeps its folder
    os.utime(recent, (hour_ago, hour_ago))
    assert jit_cache.prune_siblings(current, now=now) == []


def test_numba_caches_in_the_digest_folder_nested_under_the_users(tmp_path):
    in_force = jit_cache.numba_config.CACHE_DIR
    try:
        folder = jit_cache.use_digest_folder(user_cache_dir=str(tmp_path))
        assert folder == tmp_path / "mutualsim" / jit_cache.source_digest()
        assert jit_cache.numba_config.CACHE_DIR == str(folder)
    finally:
        jit_cache.numba_config.CACHE_DIR = in_force


def test_sources_edited_after_import_compile_into_a_private_folder(tmp_path, monkeypatch):
    package = copy_package(tmp_path)
    monkeypatch.setattr(jit_cache.numba_config, "CACHE_DIR", jit_cache.numba_config.CACHE_DIR)
    monkeypatch.setattr(jit_cache, "CACHE_FOLDER", tmp_path / jit_cache.DIGEST)
    assert jit_cache.recheck(package) == tmp_path / jit_cache.DIGEST  # same sources
    members = package / "kernel" / "members.py"
    members.write_text(members.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.warns(RuntimeWarning, match="private cache"):
        private = jit_cache.recheck(package)
    assert private.name.startswith("mutualsim-numba-private-") and private.is_dir()
    assert jit_cache.numba_config.CACHE_DIR == str(private)
    assert jit_cache.recheck(package) == private  # once private, stays so


@pytest.mark.slow
def test_the_install_step_compiles_the_kernel_that_every_scenario_then_loads(tmp_path):
    """``python -m engine.run.warm`` (the Makefile's setup step) on the default scenario
    fills the cache; a run of another scenario (other ages, growth and rules) then loads the
    kernel without compiling, and a second warm-up does nothing."""
    package = copy_package(tmp_path / "copy")
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(PYTHONPATH=str(package.parent), XDG_CACHE_HOME=str(home),
               NUMBA_NUM_THREADS="1")
    warm = [sys.executable, "-m", "engine.run.warm", str(ROOT / "scenarios" / "xianghubao.toml")]
    first = subprocess.run(warm, cwd=package.parent, env=env, capture_output=True, text=True,
                           timeout=600)
    assert first.returncode == 0, first.stderr
    assert "compiling the kernel once, at install" in first.stdout
    assert "compiled in" in first.stdout
    run = run_copy(package.parent, home)
    assert run["hits"] == 1 and run["misses"] == 0
    second = subprocess.run(warm, cwd=package.parent, env=env, capture_output=True, text=True,
                            timeout=600)
    assert second.returncode == 0 and "compiled already" in second.stdout

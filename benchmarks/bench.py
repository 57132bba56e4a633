"""Speed of the engine, measured as ratios within one run (``make bench``).

Measures, on this machine, in one process (or child processes where a fresh one is the
point):

(a) the numba kernel against the numpy reference on the default scenario: cells/s, paths/s,
    ratio;
(b) each sampler alone, ns per draw, ours (numba, one thread) against numpy's vectorised
    ``Generator.binomial`` / ``poisson`` with per-cell parameters;
(c) the kernel's cells/s against what its draws alone allow: every draw the default scenario
    makes on a set of paths is recorded (through the numpy reference, which makes the same
    draws) and replayed through the samplers; the rest is the share outside the samplers;
(d) scaling over paths (10^3–10^6) and quarters (20–80) on a small plan, each in a child
    process writing a results file as `mutualsim run` does, and of the kernel alone
    (in-process, no files, best of three);
(e) peak resident memory of those children at 10^4 and 10^6 paths;
(f) compile time with an empty numba cache and with a warm one;
(g) a Dask LocalCluster of 1 and 2 worker processes against the threaded single process,
    and the overhead per block;
(h) today's kernel against the kernel before issue 15 (exported from git, in a child
    process, same run), and ``mutualsim run`` end to end with numba against
    ``--backend numpy``.

``python -m benchmarks.bench --samplers`` runs only what the samplers' targets name (compile
times, kernel against reference and against the previous kernel, samplers, end to end).

Each run appends one JSON line to ``benchmarks/results/bench.jsonl`` and rewrites the table
in README.md between the ``bench`` markers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench.jsonl"
README = ROOT / "README.md"
DEFAULT_SCENARIO = ROOT / "scenarios" / "xianghubao.toml"
SMALL_SCENARIO = ROOT / "benchmarks" / "small_plan.toml"


def machine() -> dict:
    import numba

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "numba_threads": numba.config.NUMBA_NUM_THREADS, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "platform": platform.platform()}


def _inputs(path: Path):
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs

    scenario = load_scenario_set(path).base
    return build_inputs(scenario), scenario.scenario.seed


def _best_of(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ----------------------------------------------------------------- (a) kernel vs numpy

def kernel_vs_numpy(numba_paths: int = 2000, numpy_paths: int = 60) -> dict:
    from engine.run.simulate import simulate_paths

    inputs, seed = _inputs(DEFAULT_SCENARIO)
    simulate_paths(inputs, seed, 0, 2, backend="numba")  # load the compiled kernel
    cells_per_path = inputs.quarters * inputs.n_cells
    t_numba = _best_of(lambda: simulate_paths(inputs, seed, 0, numba_paths, backend="numba"))
    t_numpy = _best_of(lambda: simulate_paths(inputs, seed, 0, numpy_paths, backend="numpy"),
                       repeats=1)
    numba_cps = numba_paths * cells_per_path / t_numba
    numpy_cps = numpy_paths * cells_per_path / t_numpy
    return {"cells_per_s": numba_cps, "paths_per_s": numba_paths / t_numba,
            "numpy_cells_per_s": numpy_cps, "numpy_paths_per_s": numpy_paths / t_numpy,
            "kernel_vs_numpy_ratio": numba_cps / numpy_cps,
            "cells_per_path": cells_per_path, "kernel_paths": numba_paths,
            "numpy_paths": numpy_paths}


# ------------------------------------------------------------ (b), (c) the samplers

class _Recorder:
    """KeyedDraws that also keeps every draw's parameters (n, p or λ) and counters."""

    def __init__(self, seed: int):
        from engine.model.reference import KeyedDraws

        self.draws = KeyedDraws(seed)
        self.binomial_calls: list[tuple] = []
        self.poisson_calls: list[tuple] = []

    @staticmethod
    def _flat(shape, *arrays):
        return [np.broadcast_to(np.asarray(a), shape).ravel().copy() for a in arrays]

    def binomial(self, n, p, t, kind, path, cell):
        n = np.asarray(n)
        self.binomial_calls.append((*self._flat(n.shape, n, p, path, cell), t, kind))
        return self.draws.binomial(n, p, t, kind, path, cell)

    def poisson(self, lam, t, kind, path, cell):
        lam = np.asarray(lam)
        self.poisson_calls.append((*self._flat(lam.shape, lam, path, cell), t, kind))
        return self.draws.poisson(lam, t, kind, path, cell)


def recorded_draws(paths: int = 40):
    """Every draw the default scenario makes on ``paths`` paths, as the kernel makes them
    (cells with n = 0 are skipped by the kernel and dropped here)."""
    from engine.model import reference
    from engine.run.simulate import incidence_levels, join_multipliers
    from engine.variables import empty_outputs

    inputs, seed = _inputs(DEFAULT_SCENARIO)
    rec = _Recorder(seed)
    path_ids = np.arange(paths)
    state = reference.initial_state(inputs, paths)
    out = empty_outputs(paths, inputs.quarters)
    gamma = join_multipliers(inputs, seed, path_ids)
    levels, _ = incidence_levels(inputs.systematic, seed, path_ids,
                                 inputs.year_of_quarter)
    for t in range(inputs.quarters):
        reference.step_quarter(inputs, state, t, rec, path_ids, gamma[:, t], levels[:, t], out)
    from engine.random import streams

    def stack(calls, drop_zero):
        if not calls:
            # (the default scenario's joins are binomial within its market: no Poisson)
            return None
        cols = list(zip(*calls, strict=True))
        arrays = [np.concatenate(c) for c in cols[:-2]]
        words = np.concatenate([np.full(len(c[0]), streams.quarter_kind_word(t, kind))
                                for c, t, kind in zip(calls, cols[-2], cols[-1], strict=True)])
        keep = arrays[0] > 0 if drop_zero else np.ones(arrays[0].size, bool)
        return [a[keep] for a in arrays] + [words[keep]]

    return inputs, seed, stack(rec.binomial_calls, True), stack(rec.poisson_calls, False)


# the decrements are drawn a stage at a time (engine.random.cells), the joins one at a time
STAGE_KINDS = ("DEATHS", "DIAGNOSES", "MILD", "LAPSES", "SUSPENSIONS", "ELIGIBLE")


def sampler_speeds(inputs, seed, binomial_calls, poisson_calls) -> dict:
    """The recorded binomial draws as the kernel makes them (a stage's cells of one path
    together, joins one at a time), the same draws one at a time as the kernel before
    issue 15 made them, and numpy's ``Generator.binomial`` on the same parameters."""
    from engine.random import batch as kernel
    from engine.random import streams
    from engine.random.cells import cell_draws

    k0, k1 = streams.seed_key(seed)
    n, p, path, cell, words = binomial_calls
    staged = np.isin(words >> 24, [int(streams.Kind[k]) for k in STAGE_KINDS])
    # Split by counter word (quarter and kind), and stages by path, before timing: only the
    # draws are timed.
    order = np.lexsort((path, words))
    sn, sp, spath, scell, swords = (a[order][staged[order]] for a in (n, p, path, cell, words))
    key = swords.astype(np.int64) * (int(path.max()) + 1) + spath
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    cd = cell_draws(int(np.diff(starts).max()))
    sout = np.zeros(sn.size, dtype=np.int64)
    single = [(int(w), n[m], p[m], path[m], cell[m]) for w in np.unique(words[~staged])
              for m in [~staged & (words == w)]]
    groups = [(int(w), n[words == w], p[words == w], path[words == w], cell[words == w])
              for w in np.unique(words)]
    out = np.zeros(n.size, dtype=np.int64)

    def ours_binomial():
        kernel.binomial_stage_draws(sn, sp, k0, k1, swords[starts[:-1]], spath[starts[:-1]],
                                    scell, starts, cd, sout)
        for w, gn, gp, gpath, gcell in single:
            kernel.binomial_draws(gn, gp, k0, k1, w, gpath, gcell, out)

    def one_at_a_time():
        for w, gn, gp, gpath, gcell in groups:
            kernel.binomial_draws(gn, gp, k0, k1, w, gpath, gcell, out)

    ours_binomial()
    one_at_a_time()
    rng = np.random.default_rng(1)
    t_ours = _best_of(ours_binomial)
    t_single = _best_of(one_at_a_time)
    t_numpy = _best_of(lambda: rng.binomial(n, p))
    result = {"sampler_ns_per_draw": t_ours / n.size * 1e9,
              "numpy_sampler_ns_per_draw": t_numpy / n.size * 1e9,
              "one_at_a_time_ns_per_draw": t_single / n.size * 1e9,
              "staged_draw_share": float(staged.mean()),
              "binomial_draws_recorded": int(n.size), "poisson_draws_recorded": 0,
              "_sampler_seconds": t_ours}
    if poisson_calls is None:
        return result
    lam, lpath, lcell, lwords = poisson_calls
    lgroups = [(int(w), lam[lwords == w], lpath[lwords == w], lcell[lwords == w])
               for w in np.unique(lwords)]
    lout = np.zeros(lam.size, dtype=np.int64)

    def ours_poisson():
        for w, glam, gpath, gcell in lgroups:
            kernel.poisson_draws(glam, k0, k1, w, gpath, gcell, lout)

    ours_poisson()
    t_pois = _best_of(ours_poisson)
    t_pois_np = _best_of(lambda: rng.poisson(lam))
    result.update({"poisson_ns_per_draw": t_pois / lam.size * 1e9,
                   "numpy_poisson_ns_per_draw": t_pois_np / lam.size * 1e9,
                   "poisson_draws_recorded": int(lam.size),
                   "_sampler_seconds": t_ours + t_pois})
    return result


def regime_speeds(draws: int = 400_000) -> dict:
    """ns per draw by regime, ours (numba, one thread) and numpy's, per-cell parameters."""
    from engine.random import batch as kernel

    rng = np.random.default_rng(7)
    regimes = {
        "binomial n·p≈1 (small cells)": (rng.integers(0, 100, draws), rng.uniform(0, .05, draws)),
        "binomial n·p≈8 (deaths)": (rng.integers(1000, 30000, draws),
                                    rng.uniform(1e-4, 5e-4, draws)),
        "binomial n·p≈15 (diagnoses)": (rng.integers(1000, 30000, draws),
                                        rng.uniform(3e-4, 1.5e-3, draws)),
        "binomial n·p≈500 (lapses)": (rng.integers(1000, 50000, draws),
                                      rng.uniform(.01, .03, draws)),
        "binomial n·p≈1e6": (rng.integers(10**6, 10**7, draws), rng.uniform(.2, .4, draws)),
    }
    path, cell = np.arange(draws), np.arange(draws) % 4096
    out = np.zeros(draws, dtype=np.int64)
    table = {}
    for name, (n, p) in regimes.items():
        kernel.binomial_draws(n, p, 1, 2, 3, path, cell, out)
        ours = _best_of(lambda n=n, p=p: kernel.binomial_draws(n, p, 1, 2, 3, path, cell, out))
        numpy_t = _best_of(lambda n=n, p=p: rng.binomial(n, p))
        table[name] = {"ours_ns": ours / draws * 1e9, "numpy_ns": numpy_t / draws * 1e9,
                       "mean_np": float((n * p).mean())}
    for name, lam in {"poisson λ≈5": rng.uniform(0, 10, draws),
                      "poisson λ≈5e4 (joins)": rng.uniform(1e3, 1e5, draws)}.items():
        kernel.poisson_draws(lam, 1, 2, 3, path, cell, out)
        ours = _best_of(lambda lam=lam: kernel.poisson_draws(lam, 1, 2, 3, path, cell, out))
        numpy_t = _best_of(lambda lam=lam: rng.poisson(lam))
        table[name] = {"ours_ns": ours / draws * 1e9, "numpy_ns": numpy_t / draws * 1e9,
                       "mean_np": float(lam.mean())}
    return table


def philox_ns_per_block(blocks: int = 5_000_000) -> float:
    from engine.random import batch as kernel

    kernel.uniform_sum(1, 2, 10)
    return _best_of(lambda: kernel.uniform_sum(1, 2, blocks)) / blocks * 1e9


def philox_batch_ns_per_block(cells: int = 4096, repeats: int = 1000) -> float:
    """ns per block when a stage's blocks are computed together
    (:func:`engine.random.cells.first_blocks`, the loop LLVM vectorises)."""
    from engine.random.cells import first_blocks

    cell = np.arange(cells, dtype=np.int64)
    u, v = np.zeros(cells), np.zeros(cells)
    words = (np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4), np.uint64(0))
    first_blocks(cells, cell, *words, u, v)

    def run():
        for _ in range(repeats):
            first_blocks(cells, cell, *words, u, v)

    return _best_of(run) / (cells * repeats) * 1e9


def share_outside_samplers(inputs, seed, paths: int, sampler_seconds: float) -> dict:
    import numba

    from engine.run.simulate import simulate_paths

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        simulate_paths(inputs, seed, 0, 2, backend="numba")
        t_kernel = _best_of(lambda: simulate_paths(inputs, seed, 0, paths, backend="numba"))
    finally:
        numba.set_num_threads(before)
    cells = paths * inputs.quarters * inputs.n_cells
    return {"kernel_cells_per_s_1thread": cells / t_kernel,
            "sampler_bound_cells_per_s_1thread": cells / sampler_seconds,
            "share_outside_samplers": max(0.0, 1.0 - sampler_seconds / t_kernel)}


# ----------------------------------------------------------- (d), (e), (f) children

CHILD = r"""
import json, resource, sys, time, tempfile
from pathlib import Path
from engine.run.runner import RunRequest, run
from engine.model.inputs import build_inputs
from engine.config.scenario import load_scenario_set
from engine.run.simulate import simulate_paths
scenario, paths, quarters = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = Path(scenario).read_text().replace("quarters = 20", f"quarters = {quarters}")
folder = Path(tempfile.mkdtemp())
(folder / "s.toml").write_text(text)
inputs = build_inputs(load_scenario_set(folder / "s.toml").base)
simulate_paths(inputs, 1, 0, 2, backend="numba")
t0 = time.perf_counter()
report = run(RunRequest(scenario=str(folder / "s.toml"), out=folder / "r.h5", paths=paths,
                        quiet=True))
seconds = time.perf_counter() - t0
# Peak resident memory of this process: VmHWM (ru_maxrss survives exec on Linux, so it can
# report the parent's peak).
try:
    hwm = [l for l in Path("/proc/self/status").read_text().splitlines()
           if l.startswith("VmHWM")][0]
    peak_mb = int(hwm.split()[1]) / 1024
except (OSError, IndexError):
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cells": paths * quarters * inputs.n_cells,
                  "max_rss_mb": peak_mb}))
"""

COMPILE_CHILD = r"""
import json, time
t0 = time.perf_counter()
from engine.model.inputs import build_inputs
from engine.config.scenario import load_scenario_set
from engine.run.simulate import simulate_paths
import sys
inputs = build_inputs(load_scenario_set(sys.argv[1]).base)
t1 = time.perf_counter()
simulate_paths(inputs, 1, 0, 1, backend="numba")
print(json.dumps({"seconds": time.perf_counter() - t1}))
"""


def _child(code: str, *args, env=None, cwd=ROOT) -> dict:
    full_env = dict(os.environ, PYTHONPATH=str(cwd))
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


QUARTER_SCALING_PATHS = 50_000  # enough work that timer noise stays near 1 %


def scaling() -> dict:
    """Cost over paths (10^3–10^6) and quarters (20–80) on the small plan.

    Linearity is judged on marginal costs, which a run's fixed cost (file creation, thread
    start-up, per-path set-up) does not distort: the time per added cell from 10^4 to 10^5
    paths against that from 10^5 to 10^6, and from 20 to 40 quarters against 40 to 80.
    Each point but 10^6 paths is the faster of two runs (this machine's run-to-run noise is
    several per cent).
    """
    _child(CHILD, SMALL_SCENARIO, 10, 20)  # fills the compile cache, if it is not yet
    def best_of_two(paths, quarters):
        runs = [_child(CHILD, SMALL_SCENARIO, paths, quarters) for _ in range(2)]
        return min(runs, key=lambda r: r["seconds"])

    by_paths = {paths: best_of_two(paths, 20) for paths in (10**3, 10**4, 10**5)}
    by_paths[10**6] = _child(CHILD, SMALL_SCENARIO, 10**6, 20)
    by_quarters = {quarters: best_of_two(QUARTER_SCALING_PATHS, quarters)
                   for quarters in (20, 40, 80)}

    def marginal(a, b):
        return (b["seconds"] - a["seconds"]) / (b["cells"] - a["cells"]) * 1e9

    def per_cell(r):
        return r["seconds"] / r["cells"] * 1e9

    m_paths = (marginal(by_paths[10**4], by_paths[10**5]),
               marginal(by_paths[10**5], by_paths[10**6]))
    m_quarters = (marginal(by_quarters[20], by_quarters[40]),
                  marginal(by_quarters[40], by_quarters[80]))
    return {
        "scaling_ns_per_cell_by_paths": {str(k): per_cell(v) for k, v in by_paths.items()},
        "scaling_ns_per_cell_by_quarters": {str(k): per_cell(v) for k, v in by_quarters.items()},
        "scaling_marginal_ns_per_cell_paths": list(m_paths),
        "scaling_marginal_ns_per_cell_quarters": list(m_quarters),
        "scaling_deviation_paths": abs(m_paths[1] / m_paths[0] - 1),
        "scaling_deviation_quarters": abs(m_quarters[1] / m_quarters[0] - 1),
        "peak_rss_mb_1e4": by_paths[10**4]["max_rss_mb"],
        "peak_rss_mb_1e6": by_paths[10**6]["max_rss_mb"],
    }


def kernel_scaling(paths: int = 20_000) -> dict:
    """The kernel alone (no files), best of three: ns per cell over 20, 40, 80 quarters at
    ``paths`` paths and over 10^3, 10^4, 10^5 paths at 20 quarters, on the small plan."""
    import tomllib

    from engine.config.scenario import scenario_set_from_dict
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths

    raw = tomllib.loads(SMALL_SCENARIO.read_text())

    def ns_per_cell(n_paths, quarters):
        raw["scenario"]["quarters"] = quarters
        inputs = build_inputs(scenario_set_from_dict(raw, str(SMALL_SCENARIO), "",
                                                     SMALL_SCENARIO.parent).base)
        simulate_paths(inputs, 1, 0, 4)
        t = _best_of(lambda: simulate_paths(inputs, 1, 0, n_paths))
        return t / (n_paths * quarters * inputs.n_cells) * 1e9

    by_q = {q: ns_per_cell(paths, q) for q in (20, 40, 80)}
    by_p = {p: ns_per_cell(p, 20) for p in (10**3, 10**4, 10**5)}

    def spread(values):
        values = list(values)
        return max(values) / min(values) - 1

    return {"kernel_ns_per_cell_by_quarters": {str(k): v for k, v in by_q.items()},
            "kernel_ns_per_cell_by_paths": {str(k): v for k, v in by_p.items()},
            "kernel_scaling_spread_quarters": spread(by_q.values()),
            "kernel_scaling_spread_paths": spread(list(by_p.values())[1:])}


def compile_times() -> dict:
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        cold = _child(COMPILE_CHILD, DEFAULT_SCENARIO, env=env)["seconds"]
        cached = _child(COMPILE_CHILD, DEFAULT_SCENARIO, env=env)["seconds"]
    return {"compile_s_cold": cold, "compile_s_cached": cached}


# The kernel before issue 15 (samplers one draw at a time): exported from git into a
# temporary folder and timed in a child process beside today's, in the same bench run.
PREVIOUS_KERNEL_COMMIT = "a5c48f7"

KERNEL_CHILD = r"""
import json, sys, time
import numba
from engine.config.scenario import load_scenario_set
from engine.model.inputs import build_inputs
from engine.run.simulate import simulate_paths
import engine
scenario = load_scenario_set(sys.argv[1]).base
inputs, seed, paths = build_inputs(scenario), scenario.scenario.seed, int(sys.argv[2])
simulate_paths(inputs, seed, 0, 2, backend="numba")
cells = paths * inputs.quarters * inputs.n_cells
def cells_per_s(threads):
    numba.set_num_threads(threads)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        simulate_paths(inputs, seed, 0, paths, backend="numba")
        best = min(best, time.perf_counter() - t0)
    return cells / best
print(json.dumps({"engine": engine.__file__, "one_thread": cells_per_s(1),
                  "all_threads": cells_per_s(numba.config.NUMBA_NUM_THREADS)}))
"""


def previous_kernel(paths: int = 400) -> dict:
    """Today's kernel against the kernel of :data:`PREVIOUS_KERNEL_COMMIT`, each in a child
    process on the default scenario (best of three, one thread and all threads). Without
    git or that commit (an exported tarball), the ratio is missing and the table says so;
    the yardstick below still applies."""
    with tempfile.TemporaryDirectory() as old:
        try:
            archive = subprocess.run(["git", "archive", PREVIOUS_KERNEL_COMMIT, "engine"],
                                     cwd=ROOT, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
        except (OSError, subprocess.CalledProcessError):
            return {}
        before = _child(KERNEL_CHILD, DEFAULT_SCENARIO, paths, cwd=old)
    now = _child(KERNEL_CHILD, DEFAULT_SCENARIO, paths)
    if not before["engine"].startswith(old):
        return {}   # the child imported today's engine: no comparison
    return {"previous_kernel_cells_per_s_1thread": before["one_thread"],
            "previous_kernel_cells_per_s": before["all_threads"],
            "kernel_over_previous_1thread": now["one_thread"] / before["one_thread"],
            "kernel_over_previous": now["all_threads"] / before["all_threads"]}


def end_to_end(paths: int = 1000) -> dict:
    """``mutualsim run`` of the default scenario, ``paths`` paths, with the numba kernel
    (compiled code cached) and with ``--backend numpy``: wall seconds of the whole command,
    start-up and the results file included."""
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend in ("numba", "numba", "numpy"):   # the first fills the compile cache
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "engine", "run", str(DEFAULT_SCENARIO),
                            "--paths", str(paths), "--backend", backend, "--quiet",
                            "--out", str(Path(folder) / f"{backend}.h5")],
                           cwd=ROOT, check=True, capture_output=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
            seconds[backend] = time.perf_counter() - t0
            (Path(folder) / f"{backend}.h5").unlink()
    return {"run_seconds_numba": seconds["numba"], "run_seconds_numpy": seconds["numpy"],
            "run_numba_over_numpy": seconds["numpy"] / seconds["numba"], "run_paths": paths}


def cluster_throughput(paths: int = 800, chunk: int = 100) -> dict:
    """The default scenario on a LocalCluster of 1 and 2 worker processes against the
    threaded single process, and the cost of a block: the same tiny run as many one-path
    blocks on one worker against one process (the difference per block)."""
    import tempfile

    from engine.run.runner import RunRequest, run

    out = {}
    with tempfile.TemporaryDirectory() as folder:
        def timed(scheduler, scenario=DEFAULT_SCENARIO, n=paths, c=chunk, tag="x"):
            request = RunRequest(scenario=str(scenario), out=Path(folder) / f"{tag}.h5",
                                 paths=n, chunk=c, quiet=True, scheduler=scheduler)
            return run(request).seconds

        timed(None, n=4, c=4, tag="warm")
        single = timed(None, tag="single")
        one = timed("local:1", tag="one")
        two = timed("local:2", tag="two")
        blocks = 200
        small_single = timed(None, SMALL_SCENARIO, blocks, 1, "s1")
        small_cluster = timed("local:1", SMALL_SCENARIO, blocks, 1, "s2")
        startup = timed("local:1", SMALL_SCENARIO, 1, 1, "s3")
        size = (Path(folder) / "single.h5").stat().st_size
    out.update({
        "single_process_paths_per_s": paths / single,
        "cluster_1_worker_paths_per_s": paths / one,
        "cluster_2_workers_paths_per_s": paths / two,
        "cluster_startup_s": startup,
        "cluster_overhead_s_per_block": max(0.0, (small_cluster - startup - small_single)
                                           / blocks),
        "result_bytes_per_path": size / paths,
    })
    return out


# ------------------------------------------------------------------------ reporting

# ----------------------------------------------------------------- (h) tail statistics

TAIL_YEAR = 4            # the default scenario's first projection year with a shortfall
TAIL_RELATIVE_SE = 0.02  # the precision asked: ±2 % relative s.e. (issue 14)


def tail_sampling(paths: int = 1000, pilot_paths: int = 500, replications: int = 20,
                  replication_paths: int = 250) -> dict:
    """Paths and seconds that plain Monte Carlo and importance sampling (a pilot's
    cross-entropy tilt, engine.run.tail) need for ±2 % relative s.e. on VaR and TVaR 99.5 %
    of the default scenario's shortfall in projection year :data:`TAIL_YEAR`, measured in
    one process: ``n × (s.e. / (0.02 × estimate))²``. Plain: one run of ``paths``, s.e.
    Maritz–Jarrett and the asymptotic TVaR s.e. Importance sampling: the spread of
    ``replications`` tilted runs of ``replication_paths`` each (seeds after the run's), not
    the runs' own batch-means s.e., which a tail tilt's few effective paths make too small
    (their ratio is kept, ``tail_is_reported_over_spread``). Seconds include the pilot. The
    per-statistic keys hold ``{"var_995": ..., "tvar_995": ...}``."""
    import dataclasses

    from engine.analysis import metrics
    from engine.analysis import weighted as W
    from engine.config.scenario import load_scenario_set
    from engine.run.platform import build_run_inputs
    from engine.run.runner import tilted_set
    from engine.run.simulate import simulate_paths

    plain_set = load_scenario_set(DEFAULT_SCENARIO)
    base = plain_set.base
    seed = base.scenario.seed
    quarters = slice(4 * (TAIL_YEAR - 1), 4 * TAIL_YEAR)
    simulate_paths(build_run_inputs(base), seed, 0, 20)          # compiled before timing
    t0 = time.perf_counter()
    plain = simulate_paths(build_run_inputs(base), seed, 0, paths)["shortfall"][:, quarters]
    t_plain = time.perf_counter() - t0
    tail = dataclasses.replace(base.tail, target="shortfall", year=TAIL_YEAR, level=0.995,
                               pilot_paths=pilot_paths)
    asked = dataclasses.replace(plain_set, scenarios=(dataclasses.replace(base, tail=tail),))
    t0 = time.perf_counter()
    tilted_set_, _ = tilted_set(asked, seed, "numba")
    t_pilot = time.perf_counter() - t0
    inputs = build_run_inputs(tilted_set_.base)
    estimators = {"var_995": (W.var, W.var_standard_error),
                  "tvar_995": (W.tvar, W.tvar_standard_error)}
    runs: dict[str, list] = {key: [] for key in estimators}
    reported: dict[str, list] = {key: [] for key in estimators}
    ess = []
    t0 = time.perf_counter()
    for r in range(replications):
        out = simulate_paths(inputs, seed + 1 + r, 0, replication_paths)
        x, w = out["shortfall"][:, quarters].sum(axis=1), out["weight"]
        ess.append(W.effective_sample_size(w))
        for key, (estimate, standard_error) in estimators.items():
            runs[key].append(estimate(x, 0.995, w))
            reported[key].append(standard_error(x, 0.995, w))
    t_is = (time.perf_counter() - t0) / (replications * replication_paths)   # per path
    x_plain = plain.sum(axis=1)
    plain_estimates = {
        "var_995": (metrics.var(x_plain, 0.995), metrics.quantile_standard_error(x_plain, 0.995)),
        "tvar_995": (metrics.tvar(x_plain, 0.995), metrics.tvar_standard_error(x_plain, 0.995)),
    }
    result: dict = {"tail_paths_plain": {}, "tail_paths_is": {}, "tail_variance_reduction": {},
                    "tail_seconds_ratio": {}, "tail_is_reported_over_spread": {},
                    "tail_effective_sample_share": float(np.mean(ess)) / replication_paths,
                    "tail_pilot_seconds": t_pilot, "tail_paths_measured": paths,
                    "tail_replications": [replications, replication_paths]}
    for key, (v_p, se_p) in plain_estimates.items():
        v_i = float(np.mean(runs[key]))
        se_i = float(np.std(runs[key], ddof=1))            # at replication_paths paths
        n_p = paths * (se_p / (TAIL_RELATIVE_SE * v_p)) ** 2
        n_i = replication_paths * (se_i / (TAIL_RELATIVE_SE * v_i)) ** 2
        result["tail_paths_plain"][key] = n_p
        result["tail_paths_is"][key] = n_i
        result["tail_variance_reduction"][key] = n_p / n_i
        result["tail_seconds_ratio"][key] = (n_p * t_plain / paths) / (t_pilot + n_i * t_is)
        result["tail_is_reported_over_spread"][key] = float(
            np.sqrt(np.mean(np.square(reported[key]))) / se_i)
    return result


CLOSED_GROUP = ROOT / "benchmarks" / "closed_group.toml"


def tail_ruin(paths_plain: int = 100_000, paths_is: int = 2000) -> dict:
    """Paths and seconds that plain Monte Carlo and importance sampling (the pilot's
    Esscher tilt of the claim counts, ``[tail] drivers = "claims"``) need for ±2 % relative
    s.e. on the ruin probability by quarter 8 of :data:`CLOSED_GROUP` (0.125 % exactly),
    measured in one process: ``n × (s.e. / (0.02 × estimate))²``, plain s.e. binomial,
    weighted ``sd(w 1{ruin}) / √n``. Seconds include the pilot."""
    import dataclasses

    from engine.analysis import weighted as W
    from engine.config.scenario import load_scenario_set
    from engine.run.platform import build_run_inputs
    from engine.run.runner import tilted_set
    from engine.run.simulate import simulate_paths

    asked = load_scenario_set(CLOSED_GROUP)
    base = asked.base
    seed = base.scenario.seed
    plain_inputs = build_run_inputs(dataclasses.replace(base, tail=dataclasses.replace(
        base.tail, target=None, drivers="systematic")))
    simulate_paths(plain_inputs, seed, 0, 20)                        # compiled before timing
    t0 = time.perf_counter()
    ruined = (simulate_paths(plain_inputs, seed, 0, paths_plain)["solvency_gap"] > 0).any(axis=1)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    tilted, _ = tilted_set(asked, seed, "numba")
    t_pilot = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = simulate_paths(build_run_inputs(tilted.base), seed, 0, paths_is)
    t_is = time.perf_counter() - t0
    x, w = (out["solvency_gap"] > 0).any(axis=1).astype(float), out["weight"]
    p_plain = float(ruined.mean())
    se_plain = float(np.sqrt(p_plain * (1 - p_plain) / paths_plain))
    p_is, se_is = W.mean(x, w), W.mean_standard_error(x, w)
    n_plain = paths_plain * (se_plain / (TAIL_RELATIVE_SE * p_plain)) ** 2
    n_is = paths_is * (se_is / (TAIL_RELATIVE_SE * p_is)) ** 2
    return {"tail_ruin_probability_plain": p_plain, "tail_ruin_probability_is": p_is,
            "tail_ruin_paths_plain": n_plain, "tail_ruin_paths_is": n_is,
            "tail_ruin_variance_reduction": n_plain / n_is,
            "tail_ruin_seconds_ratio": (n_plain * t_plain / paths_plain)
            / (t_pilot + n_is * t_is / paths_is),
            "tail_ruin_pilot_seconds": t_pilot}


def table(result: dict) -> str:
    r = result
    lines = [
        f"Measured {r['date']} on {r['machine']['cpu']} ({r['machine']['cores']} cores), "
        f"numba {r['machine']['numba']}, numpy {r['machine']['numpy']}.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| kernel, default scenario, all threads | {r['cells_per_s'] / 1e6:.1f} M cells/s, "
        f"{r['paths_per_s']:.0f} paths/s ({r['cells_per_path']:,} cells per path) |",
        f"| numpy reference, same scenario | {r['numpy_cells_per_s'] / 1e6:.2f} M cells/s, "
        f"{r['numpy_paths_per_s']:.1f} paths/s |",
        f"| kernel / reference | {r['kernel_vs_numpy_ratio']:.1f}× |",
        f"| binomial, the scenario's own draws (ours / numpy) | "
        f"{r['sampler_ns_per_draw']:.1f} / {r['numpy_sampler_ns_per_draw']:.1f} ns per draw |",
        (f"| Poisson, the scenario's own draws (ours / numpy) | "
         f"{r['poisson_ns_per_draw']:.1f} / {r['numpy_poisson_ns_per_draw']:.1f} ns per draw |"
         if r.get("poisson_draws_recorded") else
         "| Poisson, the scenario's own draws | none drawn (its joins are binomial within "
         "the market; Poisson by regime below) |"),
        f"| binomial, the same draws one at a time (the kernel before issue 15) | "
        f"{r['one_at_a_time_ns_per_draw']:.1f} ns per draw |",
        f"| Philox4x32-10 block, one at a time / a stage's together | "
        f"{r['philox_ns_per_block']:.1f} / "
        f"{r.get('philox_batch_ns_per_block', float('nan')):.1f} ns |",
        f"| kernel, one thread / its draws alone | "
        f"{r['kernel_cells_per_s_1thread'] / 1e6:.2f} / "
        f"{r['sampler_bound_cells_per_s_1thread'] / 1e6:.2f} M cells/s |",
        f"| share of kernel time outside the samplers | {r['share_outside_samplers']:.0%} |",
        (f"| kernel today / before issue 15 (git {PREVIOUS_KERNEL_COMMIT}), same run: one "
         f"thread, all threads | {r['kernel_over_previous_1thread']:.2f}× / "
         f"{r['kernel_over_previous']:.2f}× |" if "kernel_over_previous" in r else
         "| kernel today / before issue 15 | not measured (no git history) |"),
        f"| yardstick: kernel ns per cell (one thread) in numpy binomial draws | "
        f"{1e9 / r['kernel_cells_per_s_1thread'] / r['numpy_sampler_ns_per_draw']:.2f} |",
        f"| `mutualsim run`, default scenario, {r['run_paths']:,} paths: numba / numpy | "
        f"{r['run_seconds_numba']:.1f} / {r['run_seconds_numpy']:.1f} s "
        f"({r['run_numba_over_numpy']:.1f}×) |",
        "| ns per cell, whole run, by paths (10^3, 10^4, 10^5, 10^6; small plan, 20 "
        "quarters) | " + ", ".join(f"{v:.0f}" for v in r["scaling_ns_per_cell_by_paths"].values())
        + " |",
        "| ns per cell, whole run, by quarters (20, 40, 80; 5·10^4 paths) | "
        + ", ".join(f"{v:.0f}" for v in r["scaling_ns_per_cell_by_quarters"].values()) + " |",
        "| ns per added cell, paths 10^4→10^5 / 10^5→10^6 | "
        + " / ".join(f"{v:.0f}" for v in r["scaling_marginal_ns_per_cell_paths"])
        + f" (deviation {r['scaling_deviation_paths']:.0%}) |",
        "| ns per added cell, quarters 20→40 / 40→80 | "
        + " / ".join(f"{v:.0f}" for v in r["scaling_marginal_ns_per_cell_quarters"])
        + f" (deviation {r['scaling_deviation_quarters']:.0%}) |",
        "| kernel alone, ns per cell by quarters (20, 40, 80; 2·10^4 paths) | "
        + ", ".join(f"{v:.1f}" for v in r["kernel_ns_per_cell_by_quarters"].values())
        + f" (spread {r['kernel_scaling_spread_quarters']:.0%}) |",
        "| kernel alone, ns per cell by paths (10^3, 10^4, 10^5; 20 quarters) | "
        + ", ".join(f"{v:.1f}" for v in r["kernel_ns_per_cell_by_paths"].values())
        + f" (spread 10^4–10^5 {r['kernel_scaling_spread_paths']:.0%}) |",
        f"| peak memory at 10^4 / 10^6 paths | {r['peak_rss_mb_1e4']:.0f} / "
        f"{r['peak_rss_mb_1e6']:.0f} MB |",
        f"| compile, cold / cached | {r['compile_s_cold']:.1f} / {r['compile_s_cached']:.2f} s |",
        f"| Dask LocalCluster, 1 / 2 worker processes (default scenario, incl. start-up) | "
        f"{r['cluster_1_worker_paths_per_s']:.0f} / {r['cluster_2_workers_paths_per_s']:.0f} "
        f"paths/s, against {r['single_process_paths_per_s']:.0f} in one threaded process |",
        f"| Dask: cluster start-up, overhead per block | {r['cluster_startup_s']:.1f} s, "
        f"{r['cluster_overhead_s_per_block'] * 1e3:.1f} ms |",
        f"| results file size | {r['result_bytes_per_path']:.0f} bytes per path |",
        *([f"| VaR / TVaR 99.5 %, year {TAIL_YEAR}'s shortfall: paths for ±2 % s.e., plain | "
           f"{r['tail_paths_plain']['var_995']:,.0f} / {r['tail_paths_plain']['tvar_995']:,.0f} |",
           f"| same, importance sampling (pilot not counted; s.e. from replications) | "
           f"{r['tail_paths_is']['var_995']:,.0f} / {r['tail_paths_is']['tvar_995']:,.0f} |",
           f"| variance reduction per path; time to ±2 % plain / IS (pilot counted) | "
           f"{r['tail_variance_reduction']['var_995']:.1f}× / "
           f"{r['tail_variance_reduction']['tvar_995']:.1f}×; "
           f"{r['tail_seconds_ratio']['var_995']:.1f}× / "
           f"{r['tail_seconds_ratio']['tvar_995']:.1f}× |",
           f"| same, importance sampling: effective sample share; reported s.e. / spread of "
           f"{r['tail_replications'][0]} runs of {r['tail_replications'][1]} paths | "
           f"{r['tail_effective_sample_share']:.1%}; "
           f"{r['tail_is_reported_over_spread']['var_995']:.2f} / "
           f"{r['tail_is_reported_over_spread']['tvar_995']:.2f} |"]
          if "tail_paths_plain" in r else []),
        *([f"| ruin by quarter 8 of a closed group (0.125 % exactly; plain / IS estimate) | "
           f"{r['tail_ruin_probability_plain']:.3%} / {r['tail_ruin_probability_is']:.3%} |",
           f"| same, paths for ±2 % s.e., plain / IS (claim counts tilted) | "
           f"{r['tail_ruin_paths_plain']:,.0f} / {r['tail_ruin_paths_is']:,.0f} |",
           f"| same, variance reduction per path; time to ±2 % plain / IS (pilot counted) | "
           f"{r['tail_ruin_variance_reduction']:.0f}×; {r['tail_ruin_seconds_ratio']:.0f}× |"]
          if "tail_ruin_paths_plain" in r else []),
        "",
        "Samplers by regime, ns per draw (ours / numpy):",
        "",
        "| regime | mean n·p or λ | ours | numpy |",
        "|---|---|---|---|",
    ]
    for name, row in r["regimes"].items():
        lines.append(f"| {name} | {row['mean_np']:,.1f} | {row['ours_ns']:.1f} | "
                     f"{row['numpy_ns']:.1f} |")
    return "\n".join(lines)


def update_readme(text_table: str) -> None:
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    readme = README.read_text(encoding="utf-8")
    if start not in readme:
        return
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{text_table}\n{end}{tail}", encoding="utf-8")


SAMPLER_KEYS = ("compile_s_cold", "compile_s_cached", "kernel_vs_numpy_ratio",
                "sampler_ns_per_draw", "numpy_sampler_ns_per_draw", "one_at_a_time_ns_per_draw",
                "kernel_cells_per_s_1thread", "sampler_bound_cells_per_s_1thread",
                "share_outside_samplers", "kernel_over_previous_1thread",
                "kernel_over_previous", "run_seconds_numba", "run_seconds_numpy",
                "run_numba_over_numpy", "philox_ns_per_block", "philox_batch_ns_per_block")


def samplers_only(result: dict) -> int:
    """``--samplers``: the measurements issue 15's targets name, printed (the README's
    table is rewritten only by the full run)."""
    steps = [compile_times, kernel_vs_numpy]
    for step in steps:
        result.update(step())
    inputs, seed, binomial_calls, poisson_calls = recorded_draws()
    speeds = sampler_speeds(inputs, seed, binomial_calls, poisson_calls)
    sampler_seconds = speeds.pop("_sampler_seconds")
    result.update(speeds)
    result.update(share_outside_samplers(inputs, seed, 40, sampler_seconds))
    result["philox_ns_per_block"] = philox_ns_per_block()
    result["philox_batch_ns_per_block"] = philox_batch_ns_per_block()
    result.update(previous_kernel())
    result.update(end_to_end())
    result["regimes"] = regime_speeds()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")
    for key in SAMPLER_KEYS:
        if key in result:
            print(f"{key}: {result[key]:.4g}")
    for name, row in result["regimes"].items():
        print(f"{name}: ours {row['ours_ns']:.1f} ns, numpy {row['numpy_ns']:.1f} ns")
    return 0


def main() -> int:
    result: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "machine": machine()}
    if "--samplers" in sys.argv[1:]:
        result["only"] = "samplers"
        return samplers_only(result)
    steps = [
        ("compile times", lambda: result.update(compile_times())),
        ("kernel against the numpy reference", lambda: result.update(kernel_vs_numpy())),
    ]
    for label, step in steps:
        print(f"measuring {label} ...", flush=True)
        step()
    print("scaling and memory (child processes) ...", flush=True)
    result.update(scaling())
    result.update(kernel_scaling())
    print("recording the default scenario's draws ...", flush=True)
    inputs, seed, binomial_calls, poisson_calls = recorded_draws()
    print("samplers ...", flush=True)
    speeds = sampler_speeds(inputs, seed, binomial_calls, poisson_calls)
    sampler_seconds = speeds.pop("_sampler_seconds")
    result.update(speeds)
    result.update(share_outside_samplers(inputs, seed, 40, sampler_seconds))
    print("the kernel before issue 15, end to end against numpy ...", flush=True)
    result.update(previous_kernel())
    result.update(end_to_end())
    result["philox_ns_per_block"] = philox_ns_per_block()
    result["philox_batch_ns_per_block"] = philox_batch_ns_per_block()
    result["regimes"] = regime_speeds()
    print("tail statistics: plain against importance sampling ...", flush=True)
    result.update(tail_sampling())
    result.update(tail_ruin())
    print("Dask local cluster ...", flush=True)
    result.update(cluster_throughput())
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(result) + "\n")
    text_table = table(result)
    update_readme(text_table)
    print(text_table)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Kernel speed and compile time of two source trees, run back to back (issue 9's check).

``python -m benchmarks.compare_trees BEFORE_TREE AFTER_TREE [PATHS [SCENARIO]]`` measures in
child processes, alternating the trees twice: cold compile (an empty numba cache), cached
load, and kernel cells/s on each tree's default scenario, or on ``SCENARIO`` in both (best of
three). Prints one JSON line per measurement and
the ratios after/before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import os
if os.path.isdir(os.path.join("engine", "config")):
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths
else:  # the flat layout before issue 9
    from engine.scenario import load_scenario_set
    from engine.inputs import build_inputs
    from engine.simulate import simulate_paths
s = load_scenario_set(sys.argv[1]).base
inputs = build_inputs(s)
simulate_paths(inputs, s.scenario.seed, 0, 2)
load = time.perf_counter() - t0
paths = int(sys.argv[2])
best = float("inf")
for _ in range(3 if paths else 0):
    t1 = time.perf_counter()
    simulate_paths(inputs, s.scenario.seed, 0, paths)
    best = min(best, time.perf_counter() - t1)
cells = paths * inputs.quarters * inputs.n_cells
print(json.dumps({"load_s": load, "cells_per_s": cells / best if paths else None}))
"""


def measure(tree: str, scenario: str, paths: int, cache: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, NUMBA_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-c", CHILD, scenario, str(paths)], cwd=tree, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    before, after = sys.argv[1], sys.argv[2]
    paths = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    given = sys.argv[4] if len(sys.argv) > 4 else None
    rows = {before: [], after: []}
    for _ in range(2):
        for tree in (before, after):
            with tempfile.TemporaryDirectory() as cache:
                scenario = given or os.path.join(tree, "scenarios", "xianghubao.toml")
                cold = measure(tree, scenario, 0, cache)["load_s"]
                warm = measure(tree, scenario, paths, cache)
            row = {"tree": tree, "compile_s_cold": cold, "load_s_cached": warm["load_s"],
                   "cells_per_s": warm["cells_per_s"]}
            rows[tree].append(row)
            print(json.dumps(row), flush=True)
    best = {tree: {"compile_s_cold": min(r["compile_s_cold"] for r in rs),
                   "load_s_cached": min(r["load_s_cached"] for r in rs),
                   "cells_per_s": max(r["cells_per_s"] for r in rs)} for tree, rs in rows.items()}
    print(json.dumps({"before": best[before], "after": best[after],
                      "cells_per_s_ratio": best[after]["cells_per_s"]
                      / best[before]["cells_per_s"],
                      "compile_ratio": best[after]["compile_s_cold"]
                      / best[before]["compile_s_cold"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Child process of :mod:`benchmarks.scaling`: one run writing a results file, as
``mutualsim run`` does, and this process's peak resident memory.

``python -m benchmarks.child_run SCENARIO PATHS QUARTERS`` copies ``SCENARIO`` with
``quarters = QUARTERS`` into a temporary folder, loads the compiled kernel (two paths, not
timed), runs ``PATHS`` paths into a results file and prints one JSON line: ``seconds`` (wall
seconds of the run), ``cells`` (paths × quarters × cells) and ``max_rss_mb`` (peak resident
memory of the process, MB).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB: VmHWM (ru_maxrss survives exec on Linux,
    so it can report the parent's peak), ru_maxrss where /proc is missing."""
    try:
        hwm = [line for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM")][0]
        return int(hwm.split()[1]) / 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    """Run the measurement for ``argv = [SCENARIO, PATHS, QUARTERS]`` and print it."""
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.run.runner import RunRequest, run
    from engine.run.simulate import simulate_paths

    scenario, paths, quarters = argv[0], int(argv[1]), int(argv[2])
    text = Path(scenario).read_text().replace("quarters = 20", f"quarters = {quarters}")
    folder = Path(tempfile.mkdtemp())
    (folder / "s.toml").write_text(text)
    inputs = build_inputs(load_scenario_set(folder / "s.toml").base)
    simulate_paths(inputs, 1, 0, 2, backend="numba")
    t0 = time.perf_counter()
    run(RunRequest(scenario=str(folder / "s.toml"), out=folder / "r.h5", paths=paths,
                   quiet=True))
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "cells": paths * quarters * inputs.n_cells,
                      "max_rss_mb": peak_rss_mb()}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

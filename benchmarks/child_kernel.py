"""Child process of :mod:`benchmarks.previous_kernel`: the kernel's cells/s of whichever
``engine`` this process imports (today's, or one exported from git).

``python -m benchmarks.child_kernel SCENARIO PATHS`` loads the compiled kernel (two paths,
not timed), then runs ``PATHS`` paths of the scenario three times on one thread and three
times on all numba threads. Prints one JSON line: ``engine`` (the imported package's file,
so the parent can check which tree ran), ``one_thread`` and ``all_threads`` (cells/s, best of
three). Imports only what every engine since issue 9 has.
"""

from __future__ import annotations

import json
import sys
import time


def cells_per_s(simulate, inputs, seed: int, paths: int, threads: int) -> float:
    """Cells per second of ``paths`` paths on ``threads`` numba threads, best of three."""
    import numba

    numba.set_num_threads(threads)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        simulate(inputs, seed, 0, paths, backend="numba")
        best = min(best, time.perf_counter() - t0)
    return paths * inputs.quarters * inputs.n_cells / best


def main(argv: list[str]) -> int:
    """Measure ``argv = [SCENARIO, PATHS]`` on one thread and on all, and print it."""
    import numba

    import engine
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths

    scenario = load_scenario_set(argv[0]).base
    inputs, seed, paths = build_inputs(scenario), scenario.scenario.seed, int(argv[1])
    simulate_paths(inputs, seed, 0, 2, backend="numba")
    print(json.dumps({
        "engine": engine.__file__,
        "one_thread": cells_per_s(simulate_paths, inputs, seed, paths, 1),
        "all_threads": cells_per_s(simulate_paths, inputs, seed, paths,
                                   numba.config.NUMBA_NUM_THREADS)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

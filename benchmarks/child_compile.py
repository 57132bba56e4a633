"""Child process of :mod:`benchmarks.compile_time`: the kernel's compile or cache load.

``python -m benchmarks.child_compile SCENARIO`` builds the scenario's inputs, then times its
first kernel call (one path, numba): with an empty ``NUMBA_CACHE_DIR`` that is the cold
compile, with a filled one the cached load. Prints one JSON line: ``seconds`` (wall seconds
of that first call).
"""

from __future__ import annotations

import json
import sys
import time


def main(argv: list[str]) -> int:
    """Time the first kernel call on ``argv[0]``'s base scenario and print it."""
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths

    inputs = build_inputs(load_scenario_set(argv[0]).base)
    t1 = time.perf_counter()
    simulate_paths(inputs, 1, 0, 1, backend="numba")
    print(json.dumps({"seconds": time.perf_counter() - t1}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

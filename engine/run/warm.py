"""Compile the kernel into its cache at install time, so that the first run starts at once.

``python -m engine.run.warm SCENARIO`` (the Makefile's setup step, after ``pip install``)
runs one path of ``SCENARIO``'s base scenario on the numba kernel: numba compiles the kernel
(about 20 s on two cores, :mod:`benchmarks.compile_time`) and writes it to the folder
:mod:`engine.jit_cache` names, from which every later run, test and Dask worker of the same
sources loads it in under a second. Every scenario compiles the same code (the kernel's
arguments have the same types whatever the scenario), so one suffices. Where the kernel is
already cached it does nothing; where compiling fails (a read-only cache folder, say) it
says so and exits 0: the first run then compiles, as it would have without this step.
"""

from __future__ import annotations

import sys
import time


def main(argv: list[str]) -> int:
    """Compile the kernel on ``argv[0]``'s base scenario unless it is cached; exit 0."""
    from engine import jit_cache

    if jit_cache.kernel_is_cached():
        print("the kernel is compiled already (cached)", flush=True)
        return 0
    print("compiling the kernel once, at install (about 20 s); runs then load it from the "
          "cache", flush=True)
    started = time.perf_counter()
    try:
        from engine.config.scenario import load_scenario_set
        from engine.model.inputs import build_inputs
        from engine.run.simulate import simulate_paths

        inputs = build_inputs(load_scenario_set(argv[0]).base)
        simulate_paths(inputs, 1, 0, 1, backend="numba")
    except Exception as exc:  # noqa: BLE001 - never fail an install: the first run compiles
        print(f"the kernel was not compiled now ({type(exc).__name__}: {exc}); the first run "
              "will compile it", file=sys.stderr)
        return 0
    print(f"compiled in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""(a) The numba kernel against the numpy reference on the default scenario.

Measurement ``kernel``: both backends in this process, on the same scenario and seed; the
kernel best of three (all numba threads, compiled code loaded first), the reference once.
"""

from __future__ import annotations

from benchmarks.common import DEFAULT_SCENARIO, Context, best_of, load_inputs


def kernel_vs_numpy(numba_paths: int = 2000, numpy_paths: int = 60) -> dict:
    """Cells/s and paths/s of the kernel and of the reference, and their ratio.

    Parameters
    ----------
    numba_paths, numpy_paths : int
        Paths each backend runs (the reference is about twenty times slower).

    Returns
    -------
    dict
        ``cells_per_s``, ``paths_per_s`` (the kernel, per wall second), ``numpy_cells_per_s``,
        ``numpy_paths_per_s`` (the reference), ``kernel_vs_numpy_ratio`` (cells/s over
        cells/s), ``cells_per_path`` (quarters × cells), ``kernel_paths``, ``numpy_paths``.
    """
    from engine.run.simulate import simulate_paths

    inputs, seed = load_inputs(DEFAULT_SCENARIO)
    simulate_paths(inputs, seed, 0, 2, backend="numba")  # load the compiled kernel
    cells_per_path = inputs.quarters * inputs.n_cells
    t_numba = best_of(lambda: simulate_paths(inputs, seed, 0, numba_paths, backend="numba"))
    t_numpy = best_of(lambda: simulate_paths(inputs, seed, 0, numpy_paths, backend="numpy"),
                      repeats=1)
    numba_cps = numba_paths * cells_per_path / t_numba
    numpy_cps = numpy_paths * cells_per_path / t_numpy
    return {"cells_per_s": numba_cps, "paths_per_s": numba_paths / t_numba,
            "numpy_cells_per_s": numpy_cps, "numpy_paths_per_s": numpy_paths / t_numpy,
            "kernel_vs_numpy_ratio": numba_cps / numpy_cps,
            "cells_per_path": cells_per_path, "kernel_paths": numba_paths,
            "numpy_paths": numpy_paths}


def measure(context: Context) -> dict:
    """The ``kernel`` measurement: 2,000 kernel and 60 reference paths (20 and 2 quick)."""
    return kernel_vs_numpy(context.size(2000, 20), context.size(60, 2))

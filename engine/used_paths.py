"""Which paths of a results file hold results: ``paths_used (scenario)`` (format 3, DESIGN §4).

A run with a ``[precision]`` table (:mod:`engine.run.precision`) stops each scenario when its
targets are met, so the scenarios of a set may hold different numbers of paths. The file's
``path`` dimension is the largest count; scenario ``i`` holds its results in paths
``0 .. paths_used[i] − 1`` and its later paths are *masked*: NaN in floating variables, 0 in
counts, ``weight`` 0 and ``chunk_done`` 2. Every reader takes a scenario's paths through
:func:`scenario_paths` (or :func:`path_count`), so a masked path never enters a statistic,
and a scenario that stopped at ``N`` paths reads exactly as the fixed run of ``N`` paths.
Files without the variable (formats 1 and 2, and every fixed-count run) use all their paths.
"""

from __future__ import annotations

import numpy as np

PATHS_USED = "paths_used"
PATHS_USED_LONG_NAME = ("paths run for the scenario (0 .. paths_used - 1); later paths are "
                        "masked: NaN, counts 0, weight 0")
MASKED_CHUNK = 2   # chunk_done of a chunk the scenario did not need (its targets were met)


def paths_used(ds) -> np.ndarray:
    """Paths holding results, per scenario ``(S,)``: the ``paths_used`` variable, or every
    path of the file."""
    n = ds.sizes["path"]
    if PATHS_USED not in ds:
        return np.full(ds.sizes["scenario"], n, dtype=np.int64)
    return np.minimum(np.asarray(ds[PATHS_USED].values, dtype=np.int64), n)


def path_count(ds, i: int) -> int:
    """Paths of scenario ``i`` that hold results."""
    return int(paths_used(ds)[i])


def is_ragged(ds) -> bool:
    """Whether some scenario holds fewer paths than the file's path dimension."""
    return bool(np.any(paths_used(ds) < ds.sizes["path"]))


def scenario_paths(ds, name: str, i: int) -> np.ndarray:
    """Variable ``name`` of scenario ``i`` over its used paths only (path is the first axis
    of the result; a per-plan variable keeps its plan axis first)."""
    values = ds[name].values[i]
    n = path_count(ds, i)
    dims = ds[name].dims[1:]
    axis = dims.index("path")
    return values[(slice(None),) * axis + (slice(0, n),)]

"""The results' detail (``[output]``, :mod:`engine.config.output`): each engine's counts by
(row, age band) shaped into ``NAME_by (path, quarter, <by>)``.

The engines keep a detailed variable by row and age band, ``(P, T, R, B)`` under
``CELLS_PREFIX + NAME`` (a row is ``sex · K + group``, :mod:`engine.model.inputs`); a
platform's plans are stacked on a last axis (:func:`stack_plans`). :func:`shape_detail`
splits the rows into sex and risk group, puts the dimensions in the order of
:data:`engine.config.output.DIMS` and sums out those not asked for. Counts sum exactly to
their totals; aid sums to its total up to the rounding of the sums' order (exactly when
every amount is a whole number of yuan and benefits are not inflated), and both engines
give the same bits because they hand this function the same arrays.
"""

from __future__ import annotations

import numpy as np

from engine.config.output import DIMS
from engine.variables import CELLS_PREFIX, DETAIL_SUFFIX


def stack_plans(runs: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Each detailed variable of a platform's plans, ``(P, T, R, B, n_plans)``."""
    return {name: np.stack([r[name] for r in runs], axis=-1)
            for name in runs[0] if name.startswith(CELLS_PREFIX)}


def shape_detail(results: dict[str, np.ndarray], by: tuple[str, ...], n_groups: int
                 ) -> dict[str, np.ndarray]:
    """``results`` with each ``CELLS_PREFIX + NAME`` array replaced by ``NAME_by``
    ``(P, T, <by>)``, the dimensions of ``by`` in :data:`DIMS` order."""
    out = {}
    for name, cells in results.items():
        if not name.startswith(CELLS_PREFIX):
            out[name] = cells
            continue
        per_plan = cells.ndim == 5
        P, T, R, B = cells.shape[:4]
        # (P, T, sex, group, band[, plan]) -> (P, T, sex, band, group[, plan])
        split = cells.reshape((P, T, 2, n_groups, B) + cells.shape[4:])
        ordered = np.moveaxis(split, 3, 4)
        dims = DIMS if per_plan else DIMS[:3]
        drop = tuple(2 + j for j, d in enumerate(dims) if d not in by)
        out[name[len(CELLS_PREFIX):] + DETAIL_SUFFIX] = (
            ordered.sum(axis=drop) if drop else np.ascontiguousarray(ordered))
    return out

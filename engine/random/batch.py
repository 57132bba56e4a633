"""Array entry points to the compiled samplers, for tests and benchmarks (not the kernel).

Each fills an output array with draws on counter ``(path[i], word1, cell[i])``, so that the
compiled samplers can be compared draw for draw with :mod:`engine.random.samplers` and
timed alone.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.random.cells import binomial_cells
from engine.random.compiled import binomial, poisson, uniforms


@njit(cache=True)
def binomial_draws(n, p, seed_k0, seed_k1, word1, path, cell, out):
    """Fill ``out[i]`` with Binomial(n[i], p[i]) on counter (path[i], word1, cell[i])."""
    for i in range(n.size):
        out[i] = binomial(n[i], p[i], np.uint64(seed_k0), np.uint64(seed_k1),
                           np.uint64(path[i]), np.uint64(word1), np.uint64(cell[i]))


@njit(cache=True)
def poisson_draws(lam, seed_k0, seed_k1, word1, path, cell, out):
    """Fill ``out[i]`` with Poisson(lam[i]) on counter (path[i], word1, cell[i])."""
    for i in range(lam.size):
        out[i] = poisson(lam[i], np.uint64(seed_k0), np.uint64(seed_k1),
                          np.uint64(path[i]), np.uint64(word1), np.uint64(cell[i]))


@njit(cache=True)
def uniform_sum(seed_k0, seed_k1, blocks):
    """Sum of the first uniform of ``blocks`` Philox blocks (to time the generator alone)."""
    total = 0.0
    k0, k1 = np.uint64(seed_k0), np.uint64(seed_k1)
    for i in range(blocks):
        u, _ = uniforms(k0, k1, np.uint64(i), np.uint64(1), np.uint64(2), np.uint64(0))
        total += u
    return total


@njit(cache=True)
def binomial_stage_draws(n, p, seed_k0, seed_k1, words, paths, cell, starts, cd, out):
    """Draws grouped as the kernel's stages make them: rows ``starts[g] .. starts[g+1] − 1``
    share the counter's path ``paths[g]`` and word ``words[g]`` and are drawn together by
    :func:`engine.random.cells.binomial_cells` (``cd``: its work arrays, capacity at least
    the largest group)."""
    k0, k1 = np.uint64(seed_k0), np.uint64(seed_k1)
    for g in range(starts.size - 1):
        lo = starts[g]
        count = starts[g + 1] - lo
        for j in range(count):
            cd.n[j] = n[lo + j]
            cd.p[j] = p[lo + j]
            cd.cell[j] = cell[lo + j]
        binomial_cells(count, cd, k0, k1, np.uint64(paths[g]), np.uint64(words[g]))
        for j in range(count):
            out[lo + j] = cd.x[j]

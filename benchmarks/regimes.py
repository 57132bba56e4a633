"""The samplers alone on synthetic parameters, and the Philox generator's cost per block.

Measurement ``regimes``: ns per draw by regime (the mean of ``n·p`` or ``λ``), ours (numba,
one thread, one draw at a time) against numpy's vectorised ``Generator.binomial`` /
``poisson``, per-draw parameters, best of three.

Measurement ``philox``: ns per Philox4x32-10 block one at a time
(:func:`engine.random.batch.uniform_sum`) and a stage's blocks together
(:func:`engine.random.cells.first_blocks`, the loop LLVM vectorises), best of three.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Context, best_of


def _binomial_regimes(rng, draws: int) -> dict:
    return {
        "binomial n·p≈1 (small cells)": (rng.integers(0, 100, draws), rng.uniform(0, .05, draws)),
        "binomial n·p≈8 (deaths)": (rng.integers(1000, 30000, draws),
                                    rng.uniform(1e-4, 5e-4, draws)),
        "binomial n·p≈15 (diagnoses)": (rng.integers(1000, 30000, draws),
                                        rng.uniform(3e-4, 1.5e-3, draws)),
        "binomial n·p≈500 (lapses)": (rng.integers(1000, 50000, draws),
                                      rng.uniform(.01, .03, draws)),
        "binomial n·p≈1e6": (rng.integers(10**6, 10**7, draws), rng.uniform(.2, .4, draws)),
    }


def regime_speeds(draws: int = 400_000) -> dict:
    """ns per draw by regime, ours (numba, one thread) and numpy's, per-cell parameters.

    Returns
    -------
    dict
        ``{regime: {"ours_ns": ..., "numpy_ns": ..., "mean_np": ...}}``: ns per draw, and the
        regime's mean ``n·p`` or ``λ``.
    """
    from engine.random import batch as kernel

    rng = np.random.default_rng(7)
    regimes = _binomial_regimes(rng, draws)
    path, cell = np.arange(draws), np.arange(draws) % 4096
    out = np.zeros(draws, dtype=np.int64)
    table = {}
    for name, (n, p) in regimes.items():
        kernel.binomial_draws(n, p, 1, 2, 3, path, cell, out)
        ours = best_of(lambda n=n, p=p: kernel.binomial_draws(n, p, 1, 2, 3, path, cell, out))
        numpy_t = best_of(lambda n=n, p=p: rng.binomial(n, p))
        table[name] = {"ours_ns": ours / draws * 1e9, "numpy_ns": numpy_t / draws * 1e9,
                       "mean_np": float((n * p).mean())}
    for name, lam in {"poisson λ≈5": rng.uniform(0, 10, draws),
                      "poisson λ≈5e4 (joins)": rng.uniform(1e3, 1e5, draws)}.items():
        kernel.poisson_draws(lam, 1, 2, 3, path, cell, out)
        ours = best_of(lambda lam=lam: kernel.poisson_draws(lam, 1, 2, 3, path, cell, out))
        numpy_t = best_of(lambda lam=lam: rng.poisson(lam))
        table[name] = {"ours_ns": ours / draws * 1e9, "numpy_ns": numpy_t / draws * 1e9,
                       "mean_np": float(lam.mean())}
    return table


def philox_ns_per_block(blocks: int = 5_000_000) -> float:
    """ns per Philox block computed one at a time (a dependent chain of ten rounds)."""
    from engine.random import batch as kernel

    kernel.uniform_sum(1, 2, 10)
    return best_of(lambda: kernel.uniform_sum(1, 2, blocks)) / blocks * 1e9


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

    return best_of(run) / (cells * repeats) * 1e9


def measure_regimes(context: Context) -> dict:
    """The ``regimes`` measurement: ``{"regimes": regime_speeds(...)}``, 400,000 draws a
    regime (20,000 quick)."""
    return {"regimes": regime_speeds(context.size(400_000, 20_000))}


def measure_philox(context: Context) -> dict:
    """The ``philox`` measurement: ``philox_ns_per_block`` (5·10^6 blocks) and
    ``philox_batch_ns_per_block`` (4,096 cells 1,000 times), ns per block; 1/50 quick."""
    return {"philox_ns_per_block": philox_ns_per_block(context.size(5_000_000, 100_000)),
            "philox_batch_ns_per_block": philox_batch_ns_per_block(
                4096, context.size(1000, 20))}

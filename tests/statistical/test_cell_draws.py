"""The batch of a stage's cells (engine.random.cells): the scalar sampler's draws, bit for
bit, in every regime, and the exact law when many cells share one path's stream."""

import numpy as np
import pytest
from scipy import stats

from engine.random import batch, samplers, streams
from engine.random.cells import cell_draws
from tests.statistical.helpers import ALPHA, chi_square_discrete
from tests.statistical.test_samplers import BINOMIAL_CASES

K0, K1 = streams.seed_key(2**37 + 5)
WORD = streams.quarter_kind_word(7, streams.Kind.LAPSES)
CELLS = 4096          # cells of one stage (the default scenario has 12,480)


def stage_draws(n, p, paths, cells):
    """Draws made as the kernel makes them: consecutive rows with the same path form one
    stage's batch; returns (batch draws, scalar draws) of the same counters."""
    n = np.asarray(n, np.int64)
    p = np.broadcast_to(np.asarray(p, np.float64), n.shape).copy()
    paths, cells = np.asarray(paths, np.int64), np.asarray(cells, np.int64)
    starts = np.flatnonzero(np.r_[True, paths[1:] != paths[:-1], True])
    out = np.zeros(n.size, np.int64)
    batch.binomial_stage_draws(n, p, K0, K1, np.full(starts.size - 1, WORD), paths[starts[:-1]],
                               cells, starts, cell_draws(int(np.diff(starts).max())), out)
    one = np.zeros(n.size, np.int64)
    batch.binomial_draws(n, p, K0, K1, WORD, paths, cells, one)
    return out, one


def test_stage_draws_equal_the_scalar_sampler_in_every_regime():
    rng = np.random.default_rng(21)   # picks parameters only
    n = np.concatenate([np.full(CELLS, n_) for n_, _ in BINOMIAL_CASES]
                       + [rng.integers(0, 10**6, CELLS), rng.integers(0, 30, CELLS),
                          rng.integers(0, 30_000, CELLS)])
    p = np.concatenate([np.full(CELLS, p_) for _, p_ in BINOMIAL_CASES]
                       + [rng.random(CELLS) ** 4, rng.random(CELLS),
                          rng.uniform(1e-5, 2e-3, CELLS)])
    # batches of every size from 1 cell to 40
    sizes = rng.integers(1, 41, n.size)
    paths = np.repeat(np.arange(sizes.size), sizes)[:n.size]
    cells = rng.integers(0, 2**20, n.size)
    staged, one = stage_draws(n, p, paths, cells)
    assert np.array_equal(staged, one)
    # and the reference's: one stage per path of the numpy samplers
    ref = samplers.binomial(n, p, streams.Stream(2**37 + 5, 7, streams.Kind.LAPSES), paths,
                            cells)
    assert np.array_equal(staged, ref)


def test_zero_squeeze_agrees_with_the_inversion_at_its_edge():
    # cells where 1 − n·r is just above and below the first uniform: the squeeze must
    # return 0 only where the inversion does (it is skipped by a margin, never wrong)
    rng = np.random.default_rng(22)
    n = rng.integers(1, 40_000, 200_000)
    p = rng.uniform(0, 10, n.size) / n
    p = np.where(rng.random(n.size) < 0.3, 1.0 - p, p)     # mirrored draws too
    staged, one = stage_draws(n, p, np.arange(n.size) // 500, np.arange(n.size) % 500)
    assert np.array_equal(staged, one)


@pytest.mark.parametrize("n,p", [(3, 0.001), (40, 0.01), (500, 0.002), (1000, 0.0099),
                                 (25, 0.3), (10**4, 0.0011), (2000, 0.02), (10**5, 0.3),
                                 (60, 0.9), (10**6, 0.999)])
def test_cells_of_one_stream_follow_the_binomial_law(n, p):
    # one path, one stage, CELLS·10 cells: the batch's squeeze, searches and BTRS
    x, _ = stage_draws(np.full(10 * CELLS, n), p, np.zeros(10 * CELLS), np.arange(10 * CELLS))
    pvalue, bins = chi_square_discrete(x, stats.binom(n, p))
    assert pvalue > ALPHA, f"Binomial({n}, {p}) in cells: chi-square p = {pvalue:.2g}, {bins} bins"

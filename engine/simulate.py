"""Runs scenarios over paths in chunks and hands each finished chunk to a writer.

A chunk is a block of consecutive paths of one scenario; it is simulated for all quarters
and returned as per-(path, quarter) arrays. Memory is set by the chunk, not by the number
of paths. Because every draw is keyed by (seed, path, quarter, kind, cell), a chunk's
numbers do not depend on the chunk size, the order chunks run in, or the backend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine import reference, streams
from engine.inputs import ModelInputs, build_inputs
from engine.samplers import gamma
from engine.variables import empty_outputs

BACKENDS = ("numba", "numpy")


@dataclass(frozen=True)
class Chunk:
    """Paths ``start .. start + count − 1`` of scenario number ``scenario``."""

    scenario: int
    index: int
    start: int
    count: int


def plan_chunks(n_scenarios: int, n_paths: int, chunk_paths: int) -> list[Chunk]:
    """Chunks of ``chunk_paths`` paths (the last may be shorter), scenario by scenario."""
    out = []
    for s in range(n_scenarios):
        for i, start in enumerate(range(0, n_paths, chunk_paths)):
            out.append(Chunk(s, i, start, min(chunk_paths, n_paths - start)))
    return out


def join_multipliers(inputs: ModelInputs, seed: int, paths: np.ndarray) -> np.ndarray:
    """Negative-binomial mixing multipliers ``G[p, t]`` ~ Gamma(1/α, scale α); ones if α = 0.

    One draw per (path, quarter) from the ``JOIN_GAMMA`` stream, cell 0. Given ``G``, the
    joins of a quarter are Poisson with mean ``λ G``, so their total is negative binomial
    with variance ``λ + α λ²``.
    """
    alpha = inputs.join_dispersion
    out = np.ones((len(paths), inputs.quarters))
    if alpha <= 0:
        return out
    for t in range(inputs.quarters):
        draws = gamma(np.full(len(paths), 1.0 / alpha),
                      streams.Stream(seed, t, streams.JOIN_GAMMA), paths, 0)
        out[:, t] = draws * alpha
    return out


def simulate_paths(inputs: ModelInputs, seed: int, start: int, count: int,
                   backend: str = "numba") -> dict[str, np.ndarray]:
    """Simulate paths ``start .. start + count − 1`` over all quarters.

    Returns per-(path, quarter) arrays for every variable in :mod:`engine.variables`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}")
    paths = np.arange(start, start + count, dtype=np.int64)
    multipliers = join_multipliers(inputs, seed, paths)
    if backend == "numba":
        return _simulate_numba(inputs, seed, start, multipliers)
    out = empty_outputs(count, inputs.quarters)
    state = reference.initial_state(inputs, count)
    draws = reference.KeyedDraws(seed)
    for t in range(inputs.quarters):
        reference.step_quarter(inputs, state, t, draws, paths, multipliers[:, t], out)
    return out


def kernel_arguments(inputs: ModelInputs, seed: int) -> tuple:
    """The numba kernel's arguments after ``path_start``, except the outputs and multipliers."""
    from engine import kernel as K

    k0, k1 = streams.seed_key(seed)
    kinds = (streams.JOINS, streams.SUSPENSIONS, streams.DEATHS, streams.DIAGNOSES,
             streams.MILD, streams.LAPSES)
    words = np.array([[streams.quarter_kind_word(t, kind) for t in range(inputs.quarters)]
                      for kind in kinds], dtype=np.int64)
    fp = np.zeros(18)
    fp[K.P_MARKET] = inputs.market_potential
    fp[K.P_INNOVATION] = inputs.innovation_q
    fp[K.P_IMITATION] = inputs.imitation_q
    fp[K.P_JOIN_ELASTICITY] = inputs.join_cost_elasticity
    fp[K.P_LAPSE_ELASTICITY] = inputs.lapse_cost_elasticity
    fp[K.P_REF_COST] = inputs.reference_cost_yuan_q
    fp[K.P_ANTISELECTION] = inputs.antiselection
    fp[K.P_FEE] = inputs.fee_rate
    fp[K.P_CAP_Q] = inputs.cap_per_quarter_yuan
    fp[K.P_CAP_Y] = inputs.cap_per_year_yuan
    fp[K.P_RESERVE0] = inputs.reserve_initial_yuan
    fp[K.P_RESERVE_GROWTH] = inputs.reserve_growth_q
    fp[K.P_LOADING] = inputs.loading_yuan_q
    fp[K.P_MILD_SHARE] = inputs.mild_share
    fp[K.P_MILD_YUAN] = inputs.mild_yuan
    fp[K.P_DEPOSIT] = inputs.deposit_yuan
    fp[K.P_TOPUP] = inputs.topup_yuan
    fp[K.P_TOPUP_PROB] = inputs.topup_probability
    ip = np.zeros(8, dtype=np.int64)
    ip[K.Q_MODEL] = inputs.growth_model
    ip[K.Q_WAITING] = inputs.waiting_quarters
    ip[K.Q_ELIGIBLE_ONLY] = int(inputs.sharers_eligible_only)
    ip[K.Q_RULE] = inputs.shortfall_rule
    ip[K.Q_WINDOW] = inputs.cost_window_quarters
    ip[K.Q_CLOSURE] = inputs.closure_quarter
    ip[K.Q_AGE_RATED] = int(inputs.age_rated)
    ip[K.Q_PREPAID] = int(inputs.prepaid)
    # row 0: joins open; row 1: the platform funds the quarter
    flags = np.array([inputs.joins_open, inputs.platform_funds], dtype=np.int64)
    c = np.ascontiguousarray
    return (k0, k1, words, fp, ip, c(inputs.cell_id.astype(np.int64)), c(inputs.death_q),
            c(inputs.diagnosis_hazard_q), c(inputs.hazard_factor), c(inputs.lapse_base_q),
            c(inputs.benefit_yuan.astype(np.float64)), c(inputs.join_mix),
            c(inputs.initial_members), c(inputs.joins_series), c(flags),
            c(inputs.benefit_factor), c(inputs.payment_pattern),
            c(inputs.share_weight))


def _simulate_numba(inputs: ModelInputs, seed: int, start: int,
                    multipliers: np.ndarray) -> dict[str, np.ndarray]:
    """The numba kernel on ``numba.get_num_threads()`` threads: the chunk's rows are cut
    into blocks that the threads take in turn (the kernel releases the GIL)."""
    import numba

    from engine import kernel as K

    count, T = multipliers.shape
    out_int = np.zeros((len(K.INT_VARIABLES), count, T), dtype=np.int64)
    out_float = np.zeros((len(K.FLOAT_VARIABLES), count, T))
    args = (start, *kernel_arguments(inputs, seed), np.ascontiguousarray(multipliers),
            np.ascontiguousarray(inputs.year_starts), out_int, out_float)
    threads = min(numba.get_num_threads(), count)
    if threads <= 1:
        K.simulate_paths_serial(0, count, *args)
    else:
        block = max(1, -(-count // (4 * threads)))
        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(K.simulate_paths_serial, first,
                                       min(first + block, count), *args)
                           for first in range(0, count, block)]:
                future.result()
    out = {name: out_int[j] for j, name in enumerate(K.INT_VARIABLES)}
    out.update({name: out_float[j] for j, name in enumerate(K.FLOAT_VARIABLES)})
    return out


def run_chunks(scenarios, n_paths: int, seed: int, chunk_paths: int, backend: str = "numba",
               skip: Callable[[Chunk], bool] | None = None
               ) -> Iterator[tuple[Chunk, dict[str, np.ndarray]]]:
    """Yield ``(chunk, results)`` for every chunk of every scenario not skipped."""
    inputs = [build_inputs(s) for s in scenarios]
    for chunk in plan_chunks(len(scenarios), n_paths, chunk_paths):
        if skip is not None and skip(chunk):
            continue
        yield chunk, simulate_paths(inputs[chunk.scenario], seed, chunk.start, chunk.count,
                                    backend)

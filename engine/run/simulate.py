"""One plan's paths in either engine (or in expectation), and the chunks a run is cut into.

A chunk is a block of consecutive paths of one scenario; it is simulated for all quarters
and returned as per-(path, quarter) arrays (a scenario's plans: :mod:`engine.run.plans`).
Memory is set by the chunk, not by the number of paths. Because every draw is keyed by
(seed, path, quarter, kind, cell), a chunk's numbers do not depend on the chunk size, the
order chunks run in, or the backend.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from engine.model import reference
from engine.model.drivers import driver_outputs
from engine.model.inputs import ModelInputs
from engine.model.mean_path import mean_paths
from engine.model.systematic import incidence_levels, join_multipliers, joins_drawn
from engine.model.tilt import CLAIM_STATS_KEY
from engine.random import streams
from engine.variables import CELLS_PREFIX, WEIGHT, empty_outputs

BACKENDS = ("numba", "numpy")
# Not a backend for results: each path's expected path given its own systematic drivers
# (engine.model.mean_path), the cheap stand-in a pilot ranks paths by when the drivers make
# the tail (engine.run.tail)
CONDITIONAL_MEAN = "conditional_mean"


@dataclass(frozen=True)
class Enrolment:
    """What a plan enrolled by another (:mod:`engine.config.platform`, ``enrolled_with``)
    follows of it, per path and quarter ``(P, T)``: its joins ``J^k_t`` and the share of
    its members who left by lapsing or being suspended, ``f^k_t``."""

    source_joins: np.ndarray
    source_leave_q: np.ndarray

    def at(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        return self.source_joins[:, t], self.source_leave_q[:, t]


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


def simulate_paths(inputs: ModelInputs, seed: int, start: int, count: int,
                   backend: str = "numba", *, arrivals: np.ndarray | None = None,
                   keep_aged_out: bool = False, enrolment: Enrolment | None = None
                   ) -> dict[str, np.ndarray]:
    """Simulate one plan's (or plain scenario's) paths ``start .. start + count − 1`` over
    all quarters.

    Returns per-(path, quarter) arrays for every variable in :mod:`engine.variables`,
    ``weight`` and the ``driver_*`` arrays of the drivers the plan draws
    (:mod:`engine.model.drivers`). A platform's plans run through
    :func:`engine.run.plans.simulate_plans`, which calls this for each: ``arrivals``
    ``(P, T, R, Dn)`` are members who enter the plan's youngest age from a younger plan
    (``moved_in``), and ``keep_aged_out`` returns who aged out by cell (``aged_out_cells``,
    ``moved_out``); ``enrolment`` is what an enrolled plan follows of the plan that enrols
    it (:class:`Enrolment`).
    """
    if backend not in BACKENDS + (CONDITIONAL_MEAN,):
        raise ValueError(f"unknown backend {backend!r}")
    paths = np.arange(start, start + count, dtype=np.int64)
    multipliers, log_w = join_multipliers(inputs.join_dispersion, inputs.quarters, inputs.tilt,
                                          seed, paths, inputs.fixed_drivers)
    drawn: dict[str, np.ndarray] = {}
    levels, log_w_levels = incidence_levels(
        inputs.systematic, seed if inputs.systematic_seed is None else inputs.systematic_seed,
        paths, inputs.year_of_quarter, inputs.tilt, drawn, inputs.fixed_drivers)
    T = inputs.quarters
    cells = (count, T, inputs.n_rows, inputs.n_durations)
    aged = np.zeros(cells if keep_aged_out else (0, 0, 0, 0),
                    np.float64 if backend == CONDITIONAL_MEAN else np.int64)
    if backend == "numba":
        into = (np.zeros((0, 0, 0, 0), np.int64) if arrivals is None
                else np.ascontiguousarray(arrivals, dtype=np.int64))
        out = _simulate_numba(inputs, seed, start, multipliers, levels, into, aged, enrolment)
    elif backend == CONDITIONAL_MEAN:
        # each path's expected path given its systematic drivers (a tilt's pilot)
        out = mean_paths(inputs, multipliers, levels, paths, arrivals,
                         aged if keep_aged_out else None, enrolment=enrolment)
    else:
        out = _simulate_reference(inputs, seed, paths, multipliers, levels, arrivals,
                                  aged if keep_aged_out else None, enrolment)
    # each path's likelihood ratio (1 without a [tail] tilt): engine.model.tilt
    claim_stats = out.pop(CLAIM_STATS_KEY)
    if inputs.claims_tilted:
        out[WEIGHT] = np.exp(log_w + log_w_levels + claim_stats[:, 0])
        out[CLAIM_STATS_KEY] = claim_stats
    else:
        out[WEIGHT] = np.exp(log_w + log_w_levels)
    # the systematic drivers the path used (engine.model.drivers), for analyses that
    # condition on them
    out.update(driver_outputs(drawn, multipliers, joins_drawn(inputs.join_dispersion)))
    return with_moves(out, arrivals, aged if keep_aged_out else None)


def with_moves(out: dict[str, np.ndarray], arrivals: np.ndarray | None,
               aged: np.ndarray | None) -> dict[str, np.ndarray]:
    """A plan's results with the members who moved between plans: ``moved_in`` (from
    ``arrivals``) and, where the plan's leavers move on, ``aged_out_cells`` and
    ``moved_out`` (from ``aged``), both ``(P, T, R, Dn)`` by cell."""
    if arrivals is not None:
        out["moved_in"] = arrivals.sum(axis=(2, 3))
    if aged is not None:
        out["aged_out_cells"] = aged
        out["moved_out"] = aged.sum(axis=(2, 3))
    return out


def _simulate_reference(inputs: ModelInputs, seed: int, paths: np.ndarray,
                        multipliers: np.ndarray, levels: np.ndarray,
                        arrivals: np.ndarray | None, aged: np.ndarray | None,
                        enrolment: Enrolment | None) -> dict[str, np.ndarray]:
    """The numpy reference over the chunk's paths (the same draws as the kernel)."""
    out = empty_outputs(len(paths), inputs.quarters)
    cells = (len(paths), inputs.quarters, inputs.n_rows, inputs.n_age_bands)
    out.update({CELLS_PREFIX + name: np.zeros(cells, np.float64 if name == "aid" else np.int64)
                for name in inputs.detail})
    state = reference.initial_state(inputs, len(paths))
    draws = reference.KeyedDraws(seed)
    for t in range(inputs.quarters):
        moves = {"in": None if arrivals is None else arrivals[:, t],
                 "out": None if aged is None else aged[:, t],
                 "enrolment": None if enrolment is None else enrolment.at(t)}
        reference.step_quarter(inputs, state, t, draws, paths, multipliers[:, t],
                               levels[:, t], out, moves=moves)
    out[CLAIM_STATS_KEY] = state.claim_stats
    return out


def _simulate_numba(inputs: ModelInputs, seed: int, start: int, multipliers: np.ndarray,
                    levels: np.ndarray, arrivals: np.ndarray, aged_cells: np.ndarray,
                    enrolment: Enrolment | None) -> dict[str, np.ndarray]:
    """The numba kernel on ``numba.get_num_threads()`` threads: the chunk's rows are cut
    into blocks that the threads take in turn (the kernel releases the GIL); each thread
    has its own state and scratch arrays."""
    import numba

    from engine.kernel import records
    from engine.kernel.path import simulate_paths_serial

    count, T = multipliers.shape
    out = records.outputs_of(count, T, inputs)
    none = np.zeros((0, 0))
    fixed = (start, records.params_of(inputs), records.tables_of(inputs),
             records.keys_of(inputs, seed),
             records.Drivers(np.ascontiguousarray(multipliers), np.ascontiguousarray(levels),
                             arrivals, aged_cells,
                             none if enrolment is None else
                             np.ascontiguousarray(enrolment.source_joins, dtype=np.float64),
                             none if enrolment is None else
                             np.ascontiguousarray(enrolment.source_leave_q, dtype=np.float64)))
    threads = min(numba.get_num_threads(), count)
    if threads <= 1:
        simulate_paths_serial(0, count, *fixed, *records.work_of(inputs), out)
    else:
        block = max(1, -(-count // (4 * threads)))
        work = [records.work_of(inputs) for _ in range(threads)]
        free = list(range(threads))
        lock = threading.Lock()

        def run_block(first):
            with lock:
                mine = free.pop()
            try:
                simulate_paths_serial(first, min(first + block, count), *fixed, *work[mine],
                                      out)
            finally:
                with lock:
                    free.append(mine)

        with ThreadPoolExecutor(max_workers=threads) as pool:
            for future in [pool.submit(run_block, first) for first in range(0, count, block)]:
                future.result()
    named = records.as_dict(out)
    named[CLAIM_STATS_KEY] = out.claim_stats
    return named


def scenario_seeds(seed: int, n_scenarios: int, streams_choice: str = "common") -> list[int]:
    """The seed each scenario of a set draws from: ``seed`` for all with common streams,
    :func:`engine.random.streams.scenario_seed` of each index with independent ones."""
    if streams_choice == "independent":
        return [streams.scenario_seed(seed, i) for i in range(n_scenarios)]
    return [seed] * n_scenarios

"""Scenario sets on a Dask cluster (``mutualsim run --scheduler``).

Tasks are (scenario, chunk of paths). Each runs the numba kernel on a worker and returns the
chunk's per-(path, quarter) arrays; the client saves each to the journal and writes it to
the results file as it arrives, so a result is written once, whatever order chunks finish
in, and the file equals a single-process run's (every draw is keyed by its path, not by
where it ran). At most ``2 × workers`` chunks are in flight, which bounds the client's
memory. A worker that dies takes its running chunks with it; Dask's scheduler runs them
again on the others (up to ``distributed.scheduler.allowed-failures`` times). A client that
dies leaves the journal, and ``--resume`` finishes the run.

``--scheduler local:N`` starts a ``LocalCluster`` of N worker processes with one thread
each; ``--scheduler tcp://HOST:PORT`` connects to a running scheduler (for SLURM/PBS see
dask-jobqueue, for Kubernetes dask-kubernetes; README "Running on a cluster").
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Callable, Iterator

import numpy as np

from engine.errors import ResultsError
from engine.model.inputs import ModelInputs
from engine.run.platform import build_run_inputs
from engine.run.simulate import Chunk, plan_chunks, scenario_seeds, simulate_paths

CONNECT_TIMEOUT_S = 10
_LOCAL = re.compile(r"^local:(\d+)$")


def parse_scheduler(text: str) -> tuple[str, str | int]:
    """``local:N`` → ("local", N); ``tcp://HOST:PORT`` → ("tcp", text); else exit 2."""
    if m := _LOCAL.match(text):
        n = int(m.group(1))
        if n < 1:
            raise ResultsError.one("--scheduler", "", "local:N needs N ≥ 1", text)
        return "local", n
    if text.startswith("tcp://") and ":" in text[6:]:
        return "tcp", text
    raise ResultsError.one("--scheduler", "", "must be local:N or tcp://HOST:PORT", text)


@contextlib.contextmanager
def open_client(scheduler: str):
    """A connected ``distributed.Client`` (and its LocalCluster, if any)."""
    from distributed import Client, LocalCluster

    kind, value = parse_scheduler(scheduler)
    cluster = None
    if kind == "local":
        # One numba thread per worker process: the workers are the parallelism. Set in the
        # workers' environment only (numba refuses a change once this process has threads).
        cluster = LocalCluster(n_workers=int(value), threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.ERROR,
                               env={"NUMBA_NUM_THREADS": "1"})
        client = Client(cluster)
    else:
        try:
            client = Client(value, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise ResultsError.one("--scheduler", "", f"cannot reach the scheduler within "
                                   f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__})",
                                   value) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def simulate_block(inputs: ModelInputs, seed: int, start: int, count: int
                   ) -> dict[str, np.ndarray]:
    """The task a worker runs: one chunk of paths with the numba kernel.

    Uses the worker's share of the cores for numba's threads, so that a worker running
    ``nthreads`` tasks at once does not oversubscribe the machine.
    """
    import numba

    try:
        from distributed import get_worker

        per_task = max(1, numba.config.NUMBA_NUM_THREADS // get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        per_task = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(per_task)
    return simulate_paths(inputs, seed, start, count, backend="numba")


def run_chunks_on_cluster(client, scenarios, n_paths: int, seed: int, chunk_paths: int,
                          skip: Callable[[Chunk], bool] | None = None,
                          streams_choice: str = "common"
                          ) -> Iterator[tuple[Chunk, dict[str, np.ndarray]]]:
    """Like :func:`engine.run.simulate.run_chunks`, but on the cluster; yields as chunks finish."""
    from distributed import as_completed

    inputs = [build_run_inputs(s) for s in scenarios]
    seeds = scenario_seeds(seed, len(scenarios), streams_choice)
    shared = client.scatter(inputs, broadcast=True)
    todo = iter([c for c in plan_chunks(len(scenarios), n_paths, chunk_paths)
                 if skip is None or not skip(c)])
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    limit = 2 * workers
    pending = as_completed()
    chunk_of = {}

    def submit(c: Chunk) -> None:
        future = client.submit(simulate_block, shared[c.scenario], seeds[c.scenario], c.start,
                               c.count,
                               key=f"mutualsim-block-{seed}-{c.scenario}-{c.index}",
                               pure=False)
        chunk_of[future.key] = c
        pending.add(future)

    for c in todo:
        submit(c)
        if pending.count() >= limit:
            break
    for future in pending:
        c = chunk_of.pop(future.key)
        data = future.result()
        future.release()
        yield c, data
        nxt = next(todo, None)
        if nxt is not None:
            submit(nxt)

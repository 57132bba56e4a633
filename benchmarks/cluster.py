"""(g) A Dask LocalCluster of 1 and 2 worker processes against the threaded single process,
the overhead per block, and the results file's size.

Measurement ``cluster``: runs through :func:`engine.run.runner.run` in this process, each
writing a results file into a temporary folder; cluster runs include the cluster's start-up.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import DEFAULT_SCENARIO, SMALL_SCENARIO, Context


def cluster_throughput(paths: int = 800, chunk: int = 100, blocks: int = 200) -> dict:
    """The default scenario on a LocalCluster of 1 and 2 worker processes against the
    threaded single process, and the cost of a block: the same tiny run (the small plan) as
    ``blocks`` one-path blocks on one worker against one process (the difference per block).

    Returns
    -------
    dict
        ``single_process_paths_per_s``, ``cluster_1_worker_paths_per_s``,
        ``cluster_2_workers_paths_per_s`` (paths per wall second of the run),
        ``cluster_startup_s`` (seconds of a one-path cluster run),
        ``cluster_overhead_s_per_block`` (seconds, at least 0), ``result_bytes_per_path``
        (the single-process results file's bytes over paths).
    """
    from engine.run.runner import RunRequest, run

    with tempfile.TemporaryDirectory() as folder:
        def timed(scheduler, scenario=DEFAULT_SCENARIO, n=paths, c=chunk, tag="x"):
            request = RunRequest(scenario=str(scenario), out=Path(folder) / f"{tag}.h5",
                                 paths=n, chunk=c, quiet=True, scheduler=scheduler)
            return run(request).seconds

        timed(None, n=4, c=4, tag="warm")
        single = timed(None, tag="single")
        one = timed("local:1", tag="one")
        two = timed("local:2", tag="two")
        small_single = timed(None, SMALL_SCENARIO, blocks, 1, "s1")
        small_cluster = timed("local:1", SMALL_SCENARIO, blocks, 1, "s2")
        startup = timed("local:1", SMALL_SCENARIO, 1, 1, "s3")
        size = (Path(folder) / "single.h5").stat().st_size
    return {
        "single_process_paths_per_s": paths / single,
        "cluster_1_worker_paths_per_s": paths / one,
        "cluster_2_workers_paths_per_s": paths / two,
        "cluster_startup_s": startup,
        "cluster_overhead_s_per_block": max(0.0, (small_cluster - startup - small_single)
                                           / blocks),
        "result_bytes_per_path": size / paths,
    }


def measure(context: Context) -> dict:
    """The ``cluster`` measurement: 800 paths in blocks of 100, 200 one-path blocks
    (quick: 8 in blocks of 4, 4 blocks)."""
    return cluster_throughput(*context.size((800, 100, 200), (8, 4, 4)))

"""(h) ``mutualsim run`` end to end, the numba kernel against ``--backend numpy``.

Measurement ``end_to_end``: the default scenario run by the command line in child processes
(``python -m engine run``), wall seconds of the whole command, start-up and the results file
included; numba twice (the first fills the compile cache and is not kept), then numpy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import DEFAULT_SCENARIO, ROOT, Context


def end_to_end(paths: int = 1000) -> dict:
    """``mutualsim run`` of the default scenario, ``paths`` paths, with the numba kernel
    (compiled code cached) and with ``--backend numpy``.

    Returns
    -------
    dict
        ``run_seconds_numba``, ``run_seconds_numpy`` (wall seconds of the command),
        ``run_numba_over_numpy`` (numpy's seconds over numba's), ``run_paths``.
    """
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend in ("numba", "numba", "numpy"):   # the first fills the compile cache
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "engine", "run", str(DEFAULT_SCENARIO),
                            "--paths", str(paths), "--backend", backend, "--quiet",
                            "--out", str(Path(folder) / f"{backend}.h5")],
                           cwd=ROOT, check=True, capture_output=True,
                           env=dict(os.environ, PYTHONPATH=str(ROOT)))
            seconds[backend] = time.perf_counter() - t0
            (Path(folder) / f"{backend}.h5").unlink()
    return {"run_seconds_numba": seconds["numba"], "run_seconds_numpy": seconds["numpy"],
            "run_numba_over_numpy": seconds["numpy"] / seconds["numba"], "run_paths": paths}


def measure(context: Context) -> dict:
    """The ``end_to_end`` measurement: 1,000 paths (2 quick)."""
    return end_to_end(context.size(1000, 2))

"""What every measurement shares: paths in the repository, the machine, timing helpers,
child processes run as ``python -m benchmarks.<module>``, and the run's options.

Nothing here measures; the measurements are the other modules of :mod:`benchmarks`.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "bench.jsonl"
DOCS = ROOT / "docs" / "benchmarks.md"
DEFAULT_SCENARIO = ROOT / "scenarios" / "xianghubao.toml"
SMALL_SCENARIO = ROOT / "benchmarks" / "small_plan.toml"
CLOSED_GROUP = ROOT / "benchmarks" / "closed_group.toml"


@dataclass(frozen=True)
class Context:
    """The options a measurement reads.

    Attributes
    ----------
    quick : bool
        Tiny sizes, for a smoke test: every measurement runs its code path in seconds, and
        its numbers mean nothing (the record says ``"quick": true``).
    previous : str or None
        The git revision whose kernel ``previous`` measures against today's; None skips it.
    """

    quick: bool = False
    previous: str | None = None

    def size(self, full, quick):
        """``full`` in a real run, ``quick`` under ``--quick``."""
        return quick if self.quick else full


def machine() -> dict:
    """The machine and library versions a record was measured with.

    Returns
    -------
    dict
        ``cpu`` (model name), ``cores``, ``numba_threads``, ``python``, ``numpy``, ``numba``,
        ``platform`` (strings, or counts for ``cores`` and ``numba_threads``).
    """
    import numba

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(),
            "numba_threads": numba.config.NUMBA_NUM_THREADS, "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "platform": platform.platform()}


def load_inputs(path: Path):
    """The base scenario of ``path`` as the kernel's inputs, and its seed."""
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs

    scenario = load_scenario_set(path).base
    return build_inputs(scenario), scenario.scenario.seed


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """The shortest wall time of ``repeats`` calls of ``fn``, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def run_child(module: str, *args, env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``python -m benchmarks.<module> ARGS`` in a fresh process and read its last line.

    The child imports ``engine`` from ``cwd`` (the working tree, or a tree exported from
    git) and ``benchmarks`` from this checkout.

    Parameters
    ----------
    module : str
        The child module's name inside :mod:`benchmarks` (``child_run``, ...).
    *args
        Its command-line arguments (converted with ``str``).
    env : dict, optional
        Variables added to this process's environment (``NUMBA_CACHE_DIR``).
    cwd : Path
        The folder the child runs in, whose ``engine`` it imports.

    Returns
    -------
    dict
        The JSON object the child printed on its last line of standard output.

    Raises
    ------
    subprocess.CalledProcessError
        When the child fails (its standard error is on the exception).
    """
    path = [str(cwd)] if Path(cwd) == ROOT else [str(cwd), str(ROOT)]
    full_env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *map(str, args)],
                          cwd=cwd, env=full_env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


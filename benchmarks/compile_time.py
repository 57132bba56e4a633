"""(f) The kernel's compile time with an empty numba cache and with a warm one.

Measurement ``compile``: two child processes (:mod:`benchmarks.child_compile`) sharing a
fresh temporary ``NUMBA_CACHE_DIR``, each timing its first kernel call on the default
scenario. The sizes do not depend on ``--quick``: a cold compile takes what it takes.
"""

from __future__ import annotations

import tempfile

from benchmarks.common import DEFAULT_SCENARIO, Context, run_child


def compile_times() -> dict:
    """Cold compile and cached load of the kernel, each in a fresh process.

    Returns
    -------
    dict
        ``compile_s_cold`` (seconds, empty cache) and ``compile_s_cached`` (seconds, the cache
        the first child filled).
    """
    with tempfile.TemporaryDirectory() as cache:
        env = {"NUMBA_CACHE_DIR": cache}
        cold = run_child("child_compile", DEFAULT_SCENARIO, env=env)["seconds"]
        cached = run_child("child_compile", DEFAULT_SCENARIO, env=env)["seconds"]
    return {"compile_s_cold": cold, "compile_s_cached": cached}


def measure(context: Context) -> dict:
    """The ``compile`` measurement (see :func:`compile_times`)."""
    return compile_times()

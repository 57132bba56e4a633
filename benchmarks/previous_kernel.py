"""(h) Today's kernel against a previous one, exported from git, in the same bench run.

Measurement ``previous`` (needs ``--previous REV``): ``engine/`` at ``REV`` is exported with
``git archive`` into a temporary folder; a child process (:mod:`benchmarks.child_kernel`)
times that kernel on the default scenario, another times today's, one thread and all
threads, best of three each. The ratios are today's cells/s over the previous kernel's.

Which revision to compare against is the caller's choice, not this file's: the series in
``benchmarks/results/bench.jsonl`` up to issue 25 used ``a5c48f7`` (the kernel before
issue 15, samplers one draw at a time), ``make bench BENCH_ARGS="--previous a5c48f7"``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from benchmarks.common import DEFAULT_SCENARIO, ROOT, Context, run_child


def _note(text: str) -> None:
    print(f"previous kernel: {text}", file=sys.stderr, flush=True)


def resolve(rev: str) -> str | None:
    """``rev``'s abbreviated commit, or None where git or the revision is missing."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", f"{rev}^{{commit}}"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def previous_kernel(rev: str, paths: int = 400) -> dict:
    """Today's kernel against the kernel of git revision ``rev``, each in a child process on
    the default scenario (best of three, one thread and all threads).

    Parameters
    ----------
    rev : str
        Any git revision (commit, tag, branch) whose tree has ``engine/``.
    paths : int
        Paths each child times.

    Returns
    -------
    dict
        ``previous_kernel_rev`` (the abbreviated commit), ``previous_kernel_cells_per_s_1thread``
        and ``previous_kernel_cells_per_s`` (cells/s of the previous kernel, one thread and
        all threads), ``kernel_over_previous_1thread`` and ``kernel_over_previous`` (today's
        cells/s over the previous kernel's); empty, with a note on standard error, where the
        revision cannot be exported or its kernel cannot run the default scenario.
    """
    commit = resolve(rev)
    if commit is None:
        _note(f"no git revision {rev!r} here: not measured")
        return {}
    with tempfile.TemporaryDirectory() as old:
        try:
            archive = subprocess.run(["git", "archive", commit, "engine"],
                                     cwd=ROOT, capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", old], input=archive, check=True)
            before = run_child("child_kernel", DEFAULT_SCENARIO, paths, cwd=old)
        except (OSError, subprocess.CalledProcessError) as error:
            stderr = getattr(error, "stderr", None) or ""
            if isinstance(stderr, bytes):
                stderr = stderr.decode(errors="replace")
            last = (stderr.strip().splitlines() or [""])[-1]
            _note(f"git {commit} could not be measured ({error}) {last}")
            return {}
    now = run_child("child_kernel", DEFAULT_SCENARIO, paths)
    if not before["engine"].startswith(old):
        _note(f"the child imported {before['engine']}, not git {commit}'s engine: no ratio")
        return {}
    return {"previous_kernel_rev": commit,
            "previous_kernel_cells_per_s_1thread": before["one_thread"],
            "previous_kernel_cells_per_s": before["all_threads"],
            "kernel_over_previous_1thread": now["one_thread"] / before["one_thread"],
            "kernel_over_previous": now["all_threads"] / before["all_threads"]}


def measure(context: Context) -> dict:
    """The ``previous`` measurement against ``--previous REV``: 400 paths (4 quick)."""
    if context.previous is None:
        return {}
    return previous_kernel(context.previous, context.size(400, 4))

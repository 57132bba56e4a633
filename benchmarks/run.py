"""The bench runner: ``python -m benchmarks`` (or ``python -m benchmarks.run``, ``make bench``).

Runs the measurements asked for, in one process (child processes where a fresh one is the
point), appends one JSON record to ``benchmarks/results/bench.jsonl`` and writes the table
to ``docs/benchmarks.md`` between the ``bench`` markers. Speed is reported as measured and as
ratios against a reference timed in the same run; nothing passes or fails on absolute times.

Options::

    --only NAMES     a comma-separated subset (``--list`` names them), e.g. kernel,compile
    --samplers       what issue 15's targets name (compile, kernel, samplers, philox,
                     previous, end_to_end, regimes), printed key by key
    --previous REV   the git revision whose kernel ``previous`` compares against
                     (without it, that measurement is skipped with a note)
    --quick          tiny sizes: a smoke test, seconds per measurement, numbers meaningless
    --jsonl PATH     where the record is appended
    --docs PATH      where the table is written

Where the record and table go by default: a full run appends to ``bench.jsonl`` and rewrites
the table in ``docs/benchmarks.md``; a subset (``--only``, ``--samplers``) appends the record
but writes a table only to an explicit ``--docs``; ``--quick`` writes only where ``--jsonl``
and ``--docs`` say. README.md is never touched.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from benchmarks import (
    analysis_sets,
    cluster,
    compile_time,
    detail,
    end_to_end,
    kernel,
    precision,
    previous_kernel,
    regimes,
    samplers,
    scaling,
    sobol_study,
    tail,
)
from benchmarks.common import DOCS, RESULTS, ROOT, Context, machine
from benchmarks.table import table, write_between_markers


class Measurement(NamedTuple):
    """One measurement: its name for ``--only``, what is printed while it runs, and the
    function of a :class:`~benchmarks.common.Context` returning its keys for the record."""

    name: str
    label: str
    measure: Callable[[Context], dict]


MEASUREMENTS = (
    Measurement("compile", "compile times (child processes)", compile_time.measure),
    Measurement("kernel", "kernel against the numpy reference", kernel.measure),
    Measurement("scaling", "scaling and memory (child processes)", scaling.measure_scaling),
    Measurement("kernel_scaling", "the kernel alone over paths and quarters",
                scaling.measure_kernel_scaling),
    Measurement("samplers", "the samplers on the default scenario's recorded draws",
                samplers.measure),
    Measurement("previous", "the previous kernel (child processes)", previous_kernel.measure),
    Measurement("end_to_end", "mutualsim run end to end, numba against numpy",
                end_to_end.measure),
    Measurement("philox", "Philox blocks", regimes.measure_philox),
    Measurement("regimes", "samplers by regime", regimes.measure_regimes),
    Measurement("tail", "tail statistics: plain against importance sampling",
                tail.measure_tail),
    Measurement("ruin", "ruin of the closed group: plain against importance sampling",
                tail.measure_ruin),
    Measurement("precision", "the default scenario run to its [precision] table",
                precision.measure),
    Measurement("detail", "[output] detail against a plain run", detail.measure),
    Measurement("cluster", "Dask local cluster", cluster.measure),
    Measurement("analysis_sets", "compare and report of 100 and 1,000 scenarios",
                analysis_sets.measure),
    Measurement("sobol", "the shipped Sobol study (about a quarter of an hour)",
                sobol_study.measure),
)
NAMES = tuple(m.name for m in MEASUREMENTS)
SAMPLERS = ("compile", "kernel", "samplers", "philox", "previous", "end_to_end", "regimes")
SAMPLER_KEYS = ("compile_s_cold", "compile_s_cached", "kernel_vs_numpy_ratio",
                "sampler_ns_per_draw", "numpy_sampler_ns_per_draw", "one_at_a_time_ns_per_draw",
                "kernel_cells_per_s_1thread", "sampler_bound_cells_per_s_1thread",
                "share_outside_samplers", "kernel_over_previous_1thread",
                "kernel_over_previous", "run_seconds_numba", "run_seconds_numpy",
                "run_numba_over_numpy", "philox_ns_per_block", "philox_batch_ns_per_block")


def parser() -> argparse.ArgumentParser:
    """The runner's command line (see the module's docstring)."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the engine on this machine (ratios within one run); append the "
                    "record to the jsonl series and write the table between the bench markers.")
    p.add_argument("--only", metavar="NAMES", help="comma-separated measurements to run")
    p.add_argument("--samplers", action="store_true",
                   help="the measurements issue 15's targets name, printed key by key")
    p.add_argument("--previous", metavar="REV",
                   help="git revision whose kernel 'previous' compares against")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test")
    p.add_argument("--jsonl", type=Path,
                   help=f"append the record here (default {RESULTS.relative_to(ROOT)})")
    p.add_argument("--docs", type=Path,
                   help=f"write the table here (default {DOCS.relative_to(ROOT)})")
    p.add_argument("--list", action="store_true", help="list the measurements and exit")
    return p


def selected(args: argparse.Namespace, p: argparse.ArgumentParser) -> tuple[str, ...]:
    """The measurements' names to run, in the order of :data:`MEASUREMENTS`."""
    if args.only and args.samplers:
        p.error("--only and --samplers choose the measurements both; give one")
    if args.samplers:
        return tuple(n for n in NAMES if n in SAMPLERS)
    if not args.only:
        return NAMES
    asked = {name.strip() for name in args.only.split(",") if name.strip()}
    unknown = sorted(asked - set(NAMES))
    if unknown or not asked:
        p.error(f"unknown measurement(s) {', '.join(unknown) or '(none)'}; "
                f"known: {', '.join(NAMES)}")
    return tuple(n for n in NAMES if n in asked)


def targets(args: argparse.Namespace, full: bool) -> tuple[Path | None, Path | None]:
    """Where the record and the table go (None: not written); see the module's docstring."""
    jsonl = args.jsonl if args.jsonl or args.quick else RESULTS
    docs = args.docs if args.docs or args.quick or not full else DOCS
    return jsonl, docs


def measure(names: tuple[str, ...], context: Context) -> dict:
    """Run the measurements ``names`` and collect their keys into one record."""
    result: dict = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "machine": machine()}
    for m in MEASUREMENTS:
        if m.name not in names:
            continue
        if m.name == "previous" and context.previous is None:
            print("previous kernel: not measured (give --previous REV; the series up to "
                  "issue 25 used a5c48f7, the kernel before issue 15)", flush=True)
            continue
        print(f"measuring {m.label} ...", flush=True)
        result.update(m.measure(context))
    return result


def report(result: dict, jsonl: Path | None, docs: Path | None, key_by_key: bool) -> None:
    """Append the record, write the table, and print what a run of this kind prints."""
    if jsonl is not None:
        jsonl.parent.mkdir(parents=True, exist_ok=True)
        with jsonl.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(result) + "\n")
        print(f"record appended to {jsonl}")
    text = table(result)
    if docs is not None:
        print(f"table {write_between_markers(docs, text)} in {docs}")
    if jsonl is None and docs is None:
        print("(--quick: nothing written; give --jsonl and --docs to write)")
    if not key_by_key:
        print(text)
        return
    for key in SAMPLER_KEYS:
        if key in result:
            print(f"{key}: {result[key]:.4g}")
    for name, row in result.get("regimes", {}).items():
        print(f"{name}: ours {row['ours_ns']:.1f} ns, numpy {row['numpy_ns']:.1f} ns")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the measurements, write the record and the table."""
    p = parser()
    args = p.parse_args(argv)
    if args.list:
        for m in MEASUREMENTS:
            print(f"{m.name:15} {m.label}")
        return 0
    names = selected(args, p)
    context = Context(quick=args.quick, previous=args.previous)
    result = measure(names, context)
    if args.samplers:
        result["only"] = "samplers"
    elif names != NAMES:
        result["only"] = ",".join(names)
    if args.quick:
        result["quick"] = True
    jsonl, docs = targets(args, full=names == NAMES)
    report(result, jsonl, docs, args.samplers)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The ``mutualsim`` command line (DESIGN §5); ``main(argv) -> int``.

User errors print one line each (``FILE: key: what (got VALUE)``) and exit with status 2;
nothing is written. Ctrl-C during a run leaves nothing at the target name.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from engine.errors import InputError, ResultsError

DEFAULT_CHUNK = 256


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every user error
        self.exit(2, f"{self.prog}: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be ≥ 1 (got {value})")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
    if not 0 <= value < 2 ** 64:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**64) (got {value})")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mutualsim", description="Monte Carlo engine for online "
                     "mutual-aid platforms.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="simulate a scenario (or set) and write results")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("--paths", type=_positive_int, help="paths per scenario (default: file)")
    run.add_argument("--seed", type=_seed, help="root seed (default: file)")
    run.add_argument("--chunk", type=_positive_int, default=DEFAULT_CHUNK,
                     help=f"paths per chunk (default {DEFAULT_CHUNK})")
    run.add_argument("--backend", choices=("numpy",), default="numpy",
                     help="simulation backend")
    run.add_argument("--out", help="results file (default results/<scenario>.h5)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    val = sub.add_parser("validate", help="check scenario files")
    val.add_argument("scenarios", nargs="+")

    summ = sub.add_parser("summary", help="summarise a results file")
    summ.add_argument("results")
    summ.add_argument("--json", action="store_true", help="print one JSON object")

    plot = sub.add_parser("plot", help="write PNG figures of a results file")
    plot.add_argument("results")
    plot.add_argument("--out", required=True, help="folder for the figures")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 2


def cmd_run(args) -> int:
    from tqdm import tqdm

    from engine.scenario import load_scenario_set
    from engine.simulate import run_chunks
    from engine.store import ResultsWriter, check_output_path

    scenario_set = load_scenario_set(args.scenario)
    base = scenario_set.base
    if args.out is None:
        Path("results").mkdir(exist_ok=True)
        out = Path("results") / f"{Path(args.scenario).stem}.h5"
    else:
        out = Path(args.out)
    check_output_path(out)
    n_paths = args.paths or base.scenario.paths
    seed = base.scenario.seed if args.seed is None else args.seed
    chunk = min(args.chunk, n_paths)
    labels = _labels(base)
    total = n_paths * len(scenario_set.scenarios)
    writer = ResultsWriter(out, scenario_set, n_paths, chunk, seed, labels,
                           {"backend": args.backend,
                            "command": "mutualsim " + " ".join(sys.argv[1:])})
    started = time.perf_counter()
    bar = tqdm(total=total, unit="path", disable=args.quiet, dynamic_ncols=True,
               desc=base.scenario.name)
    try:
        for c, data in run_chunks(scenario_set.scenarios, n_paths, seed, chunk, args.backend):
            writer.write(c.scenario, c.index, c.start, data)
            bar.update(c.count)
        bar.close()
        writer.finish()
    except KeyboardInterrupt:
        bar.close()
        writer.abort()
        print(f"interrupted: nothing written to {out}", file=sys.stderr)
        return 130
    except BaseException:
        bar.close()
        writer.abort()
        raise
    elapsed = time.perf_counter() - started
    if not args.quiet:
        print(f"wrote {out}: {len(scenario_set.scenarios)} scenario(s) × {n_paths} paths × "
              f"{len(labels)} quarters in {elapsed:.1f} s ({total / elapsed:,.0f} paths/s)")
    return 0


def _labels(scenario) -> list[str]:
    from engine.units import quarter_labels
    return quarter_labels(scenario.scenario.start, scenario.scenario.quarters)


def cmd_validate(args) -> int:
    from engine.scenario import load_scenario_set

    status = 0
    for path in args.scenarios:
        try:
            ss = load_scenario_set(path)
        except InputError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            status = 2
            continue
        b = ss.base.scenario
        print(f"{path}: ok ({len(ss.scenarios)} scenario(s), {b.quarters} quarters from "
              f"{b.start}, {b.paths} paths)")
    return status


def cmd_summary(args) -> int:
    from engine.store import open_results
    from engine.summary import format_summary, summarize

    ds = open_results(args.results)
    try:
        summary = summarize(ds)
    finally:
        ds.close()
    if args.json:
        print(json.dumps(summary, allow_nan=True))
    else:
        print(format_summary(summary))
    return 0


def cmd_plot(args) -> int:
    from engine.plots import write_plots
    from engine.store import open_results

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ResultsError.one(str(out), "--out", "is a file, not a folder", str(out))
    ds = open_results(args.results)
    try:
        written = write_plots(ds, out)
    finally:
        ds.close()
    print(f"wrote {len(written)} figures to {out}/")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "summary": cmd_summary,
            "plot": cmd_plot}


if __name__ == "__main__":
    sys.exit(main())

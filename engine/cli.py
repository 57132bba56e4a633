"""The ``mutualsim`` command line (DESIGN §5); ``main(argv) -> int``.

User errors print one line each (``FILE: key: what (got VALUE)``) and exit with status 2;
nothing is written. Ctrl-C during a run leaves nothing at the target name.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.errors import InputError, ResultsError
from engine.resolved import provenance


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every user error
        self.exit(2, f"{self.prog}: {message}\n")


def _int_at_least(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be ≥ {minimum} (got {value})")
        return value
    return parse


_positive_int = _int_at_least(1)
_nonnegative_int = _int_at_least(0)


def _quarter_end_date(text: str) -> str:
    """A valuation date: a quarter's last day, ``YYYY-MM-DD``."""
    from engine.studies.net_value import quarter_end, quarter_of_date
    try:
        return quarter_end(quarter_of_date(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a quarter's last day like 2019-12-31 "
                                         f"(got {text!r})") from None


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
    if not 0 <= value < 2 ** 64:
        raise argparse.ArgumentTypeError(f"must be in [0, 2**64) (got {value})")
    return value


def _run_arguments(run: argparse.ArgumentParser) -> None:
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("--paths", type=_positive_int, help="paths per scenario (default: file)")
    run.add_argument("--seed", type=_seed, help="root seed (default: file)")
    run.add_argument("--threads", type=_positive_int,
                     help="numba threads (default: all cores)")
    run.add_argument("--chunk", type=_positive_int,
                     help="paths per chunk (default 1000 with numba, 250 with numpy)")
    run.add_argument("--backend", choices=("numba", "numpy"), default="numba",
                     help="numba kernel (default) or the numpy reference; same results")
    run.add_argument("--out", help="results file (default results/<scenario>.h5)")
    run.add_argument("--resume", action="store_true",
                     help="continue an interrupted run of the same scenario, seed and paths")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--force", action="store_true",
                     help="run a sweep of more than 1,000 scenarios")
    run.add_argument("--scheduler", help="run on Dask: local:N (N worker processes), "
                     "tls://HOST:PORT (a running scheduler, with the --tls-* certificates) or "
                     "tcp://HOST:PORT (a running scheduler, unencrypted: only on a trusted "
                     "network)")
    # Named as ``dask scheduler``'s own options; each one not given comes from Dask's
    # configuration (distributed.comm.tls.ca-file, .client.cert, .client.key).
    run.add_argument("--tls-ca-file", help="the cluster's CA certificate (PEM), for a "
                     "tls:// scheduler")
    run.add_argument("--tls-cert", help="this client's certificate (PEM), signed by the CA")
    run.add_argument("--tls-key", help="this client's private key (PEM; default: in the "
                     "--tls-cert file)")


def _validate_arguments(val: argparse.ArgumentParser) -> None:
    val.add_argument("scenarios", nargs="+")
    val.add_argument("--force", action="store_true",
                     help="accept sweeps of more than 1,000 scenarios")


def _summary_arguments(summ: argparse.ArgumentParser) -> None:
    summ.add_argument("results")
    summ.add_argument("--json", action="store_true", help="print one JSON object")
    summ.add_argument("--pooled", action="store_true",
                      help="pool the paths of all scenarios (e.g. the draws of a fitted set)")


def _calibrate_arguments(cal: argparse.ArgumentParser) -> None:
    cal.add_argument("observations", help="observations CSV")
    cal.add_argument("--scenario", required=True, help="base scenario (TOML)")
    cal.add_argument("--out", required=True, help="fitted scenario to write (TOML)")
    cal.add_argument("--until", help="fit on observations up to this date; backtest the rest")
    cal.add_argument("--draws", type=_nonnegative_int, default=20,
                     help="parameter draws written as a scenario set (default 20)")
    cal.add_argument("--paths", type=_positive_int, default=100,
                     help="paths per draw for the backtest (default 100)")


def _compare_arguments(comp: argparse.ArgumentParser) -> None:
    comp.add_argument("results")
    comp.add_argument("--out", help="folder for the tables and figures "
                      "(default: next to the results, RESULTS_compare/)")
    comp.add_argument("--format", default="csv,md", help="tables to write, comma-separated: "
                      "csv, md, parquet, xlsx (default csv,md)")
    comp.add_argument("--charts", choices=("set", "all"), help="set: figures of the set "
                      "as a whole; all: also every scenario's own (default: all up to 20 "
                      "scenarios, set beyond)")


def _sensitivity_arguments(sens: argparse.ArgumentParser) -> None:
    from engine.analysis.sensitivity import OUTPUTS

    sens.add_argument("results")
    sens.add_argument("--output", action="append", metavar="NAME",
                      help=f"a risk measure (repeat for several; default all: "
                      f"{', '.join(OUTPUTS)})")
    sens.add_argument("--out", help="folder for the indices' CSV, JSON and charts "
                      "(default: next to the results, RESULTS_sensitivity/)")


def _report_arguments(rep: argparse.ArgumentParser) -> None:
    rep.add_argument("results")
    rep.add_argument("--out", required=True, help="HTML file to write")


def _fairness_arguments(fair: argparse.ArgumentParser) -> None:
    fair.add_argument("scenario", help="scenario file (its base scenario is analysed)")
    fair.add_argument("--csv", help="also write the table to this CSV file")


def _disclose_arguments(disc: argparse.ArgumentParser) -> None:
    disc.add_argument("observations", help="observations CSV")
    disc.add_argument("results", help="results file (HDF5)")
    disc.add_argument("--out", required=True, help="folder for the tables")
    disc.add_argument("--scenario", help="the scenario of the results to read (default: "
                      "all pooled for independent streams, else the first)")


def _study_arguments(stud: argparse.ArgumentParser) -> None:
    stud.add_argument("scenario", help="scenario or platform file (TOML)")
    stud.add_argument("observations", help="observations CSV")
    stud.add_argument("--out", required=True, help="folder for the document and its runs")
    stud.add_argument("--paths", type=_positive_int,
                      help="paths per run (default: the file's, at most 400)")
    stud.add_argument("--valuation-date", type=_quarter_end_date,
                      help="date of the net value, a quarter's last day (default: the end of "
                      "the calibration data a fitted file names, else of the last figure's "
                      "quarter)")


def _plot_arguments(plot: argparse.ArgumentParser) -> None:
    plot.add_argument("results")
    plot.add_argument("--out", required=True, help="folder for the figures")
    plot.add_argument("--pooled", action="store_true",
                      help="one set of figures from the paths of all scenarios")
    plot.add_argument("--charts", choices=("set", "all"), help="set: figures of the set as "
                      "a whole and the base scenario's; all: every scenario's (default: all "
                      "up to 20 scenarios, set beyond)")


# The subcommands in the order ``--help`` lists them: name, help, their arguments.
SUBCOMMANDS = (
    ("run", "simulate a scenario (or set) and write results", _run_arguments),
    ("validate", "check scenario files", _validate_arguments),
    ("summary", "summarise a results file", _summary_arguments),
    ("calibrate", "fit a scenario to published figures", _calibrate_arguments),
    ("compare", "compare the scenarios of a results file", _compare_arguments),
    ("sensitivity", "which swept assumption moves each risk measure: Sobol or "
     "moment-independent indices with 95 % intervals", _sensitivity_arguments),
    ("report", "one self-contained HTML page of a results file", _report_arguments),
    ("fairness", "contributions against benefits by age and sex", _fairness_arguments),
    ("disclose", "published figures against a run, reserve adequacy and the quarterly "
     "disclosure (CSV and HTML)", _disclose_arguments),
    ("study", "one HTML document answering the study's questions for a scenario or "
     "platform, against its published figures", _study_arguments),
    ("plot", "write PNG figures of a results file", _plot_arguments),
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mutualsim", description="Monte Carlo engine for online "
                     "mutual-aid platforms.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, help_text, add_arguments in SUBCOMMANDS:
        add_arguments(sub.add_parser(name, help=help_text))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import matplotlib

    # Files, never windows: the command line draws with Agg (the library leaves the
    # backend to its caller).
    matplotlib.use("Agg")
    try:
        return COMMANDS[args.command](args)
    except InputError as exc:
        for problem in exc.problems:
            print(str(problem), file=sys.stderr)
        return 2


def cmd_run(args) -> int:
    from engine.run.runner import RunRequest, default_output, run

    request = RunRequest(
        scenario=args.scenario,
        out=Path(args.out) if args.out else default_output(args.scenario),
        paths=args.paths, seed=args.seed, chunk=args.chunk, backend=args.backend,
        threads=args.threads, resume=args.resume, quiet=args.quiet, force=args.force,
        scheduler=args.scheduler, tls_ca_file=args.tls_ca_file, tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        command="mutualsim " + " ".join(sys.argv[1:]))
    try:
        report = run(request)
    except KeyboardInterrupt:
        print(f"interrupted: nothing written to {request.out}; the finished chunks are kept "
              f"({request.out.name}.part, {request.out.name}.chunks/): run again with --resume "
              "to complete it", file=sys.stderr)
        return 130
    finally:
        for note in request.notes:
            print(f"note: {note}", file=sys.stderr)
    if report.already_complete:
        print(f"{report.out} is already complete")
    elif not args.quiet:
        total = report.paths * report.scenarios
        print(f"wrote {report.out}: {report.scenarios} scenario(s) × {report.paths} paths × "
              f"{report.quarters} quarters in {report.seconds:.1f} s "
              f"({total / report.seconds:,.0f} paths/s"
              + (f"; {report.chunks_reused} chunk(s) resumed" if report.chunks_reused else "")
              + ")")
    return 0


def cmd_validate(args) -> int:
    from engine.config.scenario import load_scenario_set

    status = 0
    for path in args.scenarios:
        try:
            ss = load_scenario_set(path, force=args.force)
        except InputError as exc:
            for problem in exc.problems:
                print(str(problem), file=sys.stderr)
            status = 2
            continue
        b = ss.base.scenario
        plans = ss.base.plans
        names = ", ".join(p.name.rsplit(".", 1)[-1] for p in plans)
        print(f"{path}: ok ({len(ss.scenarios)} scenario(s), {b.quarters} quarters from "
              f"{b.start}, {b.paths} paths"
              + (f"; a platform of {len(plans)} plans: {names}" if plans else "") + ")")
    return status


def cmd_summary(args) -> int:
    from engine.analysis.summary import format_summary, summarize
    from engine.store import open_results

    ds = open_results(args.results)
    try:
        summary = summarize(ds, pooled=args.pooled)
    finally:
        ds.close()
    if args.json:
        print(json.dumps(summary, allow_nan=True))
    else:
        print(format_summary(summary))
    return 0


def cmd_plot(args) -> int:
    from engine.report.comparison import default_charts, write_set_plots
    from engine.report.plots import write_plots
    from engine.store import open_results

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise ResultsError.one(str(out), "--out", "is a file, not a folder", str(out))
    ds = open_results(args.results)
    try:
        charts = args.charts or default_charts(int(ds.sizes["scenario"]))
        if charts == "set" and not args.pooled:
            written = write_set_plots(ds, out)
        else:
            written = write_plots(ds, out, pooled=args.pooled)
        print(provenance(ds))
    finally:
        ds.close()
    print(f"wrote {len(written)} figures to {out}/")
    return 0


def cmd_calibrate(args) -> int:
    import datetime as dt

    from engine.errors import InputError
    from engine.studies.calibrate import run_calibration
    from engine.studies.observations import date_span

    until = None
    if args.until:
        try:
            until = date_span(args.until)[1] - dt.timedelta(days=1)
        except ValueError:
            raise InputError.one("--until", "", "must be a day, month, quarter or year",
                                 args.until) from None
    print(run_calibration(args.observations, args.scenario, args.out, until, args.draws,
                          args.paths))
    return 0


def _out_folder(args, suffix: str) -> Path:
    """``--out``, or a folder next to the results named ``RESULTS{suffix}``; an error if it
    is a file."""
    out = Path(args.out) if args.out else Path(args.results).with_name(
        Path(args.results).stem + suffix)
    if out.exists() and not out.is_dir():
        raise ResultsError.one(str(out), "--out", "is a file, not a folder", str(out))
    return out


def cmd_compare(args) -> int:
    from engine.analysis.compare import compare, effects_table
    from engine.analysis.sensitivity import effect_indices
    from engine.report.compare_tables import FORMATS, console_table
    from engine.report.comparison import write_comparison
    from engine.store import open_results

    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ResultsError.one(args.results, "--format", f"each of {', '.join(FORMATS)}",
                               args.format)
    out = _out_folder(args, "_compare")
    ds = open_results(args.results)
    try:
        comparison = compare(ds)
        written = write_comparison(comparison, ds, out, formats, args.charts,
                                   effect_indices(ds, comparison))
        print(provenance(ds))
    finally:
        ds.close()
    print(console_table(comparison))
    if comparison.swept_keys:
        print(effects_table(comparison))
    print(f"\nwrote {len(written)} files to {out}/")
    return 0


def cmd_sensitivity(args) -> int:
    from engine.analysis.sensitivity import OUTPUTS, SensitivityError, indices
    from engine.report.sensitivity_files import format_indices, write_sensitivity
    from engine.store import open_results

    out = _out_folder(args, "_sensitivity")
    ds = open_results(args.results)
    try:
        results = indices(ds, args.output or list(OUTPUTS))
        print(provenance(ds))
    except SensitivityError as exc:
        raise ResultsError.one(args.results, exc.key, exc.what, exc.got) from None
    finally:
        ds.close()
    print(format_indices(results))
    written = write_sensitivity(results, out)
    print(f"\nwrote {len(written)} files to {out}/")
    return 0


def cmd_report(args) -> int:
    from engine.report.html import write_report
    from engine.store import check_output_path, open_results
    from engine.studies.fairness import fairness_text

    out = check_output_path(args.out)
    ds = open_results(args.results)
    try:
        write_report(ds, out, fairness=fairness_text(ds))
        print(provenance(ds))
    finally:
        ds.close()
    print(f"wrote {out}")
    return 0


def output_folder(path: str, key: str = "--out") -> Path:
    """A folder to write into (made if missing); one-line error if it cannot be."""
    from engine.errors import ResultsError

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ResultsError.one(str(folder), key, "is a file, not a folder", str(folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError.one(str(folder), key, f"cannot make the folder ({exc.strerror})",
                               str(folder)) from None
    return folder


def cmd_disclose(args) -> int:
    from engine.store import open_results
    from engine.studies.disclosure import disclose, write_disclosure

    ds = open_results(args.results)
    try:
        d = disclose(args.observations, ds, args.scenario)
        print(provenance(ds))
    finally:
        ds.close()
    for path in write_disclosure(d, output_folder(args.out)):
        print(f"wrote {path}")
    flagged = [r for r in d.actual_expected if not r.inside_90]
    print(f"{len(d.actual_expected)} figures against {d.paths_said} ({d.scenario}); "
          f"{len(flagged)} outside the 90% interval"
          + "".join(f"\n  row {r.observation.row} {r.observation.date} "
                    f"{r.observation.metric}: {r.flag}" for r in flagged))
    return 0


def cmd_study(args) -> int:
    from engine.studies.study import run_study

    target = run_study(args.scenario, args.observations, args.out, args.paths,
                       valuation_date=args.valuation_date)
    print(f"wrote {target}")
    return 0


def cmd_fairness(args) -> int:
    import csv
    from dataclasses import asdict

    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.store import check_output_path
    from engine.studies.fairness import analyse, format_table

    scenario_set = load_scenario_set(args.scenario)
    rows = analyse(build_inputs(scenario_set.base))
    print(f"scenario {scenario_set.base.name}")
    print(format_table(rows))
    if args.csv:
        path = check_output_path(args.csv)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=[*asdict(rows[0]), "ratio"])
            writer.writeheader()
            for row in rows:
                writer.writerow({**asdict(row), "ratio": row.ratio})
        print(f"wrote {path}")
    return 0


COMMANDS = {"run": cmd_run, "validate": cmd_validate, "summary": cmd_summary,
            "plot": cmd_plot, "calibrate": cmd_calibrate, "compare": cmd_compare,
            "sensitivity": cmd_sensitivity,
            "report": cmd_report, "fairness": cmd_fairness, "disclose": cmd_disclose,
            "study": cmd_study}


if __name__ == "__main__":
    sys.exit(main())

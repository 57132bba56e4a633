"""The ``mutualsim`` command line (DESIGN §5); ``main(argv) -> int``.

User errors print one line each (``FILE: key: what (got VALUE)``) and exit with status 2;
nothing is written. Ctrl-C during a run leaves nothing at the target name.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from engine.cli_options import SUBCOMMANDS
from engine.config.platform import plan_label
from engine.errors import InputError, OptionError, ResultsError
from engine.resolved import provenance


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every user error
        self.exit(2, f"{self.prog}: {message}\n")


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
        tls_key=args.tls_key, precision=args.precision,
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
        total = sum(report.paths_used) or report.paths * report.scenarios
        counts = sorted(set(report.paths_used))
        paths = (f"{report.paths} paths" if len(counts) <= 1 else
                 f"{counts[0]}-{counts[-1]} paths (by scenario, to their precision)")
        print(f"wrote {report.out}: {report.scenarios} scenario(s) × {paths} × "
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
        names = ", ".join(plan_label(p.name) for p in plans)
        precision = ss.base.precision
        paths = (f"{precision.min_paths}-{precision.max_paths} paths to its [precision] "
                 f"({len(precision.targets)} target(s))" if precision.targets
                 else f"{b.paths} paths")
        print(f"{path}: ok ({len(ss.scenarios)} scenario(s), {b.quarters} quarters from "
              f"{b.start}, {paths}"
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


@contextlib.contextmanager
def _reading(args):
    """The results file ``args.results``, opened (its checks passed) and closed after; an
    option the analysis cannot take (:class:`~engine.errors.OptionError`) becomes one line
    naming the file, the option and the value."""
    from engine.store import open_results

    ds = open_results(args.results)
    try:
        yield ds
    except OptionError as exc:
        raise ResultsError.one(args.results, exc.key, exc.what, exc.got) from None
    finally:
        ds.close()


def cmd_sensitivity(args) -> int:
    from engine.analysis.sensitivity import OUTPUTS, indices
    from engine.report.sensitivity_files import format_indices, write_sensitivity

    out = _out_folder(args, "_sensitivity")
    with _reading(args) as ds:
        results = indices(ds, args.output or list(OUTPUTS))
        print(provenance(ds))
    print(format_indices(results))
    written = write_sensitivity(results, out)
    print(f"\nwrote {len(written)} files to {out}/")
    return 0


def cmd_reverse_stress(args) -> int:
    from engine.report.reverse_stress_page import write_page
    from engine.studies.reverse_stress import analyse, format_text, write_files

    out = _out_folder(args, "_reverse_stress")
    with _reading(args) as ds:
        result = analyse(ds, args.event, args.scenario, results=args.results,
                         scenario_file=args.scenario_file, out_dir=out)
        written_by = provenance(ds)
    print(written_by)
    print(format_text(result))
    written = write_files(result, out)
    written.append(write_page(result, written_by, out / "reverse_stress.html"))
    print(f"\nwrote {len(written)} files to {out}/")
    return 0


def cmd_stress_weights(args) -> int:
    from engine.studies.stress_test import format_text, stress_weights, write_files

    out = _out_folder(args, "_stress")
    with _reading(args) as ds:
        names = [str(s) for s in ds["scenario"].values]
        if args.scenario is not None and args.scenario not in names:
            raise OptionError("not a scenario of the file", args.scenario, "--scenario")
        result = stress_weights(ds, args.stress, names.index(args.scenario or names[0]))
        print(provenance(ds))
        print(format_text(result))
        written = write_files(ds, result, args.results, out)
    print(f"\nwrote {len(written)} files to {out}/ (stressed.h5 reads with `mutualsim "
          "summary`)")
    return 0


def cmd_report(args) -> int:
    from engine.report.html import write_report
    from engine.store import check_output_path, open_results
    from engine.studies.fairness import fairness_text
    from engine.studies.reverse_stress import report_section

    out = check_output_path(args.out)
    ds = open_results(args.results)
    try:
        write_report(ds, out, fairness=fairness_text(ds),
                     reverse_stress=report_section(ds, args.results))
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
                    f"{r.observation.label}: {r.flag}" for r in flagged)
          + "".join(f"\n  row {o.row} {o.date} {o.label}: not checked, {why}"
                    for o, why in d.unchecked))
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

    from engine.analysis.profiles import format_profiles
    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.store import check_output_path
    from engine.studies.fairness import analyse, expected_profiles, format_table

    scenario_set = load_scenario_set(args.scenario)
    rows = analyse(build_inputs(scenario_set.base))
    print(f"scenario {scenario_set.base.name}")
    print(format_table(rows))
    print("who claims and who is a member on the expected path (every draw at its mean):")
    print("\n".join(format_profiles(expected_profiles(scenario_set.base), single=True)))
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
            "sensitivity": cmd_sensitivity, "reverse-stress": cmd_reverse_stress,
            "stress-weights": cmd_stress_weights,
            "report": cmd_report, "fairness": cmd_fairness, "disclose": cmd_disclose,
            "study": cmd_study}


if __name__ == "__main__":
    sys.exit(main())

"""The ``mutualsim`` command line's options: each subcommand's arguments and their checks
(:mod:`engine.cli` runs them)."""

from __future__ import annotations

import argparse


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
    run.add_argument("--paths", type=_positive_int,
                     help="a fixed count of paths per scenario (default: the file's "
                          "[precision] table, else scenario.paths)")
    run.add_argument("--precision", action="append", metavar="SPEC",
                     help="stop when a statistic is known to a standard error, replacing "
                          "the file's [precision] table (repeat for more targets): "
                          "statistic=mean|var|tvar|ruin,variable=NAME,year=Y (or 1..4),"
                          "level=0.995,by=2022Q1,relative_se=2%% or absolute_se=X; "
                          "min_paths=N,max_paths=N bound the run")
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


def _reverse_stress_arguments(rev: argparse.ArgumentParser) -> None:
    rev.add_argument("results")
    rev.add_argument("--event", required=True, help="'ruin by QUARTER', 'shortfall year N > "
                     "YUAN', 'cost_per_member year N > YUAN' or 'members at QUARTER < N'")
    rev.add_argument("--scenario", help="the scenario whose drivers are read (default: the "
                     "first)")
    rev.add_argument("--scenario-file", help="the scenario file the results were run from, "
                     "for the search of the most likely way to fail (default: the one the "
                     "file names, if its text is unchanged)")
    rev.add_argument("--out", help="folder for the answer's JSON and CSV (default: next to "
                     "the results, RESULTS_reverse_stress/)")


def _stress_weights_arguments(sw: argparse.ArgumentParser) -> None:
    sw.add_argument("results")
    sw.add_argument("--stress", required=True, help="'mean OUTPUT +10%%', 'VaR99.5 OUTPUT "
                    "+10%%', 'TVaR99.5 OUTPUT = VALUE' or 'P OUTPUT > THRESHOLD = 2%%'; "
                    "OUTPUT like 'shortfall year 4' or 'members at 2021Q4'")
    sw.add_argument("--scenario", help="the scenario whose moves are shown (default: the "
                    "first; every scenario is reweighted)")
    sw.add_argument("--out", help="folder for stressed.h5, the moves and the chart "
                    "(default: next to the results, RESULTS_stress/)")


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
    ("reverse-stress", "what would make an event happen (ruin, a shortfall, a cost, too few "
     "members): its probability and the drivers it comes from", _reverse_stress_arguments),
    ("stress-weights", "the path weights nearest the file's (least KL divergence) that "
     "meet a stress on one output, and how every driver and output moves under them",
     _stress_weights_arguments),
    ("report", "one self-contained HTML page of a results file", _report_arguments),
    ("fairness", "contributions against benefits by age and sex", _fairness_arguments),
    ("disclose", "published figures against a run, reserve adequacy and the quarterly "
     "disclosure (CSV and HTML)", _disclose_arguments),
    ("study", "one HTML document answering the study's questions for a scenario or "
     "platform, against its published figures", _study_arguments),
    ("plot", "write PNG figures of a results file", _plot_arguments),
)

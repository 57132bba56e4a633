"""The study's analysis of one platform, end to end (shared by the two example scripts).

1. Calibrate the platform's scenario to its published figures (`mutualsim calibrate`),
   with parameter uncertainty as a set of parameter draws, and backtest if asked.
2. Run the fitted set: draws × paths, the numba kernel, results in HDF5.
3. Answer the four questions from the pooled paths (parameter and process uncertainty):
   valid members and claims per quarter, the platform's value, mutual aid's market share;
   and put the risks in numbers: ruin probability, solvency gap, one-year shortfall.
4. Write the figures.
5. Write the study document (`mutualsim study`): development, advantages, risks,
   sustainability and tested recommendations, against the published figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np

from engine.analysis.summary import format_amount, format_market_share, summarize
from engine.report.plots import write_plots
from engine.run.runner import RunRequest, run
from engine.store import open_results
from engine.studies.calibrate import run_calibration
from engine.studies.study import run_study

ROOT = Path(__file__).resolve().parents[1]


def arguments(description: str, default_out: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--paths", type=int, default=1000,
                        help="paths in all, shared among the parameter draws (default 1000)")
    parser.add_argument("--draws", type=int, default=20,
                        help="parameter draws from the calibration (default 20)")
    parser.add_argument("--out", default=default_out, help="folder for the outputs")
    parser.add_argument("--quiet", action="store_true")
    return parser.parse_args()


fmt = format_amount


def analyse(name: str, observations: Path, scenario: Path, until: dt.date | None,
            args: argparse.Namespace, study_scenario: Path | None = None) -> dict:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fitted = out / f"{name}_fitted.toml"
    print(f"== 1. calibration of {scenario.name} to {observations.name}\n")
    print(run_calibration(observations, scenario, fitted, until, args.draws,
                          max(1, args.paths // max(args.draws, 1))))

    print(f"\n== 2. simulation of the fitted set ({args.draws} parameter draws)\n")
    results = out / f"{name}_fitted.h5"
    per_draw = max(1, args.paths // max(args.draws, 1))
    report = run(RunRequest(scenario=str(fitted), out=results, paths=per_draw,
                            quiet=args.quiet))
    print(f"{report.scenarios} draws × {report.paths} paths × {report.quarters} quarters "
          f"in {report.seconds:.1f} s -> {results}")

    with open_results(results) as ds:
        summary = summarize(ds, pooled=True)
        figures = write_plots(ds, out / "plots", pooled=True)
    key = summary["scenarios"][0]
    quarters = summary["quarters"]
    print("\n== 3. the four answers (pooled over draws and paths: parameter and process "
          "uncertainty)\n")
    print("(1) valid members and claims per quarter: median [50% interval] [90% interval]")
    mem, clm = summary["members_quantiles"][key], summary["claims_quantiles"][key]
    for t, q in enumerate(quarters):
        print(f"  {q}  members {fmt(mem['0.5'][t]):>10} [{fmt(mem['0.25'][t])} – "
              f"{fmt(mem['0.75'][t])}] [{fmt(mem['0.05'][t])} – {fmt(mem['0.95'][t])}]   "
              f"claims {fmt(clm['0.5'][t]):>8} [{fmt(clm['0.25'][t])} – {fmt(clm['0.75'][t])}]"
              f" [{fmt(clm['0.05'][t])} – {fmt(clm['0.95'][t])}]")
    value = summary["platform_value"][key]
    q = value["quantiles"]
    print("\n(2) platform value as the results file computes it: fees less the scenario's "
          "[valuation] costs (zero unless it sets them), yuan at the run's start; the study "
          "document (step 5) gives the value net of costs at the valuation date")
    print(f"    mean {fmt(value['mean'])} "
          f"(s.e. {fmt(value['mean_se'])}); median {fmt(q['0.5'])}, 90% interval "
          f"{fmt(q['0.05'])} – {fmt(q['0.95'])}")
    print("\n(3) mutual aid's market share: members' contributions / China's commercial "
          "health insurance premiums")
    print("\n".join(format_market_share(summary, key)))
    print("\n(4) the risks in numbers")
    ruin = summary["ruin_probability"][key]
    by_quarter = summary["ruin_probability_by_quarter"][key]
    first = next((quarters[t] for t, p in enumerate(by_quarter) if p >= 0.5), "never")
    gap = np.array(summary["mean"][key]["shortfall"]).cumsum()
    print(f"  probability of a solvency gap by the end: {ruin:.3f} (MC s.e. "
          f"{summary['ruin_probability_se'][key]:.3f}); half the paths are in a gap by: {first}")
    print(f"  mean cumulative shortfall by the end: {fmt(gap[-1])} yuan")
    years = summary["shortfall_var_995_by_year"][key]
    tvars = summary["shortfall_tvar_995_by_year"][key]
    for y, (v, tv) in enumerate(zip(years, tvars, strict=True)):
        print(f"  projection year {y + 1} (from {quarters[4 * y]}): one-year shortfall VaR 99.5% "
              f"{fmt(v)} yuan, TVaR 99.5% {fmt(tv)} yuan")
    cost = summary["cost_per_member_quantiles"][key]
    print("  cost per member per quarter, median: "
          + ", ".join(f"{quarters[t]} {cost['0.5'][t]:.1f}" for t in range(0, len(quarters), 4)))
    if figures:
        print(f"\nfigures: {out / 'plots'}/ ({len(figures)} files) and "
              f"{fitted.with_suffix('.png')}")
    study_file = study_scenario or fitted
    print(f"\n== 5. the study document (`mutualsim study {study_file.name} "
          f"{observations.name}`)\n")
    # the fitted file keeps no comments: the document lists the base scenario's
    document = run_study(study_file, observations, out / "study", paths=per_draw,
                         policy_paths=max(per_draw, args.paths // 4),
                         assumptions_from=scenario if study_scenario is None else study_scenario)
    print(f"wrote {document}")
    return summary

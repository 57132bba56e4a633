"""Paths a precision run saves: the default scenario with its own ``[precision]`` table.

Measurement ``precision``: ``mutualsim run scenarios/xianghubao.toml`` in this process, its
``[precision]`` table asking ±2 % (one s.e.) on the mean cost per member in projection years
1-4 and ±5 % on VaR 99.5 % of year 4's shortfall (docs/precision.md). ``precision_paths_saved``
is the paths a fixed-count user would run (the file's ``scenario.paths``) over the paths the
precision run used: above 1 the table saved paths, below 1 the fixed count was too few for
the precision asked.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import DEFAULT_SCENARIO, Context


def _spec(target: dict) -> str:
    """A ``[precision]`` target as a ``--precision`` spec (years as a range ``1..4``)."""
    parts = [f"{k}={v}" for k, v in target.items() if v is not None and k != "year"]
    years = target.get("year")
    if years:
        parts.append(f"year={years[0]}" if len(years) == 1 else f"year={years[0]}..{years[-1]}")
    return ",".join(parts)


def precision_run(max_paths: int | None = None) -> dict:
    """Run the default scenario to its precision (``max_paths`` lowers the cap, for a smoke
    test) and read back what each target reached.

    Returns
    -------
    dict
        ``precision_paths_used``, ``precision_paths_fixed`` (``scenario.paths``),
        ``precision_paths_saved`` (their ratio), ``precision_run_s`` (seconds, compile
        excluded: the kernel is loaded first) and ``precision_targets`` (each target's
        label, asked s.e., reached s.e. and whether met).
    """
    from engine.analysis.summary import summarize
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.runner import RunRequest, run
    from engine.store import open_results

    base = load_scenario_set(DEFAULT_SCENARIO).base
    simulate_plans(build_run_inputs(base), base.scenario.seed, 0, 2)   # compiled first
    specs = None
    if max_paths is not None:        # the file's targets, a lower cap
        specs = [_spec(t) for t in base.precision.targets]
        specs.append(f"min_paths={min(base.precision.min_paths, max_paths)},"
                     f"max_paths={max_paths}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "precision.h5"
        t0 = time.perf_counter()
        report = run(RunRequest(scenario=str(DEFAULT_SCENARIO), out=out, quiet=True,
                                precision=specs))
        seconds = time.perf_counter() - t0
        with open_results(out) as ds:
            figures = summarize(ds)
    used = max(report.paths_used)
    rows = figures["precision"][figures["scenarios"][0]]
    return {"precision_paths_used": used, "precision_paths_fixed": base.scenario.paths,
            "precision_paths_saved": base.scenario.paths / used,
            "precision_run_s": seconds,
            "precision_targets": [{"target": r["target"], "asked": r["asked"],
                                   "se_relative": r["se_relative"], "met": r["met"]}
                                  for r in rows]}


def measure(context: Context) -> dict:
    """The ``precision`` measurement (quick: at most 200 paths)."""
    return precision_run(context.size(None, 200))

"""(k) The analysis of large scenario sets (issue 27): ``compare`` and ``report`` of a Latin
set of 100 and of 1,000 scenarios, the same paths per scenario, in child processes.

Measurement ``analysis_sets``: the default scenario (``scenarios/xianghubao.toml``, the model
an actuary's set is made of: 60 ages × 2 sexes × durations, 21 quarters) swept over its base
lapse and incidence trend; each set is run (``mutualsim run --force``), then compared and
reported, and each command's wall seconds are kept. The targets are ratios in one run: the
analysis time per scenario at 1,000 scenarios over that at 100 (linear growth: at most 1.2)
and the analysis of the 1,000-scenario set over its run (at most 5 %). The full measurement
runs 110,000 paths of the default model (about 15 minutes on two cores); ``--quick`` runs the
small plan (``benchmarks/small_plan.toml``, 40 cells per path and quarter), whose run is so
cheap that the analysis/run ratio says nothing about a real set.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ROOT, Context

SWEEP = """
[sweep]
method = "latin"
samples = {samples}
"lapse.base_quarterly" = {{low = 0.005, high = 0.05}}
"incidence.trend_per_year" = {{low = 0.0, high = 0.04}}
"""


def _timed(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, check=True,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - t0


def analysis_sets(sizes: tuple[int, int] = (100, 1000), paths: int = 100,
                  base_scenario: str = "scenarios/xianghubao.toml") -> dict:
    """Run, compare and report a Latin set of each size of ``sizes``, ``paths`` paths each,
    over ``base_scenario`` (relative to the repository root).

    Returns
    -------
    dict
        ``analysis_sets_paths``; per size ``n``: ``set_run_s_n``, ``set_compare_s_n``,
        ``set_report_s_n``; ``analysis_per_scenario_ratio`` (compare + report seconds per
        scenario at the larger size over the smaller) and ``analysis_over_run_large``
        (compare + report over the run, the larger set).
    """
    base = f'extends = "{(ROOT / base_scenario).as_posix()}"\n'
    out: dict = {"analysis_sets_paths": paths, "analysis_sets_base": base_scenario}
    per_scenario = {}
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            scenario = Path(folder) / f"set_{n}.toml"
            scenario.write_text(base + SWEEP.format(samples=n), encoding="utf-8")
            results = Path(folder) / f"set_{n}.h5"
            out[f"set_run_s_{n}"] = _timed("run", str(scenario), "--paths", str(paths),
                                           "--out", str(results), "--quiet", "--force")
            out[f"set_compare_s_{n}"] = _timed("compare", str(results), "--out",
                                               str(Path(folder) / f"cmp_{n}"))
            out[f"set_report_s_{n}"] = _timed("report", str(results), "--out",
                                              str(Path(folder) / f"report_{n}.html"))
            per_scenario[n] = (out[f"set_compare_s_{n}"] + out[f"set_report_s_{n}"]) / n
    small, large = sizes
    out["analysis_per_scenario_ratio"] = per_scenario[large] / per_scenario[small]
    out["analysis_over_run_large"] = ((out[f"set_compare_s_{large}"]
                                       + out[f"set_report_s_{large}"])
                                      / out[f"set_run_s_{large}"])
    return out


def measure(context: Context) -> dict:
    """The ``analysis_sets`` measurement: 100 and 1,000 scenarios × 100 paths of the default
    scenario (quick: 10 and 40 × 5 of the small plan)."""
    if context.quick:
        return analysis_sets((10, 40), 5, "benchmarks/small_plan.toml")
    return analysis_sets()

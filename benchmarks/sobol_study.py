"""(l) The shipped Sobol study (``scenarios/stress/sobol_capital.toml``, issue 27): its
paths and how narrow its total indices' intervals are.

Measurement ``sobol``: the study run in a child process (``mutualsim run``, its ``[tail]``
pilot included), then ``mutualsim sensitivity`` for the capital at 99.5 % of projection
year 4 and the mean cost per member. Targets: every total index's 95 % interval no wider
than ±0.1 (``sobol_max_halfwidth``), in no more than 200,000 simulated paths, the pilot's
included (``sobol_paths``). Under ``--quick`` it is left out (it takes about a quarter of an
hour on two cores) and says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from benchmarks.common import ROOT, Context

STUDY = ROOT / "scenarios" / "stress" / "sobol_capital.toml"
OUTPUTS = ("capital_995_year_4", "cost_per_member_year_mean")
PILOT_ROUNDS = 3          # engine.run.tail.ROUNDS: the most rounds a pilot runs


def _engine(*args: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "engine", *args], cwd=ROOT, check=True,
                   capture_output=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    return time.perf_counter() - t0


def sobol_study() -> dict:
    """Run the study and its indices.

    Returns
    -------
    dict
        ``sobol_scenarios``, ``sobol_paths`` (simulated paths and the pilot's at most),
        ``sobol_run_s``, ``sobol_sensitivity_s``, ``sobol_max_halfwidth`` (the widest total
        index's half-interval over both outputs) and ``sobol_indices`` (output → key →
        ``[ST, low, high]``).
    """
    doc = tomllib.loads(STUDY.read_text(encoding="utf-8"))
    sweep = doc["sweep"]
    keys = [k for k in sweep if "." in k]
    scenarios = sweep["samples"] * (len(keys) + 2)
    paths = doc["scenario"]["paths"]
    out: dict = {"sobol_scenarios": scenarios,
                 "sobol_paths": scenarios * paths + PILOT_ROUNDS * doc["tail"]["pilot_paths"]}
    with tempfile.TemporaryDirectory() as folder:
        results = Path(folder) / "sobol.h5"
        out["sobol_run_s"] = _engine("run", str(STUDY), "--out", str(results), "--quiet")
        sens = Path(folder) / "sens"
        out["sobol_sensitivity_s"] = _engine(
            "sensitivity", str(results), "--out", str(sens),
            *[a for o in OUTPUTS for a in ("--output", o)])
        record = json.loads((sens / "sensitivity.json").read_text(encoding="utf-8"))
    indices = {o["output"]: {r["key"]: [r["value"], r["low"], r["high"]]
                             for r in o["indices"] if r["index"] == "ST"}
               for o in record["outputs"]}
    out["sobol_indices"] = indices
    out["sobol_max_halfwidth"] = max((high - low) / 2 for by_key in indices.values()
                                     for _, low, high in by_key.values())
    return out


def measure(context: Context) -> dict:
    """The ``sobol`` measurement (left out under ``--quick``)."""
    if context.quick:
        return {"sobol_note": "left out under --quick (about a quarter of an hour)"}
    return sobol_study()

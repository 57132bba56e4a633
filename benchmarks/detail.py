"""What results by sex, age band, risk group and plan cost: time and file size against a
plain run of the same paths.

Measurement ``detail``: the default scenario at a fixed count (``scenario.paths``, its
``[precision]`` table dropped by ``extends``), run end to end by ``mutualsim run`` in this
process three ways, interleaved, best of three each: plain; ``[output]`` with claims,
members and aid by sex and age band (``typical``); and every detailable variable by sex,
age band and risk group (``all``). Reported as ratios to the plain run: seconds
(``detail_seconds_ratio_*``) and bytes of the results file (``detail_file_ratio_*``). A
plain run's own speed against the kernel before the detail existed is the ``previous``
measurement's ``kernel_over_previous``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import DEFAULT_SCENARIO, Context

ALL = ["members", "joins", "lapses", "deaths", "claims", "diagnosed_in_waiting", "mild_claims",
       "suspended", "claims_below_cap", "sharers", "aid"]
CASES = {
    "plain": "",
    "typical": '[output]\ndetail = ["claims", "members", "aid"]\nby = ["sex", "age_band"]\n',
    "all": f'[output]\ndetail = {ALL!r}\nby = ["sex", "age_band", "risk_group"]\n'.replace(
        "'", '"'),
}


def detail_costs(paths: int | None = None, repeats: int = 3) -> dict:
    """Seconds and file bytes of each case (module docstring) and their ratios to plain.

    Returns
    -------
    dict
        ``detail_paths``, ``detail_seconds`` and ``detail_bytes`` per case, and
        ``detail_seconds_ratio_typical``, ``detail_seconds_ratio_all``,
        ``detail_file_ratio_typical``, ``detail_file_ratio_all`` (case / plain).
    """
    from engine.run.runner import RunRequest, run

    seconds = {case: float("inf") for case in CASES}
    sizes = {}
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for case, table in CASES.items():
            files[case] = Path(tmp) / f"{case}.toml"
            files[case].write_text(f'extends = "{DEFAULT_SCENARIO.as_posix()}"\n{table}',
                                   encoding="utf-8")
        for attempt in range(repeats + 1):        # the first round compiles and is dropped
            for case, file in files.items():
                out = Path(tmp) / f"{case}.h5"
                out.unlink(missing_ok=True)
                t0 = time.perf_counter()
                report = run(RunRequest(scenario=str(file), out=out, quiet=True, paths=paths))
                if attempt:
                    seconds[case] = min(seconds[case], time.perf_counter() - t0)
                sizes[case] = out.stat().st_size
    out = {"detail_paths": max(report.paths_used), "detail_seconds": seconds,
           "detail_bytes": sizes}
    for case in ("typical", "all"):
        out[f"detail_seconds_ratio_{case}"] = seconds[case] / seconds["plain"]
        out[f"detail_file_ratio_{case}"] = sizes[case] / sizes["plain"]
    return out


def measure(context: Context) -> dict:
    """The ``detail`` measurement (quick: 50 paths, one repeat)."""
    return detail_costs(context.size(None, 50), context.size(3, 1))

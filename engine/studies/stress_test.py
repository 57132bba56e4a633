"""``mutualsim stress-weights``: reweight a results file to meet a stress on one output
(:mod:`engine.analysis.stress_weights`), and show how every driver and output moves under
the stressed weights: which inputs a harsher requirement would have to come from.

Each scenario of the file is stressed on its own paths. Files written: ``stressed.h5`` (the
results with the stressed weights: ``summary``, ``report`` and every reader read the
stressed model from it), ``stress_weights.json``, ``moves.csv`` and ``stress_weights.png``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from engine.analysis import stress_weights as S
from engine.analysis import weighted as W
from engine.analysis.reverse_stress import stored_drivers, weights_of
from engine.analysis.stress_spec import Output, Stress, parse_stress
from engine.model import drivers as D
from engine.used_paths import scenario_paths

QUANTILES = (0.05, 0.5, 0.95, 0.995)
SHOWN = 12


def _solve(stress: Stress, y: np.ndarray, w: np.ndarray) -> S.Stressed:
    if stress.statistic == "P":
        return S.stress_probability(y, w, stress.threshold, stress.value)
    p = w / w.sum()
    n = len(y)
    if stress.statistic == "mean":
        return S.stress_mean(y, w, stress.target(float(p @ y)))
    base_w = w * n / w.sum()
    if stress.statistic == "VaR":
        return S.stress_var(y, w, stress.level, stress.target(W.var(y, stress.level, base_w)))
    return S.stress_tvar(y, w, stress.level, stress.target(W.tvar(y, stress.level, base_w)))


def outputs_of(ds) -> list[Output]:
    """The outputs whose moves are shown: each projection year's shortfall, aid and cost per
    member, and the members at the end."""
    labels = [str(q) for q in ds["quarter"].values]
    years = len(labels) // 4
    out = [Output(name, y, None, f"{name} in projection year {y}")
           for name in ("shortfall", "cost_per_member", "aid") for y in range(1, years + 1)]
    out.append(Output("members", None, len(labels) - 1, f"members at the end of {labels[-1]}"))
    return out


def _moves(x: np.ndarray, w: np.ndarray, stressed: np.ndarray, sd: float | None) -> dict:
    n = len(x)
    base = w * n / w.sum()
    row = {"mean_base": W.mean(x, base), "mean_stressed": W.mean(x, stressed)}
    for a in QUANTILES:
        row[f"q{a:g}_base"] = float(W.quantile(x, a, base))
        row[f"q{a:g}_stressed"] = float(W.quantile(x, a, stressed))
    if sd:
        row["shift_sd"] = (row["mean_stressed"] - row["mean_base"]) / sd
    return row


def _driver_rows(ds, scenario: int, w: np.ndarray, stressed: np.ndarray) -> list[dict]:
    rows = []
    dispersion = None
    for name in stored_drivers(ds):
        driver = D.BY_NAME[name]
        data = np.asarray(scenario_paths(ds, name, scenario), dtype=float)
        if np.isnan(data).all():
            continue
        columns = [(0, "")] if driver.dim is None else list(enumerate(
            [str(v) for v in ds[driver.dim].values]))
        for index, label in columns:
            x = data if driver.dim is None else data[:, index]
            if driver.law == "normal":
                sd = 1.0
            elif driver.law == "gamma":
                if dispersion is None:
                    from engine.resolved import scenario_values
                    dispersion = float(scenario_values(ds)[scenario].get(
                        "growth.dispersion", 0.0) or 0.0)
                sd = float(np.sqrt(dispersion))
            else:
                q = float(np.sum(w * x) / w.sum())
                sd = float(np.sqrt(q * (1 - q)))
            if not sd > 0:
                continue
            rows.append({"driver": name, "component": label,
                         **_moves(x, w, stressed, sd)})
    return sorted(rows, key=lambda r: -abs(r["shift_sd"]))


def stress_weights(ds, stress_text: str, scenario: int = 0) -> dict:
    """Every scenario's stressed weights (``_weights``, ``(S, P)``, 0 on a scenario's masked
    paths beyond ``paths_used`` as in the file) and, for scenario ``scenario``, how each
    driver and output moves; a JSON-able dict.

    Raises
    ------
    OptionError
        For a stress that is not one, or that the paths cannot meet (``--stress``).
    """
    stress = parse_stress(stress_text, [str(q) for q in ds["quarter"].values])
    names = [str(s) for s in ds["scenario"].values]
    weights = np.zeros((len(names), ds.sizes["path"]))
    solved = []
    for s in range(len(names)):
        y, w = stress.output.values(ds, s), weights_of(ds, s)
        try:
            result = _solve(stress, y, w)
        except S.StressError as exc:
            raise S.StressError(f"{names[s]}: {exc.what}", exc.got) from None
        weights[s, :len(result.weights)] = result.weights
        solved.append({"scenario": names[s], "base": result.base, "target": result.target,
                       "achieved": result.achieved, "theta": result.theta,
                       "kl_divergence": S.kl_divergence(result.weights, w),
                       "effective_paths": W.effective_sample_size(result.weights)})
    w0 = weights_of(ds, scenario)
    chosen = weights[scenario, :len(w0)]
    outputs = [{"output": o.label, "units": o.units,
                **_moves(o.values(ds, scenario), w0, chosen, None)} for o in outputs_of(ds)]
    return {"stress": stress.text, "described": stress.describe(),
            "scenario": names[scenario], "by_scenario": solved,
            "drivers": _driver_rows(ds, scenario, w0, chosen), "outputs": outputs,
            "_weights": weights, "_stress": stress}


def format_text(result: dict) -> str:
    from engine.analysis.summary import format_amount

    def amount(x: float) -> str:
        return format_amount(x, words=True)

    probability = result["_stress"].statistic == "P"
    shown = (lambda x: f"{100 * x:.4g} %") if probability else amount
    lines = [f"stress: {result['described']}"]
    for r in result["by_scenario"][:10]:
        lines.append(f"  {r['scenario']}: from {shown(r['base'])} to {shown(r['achieved'])} "
                     f"(asked {shown(r['target'])}); KL divergence {r['kl_divergence']:.4g} "
                     f"nats; {r['effective_paths']:,.0f} effective paths")
    if result["drivers"]:
        lines.append(f"drivers under the stress, scenario {result['scenario']} (stressed "
                     "mean less the base mean, in s.d. of the driver's law):")
        for r in result["drivers"][:SHOWN]:
            label = f"{r['driver'].removeprefix('driver_').replace('_', ' ')} {r['component']}"
            lines.append(f"  {label.strip():<32} {r['shift_sd']:+.3f}")
    else:
        lines.append("the file stores no systematic drivers: only the outputs' moves are "
                     "shown")
    lines.append("outputs, mean base → stressed (99.5 % quantile base → stressed):")
    for r in result["outputs"]:
        lines.append(f"  {r['output']} ({r['units']}): {amount(r['mean_base'])} → "
                     f"{amount(r['mean_stressed'])} ({amount(r['q0.995_base'])} → "
                     f"{amount(r['q0.995_stressed'])})")
    return "\n".join(lines)


def write_files(ds, result: dict, results_path: str | Path, out: Path) -> list[Path]:
    """``stressed.h5``, ``stress_weights.json``, ``moves.csv`` and the chart."""
    from engine.report.stress_chart import stress_chart
    from engine.store import write_reweighted

    out.mkdir(parents=True, exist_ok=True)
    written = [write_reweighted(results_path, out / "stressed.h5", result["_weights"], {
        "stress": result["stress"], "stress_described": result["described"],
        "stress_source": str(Path(results_path).name)})]
    data = {k: v for k, v in result.items() if not k.startswith("_")}
    written.append(out / "stress_weights.json")
    written[-1].write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    rows = [{"kind": "driver", "name": f"{r['driver']} {r['component']}".strip(), **{
        k: v for k, v in r.items() if k not in ("driver", "component")}}
        for r in result["drivers"]]
    rows += [{"kind": "output", "name": r["output"], **{
        k: v for k, v in r.items() if k not in ("output", "units")}}
        for r in result["outputs"]]
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k not in ("kind", "name"), k))
    written.append(out / "moves.csv")
    with written[-1].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    s = [str(x) for x in ds["scenario"].values].index(result["scenario"])
    written.append(stress_chart(ds, result, s, out / "stress_weights.png"))
    return written

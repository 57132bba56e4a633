"""Comparison of the scenarios of a results file: a table, swept-parameter effects, and
the tables as CSV and Markdown (the figures are drawn by the report package, in
``report/comparison.py``).

One row per scenario: its swept values, then ruin probability, capital at 99.5 % (first
projection year, and the worst year), cost per member, members at the horizon, platform
value, each with its Monte Carlo standard error where it has one; and the difference of
ruin probability and cost per member from the first scenario with its paired standard
error (on common streams the same path of two scenarios shares its noise, so the error of
a difference is far smaller than either scenario's own). The effect of a swept
key on a metric is the range of the metric's mean over the scenarios sharing each of the
key's values (for a grid: the key's main effect; for a Latin hypercube: the same on the
sampled values, binned into at most five groups).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis import weighted as W
from engine.analysis.summary import format_amount, path_weights, summarize
from engine.used_paths import scenario_paths

COLUMNS = (
    ("ruin_probability", "ruin probability"),
    ("ruin_probability_se", "s.e."),
    ("capital_995", "capital 99.5%, year 1 (yuan)"),
    ("capital_995_se", "s.e."),
    ("capital_995_worst_year", "capital 99.5%, worst year (yuan)"),
    ("capital_995_worst_year_se", "s.e."),
    ("cost_per_member_year_mean", "cost per member per year, mean (yuan)"),
    ("cost_per_member_year_mean_se", "s.e."),
    ("members_at_horizon_median", "members at the horizon, median"),
    ("members_at_horizon_median_se", "s.e."),
    ("platform_value_mean", "platform value, mean (yuan)"),
    ("platform_value_mean_se", "s.e."),
    ("ruin_probability_diff", "ruin probability − first scenario's"),
    ("ruin_probability_diff_se", "paired s.e."),
    ("cost_per_member_year_mean_diff", "cost per member per year − first scenario's (yuan)"),
    ("cost_per_member_year_mean_diff_se", "paired s.e."),
)
EFFECT_METRICS = (("capital_995_worst_year", "capital at 99.5 %, worst year (yuan)"),
                  ("cost_per_member_year_mean", "cost per member per year (yuan)"))
MAX_GROUPS = 5
# the risk measures whose spread across a set's scenarios is shown (columns of COLUMNS)
SET_METRICS = ("ruin_probability", "capital_995", "capital_995_worst_year",
               "cost_per_member_year_mean", "members_at_horizon_median", "platform_value_mean")
EXTREMES = 5             # best and worst scenarios drawn beside the base


@dataclass
class Comparison:
    swept_keys: list[str]
    rows: list[dict]                 # one per scenario: name, swept values, metrics
    effects: dict[str, dict]         # metric -> key -> {"low": .., "high": .., "groups": ..}
    summary: dict


def used_values(ds, name: str, idx: list[int]) -> np.ndarray:
    """Variable ``name`` over the used paths of scenarios ``idx``, stacked along the path
    axis in that order (a per-plan variable keeps its plan axis first), as
    :func:`engine.analysis.summary.path_weights` stacks their weights."""
    parts = [scenario_paths(ds, name, i) for i in idx]
    return np.concatenate(parts, axis=1 if ds[name].dims[1] == "plan" else 0)


def _swept_values(ds) -> dict[str, list]:
    keys = [k for k in str(ds.attrs.get("swept_keys", "")).split(",") if k]
    return {k: [v.item() if hasattr(v, "item") else str(v) for v in ds[k].values] for k in keys}


def compare(ds) -> Comparison:
    summary = summarize(ds)
    swept = _swept_values(ds)
    rows = []
    per_path = _per_path_metrics(ds, summary["quarters"])
    common = summary["streams"] == "common"
    weights = [path_weights(ds, [i]) for i in range(len(summary["scenarios"]))]
    for i, name in enumerate(summary["scenarios"]):
        risk = summary["risk"][name]
        years = risk["shortfall_one_year"]
        worst = max((y["var_995"] for y in years.values()), key=lambda v: v["value"])
        cost = scenario_paths(ds, "cost_per_member", i)
        cost_years = [W.mean(cost[:, idx].sum(axis=1), weights[i])
                      for idx in _year_indices(summary["quarters"])]
        row = {"scenario": name, **{k: v[i] for k, v in swept.items()},
               "ruin_probability": summary["ruin_probability"][name],
               "ruin_probability_se": summary["ruin_probability_se"][name],
               "capital_995": risk["capital_995"]["value"],
               "capital_995_se": risk["capital_995"]["se"],
               "capital_995_worst_year": worst["value"], "capital_995_worst_year_se": worst["se"],
               "cost_per_member_year_mean": float(np.mean(cost_years)),
               "cost_per_member_year_mean_se": W.mean_standard_error(
                   per_path["cost_per_member_year_mean"][i], weights[i]),
               "members_at_horizon_median": risk["members_at_horizon_quantiles"]["0.5"],
               "members_at_horizon_median_se": _median_se(
                   scenario_paths(ds, "members", i)[:, -1], weights[i]),
               "platform_value_mean": summary["platform_value"][name]["mean"],
               "platform_value_mean_se": summary["platform_value"][name]["mean_se"]}
        for metric, values in per_path.items():
            if weights[i] is None and weights[0] is None:
                diff = _difference(values[i], values[0], common)
            else:
                diff = _weighted_difference(values[i], weights[i], values[0], weights[0],
                                            common)
            row[f"{metric}_diff"], row[f"{metric}_diff_se"] = diff
        rows.append(row)
    effects = {metric: {k: _effect(rows, k, metric) for k in swept}
               for metric, _ in EFFECT_METRICS}
    return Comparison(list(swept), rows, effects, summary)


def _per_path_metrics(ds, labels) -> dict[str, list[np.ndarray]]:
    """Per scenario, over its used paths: ruined (0/1) and the mean over calendar years of
    the yearly cost per member, ``(P_i,)`` each: the path values whose means are the
    table's."""
    years = _year_indices(labels)
    out: dict[str, list[np.ndarray]] = {"ruin_probability": [],
                                        "cost_per_member_year_mean": []}
    for i in range(int(ds.sizes["scenario"])):
        gap = scenario_paths(ds, "solvency_gap", i)                  # (P_i, T)
        cost = scenario_paths(ds, "cost_per_member", i)
        yearly = np.stack([cost[:, idx].sum(axis=1) for idx in years], axis=1)
        out["ruin_probability"].append(np.any(gap > 0, axis=1).astype(float))
        out["cost_per_member_year_mean"].append(yearly.mean(axis=1))
    return out


def _median_se(x: np.ndarray, w: np.ndarray | None) -> float:
    """The median's s.e.: from the order statistics' interval, or by batch means of
    weighted paths (:mod:`engine.analysis.metrics`, :mod:`engine.analysis.weighted`)."""
    from engine.analysis import metrics

    x = np.asarray(x, dtype=float)
    if w is None:
        return metrics.quantile_standard_error(x, 0.5)
    return W.var_standard_error(x, 0.5, w)


def _shared(x: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paths both scenarios hold, ``0 .. min(P_x, P_base) − 1``: on common streams only
    those pair (path p of each shares its noise), when the scenarios stopped at different
    numbers of paths (``paths_used``)."""
    n = min(x.size, base.size)
    return x[:n], base[:n]


def _difference(x: np.ndarray, base: np.ndarray, common: bool) -> tuple[float, float]:
    """Mean difference from the first scenario and its standard error: paired (the s.d. of
    the per-path differences over √P, on the paths both hold) on common streams, where path
    p of both scenarios shares its noise; ``√(s.e.² + s.e.²)`` of two independent means
    otherwise."""
    if common:
        x, base = _shared(x, base)
    n = x.size
    if min(n, base.size) < 2:
        return float(x.mean() - base.mean()), float("nan")
    if common:
        return float((x - base).mean()), float((x - base).std(ddof=1) / np.sqrt(n))
    if base.size != n:
        return float(x.mean() - base.mean()), float(np.sqrt(x.var(ddof=1) / n
                                                            + base.var(ddof=1) / base.size))
    return float(x.mean() - base.mean()), float(np.sqrt((x.var(ddof=1) + base.var(ddof=1))
                                                        / n))


def _weighted_difference(x, wx, base, wb, common: bool) -> tuple[float, float]:
    """:func:`_difference` of weighted paths: ``Σ (w x − w_b b) / P``, unbiased for the
    difference of the model's means; paired s.e. on common streams, on the paths both
    hold."""
    wx = np.ones(x.size) if wx is None else wx
    wb = np.ones(base.size) if wb is None else wb
    if common:
        (x, base), (wx, wb) = _shared(x, base), _shared(wx, wb)
    n = x.size
    if min(n, base.size) < 2:
        return W.mean(x, wx) - W.mean(base, wb), float("nan")
    if common:
        d = wx * x - wb * base
        return float(d.mean()), float(d.std(ddof=1) / np.sqrt(n))
    return (W.mean(x, wx) - W.mean(base, wb),
            float(np.hypot(W.mean_standard_error(x, wx), W.mean_standard_error(base, wb))))


def _year_indices(labels) -> list[list[int]]:
    years: dict[str, list[int]] = {}
    for t, label in enumerate(labels):
        years.setdefault(label[:4], []).append(t)
    return list(years.values())


def _effect(rows: list[dict], key: str, metric: str) -> dict:
    values = [r[key] for r in rows]
    numeric = all(isinstance(v, (int, float)) for v in values)
    distinct = sorted(set(values), key=lambda v: (not numeric, v if numeric else str(v)))
    if numeric and len(distinct) > MAX_GROUPS:
        edges = W.quantile(np.array(values, dtype=float), np.linspace(0, 1, MAX_GROUPS + 1))
        group_of = [int(min(MAX_GROUPS - 1, np.searchsorted(edges, v, side="right") - 1))
                    for v in values]
        labels = [f"{plain(edges[g])}–{plain(edges[g + 1])}" for g in range(MAX_GROUPS)]
    else:
        group_of = [distinct.index(v) for v in values]
        labels = [_short_label(v) for v in distinct]
        if len(set(labels)) < len(labels):  # shortened labels collide: number them
            labels = [f"{lbl} #{i + 1}" for i, lbl in enumerate(labels)]
    means = {}
    for g, label in enumerate(labels):
        members = [r[metric] for r, gi in zip(rows, group_of, strict=True) if gi == g]
        if members:
            means[label] = float(np.mean(members))
    ordered = list(means.items())
    return {"groups": means, "low": ordered[0], "high": ordered[-1],
            "range": max(means.values()) - min(means.values())}


def _short_label(value, width: int = 22) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


PROBABILITY_COLUMNS = ("ruin_probability", "ruin_probability_se", "ruin_probability_diff",
                       "ruin_probability_diff_se")


def plain(value, column: str = "") -> str:
    """A table cell for people, never in scientific notation: probabilities as percentages,
    amounts as :func:`engine.analysis.summary.format_amount` writes them (4.6 million,
    78,900), other numbers with four significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        return str(value)
    x = float(value)
    if not np.isfinite(x):
        return "–"
    if column in PROBABILITY_COLUMNS:
        return np.format_float_positional(100 * x, precision=3, fractional=False,
                                          trim="-") + " %"
    if column in dict(COLUMNS) and abs(x) >= 1:
        return format_amount(x, words=True)
    return np.format_float_positional(x, precision=4, fractional=False, trim="-")


def write_tables(comparison: Comparison, out_dir: Path) -> tuple[Path, Path]:
    """``compare.csv`` and ``compare.md`` in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    header = ["scenario", *comparison.swept_keys, *(c for c, _ in COLUMNS)]
    csv_path = out_dir / "compare.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in comparison.rows:
            writer.writerow([_fmt(row[h]) for h in header])
    md_path = out_dir / "compare.md"
    md_path.write_text(markdown_table(comparison), encoding="utf-8")
    return csv_path, md_path


def markdown_table(comparison: Comparison) -> str:
    names = ["scenario", *comparison.swept_keys, *(label for _, label in COLUMNS)]
    keys = ["scenario", *comparison.swept_keys, *(c for c, _ in COLUMNS)]
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in comparison.rows:
        lines.append("| " + " | ".join(plain(row[k], k) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def effects_table(comparison: Comparison) -> str:
    lines = []
    for metric, label in EFFECT_METRICS:
        lines.append(f"effect on {label} (mean by value of each swept key):")
        ranked = sorted(comparison.effects[metric].items(), key=lambda kv: -kv[1]["range"])
        for key, eff in ranked:
            groups = ", ".join(f"{g}: {plain(v, metric)}" for g, v in eff["groups"].items())
            lines.append(f"  {key}: range {plain(eff['range'], metric)}  ({groups})")
    return "\n".join(lines)



def spread(comparison: Comparison) -> dict[str, dict]:
    """Per risk measure of :data:`SET_METRICS`, its spread across the scenarios: minimum,
    quartiles and maximum, and the scenarios at each end."""
    out = {}
    for metric in SET_METRICS:
        values = np.array([r[metric] for r in comparison.rows], dtype=float)
        q = W.quantile(values[np.isfinite(values)], [0.0, 0.25, 0.5, 0.75, 1.0])
        out[metric] = {"min": q[0], "q25": q[1], "median": q[2], "q75": q[3], "max": q[4],
                       "lowest": comparison.rows[int(np.nanargmin(values))]["scenario"],
                       "highest": comparison.rows[int(np.nanargmax(values))]["scenario"]}
    return out


def extremes(comparison: Comparison, metric: str = "cost_per_member_year_mean",
             n: int = EXTREMES) -> tuple[list[int], list[int]]:
    """The ``n`` scenarios with the lowest and the highest ``metric`` (indices, the base
    scenario, index 0, left out of both)."""
    values = np.array([r[metric] for r in comparison.rows[1:]], dtype=float)
    order = list(np.argsort(values, kind="stable") + 1)
    return order[:n], order[::-1][:n]

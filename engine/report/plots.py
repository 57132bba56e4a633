"""Figures of a results file; each function returns a matplotlib Figure.

Importing this module leaves matplotlib's backend alone (a notebook keeps its own); the
command line chooses the non-interactive Agg backend (:func:`engine.cli.main`).
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from engine.analysis import metrics
from engine.analysis import weighted as W
from engine.analysis.compare import used_values
from engine.analysis.summary import path_weights
from engine.used_paths import scenario_paths

FAN_VARIABLES = ("members", "claims", "cost_per_member", "reserve")
FAN_BANDS = ((0.05, 0.95), (0.25, 0.75))


def amount_axis(ax, axis: str = "y") -> None:
    """Ticks as a report writes amounts ("1.5 million", "300,000", "2.5"), so that an axis
    never carries a scale factor or offset (matplotlib's ``1e6`` above the axis) that a
    reader must multiply in; the axis itself stays linear."""
    from engine.analysis.summary import format_amount

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(
        lambda v, _pos: format_amount(0.0 if abs(v) < 1e-12 else v, words=True)))


def fan_chart(values: np.ndarray, quarters, title: str, units: str,
              weights: np.ndarray | None = None) -> Figure:
    """Median and 5–95 %, 25–75 % bands of ``values`` ``(P, T)`` per quarter (weighted
    quantiles when the paths carry likelihood ratios, :mod:`engine.analysis.weighted`)."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    x = np.arange(len(quarters))
    for (lo, hi), shade in zip(FAN_BANDS, (0.25, 0.45), strict=True):
        q = W.quantile(values, [lo, hi], weights)
        ax.fill_between(x, q[0], q[1], alpha=shade, color="tab:blue", linewidth=0,
                        label=f"{lo:.0%}–{hi:.0%}")
    ax.plot(x, W.quantile(values, 0.5, weights), color="tab:blue", label="median")
    step = max(1, len(quarters) // 10)
    ax.set_xticks(x[::step], [str(q) for q in quarters][::step], rotation=45, ha="right")
    ax.set_title(title)
    ax.set_ylabel(units)
    amount_axis(ax)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def shortfall_histogram(one_year_shortfall: np.ndarray, title: str,
                        alpha: float = 0.995, weights: np.ndarray | None = None) -> Figure:
    """Histogram of the one-year shortfall with VaR and TVaR at ``alpha`` marked; with
    likelihood ratios, the weighted histogram (expected paths out of the drawn number)."""
    x = np.asarray(one_year_shortfall, dtype=float)
    v, tv = W.var(x, alpha, weights), W.tvar(x, alpha, weights)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.hist(x, bins=min(60, max(10, len(x) // 20)), color="tab:gray", alpha=0.8,
            weights=weights)
    ax.axvline(v, color="tab:orange", label=f"VaR {alpha:.1%} = {v:,.0f} yuan")
    ax.axvline(tv, color="tab:red", linestyle="--", label=f"TVaR {alpha:.1%} = {tv:,.0f} yuan")
    share_zero = float(np.mean(x == 0)) if weights is None else W.mean(x == 0, weights)
    ax.set_title(f"{title}\n{share_zero:.1%} of paths have no shortfall")
    ax.set_xlabel("yuan")
    ax.set_ylabel("paths")
    amount_axis(ax, "x")
    ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "scenario"


def _median_where_finite(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Median over paths of the finite values of each quarter (NaN where there are none),
    weighted when the paths carry likelihood ratios."""
    out = np.full(x.shape[1], np.nan)
    for t in range(x.shape[1]):
        mask = np.isfinite(x[:, t])
        if mask.any():
            out[t] = W.quantile(x[mask, t], 0.5,
                                None if weights is None else weights[mask])
    return out


def write_plots(ds, out_dir: str | Path, pooled: bool = False) -> list[Path]:
    """Write fan charts and the shortfall histogram of each scenario as PNG files.

    ``pooled=True`` draws one set from the paths of all scenarios together (for a fitted
    set of parameter draws: parameter and process uncertainty).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    quarters = [str(q) for q in ds["quarter"].values]
    names = [str(s) for s in ds["scenario"].values]
    groups = ([(f"{names[0].split('[')[0]} (pooled)", list(range(len(names))))] if pooled
              else [(name, [i]) for i, name in enumerate(names)])
    written = []
    for name, idx in groups:
        def values(var, idx=idx):
            return used_values(ds, var, idx)

        weights = path_weights(ds, idx)
        slug = _slug(name)
        for var in FAN_VARIABLES:
            da = ds[var]
            fig = fan_chart(values(var), quarters,
                            f"{name}: {da.attrs.get('long_name', var)}", da.attrs.get("units", ""),
                            weights)
            if var == "cost_per_member":
                # What members would have paid without caps, to show where a cap binds.
                ax = fig.axes[0]
                ax.plot(np.arange(len(quarters)),
                        _median_where_finite(values("required_cost_per_member"), weights), "--",
                        color="tab:red", label="median required before caps")
                ax.legend(loc="best", fontsize=8)
            path = out / f"{slug}_{var}.png"
            fig.savefig(path, dpi=110)
            plt.close(fig)
            written.append(path)
        yearly = metrics.yearly_sums(values("shortfall"))
        fig = shortfall_histogram(yearly[:, 0], f"{name}: shortfall over the first projection "
                                  f"year ({quarters[0]}–{quarters[min(3, len(quarters) - 1)]})",
                                  weights=weights)
        path = out / f"{slug}_shortfall_year1.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
        if yearly.shape[1] > 1:
            worst = int(np.argmax([W.var(yearly[:, y], 0.995, weights)
                                   for y in range(yearly.shape[1])]))
            if worst != 0:
                first_quarter = quarters[4 * worst]
                fig = shortfall_histogram(
                    yearly[:, worst], f"{name}: shortfall over projection year {worst + 1} "
                    f"(from {first_quarter}), the year with the largest VaR", weights=weights)
                path = out / f"{slug}_shortfall_year{worst + 1}.png"
                fig.savefig(path, dpi=110)
                plt.close(fig)
                written.append(path)
    return written


def calibration_figure(labels, expected: dict, initial_members: float, observations,
                       backtest_rows=(), title: str = "") -> Figure:
    """Members and cumulative claims of the fitted expected path against the observations.

    Observations used in the fit are filled dots; later ones (the backtest) are open dots
    with the forecast's 90 % interval as a bar.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    x_end = np.arange(1, len(labels) + 1)          # τ at the end of each quarter
    x = np.arange(len(labels) + 1)                  # τ = 0 is the start
    series = {"members": np.r_[initial_members, expected["members"]],
              "cumulative_aided": np.r_[0.0, np.cumsum(expected["claims_reported"])]}
    for ax, metric, ylabel in ((axes[0], "members", "members (persons)"),
                               (axes[1], "cumulative_aided", "people aided since the start")):
        ax.plot(x, series[metric], color="tab:blue", label="fitted expected path")
        used = [o for o in observations if o.metric == metric]
        ax.plot([o.end for o in used], [o.value for o in used], "o", color="tab:orange",
                label="observed (fit)")
        later = [r for r in backtest_rows if r.observation.metric == metric]
        if later:
            xs = [r.observation.end for r in later]
            ax.errorbar(xs, [r.median for r in later],
                        yerr=[[r.median - r.quantiles[0.05] for r in later],
                              [r.quantiles[0.95] - r.median for r in later]],
                        fmt="s", color="tab:green", capsize=4, label="forecast, 90 %")
            ax.plot(xs, [r.observation.value for r in later], "o", mfc="none",
                    color="tab:red", label="observed (held out)")
        step = max(1, len(labels) // 8)
        ax.set_xticks(x_end[::step], [str(q) for q in labels][::step], rotation=45,
                      ha="right")
        ax.set_ylabel(ylabel)
        amount_axis(ax)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def tornado_chart(effects: dict[str, dict], label: str) -> Figure:
    """Horizontal bars, one per swept key, from the lowest to the highest mean of ``label``
    over the key's values; widest first, with the values at each end written."""
    ranked = sorted(effects.items(), key=lambda kv: kv[1]["range"])
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(ranked) + 1.8), layout="constrained")
    for y, (_, eff) in enumerate(ranked):
        values = list(eff["groups"].values())
        lo, hi = min(values), max(values)
        ax.barh(y, hi - lo, left=lo, color="tab:blue", alpha=0.7)
        low_label = min(eff["groups"], key=eff["groups"].get)
        high_label = max(eff["groups"], key=eff["groups"].get)
        ax.text(lo, y, f"{low_label} ", va="center", ha="right", fontsize=8)
        ax.text(hi, y, f" {high_label}", va="center", ha="left", fontsize=8)
    ax.set_yticks(range(len(ranked)), [k for k, _ in ranked])
    ax.set_xlabel(label)
    amount_axis(ax, "x")
    ax.set_title(f"effect of each swept parameter on {label}")
    ax.grid(axis="x", alpha=0.3)
    every = [v for _, eff in ranked for v in eff["groups"].values()]
    span = (max(every) - min(every)) or abs(max(every)) or 1.0
    ax.set_xlim(min(every) - 0.3 * span, max(every) + 0.3 * span)  # room for the end labels
    return fig


def scenario_weights(ds, i: int) -> np.ndarray | None:
    """Scenario ``i``'s likelihood ratios of its used paths, or None for plain paths."""
    return path_weights(ds, [i])


def legend_label(name: str) -> str:
    """A scenario's label in a legend: its swept values only (``a=1, b=2``), one per line,
    without the set's name that every member repeats."""
    inside = name[name.find("[") + 1:-1] if name.endswith("]") and "[" in name else name
    return "\n".join(part.strip() for part in inside.split(","))


def overlay_medians(ds, var: str, max_labels: int = 12, only: list[int] | None = None
                    ) -> Figure:
    """Median of ``var`` per quarter for every scenario (or the scenarios ``only``) on one
    chart; the legend sits beside the axes, with line styles as well as colours so that a
    dozen scenarios stay apart."""
    quarters = [str(q) for q in ds["quarter"].values]
    every = [str(s) for s in ds["scenario"].values]
    chosen = list(range(len(every))) if only is None else list(dict.fromkeys(only))
    names = [every[i] for i in chosen]
    fig, ax = plt.subplots(figsize=(11, 5))
    x = np.arange(len(quarters))
    styles = ("-", "--", ":", "-.")
    for k, (i, name) in enumerate(zip(chosen, names, strict=True)):
        values = scenario_paths(ds, var, i)
        ax.plot(x, W.quantile(values, 0.5, scenario_weights(ds, i)), lw=1.4,
                ls=styles[(k // 10) % 4],
                label=legend_label(name) if len(names) <= max_labels else None)
    step = max(1, len(quarters) // 10)
    ax.set_xticks(x[::step], quarters[::step], rotation=45, ha="right")
    da = ds[var]
    which = ("" if only is None else f" ({len(names)} of {len(every)}: the base and the "
             "extremes)")
    ax.set_title(f"{da.attrs.get('long_name', var)}: median by scenario{which}", fontsize=10)
    ax.set_ylabel(da.attrs.get("units", ""))
    amount_axis(ax)
    ax.grid(alpha=0.3)
    if len(names) <= max_labels:
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
                  labelspacing=0.9)
    fig.tight_layout()
    return fig

"""The files of ``mutualsim compare``: the comparison's tables in the formats asked
(:mod:`engine.report.compare_tables`) and its figures.

Figures for a set (``charts = "set"``, the default beyond :data:`CHARTS_ALL_UP_TO`
scenarios): the spread of each risk measure across the scenarios, the sensitivity indices
of capital and cost per member (:mod:`engine.analysis.sensitivity`, where the swept keys are
numbers), a tornado chart per effect metric, and the median paths of the base scenario and
the five with the lowest and the highest cost per member. ``charts = "all"`` (the default
up to :data:`CHARTS_ALL_UP_TO` scenarios) adds every scenario's median on one chart per
variable and each scenario's own figures (:func:`engine.report.plots.write_plots`) under
``scenarios/``: drawing those is nearly all of the time of a large set's analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from engine.analysis.compare import (
    COLUMNS,
    EFFECT_METRICS,
    SET_METRICS,
    Comparison,
    extremes,
)
from engine.report.compare_tables import DEFAULT_FORMATS, write_formats
from engine.report.plots import overlay_medians, plt, tornado_chart, write_plots

MEDIAN_VARIABLES = ("members", "cost_per_member", "reserve")
CHARTS = ("set", "all")
CHARTS_ALL_UP_TO = 20      # scenarios: beyond, per-scenario charts only when asked
DPI = 110


def default_charts(n_scenarios: int) -> str:
    return "all" if n_scenarios <= CHARTS_ALL_UP_TO else "set"


def write_comparison(comparison: Comparison, ds, out_dir: str | Path,
                     formats: tuple[str, ...] = DEFAULT_FORMATS, charts: str | None = None,
                     indices: list | None = None) -> list[Path]:
    """Tables and figures of ``comparison`` (:func:`engine.analysis.compare.compare` of
    ``ds``) into ``out_dir``; ``indices`` the sensitivity indices to chart (or None);
    returns the files written, tables first."""
    out = Path(out_dir)
    written = write_formats(comparison, out, formats)
    charts = charts or default_charts(len(comparison.rows))
    if comparison.swept_keys:
        for metric, label in EFFECT_METRICS:
            written.append(_save(tornado_chart(comparison.effects[metric], label),
                                 out / f"tornado_{metric}.png"))
    if len(comparison.rows) > 1:
        written.append(_save(spread_chart(comparison), out / "risk_measures_across_set.png"))
    for result in indices or []:
        if result.rows:
            from engine.report.sensitivity_files import index_chart
            written.append(_save(index_chart(result), out / f"indices_{result.output}.png"))
    if charts == "all":
        for var in MEDIAN_VARIABLES:
            written.append(_save(overlay_medians(ds, var), out / f"medians_{var}.png"))
        written += write_plots(ds, out / "scenarios")
    else:
        written += extreme_medians(comparison, ds, out)
    return written


def extreme_medians(comparison: Comparison, ds, out: Path) -> list[Path]:
    """The median paths of the base scenario and the five with the lowest and the highest
    cost per member, one chart per variable of :data:`MEDIAN_VARIABLES`."""
    low, high = extremes(comparison)
    chosen = [0, *low, *high]
    return [_save(overlay_medians(ds, var, only=chosen), out / f"medians_{var}.png")
            for var in MEDIAN_VARIABLES]


def write_set_plots(ds, out_dir: str | Path) -> list[Path]:
    """``plot`` of a large set: each risk measure across the scenarios, the medians of the
    base and the extremes, and the base scenario's own figures (under ``base/``)."""
    from engine.analysis.compare import compare

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = compare(ds)
    written = [_save(spread_chart(comparison), out / "risk_measures_across_set.png")]
    written += extreme_medians(comparison, ds, out)
    written += write_plots(ds.isel(scenario=[0]), out / "base")
    return written


def spread_chart(comparison: Comparison):
    """A histogram per risk measure of its values across the scenarios, the base
    scenario's marked."""
    labels = dict(COLUMNS)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7), layout="constrained")
    for ax, metric in zip(axes.ravel(), SET_METRICS, strict=True):
        values = np.array([r[metric] for r in comparison.rows], dtype=float)
        finite = values[np.isfinite(values)]
        ax.hist(finite, bins=min(30, max(5, finite.size // 5)), color="tab:blue", alpha=0.7)
        ax.axvline(values[0], color="black", ls="--", label="base scenario")
        ax.set_title(labels[metric], fontsize=9)
        ax.set_ylabel("scenarios")
        ax.grid(alpha=0.3)
        if metric == "ruin_probability":
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: f"{v:.1%}"))
        else:
            from engine.report.plots import amount_axis
            amount_axis(ax, "x")
        ax.xaxis.set_major_locator(MaxNLocator(4))
    axes.ravel()[0].legend(fontsize=8)
    fig.suptitle(f"each risk measure across the {len(comparison.rows)} scenarios")
    return fig


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path

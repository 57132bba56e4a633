"""The files of ``mutualsim compare``: the comparison's tables
(:func:`engine.analysis.compare.write_tables`) and its figures, a tornado chart per effect
metric (swept sets only), every scenario's median on one chart per variable, and each
scenario's own figures (:func:`engine.report.plots.write_plots`) under ``scenarios/``."""

from __future__ import annotations

from pathlib import Path

from engine.analysis.compare import EFFECT_METRICS, Comparison, write_tables
from engine.report.plots import overlay_medians, plt, tornado_chart, write_plots

MEDIAN_VARIABLES = ("members", "cost_per_member", "reserve")
DPI = 110


def write_comparison(comparison: Comparison, ds, out_dir: str | Path) -> list[Path]:
    """Tables and figures of ``comparison`` (:func:`engine.analysis.compare.compare` of
    ``ds``) into ``out_dir``; returns the files written, tables first."""
    out = Path(out_dir)
    written = list(write_tables(comparison, out))
    if comparison.swept_keys:
        for metric, label in EFFECT_METRICS:
            written.append(_save(tornado_chart(comparison.effects[metric], label),
                                 out / f"tornado_{metric}.png"))
    for var in MEDIAN_VARIABLES:
        written.append(_save(overlay_medians(ds, var), out / f"medians_{var}.png"))
    written += write_plots(ds, out / "scenarios")
    return written


def _save(fig, path: Path) -> Path:
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path

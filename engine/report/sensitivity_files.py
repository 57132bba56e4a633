"""The files of ``mutualsim sensitivity``: the indices of each output
(:func:`engine.analysis.sensitivity.indices`) as CSV and JSON, a bar chart per output with
the 95 % intervals, and the console table."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from engine.analysis.sensitivity import CONFIDENCE, OutputIndices
from engine.report.plots import plt

DPI = 110
CSV_COLUMNS = ("output", "key", "index", "value", "low_95", "high_95", "within_noise",
               "noise_share", "variance_across_scenarios")


def write_sensitivity(results: list[OutputIndices], out_dir: str | Path) -> list[Path]:
    """``sensitivity.csv``, ``sensitivity.json`` and ``sensitivity_OUTPUT.png`` into
    ``out_dir``; returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = out / "sensitivity.csv"
    with table.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            for row in r.rows:
                writer.writerow([r.output, row["key"], row["index"], repr(row["value"]),
                                 repr(row["low"]), repr(row["high"]), row["within_noise"],
                                 repr(r.noise_share), repr(r.variance)])
    as_json = out / "sensitivity.json"
    as_json.write_text(json.dumps(
        {"confidence": CONFIDENCE,
         "outputs": [{"output": r.output, "label": r.label, "variance": r.variance,
                      "noise_share": r.noise_share, "note": r.note, "indices": r.rows}
                     for r in results]}, indent=1, allow_nan=True), encoding="utf-8")
    written = [table, as_json]
    for r in results:
        if r.rows:
            fig = index_chart(r)
            path = out / f"sensitivity_{r.output}.png"
            fig.savefig(path, dpi=DPI)
            plt.close(fig)
            written.append(path)
    return written


def index_chart(result: OutputIndices):
    """Per swept key, a bar for each index (first-order, total or δ) with its 95 %
    interval, and the Monte Carlo noise share as a dashed line."""
    rows = [r for r in result.rows if r["index"] != "S2"]
    keys = list(dict.fromkeys(r["key"] for r in rows))
    kinds = list(dict.fromkeys(r["index"] for r in rows))
    fig, ax = plt.subplots(figsize=(9, 0.7 * len(keys) + 1.8), layout="constrained")
    height = 0.8 / len(kinds)
    for k, kind in enumerate(kinds):
        mine = {r["key"]: r for r in rows if r["index"] == kind}
        y = np.arange(len(keys)) + (k - (len(kinds) - 1) / 2) * height
        values = np.array([mine[key]["value"] for key in keys])
        low = np.array([mine[key]["low"] for key in keys])
        high = np.array([mine[key]["high"] for key in keys])
        ax.barh(y, values, height=height, label=INDEX_WORDS.get(kind, kind),
                xerr=np.vstack([values - low, high - values]), capsize=3, alpha=0.8)
    if np.isfinite(result.noise_share):
        ax.axvline(result.noise_share, color="grey", linestyle="--",
                   label=f"Monte Carlo noise share ({result.noise_share:.1%})")
    ax.set_yticks(range(len(keys)), keys)
    ax.invert_yaxis()
    ax.set_xlabel("share of the variance across scenarios (bars: 95 % bootstrap interval)")
    ax.set_title(f"which assumption moves {result.label}")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


INDEX_WORDS = {"S1": "first-order (alone)", "ST": "total (with interactions)",
               "delta": "δ (moment-independent)", "S2": "second-order (pair)"}


def format_indices(results: list[OutputIndices]) -> str:
    """The console table: each output, its noise share, each index with its interval."""
    lines = []
    for r in results:
        noise = "n/a" if not np.isfinite(r.noise_share) else f"{r.noise_share:.1%}"
        lines.append(f"\n{r.label} ({r.output}); Monte Carlo noise share of its variance "
                     f"across scenarios: {noise}")
        if r.note:
            lines.append(f"  {r.note}")
        for row in r.rows:
            flag = "  (within Monte Carlo noise)" if row["within_noise"] else ""
            lines.append(f"  {row['key']:<40} {INDEX_WORDS.get(row['index'], row['index']):<26}"
                         f" {row['value']:6.3f}  (95 %: {row['low']:6.3f} to "
                         f"{row['high']:6.3f}){flag}")
    return "\n".join(lines)

"""One self-contained HTML page of a results file: tables and figures, readable offline.

Figures are PNGs embedded as base64 ``data:`` URIs; no script, style sheet or font is
fetched from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from engine.analysis.compare import COLUMNS, EFFECT_METRICS, compare
from engine.analysis.summary import format_summary

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } h2 { border-bottom: 1px solid #ccc; }
"""


def _png(fig) -> str:
    from engine.report.plots import plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.6g}"
    return html.escape(str(value))


def render(ds, fairness: str | None = None, title: str | None = None,
           max_fan_scenarios: int = 12) -> str:
    """The HTML page of an opened results dataset."""
    from engine.report.plots import fan_chart, overlay_medians, tornado_chart

    comparison = compare(ds)
    title = title or f"mutualsim report: {ds.attrs.get('title', '')}"
    quarters = [str(q) for q in ds["quarter"].values]
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             f"<p>{html.escape(str(ds.attrs.get('scenario_description', '')))}</p>",
             "<p>" + html.escape(
                 f"{len(comparison.rows)} scenario(s) × {ds.sizes['path']} paths × "
                 f"{len(quarters)} quarters ({quarters[0]}–{quarters[-1]}); seed "
                 f"{ds.attrs.get('seed')}; generator {ds.attrs.get('generator')}; engine "
                 f"{ds.attrs.get('engine_version')}; run {ds.attrs.get('start_time')}") + "</p>"]
    parts.append("<h2>Scenarios</h2><table><tr>")
    keys = ["scenario", *comparison.swept_keys, *(c for c, _ in COLUMNS)]
    labels = ["scenario", *comparison.swept_keys, *(label for _, label in COLUMNS)]
    parts.append("".join(f"<th>{html.escape(lbl)}</th>" for lbl in labels) + "</tr>")
    for row in comparison.rows:
        parts.append("<tr>" + "".join(f"<td>{_cell(row[k])}</td>" for k in keys) + "</tr>")
    parts.append("</table>")
    if comparison.swept_keys:
        parts.append("<h2>Effect of each swept parameter</h2>")
        for metric, label in EFFECT_METRICS:
            parts.append(f"<img alt='tornado {html.escape(metric)}' src='"
                         f"{_png(tornado_chart(comparison.effects[metric], label))}'>")
    parts.append("<h2>Medians by scenario</h2>")
    for var in ("members", "claims", "cost_per_member", "reserve"):
        parts.append(f"<img alt='medians {var}' src='{_png(overlay_medians(ds, var))}'>")
    parts.append("<h2>Fan charts</h2>")
    names = [str(s) for s in ds["scenario"].values]
    for i, name in enumerate(names[:max_fan_scenarios]):
        parts.append(f"<h3>{html.escape(name)}</h3>")
        for var in ("members", "cost_per_member"):
            fig = fan_chart(ds[var].values[i], quarters, f"{name}: {var}",
                            ds[var].attrs.get("units", ""))
            parts.append(f"<img alt='{html.escape(name)} {var}' src='{_png(fig)}'>")
    if len(names) > max_fan_scenarios:
        parts.append(f"<p>Fan charts of the first {max_fan_scenarios} of {len(names)} "
                     "scenarios; every scenario is in the tables above and below.</p>")
    parts.append("<h2>Summary</h2><pre>" + html.escape(format_summary(comparison.summary))
                 + "</pre>")
    if fairness:
        parts.append("<h2>Fairness (first scenario)</h2><pre>" + html.escape(fairness)
                     + "</pre>")
    parts.append("<h2>Scenario file</h2><pre>"
                 + html.escape(str(ds.attrs.get("scenario_toml", ""))) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(ds, out: str | Path, fairness: str | None = None) -> Path:
    """Write the page to ``out`` (through a temporary name); ``fairness`` is the fairness
    table's text (:func:`engine.studies.fairness.fairness_text`), computed by the caller
    because the report only reads results."""
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(render(ds, fairness=fairness), encoding="utf-8")
    tmp.replace(out)
    return out

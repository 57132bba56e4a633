"""One self-contained HTML page of a results file: tables and figures, readable offline.

Figures are PNGs embedded as base64 ``data:`` URIs; no script, style sheet or font is
fetched from anywhere.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from engine.analysis.compare import COLUMNS, EFFECT_METRICS, compare, extremes, plain
from engine.analysis.sensitivity import effect_indices
from engine.analysis.summary import format_amount, format_summary
from engine.report.profiles_page import profiles_section
from engine.report.set_brief import set_brief
from engine.resolved import provenance, resolved
from engine.used_paths import paths_used, scenario_paths

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1200px; color: #222; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
pre { background: #f6f6f6; padding: 1em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } h2 { border-bottom: 1px solid #ccc; }
.scroll { max-width: 100%; max-height: 36em; overflow: auto; border: 1px solid #ddd; }
.scroll table { margin: 0; } .scroll th { position: sticky; top: 0; cursor: pointer; }
"""
# Sorts a table by the column whose header is clicked (numbers as numbers, the data-v
# attribute holding each cell's full value), ascending then descending. "#sort-test" in
# the address clicks the third column's header once loaded, so that a headless browser's
# saved page shows the sorting ran (tests/unit/test_report_page.py).
SORT_SCRIPT = """
<script>
function sortBy(th) {
  const table = th.closest('table'), col = th.cellIndex;
  const rows = Array.from(table.tBodies[0].rows);
  const up = th.dataset.order !== 'up'; th.dataset.order = up ? 'up' : 'down';
  const key = r => { const c = r.cells[col], v = c.dataset.v;
                     return v !== undefined && v !== '' && !isNaN(v) ? Number(v) : c.textContent; };
  rows.sort((a, b) => { const x = key(a), y = key(b);
                        const d = (typeof x === 'number' && typeof y === 'number') ? x - y
                                  : String(x).localeCompare(String(y));
                        return up ? d : -d; });
  rows.forEach(r => table.tBodies[0].appendChild(r));
}
window.addEventListener('load', () => {
  document.querySelectorAll('table.sortable th').forEach(th =>
    th.addEventListener('click', () => sortBy(th)));
  if (location.hash === '#sort-test') {
    document.querySelector('table.sortable th:nth-child(3)').click();
    document.body.dataset.scrollWidth = document.documentElement.scrollWidth;
  }
});
</script>
"""
LARGE_SET = 12     # scenarios beyond which the report describes the set, not each one


def _png(fig) -> str:
    from engine.report.plots import plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def readable(x: float) -> str:
    """An amount for people: ``3.85 bn``, ``62.9 million``, ``12,345``, ``0.0123``."""
    return format_amount(x, words=True)


def _cell(value) -> str:
    if isinstance(value, float):
        return html.escape(readable(value))
    return html.escape(str(value))


def scenario_table(comparison) -> str:
    """Every scenario's row, in a box that scrolls rather than widening the page, sorted by
    a click on a column's header (:data:`SORT_SCRIPT`)."""
    keys = ["scenario", *comparison.swept_keys, *(c for c, _ in COLUMNS)]
    labels = ["scenario", *comparison.swept_keys, *(label for _, label in COLUMNS)]
    parts = [f"<h2>Scenarios</h2><p>{len(comparison.rows)} rows; click a column's header to "
             "sort by it.</p><div class='scroll'><table class='sortable'><thead><tr>",
             "".join(f"<th>{html.escape(lbl)}</th>" for lbl in labels) + "</tr></thead><tbody>"]
    for row in comparison.rows:
        parts.append("<tr>" + "".join(_sortable_cell(row[k], k) for k in keys) + "</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _sortable_cell(value, column: str) -> str:
    """A table cell whose full value sorts (``data-v``) while it reads as people write it
    (:func:`engine.analysis.compare.plain`: probabilities as percentages)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"<td data-v='{float(value)!r}'>{html.escape(plain(value, column))}</td>"
    return f"<td>{_cell(value)}</td>"


def opening(summary: dict, name: str) -> str:
    """The scenario's answers in sentences, each number with its interval or error."""
    risk = summary["risk"][name]
    quarters = summary["quarters"]
    members = summary["members_quantiles"][name]
    claims = summary["claims_quantiles"][name]
    capital = risk["capital_995"]
    value = summary["platform_value"][name]
    cost = risk["cost_per_member_by_year_quantiles"]

    def span(q, t=None):
        pick = (lambda k: q[k][t]) if t is not None else (lambda k: q[k])
        return (f"{readable(pick('0.5'))} (90 % of paths between {readable(pick('0.05'))} "
                f"and {readable(pick('0.95'))})")

    full = [y for y in cost if sum(q.startswith(y) for q in quarters) == 4]
    year = full[0] if full else next(iter(cost), None)
    worst_year, worst = max(risk["shortfall_one_year"].items(),
                            key=lambda kv: kv[1]["var_995"]["value"])
    sentences = [
        f"At {quarters[-1]} the plan has {span(members, -1)} members, and pays "
        f"{span(claims, -1)} claims in that quarter.",
        *([f"Each member pays {span(cost[year])} yuan in {year}."] if year else []),
        f"Capital at 99.5 % over one year is {readable(capital['value'])} yuan for the first "
        f"year (Monte Carlo s.e. {readable(capital['se'])}) and "
        f"{readable(worst['var_995']['value'])} yuan in the worst, {worst_year} from "
        f"{worst['from']} (s.e. {readable(worst['var_995']['se'])}).",
        f"Ruin (a solvency gap in some quarter of the run): "
        f"{summary['ruin_probability_text'][name]}.",
        f"The platform's value, {value['gap_rule']}, is {readable(value['mean'])} yuan on "
        f"average (s.e. {readable(value['mean_se'])}).",
    ]
    return " ".join(sentences)


def _paths_text(used) -> str:
    """Paths per scenario; their range where the scenarios stopped at different numbers of
    paths (``paths_used``), so that no reader takes the file's path dimension for each's."""
    return f"{used.min()}–{used.max()}" if used.min() < used.max() else f"{used.max()}"


def _weighted_note(summary: dict, names: list[str], used, shown: int) -> list[str]:
    """The paragraph on weighted paths (none for plain ones): each scenario's effective
    sample size out of the paths it holds."""
    weighted = [n for n in names if summary["weighted"].get(n)]
    if not weighted:
        return []
    return ["<p>" + html.escape(
        "Weighted paths (importance sampling, the file's [tail] tilt): every figure below "
        "weighs each path by its likelihood ratio; effective sample sizes: "
        + "; ".join(f"{n}: {summary['effective_paths'][n]:,.0f} of {used[names.index(n)]}"
                    for n in weighted[:shown])) + ".</p>"]


def render(ds, fairness: str | None = None, title: str | None = None,
           max_fan_scenarios: int = 12, reverse_stress: str | None = None) -> str:
    """The HTML page of an opened results dataset; ``reverse_stress`` is the reverse stress
    test's section (:mod:`engine.report.reverse_stress_page`), computed by the caller."""
    from engine.report.plots import fan_chart, overlay_medians, scenario_weights, tornado_chart
    from engine.report.sensitivity_files import index_chart

    comparison = compare(ds)
    described = str(ds.attrs.get("scenario_description", "")).strip()
    title = title or described or str(ds.attrs.get("title", "mutualsim report"))
    quarters = [str(q) for q in ds["quarter"].values]
    used = paths_used(ds)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             f"</title><style>{STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<p>" + html.escape(
                 f"{len(comparison.rows)} scenario(s) × {_paths_text(used)} paths × "
                 f"{len(quarters)} quarters ({quarters[0]}–{quarters[-1]}); seed "
                 f"{ds.attrs.get('seed')}; {provenance(ds)}") + "</p>"]
    names = [str(s) for s in ds["scenario"].values]
    parts += _weighted_note(comparison.summary, names, used, max_fan_scenarios)
    parts.append("<h2>In brief</h2>")
    large = len(names) > LARGE_SET
    for name in names[:1] if large else names[:max_fan_scenarios]:
        lead = (f"<b>{html.escape(name)}" + (" (the base scenario)" if large else "")
                + ".</b> ") if len(names) > 1 else ""
        parts.append(f"<p>{lead}{html.escape(opening(comparison.summary, name))}</p>")
    effect = effect_indices(ds, comparison) if comparison.swept_keys else []
    if large:
        parts.append(set_brief(comparison, effect))
    parts.append(scenario_table(comparison))
    if comparison.swept_keys:
        parts.append("<h2>Effect of each swept parameter</h2>")
        for metric, label in EFFECT_METRICS:
            parts.append(f"<img alt='tornado {html.escape(metric)}' src='"
                         f"{_png(tornado_chart(comparison.effects[metric], label))}'>")
        for result in effect:
            if result.rows:
                parts.append(f"<img alt='indices {html.escape(result.output)}' "
                             f"src='{_png(index_chart(result))}'>")
    parts.append("<h2>Medians by scenario</h2>")
    low, high = extremes(comparison)
    chosen = [0, *low, *high] if large else None
    for var in ("members", "claims", "cost_per_member", "reserve"):
        parts.append(f"<img alt='medians {var}' "
                     f"src='{_png(overlay_medians(ds, var, only=chosen))}'>")
    parts.append("<h2>Fan charts</h2>")
    for i, name in enumerate(names[:max_fan_scenarios]):
        parts.append(f"<h3>{html.escape(name)}</h3>")
        for var in ("members", "cost_per_member"):
            fig = fan_chart(scenario_paths(ds, var, i), quarters, f"{name}: {var}",
                            ds[var].attrs.get("units", ""), scenario_weights(ds, i))
            parts.append(f"<img alt='{html.escape(name)} {var}' src='{_png(fig)}'>")
    if len(names) > max_fan_scenarios:
        parts.append(f"<p>Fan charts of the first {max_fan_scenarios} of {len(names)} "
                     "scenarios; every scenario is in the tables above and below.</p>")
    if large:
        parts.append("<h2>Summary</h2><p>" + html.escape(
            f"Every scenario's summary (quantiles by quarter, risk measures): `mutualsim "
            f"summary FILE --json`; the {len(names)} scenarios' risk measures are in the "
            "table above.") + "</p>")
    else:
        parts.append("<h2>Summary</h2><pre>" + html.escape(format_summary(comparison.summary))
                     + "</pre>")
    parts.append(profiles_section(comparison.summary, names[:max_fan_scenarios], _png))
    if reverse_stress:
        parts.append(reverse_stress)
    if fairness:
        parts.append("<h2>Fairness (first scenario)</h2><pre>" + html.escape(fairness)
                     + "</pre>")
    parts.append("<h2>Scenario file</h2><p>As run, kept as a record: the figures above use "
                 "the values the file stores (" + html.escape(resolved(ds).how)
                 + "), not this text.</p><pre>"
                 + html.escape(str(ds.attrs.get("scenario_toml", ""))) + "</pre>")
    parts.append(SORT_SCRIPT + "</body></html>")
    return "\n".join(parts)


def write_report(ds, out: str | Path, fairness: str | None = None,
                 reverse_stress: str | None = None) -> Path:
    """Write the page to ``out`` (through a temporary name); ``fairness`` is the fairness
    table's text (:func:`engine.studies.fairness.fairness_text`) and ``reverse_stress`` the
    reverse stress test's section, computed by the caller because the report only reads
    results."""
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(render(ds, fairness=fairness, reverse_stress=reverse_stress),
                   encoding="utf-8")
    tmp.replace(out)
    return out

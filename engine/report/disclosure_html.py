"""The disclosure section as HTML: published figures against the model, reserve adequacy,
and the quarterly disclosure a platform should publish (a ``Disclosure`` of
:mod:`engine.studies.disclosure`, read by its attributes). Readable offline: no scripts,
no fetched files."""

from __future__ import annotations

import html
import math

from engine.report.html import STYLE, readable

FLAG_STYLE = "background:#fde2e2"


def _cell(x) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isinf(x):
            return "no capital needed" if x > 0 else "−∞"
        if math.isnan(x):
            return "–"
        return readable(x)
    return html.escape(str(x))


def _table(header: list[str], rows: list[list], flags: list[bool] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        style = f' style="{FLAG_STYLE}"' if flags and flags[i] else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{_cell(x)}</td>" for x in row) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def ae_section(d) -> str:
    """Published figures against the model's expectation, flags first in the text. Inside or
    outside is :func:`engine.studies.verdicts.inside` (the word the list by source gives the
    same figure)."""
    flagged = [r for r in d.actual_expected if not r.inside_90]
    intro = (f"<p>{len(d.actual_expected)} published figures against {d.paths_said} "
             f"({html.escape(d.scenario)}): {len(d.actual_expected) - len(flagged)} inside, "
             f"{len(flagged)} outside (shaded). A figure is inside when it falls within the "
             "model's 90% interval widened by the figure's own stated error (sd_log, its "
             "90% range shown) in quadrature on the log scale, |z| ≤ 1.645; the list by "
             "source below uses the same rule. A/E is the figure over the model's mean; the "
             "percentile is where the figure falls among the paths.</p>")
    rows, flags = [], []
    for r in d.actual_expected:
        o = r.observation
        lo, hi = r.figure_range
        rows.append([o.date, o.label, o.plan or "platform", o.value,
                     f"{readable(lo)} – {readable(hi)}", r.median,
                     f"{readable(r.q25)} – {readable(r.q75)}",
                     f"{readable(r.q05)} – {readable(r.q95)}", f"{r.ae:.2f}",
                     f"{100 * r.percentile:.0f}%", f"{r.verdict.z:+.2f}",
                     r.flag or "inside"])
        flags.append(not r.inside_90)
    table = _table(["date", "figure", "plan", "published", "its 90% range (sd_log)",
                    "model median", "50% interval", "90% interval", "A/E", "percentile",
                    "z", "flag"], rows, flags)
    rules = ""
    if d.rules:
        def shown(metric, x):                     # a year reads as a year, not 2,014
            return str(int(x)) if metric == "founding" else x
        rule_rows = [[c.observation.date, c.observation.metric, c.observation.plan or
                      "platform", shown(c.observation.metric, c.observation.value),
                      shown(c.observation.metric, c.model),
                      "consistent" if c.consistent else "DIFFERS", c.what] for c in d.rules]
        rules = ("<h3>Published rules against the scenario's</h3>"
                 + _table(["date", "rule", "plan", "published", "scenario", "", "how checked"],
                          rule_rows, [not c.consistent for c in d.rules]))
    if d.unchecked:
        rules += ("<h3>Published figures not checked</h3><p>These figures of who claims or "
                  "who is a member cannot be computed from the results, and are neither "
                  "inside nor outside:</p><ul>"
                  + "".join(f"<li>{html.escape(o.date)} {html.escape(o.label)} "
                            f"({readable(o.value)}): {html.escape(why)}</li>"
                            for o, why in d.unchecked) + "</ul>")
    return intro + table + rules


def year_ends(rows: list[dict]) -> list[dict]:
    """The rows of fourth quarters and each plan's last quarter (a page's short form; the
    CSV files keep every quarter)."""
    last = {}
    for r in rows:
        last[r["plan"]] = r["quarter"]
    return [r for r in rows if r["quarter"].endswith("Q4") or r["quarter"] == last[r["plan"]]]


def adequacy_section(d, condensed: bool = False) -> str:
    shown = year_ends(d.adequacy) if condensed else d.adequacy
    rows = [[r["plan"] or "platform", r["quarter"], r["reserve_held_yuan"],
             r["capital_needed_995_yuan"], r["solvency_ratio"],
             "yes" if r["adequate"] else "NO",
             "" if r["horizon_quarters"] == 4 else f"{r['horizon_quarters']} quarters left"]
            for r in shown]
    short = sum(1 for r in d.adequacy if not r["adequate"])
    intro = (f"<p>Capital needed to keep the reserve from falling below zero over the next "
             f"year with 99.5% probability, against the median reserve held; {short} of "
             f"{len(d.adequacy)} quarter rows fall short (shaded)"
             + ("; fourth quarters shown, every quarter in disclosure/reserve_adequacy.csv"
                if condensed else "") + ".</p>")
    return intro + _table(["plan", "quarter", "reserve held, yuan",
                           "capital needed (99.5%, 1 year), yuan", "solvency ratio",
                           "adequate", "note"], rows, [not r["adequate"] for r in shown])


def quarterly_section(d, condensed: bool = False) -> str:
    header = ["plan", "quarter", "members", "sharers", "cases", "aid, yuan",
              "cost per member, yuan", "management fee, yuan", "reserve, yuan",
              "solvency ratio"]
    keys = ["members", "sharers", "cases", "aid_yuan", "cost_per_member_yuan",
            "management_fee_yuan", "reserve_yuan"]
    rows = [[r["plan"] or "platform", r["quarter"], *(r[k] for k in keys),
             r["solvency_ratio"]] for r in (year_ends(d.quarterly) if condensed
                                            else d.quarterly)]
    return ("<p>What a platform should publish every quarter, filled from the run (medians "
            "over paths; the CSV has every quarter and the 5%–95% range of each"
            + ("; fourth quarters shown here" if condensed else "") + ").</p>"
            + _table(header, rows))


def disclosure_section(d) -> str:
    """The three tables as one HTML section (for the report and the study document)."""
    return ("<h2>Disclosure: published figures against the model</h2>" + ae_section(d)
            + "<h2>Reserve adequacy by quarter</h2>" + adequacy_section(d)
            + "<h2>The quarterly disclosure a platform should publish</h2>"
            + quarterly_section(d))


def disclosure_page(d) -> str:
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Disclosure: {html.escape(d.scenario)}</title><style>{STYLE}</style>"
            f"</head><body><h1>Disclosure: {html.escape(d.scenario)}</h1>"
            + disclosure_section(d) + "</body></html>")

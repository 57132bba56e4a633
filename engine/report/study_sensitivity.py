"""The study document's table of the assumptions that move its four answers most
(:mod:`engine.studies.assumption_sensitivity`)."""

from __future__ import annotations

import html
import math

from engine.report.html import readable
from engine.report.plain import _count, _pct

SHOWN = 5          # assumptions in the table, those that move the answers most
ANSWERS = ("members", "claims", "value", "share")
ANSWER_WORDS = {"members": "valid members at the year's end (median, persons)",
                "claims": "claims paid in the year (median, cases)",
                "value": "platform value net of costs (median, yuan)",
                "share": "share of health-insurance premiums in the year (median)"}


def _number(key: str, x: float) -> str:
    if not math.isfinite(x):
        return "no premium figure"
    if key == "share":
        return _pct(x)
    if key == "value":
        return f"{readable(x)} yuan"
    return _count(x)


def _setting(x: float) -> str:
    return f"{x:g}" if x >= 1 or x == 0 else f"{x:.2f}"


def sensitivity_section(base: dict, swings: list, paths: int) -> list[str]:
    """HTML: what the table shows and on what basis, then one row per assumption (the top
    :data:`SHOWN` by their largest swing) with the four answers at its low and high
    values; ``swings`` are :class:`engine.studies.assumption_sensitivity.Swing`, largest
    first."""
    if not swings:
        return []
    shown = swings[:SHOWN]
    year = base["year"]
    head = ("<tr><th>assumption (basis of its range)</th><th>file's value</th>"
            "<th>low – high</th>"
            + "".join(f"<th>{html.escape(ANSWER_WORDS[k])}: at low → at high</th>"
                      for k in ANSWERS) + "<th>largest change, share of the base</th></tr>")
    rows = []
    for s in shown:
        c = s.candidate
        cells = "".join(f"<td>{_number(k, s.low[k])} → {_number(k, s.high[k])}</td>"
                        for k in ANSWERS)
        rows.append(f"<tr><td>{html.escape(c.label)} (<code>{html.escape(c.key)}</code>; "
                    f"{html.escape(c.basis)})</td><td>{_setting(s.base_value)}</td>"
                    f"<td>{_setting(c.low)} – {_setting(c.high)}</td>{cells}"
                    f"<td>{s.largest(base):.0%}</td></tr>")
    base_cells = "".join(f"<td>{_number(k, base[k])}</td>" for k in ANSWERS)
    others = [s.candidate.label for s in swings[SHOWN:]]
    return [
        "<h3>Sensitivity of the four answers to the assumptions</h3>",
        f"<p>Each assumption set to the low and then the high end of its range, all else as "
        f"in the fitted scenario (its point estimate, without the parameter draws), {paths:,} "
        f"paths each on the same random numbers. Answers for {year}, the last full year of "
        "the run. Ranked by the largest change over the four answers, as a share of the "
        "base run's answer; one at a time, so two assumptions moving together are not "
        "shown.</p>",
        "<table><tr><th>base run</th><th></th><th></th>"
        + "".join(f"<th>{html.escape(ANSWER_WORDS[k])}</th>" for k in ANSWERS)
        + f"<th></th></tr><tr><td>the fitted scenario</td><td></td><td></td>{base_cells}"
        "<td></td></tr></table>",
        f"<table>{head}{''.join(rows)}</table>",
        *([f"<p>Also tried, moving the answers less: {html.escape('; '.join(others))}.</p>"]
          if others else []),
    ]

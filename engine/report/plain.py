"""Plain formatting for the study document (issue 26): counts of people as whole numbers,
shares in percent ("8%", "0.0261%", never "0.0800" or "1e-05"), table cells by their
column's words, yearly slices and medians with their 90 % intervals."""

from __future__ import annotations

import html
import math

import numpy as np

from engine.analysis import weighted as W
from engine.report.html import readable

# Column headers whose numbers are shares, printed in percent ("8%", not "0.0800").
PERCENT_WORDS = ("fee", "probability", "share")
COUNT_WORDS = ("members", "claims", "cases", "sharers", "persons")


def _esc(x) -> str:
    return html.escape(str(x))


def _count(x) -> str:
    """A count of people: a whole number ("84", "12,345", "1.2 million")."""
    if x is None or not np.isfinite(x):
        return "–"
    return readable(float(round(x)))


def _pct(x: float) -> str:
    """A share in percent: "8%", "0.35%", "12.5%"."""
    if not np.isfinite(x):
        return "–"
    if x == 0:
        return "0%"
    p = 100 * x
    if abs(p - round(p)) < 1e-9:
        return f"{p:.0f}%"
    if abs(p) >= 1:
        return f"{p:.1f}%"
    decimals = min(2 - math.floor(math.log10(abs(p))), 9)   # three digits, never 1e-05
    return f"{p:.{decimals}f}".rstrip("0").rstrip(".") + "%"


def _cell(x, header: str = "") -> str:
    words = header.lower()
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isinf(x):
            return "–"
        if math.isnan(x):
            return "–"
        if any(w in words for w in PERCENT_WORDS) and "yuan" not in words and abs(x) <= 1:
            return _pct(x)
        if any(w in words for w in COUNT_WORDS) and "yuan" not in words:
            return _count(x)
        return readable(x) if abs(x) >= 1 or x == 0 else f"{x:.3g}"
    return _esc(x)


def _table(header, rows) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(x, str(h))}</td>"
                                    for x, h in zip(row, list(header) + [""] * len(row),
                                                    strict=False)) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _yearly(x, quarters):
    out = {}
    for year in sorted({q[:4] for q in quarters}):
        idx = [t for t, q in enumerate(quarters) if q.startswith(year)]
        out[year] = (x[:, idx], len(idx))
    return out


def _q(x, count: bool = False) -> str:
    lo, mid, hi = W.quantile(x, [0.05, 0.5, 0.95])
    f = _count if count else readable
    return f"{f(mid)} ({f(lo)} – {f(hi)})"


def _year_label(year: str, n: int) -> str:
    return year + ("" if n == 4 else f" ({n} {'quarter' if n == 1 else 'quarters'} "
                   "of the run)")


def _range(q) -> str:
    return f"{readable(q['0.5'])} ({readable(q['0.05'])} – {readable(q['0.95'])})"


def _last_full_year(series) -> tuple[str, list[int]]:
    """The last calendar year with all four quarters in the run, and its quarters."""
    quarters = series["quarters"]
    years = sorted({q[:4] for q in quarters})
    full = [y for y in years if sum(q.startswith(y) for q in quarters) == 4]
    year = (full or years)[-1]
    return year, [t for t, q in enumerate(quarters) if q.startswith(year)]

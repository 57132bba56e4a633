"""The report's section on who claims and who is a member (:mod:`engine.analysis.profiles`):
men's share of claims and the age at claim by year, the claims' and members' age pyramids
of the last full calendar year, and the members' mix of risk groups, each a mean over
paths with the 5-95 % range of the paths."""

from __future__ import annotations

import html

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter


def _span(s: dict, pct: bool = False, digits: int = 1) -> str:
    if not s.get("paths"):
        return "–"
    k = 100.0 if pct else 1.0
    unit = " %" if pct else ""
    return (f"{k * s['mean']:.{digits}f}{unit} ({k * s['q05']:.{digits}f}–"
            f"{k * s['q95']:.{digits}f})")


def _last_full_year(labels: list[str]) -> str | None:
    years = [label[:4] for label in labels]
    full = [y for y in dict.fromkeys(years) if years.count(y) == 4]
    return full[-1] if full else None


def pyramid_chart(claims: dict, members: dict | None, title: str) -> Figure:
    """Shares by age band and sex (bars: mean over paths; whiskers: 5-95 %), claims on the
    left, members on the right."""
    panels = [("claims", claims)] + ([("members", members)] if members else [])
    fig = Figure(figsize=(5.5 * len(panels), 4.5))
    for j, (what, table) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), j + 1)
        sexes = list(table)
        bands = list(table[sexes[0]])
        y = np.arange(len(bands))
        for sex, sign, colour in zip(sexes, (-1, 1), ("#c0504d", "#4f81bd"), strict=False):
            mean = np.array([table[sex][b]["mean"] for b in bands]) * 100
            low = np.array([table[sex][b]["q05"] for b in bands]) * 100
            high = np.array([table[sex][b]["q95"] for b in bands]) * 100
            ax.barh(y, sign * mean, color=colour, label=sex,
                    xerr=np.vstack([mean - low, high - mean]), ecolor="#333")
        ax.set_yticks(y, bands)
        ax.set_xlabel("share, % (female left, male right)")
        ax.set_title(f"{what}: {title}")
        ax.axvline(0, color="#333", lw=0.8)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{abs(v):g}"))
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def profiles_section(summary: dict, names: list[str], png) -> str:
    """The section for the scenarios ``names`` that have a detail ("" if none has);
    ``png(fig)`` embeds a figure."""
    parts = []
    for name in names:
        p = summary["profiles"].get(name) or {}
        if not p:
            continue
        parts.append(f"<h3>{html.escape(name)}</h3>")
        ages = p.get("age_at_claim", {})
        shares = p.get("claims_male_share", {})
        years = list(dict.fromkeys([*shares, *ages.get("all", {})]))
        head = ["year", "men's share of claims"] + [f"mean age at claim, {who}"
                                                    for who in ages] + (
            ["quartiles of age at claim, all"] if ages else [])
        rows = []
        for y in years:
            cells = [y, _span(shares[y], pct=True) if y in shares else "–"]
            cells += [_span(ages[who][y]["mean"]) for who in ages]
            if ages:
                a = ages["all"][y]
                cells.append(" / ".join(f"{a[q]['mean']:.1f}" if a[q]["paths"] else "–"
                                        for q in ("q25", "q50", "q75")))
            rows.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                        + "</tr>")
        if rows:
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head)
                         + "</tr>" + "".join(rows) + "</table>")
        year = _last_full_year(summary["quarters"])
        claims = p.get("claims_by_age_band", {}).get(year) if year else None
        members = p.get("members_age_pyramid", {}).get(f"{year}Q4") if year else None
        if claims:
            parts.append(f"<img alt='{html.escape(name)} age pyramids' src='"
                         f"{png(pyramid_chart(claims, members, year))}'>")
        mix = p.get("members_risk_mix", {})
        if mix:
            groups = list(next(iter(mix.values())))
            parts.append("<table><tr><th>members' mix of risk groups at</th>" + "".join(
                f"<th>{html.escape(g)}</th>" for g in groups) + "</tr>" + "".join(
                f"<tr><td>{html.escape(q)}</td>" + "".join(
                    f"<td>{_span(row[g], pct=True)}</td>" for g in groups) + "</tr>"
                for q, row in mix.items()) + "</table>")
    if not parts:
        return ""
    return ("<h2>Who claims and who is a member</h2><p>From the run's detail ([output]): "
            "each figure is the mean over paths with the 5–95 % range of the paths in "
            "brackets. Ages are exact ages in years (a claim at completed age a counts as "
            "a + ½, bands spread evenly over their years); a published mean of completed "
            "ages is about half a year lower.</p>" + "".join(parts))

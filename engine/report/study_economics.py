"""The study document's economics: the platform's net value at a valuation date
(:mod:`engine.studies.net_value`) and the sector's share of health-insurance premiums
(:mod:`engine.studies.sector_share`), as HTML fragments (headings, the basis in a
paragraph, tables) for :func:`engine.report.study_html.study_page`."""

from __future__ import annotations

import math

from engine.report.html import readable
from engine.report.study_html import _esc, _table


def yuan(x: float) -> str:
    """An amount in words with its unit: ``12.3 million yuan``, ``1.23 billion yuan``."""
    if x is None or not math.isfinite(x):
        return "–"
    return readable(x).replace(" bn", " billion") + " yuan"


def _span(q: dict | None, fmt=yuan) -> str:
    """Median with the 90 % interval: ``12.3 million yuan (1.2 million yuan to 30 million
    yuan)``."""
    if not q:
        return "–"
    return f"{fmt(q['0.5'])} ({fmt(q['0.05'])} to {fmt(q['0.95'])})"


def percent(x: float) -> str:
    """A share as a percentage with three significant figures and no exponent
    (``0.0123%``, ``4.64%``, ``1,250%``)."""
    value = 100.0 * x
    if value == 0 or not math.isfinite(value):
        return f"{value:g}%"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    return f"{value:,.{decimals}f}%"


def _rates(rates) -> str:
    return " and ".join(f"{r:.0%}" for r in rates) + " a year"


def value_section(nv) -> list[str]:
    """The net value at the valuation date (a :class:`engine.studies.net_value.NetValue`):
    the basis, the costs with their sources, the sweep by terminal assumption, the
    revenue-only figure named as such and the central case's parts."""

    date, rates = nv.valuation_date, _rates(nv.discount_rates)
    basis = (f"Value at {date} of the cash flows after it: fee income less operating cost per "
             f"member-quarter, acquisition cost per join and handling cost per case (and "
             f"anything the platform paid in members' place), each quarter's flow at its "
             f"end, discounted to {date} at {rates} (the scenario's valuation.discount_rate). "
             f"The projection gives {nv.quarters_after} quarters after the date, to "
             f"{nv.horizon_end}; {nv.paths:,} paths (parameter draws pooled, equally "
             f"weighted). Amounts in yuan at {date}; each figure is the median with the "
             "5%–95% range of paths. Not counted: what members are worth to the operator's "
             "other business (cross-selling) and any solvency gap the operator might choose "
             "to fund.")
    terminal = (f"<b>Terminal assumption.</b> (a) {_esc(nv.closure_words)}. (b) Going concern: "
                f"the last four quarters' net cash flow continues as a yearly perpetuity "
                f"growing at {nv.growth_per_year:.0%} a year (a judgement), valued at the "
                f"horizon's end as C(1 + g)/(r − g) and discounted to {date}; never below "
                "zero, since an owner would close rather than fund a loss for ever.")
    if not any(row["terminal"] == "going concern" for row in nv.rows):
        terminal += (f" Not valued here: the discount rate ({_esc(rates)}) is not above "
                     "the growth, so the perpetuity has no finite value.")
    anchor = []
    if nv.fee_per_member_quarter:
        anchor.append(f"In the year to {date} the fee earned "
                      f"{_span(nv.fee_per_member_quarter)} per member-quarter (this run)")
    if nv.members_at_date:
        anchor.append(f"members at {date}: {_span(nv.members_at_date, readable)}")
    cost_rows = [[c.name, c.unit, yuan(c.low), yuan(c.central), yuan(c.high), c.basis]
                 for c in nv.costs]
    by_case: dict[str, dict] = {}
    for row in nv.rows:
        by_case.setdefault(row["case"], {"row": row})[row["terminal"]] = row["quantiles"]
    value_rows = [[case, yuan(entry["row"]["opex"]), yuan(entry["row"]["acquisition"]),
                   yuan(entry["row"]["handling"]), _span(entry.get("closure")),
                   _span(entry.get("going concern"))] for case, entry in by_case.items()]
    value_rows.append([nv.revenue_label, yuan(0.0), yuan(0.0), yuan(0.0),
                       _span(nv.revenue_only), "–"])
    c = nv.components
    parts = [["fee income", _span(c.get("fee"))],
             ["operating cost", _span(c.get("members"))],
             ["acquisition cost", _span(c.get("joins"))],
             ["handling cost", _span(c.get("claims"))],
             ["paid in members' place", _span(c.get("platform_funding"))]]
    return [
        f"<h3>The platform's value at {_esc(date)}: fee income less costs</h3>",
        f"<p>{_esc(basis)}</p>",
        f"<p>{terminal}</p>",
        *([f"<p>{_esc('; '.join(anchor))}.</p>"] if anchor else []),
        "<p>The costs, each swept from low to high (one at a time, the others central, "
        "then all low and all high):</p>",
        _table(["cost", "unit", "low", "central", "high", "source or judgement"], cost_rows),
        _table(["case", "operating cost per member-quarter", "acquisition cost per join",
                "handling cost per case", "value, closure at the horizon's end",
                "value, going concern"], value_rows),
        f"<p>The last row is fee income alone, discounted to {_esc(date)} at {_esc(rates)} "
        "with every cost zero and closure: revenue, not a value.</p>",
        f"<p>The central case's parts (present values at {_esc(date)}, closure):</p>",
        _table(["part", "present value, median (5%–95%)"], parts),
    ]


def sector_section(share: dict, platform_label: str = "e互助") -> list[str]:
    """The sector's contributions and share of commercial health-insurance premiums by year
    (a :func:`engine.studies.sector_share.sector_share` result), the platform's beside it."""
    rows = share["rows"]
    first, last = rows[0]["year"], rows[-1]["year"]
    partial = [str(r["year"]) for r in rows if r["partial"]]
    missing = [str(r["year"]) for r in rows if r["premium_yuan"] is None]
    basis = (f"The whole online mutual-aid sector as modelled ({', '.join(share['platforms'])}"
             f"; platforms summed path by path, {share['paths']:,} paths, from "
             f"{share['labels'][0]} to {share['labels'][-1]}) against China's commercial "
             "health-insurance premiums of each year (原保险保费收入 as the regulator "
             "published them; engine/data/china_health_insurance_premiums.csv names each "
             "year's source). Share = members' contributions in the year (cost per member "
             "times sharers, yuan) / the year's premiums. A partial year (fewer than four "
             "quarters projected"
             + (f": {', '.join(partial)}" if partial else "")
             + ") is compared with the same fraction of the year's premiums (quarters / 4, "
             "as if premiums were spread evenly over the year)."
             + _alone(share.get("starts") or {})
             + (f" No premium figure for {', '.join(missing)}: no share is given."
                if missing else "")
             + " Each figure: median (5%–95% of paths).")
    own = share.get("platform") is not None
    table = []
    for r in rows:
        table.append([
            f"{r['year']}" + (f" (partial: {r['quarters']} quarters)" if r["partial"] else ""),
            yuan(r["premium_compared_yuan"]) if r["premium_compared_yuan"] else
            "no figure",
            _span(r["contributions_yuan"]),
            _span(r["share"], percent) if r["share"] else "–",
            *([_span(r["platform_contributions_yuan"]),
               _span(r["platform_share"], percent) if r["platform_share"] else "–"]
              if own else [])])
    published = (_published(rows, share["published_peak_yuan"],
                            share["published_peak_source"])
                 if "published_peak_yuan" in share else "")
    return [
        f"<h3>Mutual aid's share of commercial health-insurance premiums, {first}–{last}</h3>",
        f"<p>{_esc(basis)}</p>",
        *([f"<p>{_esc(published)}</p>"] if published else []),
        _table(["year", "premiums compared (the year's, or its fraction)",
                "sector contributions", "sector share of premiums",
                *([f"{platform_label} contributions", f"{platform_label} share of premiums"]
                  if own else [])], table),
    ]


def _published(rows: list[dict], peak: float, peak_source: str) -> str:
    """The industry's published peak size (``peak`` yuan a year, from ``peak_source``) as a
    share of 2019's and 2020's premiums, beside the modelled sector's contributions of
    those years."""
    years = [r for r in rows if r["year"] in (2019, 2020) and r["premium_yuan"]
             and not r["partial"]]
    if not years:
        return ""
    return (f"Read against the published figure: the industry's size at its peak, "
            f"{yuan(peak)} a year ({peak_source}), would be "
            + " and ".join(f"{percent(peak / r['premium_yuan'])} of "
                           f"{r['year']}'s premiums (the modelled sector: "
                           f"{yuan(r['contributions_yuan']['0.5'])}, median, "
                           f"{r['contributions_yuan']['0.5'] / peak:.1f} "
                           "times the published size)" for r in years)
            + ". Where the two differ, the published figure is the firmer: read the "
            "modelled sector's share as "
            + ("too high" if years[0]["contributions_yuan"]["0.5"] > peak
               else "a lower bound") + ".")


def _alone(starts: dict[str, str]) -> str:
    """Which platform the modelled sector is alone before the second launch: mutual aid then
    had other platforms the model leaves out."""
    from engine.config.labels import parse_quarter

    if len(starts) < 2:
        return ""
    order = sorted(starts.items(), key=lambda item: parse_quarter(item[1]))
    (first, _), (_, second) = order[0], order[1]
    return (f" Before {second} the modelled sector is {first} alone, while platforms the "
            "model leaves out also ran, so those years understate mutual aid's share.")

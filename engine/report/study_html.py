"""The study document of one platform (``mutualsim study``): an HTML page in the study's
order (development, advantages, risks, sustainability, recommendations), readable offline
(figures embedded as PNG ``data:`` URIs; no scripts, no fetched files)."""

from __future__ import annotations

import html
import math
import os

import numpy as np

from engine.analysis import weighted as W
from engine.report.disclosure_html import adequacy_section, ae_section, quarterly_section
from engine.report.html import STYLE, _png, opening, readable

BAND_COLOUR = "#1f77b4"


def _esc(x) -> str:
    return html.escape(str(x))


def _cell(x) -> str:
    if isinstance(x, float):
        if math.isinf(x):
            return "–"
        return readable(x) if abs(x) >= 1 or x == 0 else f"{x:.4f}"
    return _esc(x)


def _table(header, rows) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(x)}</td>" for x in row) + "</tr>"
                   for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fan(ax, quarters, x, label, colour=BAND_COLOUR):
    lo, q25, mid, q75, hi = W.quantile(x, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    t = np.arange(len(quarters))
    ax.fill_between(t, lo, hi, color=colour, alpha=0.15, linewidth=0)
    ax.fill_between(t, q25, q75, color=colour, alpha=0.3, linewidth=0)
    ax.plot(t, mid, color=colour, label=f"{label} (median, 50% and 90%)")


def _ticks(ax, quarters):
    step = max(1, len(quarters) // 8)
    ax.set_xticks(range(0, len(quarters), step))
    ax.set_xticklabels(quarters[::step], rotation=45, ha="right")


def development_figure(series, disclosure) -> str:
    from engine.report.plots import plt

    quarters = series["quarters"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    _fan(axes[0], quarters, series["members"], "members")
    _fan(axes[0], quarters, series["sharers"], "sharers", "#ff7f0e")
    for r in disclosure.actual_expected:
        o = r.observation
        if o.metric in ("members", "sharers") and not o.plan:
            axes[0].plot([o.end - 1], [o.value], "kx", markersize=9)
        elif o.metric in ("members", "sharers"):
            axes[0].plot([o.end - 1], [o.value], "k+", markersize=9)
    axes[0].plot([], [], "kx", label="published (platform)")
    axes[0].plot([], [], "k+", label="published (a plan)")
    axes[0].set_title("Members and sharers")
    axes[0].legend(fontsize=7, loc="upper left")
    colours = ["#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf"]
    if series.get("plans"):
        for j, plan in enumerate(series["plans"]):
            _fan(axes[1], quarters, series["cost_per_member_by_plan"][j], plan,
                 colours[j % len(colours)])
    _fan(axes[1], quarters, series["cost_per_member"], "platform (per sharer)")
    axes[1].set_title("Cost per member per quarter, yuan")
    axes[1].set_yscale("symlog", linthresh=1.0)
    axes[1].legend(fontsize=7, loc="upper left")
    for ax in axes:
        _ticks(ax, quarters)
    fig.tight_layout()
    return _png(fig)


def risk_figure(series) -> str:
    from engine.report.plots import plt

    quarters = series["quarters"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    _fan(axes[0], quarters, series["claims"], "claims")
    axes[0].set_title("Claims per quarter")
    _fan(axes[1], quarters, series["antiselection_factor"], "pool's incidence multiplier")
    axes[1].axhline(1.0, color="grey", linewidth=0.8)
    axes[1].set_title("The spiral: the pool's risk mix (1 = the population's)")
    for ax in axes:
        ax.legend(fontsize=7, loc="upper left")
        _ticks(ax, quarters)
    fig.tight_layout()
    return _png(fig)


def _yearly(x, quarters):
    out = {}
    for year in sorted({q[:4] for q in quarters}):
        idx = [t for t, q in enumerate(quarters) if q.startswith(year)]
        out[year] = (x[:, idx], len(idx))
    return out


def _q(x) -> str:
    lo, mid, hi = W.quantile(x, [0.05, 0.5, 0.95])
    return f"{readable(mid)} ({readable(lo)} – {readable(hi)})"


def sustainability_rows(summary, name, series) -> list[list]:
    """By year: members at the year's end, claims, contributions and market share."""
    quarters = series["quarters"]
    share = summary["market_share_by_year"][name]
    rows = []
    members = _yearly(series["members"], quarters)
    claims = _yearly(series["claims"], quarters)
    for year, (m, n) in members.items():
        row = share.get(year, {})
        sq = row.get("share_quantiles") if row else None
        rows.append([year + ("" if n == 4 else f" ({n} quarters)"), _q(m[:, -1]),
                     _q(claims[year][0].sum(axis=1)),
                     _range(row["contributions_yuan_quantiles"]) if row else "–",
                     f"{sq['0.5']:.4%} ({sq['0.05']:.4%} – {sq['0.95']:.4%})" if sq else
                     "no premium figure"])
    return rows


def _range(q) -> str:
    return f"{readable(q['0.5'])} ({readable(q['0.05'])} – {readable(q['0.95'])})"


def conflicts(disclosure) -> str:
    above = [r for r in disclosure.actual_expected if r.observation.value > r.q95]
    below = [r for r in disclosure.actual_expected if r.observation.value < r.q05]

    def names(rows):
        return "; ".join(f"{_esc(r.observation.metric)} {_esc(r.observation.date)}"
                         f"{' (' + _esc(r.observation.plan) + ')' if r.observation.plan else ''}"
                         f" A/E {r.ae:.2f}" for r in rows)
    if above and below:
        return (f"<p><b>Sources that conflict.</b> Published figures fall above the model's "
                f"90% interval ({names(above)}) and below it ({names(below)}): no single "
                "run of this model meets them all, and the figures pull it in opposite "
                "directions. Each row's source is in disclosure/disclosure_ae.csv.</p>")
    if above or below:
        return (f"<p><b>Figures the model does not meet.</b> {names(above + below)}: all on "
                "one side of the model, so a different model, not a compromise between "
                "sources, would be needed.</p>")
    return "<p>Every published figure falls inside the model's 90% interval.</p>"


def study_page(scenario_set, summary, disclosure, premiums, policies, series, results_path,
               expense_ratios, fit_lines=()) -> str:
    """The study document: the four answers, then development, advantages, risks,
    sustainability and the recommendations, each section from its own function."""
    base = scenario_set.base
    name = summary["scenarios"][0]
    title = base.scenario.description or base.scenario.name
    plans = series.get("plans") or []
    by_year = sustainability_rows(summary, name, series)
    parts = [
        *_head(title, scenario_set.file, plans, summary, results_path),
        *_four_answers(summary, name, by_year),
        f"<p>{opening(summary, name)}</p>",
        *_development(series, disclosure, fit_lines),
        *_advantages(premiums, expense_ratios, base.sharing.fee_rate),
        *_risks(summary, name, series, disclosure),
        "<h2>4. Sustainability: the four predictions by year</h2>",
        _table(["year", "valid members at the year's end", "claims in the year",
                "contributions, yuan", "share of health premiums"], by_year),
        *_recommendations(policies, summary, name, plans),
        *_closing(disclosure),
    ]
    return "\n".join(parts)


def _head(title, scenario_file, plans, summary, results_path) -> list[str]:
    return [
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
        f"{_esc(title)}: the study</title><style>{STYLE}</style></head><body>",
        f"<h1>{_esc(title)}: the study</h1>",
        f"<p>Scenario file {_esc(scenario_file)}"
        + (f", a platform of {len(plans)} plans ({_esc(', '.join(plans))})" if plans else "")
        + f"; {summary['paths']:,} paths, seed {summary['seed']}; results "
        f"{_esc(os.path.basename(str(results_path)))}.</p>",
    ]


def _four_answers(summary, name, by_year) -> list[str]:
    """Members, claims and market share in the last full year (or the last one), and the
    platform's value."""
    value = summary["platform_value"][name]
    vq = value["quantiles"]
    full = [r for r in by_year if "quarters)" not in r[0]]
    last_year = (full or by_year)[-1]
    return [
        "<h2>The four answers</h2><ol>",
        f"<li><b>Valid members</b> at the end of {_esc(last_year[0])}: {last_year[1]} "
        "(median, 90% interval).</li>",
        f"<li><b>Claims</b> paid in {_esc(last_year[0])}: {last_year[2]}.</li>",
        f"<li><b>The platform's value</b> ({_esc(value['gap_rule'])}): mean "
        f"{readable(value['mean'])} yuan (s.e. {readable(value['mean_se'])}), median "
        f"{readable(vq['0.5'])} (90%: {readable(vq['0.05'])} – {readable(vq['0.95'])}).</li>",
        f"<li><b>Market share</b> (contributions over China's commercial health-insurance "
        f"premiums) in {_esc(last_year[0])}: {last_year[4]}.</li></ol>",
    ]


def _development(series, disclosure, fit_lines) -> list[str]:
    return [
        "<h2>1. Development</h2>",
        "<img alt=\"members, sharers and cost per member\" src=\""
        + development_figure(series, disclosure) + "\">",
        ae_section(disclosure), conflicts(disclosure),
        *(["<h3>Why the forecast cannot meet every figure</h3><p>The expected path of "
            "the scenario's parameters against each figure, <i>z</i> on the figure's own "
            "stated error (sd_log), by source:</p><ul>"
            + "".join(f"<li>{_esc(line.strip())}</li>" for line in fit_lines) + "</ul>"]
          if fit_lines else []),
    ]


def _advantages(premiums, expense_ratios, fee) -> list[str]:
    """What a member pays against an insurer's premium for the same cover."""
    fee_share = fee / (1 + fee)
    return [
        "<h2>2. Advantages in numbers</h2>",
        "<p>What a member pays in a year against an insurance premium for the same cover "
        "and ages: the insured-lives critical-illness table's expected claims for the plan's "
        "ages and benefit (its risk premium), loaded for an insurer's expenses at "
        + " and ".join(f"{e:.0%}" for e in expense_ratios)
        + " of premium (ASSUMPTION: stated, not sourced). A cancer-only plan is compared with "
        "72% of the table (malignant tumours' share of critical-illness claims, China Life "
        f"2020-H1). The management fee, {fee:.0%} of aid ({fee_share:.1%} of what members "
        "pay), compares with those expense ratios.</p>",
        _table(["plan", "year", "member pays (median, 5%–95%), yuan", "risk premium, yuan",
                *[f"premium at {e:.0%} expenses, yuan" for e in expense_ratios], "cover"],
               [[p["plan"], p["year"], f"{readable(p['member_pays_median'])} "
                 f"({readable(p['member_pays_p05'])} – {readable(p['member_pays_p95'])})",
                 p["risk_premium"], *[p[f"premium_at_{int(100 * e)}pct_expenses"]
                                      for e in expense_ratios], p["cover"]]
                for p in premiums]),
    ]


def _risks(summary, name, series, disclosure) -> list[str]:
    return [
        "<h2>3. Risks in numbers</h2>",
        "<p>Ruin (a solvency gap in some quarter): "
        f"{_esc(summary['ruin_probability_text'][name])}. "
        f"One-year shortfall at 99.5%: VaR {readable(summary['shortfall_var_995'][name])} yuan, "
        f"TVaR {readable(summary['shortfall_tvar_995'][name])} yuan in the first year; "
        f"{readable(max(summary['shortfall_var_995_by_year'][name]))} yuan in the worst year.</p>",
        f"<img alt=\"claims and the pool's risk mix\" src=\"{risk_figure(series)}\">",
        "<h3>Reserve adequacy</h3>", adequacy_section(disclosure, condensed=True),
    ]


def _recommendations(policies, summary, name, plans) -> list[str]:
    """Each tested policy: its question, answer and table; separate plans by age are set
    against one pool with this run's medians (a row added to that policy's table)."""
    parts = ["<h2>5. Recommendations, each tested</h2>"]
    for policy in policies:
        parts.append(f"<h3>{_esc(policy.title)}</h3><p>{_esc(policy.question)} Tested by "
                     f"<code>{_esc(os.path.join('scenarios', policy.scenario_file.name))}"
                     f"</code>.</p>")
        if policy.answer:
            parts.append(f"<p><b>Answer:</b> {_esc(policy.answer)}</p>")
        if policy.title.startswith("Separate") and plans:
            members = summary["members_quantiles"][name]["0.5"][-1]
            cost = summary["cost_per_member_quantiles"][name]["0.5"][-1]
            policy.rows.append([f"{len(plans)} plans by age", members, cost])
            ratio = members / policy.rows[0][1] if policy.rows[0][1] else math.inf
            parts.append(f"<p><b>Answer:</b> separate plans keep {ratio:.2f} times the "
                         "members of one pool at the end (medians, common random "
                         "numbers).</p>")
        if policy.rows:
            parts.append(_table(policy.header, policy.rows))
    return parts


def _closing(disclosure) -> list[str]:
    return ["<h3>Standardise disclosure</h3><p>What the platform should publish every "
            "quarter, filled from this run (disclosure/quarterly_disclosure.csv), and "
            "what it published against the model above.</p>",
            quarterly_section(disclosure, condensed=True),
            "<h3>Clarify positioning</h3><p>Section 2: what members pay against an "
            "insurance premium for the same cover, and the fee against insurers' "
            "expenses.</p>", "</body></html>"]

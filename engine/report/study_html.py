"""The study document of one platform (``mutualsim study``): an HTML page in the study's
order (a summary with the four answers, definitions, development, advantages, risks,
sustainability, recommendations, assumptions and limitations), readable offline (figures
embedded as PNG ``data:`` URIs; no scripts, no fetched files) and written for a reader who
is not a modeller: every label in words with its unit, counts of people as whole numbers,
shares in percent, linear axes without scale factors.

Other sections join through ``extra_sections`` of :func:`study_page`, a dict of HTML
fragments by place: ``"value"`` and ``"sector"`` under Sustainability, ``"sensitivity"``
under Assumptions and limitations."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from engine.report.html import STYLE, readable
from engine.report.plain import (
    _esc,
    _last_full_year,
    _pct,
    _q,
    _range,
    _table,
    _year_label,
    _yearly,
)
from engine.report.study_figures import cost_figure, development_figure
from engine.report.study_sections import (
    _advantages,
    _assumptions_section,
    _closing,
    _risks,
    claims_section,
    definitions,
    published_section,
)

# CSS of the definitions box and of the assumption kinds (added to the report's STYLE).
STUDY_STYLE = """
.definitions { border: 1px solid #888; background: #f7f7f2; padding: 0.6em 1.2em;
  margin: 1em 0; } .definitions dt { font-weight: bold; margin-top: 0.4em; }
.definitions dd { margin-left: 1.2em; } td.comment { text-align: left; max-width: 40em; }
.summary { font-size: 1.05em; } .kind-unsourced { background: #fde2e2; }
.kind-ASSUMPTION { background: #fff3cd; }
table.assumptions td { text-align: left; vertical-align: top; }
"""


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
        rows.append([_year_label(year, n), _q(m[:, -1], True),
                     _q(claims[year][0].sum(axis=1), True),
                     _range(row["contributions_yuan_quantiles"]) if row else "–",
                     f"{_pct(sq['0.5'])} ({_pct(sq['0.05'])} – {_pct(sq['0.95'])})" if sq
                     else "no premium figure"])
    return rows


def members_by_plan_rows(series) -> list[list]:
    """By year: each plan's valid members at the year's end (the last quarter of the run in
    a part year), median and 90 % interval over paths."""
    quarters = series["quarters"]
    by_plan = [_yearly(series["members_by_plan"][j], quarters)
               for j in range(len(series.get("plans") or []))]
    total = _yearly(series["members"], quarters)
    return [[_year_label(year, n), *(_q(p[year][0][:, -1], True) for p in by_plan),
             _q(m[:, -1], True)] for year, (m, n) in total.items()]


def conflicts(disclosure) -> str:
    """The figures outside, then the list by source: both from the A/E table's rows and the
    one yardstick (:func:`engine.studies.verdicts.inside`, the model's 90 % interval widened
    by each figure's stated error), so a figure gets the same word in the table and here."""
    rows = disclosure.actual_expected
    above = [r for r in rows if not r.inside_90 and r.observation.value > r.median]
    below = [r for r in rows if not r.inside_90 and r.observation.value <= r.median]

    def names(rows):
        return "; ".join(f"{_esc(r.observation.metric)} {_esc(r.observation.date)}"
                         f"{' (' + _esc(r.observation.plan) + ')' if r.observation.plan else ''}"
                         f" A/E {r.ae:.2f}" for r in rows)
    if above and below:
        head = (f"<p><b>Sources that conflict.</b> Published figures fall above the model's "
                f"90% interval, beyond their own stated error ({names(above)}), and below it "
                f"({names(below)}): no single run of this model meets them all, and the "
                "figures pull it in opposite directions. Each row's source is in "
                "disclosure/disclosure_ae.csv.</p>")
    elif above or below:
        head = (f"<p><b>Figures the model does not meet.</b> {names(above + below)}: all on "
                "one side of the model, beyond their own stated error, so a different "
                "model, not a compromise between sources, would be needed.</p>")
    else:
        head = ("<p>Every published figure falls inside the model's 90% interval widened by "
                "its own stated error.</p>")
    if not rows:
        return head
    lines = disclosure.by_source()
    return (head + "<h3>By source: the model's paths against each figure</h3><p>"
            + _esc(lines[0]) + "</p><ul>"
            + "".join(f"<li>{_esc(line.strip())}</li>" for line in lines[1:]) + "</ul>")


@dataclass(frozen=True)
class StudyNotes:
    """What the document says beside the run's results: the insurers' expense ratios of
    the premium comparison, the claims-in-range view
    (:func:`engine.studies.claims_rates.study_view`) and the scenario's settings
    ``(file, [Assumption], note)`` (:func:`engine.studies.assumptions.study_assumptions`)."""

    expense_ratios: tuple[float, ...] = ()
    claims: dict | None = None
    assumptions: tuple | None = None
    value: object | None = None     # engine.studies.net_value.NetValue


def study_page(scenario_set, summary, disclosure, premiums, policies, series, results_path,
               notes: StudyNotes | None = None, *,
               extra_sections: dict[str, list[str]] | None = None) -> str:
    """The study document: a summary with the four answers, the definitions, then
    development, advantages, risks, sustainability, the recommendations and the assumptions
    and limitations, each section from its own function.

    ``notes``: what the document says beside the results (:class:`StudyNotes`);
    ``extra_sections`` holds HTML fragments other studies add, by place: ``"value"`` and
    ``"sector"`` at the end of Sustainability, ``"sensitivity"`` in Assumptions and
    limitations."""
    extra = extra_sections or {}
    notes = notes or StudyNotes()
    expense_ratios = notes.expense_ratios
    claims, assumptions = notes.claims, notes.assumptions
    base = scenario_set.base
    name = summary["scenarios"][0]
    title = base.scenario.description or base.scenario.name
    plans = series.get("plans") or []
    by_year = sustainability_rows(summary, name, series)
    prepaid = base.sharing.funding == "prepaid"
    parts = [
        *_head(title, scenario_set.file, plans, summary, results_path),
        *_four_answers(summary, name, by_year, series, base, notes.value),
        definitions(base.sharing.fee_rate),
        *_development(series, disclosure, claims, base),
        *_advantages(premiums, expense_ratios, base, series, summary, name),
        *_risks(summary, name, series, disclosure, prepaid, premiums),
        "<h2>4. Sustainability: the four predictions by year</h2>",
        _table(["year", "valid members at the year's end (median, 90% interval)",
                "claims paid in the year, persons", "contributions, yuan",
                "share of China's commercial health-insurance premiums"], by_year),
        *extra.get("value", []), *extra.get("sector", []),
        *_recommendations(policies, summary, name, plans),
        *_closing(disclosure),
        *_assumptions_section(assumptions, extra.get("sensitivity", [])),
        "</body></html>",
    ]
    return "\n".join(parts)


def _head(title, scenario_file, plans, summary, results_path) -> list[str]:
    return [
        f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
        f"{_esc(title)}: the study</title><style>{STYLE}{STUDY_STYLE}</style></head><body>",
        f"<h1>{_esc(title)}: the study</h1>",
        f"<p>Scenario file {_esc(scenario_file)}"
        + (f", a platform of {len(plans)} plans ({_esc(', '.join(plans))})" if plans else "")
        + f"; {summary['paths']:,} simulated paths (possible futures), random seed "
        f"{summary['seed']}; results {_esc(os.path.basename(str(results_path)))}.</p>",
    ]


def _value_answer(value, vq, net) -> str:
    """The value answer: net of costs at the valuation date where the study has it
    (:mod:`engine.studies.net_value`), with the revenue-only figure named as such; else the
    results file's value with its rule."""
    if net is None or net.central() is None:
        return (f"<li><b>The platform's value</b> ({_esc(value['gap_rule'])}): mean "
                f"{readable(value['mean'])} yuan (Monte Carlo standard error "
                f"{readable(value['mean_se'])}), median {readable(vq['0.5'])} (90%: "
                f"{readable(vq['0.05'])} – {readable(vq['0.95'])}).</li>")
    q, rev = net.central()["quantiles"], net.revenue_only
    return (f"<li><b>The platform's value</b> at {_esc(net.valuation_date)}, fee income "
            "less operating, acquisition and handling costs (central costs, closure at the "
            f"horizon's end; section 4 sweeps both): {readable(q['0.5'])} yuan (median; 90%: "
            f"{readable(q['0.05'])} – {readable(q['0.95'])}). Revenue only, the fees alone "
            f"and not a value: {readable(rev['0.5'])} yuan.</li>")


def _four_answers(summary, name, by_year, series, base, net=None) -> list[str]:
    """The summary: members, claims and what a member paid in the last full year (named),
    then the four answers (members, claims, the platform's value, market share)."""
    value = summary["platform_value"][name]
    vq = value["quantiles"]
    year, idx = _last_full_year(series)
    last_year = next((r for r in by_year if r[0] == year), by_year[-1])
    paid = series["cost_per_member"][:, idx].sum(axis=1)
    by_plan = ""
    if series.get("plans"):
        by_plan = " By plan: " + "; ".join(
            f"{_esc(p)} {_q(series['cost_per_member_by_plan'][j][:, idx].sum(axis=1))} yuan"
            for j, p in enumerate(series["plans"])) + "."
    quarters = series["quarters"]
    return [
        "<h2>Summary</h2>",
        f"<p class=\"summary\">The run covers {_esc(quarters[0])} to {_esc(quarters[-1])}; "
        f"{_esc(year)} is its last full year. In {_esc(year)} the platform ends with "
        f"{last_year[1]} valid members, pays {last_year[2]} claims (persons aided), and each "
        f"member pays {_q(paid)} yuan over the year (median, and in brackets the range that "
        f"holds 90% of the simulated paths).{by_plan} The management fee is "
        f"{_pct(base.sharing.fee_rate)} of the aid paid.</p>",
        "<h2>The four answers</h2><ol>",
        f"<li><b>Valid members</b> at the end of {_esc(last_year[0])}: {last_year[1]} "
        "(median, 90% interval).</li>",
        f"<li><b>Claims</b> paid in {_esc(last_year[0])}: {last_year[2]} persons aided.</li>",
        _value_answer(value, vq, net),
        f"<li><b>Market share</b> (contributions over China's commercial health-insurance "
        f"premiums) in {_esc(last_year[0])}: {last_year[4]}.</li></ol>",
    ]


def _development(series, disclosure, claims, base) -> list[str]:
    plans = series.get("plans") or []
    return [
        "<h2>1. Development</h2>",
        "<img alt=\"valid members, sharers and members by plan\" src=\""
        + development_figure(series, disclosure) + "\">",
        *(["<h3>Valid members by plan at each year's end</h3>"
           "<p>Persons, median and in brackets the 90% interval over the paths.</p>",
           _table(["year", *plans, "platform"], members_by_plan_rows(series))]
          if plans else []),
        "<h3>What each member paid</h3>",
        "<img alt=\"what each member paid per quarter\" src=\"" + cost_figure(series) + "\">",
        "<h3>Published figures against the model</h3>",
        published_section(disclosure), conflicts(disclosure),
        *claims_section(claims, disclosure, base),
    ]


def _recommendations(policies, summary, name, plans) -> list[str]:
    """Each tested policy: its question, answer and table; separate plans by age are set
    against one pool with this run's medians (a row added to that policy's table)."""
    parts = ["<h2>5. Recommendations, each tested</h2>"]
    if policies:
        target, cap = policies[0].target, policies[0].paths_cap
        parts.append(
            f"<p>An answer calls a probability below {target:.1%} only when the top of "
            "its exact (Clopper–Pearson) 95% interval is below it, and above only when the "
            "bottom is above it; otherwise it is undecided, and the scenario that decides "
            "the answer is run again on the paths that would decide it if its rate held "
            f"(at most {cap:,}; the answer says so when even that leaves it "
            "undecided). The probability is of a first gap within any one year, its count "
            "the paths whose first gap falls in the worst year.</p>")
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


"""The study document's sections in plain words (issue 26): the definitions box, the
published figures against the model, claims in range, the advantages and risks each with
its number, reserve adequacy, the disclosure a platform should publish, and the assumptions
and limitations. Each returns HTML (a string or a list of fragments)."""

from __future__ import annotations

import numpy as np

from engine.analysis import weighted as W
from engine.report.html import readable
from engine.report.plain import _count, _esc, _last_full_year, _pct, _q, _table, _year_label
from engine.report.study_figures import risk_figure

# Within this share below the risk premium, what a member pays is taken to have lost its
# advantage over insurance (insurers' expenses alone exceed it): a judgement, stated where
# it is used.
ADVANTAGE_MARGIN = 0.10
# The least registered capital of an insurance company in China: 200 million yuan
# (保险法 第六十九条, the Insurance Law of the PRC, article 69).
INSURER_MIN_CAPITAL_YUAN = 2e8


DEFINITIONS = (
    ("Valid members", "people whose cover is in force at a quarter's end: they joined, and "
     "have not left, been suspended for an empty balance, aged out, died or been aided."),
    ("Sharers", "the members who paid a share of a quarter's claims (on a pre-paid "
     "platform, those with money left in their balance)."),
    ("Claims", "members aided: diagnosed after the waiting period and paid; counted in "
     "persons."),
    ("Claims per 100,000 member-years", "claims in a period divided by the time members "
     "were covered (one member for one year is one member-year), times 100,000: comparable "
     "with the population's cancer incidence per 100,000 people a year."),
    ("Management fee", "the platform's charge, a share of each claim's aid added to what "
     "members pay: a fee of 8% of aid is 7.4% of what members pay (8 / 108)."),
    ("Median and 90% interval", "half of the simulated paths (possible futures) lie below "
     "the median; 90% of them lie within the interval."),
    ("A/E (actual over expected)", "a published figure divided by the model's mean for "
     "the same date: 1 means the model expects exactly the figure."),
    ("Stated error and z", "each published figure carries an error, its standard "
     "deviation on the log scale (sd_log); z is how many of those errors lie between "
     "the figure and the model. A figure is met when |z| is at most 1.645 (90%)."),
    ("Capital at 99.5%", "the money that must be held at the start of a year so that the "
     "platform can pay all that year's claims in 199 of 200 paths (the standard of "
     "Solvency II and China's C-ROSS). Ruin is a quarter with less money than is due."),
    ("Peak median cost", "the highest, over the quarters, of the median cost per member "
     "of a quarter: the level the tested caps are set against."),
    ("Common random numbers", "every scenario compared uses the same random draws (who "
     "falls ill, who leaves), so a difference between two policies is the policy's effect, "
     "not chance."),
)


def definitions(fee: float) -> str:
    """The box of plain definitions near the top of the document."""
    items = "".join(f"<dt>{_esc(term)}</dt><dd>{_esc(text)}</dd>" for term, text in
                    DEFINITIONS)
    return (f"<div class=\"definitions\" id=\"definitions\"><h2>Definitions</h2><dl>{items}"
            f"</dl><p>This platform's fee: {_pct(fee)} of aid ({_pct(fee / (1 + fee))} of "
            "what members pay).</p></div>")


def published_section(d) -> str:
    """Each published figure against the model's paths, in plain columns (the CSV
    disclosure/disclosure_ae.csv keeps the technical ones), then the published rules."""
    rows, flags = [], []
    for r in d.actual_expected:
        o = r.observation
        lo, hi = r.figure_range
        count = o.unit == "persons"
        f = _count if count else readable
        rows.append([o.date, o.label.replace("_", " "), o.plan or "platform",
                     f"{f(o.value)} {o.unit}", f"{f(lo)} – {f(hi)}", f(r.median),
                     f"{f(r.q05)} – {f(r.q95)}", f"{r.ae:.2f}",
                     f"{100 * r.percentile:.0f}%", f"{r.verdict.z:+.2f}",
                     "met" if r.inside_90 else r.flag])
        flags.append(not r.inside_90)
    head = ["date", "figure", "plan", "published", "its own 90% range (from its stated "
            "error)", "model median", "model 90% interval", "published ÷ model mean (A/E)",
            "share of paths below the figure", "distance in stated errors (z)", "verdict"]
    shaded = ' style="background:#fde2e2"'
    body = "".join(
        f"<tr{shaded if flag else ''}>"
        + "".join(f"<td>{_esc(x)}</td>" for x in row) + "</tr>"
        for row, flag in zip(rows, flags, strict=True))
    table = ("<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>"
             + body + "</table>")
    intro = (f"<p>{len(rows)} published figures against {_esc(d.paths_said)}: "
             f"{len(rows) - sum(flags)} met, {sum(flags)} not met (shaded). A figure is met "
             "when it falls within the model's 90% interval widened by the figure's own "
             "stated error. Sources: disclosure/disclosure_ae.csv.</p>")
    rules = ""
    if d.rules:
        def shown(metric, x):                     # a year reads as a year, not 2,014
            return str(int(x)) if metric == "founding" else readable(x)
        rules = ("<h3>Published rules against the scenario's</h3>" + _table(
            ["date", "rule", "plan", "published", "scenario", "check", "how checked"],
            [[c.observation.date, c.observation.metric.replace("_", " "),
              c.observation.plan or "platform", shown(c.observation.metric,
                                                      c.observation.value),
              shown(c.observation.metric, c.model),
              "consistent" if c.consistent else "DIFFERS", c.what] for c in d.rules]))
    if d.unchecked:
        rules += ("<p>Not checked (the results cannot give them): "
                  + "; ".join(f"{_esc(o.date)} {_esc(o.label.replace('_', ' '))}, "
                              f"{_esc(why)}" for o, why in d.unchecked) + ".</p>")
    return intro + table + rules


def claims_section(claims, disclosure, base) -> list[str]:
    """Claims per 100,000 member-years by plan and year beside the population's incidence
    and Leshan's published rate, with the selection that the ratio implies."""
    if not claims:
        return []
    rates = claims["rates"]
    inc = base.incidence
    rows = [[r.plan, _year_label(r.year, r.quarters),
             f"{r.median:,.0f} ({r.p05:,.0f} – {r.p95:,.0f})", f"{r.population:,.0f}",
             _pct(r.ratio)] for r in rates]
    leshan = [r for r in disclosure.actual_expected
              if r.observation.metric == "aided_per_member_year"]
    parts = ["<h3>Claims in range: claims per 100,000 member-years</h3>",
             "<p>Claims paid per 100,000 member-years, by plan and calendar year (median, "
             "and the 90% interval over paths), beside the population's cancer incidence "
             "per 100,000 people a year for the plan's ages and sexes: "
             f"{_esc(claims['population_note'])} The last column, model over population, "
             "is the selection the model implies: members who have just joined, and are "
             "well enough to join, fall ill less often than the population.</p>",
             _table(["plan", "year", "model: claims per 100,000 member-years",
                     "population: cancer incidence per 100,000 a year",
                     "model as a share of the population's rate"], rows)]
    selection = ", ".join(f"{x:.2f}" for x in inc.selection)
    why = (f"The scenario multiplies the population's incidence by {selection} in a "
           f"member's first, second, third and later years (incidence.selection), and pays "
           f"no claim diagnosed in the first {base.benefits.waiting_quarters} quarters "
           "(the waiting period; such a member leaves unpaid). A platform that grows fast "
           "is mostly new members, so its rate stays well below the population's. Where a "
           "plan's rate rises above the population's (the oldest plan in the later years), "
           "two things the population column leaves out are at work: members grow older "
           "in the plan after joining (the column is weighted by the joiners' ages), and "
           "as what members pay rises the healthier leave and the riskier stay (the risk "
           "groups: the pool's incidence multiplier is in section 3's figure).")
    for r in leshan:
        o = r.observation
        lo, hi = r.figure_range
        inside = r.inside_90
        parts.append(
            f"<p><b>Leshan (乐山), {_esc(o.date)}:</b> {o.value:,.0f} aided per 100,000 "
            f"member-years ({_esc(o.note)}; source {_esc(o.source)}); with its stated "
            f"error the figure could lie between {lo:,.0f} and {hi:,.0f}. The model's "
            f"platform over the same period: {r.median:,.0f} (90%: {r.q05:,.0f} – "
            f"{r.q95:,.0f}), "
            + ("within that range." if inside else "outside that range.") + "</p>")
        if not inside:
            parts.append(f"<p><b>Why the model stays outside the benchmark:</b> {why}</p>")
    if not leshan or all(r.inside_90 for r in leshan):
        parts.append(f"<p>{why}</p>")
    return parts


def _advantages(premiums, expense_ratios, base, series, summary, name) -> list[str]:
    """What a member pays against an insurer's premium for the same cover, then each of
    the study's advantages with the number that bears on it."""
    fee = base.sharing.fee_rate
    fee_share = fee / (1 + fee)
    year, idx = _last_full_year(series)
    parts = [
        "<h2>2. Advantages in numbers</h2>",
        "<p>What a member pays in a year against an insurance premium for the same cover "
        "and ages: the insured-lives critical-illness table's expected claims for the plan's "
        "ages and benefit (its risk premium), loaded for an insurer's expenses at "
        + " and ".join(_pct(e) for e in expense_ratios)
        + " of premium (ASSUMPTION: stated, not sourced). A cancer-only plan is compared with "
        "72% of the table (malignant tumours' share of critical-illness claims, China Life "
        f"2020-H1). The management fee, {_pct(fee)} of aid ({_pct(fee_share)} of what "
        "members pay), compares with those expense ratios.</p>",
        _table(["plan", "year", "member pays (median, 5%–95%), yuan", "risk premium, yuan",
                *[f"premium at {e:.0%} expenses, yuan" for e in expense_ratios], "cover"],
               [[p["plan"], p["year"], f"{readable(p['member_pays_median'])} "
                 f"({readable(p['member_pays_p05'])} – {readable(p['member_pays_p95'])})",
                 p["risk_premium"], *[p[f"premium_at_{int(100 * e)}pct_expenses"]
                                      for e in expense_ratios], p["cover"]]
                for p in premiums]),
        *seniors_lines(premiums),
    ]
    members = series["members"][:, idx[-1]]
    joins = series["joins"][:, idx].sum(axis=1) if "joins" in series else None
    fee_per_member = (series["fee_revenue"][:, idx].sum(axis=1)
                      / np.maximum(series["members"][:, idx].mean(axis=1), 1.0)
                      if "fee_revenue" in series else None)
    balance = (series["balance_per_member"][:, idx[-1]] * members
               if "balance_per_member" in series else None)
    share = summary["market_share_by_year"][name].get(year, {}).get("share_quantiles")
    deposit = getattr(getattr(base, "prepaid", None), "deposit", None)
    items = [
        ("Reserve and backing",
         (f"members pre-pay: {readable(deposit)} yuan at joining, and each claim is paid "
          f"from their balances; at the end of {year} members held {_q(balance)} yuan in "
          "balances (median, 90%). " if balance is not None and deposit else "")
         + f"Capital behind the plans at the start: {readable(base.reserve.initial)} yuan."),
        ("Legal threshold", f"opening a mutual-aid platform needs no licence and no capital; "
         f"an insurance company needs at least {INSURER_MIN_CAPITAL_YUAN / 1e6:,.0f} million "
         "yuan of "
         "registered capital (保险法 第六十九条, Insurance Law art. 69). No public number "
         "gives e互助's own start-up cost."),
        ("Internet acquisition and operating cost",
         f"the fee, {_pct(fee_share)} of what members pay, against insurers' expense ratios "
         f"of {' – '.join(_pct(e) for e in expense_ratios)} (stated, not sourced)"
         + (f"; the fee earned {_q(fee_per_member)} yuan per member in {year}"
            if fee_per_member is not None else "")
         + ". No public number gives the platform's cost of acquiring a member."),
        ("Market demand",
         (f"{_q(joins, True)} people joined in {year}; " if joins is not None else "")
         + f"{_count(float(W.quantile(members, 0.5)))} valid members at its end (median)"
         + (f"; mutual aid's contributions were {_pct(share['0.5'])} of China's commercial "
            f"health-insurance premiums" if share else "") + "."),
    ]
    parts.append("<h3>The study's advantages, each with its number</h3><ul>"
                 + "".join(f"<li><b>{_esc(k)}:</b> {_esc(v)}</li>" for k, v in items)
                 + "</ul>")
    return parts


def seniors_lines(premiums, margin: float = ADVANTAGE_MARGIN) -> list[str]:
    """Where the oldest plan's cost reaches its risk premium (or comes within ``margin``
    below it): where mutual aid's price advantage over insurance is gone."""
    plans = list(dict.fromkeys(p["plan"] for p in premiums))
    plan = "seniors" if "seniors" in plans else (plans[-1] if plans else None)
    rows = [p for p in premiums if p["plan"] == plan]
    if not rows:
        return []
    close = [p for p in rows if p["member_pays_median"] >= (1 - margin) * p["risk_premium"]]
    ratios = "; ".join(f"{p['year']}: {p['member_pays_median'] / p['risk_premium']:.0%}"
                       for p in rows if p["risk_premium"] > 0)
    if close:
        first = close[0]
        gone = (f"From {first['year']} what a {plan} member pays (median "
                f"{readable(first['member_pays_median'])} yuan) is "
                + ("at or above" if first["member_pays_median"] >= first["risk_premium"]
                   else f"within {margin:.0%} of")
                + f" the insured risk premium ({readable(first['risk_premium'])} yuan): the "
                "advantage over insurance is gone, since an insurer's expenses come on top "
                "of the risk premium while mutual aid's fee is already in the member's cost.")
    else:
        gone = (f"In no full year does what a {plan} member pays come within {margin:.0%} "
                "of the insured risk premium: the advantage holds over the run.")
    return [f"<p><b>The {_esc(plan)} plan against insurance.</b> What a member pays as a "
            f"share of the risk premium, by year (median): {_esc(ratios)}. {_esc(gone)} "
            f"(Within {margin:.0%}: a judgement.)</p>"]


def _risks(summary, name, series, disclosure, prepaid, premiums) -> list[str]:
    """The study's risks, each with the number from the run or the data that bears on it,
    the solvency result explained by the funding rule."""
    ruin = summary["ruin_probability"][name]
    var1 = summary["shortfall_var_995"][name]
    worst = max(summary["shortfall_var_995_by_year"][name])
    zero = ruin == 0 and var1 == 0 and worst == 0
    year, idx = _last_full_year(series)
    if prepaid and zero:
        solvency = ("e互助 is pre-paid: members' balances pay every claim in full before "
                    "anyone is aided, and a member whose balance is empty stops being "
                    "covered. So there is no ruin and the capital needed is 0 by "
                    "construction (every quarter, every plan, every path); the risk falls "
                    "on members, who lose cover, not on the platform.")
        if "suspended" in series:
            solvency += (f" Members suspended for not topping up in {year}: "
                         f"{_q(series['suspended'][:, idx].sum(axis=1), True)} persons.")
    else:
        solvency = (f"Ruin (a quarter with less money than is due): "
                    f"{summary['ruin_probability_text'][name]}. Capital at 99.5% over "
                    f"one year: {readable(var1)} yuan in the first year, {readable(worst)} "
                    "yuan in the worst.")
    published = disclosure.actual_expected
    by_plan = sum(1 for r in published if r.observation.plan)
    years = sorted({r.observation.date[:4] for r in published})
    none = "No public number exists: "
    items = [
        ("Governance", none + "no accounts, audit, board or complaints figure of the "
         "platform is in the data (data/observations and engine/data)."),
        ("Solvency", solvency),
        ("Disclosure", f"{len(published)} published figures in {len(years)} years "
         f"({', '.join(years)}), {by_plan} of them about one plan; none quarterly. Section 5 "
         "lists what a platform should publish every quarter."),
        ("Who claims", who_claims(summary["profiles"][name], year,
                                  disclosure.profile_rows)),
        ("Positioning", "what members pay against an insurance premium for the same cover "
         "(section 2); " + (_seniors_short(premiums) or "no plan to compare.")),
        ("Licensing", none + "a mutual-aid platform holds no insurance licence, so no "
         "licence condition (capital, reserving, disclosure) applied."),
        ("Supervision", none + "no supervisor's return or inspection of the platform is "
         "published; the figures above are press reports."),
    ]
    return [
        "<h2>3. Risks in numbers</h2><ul>"
        + "".join(f"<li><b>{_esc(k)}:</b> {_esc(v)}</li>" for k, v in items) + "</ul>",
        f"<img alt=\"claims and the members' risk mix\" src=\"{risk_figure(series)}\">",
        "<h3>Reserve adequacy</h3>", adequacy_lines(disclosure, prepaid),
    ]


def who_claims(profiles: dict, year: str, published=()) -> str:
    """Men's share of the year's claims and the mean age at claim by sex, with the range of
    the paths (engine.analysis.profiles); what the run's detail does not give, said; and
    the published figures of who claims (``published``: the disclosure's rows of profile
    figures) against the model, or that there are none."""
    share = profiles.get("claims_male_share", {}).get(year)
    ages = profiles.get("age_at_claim", {})
    if not share and not ages:
        return ("the run has no detail by sex and age ([output]), so no profile of the "
                "claimants is given.")
    parts = []
    if share and share["paths"]:
        parts.append(f"men make {100 * share['mean']:.1f} % of {year}'s modelled claims "
                     f"(5-95 % of paths {100 * share['q05']:.1f}-{100 * share['q95']:.1f} %)")
    for who in ("female", "male", "all"):
        s = ages.get(who, {}).get(year, {}).get("mean")
        if s and s["paths"]:
            parts.append(f"mean age at claim, {who}, {s['mean']:.1f} years ({s['q05']:.1f}-"
                         f"{s['q95']:.1f}; exact age)")
    if not published:
        return ("; ".join(parts) + ". No published figure of the platform's claimants' sex "
                "or age is in the data (engine/data) to hold them against.")
    held = "; ".join(
        f"{r.observation.label.replace('_', ' ')} to {r.observation.date}: published "
        f"{readable(r.observation.value)} {r.observation.unit}, model median "
        f"{readable(r.median)} ({'met' if r.inside_90 else 'not met'})" for r in published)
    return "; ".join(parts) + f". Held against the published figures: {held}."


def _seniors_short(premiums, margin: float = ADVANTAGE_MARGIN) -> str:
    """The oldest plan's cost over its risk premium in the last full year, in a phrase."""
    plans = list(dict.fromkeys(p["plan"] for p in premiums))
    plan = "seniors" if "seniors" in plans else (plans[-1] if plans else None)
    rows = [p for p in premiums if p["plan"] == plan and p["risk_premium"] > 0]
    if not rows:
        return ""
    last = rows[-1]
    ratio = last["member_pays_median"] / last["risk_premium"]
    return (f"in {last['year']} a {plan} member pays {ratio:.0%} of the insured risk premium "
            f"(median); the price advantage counts as gone once a member pays "
            f"{1 - margin:.0%} of it or more")


def adequacy_lines(d, prepaid: bool) -> str:
    """The reserve held against the capital needed at each year's end, rows of zeros
    condensed to one line (a pre-paid platform holds no reserve and needs none)."""
    rows = [r for r in d.adequacy if r["quarter"].endswith("Q4")]
    nonzero = [r for r in rows if r["reserve_held_yuan"] or r["capital_needed_995_yuan"]]
    zeros = len(rows) - len(nonzero)
    note = ""
    if zeros:
        note = (f"<p>{zeros} of {len(rows)} year-end rows (plans and years) hold no reserve "
                "and need no capital"
                + (": on a pre-paid platform members' balances pay every claim, so the "
                   "capital needed is 0 by construction" if prepaid else "")
                + ". Every quarter is in disclosure/reserve_adequacy.csv.</p>")
    if not nonzero:
        return note
    short = sum(1 for r in nonzero if not r["adequate"])
    return note + (f"<p>Capital needed to pay the next year's claims with 99.5% "
                   f"probability against the median reserve held, at each year's end; "
                   f"{short} row(s) fall short.</p>") + _table(
        ["plan", "quarter", "reserve held, yuan", "capital needed (99.5%, one year), yuan",
         "reserve over capital needed", "adequate", "note"],
        [[r["plan"] or "platform", r["quarter"], r["reserve_held_yuan"],
          r["capital_needed_995_yuan"], r["solvency_ratio"], bool(r["adequate"]),
          "" if r["horizon_quarters"] == 4 else
          f"{r['horizon_quarters']} {'quarter' if r['horizon_quarters'] == 1 else 'quarters'}"
          " of the run left"] for r in nonzero])


def _closing(disclosure) -> list[str]:
    from engine.report.disclosure_html import year_ends

    rows = [[r["plan"] or "platform", r["quarter"], _count(r["members"]),
             _count(r["sharers"]), _count(r["cases"]), readable(r["aid_yuan"]),
             readable(r["cost_per_member_yuan"]), readable(r["management_fee_yuan"]),
             readable(r["reserve_yuan"])] for r in year_ends(disclosure.quarterly)]
    return ["<h3>Standardise disclosure</h3><p>What the platform should publish every "
            "quarter, filled from this run: medians over the paths at each year's end "
            "(disclosure/quarterly_disclosure.csv has every quarter and the 5%–95% range "
            "of each), and what it published against the model in section 1.</p>",
            _table(["plan", "quarter", "valid members", "sharers", "claims paid, persons",
                    "aid, yuan", "cost per member in the quarter, yuan",
                    "management fee, yuan", "reserve, yuan"], rows),
            "<h3>Clarify positioning</h3><p>Section 2: what members pay against an "
            "insurance premium for the same cover, and the fee against insurers' "
            "expenses.</p>"]


LIMITATIONS = (
    "The results hold members by plan, not by age: the population's incidence for a plan "
    "is weighted by the plan's joiner age mix (growth.joiner_age_mix), not by its members' "
    "ages.",
    "Parameters are fitted to the figures published to the end of 2019; later figures are "
    "a backtest. Few figures are published (section 1), so most of the fit rests on three "
    "counts of members and two of claims.",
    "The model's uncertainty pools the calibration's parameter draws with the randomness "
    "of each path; assumptions marked ASSUMPTION/judgement below are not varied in the run "
    "(the sensitivity, where present, varies some of them).",
    "No figure is published on governance, licensing or supervision; those risks are "
    "described, not measured.",
    "The members rest on two judgements no figure before 2020 informs: the share of "
    "pre-paid members who top up when asked (a tenth who do not, each time, is what makes "
    "the adults' and seniors' plans shrink after 2019) and the children parents enrol per "
    "adult who joins. Children join with their parents quarter by quarter and leave at the "
    "share of adults who left; a parent's choice is not followed family by family (a child "
    "leaves at the adults' rate, not with a particular parent). The sensitivity below shows "
    "both assumptions' effect; the one figure by plan, 1.5 million adult sharers in March "
    "2020, is a backtest.",
    "The shipped fit misses two of the six figures to 2019, each pulled one way: the members "
    "of June 2016 (the model grows faster at first than the published 'about 500,000') and "
    "the senior plan's 300 cases in 2017-18 (the model has more). A model meeting both would "
    "need something no figure shows (a later senior plan, or fewer seniors joining).",
    "Payouts below the cap: the share of claims paid below it is fitted to one pair of "
    "figures (aid paid and cases to June 2016) and the levels' shape (10%-90% of the cap, "
    "equally likely) is a judgement. If the early low payouts came from a small pool "
    "rather than from the cases, later payouts were nearer the cap and claims cost more "
    "than the run shows.",
    "The sector's share adds platforms whose files rest on few figures: the modelled "
    "sector's contributions are several times the industry's published size, so its share "
    "is too high (the section says by how much); e互助's own share does not depend on them.",
)


def _assumptions_section(assumptions, sensitivity: list[str]) -> list[str]:
    """Every setting of the scenario file with its value, kind and source or reason."""
    parts = ["<h2>6. Assumptions and limitations</h2>",
             "<h3>Limitations</h3><ul>"
             + "".join(f"<li>{_esc(x)}</li>" for x in LIMITATIONS) + "</ul>"]
    if assumptions:
        file, rows, note = assumptions
        counts: dict[str, int] = {}
        for a in rows:
            counts[a.kind] = counts.get(a.kind, 0) + 1
        parts.append(
            f"<h3>Every setting of the scenario</h3><p>From {_esc(file)}: {len(rows)} "
            "settings, " + ", ".join(f"{n} {_esc(k)}" for k, n in counts.items())
            + ". <i>Sourced</i>: the file names the source; <i>fitted</i>: set by the "
            "calibration to the published figures; <i>ASSUMPTION/judgement</i>: the "
            "modeller's judgement, no public source; <i>unsourced</i>: no reason given in "
            f"the file (shaded); <i>run setting</i>: how the run is made. {_esc(note)}</p>")
        body = "".join(
            f"<tr class=\"kind-{_esc(a.kind.split('/')[0].replace(' ', '-'))}\">"
            f"<td><code>{_esc(a.key)}</code></td><td>{_esc(_short(a.value))}</td>"
            f"<td>{_esc(a.kind)}</td><td class=\"comment\">{_comment(a)}</td></tr>"
            for a in rows)
        parts.append("<table class=\"assumptions\"><tr><th>setting</th>"
                     "<th>value in the file</th><th>kind</th>"
                     f"<th>source or reason (the file's comment)</th></tr>{body}</table>")
    parts += sensitivity
    return parts


def _comment(a) -> str:
    shared = (f"{' ' if a.comment else ''}(and the note of <code>{_esc(a.note_as_for)}</code> "
              "above)") if a.note_as_for else ""
    return (_esc(a.comment) + shared) or "–"


def _short(value: str, n: int = 90) -> str:
    return value if len(value) <= n else value[:n - 1] + "…"

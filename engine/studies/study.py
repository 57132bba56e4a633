"""One document per platform (``mutualsim study``): the study's questions in its order.

1. **Development**: members, sharers, claims and cost per member by quarter against the
   published figures (the disclosure's A/E table, :mod:`engine.studies.disclosure`).
2. **Advantages in numbers**: what a member pays a year against a critical-illness premium
   for the same cover and ages, ``premium = Σ_a w_a · i_a · B_a / 10⁵ / (1 − e)``, with
   ``i_a`` the industry's critical-illness incidence per 100,000 (the 25-disease table,
   engine/data/critical_illness_incidence_industry_25_diseases.csv), ``B_a`` the plan's
   benefit, ``w_a`` the plan's members by age and ``e`` an insurer's expense ratio (stated
   values, :data:`EXPENSE_RATIOS`); the management fee against those expense ratios.
3. **Risks in numbers**: ruin probability, one-year capital at 99.5 %, the reserve's
   adequacy, the pool's incidence mix (the spiral under risk groups).
4. **Sustainability**: the four predictions with intervals: valid members, claims, the
   platform's value and its share of commercial health-insurance premiums.
5. **Recommendations as tested policies**: each a scenario file written next to the
   document and run on the same common random numbers, with the number it yields.

Runs go through :mod:`engine.run.runner` (results files in ``DIR/results/``); the policy
scenario files are in ``DIR/scenarios/``.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from engine.analysis import weighted as W
from engine.config import tables
from engine.config.scenario import load_scenario_set
from engine.errors import InputError

# Insurers' expense ratios on short-term health and critical-illness premiums. ASSUMPTION
# (judgement): no source in engine/data gives them; 25 % and 35 % bracket what Chinese
# insurers' short-term health business is commonly said to spend on acquisition and
# administration. The study states them beside every comparison.
EXPENSE_RATIOS = (0.25, 0.35)
# A cancer-only plan's cover against the 25-disease table: malignant tumours were 72 % of
# China Life's critical-illness claims in 2020-H1 (财联社, cj.fishfx.cn/gupiao/232259.html;
# engine/data/mutual_aid_platform_facts.csv, "Proxy: commercial CI insurance"). A 2020
# figure: it scales a comparison with insurance, never a parameter of the forecast.
CANCER_SHARE_OF_CI_CLAIMS = 0.72
RUIN_TARGET = 0.005                 # one-year ruin below 0.5 % (Solvency II / C-ROSS 99.5 %)
# Caps and loadings are set against each plan's peak median cost per member-quarter (the
# largest of its quarters' medians): costs trend (members age, selection wears off), so a
# cap set against a typical quarter binds for good later on, which no loading can fund.
LOADING_SHARES = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)   # reserve loadings, shares of the peak cost
CAP_MULTIPLES = (1.0, 1.25, 1.5)    # caps as multiples of each plan's peak median cost
FEES = (0.06, 0.08, 0.10)           # management fee grid around the platforms' 8 %
# Founding capital: a reserve at the start, yuan per plan, on a log grid from nothing to 100
# million (e互助's 2019 aid was about 60 million yuan a year: engine/data/
# mutual_aid_platform_facts.csv), with a moderate loading beside it (a judgement).
CAPITAL_GRID = (0.0, 1e5, 1e6, 3e6, 1e7, 3e7, 1e8)
CAPITAL_LOADING_SHARE = 0.10


@dataclass
class Policy:
    """A recommendation tested by a scenario file: what it asks, the file, the answer."""

    title: str
    question: str
    scenario_file: Path
    answer: str
    rows: list[list] = field(default_factory=list)
    header: list[str] = field(default_factory=list)


def _raw(path: Path) -> dict:
    from engine.config.scenario import read_document
    return read_document(path)[0]


def _write_policy(raw: dict, scenario_path: Path, out_dir: Path, name: str,
                  sweep: dict | None, description: str) -> Path:
    """A policy's scenario file: the study's scenario, its CSV table paths rewritten for the
    policy's folder (:func:`engine.config.loading.rebase_table_refs`)."""
    from engine.config.loading import rebase_table_refs

    doc = copy.deepcopy(raw)
    doc.pop("sweep", None)
    folder = out_dir / "scenarios"
    rebase_table_refs(doc, scenario_path.parent, folder)
    doc.setdefault("scenario", {})
    doc["scenario"]["name"] = f"{doc['scenario'].get('name', 'study')}_{name}"
    doc["scenario"]["description"] = description
    if sweep:
        doc["sweep"] = sweep
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(f"# Written by `mutualsim study` from {scenario_path}: {description}\n"
                    + tomli_w.dumps(doc), encoding="utf-8")
    return path


def _run(path: Path, out_dir: Path, paths: int):
    from engine.run.runner import RunRequest, run
    from engine.store import open_results

    folder = out_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (path.stem + ".h5")
    run(RunRequest(scenario=str(path), out=target, paths=paths, quiet=True,
                   command=f"mutualsim study ({path.name})"))
    return target, open_results(target)


def premium_comparison(scenario, ds) -> list[dict]:
    """Yearly cost per member against the insurance premium for the same cover, per plan
    (or the platform), at each expense ratio (see the module docstring)."""
    rate = tables.builtin_incidence_per_100k("industry_ci25_insured_2006_2010")
    ci = -np.expm1(-np.nan_to_num(rate) / 1e5)           # (2, ages) annual probability
    plans = list(scenario.plans) or [scenario]
    names = [p.name.rsplit(".", 1)[-1] for p in scenario.plans] or ["platform"]
    labels = [str(q) for q in ds["quarter"].values]
    years = sorted({lab[:4] for lab in labels})
    rows = []
    for j, (plan, name) in enumerate(zip(plans, names, strict=True)):
        ages = np.arange(plan.population.age_min, plan.population.age_max + 1)
        benefit = np.zeros(len(ages))
        for lo, hi, amount in plan.benefits.amount_by_age:
            benefit[(ages >= lo) & (ages <= hi)] = amount
        incidence = ci[:, ages].mean(axis=0)                    # both sexes alike
        cancer_only = plan.incidence.cancer_share_of_claims >= 1.0
        share = CANCER_SHARE_OF_CI_CLAIMS if cancer_only else 1.0
        mix = _plan_mix(plan, ages)
        expected_claims = float((mix * incidence * benefit).sum()) * share
        cost = (ds["cost_per_member_by_plan"].values[:, j] if scenario.plans
                else ds["cost_per_member"].values)               # (scenario, path, T)
        cost = cost.reshape(-1, cost.shape[-1])
        for year in years:
            idx = [t for t, lab in enumerate(labels) if lab.startswith(year)]
            if len(idx) < 4:
                continue
            paid = cost[:, idx].sum(axis=1)
            p05, median, p95 = W.quantile(paid, [0.05, 0.5, 0.95])
            row = {"plan": name, "year": int(year), "member_pays_median": float(median),
                   "member_pays_p05": float(p05), "member_pays_p95": float(p95),
                   "risk_premium": expected_claims,
                   "cover": "cancer (72% of the CI table)" if cancer_only else "CI table"}
            for e in EXPENSE_RATIOS:
                row[f"premium_at_{int(100 * e)}pct_expenses"] = expected_claims / (1 - e)
            rows.append(row)
    return rows


def _plan_mix(plan, ages: np.ndarray) -> np.ndarray:
    mix = tables.builtin_mix(plan.growth.joiner_age_mix) if plan.growth.joiner_age_mix in \
        tables.MIX_TABLES else None
    if mix is None:
        return np.full(len(ages), 1.0 / len(ages))
    w = np.nan_to_num(mix)[:, ages].sum(axis=0)
    return w / w.sum() if w.sum() > 0 else np.full(len(ages), 1.0 / len(ages))


def check_inputs(scenario_path: Path, observations_path: Path):
    """Load and check both inputs before anything is written (one line per problem)."""
    from engine.studies.calibrate import refuse_tilt
    from engine.studies.observations import read_observations

    refuse_tilt(scenario_path, "the study compares published figures with plain paths")
    scenario_set = load_scenario_set(scenario_path)
    base = scenario_set.base
    plans = tuple(p.name.rsplit(".", 1)[-1].split("[")[0] for p in base.plans)
    observations = read_observations(observations_path, base.scenario.start,
                                     base.scenario.quarters, plans)
    return scenario_set, observations


def policies(scenario_path: Path, scenario_set, out_dir: Path, paths: int,
             cost_medians: dict[str, float]) -> list[Policy]:
    """Run the recommendations' scenarios (see the module docstring) and read the answers."""
    from engine.analysis.summary import summarize

    raw = _raw(scenario_path)
    base = scenario_set.base
    out = []
    # 1. separate age pools against one pool
    if base.plans:
        one = {k: v for k, v in raw.items() if k not in ("plans", "platform")}
        path = _write_policy(one, scenario_path, out_dir, "one_pool", None,
                             "the platform as one pool of all ages")
        _, ds = _run(path, out_dir, paths)
        with ds:
            s1 = summarize(ds)
            name1 = s1["scenarios"][0]
            cost1 = s1["cost_per_member_quantiles"][name1]["0.5"]
            members1 = s1["members_quantiles"][name1]["0.5"]
        out.append(Policy("Separate age pools or one pool",
                          "Do separate plans by age keep more members than one pool?", path,
                          "", [["one pool", members1[-1], cost1[-1]]],
                          ["design", "members at the end (median)",
                           "cost per member in the last quarter (median), yuan"]))
    # 2. the cap and the fee that keep members: each plan capped at a multiple of its own
    # peak median cost per member-quarter, the shortfall met from the reserve
    rows = []
    files = []
    for multiple in CAP_MULTIPLES:
        doc = _capped(raw, cost_medians, multiple)
        path = _write_policy(doc, scenario_path, out_dir, f"cap_{multiple:g}x",
                             {"sharing.fee_rate": list(FEES)},
                             f"caps at {multiple:g} times each plan's peak median cost, and fees")
        files.append(path)
        _, ds = _run(path, out_dir, paths)
        with ds:
            s2 = summarize(ds)
            for i, name in enumerate(s2["scenarios"]):
                rows.append([f"{multiple:g} × peak median cost",
                             float(ds["sharing.fee_rate"].values[i]),
                             s2["members_quantiles"][name]["0.5"][-1],
                             s2["ruin_probability"][name],
                             max(s2["shortfall_var_995_by_year"][name])])
    safe = [r for r in rows if r[3] <= RUIN_TARGET]
    if safe:
        best = max(safe, key=lambda r: r[2])
        answer = (f"caps at {best[0]} with a {best[1]:.0%} fee keep the most members, "
                  f"{best[2]:,.0f} at the end (median), with ruin probability {best[3]:.3f}")
    else:
        best = min(rows, key=lambda r: (r[3], -r[2]))
        answer = (f"no cap and fee tried keeps ruin below {RUIN_TARGET:.1%} without a "
                  f"reserve loading; the least ruinous, caps at {best[0]} with a "
                  f"{best[1]:.0%} fee, keeps {best[2]:,.0f} members with ruin probability "
                  f"{best[3]:.3f} (next: the loading that pays for the caps)")
    out.append(Policy("The cap and fee that keep members",
                      f"Which cap per member-quarter (each plan's own, met from the reserve) "
                      f"and fee keep the most members with ruin below {RUIN_TARGET:.1%}?",
                      files[0], answer, rows,
                      ["caps", "fee", "members at the end (median)", "ruin probability",
                       "worst year's shortfall VaR 99.5%, yuan"]))
    out.append(loading_policy(raw, scenario_path, out_dir, paths, cost_medians))
    out.append(capital_policy(raw, scenario_path, out_dir, paths, cost_medians))
    return out


def worst_year(ruin_by_quarter) -> float:
    """The largest probability of a first gap within one projection year: the increase of
    the cumulative ruin probability over each run of four quarters."""
    by_quarter = list(ruin_by_quarter)
    return max(by_quarter[min(t + 3, len(by_quarter) - 1)] - (by_quarter[t - 1] if t else 0.0)
               for t in range(0, len(by_quarter), 4))


BISECTIONS = 3   # runs that narrow the loading between the grid's last miss and first hit


def loading_policy(raw: dict, scenario_path: Path, out_dir: Path, paths: int,
                   cost_medians: dict[str, float]) -> Policy:
    """The reserve loading (a share of each plan's peak median cost per member-quarter)
    that keeps the worst one-year probability of a first gap below :data:`RUIN_TARGET`
    under the tightest caps: the grid :data:`LOADING_SHARES`, then :data:`BISECTIONS`
    halvings of the interval between the last share that misses and the first that meets
    it (on common random numbers the probability falls with the loading path by path,
    up to members' reactions to what they pay)."""
    from engine.analysis.summary import summarize

    def row(share: float) -> tuple[Path, list]:
        doc = _capped(raw, cost_medians, CAP_MULTIPLES[0], share)
        path = _write_policy(doc, scenario_path, out_dir, f"reserve_loading_{share:.4g}",
                             None, f"a reserve loading of {share:.1%} of each plan's peak "
                             f"median cost under caps at {CAP_MULTIPLES[0]:g} times it")
        _, ds = _run(path, out_dir, paths)
        with ds:
            s3 = summarize(ds)
            name = s3["scenarios"][0]
            return path, [share, s3["members_quantiles"][name]["0.5"][-1],
                          s3["ruin_probability"][name],
                          worst_year(s3["ruin_probability_by_quarter"][name])]

    runs = [row(share) for share in LOADING_SHARES]
    rows = [r for _, r in runs]
    hits = [k for k, r in enumerate(rows) if r[3] < RUIN_TARGET]
    if hits and hits[0] > 0:
        lo, hi = rows[hits[0] - 1][0], rows[hits[0]][0]
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            run = row(mid)
            runs.append(run)
            rows.append(run[1])
            lo, hi = (lo, mid) if run[1][3] < RUIN_TARGET else (mid, hi)
        best = next(r for r in rows if r[0] == hi)
        answer = (f"a loading of {hi:.1%} of each plan's peak median cost per member-quarter "
                  f"(found to within {hi - lo:.1%}) keeps the probability of a first gap "
                  f"within any one year below {RUIN_TARGET:.1%} ({_estimate(best[3], paths)})"
                  f", keeping {best[1]:,.0f} members")
    else:
        answer = _unbracketed(rows, "loading", f"no loading up to {LOADING_SHARES[-1]:.0%} of "
                              f"the peak median cost keeps it below {RUIN_TARGET:.1%}: caps "
                              "this tight need a larger reserve or higher caps")
    rows.sort(key=lambda r: r[0])
    shown = [[f"{r[0]:.1%} of the peak median cost", *r[1:]] for r in rows]
    return Policy("Make up solvency: the reserve loading",
                  f"What reserve loading keeps one-year ruin below {RUIN_TARGET:.1%} under "
                  f"caps at {CAP_MULTIPLES[0]:g} × each plan's peak median cost?", runs[0][0],
                  answer, shown,
                  ["loading per member-quarter", "members at the end (median)",
                   "ruin probability by the end", "worst one-year probability of a first gap"])


def _unbracketed(rows: list[list], what: str, beyond: str) -> str:
    """The answer when a grid brackets no threshold: none needed (its first point, none of
    ``what``, already meets the target) or none enough (``beyond``)."""
    if rows[0][3] < RUIN_TARGET:
        return (f"no {what} is needed: without it the probability of a first gap within any "
                f"one year is {rows[0][3]:.4f}")
    return beyond


def _estimate(probability: float, paths: int) -> str:
    """A probability from ``paths`` paths with the top of its exact (Clopper–Pearson) 95 %
    interval: a target of 0.5 % met on 200 paths with none failing is met only as far as
    a bound of 1.5 % can tell."""
    from engine.analysis.metrics import clopper_pearson

    k = round(probability * paths)
    return (f"{probability:.4f}: {k} of {paths} paths, exact 95% interval up to "
            f"{clopper_pearson(k, paths)[1]:.2%}")


def capital_policy(raw: dict, scenario_path: Path, out_dir: Path, paths: int,
                   cost_medians: dict[str, float]) -> Policy:
    """The founding capital (each plan's reserve at the start, yuan) that, with a moderate
    reserve loading (:data:`CAPITAL_LOADING_SHARE` of each plan's peak median cost) under
    the tightest caps, keeps the worst one-year probability of a first gap below
    :data:`RUIN_TARGET`. A loading builds the reserve only as members pay in, so the first
    years, with few members and the most volatile cost per member, need capital that no
    loading supplies. One sweep over :data:`CAPITAL_GRID` on common random numbers (the
    members do not see the reserve behind a cap, so the probability falls with the capital
    path by path), then one finer sweep between the last miss and the first hit."""
    from engine.analysis.summary import summarize

    doc = _capped(raw, cost_medians, CAP_MULTIPLES[0], CAPITAL_LOADING_SHARE)
    doc.setdefault("reserve", {}).pop("initial", None)
    for plan in doc.get("plans", []):
        plan.get("reserve", {}).pop("initial", None)

    def sweep(name: str, grid: list[float]) -> tuple[Path, list[list]]:
        path = _write_policy(doc, scenario_path, out_dir, name,
                             {"reserve.initial": grid},
                             f"founding capital per plan with a reserve loading of "
                             f"{CAPITAL_LOADING_SHARE:.0%} of each plan's peak median cost "
                             f"under caps at {CAP_MULTIPLES[0]:g} times it")
        _, ds = _run(path, out_dir, paths)
        with ds:
            s4 = summarize(ds)
            capital = [float(x) for x in ds["reserve.initial"].values]
            return path, [[capital[i], s4["members_quantiles"][n]["0.5"][-1],
                           s4["ruin_probability"][n],
                           worst_year(s4["ruin_probability_by_quarter"][n])]
                          for i, n in enumerate(s4["scenarios"])]

    first, rows = sweep("founding_capital", list(CAPITAL_GRID))
    hits = [k for k, r in enumerate(rows) if r[3] < RUIN_TARGET]
    plans = max(len(doc.get("plans", [])), 1)
    each = "per plan" if plans > 1 else ""
    if hits and hits[0] > 0:
        lo, hi = rows[hits[0] - 1][0], rows[hits[0]][0]
        finer = [float(round(x, -3)) for x in np.geomspace(max(lo, hi / 100), hi, 6)[1:-1]]
        _, more = sweep("founding_capital_finer", finer)
        rows += more
        hit = min((r for r in rows if r[3] < RUIN_TARGET), key=lambda r: r[0])
        answer = (f"founding capital of {hit[0]:,.0f} yuan {each} "
                  f"({hit[0] * plans:,.0f} for the platform), with a loading of "
                  f"{CAPITAL_LOADING_SHARE:.0%} of each plan's peak median cost, keeps the "
                  f"probability of a first gap within any one year below {RUIN_TARGET:.1%} "
                  f"({_estimate(hit[3], paths)}); "
                  f"{max(r[0] for r in rows if r[0] < hit[0]):,.0f} does not")
    else:
        answer = _unbracketed(rows, "founding capital", f"even {CAPITAL_GRID[-1]:,.0f} yuan "
                              f"{each} of founding capital leaves the probability of a first "
                              f"gap within a year at {rows[-1][3]:.4f}: caps this tight need "
                              "a higher loading")
    rows.sort(key=lambda r: r[0])
    return Policy("Make up solvency: the founding capital",
                  f"What capital at the start keeps one-year ruin below {RUIN_TARGET:.1%} "
                  f"with a loading of {CAPITAL_LOADING_SHARE:.0%} of each plan's peak median "
                  f"cost, under caps at {CAP_MULTIPLES[0]:g} × that cost?", first, answer,
                  rows, [f"capital at the start, yuan {each}".strip(),
                         "members at the end (median)", "ruin probability by the end",
                         "worst one-year probability of a first gap"])


def _capped(raw: dict, cost_medians: dict[str, float], multiple: float,
            loading_share: float = 0.0) -> dict:
    """The scenario with each plan's (or the one pool's) cap per quarter at ``multiple``
    times its peak median cost per member-quarter, shortfalls met from the reserve, and a
    reserve loading of ``loading_share`` times that cost."""
    doc = copy.deepcopy(raw)
    doc.setdefault("sharing", {})["shortfall"] = "reserve"
    targets = ([(plan, cost_medians.get(plan["name"], 1.0)) for plan in doc["plans"]]
               if doc.get("plans") else [(doc, cost_medians.get("", 1.0))])
    for table, median in targets:
        median = max(median, 1.0)
        table.setdefault("sharing", {}).update(cap_per_quarter=round(multiple * median, 2),
                                               shortfall="reserve")
        table.setdefault("reserve", {})["loading_per_member_quarter"] = round(
            loading_share * median, 2)
    return doc


def run_study(scenario_path, observations_path, out_dir, paths: int | None = None,
              policy_paths: int | None = None) -> Path:
    """Write ``DIR/study.html`` (and the CSV tables, scenario files and results it rests
    on); returns the document's path. ``paths`` per scenario of the main run (default: the
    file's, at most 400; a fitted set's draws are pooled), ``policy_paths`` per scenario of
    the policies' runs (default: ``paths``, at least 200).

    Raises
    ------
    InputError
        For a bad scenario or observations file, before anything is written.
    """
    from engine.analysis.summary import summarize
    from engine.report.study_html import study_page
    from engine.studies.disclosure import disclose, write_disclosure

    scenario_path, observations_path = Path(scenario_path), Path(observations_path)
    out_dir = Path(out_dir)
    scenario_set, _ = check_inputs(scenario_path, observations_path)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError.one(str(out_dir), "--out", "is a file, not a folder", str(out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = paths or min(scenario_set.base.scenario.paths, 400)
    results, ds = _run(scenario_path, out_dir, paths)
    with ds:
        pooled = str(ds.attrs.get("streams", "common")) == "independent" and \
            len(scenario_set.scenarios) > 1
        summary = summarize(ds, pooled=pooled)
        d = disclose(observations_path, ds)
        premiums = premium_comparison(scenario_set.base, ds)
        series = _series(ds)
    write_disclosure(d, out_dir / "disclosure")
    tested = policies(scenario_path, scenario_set, out_dir, policy_paths or max(paths, 200),
                      _cost_medians(series))
    page = study_page(scenario_set, summary, d, premiums, tested, series, results,
                      EXPENSE_RATIOS, fit_lines(scenario_set.base, observations_path))
    target = out_dir / "study.html"
    part = target.with_name(target.name + ".part")
    part.write_text(page, encoding="utf-8")
    part.replace(target)
    return target


def fit_lines(scenario, observations_path: Path) -> list[str]:
    """How the scenario's expected path lands on each published figure, per source, and
    which sources pull it apart (:func:`engine.studies.verdicts.conflict_lines`): why the
    forecast cannot meet every figure it was fitted to."""
    from engine.run.plans import build_run_inputs, expected_paths
    from engine.studies.calibrate import values_of
    from engine.studies.observations import fitted_only, read_observations
    from engine.studies.verdicts import Verdict, conflict_lines

    plans = tuple(p.name.rsplit(".", 1)[-1].split("[")[0] for p in scenario.plans)
    figures = fitted_only(read_observations(observations_path, scenario.scenario.start,
                                            scenario.scenario.quarters, plans))
    if not figures:
        return []
    values = values_of(figures, expected_paths(build_run_inputs(scenario)), scenario,
                       float(scenario.population.initial_members))
    return conflict_lines([Verdict(o, float(v)) for o, v in zip(figures, values,
                                                                  strict=True)])


def _cost_medians(series: dict) -> dict[str, float]:
    """Each plan's (``""``: the platform's) peak median cost per member-quarter: the largest
    over quarters of the median over paths (1 yuan at least)."""
    def peak(x):
        return max(float(W.quantile(x, 0.5, axis=0).max()), 1.0)
    out = {"": peak(series["cost_per_member"])}
    for j, plan in enumerate(series["plans"]):
        out[plan] = peak(series["cost_per_member_by_plan"][j])
    return out


def _series(ds) -> dict:
    """Per-quarter arrays for the document's charts: (paths, T) of each variable pooled over
    the file's scenarios, and per plan."""
    out = {}
    for name in ("members", "sharers", "claims", "cost_per_member", "antiselection_factor",
                 "reserve"):
        x = ds[name].values
        out[name] = x.reshape(-1, x.shape[-1])
        if name + "_by_plan" in ds:
            y = ds[name + "_by_plan"].values          # (scenario, plan, path, T)
            out[name + "_by_plan"] = np.moveaxis(y, 1, 0).reshape(y.shape[1], -1, y.shape[-1])
    out["plans"] = [str(p) for p in ds["plan"].values] if "plan" in ds else []
    out["quarters"] = [str(q) for q in ds["quarter"].values]
    return out


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)

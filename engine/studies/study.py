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

import math
from pathlib import Path

import numpy as np

from engine.analysis import weighted as W
from engine.analysis.compare import used_values
from engine.config import tables
from engine.config.platform import plan_label
from engine.config.scenario import load_scenario_set
from engine.errors import InputError
from engine.studies.policies import _run, policies

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
def premium_comparison(scenario, ds) -> list[dict]:
    """Yearly cost per member against the insurance premium for the same cover, per plan
    (or the platform), at each expense ratio (see the module docstring)."""
    rate = tables.builtin_incidence_per_100k("industry_ci25_insured_2006_2010")
    ci = -np.expm1(-np.nan_to_num(rate) / 1e5)           # (2, ages) annual probability
    plans = list(scenario.plans) or [scenario]
    # a plan's scenario is named "<set>.<plan>" and, in a swept set, "<set>[i].<plan>[i]"
    names = [plan_label(p.name) for p in scenario.plans] or ["platform"]
    labels = [str(q) for q in ds["quarter"].values]
    years = sorted({lab[:4] for lab in labels})
    every = list(range(ds.sizes["scenario"]))
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
        cost = (used_values(ds, "cost_per_member_by_plan", every)[j] if scenario.plans
                else used_values(ds, "cost_per_member", every))  # (paths pooled, T)
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
    plans = tuple(plan_label(p.name) for p in base.plans)
    observations = read_observations(observations_path, base.scenario.start,
                                     base.scenario.quarters, plans)
    return scenario_set, observations


def run_study(scenario_path, observations_path, out_dir, paths: int | None = None,
              policy_paths: int | None = None, assumptions_from: Path | None = None,
              extra_sections: dict[str, list[str]] | None = None,
              valuation_date: str | None = None, context: bool = True) -> Path:
    """Write ``DIR/study.html`` (and the CSV tables, scenario files and results it rests
    on); returns the document's path. ``paths`` per scenario of the main run (default: the
    file's, at most 400; a fitted set's draws are pooled), ``policy_paths`` per scenario of
    the policies' runs (default: ``paths``, at least 200). ``assumptions_from``: the
    scenario file whose comments the "Assumptions and limitations" section lists (default:
    the base scenario a fitted file's header names, else the scenario itself; a fitted file
    keeps no comments). ``extra_sections``: HTML fragments by place for
    :func:`engine.report.study_html.study_page`. ``valuation_date`` (``YYYY-MM-DD``, a
    quarter's last day): the date of the net value (default: the end of the calibration
    data, :func:`engine.studies.study_extras.valuation_date`). ``context``: add the sector's
    share and the sensitivity to the assumptions (:mod:`engine.studies.study_extras`; runs
    of their own).

    Raises
    ------
    InputError
        For a bad scenario or observations file, before anything is written.
    """
    from engine.analysis.summary import summarize
    from engine.report.study_html import StudyNotes, study_page
    from engine.studies import study_extras as extras
    from engine.studies.assumptions import base_scenario, study_assumptions
    from engine.studies.claims_rates import study_view
    from engine.studies.disclosure import disclose, write_disclosure

    scenario_path, observations_path = Path(scenario_path), Path(observations_path)
    out_dir = Path(out_dir)
    scenario_set, observations = check_inputs(scenario_path, observations_path)
    if valuation_date is not None:
        extras.check_valuation_date(valuation_date, scenario_set.base, str(scenario_path))
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
        date = valuation_date or extras.valuation_date(scenario_path, observations)
        value, value_html = extras.value_fragment(ds, date)
        extra = {"value": value_html}
    write_disclosure(d, out_dir / "disclosure")
    tested = policies(scenario_path, scenario_set, out_dir, policy_paths or max(paths, 200),
                      _cost_medians(series))
    if context:
        base_file = base_scenario(scenario_path) or scenario_path
        extra["sector"] = extras.sector_fragment(base_file.stem)
        extra["sensitivity"] = extras.sensitivity_fragment(scenario_path, out_dir, date)
    extra.update(extra_sections or {})
    notes = StudyNotes(EXPENSE_RATIOS,
                       study_view(scenario_set.base, series),
                       study_assumptions(scenario_path, assumptions_from), value)
    page = study_page(scenario_set, summary, d, premiums, tested, series, results, notes,
                      extra_sections=extra)
    target = out_dir / "study.html"
    part = target.with_name(target.name + ".part")
    part.write_text(page, encoding="utf-8")
    part.replace(target)
    return target


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
    the used paths of the file's scenarios, and per plan (plan, paths, T)."""
    out = {}
    every = list(range(ds.sizes["scenario"]))
    for name in ("members", "sharers", "claims", "cost_per_member", "antiselection_factor",
                 "reserve", "joins", "fee_revenue", "suspended", "balance_per_member"):
        if name not in ds:
            continue
        out[name] = used_values(ds, name, every)
        if name + "_by_plan" in ds:
            out[name + "_by_plan"] = used_values(ds, name + "_by_plan", every)
    out["plans"] = [str(p) for p in ds["plan"].values] if "plan" in ds else []
    out["quarters"] = [str(q) for q in ds["quarter"].values]
    return out


def finite(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)

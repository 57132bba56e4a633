"""What a platform should disclose, and its published figures against what the model expected.

Three tables from a results file and an observations file (``mutualsim disclose``):

**Actual against expected.** For every published figure ``y`` (not a rule), the model's
value on each path ``m_p`` (:func:`engine.studies.observations.model_values`): the median,
the 50 % and 90 % intervals (quantiles 0.25–0.75 and 0.05–0.95), ``A/E = y / mean(m)``, and
the figure's percentile among the paths, ``(#{m_p < y} + #{m_p = y} / 2) / P`` (mid-rank, so
a figure equal to every path sits at 50 %). A figure is inside or outside by the one
yardstick of every table and list, :func:`engine.studies.verdicts.inside`: the model's 90 %
interval widened by the figure's own stated error (``sd_log``) in quadrature on the log1p
scale; a figure outside is flagged.
Rules (deposit, waiting period, caps, payouts) are checked against the scenario's rules.

**Reserve adequacy by quarter.** The capital that keeps the reserve from falling below zero
over the next year with probability 99.5 %,
``K_t = q_0.995( max(0, max_{s = t+1..t+4} (R_t − R_s)) )`` (the worst fall of the reserve
over the next four quarters, yuan; Solvency II / C-ROSS one-year horizon), against the
reserve held ``R_t`` (median over paths); the solvency ratio ``R_t / K_t`` (``inf`` when no
capital is needed). The last three quarters look over fewer than four quarters and say so.

**The quarterly disclosure** a platform should publish, filled from the run: members,
sharers, cases (claims), aid, cost per member, management fee, reserve and the solvency
ratio, each the median over paths with its 5 %–95 % range.

A results file of several scenarios is pooled (all paths of all scenarios) when its streams
are independent (a fitted parameter set: parameter and process uncertainty), and otherwise
read for one scenario (the first unless named).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis import weighted as W
from engine.analysis.compare import used_values
from engine.errors import InputError
from engine.resolved import scenario_values
from engine.studies import profile_figures
from engine.studies.observations import (
    Observation,
    RuleCheck,
    fitted_only,
    model_values,
    read_observations,
    rule_checks,
)
from engine.studies.verdicts import Verdict, figure_range, inside
from engine.variables import PLAN_SUFFIX, VARIABLES

HORIZON_QUARTERS = 4
LEVEL = 0.995


@dataclass(frozen=True)
class ActualExpected:
    observation: Observation
    median: float
    q05: float
    q25: float
    q75: float
    q95: float
    mean: float
    percentile: float

    @property
    def ae(self) -> float:
        return self.observation.value / self.mean if self.mean > 0 else math.inf

    @property
    def inside_50(self) -> bool:
        """The yardstick of :func:`engine.studies.verdicts.inside` at 50 % (the model's
        quartiles widened by the figure's stated error)."""
        o = self.observation
        return inside(o.value, o.sd_log, self.median, self.q25, self.q75, level=0.5)

    @property
    def inside_90(self) -> bool:
        """The one yardstick of every table and list (:func:`engine.studies.verdicts.inside`):
        the model's 90 % interval widened by the figure's stated error."""
        return self.verdict.met

    @property
    def verdict(self) -> Verdict:
        """This row as the list by source reads it (the same word as the table's)."""
        return Verdict(self.observation, self.median, self.q05, self.q95)

    @property
    def figure_range(self) -> tuple[float, float]:
        """The figure's own 90 % range from its stated error (``sd_log``)."""
        return figure_range(self.observation.value, self.observation.sd_log)

    @property
    def flag(self) -> str:
        if self.inside_90:
            return ""
        return "above the 90% interval" if self.observation.value > self.median else \
            "below the 90% interval"


@dataclass(frozen=True)
class Disclosure:
    scenario: str
    pooled: int                          # scenarios pooled
    paths: int
    quarter_labels: tuple[str, ...]
    actual_expected: list[ActualExpected]
    rules: list[RuleCheck]
    adequacy: list[dict]
    quarterly: list[dict]
    effective_paths: float | None = None  # Kish's, when the paths are weighted ([tail])
    # profile figures the results cannot give (engine.studies.profile_figures.checkable)
    unchecked: tuple = ()

    def by_source(self) -> list[str]:
        """The list by source from the A/E rows and the one yardstick
        (:func:`engine.studies.verdicts.conflict_lines`), so the document's table and list
        cannot disagree (the report reads it here, never the verdicts module)."""
        from engine.studies.verdicts import conflict_lines
        return conflict_lines([r.verdict for r in self.actual_expected])

    @property
    def profile_rows(self) -> list[ActualExpected]:
        """The rows of the figures of who claims (:mod:`engine.studies.profile_figures`)."""
        return [r for r in self.actual_expected
                if r.observation.metric in profile_figures.PROFILES]

    @property
    def paths_said(self) -> str:
        """The paths, and for weighted paths their effective number."""
        if self.effective_paths is None:
            return f"{self.paths:,} paths"
        return (f"{self.paths:,} weighted paths (a [tail] tilt; effective sample size "
                f"{self.effective_paths:,.0f})")


def _quantiles(x: np.ndarray, levels, w: np.ndarray | None) -> np.ndarray:
    """The engine's one quantile (lower, inverted-CDF; weighted when ``w`` is given)."""
    return W.quantile(x, levels, w)


def actual_expected(observations: list[Observation], values: np.ndarray,
                    w: np.ndarray | None = None) -> list[ActualExpected]:
    """Rows of the A/E table from the model's values ``(paths, n_observations)``; ``w``
    the paths' weights (None: plain). Weighted, the percentile is
    ``Σ w (1{m < y} + 1{m = y}/2) / Σ w`` and the mean ``Σ w m / P``."""
    rows = []
    for j, o in enumerate(observations):
        m = values[:, j]
        q05, q25, q50, q75, q95 = _quantiles(m, [0.05, 0.25, 0.5, 0.75, 0.95], w)
        if w is None:
            below = np.count_nonzero(m < o.value)
            equal = np.count_nonzero(m == o.value)
            percentile = (below + 0.5 * equal) / len(m)
        else:
            percentile = (np.sum(w * (m < o.value)) + 0.5 * np.sum(w * (m == o.value))) \
                / np.sum(w)
        rows.append(ActualExpected(o, float(q50), float(q05), float(q25), float(q75),
                                   float(q95), W.mean(m, w), float(percentile)))
    return rows


def reserve_adequacy(reserve: np.ndarray, labels, plan: str = "",
                     w: np.ndarray | None = None) -> list[dict]:
    """Capital needed at 99.5 % over the next year against the reserve held, by quarter
    (see the module docstring); ``reserve`` is ``(paths, T)``, ``w`` the paths' weights
    (None: plain). Weighted, the capital is the tail-form VaR of
    :func:`engine.analysis.weighted.var` (the estimator importance sampling serves)."""
    P, T = reserve.shape
    rows = []
    for t in range(T):
        ahead = reserve[:, t + 1:t + 1 + HORIZON_QUARTERS]
        if ahead.shape[1] == 0:
            continue
        fall = np.maximum(0.0, (reserve[:, t:t + 1] - ahead).max(axis=1))
        need = W.var(fall, LEVEL, w)
        held = float(W.quantile(reserve[:, t], 0.5, w))
        rows.append({"plan": plan, "quarter": labels[t], "reserve_held_yuan": held,
                     "capital_needed_995_yuan": need,
                     "solvency_ratio": held / need if need > 0 else math.inf,
                     "horizon_quarters": ahead.shape[1],
                     "adequate": held >= need})
    return rows


QUARTERLY = (("members", "members"), ("sharers", "sharers"), ("cases", "claims"),
             ("aid_yuan", "aid"), ("cost_per_member_yuan", "cost_per_member"),
             ("management_fee_yuan", "fee_revenue"), ("reserve_yuan", "reserve"))


def quarterly_disclosure(results: dict[str, np.ndarray], labels, adequacy: list[dict],
                         plan: str = "", w: np.ndarray | None = None) -> list[dict]:
    """The quarterly disclosure filled from a run: medians and 5 %–95 % ranges (weighted
    by ``w`` when given)."""
    ratio = {row["quarter"]: row["solvency_ratio"] for row in adequacy}
    rows = []
    for t, label in enumerate(labels):
        row: dict = {"plan": plan, "quarter": label}
        for column, name in QUARTERLY:
            x = results[name][:, t].astype(float)
            lo, mid, hi = _quantiles(x, [0.05, 0.5, 0.95], w)
            row[column] = float(mid)
            row[column + "_p05"] = float(lo)
            row[column + "_p95"] = float(hi)
        row["solvency_ratio"] = ratio.get(label, math.nan)
        rows.append(row)
    return rows


def _results_of(ds, index: list[int]) -> dict[str, np.ndarray]:
    """Per-(path, quarter) arrays of the chosen scenarios, their used paths stacked; a
    platform's per-plan arrays ``(n_plans, paths, T)``."""
    out = {}
    for v in VARIABLES:
        if v.name not in ds:        # a file of an earlier engine, before the variable
            continue
        out[v.name] = used_values(ds, v.name, index)
        name = v.name + PLAN_SUFFIX
        if name in ds:
            out[name] = used_values(ds, name, index)
    return out


def disclose(observations_path, ds, scenario_name: str | None = None) -> Disclosure:
    """The three tables for a results dataset (see the module docstring).

    Raises
    ------
    InputError
        For a bad observations file (one line per problem, exit 2), a plan the results do
        not have, or an unknown ``scenario_name``.
    """
    from engine.analysis.summary import path_weights

    names = [str(s) for s in ds["scenario"].values]
    if scenario_name is not None:
        if scenario_name not in names:
            raise InputError.one(str(observations_path), "--scenario", "no such scenario in "
                                 f"the results ({', '.join(names[:5])}...)", scenario_name)
        index = [names.index(scenario_name)]
    elif str(ds.attrs.get("streams", "common")) == "independent":
        index = list(range(len(names)))
    else:
        index = [0]
    labels = tuple(str(q) for q in ds["quarter"].values)
    plans = tuple(str(p) for p in ds["plan"].values) if "plan" in ds else ()
    start = str(ds.attrs["start_quarter"])
    # a [tail] tilt: every table weighs the paths by their likelihood ratios
    w = path_weights(ds, index)
    observations = read_observations(observations_path, start, len(labels), plans)
    # the chosen (or first pooled) scenario's rules and plans, as the file records them
    scenario = scenario_values(ds)[index[0]]
    results = _results_of(ds, index)
    results |= profile_figures.file_results(ds, index)
    initial = float(scenario.population.initial_members)
    initial_by_plan = tuple(float(p.population.initial_members) for p in scenario.plans)
    figures, unchecked = profile_figures.checkable(fitted_only(observations), results)
    values = (model_values(figures, results, initial, plans, initial_by_plan)
              if figures else np.zeros((results["members"].shape[0], 0)))
    adequacy = reserve_adequacy(results["reserve"], labels, w=w)
    quarterly = quarterly_disclosure(results, labels, adequacy, w=w)
    for j, plan in enumerate(plans):
        mine = {k[:-len(PLAN_SUFFIX)]: v[j] for k, v in results.items()
                if k.endswith(PLAN_SUFFIX)}
        plan_adequacy = reserve_adequacy(mine["reserve"], labels, plan, w)
        adequacy += plan_adequacy
        quarterly += quarterly_disclosure(mine, labels, plan_adequacy, plan, w)
    shown = names[index[0]] if len(index) == 1 else f"{len(index)} scenarios pooled"
    return Disclosure(shown, len(index), results["members"].shape[0], labels,
                      actual_expected(figures, values, w), rule_checks(observations, scenario),
                      adequacy, quarterly,
                      None if w is None else W.effective_sample_size(w), tuple(unchecked))


# ------------------------------------------------------------------------ writing

def ae_rows(d: Disclosure) -> list[dict]:
    rows = []
    for r in d.actual_expected:
        o = r.observation
        rows.append({"row": o.row, "date": o.date, "metric": o.metric, "plan": o.plan,
                     "actual": o.value, "expected_median": r.median, "p05": r.q05,
                     "p25": r.q25, "p75": r.q75, "p95": r.q95, "expected_mean": r.mean,
                     "actual_over_expected": r.ae, "percentile": r.percentile,
                     "sd_log": o.sd_log, "figure_p05": r.figure_range[0],
                     "figure_p95": r.figure_range[1], "z": r.verdict.z,
                     "inside_50": r.inside_50, "inside_90": r.inside_90, "flag": r.flag,
                     "source": o.source, **_who(o)})
    for c in d.rules:
        o = c.observation
        rows.append({"row": o.row, "date": o.date, "metric": o.metric, "plan": o.plan,
                     "actual": o.value, "expected_median": c.model, "p05": "", "p25": "",
                     "p75": "", "p95": "", "expected_mean": c.model,
                     "actual_over_expected": o.value / c.model if c.model else math.inf,
                     "percentile": "", "sd_log": "", "figure_p05": "", "figure_p95": "",
                     "z": "", "inside_50": "", "inside_90": "",
                     "flag": "" if c.consistent else f"rule differs ({c.what})",
                     "source": o.source, **_who(o)})
    blank = dict.fromkeys(("expected_median", "p05", "p25", "p75", "p95", "expected_mean",
                           "actual_over_expected", "percentile", "sd_log", "figure_p05",
                           "figure_p95", "z", "inside_50", "inside_90"), "")
    for o, why in d.unchecked:
        rows.append({"row": o.row, "date": o.date, "metric": o.metric, "plan": o.plan,
                     "actual": o.value, **blank, "flag": f"not checked: {why}",
                     "source": o.source, **_who(o)})
    return rows


def _who(o) -> dict:
    """A profile figure's sex and ages (empty for the others): the CSV's last columns."""
    return {"sex": o.sex, "age_from": "" if o.age_from is None else o.age_from,
            "age_to": "" if o.age_to is None else o.age_to}


def csv_text(rows: list[dict]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                         for k, v in row.items()})
    return buffer.getvalue()


def write_disclosure(d: Disclosure, out_dir: Path) -> list[Path]:
    """``disclosure_ae.csv``, ``reserve_adequacy.csv``, ``quarterly_disclosure.csv`` and
    ``disclosure.html``, each written to a temporary name and renamed."""
    from engine.report.disclosure_html import disclosure_page

    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"disclosure_ae.csv": csv_text(ae_rows(d)),
             "reserve_adequacy.csv": csv_text(d.adequacy),
             "quarterly_disclosure.csv": csv_text(d.quarterly),
             "disclosure.html": disclosure_page(d)}
    written = []
    for name, text in files.items():
        target = out_dir / name
        part = target.with_name(target.name + ".part")
        part.write_text(text, encoding="utf-8")
        part.replace(target)
        written.append(target)
    return written

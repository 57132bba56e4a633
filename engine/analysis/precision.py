"""The statistics of a ``[precision]`` table, their estimates, standard errors and stopping rule.

A target (:mod:`engine.config.precision`) names one statistic of one scenario; here it
becomes one number per path (:func:`path_values`) and an :class:`Estimate` with its Monte
Carlo standard error, computed by the estimators the summary reports
(:mod:`engine.analysis.metrics`, :mod:`engine.analysis.weighted`):

* ``mean`` of a variable in projection year ``y`` (quarters ``4(y−1) .. 4y − 1``): the
  year's value of a stock (members, sharers, reserve, solvency gap: at the year's last
  quarter) or the sum of a flow or a per-member cost over its four quarters (cost per
  member: yuan per sharer per year); s.e. ``sd(w x) / √n``;
* ``var`` / ``tvar`` at level α of a variable's yearly sum: the lower empirical quantile
  and ``VaR + E[(X − VaR)⁺] / (1 − α)``; s.e. Maritz–Jarrett and the asymptotic TVaR
  formula for plain paths, batch means for weighted ones;
* ``ruin`` by quarter ``b``: the share of paths with a solvency gap in quarters ``0..b``;
  s.e. ``√(p (1 − p) / n)`` (plain) or ``sd(w 1{ruin}) / √n`` (weighted).

**Stopping rule** (checked after every chunk, on all the scenario's paths so far). Stopping
the first time an estimated s.e. falls below a target biases that s.e. low: a sample whose
s.e. happens to be under-estimated stops early. The rule keeps the bias small by checking
only a sample that can estimate its own error:

1. at least ``min_paths`` paths (``[precision] min_paths``);
2. a VaR or TVaR: at least :data:`MIN_TAIL_PATHS` paths beyond the VaR (the quantile's
   s.e. rests on the order statistics around it);
3. a ruin probability: at least :data:`MIN_EVENTS` ruined paths, and the s.e. that decides
   is Agresti–Coull's ``√(p̃ (1 − p̃) / (n + 4))``, ``p̃ = (k + 2) / (n + 4)``, which is not
   zero when no path has been ruined yet (Agresti & Coull, *Am. Stat.* 1998);
4. the s.e. of the whole sample at most the target: ``absolute_se``, or ``relative_se ×
   |estimate|``.

The s.e. reported is that of all the paths the run kept. Sequential fixed-width intervals
of this kind (Chow & Robbins, *Ann. Math. Stat.* 1965) cover at their nominal level as the
target narrows; ``tests/statistical/test_precision_coverage.py`` checks the 95 % intervals
of stopped runs on a closed group with an exact answer (200 replications, ≥ 93 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.analysis import metrics
from engine.analysis import weighted as W

MIN_TAIL_PATHS = 10   # paths beyond a VaR before its s.e. is trusted (the summary's warning)
MIN_EVENTS = 10       # ruined paths before a relative target on a ruin probability is checked
STOCKS = ("members", "sharers", "reserve", "solvency_gap")   # a year's value: its last quarter


@dataclass(frozen=True)
class Target:
    """One statistic and the standard error wanted of it (one year of a ``mean`` target
    given for several years)."""

    statistic: str                # mean, var, tvar, ruin
    variable: str | None          # None for ruin (the solvency gap)
    year: int | None              # projection year (1 = quarters 0-3); None for ruin
    level: float | None           # var, tvar
    by_quarter: int | None        # ruin: the last quarter counted (index)
    by_label: str | None
    relative_se: float | None
    absolute_se: float | None

    @property
    def label(self) -> str:
        """How the summary and the progress bar name it: "VaR 99.5 % of shortfall, year 4"."""
        if self.statistic == "ruin":
            return f"ruin by {self.by_label}"
        if self.statistic == "mean":
            return f"mean {self.variable}, year {self.year}"
        name = "VaR" if self.statistic == "var" else "TVaR"
        return f"{name} {self.level * 100:g} % of {self.variable}, year {self.year}"

    @property
    def wanted_text(self) -> str:
        """The target as asked: "±2 %" (relative) or "±0.01" (absolute)."""
        if self.relative_se is not None:
            return f"s.e. ≤ {self.relative_se * 100:g} %"
        return f"s.e. ≤ {self.absolute_se:g}"

    def wanted(self, value: float) -> float:
        """The s.e. that meets the target at estimate ``value``."""
        if self.absolute_se is not None:
            return self.absolute_se
        return self.relative_se * abs(value)


def targets_of(precision: dict, labels: list[str]) -> list[Target]:
    """The :class:`Target` list of a scenario's ``[precision]`` values (a mean over several
    years becomes one target per year) for a run of quarters ``labels``."""
    out = []
    for t in precision.get("targets") or []:
        stat = t["statistic"]
        rel, absolute = t.get("relative_se"), t.get("absolute_se")
        if stat == "ruin":
            by = t.get("by") or labels[-1]
            out.append(Target(stat, None, None, None, labels.index(by), by, rel, absolute))
            continue
        years = t.get("year") or list(range(1, len(labels) // 4 + 1))
        for y in years:
            out.append(Target(stat, t["variable"], int(y), t.get("level"), None, None, rel,
                              absolute))
    return out


def needed_variables(targets: list[Target]) -> set[str]:
    """The results variables the targets are computed from."""
    return {t.variable or "solvency_gap" for t in targets}


def path_values(target: Target, data: dict[str, np.ndarray]) -> np.ndarray:
    """One number per path ``(P,)`` from the per-(path, quarter) arrays ``data``."""
    if target.statistic == "ruin":
        gap = np.asarray(data["solvency_gap"])[:, :target.by_quarter + 1]
        return np.any(gap > 0, axis=1).astype(np.float64)
    x = np.asarray(data[target.variable], dtype=np.float64)
    quarters = slice(4 * (target.year - 1), 4 * target.year)
    if target.statistic == "mean" and target.variable in STOCKS:
        return x[:, quarters.stop - 1].copy()
    return x[:, quarters].sum(axis=1)


@dataclass(frozen=True)
class Estimate:
    """A target's estimate on ``paths`` paths: ``value``, its s.e. ``se`` (all paths), the
    s.e. the stopping rule compares (``deciding_se``), and ``checkable`` when the sample
    meets the rule's conditions 2 and 3 (module docstring)."""

    value: float
    se: float
    deciding_se: float
    paths: int
    checkable: bool
    note: str = ""

    def met(self, target: Target) -> bool:
        """Whether the target is met (rule 4), given conditions 2 and 3."""
        return self.checkable and self.deciding_se <= target.wanted(self.value)

    def relative_se(self) -> float:
        return self.se / abs(self.value) if self.value else math.inf


def estimate(target: Target, x: np.ndarray, w: np.ndarray | None = None) -> Estimate:
    """The target's estimate and s.e. from per-path values ``x`` and likelihood ratios
    ``w`` (None: plain paths)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    if target.statistic == "mean":
        value, se = W.mean(x, w), W.mean_standard_error(x, w)
        return Estimate(value, se, se, n, n > 1)
    if target.statistic == "ruin":
        value = W.mean(x, w)
        events = int(np.sum(x > 0))
        if w is None:
            se = math.sqrt(value * (1 - value) / n) if n > 1 else 0.0
            tilde = (events + 2) / (n + 4)
            deciding = max(se, math.sqrt(tilde * (1 - tilde) / (n + 4)))
        else:
            se = deciding = W.mean_standard_error(x, w)
        checkable = target.absolute_se is not None or events >= MIN_EVENTS
        return Estimate(value, se, deciding, n, checkable and n > 1,
                        "" if checkable else f"{events} ruined paths of {MIN_EVENTS} needed")
    alpha = target.level
    v = W.var(x, alpha, w)
    beyond = int(np.sum(x > v))
    if target.statistic == "var":
        value = v
        se = (metrics.quantile_standard_error(x, alpha) if w is None
              else W.var_standard_error(x, alpha, w))
    else:
        value = W.tvar(x, alpha, w)
        se = (metrics.tvar_standard_error(x, alpha) if w is None
              else W.tvar_standard_error(x, alpha, w))
    checkable = beyond >= MIN_TAIL_PATHS
    return Estimate(value, se, se, n, checkable,
                    "" if checkable else f"{beyond} paths beyond the VaR of {MIN_TAIL_PATHS} "
                    "needed")


def status_text(target: Target, est: Estimate) -> str:
    """"VaR 99.5 % of shortfall, year 4: 1.2e9 yuan, s.e. 3.1 % (≤ 5 %)" for a progress
    line."""
    if target.relative_se is not None:
        reached = f"{est.se / abs(est.value) * 100:.2g} %" if est.value else "∞"
    else:
        reached = f"{est.se:.3g}"
    wanted = target.wanted_text.removeprefix("s.e. ")
    return f"{target.label}: s.e. {reached} ({wanted})" + (f", {est.note}" if est.note else "")


def summary_rows(precision: dict, data: dict[str, np.ndarray], labels: list[str],
                 w: np.ndarray | None) -> list[dict]:
    """A scenario's ``[precision]`` targets as its results reach them: per target its
    label, the s.e. asked, the estimate and s.e. on all the scenario's paths, and whether
    the stopping rule calls it met (the summary's ``precision``)."""
    rows = []
    for target in targets_of(precision, labels):
        est = estimate(target, path_values(target, data), w)
        rows.append({"target": target.label, "asked": target.wanted_text,
                     "units": _units(target),
                     "relative_se": target.relative_se, "absolute_se": target.absolute_se,
                     "estimate": est.value, "se": est.se,
                     "se_relative": est.se / abs(est.value) if est.value else None,
                     "met": bool(est.met(target)), "paths": est.paths, "note": est.note})
    return rows


def _units(target: Target) -> str:
    """The statistic's units: the variable's (engine.variables), yuan per member per year for
    a cost per member, or "probability" for ruin."""
    from engine.variables import VARIABLES

    if target.statistic == "ruin":
        return "probability"
    units = {v.name: v.units for v in VARIABLES}[target.variable]
    summed = target.statistic != "mean" or target.variable not in STOCKS
    return f"{units} per year" if summed and units.startswith("yuan per") else units


def format_rows(rows: list[dict], paths: int) -> list[str]:
    """The summary's lines for a precision run's targets."""
    if not rows:
        return []
    met = sum(r["met"] for r in rows)
    lines = [f"precision ([precision] targets): {met} of {len(rows)} met with {paths:,} "
             "paths (estimate and s.e. from all of them"
             + ("; a run whose target is not met stopped at max_paths)" if met < len(rows)
                else ")")]
    for r in rows:
        reached = (f"{r['se_relative'] * 100:.2g} %" if r["relative_se"] is not None
                   and r["se_relative"] is not None else _amount(r["se"]))
        lines.append(f"  {r['target']}: {_amount(r['estimate'])} {r.get('units', '')}, s.e. "
                     f"{reached} (asked {r['asked'].removeprefix('s.e. ')}) — "
                     f"{'met' if r['met'] else 'NOT met'}" + (f": {r['note']}" if r["note"]
                                                               else ""))
    return lines


def _amount(x: float) -> str:
    """2.527bn, 36.2m, 243.57, 0.0312: four significant figures, large ones in words."""
    for scale, word in ((1e9, "bn"), (1e6, "m")):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{word}"
    return f"{x:.4g}"

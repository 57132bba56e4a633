"""Global sensitivity of a scenario set's risk measures to its swept assumptions.

Each scenario of a set is one point of its assumptions ``x`` (the swept values) and gives
one value ``y(x)`` of each risk measure (:data:`OUTPUTS`), estimated from its paths with a
Monte Carlo standard error. The indices split the variance of ``y`` across the set by
assumption:

* a Sobol set (``[sweep] method = "sobol"``, Saltelli's design): first-order indices
  ``S1_i = V(E[y | x_i]) / V(y)`` (the share of the variance that ``x_i`` alone explains),
  total indices ``ST_i = E[V(y | x_~i)] / V(y)`` (the share that ``x_i`` takes part in,
  interactions included) and, when sampled, second-order ``S2_ij``; Jansen's and Saltelli's
  estimators of ``SALib.analyze.sobol``, with 95 % bootstrap intervals;
* any other set (Latin, grid, random): the given-data estimators of
  ``SALib.analyze.delta``, Borgonovo's moment-independent ``δ_i`` and the first-order
  ``S1_i``, with 95 % bootstrap intervals.

Noise. ``y`` is itself an estimate from paths. The part of its variance across the set
that is Monte Carlo noise is measured by splitting every scenario's paths into two halves,
``σ²_MC = Var_s(y_A − y_B) / 4`` (:func:`output_values`): with common random numbers the
scenarios share most of their noise, which then moves every ``y`` alike and adds little to
the variance across them, so each scenario's own s.e. would overstate it. The share
``σ²_MC / V(y)`` is reported with every output, and an index whose interval ends below it
is marked as indistinguishable from that noise.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from engine.analysis import economics, metrics
from engine.analysis import weighted as W
from engine.analysis.summary import ALPHA, path_weights, scenarios_of
from engine.errors import OptionError, ResultsError
from engine.used_paths import PATHS_USED, is_ragged

OUTPUTS = {
    "ruin_probability": "probability of a solvency gap by the horizon",
    "capital_995": "capital at 99.5 %, first projection year (yuan)",
    "capital_995_worst_year": "capital at 99.5 %, worst projection year (yuan)",
    "cost_per_member_year_mean": "cost per member per year, mean over years and paths (yuan)",
    "members_at_horizon_mean": "members at the horizon, mean over paths (persons)",
    "platform_value_mean": "platform value, mean over paths (yuan at the start)",
}
CONFIDENCE = 0.95
RESAMPLES = 1000            # bootstrap resamples of a Sobol set's intervals
DELTA_RESAMPLES = 100       # and of the given-data ones (each resample re-estimates densities)
BOOTSTRAP_SEED = 20240519   # fixed: the same file always gives the same intervals


class SensitivityError(OptionError):
    """A results file or request the indices cannot be computed for: the key or option,
    what is wrong and the value (one line, exit 2)."""

    def __init__(self, key: str, what: str, got: object):
        super().__init__(what, got, key)


@dataclass
class OutputIndices:
    """One output's indices: ``rows`` of ``{key, index, value, low, high, noise}``."""

    output: str
    label: str
    variance: float                      # V(y) across the scenarios
    noise_share: float                   # mean(s.e.²) / V(y)
    rows: list[dict] = field(default_factory=list)
    note: str = ""


def check_request(ds, outputs: list[str]) -> None:
    """Raise :class:`SensitivityError` for a set the indices need more of, or an unknown
    output: a single scenario, no swept key, a key with one value, a Sobol set cut short."""
    unknown = [o for o in outputs if o not in OUTPUTS and not _year_capital(o)]
    if unknown:
        raise SensitivityError("--output", f"unknown (one of {', '.join(OUTPUTS)}, or "
                               "capital_995_year_N for projection year N)", unknown[0])
    keys = swept_keys(ds)
    n = int(ds.sizes["scenario"])
    if n < 2 or not keys:
        raise SensitivityError("scenario", "the indices need a [sweep] of at least two "
                               "scenarios over at least one key", f"{n} scenario(s)")
    for key in keys:
        values = _numeric(ds, key)
        if values is None:
            raise SensitivityError(key, "a swept key must be a number in every scenario",
                                   ds[key].values[0])
        if np.unique(values).size < 2:
            raise SensitivityError(key, "takes a single value: it cannot move any output",
                                   values[0])
    d = design(ds)
    if d["method"] == "sobol":
        expected = d["samples"] * ((2 if d["second_order"] else 1) * len(keys) + 2)
        if n != expected:
            raise SensitivityError("sweep_samples", f"a Sobol set of {d['samples']} samples "
                                   f"over {len(keys)} keys has {expected} scenarios", n)


def swept_keys(ds) -> list[str]:
    return [k for k in str(ds.attrs.get("swept_keys", "")).split(",") if k]


def design(ds) -> dict:
    """How the set was sampled: ``method``, ``samples``, ``second_order`` (root attributes;
    files from before them read as their method with no Sobol design)."""
    return {"method": str(ds.attrs.get("sweep_method", "none")),
            "samples": int(ds.attrs.get("sweep_samples", 0)),
            "second_order": bool(int(ds.attrs.get("sweep_second_order", 0)))}


def _numeric(ds, key: str) -> np.ndarray | None:
    values = np.asarray(ds[key].values)
    if values.dtype.kind not in "iuf":
        return None
    return values.astype(float)


def output_values(ds, output: str) -> tuple[np.ndarray, float]:
    """Each scenario's estimate of ``output`` from all its paths, ``(S,)``, and the Monte
    Carlo noise variance of those estimates across the scenarios.

    The noise is measured by splitting each scenario's paths into two halves: with common
    random numbers a scenario's noise is shared by the others, so each scenario's own s.e.
    overstates what the noise adds to the variance across scenarios; the halves' difference
    does not, ``σ²_MC = Var_s(y_A − y_B) / 4`` (exact for means, where a half's noise
    variance is twice the whole's). Raises :class:`~engine.errors.ResultsError` for a file
    whose scenarios hold different numbers of paths (:func:`refuse_ragged`)."""
    refuse_ragged(ds)
    S, P = int(ds.sizes["scenario"]), int(ds.sizes["path"])
    per_path = _per_path(ds, output)
    weights = [path_weights(ds, [i]) for i in range(S)]

    def estimates(paths: np.ndarray) -> np.ndarray:
        return np.array([_estimate(ds, output, per_path, i, paths,
                                   None if weights[i] is None else weights[i][paths])
                         for i in range(S)])

    y = estimates(np.arange(P))
    if P < 4:
        return y, math.nan
    half = P // 2
    gap = estimates(np.arange(half)) - estimates(np.arange(half, 2 * half))
    return y, float(np.var(gap, ddof=1)) / 4.0


def refuse_ragged(ds) -> None:
    """Raise :class:`~engine.errors.ResultsError` where the scenarios hold different numbers
    of paths (``paths_used``): the noise of :func:`output_values` pairs the same half of the
    paths across the scenarios (on common streams their noise is shared), which needs every
    scenario to hold the same paths."""
    if is_ragged(ds):
        raise ResultsError.one(str(ds.encoding.get("source", "results")), PATHS_USED,
                               "the sensitivity indices pair path p across the scenarios: "
                               "they need every scenario to hold the same number of paths",
                               has_got=False)


def _per_path(ds, output: str) -> np.ndarray | None:
    """``(S, P)`` values whose (weighted) mean is the output; None for capital."""
    if output == "ruin_probability":
        return np.any(ds["solvency_gap"].values > 0, axis=2).astype(float)
    if output == "members_at_horizon_mean":
        return ds["members"].values[:, :, -1].astype(float)
    if output == "cost_per_member_year_mean":
        labels = [str(q) for q in ds["quarter"].values]
        cost = ds["cost_per_member"].values
        years: dict[str, list[int]] = {}
        for t, label in enumerate(labels):
            years.setdefault(label[:4], []).append(t)
        return np.stack([cost[:, :, idx].sum(axis=2) for idx in years.values()],
                        axis=2).mean(axis=2)
    if output == "platform_value_mean":
        scenarios = scenarios_of(ds)
        return np.stack([economics.platform_value(
            {v: ds[v].values[i] for v in ("members", "joins", "fee_revenue",
                                          "platform_funding", "solvency_gap")},
            scenarios[i].valuation, scenarios[i].sharing.fee_rate)
            for i in range(int(ds.sizes["scenario"]))])
    return None


def _estimate(ds, output, per_path, i: int, paths: np.ndarray, w) -> float:
    """Scenario ``i``'s estimate from ``paths``: the weighted mean of its per-path values,
    or capital at 99.5 %, the VaR of a projection year's shortfall (the worst year's for
    ``capital_995_worst_year``), as :func:`engine.analysis.summary.risk_measures` has it."""
    if per_path is not None:
        return W.mean(per_path[i, paths], w)
    yearly = metrics.yearly_sums(ds["shortfall"].values[i][paths])        # (P, years)
    if output == "capital_995_worst_year":
        return max(W.var(yearly[:, y], ALPHA, w) for y in range(yearly.shape[1]))
    year = _year_capital(output) or 1
    if year > yearly.shape[1]:
        raise SensitivityError("--output", f"the run has {yearly.shape[1]} projection "
                               "year(s)", output)
    return W.var(yearly[:, year - 1], ALPHA, w)


def _year_capital(output: str) -> int:
    """N of ``capital_995_year_N`` (capital at 99.5 % of projection year N), else 0."""
    match = re.fullmatch(r"capital_995_year_([1-9][0-9]*)", output)
    return int(match.group(1)) if match else 0


def label_of(output: str) -> str:
    year = _year_capital(output)
    return OUTPUTS.get(output) or f"capital at 99.5 %, projection year {year} (yuan)"


def indices(ds, outputs: list[str], values: dict | None = None, with_delta: bool = True
            ) -> list[OutputIndices]:
    """The indices of every requested output (module docstring); ``values`` may give an
    output's per-scenario estimates and standard errors already computed (``compare``);
    ``with_delta=False`` leaves out δ of a given-data set (its density estimates are nearly
    all of the time: ``compare`` shows S1 alone)."""
    check_request(ds, outputs)
    refuse_ragged(ds)
    keys = swept_keys(ds)
    X = np.column_stack([_numeric(ds, k) for k in keys])
    problem = {"num_vars": len(keys), "names": keys,
               "bounds": [[float(X[:, j].min()), float(X[:, j].max())]
                          for j in range(len(keys))]}
    d = design(ds)
    out = []
    for output in outputs:
        y, noise_var = (values or {}).get(output) or output_values(ds, output)
        out.append(_indices_of(problem, X, y, noise_var, d, output, with_delta))
    return out


def _indices_of(problem, X, y, noise_var, d, output, with_delta=True) -> OutputIndices:
    variance = float(np.var(y, ddof=1))
    noise = noise_var / variance if variance > 0 else math.nan
    result = OutputIndices(output, label_of(output), variance, noise)
    if not np.all(np.isfinite(y)) or variance <= 0:
        result.note = ("the output does not vary across the scenarios: no assumption moves "
                       "it" if variance <= 0 else "the output is not finite in every "
                       "scenario")
        return result
    if d["method"] == "sobol":
        from SALib.analyze import sobol
        r = sobol.analyze(problem, y, calc_second_order=d["second_order"],
                          num_resamples=RESAMPLES, conf_level=CONFIDENCE, seed=BOOTSTRAP_SEED)
        kinds = (("S1", "S1", "S1_conf"), ("ST", "ST", "ST_conf"))
    else:
        from SALib.analyze import delta
        r = delta.analyze(problem, X, y, num_resamples=DELTA_RESAMPLES, conf_level=CONFIDENCE,
                          seed=BOOTSTRAP_SEED, method="all" if with_delta else "sobol")
        # SALib ≥ 1.5 names Borgonovo's estimator delta_raw (beside two bias corrections)
        raw = "delta_raw" if "delta_raw" in r else "delta"
        kinds = ((("delta", raw, raw + "_conf"),) if with_delta else ()) + (("S1", "S1",
                                                                              "S1_conf"),)
    for j, key in enumerate(problem["names"]):
        for kind, value_key, conf_key in kinds:
            result.rows.append(_row(key, kind, float(r[value_key][j]),
                                    float(r[conf_key][j]), noise))
    if d["method"] == "sobol" and d["second_order"]:
        names = problem["names"]
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                result.rows.append(_row(f"{names[a]} × {names[b]}", "S2",
                                        float(r["S2"][a, b]), float(r["S2_conf"][a, b]),
                                        noise))
    return result


def _row(key: str, kind: str, value: float, half_width: float, noise: float) -> dict:
    low, high = value - half_width, value + half_width
    return {"key": key, "index": kind, "value": value, "low": low, "high": high,
            "within_noise": bool(math.isfinite(noise) and high <= noise)}


EFFECT_OUTPUTS = ("capital_995_worst_year", "cost_per_member_year_mean")


def effect_indices(ds, comparison) -> list[OutputIndices]:
    """The indices of capital (worst year) and cost per member that ``compare`` and the
    report show: first-order and total for a Sobol set, first-order alone otherwise (no
    δ: :func:`indices`); none where they cannot be computed (one scenario, a key of one
    value, a key that is not a number, scenarios that hold different numbers of paths:
    :func:`refuse_ragged`); ``comparison`` is not read."""
    if is_ragged(ds):
        return []
    try:
        return indices(ds, list(EFFECT_OUTPUTS), with_delta=False)
    except SensitivityError:
        return []

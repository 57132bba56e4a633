"""Summaries of a results file: a JSON-ready dict and a readable text table (DESIGN §5)."""

from __future__ import annotations

import numpy as np

from engine.analysis import economics, metrics, precision
from engine.analysis import weighted as W
from engine.analysis.profiles import format_profiles, profiles
from engine.resolved import format_version, provenance, scenario_values
from engine.used_paths import path_count, paths_used, scenario_paths
from engine.variables import WEIGHT

ALPHA = 0.995
WEAK_ESS_SHARE = 0.05   # weighted runs: an effective sample under 5 % of the paths is flagged
SUMMARY_VARIABLES = ("members", "joins", "lapses", "claims", "aid", "cost_per_member",
                     "shortfall", "reserve", "fee_revenue", "solvency_gap", "sharers",
                     "platform_funding")


def scenarios_of(ds) -> list:
    """The resolved values of each scenario of a results file, from the file itself
    (:mod:`engine.resolved`): never its scenario's tables or today's schema."""
    return scenario_values(ds)


def _groups(ds, pooled: bool) -> list[tuple[str, list[int]]]:
    names = [str(s) for s in ds["scenario"].values]
    if pooled:
        return [(f"pooled({len(names)} scenarios)", list(range(len(names))))]
    return [(name, [i]) for i, name in enumerate(names)]


def path_weights(ds, idx: list[int]) -> np.ndarray | None:
    """The pooled paths' likelihood ratios (``weight``), or None for plain paths (every
    weight 1, or a file from before weights): the plain estimators then run unchanged."""
    if WEIGHT not in ds:
        return None
    w = np.concatenate([scenario_paths(ds, WEIGHT, i) for i in idx])
    return None if np.all(w == 1.0) else w


SCENARIO_KEYS = ("ruin_probability", "ruin_probability_se", "ruin_probability_by_quarter",
                 "shortfall_var_995", "shortfall_tvar_995", "shortfall_var_995_by_year",
                 "shortfall_tvar_995_by_year", "cost_per_member_quantiles", "members_quantiles",
                 "claims_quantiles", "mean", "platform_value", "market_share_by_year", "risk",
                 "ruin_probability_interval", "ruin_probability_text", "effective_paths",
                 "weighted", "paths_used", "precision", "profiles")
QUANTILE_VARIABLES = ("cost_per_member", "members", "claims")


def summarize(ds, pooled: bool = False) -> dict:
    """Summary of every scenario (or of all pooled) in an opened results dataset.

    Keys (each a mapping scenario name → value unless said otherwise): ``ruin_probability``
    (and ``_se``, its Monte Carlo standard error), ``ruin_probability_by_quarter``,
    ``shortfall_var_995`` and ``shortfall_tvar_995`` (first projection year, yuan),
    ``..._by_year`` (every projection year), ``cost_per_member_quantiles``,
    ``members_quantiles``, ``claims_quantiles`` (level → one value per quarter), ``mean``
    (per variable, one value per quarter), ``platform_value`` (yuan: mean and quantiles),
    ``market_share_by_year`` (year → contributions, premium and share quantiles); plus
    ``scenarios``, ``quarters``, ``paths``, ``seed``, ``quantile_levels``,
    ``quantile_definition``, ``engine_version`` and ``format_version`` of the file and
    ``written_by`` (which engine wrote it, in words). Every value the summary needs beyond
    the arrays (valuation, fee, premiums) is the file's own (:mod:`engine.resolved`).

    ``pooled=True`` treats the paths of all scenarios as one sample: for a fitted scenario
    set (one scenario per parameter draw) that carries parameter and process uncertainty.
    Its standard errors respect the set's streams (the file's ``streams`` attribute): with
    common streams path ``p`` of every scenario shares its noise, so the path is the
    sampling unit (cluster-robust errors, :mod:`engine.analysis.metrics`) and
    ``effective_paths`` says how many independent paths the pool is worth; with
    independent streams every pooled path counts (``effective_paths``: paths over the design
    effect of members at the horizon). Probabilities also get exact
    (Clopper–Pearson) 95 % intervals (``ruin_probability_interval``, ``_text``).

    Weighted paths (a ``[tail]`` tilt: ``weight`` is each path's likelihood ratio) use the
    weighted estimators of :mod:`engine.analysis.weighted`: unbiased means and
    probabilities, tail-form VaR and TVaR with batch-means standard errors, self-normalised
    quantiles, and Kish's effective sample size ``(Σ w)² / Σ w²`` as ``effective_paths``
    (the intervals rest on it). ``weighted`` says which a scenario got.
    """
    labels = [str(q) for q in ds["quarter"].values]
    scenarios = scenarios_of(ds)
    groups = _groups(ds, pooled)
    out = _file_figures(ds, groups, labels, pooled, len(scenarios))
    for k in SCENARIO_KEYS:
        out[k] = {}
    for name, idx in groups:
        for k, value in _scenario_figures(ds, scenarios, idx, labels, out["streams"]).items():
            out[k][name] = value
    return out


def _file_figures(ds, groups, labels: list[str], pooled: bool, n_scenarios: int) -> dict:
    """What :func:`summarize` says once for the file: names, sizes, provenance, definitions."""
    return {
        "scenarios": [name for name, _ in groups],
        "quarters": labels,
        "paths": (int(paths_used(ds).sum()) if pooled else int(ds.sizes["path"])),
        "seed": int(ds.attrs["seed"]),
        "generator": str(ds.attrs["generator"]),
        "engine_version": str(ds.attrs.get("engine_version", "")),
        "format_version": format_version(ds),
        "written_by": provenance(ds),
        "quantile_levels": list(metrics.QUANTILE_LEVELS),
        "quantile_definition": "lower empirical quantile inf{x: F(x) >= alpha}",
        "var_level": ALPHA,
        "shortfall_horizon": "first projection year (quarters 1-4); _by_year for each year",
        "pooled": pooled,
        "streams": str(ds.attrs.get("streams", "common")),
        # a file reweighted by `mutualsim stress-weights`: its figures are the stressed
        # model's (None for a run's own file)
        "stress": str(ds.attrs["stress_described"]) if "stress_described" in ds.attrs
        else None,
    }


def _scenario_figures(ds, scenarios, idx: list[int], labels: list[str],
                      streams_choice: str) -> dict:
    """Every figure of :data:`SCENARIO_KEYS` for the paths of scenarios ``idx`` (one
    scenario, or all of them pooled)."""
    data = {v: np.concatenate([scenario_paths(ds, v, i) for i in idx])
            for v in SUMMARY_VARIABLES}
    clusters = _clusters(ds, idx, streams_choice)
    w = path_weights(ds, idx)
    scenario = scenarios[idx[0]]
    yearly = metrics.yearly_sums(data["shortfall"])
    var_y = [W.var(yearly[:, y], ALPHA, w) for y in range(yearly.shape[1])]
    tvar_y = [W.tvar(yearly[:, y], ALPHA, w) for y in range(yearly.shape[1])]
    return {
        "weighted": w is not None,
        **_ruin_figures(data, clusters, w),
        "shortfall_var_995": var_y[0],
        "shortfall_tvar_995": tvar_y[0],
        "shortfall_var_995_by_year": var_y,
        "shortfall_tvar_995_by_year": tvar_y,
        **{f"{var}_quantiles": (metrics.quantile_table(data[var]) if w is None
                                else W.quantile_table(data[var], metrics.QUANTILE_LEVELS, w))
           for var in QUANTILE_VARIABLES},
        "mean": {var: [float(x) for x in W.column_means(data[var], w)]
                 for var in SUMMARY_VARIABLES if var != "solvency_gap"},
        "platform_value": platform_value_figures(ds, scenarios, idx, clusters, w),
        "market_share_by_year": _market_share(ds, scenarios, idx, labels, w),
        "risk": risk_measures(data, labels, clusters, w),
        "paths_used": int(data["members"].shape[0]),
        # a [precision] run's targets as reached (one scenario; a pool has none)
        "precision": (precision.summary_rows(scenario.precision.as_dict(), data, labels, w)
                      if len(idx) == 1 and "precision" in scenario else []),
        # who claims and who is a member, from an [output] detail (engine.analysis.profiles)
        "profiles": profiles(ds, idx, labels, w),
    }


def _ruin_figures(data: dict[str, np.ndarray], clusters: np.ndarray | None,
                  w: np.ndarray | None) -> dict:
    """Ruin over the run: probability, s.e., exact interval, text, by quarter, and the
    effective number of paths (cluster-robust for pooled common streams, Kish's with
    weights)."""
    n_paths = data["members"].shape[0]
    gap = data["solvency_gap"]
    ruined = np.any(gap > 0, axis=-1)
    if w is None:
        ruin = metrics.ruin_probability(gap)
        n_eff = n_paths / metrics.design_effect(ruined, clusters)
        se = metrics.cluster_standard_error(ruined, clusters)
        effective = float(n_paths if clusters is None else
                          n_paths / metrics.design_effect(data["members"][:, -1], clusters))
    else:
        ruin = W.mean(ruined, w)
        n_eff = W.effective_sample_size(w)
        se = W.mean_standard_error(ruined, w)
        effective = n_eff
    return {
        "ruin_probability": ruin,
        "ruin_probability_se": se,
        "effective_paths": effective,
        "ruin_probability_interval": list(metrics.clopper_pearson(ruin * n_eff, n_eff)),
        "ruin_probability_text": metrics.proportion_text(
            ruin, n_paths, None if clusters is None and w is None else n_eff),
        "ruin_probability_by_quarter": [float(x) for x in W.ruin_by_quarter(gap, w)],
    }


def platform_value_figures(ds, scenarios, idx: list[int], clusters: np.ndarray | None,
                    w: np.ndarray | None) -> dict:
    """The platform's value (:func:`engine.analysis.economics.platform_value`) of the paths
    of scenarios ``idx``: mean, its s.e., quantiles and the rule that funds a gap."""
    value = np.concatenate([economics.platform_value(
        {v: scenario_paths(ds, v, i) for v in ("members", "joins", "fee_revenue",
                                               "platform_funding", "solvency_gap")},
        scenarios[i].valuation, scenarios[i].sharing.fee_rate)
        for i in idx])
    rules = sorted({scenarios[i].valuation.gap_funded_by for i in idx})
    return {
        "units": "yuan at the start of the projection",
        "gap_funded_by": rules[0] if len(rules) == 1 else rules,
        "gap_rule": "; ".join(economics.GAP_RULE_WORDS[r] for r in rules),
        "mean": float(value.mean()) if w is None else W.mean(value, w),
        "mean_se": (metrics.cluster_standard_error(value, clusters) if w is None
                    else W.mean_standard_error(value, w)),
        "quantiles": _quantiles(value, w),
    }


def _quantiles(values: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
    """``values``' quantiles at :data:`metrics.QUANTILE_LEVELS`, keyed ``"0.05"`` etc."""
    levels = list(metrics.QUANTILE_LEVELS)
    return {f"{q:g}": float(v) for q, v in zip(levels, W.quantile(values, levels, w),
                                              strict=True)}


def _clusters(ds, idx: list[int], streams_choice: str) -> np.ndarray | None:
    """The path of each pooled value when several scenarios on common streams are pooled
    (their path ``p`` shares its noise); ``None`` when every value is independent."""
    if len(idx) < 2 or streams_choice != "common":
        return None
    return np.concatenate([np.arange(path_count(ds, i)) for i in idx])


RUIN_HORIZONS = (1, 4, 8, 20)
VAR_LEVELS = (0.90, 0.99, 0.995)
MIN_TAIL_PATHS = 10      # paths beyond a quantile below which it is flagged
MAX_RELATIVE_SE = 0.10   # relative standard error above which an estimate is flagged


def risk_measures(data: dict[str, np.ndarray], labels: list[str],
                  clusters: np.ndarray | None = None, w: np.ndarray | None = None) -> dict:
    """Risk figures of one scenario (or pool) with their Monte Carlo standard errors.

    * ruin probability by 1, 4, 8, 20 quarters and the whole run, binomial s.e.;
    * VaR and TVaR of each projection year's shortfall at 90, 99 and 99.5 %, s.e. of VaR
      from the order-statistic interval, of TVaR from its asymptotic formula
      (:mod:`engine.analysis.metrics`); capital at 99.5 % is the first year's VaR 99.5 %;
    * the distribution of the quarter of first ruin;
    * cost per member per calendar year and members at the horizon, quantiles;
    * ``warnings``: estimates resting on fewer than 10 paths beyond the quantile, or with a
      relative s.e. above 10 %.

    ``clusters`` (the path of each value when common-stream scenarios are pooled) makes
    every standard error cluster-robust and the tail counts effective ones. ``w`` (each
    path's likelihood ratio under a ``[tail]`` tilt) makes every figure the weighted one of
    :mod:`engine.analysis.weighted`, VaR's and TVaR's s.e. from batch means, and the
    intervals rest on the effective sample size; the tail-count warning then gives way to
    the relative-s.e. one (a tilt puts many paths in the tail; their weights decide).
    """
    n = data["members"].shape[0]
    yearly = metrics.yearly_sums(data["shortfall"])
    shortfall, warnings = _shortfall_table(yearly, labels, clusters, w)
    if w is None:
        warnings += _tail_count_warnings(yearly[:, 0], clusters)
    cost_years = metrics.calendar_year_sums(data["cost_per_member"], labels)
    return {
        "paths": n,
        "ruin_probability_by_horizon": _ruin_by_horizon(data["solvency_gap"], clusters, w),
        "time_to_ruin": _time_to_ruin(data["solvency_gap"], labels, w),
        "shortfall_one_year": shortfall,
        "capital_995": shortfall["year 1"]["var_995"],
        "cost_per_member_by_year_quantiles": {str(y): _quantiles(v, w)
                                              for y, v in cost_years.items()},
        "members_at_horizon_quantiles": _quantiles(data["members"][:, -1], w),
        "warnings": warnings,
    }


def _ruin_by_horizon(gap: np.ndarray, clusters: np.ndarray | None,
                     w: np.ndarray | None) -> dict[str, dict]:
    """Ruin by 1, 4, 8 and 20 quarters (those inside the run) and by the run's end
    (``"all"``): probability, s.e., exact 95 % interval and text."""
    n, T = gap.shape
    by_quarter = W.ruin_by_quarter(gap, w)
    ruined_by = np.maximum.accumulate(gap > 0, axis=-1)
    horizons = {}
    for h in (*[h for h in RUIN_HORIZONS if h < T], T):
        p = float(by_quarter[h - 1])
        hit = ruined_by[:, h - 1]
        if w is None:
            n_eff = n / metrics.design_effect(hit, clusters)
            se = metrics.cluster_standard_error(hit, clusters)
        else:
            n_eff, se = W.effective_sample_size(w), W.mean_standard_error(hit, w)
        horizons["all" if h == T else str(h)] = {
            "quarters": h, "probability": p, "se": se,
            "interval_95": list(metrics.clopper_pearson(p * n_eff, n_eff)),
            "text": metrics.proportion_text(p, n, None if clusters is None and w is None
                                            else n_eff)}
    return horizons


def _time_to_ruin(gap: np.ndarray, labels: list[str], w: np.ndarray | None) -> dict:
    """Share of paths first ruined in each quarter (those where some are), and never."""
    first = metrics.first_ruin_quarter(gap)
    share = np.mean if w is None else (lambda hit: W.mean(hit, w))
    time_to_ruin = {labels[t]: float(share(first == t)) for t in range(len(labels))
                    if np.any(first == t)}
    time_to_ruin["never"] = float(share(first < 0))
    return time_to_ruin


def _shortfall_table(yearly: np.ndarray, labels: list[str], clusters: np.ndarray | None,
                     w: np.ndarray | None) -> tuple[dict[str, dict], list[str]]:
    """VaR and TVaR of each projection year's shortfall at :data:`VAR_LEVELS` with their
    s.e., and a warning for each VaR whose relative s.e. passes :data:`MAX_RELATIVE_SE`."""
    n = yearly.shape[0]
    warnings: list[str] = []
    shortfall = {}
    for y in range(yearly.shape[1]):
        x = yearly[:, y]
        row = {"from": labels[4 * y]}
        for alpha in VAR_LEVELS:
            tag = f"{alpha * 100:g}".replace(".", "")
            v, tv = W.var(x, alpha, w), W.tvar(x, alpha, w)
            if w is None:
                v_se = metrics.clustered_quantile_standard_error(x, alpha, clusters)
                tv_se = metrics.clustered_tvar_standard_error(x, alpha, clusters)
            else:
                v_se = W.var_standard_error(x, alpha, w)
                tv_se = W.tvar_standard_error(x, alpha, w)
            row[f"var_{tag}"] = {"value": v, "se": v_se}
            row[f"tvar_{tag}"] = {"value": tv, "se": tv_se}
            if (w is not None or n * (1 - alpha) >= MIN_TAIL_PATHS) and v > 0 and \
                    v_se / v > MAX_RELATIVE_SE:
                warnings.append(f"year {y + 1}: VaR {alpha:.1%} has a relative s.e. of "
                                f"{v_se / v:.0%}; more paths would narrow it")
        shortfall[f"year {y + 1}"] = row
    return shortfall, warnings


def _tail_count_warnings(first_year: np.ndarray, clusters: np.ndarray | None) -> list[str]:
    """Plain paths: a warning for each level of :data:`VAR_LEVELS` with fewer than
    :data:`MIN_TAIL_PATHS` effective paths beyond the first year's quantile."""
    n = first_year.shape[0]
    warnings = []
    for alpha in VAR_LEVELS:
        # effective paths beyond the quantile: the first year's design effect of the tail
        deff = metrics.design_effect(first_year > metrics.var(first_year, alpha), clusters)
        tail = n * (1 - alpha) / max(deff, 1.0)
        if tail < MIN_TAIL_PATHS:
            unit = "paths" if clusters is None else "independent paths (common streams)"
            warnings.append(f"VaR/TVaR {alpha:.1%} rest on {tail:.1f} {unit} beyond the "
                            f"quantile in each year; use at least "
                            f"{int(np.ceil(MIN_TAIL_PATHS / (1 - alpha)))} independent paths")
    return warnings


def _market_share(ds, scenarios, idx, labels, w=None) -> dict:
    per_year: dict[int, dict] = {}
    for i in idx:
        results = {v: scenario_paths(ds, v, i) for v in ("cost_per_member", "sharers")}
        for year, entry in economics.market_share_by_year(results, labels,
                                                          scenarios[i].premiums_yuan_by_year
                                                          .as_dict()).items():
            slot = per_year.setdefault(year, {"contributions": [], "share": [],
                                              "premium": entry["premium"],
                                              "quarters": entry["quarters"]})
            slot["contributions"].append(entry["contributions"])
            if entry["share"] is not None:
                slot["share"].append(entry["share"])
    out = {}
    for year, slot in sorted(per_year.items()):
        row = {"quarters_projected": slot["quarters"],
               "premium_yuan": slot["premium"],
               "contributions_yuan_quantiles": _quantiles(np.concatenate(slot["contributions"]),
                                                          w)}
        if slot["share"]:
            share = np.concatenate(slot["share"])
            # a pooled set whose premiums cover only some scenarios: no weight per share
            w_share = w if w is not None and w.size == share.size else None
            row["share_quantiles"] = _quantiles(share, w_share)
        else:
            row["share_quantiles"] = None
        out[str(year)] = row
    return out


def format_amount(x: float, words: bool = False) -> str:
    """A number for people: compact for terminal tables (1.23bn, 4.56m, 78.9k, 123, 4.56),
    or with ``words`` as a report writes it (1.23 bn, 4.6 million, 78,900, 123, 4.56)."""
    if x is None or not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:,.2f} bn" if words else f"{x / 1e9:.2f}bn"
    if ax >= 1e6:
        return f"{x / 1e6:,.1f} million" if words else f"{x / 1e6:.2f}m"
    if ax >= 1e4 and not words:
        return f"{x / 1e3:.1f}k"
    if ax >= 100 or x == int(x):
        return f"{x:,.0f}" if words else f"{x:.0f}"
    return f"{x:.3g}" if words else f"{x:.2f}"


_fmt = format_amount


def _range(q: dict, t: int | None = None) -> str:
    pick = (lambda k: q[k][t]) if t is not None else (lambda k: q[k])
    return f"{_fmt(pick('0.5'))} ({_fmt(pick('0.05'))}-{_fmt(pick('0.95'))})"


def format_market_share(summary: dict, name: str) -> list[str]:
    """One line per calendar year: members' contributions (yuan) and their share of that
    year's commercial health insurance premiums, median and 5–95 % range."""
    lines = []
    for year, row in summary["market_share_by_year"][name].items():
        paid = _range(row["contributions_yuan_quantiles"])
        n = row["quarters_projected"]
        part = "" if n == 4 else f" [{n} quarter{'' if n == 1 else 's'}]"
        if row["share_quantiles"]:
            q = row["share_quantiles"]
            share = (f"{q['0.5']:.3%} ({q['0.05']:.3%}-{q['0.95']:.3%}) of "
                     f"{_fmt(row['premium_yuan'])} yuan")
        else:
            share = "no published premium for the year"
        lines.append(f"  {year}{part}: contributions {paid} yuan; share {share}")
    return lines


def _paths_text(summary: dict) -> str:
    """"2000", or for scenarios that stopped at different counts "1000-3000 (by scenario)"."""
    counts = sorted(set(summary["paths_used"].values()))
    if summary["pooled"] or len(counts) <= 1:
        return str(summary["paths"])
    return f"{counts[0]}-{counts[-1]} (by scenario, to their [precision])"


def format_summary(summary: dict) -> str:
    """A readable table per scenario: medians with 5–95 % ranges per quarter, then risks,
    the platform's value and mutual aid's market share."""
    lines = [summary["written_by"],
             *([f"weights: stressed by `mutualsim stress-weights` ({summary['stress']}): "
                "every figure below is the stressed model's"] if summary.get("stress") else []),
             f"paths: {_paths_text(summary)}   seed: {summary['seed']}   "
             f"generator: {summary['generator']}   (median and 5%-95% range)"]
    for name in summary["scenarios"]:
        mem = summary["members_quantiles"][name]
        clm = summary["claims_quantiles"][name]
        cpm = summary["cost_per_member_quantiles"][name]
        ruin_by_quarter = summary["ruin_probability_by_quarter"][name]
        lines += ["", f"scenario {name}",
                  f"{'quarter':<8} {'members':>32} {'claims':>24} "
                  f"{'cost per member, yuan':>26} {'P(ruin)':>8}"]
        for t, q in enumerate(summary["quarters"]):
            lines.append(f"{q:<8} {_range(mem, t):>32} {_range(clm, t):>24} "
                         f"{_range(cpm, t):>26} {ruin_by_quarter[t]:>8.3f}")
        se = summary["ruin_probability_se"][name]
        value = summary["platform_value"][name]
        eff = summary["effective_paths"][name]
        lines += [
            f"ruin probability over the run: {summary['ruin_probability_text'][name]}"
            + (f" (MC s.e. {se:.4f})" if 0 < summary["ruin_probability"][name] < 1 else ""),
            *([f"effective independent paths (common streams pooled): {eff:,.0f} of "
               f"{summary['paths']:,}"] if summary["pooled"] and summary["streams"] == "common"
              and not summary["weighted"][name] else []),
            *([f"weighted paths (importance sampling, [tail]): effective sample size "
               f"{eff:,.0f} of {summary['paths_used'][name]:,}"
               + (" — a tilted run is for its tail statistics (VaR, TVaR, tail "
                  "probabilities, with their s.e.); its central figures (medians, means, "
                  "probabilities near 1, which may even pass 1) rest on few effective paths, "
                  "and so may its s.e. (measured on the default scenario at 3 %: a third "
                  "too small; check with more paths)"
                  if eff < WEAK_ESS_SHARE * summary["paths_used"][name] else "")]
              if summary["weighted"][name] else []),
            f"one-year shortfall, year 1: VaR 99.5% {_fmt(summary['shortfall_var_995'][name])}"
            f" yuan, TVaR 99.5% {_fmt(summary['shortfall_tvar_995'][name])} yuan",
            "VaR 99.5% of the shortfall by projection year: "
            + ", ".join(_fmt(v) for v in summary["shortfall_var_995_by_year"][name]),
            f"platform value ({value['gap_rule']}): mean {_fmt(value['mean'])} yuan "
            f"(s.e. {_fmt(value['mean_se'])}), median {_range(value['quantiles'])} yuan",
            "market share (members' contributions / health insurance premiums), by year:",
        ]
        risk = summary["risk"][name]
        lines += format_market_share(summary, name)
        lines.append("ruin probability by horizon: " + "; ".join(
            f"{k if k == 'all' else k + 'q'} {v['text']}"
            for k, v in risk["ruin_probability_by_horizon"].items()))
        lines.append("one-year shortfall by projection year, yuan (± s.e.):")
        for year, row in risk["shortfall_one_year"].items():
            lines.append(f"  {year} from {row['from']}: " + "; ".join(
                f"VaR {lvl} {_fmt(row['var_' + tag]['value'])}±{_fmt(row['var_' + tag]['se'])}"
                f" TVaR {_fmt(row['tvar_' + tag]['value'])}±{_fmt(row['tvar_' + tag]['se'])}"
                for lvl, tag in (("90%", "90"), ("99%", "99"), ("99.5%", "995"))))
        lines.append("cost per member per calendar year, yuan: " + ", ".join(
            f"{y} {_range(q)}" for y, q in risk["cost_per_member_by_year_quantiles"].items()))
        lines.append(f"members at the horizon: {_range(risk['members_at_horizon_quantiles'])}")
        lines += precision.format_rows(summary["precision"][name],
                                       summary["paths_used"][name])
        lines += format_profiles(summary["profiles"][name])
        for w in risk["warnings"]:
            lines.append(f"warning: {w}")
    return "\n".join(lines)

"""Summaries of a results file: a JSON-ready dict and a readable text table (DESIGN §5)."""

from __future__ import annotations

import numpy as np

from engine import metrics

ALPHA = 0.995


def summarize(ds) -> dict:
    """Summary of every scenario in an opened results dataset.

    Keys (each a mapping scenario name → value unless said otherwise): ``ruin_probability``
    (and ``_se``, its Monte Carlo standard error), ``ruin_probability_by_quarter``,
    ``shortfall_var_995`` and ``shortfall_tvar_995`` (first projection year, yuan),
    ``..._by_year`` (every projection year), ``cost_per_member_quantiles``,
    ``members_quantiles``, ``claims_quantiles`` (level → one value per quarter), ``mean``
    (per variable, one value per quarter); plus ``scenarios``, ``quarters``, ``paths``,
    ``seed``, ``quantile_levels``, ``quantile_definition``.
    """
    names = [str(s) for s in ds["scenario"].values]
    out: dict = {
        "scenarios": names,
        "quarters": [str(q) for q in ds["quarter"].values],
        "paths": int(ds.sizes["path"]),
        "seed": int(ds.attrs["seed"]),
        "generator": str(ds.attrs["generator"]),
        "quantile_levels": list(metrics.QUANTILE_LEVELS),
        "quantile_definition": "lower empirical quantile inf{x: F(x) >= alpha}",
        "var_level": ALPHA,
        "shortfall_horizon": "first projection year (quarters 1-4); _by_year for each year",
    }
    keys = ("ruin_probability", "ruin_probability_se", "ruin_probability_by_quarter",
            "shortfall_var_995", "shortfall_tvar_995", "shortfall_var_995_by_year",
            "shortfall_tvar_995_by_year", "cost_per_member_quantiles", "members_quantiles",
            "claims_quantiles", "mean")
    for k in keys:
        out[k] = {}
    n_paths = out["paths"]
    for i, name in enumerate(names):
        sel = ds.isel(scenario=i)
        gap = sel["solvency_gap"].values
        ruin = metrics.ruin_probability(gap)
        out["ruin_probability"][name] = ruin
        out["ruin_probability_se"][name] = metrics.binomial_standard_error(ruin, n_paths)
        out["ruin_probability_by_quarter"][name] = [float(x) for x in metrics.ruin_by_quarter(gap)]
        yearly = metrics.yearly_sums(sel["shortfall"].values)
        var_y = [metrics.var(yearly[:, y], ALPHA) for y in range(yearly.shape[1])]
        tvar_y = [metrics.tvar(yearly[:, y], ALPHA) for y in range(yearly.shape[1])]
        out["shortfall_var_995"][name] = var_y[0]
        out["shortfall_tvar_995"][name] = tvar_y[0]
        out["shortfall_var_995_by_year"][name] = var_y
        out["shortfall_tvar_995_by_year"][name] = tvar_y
        for var in ("cost_per_member", "members", "claims"):
            out[f"{var}_quantiles"][name] = metrics.quantile_table(sel[var].values)
        out["mean"][name] = {
            var: [float(x) for x in sel[var].values.mean(axis=0)]
            for var in ("members", "joins", "lapses", "claims", "aid", "cost_per_member",
                        "shortfall", "reserve", "fee_revenue")
        }
    return out


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return str(x)
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:.2f}bn"
    if ax >= 1e6:
        return f"{x / 1e6:.2f}m"
    if ax >= 1e4:
        return f"{x / 1e3:.1f}k"
    if ax >= 100 or x == int(x):
        return f"{x:.0f}"
    return f"{x:.2f}"


def format_summary(summary: dict) -> str:
    """A readable table per scenario: medians with 5–95 % ranges per quarter, then risks."""
    lines = [f"paths: {summary['paths']}   seed: {summary['seed']}   "
             f"generator: {summary['generator']}"]
    for name in summary["scenarios"]:
        mem = summary["members_quantiles"][name]
        clm = summary["claims_quantiles"][name]
        cpm = summary["cost_per_member_quantiles"][name]
        ruin_q = summary["ruin_probability_by_quarter"][name]
        lines += ["", f"scenario {name}",
                  f"{'quarter':<8} {'members (5%-95%)':>28} {'claims (5%-95%)':>24} "
                  f"{'cost/member yuan (5%-95%)':>30} {'P(ruin)':>8}"]
        for t, q in enumerate(summary["quarters"]):
            lines.append(
                f"{q:<8} {_fmt(mem['0.5'][t]):>10} ({_fmt(mem['0.05'][t])}-"
                f"{_fmt(mem['0.95'][t])})".ljust(38)
                + f"{_fmt(clm['0.5'][t]):>9} ({_fmt(clm['0.05'][t])}-{_fmt(clm['0.95'][t])})"
                .ljust(25)
                + f"{_fmt(cpm['0.5'][t]):>10} ({_fmt(cpm['0.05'][t])}-{_fmt(cpm['0.95'][t])})"
                .ljust(31)
                + f"{ruin_q[t]:>7.3f}")
        ruin = summary["ruin_probability"][name]
        se = summary["ruin_probability_se"][name]
        lines += [
            f"ruin probability over the run: {ruin:.4f} (MC s.e. {se:.4f})",
            f"one-year shortfall, year 1: VaR 99.5% {_fmt(summary['shortfall_var_995'][name])}"
            f" yuan, TVaR 99.5% {_fmt(summary['shortfall_tvar_995'][name])} yuan",
            "VaR 99.5% by projection year: "
            + ", ".join(_fmt(v) for v in summary["shortfall_var_995_by_year"][name]),
        ]
    return "\n".join(lines)

"""Tail statistics: plain Monte Carlo against importance sampling, paths and seconds each
needs for a given precision, measured in this process.

Measurement ``tail``: VaR and TVaR 99.5 % of the default scenario's shortfall in projection
year :data:`TAIL_YEAR`, a pilot's cross-entropy tilt (``engine.run.tail``).

Measurement ``ruin``: the ruin probability by quarter 8 of ``benchmarks/closed_group.toml``
(0.125 % exactly), the pilot's Esscher tilt of the claim counts.

Both scale a measured standard error to the paths needed for ±2 % relative s.e.:
``n × (s.e. / (0.02 × estimate))²``.
"""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import CLOSED_GROUP, DEFAULT_SCENARIO, Context

TAIL_YEAR = 4            # the default scenario's first projection year with a shortfall
TAIL_RELATIVE_SE = 0.02  # the precision asked: ±2 % relative s.e. (issue 14)


def _needed(paths: int, se: float, estimate: float) -> float:
    """Paths for ±:data:`TAIL_RELATIVE_SE` relative s.e., from ``se`` at ``paths`` paths."""
    return paths * (se / (TAIL_RELATIVE_SE * estimate)) ** 2


def _replications(inputs, seed: int, quarters: slice, replications: int, paths: int):
    """``replications`` tilted runs of ``paths`` paths (seeds after the run's): each run's
    VaR and TVaR 99.5 % estimates and reported s.e., effective sample sizes, seconds."""
    from engine.analysis import weighted as W
    from engine.run.plans import simulate_plans

    estimators = {"var_995": (W.var, W.var_standard_error),
                  "tvar_995": (W.tvar, W.tvar_standard_error)}
    runs: dict[str, list] = {key: [] for key in estimators}
    reported: dict[str, list] = {key: [] for key in estimators}
    ess = []
    t0 = time.perf_counter()
    for r in range(replications):
        out = simulate_plans(inputs, seed + 1 + r, 0, paths)
        x, w = out["shortfall"][:, quarters].sum(axis=1), out["weight"]
        ess.append(W.effective_sample_size(w))
        for key, (estimate, standard_error) in estimators.items():
            runs[key].append(estimate(x, 0.995, w))
            reported[key].append(standard_error(x, 0.995, w))
    return runs, reported, ess, time.perf_counter() - t0


def tail_sampling(paths: int = 4000, pilot_paths: int | None = None, replications: int = 40,
                  replication_paths: int = 250, pilot_stop: str = "surrogate") -> dict:
    """Paths and seconds that plain Monte Carlo and importance sampling need for ±2 %
    relative s.e. on VaR and TVaR 99.5 % of year :data:`TAIL_YEAR`'s shortfall.

    Plain: one run of ``paths``, s.e. Maritz–Jarrett and the asymptotic TVaR s.e.
    Importance sampling: the spread of ``replications`` tilted runs of ``replication_paths``
    each (seeds after the run's), not the runs' own batch-means s.e., which a tail tilt's
    few effective paths make too small (their ratio is kept). Seconds include the pilot:
    ``pilot_paths`` of them (None: the pilot's default, the surrogate's 200), chosen by
    ``pilot_stop`` (``tail.pilot_stop``: ``"surrogate"``, ``"extrapolate"``, ``"target"``).
    Both sides' path counts are estimates: with 4,000 plain paths (20 beyond VaR 99.5 %) and
    40 replications, each count's relative error is about 16 % and 22 % (the variance of a
    sample variance, ``√(2/(n − 1))``, and a plain s.e. resting on 20 tail paths).

    Returns
    -------
    dict
        Per statistic, ``{"var_995": ..., "tvar_995": ...}``: ``tail_paths_plain``,
        ``tail_paths_is`` (paths needed), ``tail_variance_reduction`` (their ratio),
        ``tail_seconds_ratio`` (plain's seconds over IS's, pilot counted),
        ``tail_is_reported_over_spread`` (RMS reported s.e. over the replications' spread).
        Scalars: ``tail_effective_sample_share`` (mean ESS over paths),
        ``tail_pilot_seconds``, ``tail_paths_measured``, ``tail_replications``
        (``[replications, replication_paths]``).
    """
    import dataclasses

    from engine.analysis import metrics
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.runner import tilted_set

    plain_set = load_scenario_set(DEFAULT_SCENARIO)
    base = plain_set.base
    seed = base.scenario.seed
    quarters = slice(4 * (TAIL_YEAR - 1), 4 * TAIL_YEAR)
    simulate_plans(build_run_inputs(base), seed, 0, 20)          # compiled before timing
    t0 = time.perf_counter()
    plain = simulate_plans(build_run_inputs(base), seed, 0, paths)["shortfall"][:, quarters]
    t_plain = time.perf_counter() - t0
    tail = dataclasses.replace(base.tail, target="shortfall", year=TAIL_YEAR, level=0.995,
                               pilot_paths=pilot_paths, pilot_stop=pilot_stop)
    asked = dataclasses.replace(plain_set, scenarios=(dataclasses.replace(base, tail=tail),))
    t0 = time.perf_counter()
    tilted_set_, record = tilted_set(asked, seed, "numba")
    t_pilot = time.perf_counter() - t0
    runs, reported, ess, t_runs = _replications(build_run_inputs(tilted_set_.base), seed,
                                                quarters, replications, replication_paths)
    t_is = t_runs / (replications * replication_paths)   # per path
    x_plain = plain.sum(axis=1)
    plain_estimates = {
        "var_995": (metrics.var(x_plain, 0.995), metrics.quantile_standard_error(x_plain, 0.995)),
        "tvar_995": (metrics.tvar(x_plain, 0.995), metrics.tvar_standard_error(x_plain, 0.995)),
    }
    result: dict = {"tail_paths_plain": {}, "tail_paths_is": {}, "tail_variance_reduction": {},
                    "tail_seconds_ratio": {}, "tail_is_reported_over_spread": {},
                    "tail_effective_sample_share": float(np.mean(ess)) / replication_paths,
                    "tail_pilot_seconds": t_pilot, "tail_paths_measured": paths,
                    "tail_pilot_paths": record["pilot_paths"],
                    "tail_surrogate_r_squared": record["rounds"][0].get("surrogate_r_squared"),
                    "tail_replications": [replications, replication_paths]}
    for key, (v_p, se_p) in plain_estimates.items():
        v_i = float(np.mean(runs[key]))
        se_i = float(np.std(runs[key], ddof=1))            # at replication_paths paths
        n_p, n_i = _needed(paths, se_p, v_p), _needed(replication_paths, se_i, v_i)
        result["tail_paths_plain"][key] = n_p
        result["tail_paths_is"][key] = n_i
        result["tail_variance_reduction"][key] = n_p / n_i
        result["tail_seconds_ratio"][key] = (n_p * t_plain / paths) / (t_pilot + n_i * t_is)
        result["tail_is_reported_over_spread"][key] = float(
            np.sqrt(np.mean(np.square(reported[key]))) / se_i)
    return result


def tail_ruin(paths_plain: int = 100_000, paths_is: int = 2000) -> dict:
    """Paths and seconds that plain Monte Carlo and importance sampling (the pilot's
    Esscher tilt of the claim counts, ``[tail] drivers = "claims"``) need for ±2 % relative
    s.e. on the ruin probability by quarter 8 of :data:`~benchmarks.common.CLOSED_GROUP`;
    plain s.e. binomial, weighted ``sd(w 1{ruin}) / √n``. Seconds include the pilot.

    Returns
    -------
    dict
        ``tail_ruin_probability_plain``, ``tail_ruin_probability_is`` (estimates, fractions),
        ``tail_ruin_paths_plain``, ``tail_ruin_paths_is`` (paths needed),
        ``tail_ruin_variance_reduction`` (their ratio), ``tail_ruin_seconds_ratio`` (plain's
        seconds over IS's, pilot counted), ``tail_ruin_pilot_seconds``.
    """
    import dataclasses

    from engine.analysis import weighted as W
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.runner import tilted_set

    asked = load_scenario_set(CLOSED_GROUP)
    base = asked.base
    seed = base.scenario.seed
    plain_inputs = build_run_inputs(dataclasses.replace(base, tail=dataclasses.replace(
        base.tail, target=None, drivers="systematic")))
    simulate_plans(plain_inputs, seed, 0, 20)                        # compiled before timing
    t0 = time.perf_counter()
    ruined = (simulate_plans(plain_inputs, seed, 0, paths_plain)["solvency_gap"] > 0).any(axis=1)
    t_plain = time.perf_counter() - t0
    t0 = time.perf_counter()
    tilted, _ = tilted_set(asked, seed, "numba")
    t_pilot = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = simulate_plans(build_run_inputs(tilted.base), seed, 0, paths_is)
    t_is = time.perf_counter() - t0
    x, w = (out["solvency_gap"] > 0).any(axis=1).astype(float), out["weight"]
    p_plain = float(ruined.mean())
    se_plain = float(np.sqrt(p_plain * (1 - p_plain) / paths_plain))
    p_is, se_is = W.mean(x, w), W.mean_standard_error(x, w)
    n_plain = _needed(paths_plain, se_plain, p_plain)
    n_is = _needed(paths_is, se_is, p_is)
    return {"tail_ruin_probability_plain": p_plain, "tail_ruin_probability_is": p_is,
            "tail_ruin_paths_plain": n_plain, "tail_ruin_paths_is": n_is,
            "tail_ruin_variance_reduction": n_plain / n_is,
            "tail_ruin_seconds_ratio": (n_plain * t_plain / paths_plain)
            / (t_pilot + n_is * t_is / paths_is),
            "tail_ruin_pilot_seconds": t_pilot}


def measure_tail(context: Context) -> dict:
    """The ``tail`` measurement: 4,000 plain paths, the default pilot (the surrogate's 200
    paths), 40 runs of 250 (quick: 400, 100, 3 runs of 100)."""
    return tail_sampling(*context.size((4000, None, 40, 250), (400, 100, 3, 100)))


def measure_ruin(context: Context) -> dict:
    """The ``ruin`` measurement: 10^5 plain paths, 2,000 tilted (quick: 20,000 and 200)."""
    return tail_ruin(*context.size((100_000, 2000), (20_000, 200)))

"""The backtest of a fit (``mutualsim calibrate --until DATE``): forecasts of the figures
published after the fit's date, from the fitted parameter draws × paths each (under the
scenario's ``[tail]`` tilt, weighted, when it has one), against the figures as published.
Parameters come from figures up to the date only; later figures are for this test alone.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.run.plans import build_run_inputs
from engine.studies.calibrate import Fit, Model, parameter_draws, values_of
from engine.studies.observations import Observation
from engine.studies.profile_figures import detail_results, with_profile_detail
from engine.studies.verdicts import Verdict, inside, relative_error
from engine.variables import WEIGHT


@dataclass
class BacktestRow:
    observation: Observation
    quantiles: dict[float, float]
    effective_paths: float | None = None    # Kish's, when a [tail] tilt weighs the paths

    @property
    def median(self) -> float:
        return self.quantiles[0.5]

    @property
    def error(self) -> float:
        return relative_error(self.median, self.observation.value)

    @property
    def verdict(self) -> Verdict:
        """The forecast against the figure as every table reads it
        (:func:`engine.studies.verdicts.inside`)."""
        return Verdict(self.observation, self.median, self.quantiles[0.05],
                       self.quantiles[0.95])

    @property
    def in_50(self) -> bool:
        """The yardstick at 50 %: the forecast's quartiles widened by the figure's error."""
        o = self.observation
        return inside(o.value, o.sd_log, self.median, self.quantiles[0.25],
                      self.quantiles[0.75], level=0.5)

    @property
    def in_90(self) -> bool:
        """The one yardstick of every table: the forecast's 90 % interval widened by the
        figure's stated error (sd_log) in quadrature on the log scale."""
        return self.verdict.met


BACKTEST_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def forecast_values(fit_result: Fit, observations: list[Observation], scenario_path: Path,
                    draws: int, paths: int, seed: int
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """Model values of ``observations`` over ``draws`` parameter sets × ``paths`` paths each
    (parameter and process uncertainty together): ``(draws · paths, n_observations)``, and
    the paths' weights (None when no ``[tail]`` tilts them).

    A ``[tail]`` tilt (importance sampling) applies to every parameter draw: its likelihood
    ratios are of the drivers' standard draws, so one tilt, chosen by the pilot on the
    fitted parameters when ``[tail] target`` asks, serves every draw's own law."""
    from engine.run.plans import simulate_plans
    from engine.run.runner import chosen_tilt, scenario_with_tilt
    from engine.run.simulate import scenario_seeds

    model = Model(fit_result.base_raw, str(scenario_path), scenario_path.resolve().parent,
                  fit_result.parameters, observations)
    thetas = parameter_draws(fit_result, draws, seed) if draws else fit_result.theta[None]
    fitted = model.scenario(fit_result.theta)
    tilt = (chosen_tilt(fitted, seed, "numba", str(scenario_path))[0]
            if fitted.tail.target is not None else None)
    blocks, weights = [], []
    # each parameter draw on its own streams, as in the fitted set (independent paths)
    for theta, draw_seed in zip(thetas, scenario_seeds(seed, len(thetas), "independent"),
                                strict=True):
        scenario = model.scenario(theta)
        if tilt is not None:
            scenario = scenario_with_tilt(scenario, tilt)
        platform = build_run_inputs(scenario)
        if model.profiles:
            platform, bands = with_profile_detail(platform)
        out = simulate_plans(platform, draw_seed, 0, paths)
        if model.profiles:
            out |= detail_results(out, bands)
        blocks.append(values_of(observations, out, scenario, model.initial))
        weights.append(out[WEIGHT])
    w = np.concatenate(weights)
    return np.concatenate(blocks, axis=0), (None if np.all(w == 1.0) else w)


def backtest(fit_result: Fit, later: list[Observation], scenario_path: Path, draws: int,
             paths: int, seed: int) -> list[BacktestRow]:
    """Each later observation against the fitted forecast's quantiles (lower quantiles;
    weighted, self-normalised, when a ``[tail]`` tilts the paths)."""
    from engine.analysis import weighted as W

    if not later:
        return []
    values, w = forecast_values(fit_result, later, scenario_path, draws, paths, seed)
    q = W.quantile(values, list(BACKTEST_LEVELS), w, axis=0)
    return [BacktestRow(o, {lvl: float(q[i, j]) for i, lvl in enumerate(BACKTEST_LEVELS)},
                        None if w is None else W.effective_sample_size(w))
            for j, o in enumerate(later)]


def backtest_table(rows: list[BacktestRow], until: dt.date) -> str:
    """The later figures against the forecast; "in 90%" is the one yardstick of every
    table (:func:`engine.studies.verdicts.inside`), "in 50%" the same rule at 50 %."""
    lines = [f"backtest: fitted on observations to {until}; later observations against the "
             "forecast (parameter and process uncertainty)",
             f"{'row':>4} {'date':<12} {'metric':<26} {'observed':>12} {'median':>12} "
             f"{'error':>8} {'90% interval':>27} {'z':>6} {'in 50%':>7} {'in 90%':>7}"]
    for r in rows:
        o = r.observation
        lines.append(f"{o.row:>4} {o.date:<12} {o.label:<26} {o.value:>12,.6g} "
                     f"{r.median:>12,.6g} {r.error:>8.1%} {r.quantiles[0.05]:>12,.6g} – "
                     f"{r.quantiles[0.95]:<12,.6g} {r.verdict.z:>6.2f} "
                     f"{'yes' if r.in_50 else 'no':>7} {'yes' if r.in_90 else 'no':>7}")
    if rows:
        lines.append(f"inside the 50% interval: {sum(r.in_50 for r in rows)}/{len(rows)}; "
                     f"inside the 90% interval: {sum(r.in_90 for r in rows)}/{len(rows)} "
                     "(each widened by the figure's own stated error, sd_log, in quadrature "
                     "on the log scale: |z| ≤ 1.645 at 90%)")
        if rows[0].effective_paths is not None:
            lines.append("the forecast's paths are weighted (a [tail] tilt): quantiles of "
                         "the weighted paths, effective sample size "
                         f"{rows[0].effective_paths:,.0f}")
    return "\n".join(lines)

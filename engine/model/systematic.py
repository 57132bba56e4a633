"""Systematic incidence risk: one level ``Λ[p, t]`` per path and quarter (DESIGN §1 step 3).

Every cell, risk group and plan of a path is multiplied by the same ``Λ``, and the draws
are keyed by (seed, path, year or quarter) only, so the scenarios of a set share them
(common random numbers). It is the risk a pool of 100 million members cannot diversify.

Notes
-----
With ``y(t)`` the year of quarter ``t`` counted from the first projected calendar year and
``u = t / 4`` years since the start::

    z_0 = σ ε_0,   z_y = ρ z_{y−1} + σ √(1 − ρ²) ε_y        (ε ~ N(0, 1), stream INCIDENCE_LEVEL)
    level_y = exp(z_y − σ²/2)                               (log-normal AR(1), mean 1)
    trend_t = exp(τ u),  τ ~ N(0, trend_sd²)                (stream INCIDENCE_TREND)
    Λ_t = level_{y(t)} · trend_t · shock_t

``z`` is stationary: ``Var z_y = σ²`` and ``Corr(z_y, z_{y+k}) = ρ^k``. The trend error keeps
the median path on the stated trend (its mean is ``exp(trend_sd² u² / 2)``: 1.0003 after
five years at ``trend_sd = 0.005``).

Shock events: while none is in progress, one starts in a quarter with probability
``1 − (1 − p)^(1/4)`` (``p`` per year; stream INCIDENCE_SHOCK). It multiplies incidence by
``1 + size`` for ``quarters`` quarters, then by ``1 − size · catch_up`` for as many quarters
(the diagnoses it removed come back, as after the 2020 fall in diagnoses). No new event
starts during an event or its catch-up.

With every parameter at 0, ``Λ = 1`` exactly and no stream is read, so results equal an
engine without systematic risk, bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.random import samplers, streams


@dataclass(frozen=True)
class SystematicRisk:
    """The parameters of ``Λ`` (``[incidence]`` keys; module notes)."""

    level_sd: float = 0.0
    level_autocorrelation: float = 0.0
    trend_sd: float = 0.0
    shock_probability_per_year: float = 0.0
    shock_size: float = 0.0
    shock_quarters: int = 1
    shock_catch_up: float = 0.0

    @property
    def off(self) -> bool:
        return (self.level_sd == 0.0 and self.trend_sd == 0.0
                and (self.shock_probability_per_year == 0.0 or self.shock_size == 0.0))


def yearly_log_levels(risk: SystematicRisk, seed: int, paths: np.ndarray,
                      years: int) -> np.ndarray:
    """``z[p, y]``, the stationary AR(1) of the log level (module notes), ``(P, years)``."""
    sd, rho = risk.level_sd, risk.level_autocorrelation
    z = np.zeros((len(paths), years))
    if sd == 0.0:
        return z
    innovation_sd = sd * np.sqrt(1.0 - rho * rho)
    for y in range(years):
        eps = samplers.normal(streams.Stream(seed, y, streams.Kind.INCIDENCE_LEVEL), paths, 0)
        z[:, y] = sd * eps if y == 0 else rho * z[:, y - 1] + innovation_sd * eps
    return z


def shock_multipliers(risk: SystematicRisk, seed: int, paths: np.ndarray,
                      quarters: int) -> np.ndarray:
    """``shock_t`` per path and quarter (module notes), ``(P, T)``."""
    out = np.ones((len(paths), quarters))
    if risk.shock_probability_per_year == 0.0 or risk.shock_size == 0.0:
        return out
    start_q = 1.0 - (1.0 - risk.shock_probability_per_year) ** 0.25
    in_event = np.zeros(len(paths), dtype=np.int64)     # quarters of the event left
    in_catch_up = np.zeros(len(paths), dtype=np.int64)  # quarters of the catch-up left
    for t in range(quarters):
        u = samplers.uniform(streams.Stream(seed, t, streams.Kind.INCIDENCE_SHOCK), paths, 0)
        starts = (in_event == 0) & (in_catch_up == 0) & (u < start_q)
        in_event = np.where(starts, risk.shock_quarters, in_event)
        hit = in_event > 0
        back = ~hit & (in_catch_up > 0)
        out[hit, t] = 1.0 + risk.shock_size
        out[back, t] = 1.0 - risk.shock_size * risk.shock_catch_up
        in_catch_up = np.where(back, in_catch_up - 1, in_catch_up)
        ending = hit & (in_event == 1) & (risk.shock_catch_up > 0.0)
        in_catch_up = np.where(ending, risk.shock_quarters, in_catch_up)
        in_event = np.where(hit, in_event - 1, in_event)
    return out


def incidence_levels(risk: SystematicRisk, seed: int, paths: np.ndarray,
                     year_of_quarter: np.ndarray) -> np.ndarray:
    """``Λ[p, t]`` for the given global path indices (module notes); ones when off.

    ``year_of_quarter[t]`` is quarter ``t``'s calendar year less the first one.
    """
    T = len(year_of_quarter)
    paths = np.asarray(paths, dtype=np.int64)
    if risk.off:
        return np.ones((len(paths), T))
    z = yearly_log_levels(risk, seed, paths, int(year_of_quarter[-1]) + 1)
    level = np.exp(z - 0.5 * risk.level_sd ** 2)[:, year_of_quarter]
    if risk.trend_sd > 0.0:
        tau = risk.trend_sd * samplers.normal(
            streams.Stream(seed, 0, streams.Kind.INCIDENCE_TREND), paths, 0)
        level = level * np.exp(tau[:, None] * (np.arange(T) / 4.0)[None, :])
    return level * shock_multipliers(risk, seed, paths, T)

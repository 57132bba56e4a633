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

from engine.model.tilt import Tilt, bernoulli_log_weight, gamma_log_weight, shifted_normal
from engine.random import samplers, streams

NO_TILT = Tilt()


@dataclass(frozen=True)
class FixedDrivers:
    """Systematic drivers held at given values on every path (``[drivers]``: a reverse
    stress test's replay). A held draw is not random: it is not tilted and adds nothing to
    the path's likelihood ratio. Indices count from the run's first calendar year and first
    quarter."""

    level: tuple[tuple[int, float], ...] = ()      # (year index, ε_y)
    trend: float | None = None                     # ε_τ
    join: tuple[tuple[int, float], ...] = ()       # (quarter index, G_t)
    shock_starts: tuple[int, ...] | None = None    # quarters a shock starts; None: drawn

    def level_at(self, year: int) -> float | None:
        return dict(self.level).get(year)

    def join_at(self, quarter: int) -> float | None:
        return dict(self.join).get(quarter)


NOT_FIXED = FixedDrivers()


def held(draws: np.ndarray, log_w: np.ndarray, value: float | None
         ) -> tuple[np.ndarray, np.ndarray]:
    """The draws and their ``log w``, or ``value`` on every path and no weight."""
    if value is None:
        return draws, log_w
    return np.full_like(draws, value, dtype=np.float64), np.zeros_like(log_w)


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
                      years: int, tilt: Tilt = NO_TILT, drivers: dict | None = None,
                      year_starts: np.ndarray | None = None,
                      fixed: FixedDrivers = NOT_FIXED) -> tuple[np.ndarray, np.ndarray]:
    """``z[p, y]``, the stationary AR(1) of the log level (module notes), ``(P, years)``,
    and each path's ``log w`` of the tilted innovations (:mod:`engine.model.tilt`);
    ``drivers["level"]`` receives the innovations used, ``(P, years)``; ``year_starts[y]``
    is year ``y``'s first quarter (default ``4 y``), for a tilt of the first quarters only;
    ``fixed`` holds some years' innovations at given values."""
    sd, rho = risk.level_sd, risk.level_autocorrelation
    z = np.zeros((len(paths), years))
    log_w = np.zeros(len(paths))
    if sd == 0.0:
        return z, log_w
    innovation_sd = sd * np.sqrt(1.0 - rho * rho)
    for y in range(years):
        eps = samplers.normal(streams.Stream(seed, y, streams.Kind.INCIDENCE_LEVEL), paths, 0)
        first_quarter = 4 * y if year_starts is None else int(year_starts[y])
        eps, lw = held(*shifted_normal(eps, tilt.level_shift_at(y, first_quarter)),
                       fixed.level_at(y))
        log_w += lw
        if drivers is not None:
            drivers.setdefault("level", np.zeros((len(paths), years)))[:, y] = eps
        z[:, y] = ar_step(z, y, eps, sd, rho, innovation_sd)
    return z, log_w


def ar_step(z: np.ndarray, y: int, eps: np.ndarray, sd: float, rho: float,
            innovation_sd: float) -> np.ndarray:
    """Year ``y``'s log level from its innovation (module notes)."""
    return sd * eps if y == 0 else rho * z[:, y - 1] + innovation_sd * eps


def levels_given(risk: SystematicRisk, innovations: np.ndarray, trend: np.ndarray,
                 year_of_quarter: np.ndarray) -> np.ndarray:
    """``Λ[p, t]`` without shocks for given yearly innovations ``(P, years)`` and trend
    errors ``(P,)`` (the same arithmetic as :func:`incidence_levels`): each path's level
    given its drivers, for a reverse stress test's search (:mod:`engine.run.given`)."""
    sd, rho = risk.level_sd, risk.level_autocorrelation
    z = np.zeros(innovations.shape)
    if sd > 0.0:
        innovation_sd = sd * np.sqrt(1.0 - rho * rho)
        for y in range(innovations.shape[1]):
            z[:, y] = ar_step(z, y, innovations[:, y], sd, rho, innovation_sd)
    return trend_factor(risk, np.exp(z - 0.5 * sd ** 2)[:, year_of_quarter], trend)


def trend_factor(risk: SystematicRisk, level: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``level`` times each path's trend ``exp(τ u)`` (module notes)."""
    if risk.trend_sd <= 0.0:
        return level
    tau = risk.trend_sd * eps
    return level * np.exp(tau[:, None] * (np.arange(level.shape[1]) / 4.0)[None, :])


def shock_multipliers(risk: SystematicRisk, seed: int, paths: np.ndarray,
                      quarters: int, tilt: Tilt = NO_TILT, drivers: dict | None = None,
                      fixed: FixedDrivers = NOT_FIXED) -> tuple[np.ndarray, np.ndarray]:
    """``shock_t`` per path and quarter (module notes), ``(P, T)``, and each path's
    ``log w`` of the tilted start decisions; ``drivers["shock_start"]`` and
    ``["shock_eligible"]`` receive the decisions, ``(P, T)``; ``fixed.shock_starts``, if
    given, are the only quarters an event starts (where none is in progress)."""
    out = np.ones((len(paths), quarters))
    log_w = np.zeros(len(paths))
    if risk.shock_probability_per_year == 0.0 or risk.shock_size == 0.0:
        return out, log_w
    start_q = 1.0 - (1.0 - risk.shock_probability_per_year) ** 0.25
    in_event = np.zeros(len(paths), dtype=np.int64)     # quarters of the event left
    in_catch_up = np.zeros(len(paths), dtype=np.int64)  # quarters of the catch-up left
    for t in range(quarters):
        u = samplers.uniform(streams.Stream(seed, t, streams.Kind.INCIDENCE_SHOCK), paths, 0)
        drawn_q = tilt.shock_start_at(t, start_q)
        eligible = (in_event == 0) & (in_catch_up == 0)
        if fixed.shock_starts is None:
            starts = eligible & (u < drawn_q)
            log_w += bernoulli_log_weight(starts, eligible, start_q, drawn_q)
        else:
            starts = eligible & (t in fixed.shock_starts)
        if drivers is not None:
            drivers.setdefault("shock_start", np.zeros((len(paths), quarters), bool))[:, t] = \
                starts
            drivers.setdefault("shock_eligible",
                               np.zeros((len(paths), quarters), bool))[:, t] = eligible
        in_event = np.where(starts, risk.shock_quarters, in_event)
        hit = in_event > 0
        back = ~hit & (in_catch_up > 0)
        out[hit, t] = 1.0 + risk.shock_size
        out[back, t] = 1.0 - risk.shock_size * risk.shock_catch_up
        in_catch_up = np.where(back, in_catch_up - 1, in_catch_up)
        ending = hit & (in_event == 1) & (risk.shock_catch_up > 0.0)
        in_catch_up = np.where(ending, risk.shock_quarters, in_catch_up)
        in_event = np.where(hit, in_event - 1, in_event)
    return out, log_w


def incidence_levels(risk: SystematicRisk, seed: int, paths: np.ndarray,
                     year_of_quarter: np.ndarray, tilt: Tilt = NO_TILT,
                     drivers: dict | None = None, fixed: FixedDrivers = NOT_FIXED
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``Λ[p, t]`` for the given global path indices (module notes); ones when off; and
    each path's ``log w`` under ``tilt`` (zeros without one). ``drivers``, if given,
    receives each driver's values as used (``level``, ``trend``, ``shock_start``,
    ``shock_eligible``): for choosing a tilt (:mod:`engine.run.tail`) and for the results'
    ``driver_*`` variables. ``fixed`` holds drivers at given values (:class:`FixedDrivers`).

    ``year_of_quarter[t]`` is quarter ``t``'s calendar year less the first one.
    """
    T = len(year_of_quarter)
    paths = np.asarray(paths, dtype=np.int64)
    log_w = np.zeros(len(paths))
    if risk.off:
        return np.ones((len(paths), T)), log_w
    years = int(year_of_quarter[-1]) + 1
    z, lw = yearly_log_levels(risk, seed, paths, years, tilt, drivers,
                              np.searchsorted(year_of_quarter, np.arange(years)), fixed)
    log_w += lw
    level = np.exp(z - 0.5 * risk.level_sd ** 2)[:, year_of_quarter]
    if risk.trend_sd > 0.0:
        eps = samplers.normal(streams.Stream(seed, 0, streams.Kind.INCIDENCE_TREND), paths, 0)
        eps, lw = held(*shifted_normal(eps, tilt.trend_shift), fixed.trend)
        log_w += lw
        if drivers is not None:
            drivers["trend"] = eps
        level = trend_factor(risk, level, eps)
    shocks, lw = shock_multipliers(risk, seed, paths, T, tilt, drivers, fixed)
    return level * shocks, log_w + lw


# ------------------------------------------------------------------ the joins' over-dispersion

MAX_GAMMA_SHAPE = 1e12   # over-dispersion α < 1e-12 is no over-dispersion (join_multipliers)


def joins_drawn(dispersion: float) -> bool:
    """Whether :func:`join_multipliers` draws (False: the multipliers are ones)."""
    # α below 1e-12: the multiplier's s.d. √α is under 1e-6, so it is 1 (and 1/α may
    # not even be finite: a subnormal α makes it inf, which no sampler can draw)
    return dispersion > 0 and 1.0 / dispersion <= MAX_GAMMA_SHAPE


def join_multipliers(dispersion: float, quarters: int, tilt: Tilt, seed: int,
                     paths: np.ndarray, fixed: FixedDrivers = NOT_FIXED
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The joins' mixing multipliers ``G[p, t]`` ~ Gamma(1/α, scale α) (ones if α = 0) and
    each path's ``log w`` under ``tilt`` (:mod:`engine.model.tilt`).

    One draw per (path, quarter) from the ``JOIN_GAMMA`` stream, cell 0. Given ``G``, the
    joins of a quarter are Poisson with mean ``λ G``, so without a market cap their total
    is negative binomial with variance ``λ + α λ²``. Under a ``[tail]`` tilt the scale is
    ``m α`` (``tilt.join_mean_at(t)``). Like :func:`incidence_levels`, a systematic driver
    drawn per path and shared by every cell, plan and scenario of a set. ``fixed`` holds
    some quarters' multipliers at given values.
    """
    alpha = dispersion
    out = np.ones((len(paths), quarters))
    log_w = np.zeros(len(paths))
    if not joins_drawn(alpha):
        return out, log_w
    for t in range(quarters):
        mean = tilt.join_mean_at(t)
        draws = samplers.gamma(np.full(len(paths), 1.0 / alpha),
                               streams.Stream(seed, t, streams.Kind.JOIN_GAMMA), paths, 0)
        out[:, t] = draws * alpha if mean == 1.0 else draws * (mean * alpha)
        value = fixed.join_at(t)
        if value is None:
            log_w += gamma_log_weight(out[:, t], alpha, mean)
        else:
            out[:, t] = value       # held (FixedDrivers): not random, no weight
    return out, log_w

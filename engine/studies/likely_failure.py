"""The most likely way to fail: the systematic drivers nearest their medians (the model's
most likely values) for which the platform's expected path reaches an event (issue 28).

Every continuous driver that can move the event (the level's yearly innovations and the
trend error up to the event's end, the joins' multiplier of each quarter up to it, none held
by ``[drivers]``) is written as a standard normal score ``u``: the innovations and the trend
error are their own score, a join multiplier is ``G = F⁻¹(Φ(u))`` with ``F`` its
Gamma(1/α, α) law (Rosenblatt's transform). Under the model the scores are independent
N(0, 1), so a point's likelihood falls with ``|u|²`` (its squared Mahalanobis distance),
and the most likely drivers that bring the event about solve

    minimise ½ |u|²  subject to  m(u) ≥ 0,

with ``m(u)`` the event's margin (:mod:`engine.analysis.events`) on the expected path given
the drivers (every count at its mean, :mod:`engine.run.given`). It is the design point of
structural reliability (Hasofer & Lind 1974); its distance ``β = |u*|`` gives the
first-order estimate ``Φ(−β)`` of the event's probability (FORM), a scale to read beside the
simulated probability, not a substitute for it. Shock events, being discrete, are held at
none in the search (or as ``[drivers] shock_starts`` holds them). Solved by SLSQP (scipy)
with the constraint's gradient from forward differences, all evaluated in one batch of
expected paths.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from engine.analysis.events import Event
from engine.model.systematic import NO_TILT, levels_given, shock_multipliers
from engine.model.systematic import joins_drawn as _joins_drawn
from engine.run.given import paths_given_drivers
from engine.run.tail import pilot_inputs

STEP = 1e-4            # forward-difference step of the scores
MAX_ITERATIONS = 200
TOLERANCE = 1e-9       # SLSQP's on ½|u|²
FEASIBLE = -1e-6       # a margin (in units of its scale) this close to 0 counts as reached
MIN_ALIGNMENT = 0.99   # cosine of u* with the margin's gradient at a design point


@dataclass(frozen=True)
class Component:
    """One driver the search moves: its results variable, index and label."""

    driver: str
    index: int
    label: str


@dataclass
class LikelyFailure:
    """The search's answer (module notes)."""

    found: bool
    on_expected_path: bool        # the event happens with every driver at its median (u = 0)
    distance: float               # β = |u*|, standard deviations
    form_probability: float       # Φ(−β)
    components: list[Component]
    scores: np.ndarray            # u*
    values: np.ndarray            # the drivers' values: ε, or G
    margin: float                 # m(u*) in the event's units
    message: str
    levels: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))  # Λ_t at u*
    joins: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0))   # G_t at u*


class Search:
    """The drivers, their transforms and the expected path for one scenario and event."""

    def __init__(self, platform, event: Event):
        self.event = event
        self.platform = pilot_inputs(platform, event.stop)     # the event's quarters only
        first = self.platform.plans[0]
        self.first = first
        self.risk, self.fixed = first.systematic, first.fixed_drivers
        self.alpha = first.join_dispersion
        self.years = int(first.year_of_quarter[-1]) + 1
        self.components = self._components()

    def _components(self) -> list[Component]:
        first, risk, fixed = self.first, self.risk, self.fixed
        out = []
        first_year = int(first.quarter_labels[0][:4])
        if risk.level_sd > 0.0:
            out += [Component("driver_level_innovation", y, str(first_year + y))
                    for y in range(self.years) if fixed.level_at(y) is None]
        if risk.trend_sd > 0.0 and fixed.trend is None:
            out.append(Component("driver_trend", 0, ""))
        if _joins_drawn(self.alpha):
            out += [Component("driver_join_multiplier", t, first.quarter_labels[t])
                    for t in range(first.quarters) if fixed.join_at(t) is None]
        return out

    def drivers(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(Λ, G)``, ``(P, T)`` each, for scores ``u`` ``(P, d)``."""
        P, T = len(u), self.first.quarters
        eps = np.zeros((P, self.years))
        trend = np.zeros(P)
        joins = np.ones((P, T))
        for y, value in self.fixed.level:
            if y < self.years:
                eps[:, y] = value
        if self.fixed.trend is not None:
            trend[:] = self.fixed.trend
        for t, value in self.fixed.join:
            if t < T:
                joins[:, t] = value
        for j, c in enumerate(self.components):
            if c.driver == "driver_level_innovation":
                eps[:, c.index] = u[:, j]
            elif c.driver == "driver_trend":
                trend = u[:, j].copy()
            else:
                joins[:, c.index] = self.join_value(u[:, j])
        levels = levels_given(self.risk, eps, trend, self.first.year_of_quarter)
        if self.fixed.shock_starts is not None:
            shocks, _ = shock_multipliers(self.risk, 0, np.arange(1), T, NO_TILT, None,
                                          self.fixed)
            levels = levels * shocks
        return levels, joins

    def join_value(self, u: np.ndarray) -> np.ndarray:
        return join_value(u, self.alpha)

    def values(self, u: np.ndarray) -> np.ndarray:
        return values_of(self.components, u, self.alpha)

    def margins(self, u: np.ndarray) -> np.ndarray:
        """The event's margin on each row's expected path ``(P,)`` (for ruin,
        :func:`ruin_margin`)."""
        levels, joins = self.drivers(np.atleast_2d(u))
        values = paths_given_drivers(self.platform, joins, levels)
        if self.event.kind == "ruin":
            return ruin_margin(values, self.event, self.first)
        return self.event.margin(values)


def ruin_margin(values: dict[str, np.ndarray], event: Event, plan) -> np.ndarray:
    """A margin of ruin that moves before ruin: per quarter the solvency gap where there is
    one, else ``−R_t − H_t``, the reserve and the headroom the caps leave
    ``H_t = S_t (a_t − c*_t)⁺`` (yuan: sharers times the allowance per sharer less the
    required cost, :mod:`engine.model.sharing`), whose largest value over the event's
    quarters is positive exactly when the path is ruined. The events' own ruin margin
    (the largest gap, or minus the smallest reserve) is flat at 0 for a plan without a
    reserve until the cap binds, which gives a search no direction. Quarters without sharers
    are left out (nothing is capped there). The allowance uses the
    platform's first plan's caps and the cost per member charged so far in the calendar
    year (an average over sharers where sharing is age-rated: a guide for the search; the
    event itself is the gap's)."""
    stop = event.stop
    gap = np.asarray(values["solvency_gap"], dtype=float)[:, :stop]
    reserve = np.asarray(values["reserve"], dtype=float)[:, :stop]
    sharers = np.asarray(values["sharers"], dtype=float)[:, :stop]
    required = np.asarray(values["required_cost_per_member"], dtype=float)[:, :stop]
    charged = np.asarray(values["cost_per_member"], dtype=float)[:, :stop] - plan.loading_yuan_q
    paid = np.zeros_like(charged)            # paid earlier in the calendar year
    for t in range(1, stop):
        paid[:, t] = 0.0 if plan.year_starts[t] else paid[:, t - 1] + charged[:, t - 1]
    allowance = np.minimum(plan.cap_per_quarter_yuan, plan.cap_per_year_yuan - paid)
    headroom = np.where(np.isfinite(allowance),
                        sharers * np.maximum(allowance - required, 0.0), 0.0)
    # a quarter nobody shares (the first quarter's joiners wait) has no cost to cap: it
    # says nothing of how near ruin is, and its 0 would read as "at the boundary"
    near = np.where(sharers > 0, -reserve - headroom, -np.inf)
    return np.where(gap > 0, gap, near).max(axis=1)


def join_value(u: np.ndarray, alpha: float) -> np.ndarray:
    """``G = F⁻¹(Φ(u))``, F the Gamma(1/α, α) law (module notes), through the upper tail's
    inverse for ``u > 0`` so that a large score keeps its precision (``Φ(u)`` rounds to 1
    past 8 s.d.)."""
    u = np.asarray(u, dtype=float)
    return np.where(u > 0, stats.gamma.isf(stats.norm.sf(u), a=1.0 / alpha, scale=alpha),
                    stats.gamma.ppf(stats.norm.cdf(u), a=1.0 / alpha, scale=alpha))


def values_of(components: list[Component], u: np.ndarray, alpha: float) -> np.ndarray:
    """Each component's driver value at scores ``u`` ``(d,)``: ``ε`` itself, or ``G``."""
    return np.array([join_value(np.array([x]), alpha)[0]
                     if c.driver == "driver_join_multiplier" else x
                     for c, x in zip(components, u, strict=True)])


def design_point(margins, d: int, start: np.ndarray | None = None
                 ) -> tuple[np.ndarray, float, bool, str]:
    """``min ½|u|² subject to margins(u) ≥ 0`` over ``d`` scores (module notes), where
    ``margins`` maps rows of scores ``(P, d)`` to margins ``(P,)``; searched from ``start``
    (default 0). Returns ``(u*, margin at u*, whether it is reached, the solver's word)``;
    at 0 when the event already holds there."""
    at_zero = float(margins(np.zeros((1, d)))[0])
    if not np.isfinite(at_zero):
        return np.zeros(d), at_zero, False, "the event's margin is not finite on the " \
            "expected path (no quarter to measure it in)"
    if at_zero > 0 or d == 0:
        return np.zeros(d), at_zero, at_zero > 0, (
            "the event happens on the expected path with every driver at its median"
            if at_zero > 0 else "no driver can move the event and it does not happen on the "
            "expected path with every driver at its median")
    scale = max(abs(at_zero), 1.0)
    cache: dict[bytes, tuple[float, np.ndarray]] = {}

    def evaluate(u):
        key = np.asarray(u, dtype=float).tobytes()
        if key not in cache:
            rows = np.vstack([u, u + STEP * np.eye(d)])
            # a margin that is not finite (a probe far out) reads as far from the event
            m = np.nan_to_num(margins(rows) / scale, nan=-1e6, posinf=1e6, neginf=-1e6)
            cache[key] = (float(m[0]), (m[1:] - m[0]) / STEP)
        return cache[key]

    u0 = np.zeros(d) if start is None else np.asarray(start, dtype=float)
    result = optimize.minimize(
        lambda u: 0.5 * float(u @ u), u0, jac=lambda u: u, method="SLSQP",
        constraints=[{"type": "ineq", "fun": lambda u: evaluate(u)[0],
                      "jac": lambda u: evaluate(u)[1]}],
        options={"maxiter": MAX_ITERATIONS, "ftol": TOLERANCE})
    u = np.asarray(result.x, dtype=float)
    margin = float(margins(u[None, :])[0])
    reached = bool(np.isfinite(margin) and margin / scale >= FEASIBLE)
    # a design point (a local one: the margin is a maximum over quarters, so not smooth
    # everywhere, and the search starts once) is where u is parallel to the margin's
    # gradient (the Lagrange condition)
    gradient = evaluate(u)[1]
    alignment = float(u @ gradient / (np.linalg.norm(u) * np.linalg.norm(gradient))) \
        if np.any(u) and np.any(gradient) else 0.0
    found = reached and bool(result.success) and alignment > MIN_ALIGNMENT
    if found:
        return u, margin, True, f"{result.message} (alignment with the gradient " \
            f"{alignment:.4f})"
    why = ("the event is not reached" if not reached else
           f"the solver did not converge ({result.message})" if not result.success else
           f"the point is not a design point (alignment with the gradient {alignment:.3f})")
    return u, margin, False, why


def most_likely_failure(platform, event: Event, start: np.ndarray | None = None
                        ) -> LikelyFailure:
    """The design point (module notes) for ``event`` on ``platform``
    (:class:`engine.run.plans.PlatformInputs`), searched from the scores ``start`` (default:
    the expected drivers, 0)."""
    search = Search(platform, event)
    u, margin, found, message = design_point(search.margins, len(search.components), start)
    on_expected = found and not np.any(u)
    return _answer(search, u, margin, found, on_expected, message)


def _answer(search: Search, u: np.ndarray, margin: float, found: bool, expected: bool,
            message: str) -> LikelyFailure:
    beta = float(np.linalg.norm(u))
    levels, joins = search.drivers(u[None, :])
    return LikelyFailure(found, expected, beta, float(stats.norm.sf(beta)),
                         search.components, u, search.values(u), margin, message,
                         levels[0], joins[0])


REPLAY_ROOM = 0.05     # the replay's expected margin, as a share of the margin's scale


def replay_scores(platform, event: Event, failure: LikelyFailure,
                  factors=(1.05, 1.1, 1.2, 1.3, 1.5, 2.0)
                  ) -> tuple[np.ndarray, float, float, bool]:
    """Scores beyond the design point, ``k u*``, with the smallest ``k`` of ``factors``
    whose expected path has the event with room to spare (a margin above
    :data:`REPLAY_ROOM` of its scale, the margin with every driver at its median), so that
    a simulated run of them, whose counts scatter about the expected path, has the event on
    most paths: ``(k u*, k, margin, whether the room was reached)`` (the largest ``k``
    where none reaches it)."""
    search = Search(platform, event)
    scale = max(abs(float(search.margins(np.zeros((1, len(failure.scores))))[0])), 1.0)
    rows = np.vstack([k * failure.scores for k in factors])
    margins = search.margins(rows)
    for k, row, m in zip(factors, rows, margins, strict=True):
        if m / scale > REPLAY_ROOM:
            return row, k, float(m), True
    return rows[-1], factors[-1], float(margins[-1]), False

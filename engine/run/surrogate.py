"""The pilot's surrogate: a linear model of the target in the systematic drivers, fitted on
the pilot's paths, on which cross-entropy then finds the tilt.

``tail.pilot_stop = "surrogate"`` (the default for a shortfall target of the systematic
drivers from engine 0.13.0). The elite of a pilot (its top 10 %) wastes nine paths in ten
and estimates some twenty tilts from the rest; its noise is what made a small pilot choose
badly (``docs/tail_sampling.md``). Here every pilot path serves:

1. The pilot's paths (each the expected path given its drivers, :mod:`engine.model.mean_path`)
   are drawn with shocks more frequent than the model's (:data:`DESIGN_SHOCK_PER_YEAR`: a
   design, not an estimate, so that each quarter's shock is seen often enough to measure
   what it does; the fit needs no weights).
2. Least squares fits the target ``x ≈ a + Σ_j b_j z_j`` over the standardised drivers
   (:func:`features`): each year's level innovation ``ε_y``, the trend error ``ε_τ``, each
   quarter's join multiplier as ``(G_t − 1)/√α``, and each quarter's shock start (0 or 1).
   A coefficient within :data:`SCREEN_T` standard errors of 0 is set to 0: that driver is
   not shown to move this target, and tilting it would only add to the weights' variance.
3. Cross-entropy (Rubinstein & Kroese 2004, §3) runs on the surrogate ``x̂`` over
   :data:`SURROGATE_PATHS` draws of the drivers from the model's own streams under the
   current tilt (path indices from :data:`SURROGATE_FIRST_PATH`, beyond any pilot path), with
   the exact updates of :func:`engine.run.tail.update` (normal means, gamma means, a start
   chance per quarter), rounds until the elite is the target's own tail. The drivers cost
   microseconds a path and the surrogate nothing, so the rounds are free; the pilot's cost
   is its paths.

For a shortfall that is linear in normal drivers the surrogate is exact and the tilt is the
cross-entropy tilt (a shift of ``λ(z_α)`` along the gradient); where it is not, the weights
still make every estimate exact and only the variance reduction depends on the fit (the
record keeps its ``r_squared``; measured in ``make bench``, ``tail``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.model.systematic import incidence_levels, join_multipliers

# Judgement, all: the design's shocks (about one start in six quarters: each quarter's is
# seen some 20 times in 200 paths); the screen (a coefficient not distinguishable from 0 at
# about the 5 % level is dropped; with some 40 terms about two useless ones pass); draws a
# round (their elite's means then carry an error of about 1 % of a standard deviation) and
# rounds at most (two or three reach the tail of the default scenario; past the last the
# last tilt is used and the record says reached_target false).
DESIGN_SHOCK_PER_YEAR = 0.6
SCREEN_T = 2.0
SURROGATE_PATHS = 20_000
SURROGATE_FIRST_PATH = 2**40    # the draws' path indices: beyond any pilot's
SURROGATE_ROUNDS = 8


@dataclasses.dataclass(frozen=True)
class Surrogate:
    """``x̂ = intercept + features(drivers) @ coefficients`` (module notes, step 2)."""

    intercept: float
    coefficients: np.ndarray
    r_squared: float
    kept: int                   # coefficients not screened out

    def predict(self, drivers: dict, first, quarters: int) -> np.ndarray:
        return self.intercept + features(drivers, first, quarters) @ self.coefficients


def design_tilt(tilt, first):
    """The tilt the pilot's paths are drawn under: ``tilt`` with shocks at
    :data:`DESIGN_SHOCK_PER_YEAR` (or the model's chance, if higher) where the model has
    them."""
    risk = first.systematic
    if risk.shock_probability_per_year == 0.0 or risk.shock_size == 0.0:
        return tilt
    return dataclasses.replace(tilt, shock_probability_per_year=max(
        DESIGN_SHOCK_PER_YEAR, risk.shock_probability_per_year))


def features(drivers: dict, first, quarters: int) -> np.ndarray:
    """The standardised drivers of each path, ``(P, J)`` (module notes, step 2), for the
    target's first ``quarters`` quarters: level innovations of the calendar years they
    touch, the trend error, join multipliers, shock starts (the columns the model draws)."""
    years = int(first.year_of_quarter[quarters - 1]) + 1
    columns = []
    if "level" in drivers:
        columns.append(drivers["level"][:, :years])
    if "trend" in drivers:
        columns.append(drivers["trend"][:, None])
    if "join" in drivers and first.join_dispersion >= 1e-12:
        columns.append((drivers["join"][:, :quarters] - 1.0) / np.sqrt(first.join_dispersion))
    if "shock_start" in drivers:
        columns.append(drivers["shock_start"][:, :quarters].astype(np.float64))
    return np.column_stack(columns) if columns else np.zeros((len(next(iter(drivers.values()))), 0))


def fit(x: np.ndarray, z: np.ndarray) -> Surrogate:
    """Least squares of ``x`` on ``[1, z]``, coefficients within :data:`SCREEN_T` s.e. of
    0 (or of a column that does not vary) set to 0."""
    n, j = z.shape
    a = np.column_stack([np.ones(n), z])
    gram_inv = np.linalg.pinv(a.T @ a)
    coef = gram_inv @ (a.T @ x)
    resid = x - a @ coef
    dof = max(n - np.linalg.matrix_rank(a), 1)
    se = np.sqrt(np.maximum(np.diag(gram_inv), 0.0) * (resid @ resid) / dof)
    varies = z.std(axis=0) > 0.0
    keep = varies & (np.abs(coef[1:]) > SCREEN_T * se[1:])
    kept = np.where(keep, coef[1:], 0.0)
    # R² of the screened surrogate as it is used (in sample, on the design's draws)
    used = x - coef[0] - z @ kept
    centred = x - x.mean()
    r2 = 1.0 - float(used @ used) / float(centred @ centred) if centred @ centred > 0 else 0.0
    return Surrogate(float(coef[0]), kept, r2, int(keep.sum()))


def drivers_with_weights(first, seed: int, paths: np.ndarray) -> tuple[dict, np.ndarray]:
    """The systematic drivers of ``paths`` under the tilt of ``first`` (a platform's first
    plan's inputs: its drivers are drawn alike in every plan) and each path's likelihood
    ratio."""
    drivers: dict[str, np.ndarray] = {}
    _, log_w = incidence_levels(first.systematic, seed if first.systematic_seed is None
                                else first.systematic_seed, paths, first.year_of_quarter,
                                first.tilt, drivers, first.fixed_drivers)
    joins, log_w_joins = join_multipliers(first.join_dispersion, first.quarters, first.tilt,
                                          seed, paths, first.fixed_drivers)
    drivers["join"] = joins
    return drivers, np.exp(log_w + log_w_joins)

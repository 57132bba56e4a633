"""Importance sampling of the systematic drivers: tilted laws and each path's likelihood ratio.

The tail of a platform's shortfall and ruin is driven by a few per-path variables whose laws
are known (:mod:`engine.model.systematic`, the joins' multipliers of
:func:`engine.model.systematic.join_multipliers`). A run with a ``[tail]`` table draws them from
a tilted law ``g`` instead of the model's ``f`` and stores each path's likelihood ratio
``w = f / g`` (the product over its drivers) as the ``weight`` variable; every weighted
estimator (:mod:`engine.analysis.weighted`) then estimates the model's quantities without
bias (Glasserman, Heidelberger & Shahabuddin 2000: tilt the common factors).

Each tilted draw is the model's keyed draw transformed, so a tilt reads the same streams
(common random numbers hold across scenarios with and without a tilt), and a zero tilt is
the plain run bit for bit (every transformation is then the identity and ``w = 1``).

Notes
-----
* Yearly level innovations ``ε_y ~ N(0, 1)`` and the trend's ``ε_τ ~ N(0, 1)``: the tilted
  draw is ``ε + μ`` (mean shift ``μ``), ``log w = −μ (ε + μ) + μ²/2`` per draw.
* Shock starts: in a quarter where an event may start, the model starts one with
  probability ``q``; the tilted law with ``q'``: ``w = q/q'`` for a start, ``(1 − q)/(1 − q')``
  otherwise.
* Join multipliers ``G ~ Gamma(k = 1/α, θ = α)`` (mean 1): the tilted law is
  ``Gamma(k, m α)`` with mean ``m`` (an exponential tilt), drawn as the same ``Gamma(k, 1)``
  variate times ``m α``; ``log w = k log m − G (m − 1) / (m α)`` per draw.
* Claim counts (``claim_tilt = θ``, per 100,000 yuan of aid; Glasserman & Li 2005's second
  step, for pools whose tail is the count of claims rather than a common factor): each
  cell's diagnoses that would be claims, ``K ~ Binomial(n, p)``, are drawn from the
  exponentially tilted ``Binomial(n, p')``, ``p' = p e^{θ_c} / (1 − p + p e^{θ_c})`` with
  ``θ_c = θ b_c`` and ``b_c`` the cell's benefit that quarter in units of 100,000 yuan (the
  Esscher transform of the aid, cell by cell); ``log w = −θ_c K + n log(1 − p + p e^{θ_c})``
  per cell (:func:`claim_tilted_probability`). Diagnoses in the waiting period, and in the
  quarter it ends, are not tilted (they are not, or only half, claims).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba.extending import register_jitable


@dataclass(frozen=True)
class Tilt:
    """The ``[tail]`` tilt of the systematic drivers (module notes); the default is none."""

    # A number for every year (quarter), or one per year (quarter) from the pilot: the
    # tail's drivers differ by period (early joins matter most to a later year's shortfall)
    level_shift: float | tuple[float, ...] = 0.0
    trend_shift: float = 0.0
    # a chance per year (stated as 1 − (1 − q)⁴ of the quarter's start chance q), or one per
    # quarter from the pilot's surrogate (engine.run.surrogate): a shock's quarter decides
    # whether it cuts the target's claims or moves them into it
    shock_probability_per_year: float | tuple[float, ...] | None = None
    join_multiplier_mean: float | tuple[float, ...] = 1.0
    # Tilt only the draws of the first ``quarters`` quarters (the years they start): draws
    # after the target's period cannot move it, and tilting them only adds to the weights'
    # variance. None: the whole run.
    quarters: int | None = None
    # Esscher parameter θ of the claim counts per 100,000 yuan of aid (module notes); None:
    # claims are not tilted (0.0: tilted by nothing, but the pilot's statistics are kept)
    claim_tilt: float | None = None
    # claims are tilted from this quarter to ``quarters`` (the target's period: earlier
    # claims hardly move a later year's shortfall)
    claim_first_quarter: int = 0

    def applies(self, quarter: int) -> bool:
        return self.quarters is None or quarter < self.quarters

    def level_shift_at(self, year: int, first_quarter: int) -> float:
        """The shift of year ``year``'s innovation (0 past the tilted quarters)."""
        if not self.applies(first_quarter):
            return 0.0
        x = self.level_shift
        return float(x[min(year, len(x) - 1)]) if isinstance(x, tuple) else x

    def join_mean_at(self, quarter: int) -> float:
        """The tilted mean of quarter ``quarter``'s join multiplier (1 past the tilted
        quarters)."""
        if not self.applies(quarter):
            return 1.0
        x = self.join_multiplier_mean
        return float(x[min(quarter, len(x) - 1)]) if isinstance(x, tuple) else x

    def shock_start_at(self, quarter: int, model_q: float) -> float:
        """Quarter ``quarter``'s chance that a shock starts (where one may), under the tilt;
        ``model_q``, the model's, past the tilted quarters or without a shock tilt."""
        x = self.shock_probability_per_year
        if x is None or not self.applies(quarter):
            return model_q
        per_year = float(x[min(quarter, len(x) - 1)]) if isinstance(x, tuple) else x
        return 1.0 - (1.0 - per_year) ** 0.25

    def claims_tilted_at(self, quarter: int) -> bool:
        """Whether quarter ``quarter``'s claim counts are drawn tilted."""
        return self.claim_tilt is not None and self.claim_first_quarter <= quarter and \
            self.applies(quarter)

    @classmethod
    def of(cls, tail) -> Tilt:
        """The tilt of a scenario's ``[tail]`` table, limited to its target's period."""
        quarters = None
        first = 0
        if tail.target == "shortfall":
            quarters = 4 * tail.year
            first = 4 * (tail.year - 1)
        elif tail.target == "ruin":
            quarters = tail.horizon_quarters
        claim_tilt = tail.claim_tilt
        if claim_tilt is None and tail.target is not None and tail.drivers != "systematic":
            claim_tilt = 0.0        # the pilot starts from the model's claim counts
        return cls(tail.level_shift, tail.trend_shift, tail.shock_probability_per_year,
                   tail.join_multiplier_mean, quarters, claim_tilt, first)

    @property
    def none(self) -> bool:
        return (self.level_shift == 0.0 and self.trend_shift == 0.0
                and self.shock_probability_per_year is None
                and self.join_multiplier_mean == 1.0 and self.claim_tilt is None)


CLAIM_TILT_UNIT_YUAN = 100000.0   # θ is per 100,000 yuan: a typical benefit is 1-3 units
# what a run with tilted claims returns per path (engine.run.simulate): the claims'
# log-likelihood ratio and the cross-entropy statistics of engine.run.tail
CLAIM_STATS = ("log_weight", "tilted_aid", "tilted_mean_aid", "tilted_aid_variance")
CLAIM_STATS_KEY = "claim_tilt_stats"   # its key in a run's outputs, (P, len(CLAIM_STATS))


@register_jitable
def claim_tilted_probability(p, exp_theta_c):
    """``(p', 1 − p + p e^{θ_c})``: a cell's tilted claim probability and the normaliser
    whose log enters ``log w`` (module notes). Plain arithmetic, so numpy (arrays) and
    numba (scalars) give the same bits; ``exp_theta_c`` is the C library's ``exp(θ_c)``.
    Callers skip it when ``θ = 0`` (the plain draw, bit for bit)."""
    norm = 1.0 - p + p * exp_theta_c
    return p * exp_theta_c / norm, norm


def shifted_normal(eps: np.ndarray, shift: float) -> tuple[np.ndarray, np.ndarray]:
    """The tilted draws ``ε + μ`` and their ``log w`` (module notes)."""
    if shift == 0.0:
        return eps, np.zeros_like(eps)
    drawn = eps + shift
    return drawn, -shift * drawn + 0.5 * shift * shift


def bernoulli_log_weight(started: np.ndarray, eligible: np.ndarray, q: float,
                         q_tilted: float) -> np.ndarray:
    """``log w`` of a start decision drawn with ``q'`` for a law with ``q``; 0 where no
    event could start."""
    out = np.zeros(started.shape)
    if q_tilted == q:
        return out
    out[eligible & started] = np.log(q / q_tilted)
    out[eligible & ~started] = np.log((1.0 - q) / (1.0 - q_tilted))
    return out


def gamma_log_weight(drawn: np.ndarray, alpha: float, mean: float) -> np.ndarray:
    """``log w`` of multipliers drawn from ``Gamma(1/α, m α)`` for the law ``Gamma(1/α, α)``."""
    if mean == 1.0:
        return np.zeros_like(drawn)
    return np.log(mean) / alpha - drawn * (mean - 1.0) / (mean * alpha)

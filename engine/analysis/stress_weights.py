"""Reverse sensitivity by reweighting: the path weights of least Kullback–Leibler divergence
from the file's own that meet a stress on one output (Pesenti, Millossovich & Tsanakas,
*Reverse sensitivity testing: what does it take to break the model?*, EJOR 274, 2019; the R
package SWIM).

With ``n`` paths, base probabilities ``p_i = w_i / Σ w`` (``w`` the file's weights, 1 in a
plain run) and an output ``y``, the stressed probabilities ``q`` minimise
``KL(q ‖ p) = Σ q_i log(q_i / p_i)`` subject to the stress:

* a **mean**, ``Σ q y = m``: ``q_i ∝ p_i e^{θ y_i}`` (an exponential tilt), ``θ`` the root
  of ``Σ q(θ) y = m`` (for a normal output ``θ = (m − μ) / σ²``);
* a **probability**, ``Q(y > t) = α``: ``q_i = p_i α / P(y > t)`` above ``t``, ``p_i (1 − α) /
  P(y ≤ t)`` below (piecewise constant);
* a **VaR** at level ``a``, ``VaR_Q = v``: ``q_i = p_i a / P(y ≤ v)`` where ``y ≤ v``, ``p_i
  (1 − a) / P(y > v)`` above (piecewise constant: SWIM's ``stress_VaR``); ``v`` is a path's
  value (the smallest at or above the asked one), so that the lower empirical quantile of
  :mod:`engine.analysis.weighted` under ``q`` is ``v`` exactly;
* a **TVaR** at level ``a`` with the VaR ``v`` kept: the mass ``a`` below ``v`` as for VaR,
  and above it ``q_i ∝ p_i e^{θ y_i}`` with mass ``1 − a``, ``θ`` the root of
  ``v + E_q[y − v | y > v] = TVaR target`` (SWIM's ``stress_VaR_ES``).

The stressed weights are ``n q_i`` (they average 1, as a plain run's do), so every weighted
estimator of the summary reads the stressed model from them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from engine.analysis import weighted as W
from engine.errors import OptionError

STATISTICS = ("mean", "P", "VaR", "TVaR")
THETA_BRACKET = 60.0      # |θ| in units of 1 / sd(y): far past any stress a tilt can meet


class StressError(OptionError):
    """A stress the paths cannot meet or the file cannot estimate."""

    def __init__(self, what: str, got: object):
        super().__init__(what, got, "--stress")


@dataclass(frozen=True)
class Stressed:
    weights: np.ndarray      # n q: the stressed weights, averaging 1
    base: float              # the statistic under the file's weights
    target: float            # as asked
    achieved: float          # under the stressed weights
    theta: float | None      # the exponential tilt's parameter, where there is one


def _probabilities(w: np.ndarray) -> np.ndarray:
    return w / w.sum()


def _tilt(y: np.ndarray, p: np.ndarray, mask: np.ndarray, target: float) -> tuple:
    """``q ∝ p e^{θ y}`` on ``mask`` with ``Σ q y / Σ q = target`` there: ``(q, θ)``."""
    ym, pm = y[mask], p[mask]
    centre, scale = float(np.sum(pm * ym) / pm.sum()), float(np.std(ym)) or 1.0

    def mean_at(theta):
        z = theta * (ym - centre) / scale
        e = pm * np.exp(z - z.max())
        return float(np.sum(e * ym) / e.sum()) - target

    if not ym.min() < target < ym.max():
        raise StressError("the stressed value is beyond the paths' range "
                          f"({ym.min():.6g} to {ym.max():.6g})", target)
    if mean_at(-THETA_BRACKET) > 0 or mean_at(THETA_BRACKET) < 0:
        raise StressError("the stress needs a tilt beyond what these paths can carry (the "
                          "target sits among the few extreme paths): run more paths", target)
    theta_std = optimize.brentq(mean_at, -THETA_BRACKET, THETA_BRACKET, xtol=1e-14,
                                rtol=1e-14, maxiter=500)
    z = theta_std * (ym - centre) / scale
    q = np.zeros_like(p)
    q[mask] = pm * np.exp(z - z.max())
    return q / q.sum(), theta_std / scale


def stress_mean(y, w, target: float) -> Stressed:
    y, w = np.asarray(y, float), np.asarray(w, float)
    p = _probabilities(w)
    q, theta = _tilt(y, p, np.ones(len(y), bool), target)
    return _done(q, float(p @ y), target, float(q @ y), theta)


def stress_probability(y, w, threshold: float, target: float) -> Stressed:
    y, w = np.asarray(y, float), np.asarray(w, float)
    p = _probabilities(w)
    above = y > threshold
    p_above = float(p[above].sum())
    if not 0.0 < target < 1.0:
        raise StressError("a probability must be in (0, 1)", target)
    if p_above in (0.0, 1.0):
        raise StressError("no path (or every path) is above the threshold: no reweighting "
                          "can move the probability", threshold)
    q = np.where(above, p * target / p_above, p * (1 - target) / (1 - p_above))
    return _done(q, p_above, target, float(q[above].sum()), None)


def _at_path_value(y: np.ndarray, target: float) -> float:
    """The smallest path value at or above ``target``."""
    candidates = y[y >= target]
    if candidates.size == 0 or candidates.min() >= y.max():
        raise StressError("the stressed VaR is at or beyond the largest path "
                          f"({y.max():.6g}): no reweighting of these paths reaches it", target)
    return float(candidates.min())


def stress_var(y, w, level: float, target: float) -> Stressed:
    y, w = np.asarray(y, float), np.asarray(w, float)
    p = _probabilities(w)
    v = _at_path_value(y, target)
    below = y <= v
    p_below = float(p[below].sum())
    q = np.where(below, p * level / p_below, p * (1 - level) / (1 - p_below))
    n = len(y)
    return _done(q, W.var(y, level, w * n / w.sum()), v, W.var(y, level, n * q), None)


def stress_tvar(y, w, level: float, target: float) -> Stressed:
    y, w = np.asarray(y, float), np.asarray(w, float)
    n = len(y)
    p = _probabilities(w)
    base_w = w * n / w.sum()
    v = W.var(y, level, base_w)
    below = y <= v
    p_below = float(p[below].sum())
    if p_below >= 1.0:
        raise StressError("no path lies above the VaR: the TVaR cannot be moved", target)
    # the tail mean above v that gives the target TVaR with Q(y ≤ v) = level
    tail, theta = _tilt(y, p, ~below, target)
    q = np.where(below, p * level / p_below, tail * (1 - level))
    return _done(q, W.tvar(y, level, base_w), target, W.tvar(y, level, n * q), theta)


def _done(q: np.ndarray, base: float, target: float, achieved: float, theta) -> Stressed:
    return Stressed(len(q) * q / q.sum(), base, target, achieved, theta)


def kl_divergence(weights: np.ndarray, base: np.ndarray) -> float:
    """``KL(q ‖ p)`` of the stressed weights from the base (nats)."""
    q, p = _probabilities(np.asarray(weights, float)), _probabilities(np.asarray(base, float))
    on = q > 0
    return float(np.sum(q[on] * np.log(q[on] / p[on])))

"""Estimators over weighted paths (importance sampling), with their standard errors.

A path drawn from a tilted law ``g`` instead of the model's ``f`` carries its likelihood
ratio ``w = f / g`` (1 for a plain run). With ``n`` paths ``(x_i, w_i)``:

* mean: ``μ̂ = Σ w_i x_i / n``, unbiased; s.e. ``sd(w x) / √n``;
* tail probability: ``p̂(t) = Σ w_i 1{x_i > t} / n``, unbiased; s.e. ``sd(w 1{x > t}) / √n``;
* VaR at level α: the smallest sample value ``t`` with ``p̂(t) ≤ 1 − α`` — the tail is
  estimated from the tilted paths, which is where they are (Glasserman, *Monte Carlo Methods
  in Financial Engineering*, §9.2.2); with unit weights this is the lower empirical
  quantile ``inf{x : F_n(x) ≥ α}`` of :mod:`engine.analysis.metrics`, exactly;
* TVaR: ``VaR + Σ w_i (x_i − VaR)⁺ / (n (1 − α))``;
* effective sample size (Kish): ``(Σ w)² / Σ w²`` (``n`` for unit weights).

Standard errors of VaR and TVaR come from batch means: the paths are cut, in path order,
into ``B`` batches, each batch gives its own estimate, and ``s.e. = sd(batch estimates)
/ √B`` (Glasserman §9.2.3 / Asmussen & Glynn, *Stochastic Simulation*, III.5). Under common
random numbers the scenarios of a set share path ``p``; batching by path keeps every
cluster inside one batch, so the batches stay independent.
"""

from __future__ import annotations

import numpy as np

BATCHES = 20    # batch means: enough batches for the s.e.'s own error (√(2/(B−1)) ≈ 32 %)
                # to be small, few enough that each batch sees its share of the tail


def _arrays(x, w) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float).ravel()
    w = np.ones_like(x) if w is None else np.asarray(w, dtype=float).ravel()
    if w.shape != x.shape:
        raise ValueError("values and weights differ in length")
    return x, w


def mean(x, w=None) -> float:
    x, w = _arrays(x, w)
    return float(np.sum(w * x) / x.size)


def mean_standard_error(x, w=None) -> float:
    x, w = _arrays(x, w)
    return float(np.std(w * x, ddof=1) / np.sqrt(x.size)) if x.size > 1 else 0.0


def var(x, alpha: float, w=None) -> float:
    """The smallest sample value ``t`` with ``Σ w 1{x > t} / n ≤ 1 − α`` (module notes);
    :func:`engine.analysis.metrics.var` itself when ``w`` is None."""
    if w is None:
        from engine.analysis import metrics
        return metrics.var(x, alpha)
    x, w = _arrays(x, w)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    # weight strictly above each distinct value: tail[i] = Σ_{j: x_j > xs[i]} w_j
    above = np.cumsum(ws[::-1])[::-1]               # Σ_{j ≥ i} in sorted order
    last = np.searchsorted(xs, xs, side="right")    # first index past xs[i]'s ties
    tail = np.append(above, 0.0)[last] / x.size
    ok = np.nonzero(tail <= (1.0 - alpha) * (1.0 + 1e-12))[0]
    return float(xs[ok[0]]) if ok.size else float(xs[-1])


def tvar(x, alpha: float, w=None) -> float:
    """``VaR + Σ w (x − VaR)⁺ / (n (1 − α))``; :func:`engine.analysis.metrics.tvar` itself
    when ``w`` is None."""
    if w is None:
        from engine.analysis import metrics
        return metrics.tvar(x, alpha)
    x, w = _arrays(x, w)
    v = var(x, alpha, w)
    return float(v + np.sum(w * np.maximum(x - v, 0.0)) / (x.size * (1.0 - alpha)))


def effective_sample_size(w) -> float:
    """Kish's ``(Σ w)² / Σ w²``."""
    w = np.asarray(w, dtype=float).ravel()
    total = float(np.sum(w * w))
    return float(np.sum(w) ** 2 / total) if total > 0 else 0.0


def batch_standard_error(estimator, x, w=None, batches: int = BATCHES) -> float:
    """``sd`` of ``estimator(x_b, w_b)`` over ``batches`` consecutive batches ``/ √B``."""
    x, w = _arrays(x, w)
    b = min(batches, x.size // 2)
    if b < 2:
        return float("nan")
    values = [estimator(xb, wb) for xb, wb in zip(np.array_split(x, b), np.array_split(w, b),
                                                   strict=True)]
    return float(np.std(values, ddof=1) / np.sqrt(b))


def var_standard_error(x, alpha: float, w=None, batches: int = BATCHES) -> float:
    return batch_standard_error(lambda xb, wb: var(xb, alpha, wb), x, w, batches)


def tvar_standard_error(x, alpha: float, w=None, batches: int = BATCHES) -> float:
    return batch_standard_error(lambda xb, wb: tvar(xb, alpha, wb), x, w, batches)


# --- the summary's statistics, plain when ``w`` is None -----------------------------------
# With ``w=None`` each function is the plain estimator of engine.analysis.metrics, called as
# it is, so a file without a tilt summarises to the same bits as a plain run's estimators.

def quantile(x, alpha, w=None, axis=0):
    """Lower quantile of the self-normalised weighted distribution
    ``F̂(t) = Σ w 1{x ≤ t} / Σ w`` along ``axis`` (``alpha`` a level or a list)."""
    from engine.analysis import metrics

    if w is None:
        return metrics.quantile(x, alpha, axis=axis)
    x = np.moveaxis(np.asarray(x, dtype=float), axis, 0)
    w = np.asarray(w, dtype=float)
    order = np.argsort(x, axis=0, kind="stable")
    xs = np.take_along_axis(x, order, axis=0)
    ws = w[order] if x.ndim > 1 else w[order]
    cdf = np.cumsum(ws, axis=0) / np.sum(w)
    levels = np.atleast_1d(np.asarray(alpha, dtype=float))
    out = []
    for a in levels:
        first = np.argmax(cdf >= a * (1.0 - 1e-12), axis=0)
        out.append(np.take_along_axis(xs, np.expand_dims(first, 0), axis=0)[0])
    result = np.array(out)
    return result if np.ndim(alpha) else result[0]


def quantile_table(x, levels, w=None) -> dict[str, list[float]]:
    """``{level: one quantile per quarter}`` of ``(P, T)`` values."""
    q = quantile(x, list(levels), w)
    return {f"{a:g}": [float(v) for v in q[i]] for i, a in enumerate(levels)}


def column_means(x, w=None) -> np.ndarray:
    """Mean over paths of ``(P, T)`` values: ``Σ w x / n`` (unbiased)."""
    x = np.asarray(x)
    if w is None:
        return x.mean(axis=0)
    return (np.asarray(w, dtype=float)[:, None] * x).sum(axis=0) / x.shape[0]


def ruin_by_quarter(solvency_gap, w=None) -> np.ndarray:
    """``P(first gap by quarter t)`` for every ``t``: ``Σ w 1{ruined by t} / n``."""
    from engine.analysis import metrics

    if w is None:
        return metrics.ruin_by_quarter(solvency_gap)
    ruined = np.maximum.accumulate(np.asarray(solvency_gap) > 0, axis=-1)
    return (np.asarray(w, dtype=float)[:, None] * ruined).sum(axis=0) / ruined.shape[0]

"""Risk measures over paths: quantiles, VaR, TVaR, ruin probability, one-year shortfall.

Definitions
-----------
Quantile (and VaR) at level α is the lower quantile of the empirical distribution,
``VaR_α(X) = inf{x : F_n(x) ≥ α}`` — the ``⌈n α⌉``-th smallest of ``n`` values (numpy's
``method="inverted_cdf"``).

TVaR at level α is ``TVaR_α(X) = VaR_α(X) + E[(X − VaR_α(X))⁺] / (1 − α)``, the mean of
the worst ``1 − α`` of outcomes with the atom at VaR split as needed (Acerbi & Tasche's
expected shortfall), computed on the empirical distribution.

The one-year shortfall of projection year ``y`` is the sum of the quarterly shortfall over
quarters ``4y .. 4y + 3``; capital at 99.5 % over one year is its VaR at 0.995 (Solvency
II / C-ROSS convention). Ruin is the first quarter whose solvency gap is positive.
"""

from __future__ import annotations

import numpy as np

QUANTILE_LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def quantile(x, alpha, axis=0):
    """Lower empirical quantile ``inf{x : F_n(x) ≥ α}`` along ``axis``."""
    return np.quantile(np.asarray(x, dtype=float), alpha, axis=axis, method="inverted_cdf")


def var(x, alpha: float) -> float:
    """Value at risk: the lower α-quantile of the sample ``x`` (1-D)."""
    return float(quantile(np.asarray(x, dtype=float).ravel(), alpha))


def tvar(x, alpha: float) -> float:
    """Tail value at risk ``VaR_α + E[(X − VaR_α)⁺] / (1 − α)`` of the sample ``x`` (1-D)."""
    x = np.asarray(x, dtype=float).ravel()
    v = var(x, alpha)
    return float(v + np.mean(np.maximum(x - v, 0.0)) / (1.0 - alpha))


def ruin_by_quarter(solvency_gap) -> np.ndarray:
    """Share of paths ruined by the end of each quarter, ``(P, T) → (T,)``."""
    ruined = np.maximum.accumulate(np.asarray(solvency_gap) > 0, axis=-1)
    return ruined.mean(axis=0)


def ruin_probability(solvency_gap) -> float:
    """Share of paths with a positive solvency gap in some quarter."""
    return float(np.mean(np.any(np.asarray(solvency_gap) > 0, axis=-1)))


def binomial_standard_error(p: float, n: int) -> float:
    """Monte Carlo standard error of a proportion: ``sqrt(p (1 − p) / n)``."""
    return float(np.sqrt(p * (1.0 - p) / n)) if n else float("nan")


def yearly_sums(per_quarter) -> np.ndarray:
    """Sum ``(P, T)`` quarterly values over projection years → ``(P, ⌈T/4⌉)``.

    The last year may hold fewer than four quarters.
    """
    x = np.asarray(per_quarter, dtype=float)
    years = -(-x.shape[-1] // 4)
    pad = years * 4 - x.shape[-1]
    padded = np.concatenate([x, np.zeros((*x.shape[:-1], pad))], axis=-1)
    return padded.reshape(*x.shape[:-1], years, 4).sum(axis=-1)


def quantile_table(x, levels=QUANTILE_LEVELS) -> dict[str, list[float]]:
    """``{"0.05": [per quarter], ...}`` for a ``(P, T)`` array."""
    q = quantile(x, list(levels), axis=0)
    return {f"{lvl:g}": [float(v) for v in row] for lvl, row in zip(levels, q, strict=True)}

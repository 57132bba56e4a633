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


# ------------------------------------------------------------ sampling errors

def quantile_interval(x, alpha: float, confidence: float = 0.95) -> tuple[float, float]:
    """Distribution-free confidence interval of the α-quantile from order statistics.

    With ``n`` sorted values, the interval ``[x_(j), x_(k)]`` with ``j`` and ``k`` the
    ``(1 ∓ confidence)/2`` quantiles of Binomial(n, α) covers the true α-quantile with
    probability at least ``confidence`` (e.g. Conover, *Practical Nonparametric
    Statistics*, §3.2). The ends are clipped to the sample.
    """
    from scipy import stats

    xs = np.sort(np.asarray(x, dtype=float).ravel())
    n = xs.size
    tail = (1.0 - confidence) / 2.0
    j = int(stats.binom.ppf(tail, n, alpha))
    k = int(stats.binom.ppf(1.0 - tail, n, alpha)) + 1
    return float(xs[max(j - 1, 0)]), float(xs[min(k - 1, n - 1)])


def quantile_standard_error(x, alpha: float) -> float:
    """Monte Carlo standard error of the α-quantile: half the width of its 95 %
    order-statistic interval (:func:`quantile_interval`) divided by 1.96."""
    lo, hi = quantile_interval(x, alpha, 0.95)
    return (hi - lo) / (2.0 * 1.959963984540054)


def tvar_standard_error(x, alpha: float) -> float:
    """Standard error of the TVaR estimate: ``sd((X − VaR)⁺) / (sqrt(n) (1 − α))``.

    The error of the estimated VaR does not enter to first order (TVaR is stationary in
    it), so this is the asymptotic standard error of the plug-in estimator.
    """
    x = np.asarray(x, dtype=float).ravel()
    excess = np.maximum(x - var(x, alpha), 0.0)
    return float(excess.std(ddof=1) / (np.sqrt(x.size) * (1.0 - alpha))) if x.size > 1 else 0.0


def first_ruin_quarter(solvency_gap) -> np.ndarray:
    """Index of each path's first quarter with a gap, or −1 if never, ``(P, T) → (P,)``."""
    gap = np.asarray(solvency_gap) > 0
    any_gap = gap.any(axis=-1)
    return np.where(any_gap, gap.argmax(axis=-1), -1)


def calendar_year_sums(per_quarter, quarter_labels) -> dict[int, np.ndarray]:
    """Sum ``(P, T)`` values over calendar years: ``{year: (P,)}`` (partial years too)."""
    x = np.asarray(per_quarter, dtype=float)
    years: dict[int, list[int]] = {}
    for t, label in enumerate(quarter_labels):
        years.setdefault(int(str(label)[:4]), []).append(t)
    return {y: x[:, idx].sum(axis=1) for y, idx in years.items()}

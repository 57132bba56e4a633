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

Standard errors under common random numbers
-------------------------------------------
The scenarios of a set with common streams run the same noise on path ``p``: their values
on one path are dependent, those on different paths independent. Pooled over such a set,
the path is the sampling unit. With ``clusters`` (the path of each pooled value; ``None``:
every value its own cluster) the standard error of a mean is the cluster-robust

    s.e.(x̄) = √(Σ_c (Σ_{i∈c} (x_i − x̄))²) / n,

which is the usual ``sd / √n`` when every cluster has one value. A quantile's error is the
order-statistic one scaled by the root of the design effect of its indicator
``1{x ≤ VaR}`` (Kish: ``deff = s.e.²_cluster / s.e.²_iid``), and TVaR's is the cluster-robust
error of the mean of its influence function ``(x − VaR)⁺ / (1 − α)``. The effective number
of paths is ``n / deff``; tail-count warnings use it.

Probabilities get exact Clopper–Pearson intervals (on the effective sample when pooled),
never "± 0": with ``k = 0`` of ``n`` the one-sided 95 % bound is ``1 − 0.05^(1/n)``.
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

def quantile_standard_error(x, alpha: float) -> float:
    """Monte Carlo standard error of the α-quantile: the Maritz–Jarrett estimator.

    With the sorted sample ``x_(1) ≤ … ≤ x_(n)`` and ``m = ⌊n α + 1/2⌋``, the weights
    ``W_i = B(i/n) − B((i−1)/n)`` of the Beta(m, n − m + 1) distribution function ``B``
    give ``C_k = Σ W_i x_(i)^k`` and ``s.e. = √(C_2 − C_1²)`` (Maritz & Jarrett, JASA 1978;
    Wilcox, *Introduction to Robust Estimation*, §3.5). Unlike half the width of the
    order-statistic interval it follows the skew of a heavy tail (a replication test checks
    it, ``tests/statistical/test_standard_errors.py``).
    """
    from scipy import stats

    xs = np.sort(np.asarray(x, dtype=float).ravel())
    n = xs.size
    if n < 2:
        return 0.0
    m = min(max(int(np.floor(n * alpha + 0.5)), 1), n)
    cdf = stats.beta.cdf(np.arange(n + 1) / n, m, n - m + 1)
    w = np.diff(cdf)
    c1 = float(w @ xs)
    c2 = float(w @ (xs - c1) ** 2)
    return float(np.sqrt(max(c2, 0.0)))


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


def cluster_standard_error(x, clusters=None) -> float:
    """Cluster-robust standard error of the mean of ``x`` (module notes); ``clusters`` gives
    each value's cluster (the path under common random numbers), ``None`` = independent."""
    x = np.asarray(x, dtype=float).ravel()
    n = x.size
    if n < 2:
        return 0.0
    dev = x - x.mean()
    if clusters is None:
        return float(np.sqrt((dev ** 2).sum() * n / (n - 1)) / n)
    _, index = np.unique(np.asarray(clusters).ravel(), return_inverse=True)
    sums = np.bincount(index, weights=dev)
    g = sums.size
    if g < 2:
        return float("nan")
    return float(np.sqrt((sums ** 2).sum() * g / (g - 1)) / n)


def design_effect(indicator, clusters=None) -> float:
    """Kish's design effect of a mean: its cluster-robust variance over the independent
    one (1 without clusters; 0/0 → 1)."""
    x = np.asarray(indicator, dtype=float).ravel()
    iid = cluster_standard_error(x)
    if clusters is None or iid == 0.0:
        return 1.0
    return float((cluster_standard_error(x, clusters) / iid) ** 2)


def clustered_quantile_standard_error(x, alpha: float, clusters=None) -> float:
    """The α-quantile's order-statistic s.e. times √deff of ``1{x ≤ VaR}``."""
    se = quantile_standard_error(x, alpha)
    if clusters is None:
        return se
    x = np.asarray(x, dtype=float).ravel()
    return se * float(np.sqrt(design_effect(x <= var(x, alpha), clusters)))


def clustered_tvar_standard_error(x, alpha: float, clusters=None) -> float:
    """TVaR's s.e.: the cluster-robust s.e. of the mean of ``(x − VaR)⁺ / (1 − α)``."""
    x = np.asarray(x, dtype=float).ravel()
    return cluster_standard_error(np.maximum(x - var(x, alpha), 0.0) / (1.0 - alpha),
                                  clusters)


def clopper_pearson(k: float, n: float, confidence: float = 0.95) -> tuple[float, float]:
    """Exact interval of a binomial proportion: ``(lo, hi)``, two-sided at ``confidence``,
    except that ``k = 0`` gives ``(0, one-sided upper bound)`` and ``k = n`` gives
    ``(one-sided lower bound, 1)``. ``k`` and ``n`` may be effective (non-integer) counts."""
    from scipy import stats

    if n <= 0:
        return 0.0, 1.0
    if k <= 0:
        return 0.0, float(1.0 - (1.0 - confidence) ** (1.0 / n))
    if k >= n:
        return float((1.0 - confidence) ** (1.0 / n)), 1.0
    tail = (1.0 - confidence) / 2.0
    return (float(stats.beta.ppf(tail, k, n - k + 1)),
            float(stats.beta.ppf(1.0 - tail, k + 1, n - k)))


def proportion_text(p: float, n: int, effective_n: float | None = None,
                    confidence: float = 0.95) -> str:
    """A proportion for people, with its exact interval: "0 of 2,000 paths, below 0.15 %
    (95 %)", "2,000 of 2,000 paths, above 99.85 % (95 %)", or "1.20 % (95 %: 0.8–1.7 %)"."""
    m = n if effective_n is None else effective_n
    lo, hi = clopper_pearson(p * m, m, confidence)
    k = round(p * n)
    level = f"{confidence:.0%}"
    eff = "" if effective_n is None or abs(effective_n - n) < 0.5 else \
        f", {effective_n:,.0f} effective"
    if k == 0:
        return f"0 of {n:,} paths{eff}, below {hi:.2%} ({level})"
    if k == n:
        return f"{n:,} of {n:,} paths{eff}, above {lo:.2%} ({level})"
    return f"{p:.2%} ({level}: {lo:.2%}–{hi:.2%}{eff})"


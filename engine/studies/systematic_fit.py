"""Systematic incidence risk from a national series: the derivation of the shipped values.

Notes
-----
A log-linear trend ``log r_y = a + b (y − ȳ) + e_y`` fitted by least squares to yearly
national incidence ``r_y`` (NCC's age-standardised rate, world standard, 2011–2016;
``engine/data/ncc_national_asir_world.csv``, figures up to 2019 only) gives

* ``level_sd_per_year`` = the residual standard deviation ``√(Σ e² / (n − 2))``: how far a
  year's incidence strays from its trend (a national series, so a floor for a pool's);
* ``trend_sd`` = the standard error of the slope ``b``: how uncertain the trend itself is.

Five annual points cannot estimate the residuals' autocorrelation; the scenarios state
theirs as judgement.
"""

from __future__ import annotations

import numpy as np

from engine.config.tables import data_table

NCC_SERIES = "ncc_national_asir_world.csv"


def fit_log_linear(years, rates) -> dict[str, float]:
    """``{"trend_per_year", "level_sd_per_year", "trend_sd"}`` of a yearly series (notes)."""
    y = np.asarray(years, dtype=float)
    log_r = np.log(np.asarray(rates, dtype=float))
    x = y - y.mean()
    slope = float((x * (log_r - log_r.mean())).sum() / (x * x).sum())
    residuals = log_r - log_r.mean() - slope * x
    sd = float(np.sqrt((residuals ** 2).sum() / (len(y) - 2)))
    return {"trend_per_year": float(np.expm1(slope)), "level_sd_per_year": sd,
            "trend_sd": sd / float(np.sqrt((x * x).sum()))}


def ncc_systematic_risk() -> dict[str, float]:
    """The fit of :func:`fit_log_linear` to NCC's national series."""
    table = data_table(NCC_SERIES)
    years = [int(r["year"]) for _, r in table.rows]
    rates = [float(r["asir_world_per_100k"]) for _, r in table.rows]
    return fit_log_linear(years, rates)

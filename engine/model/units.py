"""Rate and probability conversions: the only place they live.

Every conversion from an annual figure to a quarterly one goes through this module, each
with its formula (DESIGN §2). The functions are written with ``numpy`` ufuncs and
:mod:`engine.model.elementwise` only, so that the numba kernel compiles the same source.

Notes
-----
Incidence rate ``r`` (per 100,000 person-years) to a quarterly probability, constant hazard
within the year::

    h = r / 100000 / 4           (quarterly hazard)
    q = 1 - exp(-h)              (quarterly probability)

Annual probability ``q_a`` (a life table's ``qx``) to a quarterly one::

    q = 1 - (1 - q_a) ** (1/4)

Central death rate ``m`` (deaths per person-year, WPP's ``mx``) to a quarterly probability::

    q = 1 - exp(-m / 4)

Annual interest ``i`` to a quarterly accumulation factor: ``(1 + i) ** (1/4)``.
"""

from __future__ import annotations

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import expm1

PER_100K = 100_000.0
QUARTERS_PER_YEAR = 4


def quarterly_hazard_from_rate_per_100k(rate_per_100k):
    """Quarterly hazard ``h = r / 100000 / 4`` of a rate ``r`` per 100,000 person-years."""
    return rate_per_100k / PER_100K / QUARTERS_PER_YEAR


@register_jitable
def prob_from_hazard(hazard):
    """Probability of at least one event under a constant hazard: ``1 - exp(-h)``.

    Written as ``-expm1(-h)`` so that hazards of 1e-9 keep their digits. Scalars or
    arrays: the kernel compiles this same function.
    """
    return -expm1(-hazard)


def quarterly_prob_from_rate_per_100k(rate_per_100k):
    """``1 - exp(-r / 100000 / 4)`` for an incidence rate ``r`` per 100,000 person-years."""
    return prob_from_hazard(quarterly_hazard_from_rate_per_100k(rate_per_100k))


def quarterly_prob_from_annual_prob(annual_prob):
    """``1 - (1 - q) ** (1/4)`` for an annual probability ``q`` (for example a table's qx).

    Computed as ``-expm1(log1p(-q) / 4)``; ``q = 1`` gives 1.
    """
    q = np.asarray(annual_prob, dtype=float)
    with np.errstate(divide="ignore"):
        return -np.expm1(np.log1p(-q) / QUARTERS_PER_YEAR)


def quarterly_prob_from_central_rate(central_rate):
    """``1 - exp(-m / 4)`` for a central death rate ``m`` per person-year (WPP ``mx``)."""
    return prob_from_hazard(np.asarray(central_rate, dtype=float) / QUARTERS_PER_YEAR)


def quarterly_growth_factor(annual_rate):
    """Quarterly accumulation factor ``(1 + i) ** (1/4)`` of an annual interest rate ``i``."""
    return float((1.0 + annual_rate) ** (1.0 / QUARTERS_PER_YEAR))


def per_quarter_coefficient(per_year):
    """A diffusion coefficient per year (Bass ``p``, ``q``) as one per quarter: ``x / 4``.

    Bass's coefficients are rates in continuous time; over a quarter the discrete step
    uses ``x / 4``, the first-order (Euler) step of ``dF/dt = (p + q F)(1 - F)``.
    """
    return per_year / QUARTERS_PER_YEAR


def years_since_start(quarter_index):
    """Time in years at the start of quarter ``t``: ``t / 4`` (used by the trend)."""
    return np.asarray(quarter_index, dtype=float) / QUARTERS_PER_YEAR

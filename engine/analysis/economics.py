"""Platform value and market share, per path (DESIGN §1.8).

Platform value (yuan, at the projection's start)::

    V = Σ_t v^(t+1) [ fee_revenue_t + u · members_t − a · joins_t − o · members_t
                      − platform_funding_t − gap_cost_t ]

with the quarterly discount factor ``v = (1 + r)^(−1/4)`` (cash flows at each quarter's
end), ``u`` the user value per active member per quarter (what a member is worth to the
platform's other business: traffic, cross-selling), ``a`` the acquisition cost per join,
``o`` the operating cost per member per quarter, and ``platform_funding`` the shortfall
the platform pays under ``sharing.shortfall = "platform"``. Members at a quarter's end
stand for the quarter's active members.

``gap_cost_t`` states who funds the solvency gap ``g_t = max(0, −R_t)`` that the reserve
rule leaves (``valuation.gap_funded_by``), with ``Δg_t = g_t − g_{t−1}`` (``g_{−1} = 0``):

``platform``  ``Δg_t``: the platform pays each quarter's increase of the gap as it arises
              (interest on it included) and is repaid as the reserve recovers;
``members``   0: the members meet it later, outside the platform's value;
``nobody``    ``f/(1 + f) · max(Δg_t, 0)``: the aid behind the gap is never paid, so the
              fee ``f`` on it is not earned either (the fee is earned on aid paid only).


Market share of mutual aid, per calendar year ``y``: members' contributions (what sharers
paid: ``Σ cost_per_member_t · sharers_t`` over the quarters of ``y``) divided by China's
commercial health insurance premiums of ``y`` as the run used them
(``engine/data/china_health_insurance_premiums.csv``, each year with its source; a scenario's
``market.health_premium_by_year``, in yuan, adds or replaces years), stored in the results
file. Years without a premium figure are reported as such, not filled in.
"""

from __future__ import annotations

import numpy as np

from engine.model import units


def discount_factors(quarters: int, annual_rate: float) -> np.ndarray:
    """``v^(t+1)`` for ``t = 0..T−1`` with ``v = (1 + r)^(−1/4)``."""
    v = 1.0 / units.quarterly_growth_factor(annual_rate)
    return v ** np.arange(1, quarters + 1)


GAP_RULE_WORDS = {
    "platform": "the platform funds the solvency gap as it arises",
    "members": "members fund the solvency gap later (not in the value)",
    "nobody": "nobody funds the solvency gap: that aid and its fee are never paid",
}


def gap_cost(solvency_gap: np.ndarray, rule: str, fee_rate: float) -> np.ndarray:
    """``gap_cost_t`` per path and quarter under ``rule`` (module docstring), yuan."""
    gap = np.asarray(solvency_gap, dtype=float)
    increase = np.diff(gap, axis=-1, prepend=0.0)
    if rule == "platform":
        return increase
    if rule == "nobody":
        return fee_rate / (1.0 + fee_rate) * np.maximum(increase, 0.0)
    return np.zeros_like(gap)


def platform_value(results: dict[str, np.ndarray], valuation, fee_rate: float = 0.0
                   ) -> np.ndarray:
    """Discounted value per path (see the module docstring); ``results`` are ``(P, T)``
    (``solvency_gap`` among them unless the gap rule is ``members``)."""
    members = results["members"].astype(float)
    cash = (results["fee_revenue"]
            + valuation.user_value_per_quarter * members
            - valuation.acquisition_cost * results["joins"].astype(float)
            - valuation.opex_per_member_quarter * members
            - results["platform_funding"])
    if valuation.gap_funded_by != "members":
        cash = cash - gap_cost(results["solvency_gap"], valuation.gap_funded_by, fee_rate)
    return cash @ discount_factors(members.shape[1], valuation.discount_rate)


def contributions_by_year(results: dict[str, np.ndarray], quarter_labels
                          ) -> dict[int, tuple[np.ndarray, int]]:
    """``{year: (contributions per path in yuan, quarters of the year projected)}``."""
    paid = results["cost_per_member"] * results["sharers"].astype(float)
    years: dict[int, list[int]] = {}
    for t, label in enumerate(quarter_labels):
        years.setdefault(int(str(label)[:4]), []).append(t)
    return {y: (paid[:, idx].sum(axis=1), len(idx)) for y, idx in years.items()}


def market_share_by_year(results: dict[str, np.ndarray], quarter_labels,
                         premiums_yuan: dict) -> dict[int, dict]:
    """Per year: contributions and their share of health insurance premiums, per path.

    ``premiums_yuan`` is the series the run used (year → yuan; a results file stores it,
    :mod:`engine.resolved`). Each entry: ``contributions`` (per path, yuan), ``quarters``
    (of the year projected), ``premium`` (yuan, or None) and ``share`` (per path, or None
    without a premium).
    """
    premiums = {int(y): float(v) for y, v in premiums_yuan.items()}
    out = {}
    for year, (paid, n) in contributions_by_year(results, quarter_labels).items():
        premium = premiums.get(year)
        out[year] = {"contributions": paid, "quarters": n, "premium": premium,
                     "share": paid / premium if premium else None}
    return out

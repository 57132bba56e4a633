"""Cost sharing, caps, the shortfall rule and the reserve (DESIGN §1.6–7), per path.

Notes
-----
For one quarter with aid ``A`` (yuan), fee rate ``f`` and ``S`` sharers:

* required cost per sharer ``c* = A (1 + f) / S`` (0 when ``A = 0``; unbounded when ``S = 0``);
* allowed per sharer ``a = min(cap_q, cap_y − y)`` where ``y`` is what a sharer has paid in
  the calendar year so far (reset each Q1);
* charged ``c = min(c*, a)``, and members also pay the reserve loading ``L``:
  ``cost_per_member = c + L``;
* shortfall ``G = A (1 + f) − c S`` (exactly 0 when the cap does not bind).

Who meets ``G``:

``reserve``
    ``R ← (R − G + L S) · (1 + i)^(1/4)``; the reserve may go negative (a debt that accrues
    at the same rate); the solvency gap is ``max(0, −R)``.
``haircut``
    Benefits are cut pro rata: aid paid ``A − G / (1 + f)``; ``R ← (R + L S)(1 + i)^(1/4)``.
``platform``
    The platform pays ``G`` (``platform_funding``); ``R ← (R + L S)(1 + i)^(1/4)``.

Fee revenue is ``f`` times the aid paid. ``A`` is the aid falling due in the quarter: the
quarter's share of each earlier quarter's claims under ``benefits.payment_pattern``.
"""

from __future__ import annotations

import numpy as np

RESERVE, HAIRCUT, PLATFORM = 0, 1, 2


def share_costs(aid_yuan, sharers, paid_this_year_yuan, reserve_yuan, *, fee_rate: float,
                cap_per_quarter_yuan: float, cap_per_year_yuan: float, shortfall_rule: int,
                loading_yuan_q: float, reserve_growth_q: float,
                platform_funds: bool = False) -> dict:
    """One quarter's sharing for each path; returns per-path arrays (yuan).

    ``platform_funds``: members pay nothing this quarter (no share, no loading) and the
    platform pays the aid and fee (a closing platform's last periods).

    Keys: ``required_cost_per_member``, ``cost_per_member`` (charged + loading),
    ``shortfall``, ``aid_paid``, ``platform_funding``, ``fee_revenue``, ``reserve`` (end of
    quarter), ``solvency_gap`` and ``paid_this_year`` (updated).
    """
    if platform_funds:
        cap_per_quarter_yuan, shortfall_rule, loading_yuan_q = 0.0, PLATFORM, 0.0
    aid = np.asarray(aid_yuan, dtype=np.float64)
    sharers_f = np.asarray(sharers, dtype=np.float64)
    required_total = aid * (1.0 + fee_rate)
    has_sharers = sharers_f > 0
    safe = np.where(has_sharers, sharers_f, 1.0)
    required = np.where(has_sharers, required_total / safe,
                        np.where(required_total > 0, np.inf, 0.0))
    allowed = np.maximum(0.0, np.minimum(cap_per_quarter_yuan,
                                         cap_per_year_yuan - paid_this_year_yuan))
    # Unfunded when a cap binds, or when aid is due and nobody is left to share it.
    binds = (required > allowed) | (~has_sharers & (required_total > 0))
    charged = np.where(has_sharers, np.where(binds, allowed, required), 0.0)
    shortfall = np.where(binds, required_total - charged * sharers_f, 0.0)
    return {
        "required_cost_per_member": required,
        "cost_per_member": charged + np.where(has_sharers, loading_yuan_q, 0.0),
        "paid_this_year": paid_this_year_yuan + charged,
        **_settle(aid, shortfall, loading_yuan_q * sharers_f, reserve_yuan, fee_rate,
                  shortfall_rule, reserve_growth_q),
    }


def _settle(aid, shortfall, loading_total, reserve_yuan, fee_rate: float,
            shortfall_rule: int, reserve_growth_q: float) -> dict:
    """Who meets the shortfall, the reserve's roll-forward and the fee (module notes)."""
    if shortfall_rule == RESERVE:
        reserve = (reserve_yuan - shortfall + loading_total) * reserve_growth_q
        aid_paid, platform = aid, np.zeros_like(aid)
    elif shortfall_rule == HAIRCUT:
        reserve = (reserve_yuan + loading_total) * reserve_growth_q
        aid_paid, platform = aid - shortfall / (1.0 + fee_rate), np.zeros_like(aid)
    else:
        reserve = (reserve_yuan + loading_total) * reserve_growth_q
        aid_paid, platform = aid, shortfall
    return {"shortfall": shortfall, "aid_paid": aid_paid, "platform_funding": platform,
            "fee_revenue": fee_rate * aid_paid, "reserve": reserve,
            "solvency_gap": np.maximum(0.0, -reserve)}


def share_costs_age_rated(aid_yuan, sharer_cells, weight, paid_this_year_cells, reserve_yuan,
                          *, fee_rate: float, cap_per_quarter_yuan: float,
                          cap_per_year_yuan: float, shortfall_rule: int, loading_yuan_q: float,
                          reserve_growth_q: float, platform_funds: bool = False) -> dict:
    """Age-rated sharing for each path: shares in proportion to ``w[s, a]``.

    Notes
    -----
    With ``S[s, a]`` sharers per (sex, age-quarter) and weights ``w`` (expected aid per
    member), the charge per unit of weight is ``u = A (1 + f) / Σ S w`` (summed cell by
    cell in (sex, age) order), a member at ``(s, a)`` is asked ``u w[s, a]`` and pays
    ``min(u w, cap_q, cap_y − y[s, a])``, with ``y[s, a]`` what members of that cell have
    paid this year. The shortfall is what the caps (or a total weight of 0) leave unfunded;
    it is met as in :func:`share_costs`. Returns the keys of :func:`share_costs` (money per
    member is the average over sharers) plus ``charged_cells`` ``(P, S, A)``.
    """
    if platform_funds:
        cap_per_quarter_yuan, shortfall_rule, loading_yuan_q = 0.0, PLATFORM, 0.0
    aid = np.asarray(aid_yuan, dtype=np.float64)
    n_paths = aid.shape[0]
    S = np.asarray(sharer_cells, dtype=np.float64)
    flat_weighted = (S * weight[None]).reshape(n_paths, -1)
    total_weight = np.cumsum(flat_weighted, axis=1)[:, -1]
    sharers_f = S.reshape(n_paths, -1).sum(axis=1)
    required_total = aid * (1.0 + fee_rate)
    has = sharers_f > 0
    weighted = total_weight > 0
    unit = np.where(weighted, required_total / np.where(weighted, total_weight, 1.0), 0.0)
    asked = unit[:, None, None] * weight[None]
    allowed = np.maximum(0.0, np.minimum(cap_per_quarter_yuan,
                                         cap_per_year_yuan - paid_this_year_cells))
    binds_cell = (asked > allowed) & (S > 0)
    binds = binds_cell.reshape(n_paths, -1).any(axis=1) | (~weighted & (required_total > 0))
    charged = np.where(S > 0, np.where(binds_cell, allowed, asked), 0.0)
    funded = np.cumsum((charged * S).reshape(n_paths, -1), axis=1)[:, -1]
    shortfall = np.where(binds, required_total - funded, 0.0)
    average = np.where(has, np.where(binds, funded, required_total)
                       / np.where(has, sharers_f, 1.0), 0.0)
    required = np.where(has, required_total / np.where(has, sharers_f, 1.0),
                        np.where(required_total > 0, np.inf, 0.0))
    return {
        "required_cost_per_member": required,
        "cost_per_member": average + np.where(has, loading_yuan_q, 0.0),
        "paid_this_year_cells": paid_this_year_cells + charged,
        "charged_cells": charged + np.where(has, loading_yuan_q, 0.0)[:, None, None],
        **_settle(aid, shortfall, loading_yuan_q * sharers_f, reserve_yuan, fee_rate,
                  shortfall_rule, reserve_growth_q),
    }

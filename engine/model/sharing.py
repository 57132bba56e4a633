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

Every rule below is written once for scalars and per-path arrays alike
(:mod:`engine.model.elementwise`): the numpy reference calls it on arrays through
:func:`share_costs` and :func:`share_costs_age_rated`, the numba kernel compiles it for one
path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numba.extending import register_jitable

from engine.model.elementwise import positive_part, select


class ShortfallRule(IntEnum):
    """``sharing.shortfall``: who meets what the caps leave unfunded (module notes)."""

    RESERVE = 0
    HAIRCUT = 1
    PLATFORM = 2


class SharingRule(IntEnum):
    """``sharing.rule``: how a quarter's cost is split among the sharers.

    ``EQUAL``: every sharer pays the same (:func:`charge_equally`). ``AGE_RATED``: each pays
    in proportion to the expected aid of its (sex, age) cell (:func:`share_costs_age_rated`).
    A new rule is a new member here, its charge function below, and a branch in the
    reference's and the kernel's sharing step.
    """

    EQUAL = 0
    AGE_RATED = 1


_PLATFORM = int(ShortfallRule.PLATFORM)
_AGE_RATED = int(SharingRule.AGE_RATED)


@register_jitable
def charges_by_cell(sharing_rule: int) -> bool:
    """Whether the rule charges each (sex, age) cell its own amount, so that each cell's
    members react to what they paid (per-cell cost windows and lapse probabilities)."""
    return sharing_rule == _AGE_RATED


@register_jitable
def terms_of_the_quarter(platform_funds, cap_per_quarter_yuan: float, shortfall_rule: int,
                         loading_yuan_q: float):
    """``(cap_q, rule, loading)`` of a quarter: when the platform funds it, members pay
    nothing (cap 0, no loading) and the platform meets the shortfall."""
    if platform_funds:
        return 0.0, _PLATFORM, 0.0
    return cap_per_quarter_yuan, shortfall_rule, loading_yuan_q


@register_jitable
def required_per_sharer(required_total_yuan, sharers):
    """``c* = A (1 + f) / S``: 0 when nothing is due, unbounded when nobody shares."""
    has = sharers > 0.0
    return select(has, required_total_yuan / select(has, sharers, 1.0),
                  select(required_total_yuan > 0.0, np.inf, 0.0))


@register_jitable
def allowed_per_sharer(cap_per_quarter_yuan, cap_per_year_yuan, paid_this_year_yuan):
    """``min(cap_q, cap_y − y)``, at least 0."""
    return np.maximum(0.0, np.minimum(cap_per_quarter_yuan,
                                      cap_per_year_yuan - paid_this_year_yuan))


@register_jitable
def charge_equally(required_total_yuan, sharers, allowed_yuan):
    """Equal sharing under caps: ``(required, charged, shortfall)`` per sharer / in total.

    Unfunded when a cap binds, or when aid is due and nobody is left to share it.
    """
    has = sharers > 0.0
    required = required_per_sharer(required_total_yuan, sharers)
    binds = (required > allowed_yuan) | ((sharers <= 0.0) & (required_total_yuan > 0.0))
    charged = select(has, select(binds, allowed_yuan, required), 0.0)
    shortfall = select(binds, required_total_yuan - charged * sharers, 0.0)
    return required, charged, shortfall


@register_jitable
def charge_cell(asked_yuan, allowed_yuan, sharers_in_cell):
    """Age-rated sharing, one cell: ``(charged, binds)`` with ``charged = min(asked, allowed)``
    for a cell that has sharers (0 otherwise)."""
    occupied = sharers_in_cell > 0.0
    over = asked_yuan > allowed_yuan
    return select(occupied, select(over, allowed_yuan, asked_yuan), 0.0), over & occupied


@register_jitable
def charge_per_weight(required_total_yuan, total_weight):
    """``u = A (1 + f) / Σ S w`` (0 when the total weight is 0)."""
    weighted = total_weight > 0.0
    return select(weighted, required_total_yuan / select(weighted, total_weight, 1.0), 0.0)


@register_jitable
def average_charge(required_total_yuan, funded_yuan, sharers, binds):
    """What a sharer paid on average: funded (caps bind) or required total over sharers."""
    has = sharers > 0.0
    return select(has, select(binds, funded_yuan, required_total_yuan)
                  / select(has, sharers, 1.0), 0.0)


@register_jitable
def settle(reserve_yuan, shortfall_yuan, loading_total_yuan, aid_yuan, fee_rate: float,
           shortfall_rule: int, reserve_growth_q: float):
    """Who meets the shortfall: ``(reserve at the quarter's end, aid paid, platform
    funding)`` (module notes)."""
    if shortfall_rule == ShortfallRule.RESERVE:
        reserve = (reserve_yuan - shortfall_yuan + loading_total_yuan) * reserve_growth_q
        return reserve, aid_yuan, 0.0 * aid_yuan
    reserve = (reserve_yuan + loading_total_yuan) * reserve_growth_q
    if shortfall_rule == ShortfallRule.HAIRCUT:
        return reserve, aid_yuan - shortfall_yuan / (1.0 + fee_rate), 0.0 * aid_yuan
    return reserve, aid_yuan, shortfall_yuan


@register_jitable
def solvency_gap(reserve_yuan):
    """``max(0, −R)``."""
    return positive_part(-reserve_yuan)


def _money(aid, shortfall, loading_total, reserve_yuan, fee_rate, shortfall_rule,
           reserve_growth_q) -> dict:
    reserve, aid_paid, platform = settle(reserve_yuan, shortfall, loading_total, aid, fee_rate,
                                         shortfall_rule, reserve_growth_q)
    return {"shortfall": shortfall, "aid_paid": aid_paid, "platform_funding": platform,
            "fee_revenue": fee_rate * aid_paid, "reserve": reserve,
            "solvency_gap": solvency_gap(reserve)}


@dataclass(frozen=True)
class SharingTerms:
    """The terms of a quarter's sharing (module notes).

    ``fee_rate`` ``f`` (share of the aid); caps per sharer ``cap_per_quarter_yuan`` and
    ``cap_per_year_yuan`` (yuan); ``shortfall_rule`` (:class:`ShortfallRule`); the reserve
    loading ``loading_yuan_q`` (yuan per sharer per quarter) and ``reserve_growth_q``
    ``(1 + i)^(1/4)`` (per quarter); ``platform_funds``: members pay nothing this quarter
    (no share, no loading) and the platform pays the aid and fee (a closing platform's last
    periods).
    """

    fee_rate: float
    cap_per_quarter_yuan: float
    cap_per_year_yuan: float
    shortfall_rule: int
    loading_yuan_q: float
    reserve_growth_q: float
    platform_funds: bool = False


def share_costs(aid_yuan, sharers, paid_this_year_yuan, reserve_yuan,
                terms: SharingTerms) -> dict:
    """One quarter's equal sharing for each path under ``terms``; returns per-path arrays
    (yuan).

    Keys: ``required_cost_per_member``, ``cost_per_member`` (charged + loading),
    ``shortfall``, ``aid_paid``, ``platform_funding``, ``fee_revenue``, ``reserve`` (end of
    quarter), ``solvency_gap`` and ``paid_this_year`` (updated).
    """
    cap_q, rule, loading = _terms_of_the_quarter(terms)
    aid = np.asarray(aid_yuan, dtype=np.float64)
    sharers_f = np.asarray(sharers, dtype=np.float64)
    required_total = aid * (1.0 + terms.fee_rate)
    allowed = allowed_per_sharer(cap_q, terms.cap_per_year_yuan, paid_this_year_yuan)
    required, charged, shortfall = charge_equally(required_total, sharers_f, allowed)
    return {
        "required_cost_per_member": required,
        "cost_per_member": charged + select(sharers_f > 0.0, loading, 0.0),
        "paid_this_year": paid_this_year_yuan + charged,
        **_money(aid, shortfall, loading * sharers_f, reserve_yuan, terms.fee_rate, rule,
                 terms.reserve_growth_q),
    }


def share_costs_age_rated(aid_yuan, sharer_cells, weight, paid_this_year_cells, reserve_yuan,
                          terms: SharingTerms) -> dict:
    """Age-rated sharing for each path under ``terms``: shares in proportion to ``w[s, a]``.

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
    cap_q, rule, loading = _terms_of_the_quarter(terms)
    aid = np.asarray(aid_yuan, dtype=np.float64)
    n_paths = aid.shape[0]
    S = np.asarray(sharer_cells, dtype=np.float64)
    # summed cell by cell in (sex, age) order, as the kernel's loop does
    total_weight = np.cumsum((S * weight[None]).reshape(n_paths, -1), axis=1)[:, -1]
    sharers_f = S.reshape(n_paths, -1).sum(axis=1)
    required_total = aid * (1.0 + terms.fee_rate)
    unit = charge_per_weight(required_total, total_weight)
    allowed = allowed_per_sharer(cap_q, terms.cap_per_year_yuan, paid_this_year_cells)
    charged, binds_cell = charge_cell(unit[:, None, None] * weight[None], allowed, S)
    binds = (binds_cell.reshape(n_paths, -1).any(axis=1)
             | ((total_weight <= 0.0) & (required_total > 0.0)))
    funded = np.cumsum((charged * S).reshape(n_paths, -1), axis=1)[:, -1]
    shortfall = select(binds, required_total - funded, 0.0)
    has = sharers_f > 0.0
    return {
        "required_cost_per_member": required_per_sharer(required_total, sharers_f),
        "cost_per_member": average_charge(required_total, funded, sharers_f, binds)
        + select(has, loading, 0.0),
        "paid_this_year_cells": paid_this_year_cells + charged,
        "charged_cells": charged + select(has, loading, 0.0)[:, None, None],
        **_money(aid, shortfall, loading * sharers_f, reserve_yuan, terms.fee_rate, rule,
                 terms.reserve_growth_q),
    }


def _terms_of_the_quarter(terms: SharingTerms):
    return terms_of_the_quarter(terms.platform_funds, terms.cap_per_quarter_yuan,
                                terms.shortfall_rule, terms.loading_yuan_q)

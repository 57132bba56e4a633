"""The per-(scenario, path, quarter) results: names, types, units and meanings (DESIGN §4).

The first eleven are the contract's; the rest extend it (documented in README, "Results").
Counts are persons in the quarter (stocks at its end); money is yuan in the quarter.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Variable:
    name: str
    dtype: type
    units: str
    long_name: str
    # A platform's total over its plans (engine.run.plans): "sum", a mean weighted by
    # "sharers" or "members", or "common" (the same on every plan: plan 0's value).
    total: str = "sum"


VARIABLES: tuple[Variable, ...] = (
    Variable("members", np.int64, "persons", "members at the end of the quarter"),
    Variable("joins", np.int64, "persons", "members who joined in the quarter"),
    Variable("lapses", np.int64, "persons", "members who lapsed in the quarter"),
    Variable("deaths", np.int64, "persons", "members who died in the quarter (other than claims)"),
    Variable("claims", np.int64, "persons", "diagnoses past the waiting period: aided claims"),
    Variable("aid", np.float64, "yuan", "aid due on the quarter's claims, before any haircut"),
    Variable("cost_per_member", np.float64, "yuan per member",
             "what each sharer paid for the quarter (capped share plus reserve loading)",
             "sharers"),
    Variable("shortfall", np.float64, "yuan",
             "aid plus fee that the caps left unfunded in the quarter"),
    Variable("reserve", np.float64, "yuan", "reserve at the end of the quarter"),
    Variable("solvency_gap", np.float64, "yuan", "max(0, -reserve) at the end of the quarter"),
    Variable("fee_revenue", np.float64, "yuan", "management fee earned on aid paid"),
    # Extensions of the contract.
    Variable("diagnosed_in_waiting", np.int64, "persons",
             "diagnoses in the waiting period (not paid; the member leaves)"),
    Variable("mild_claims", np.int64, "persons", "claims paid at the mild amount"),
    Variable("aged_out", np.int64, "persons", "members who passed the plan's maximum age"),
    Variable("closed_out", np.int64, "persons", "members who left when the plan closed"),
    Variable("suspended", np.int64, "persons",
             "pre-paid members suspended for not topping up their balance (they leave)"),
    Variable("claims_below_cap", np.int64, "persons",
             "claims paid a payout level below the full amount (benefits.payout_levels)"),
    Variable("sharers", np.int64, "persons", "members who shared the quarter's cost"),
    Variable("required_cost_per_member", np.float64, "yuan per member",
             "aid plus fee divided by sharers, before caps", "sharers"),
    Variable("aid_reported", np.float64, "yuan",
             "aid falling due in the quarter under the payment pattern: what is shared"),
    Variable("claims_reported", np.float64, "persons",
             "claims paid in the quarter under the payment pattern (expected share)"),
    Variable("aid_paid", np.float64, "yuan", "aid paid to claimants after any haircut"),
    Variable("platform_funding", np.float64, "yuan", "shortfall paid by the platform"),
    Variable("expected_joins", np.float64, "persons",
             "expected joins of the growth model after cost damping"),
    Variable("antiselection_factor", np.float64, "1",
             "the pool's incidence multiplier from its risk-group mix after lapses "
             "(1 = the population's mix)", "members"),
    Variable("incidence_level", np.float64, "1",
             "systematic incidence level of the path and quarter (1 when systematic risk "
             "is off)", "common"),
    Variable("balance_per_member", np.float64, "yuan per member",
             "pre-paid balance held per member at the end of the quarter (0 if post-paid)",
             "members"),
)
CONTRACT = ("members", "joins", "lapses", "deaths", "claims", "aid", "cost_per_member",
            "shortfall", "reserve", "solvency_gap", "fee_revenue")


# Each path's likelihood ratio (scenario, path): 1 for a plain run, f/g of its tilted
# systematic draws under a [tail] tilt (engine.model.tilt); every statistic weighs by it.
WEIGHT = "weight"
WEIGHT_UNITS = "1"
WEIGHT_LONG_NAME = ("likelihood ratio of the path's systematic draws (importance sampling; "
                    "1 for a plain run)")

PLAN_SUFFIX = "_by_plan"   # a platform's per-plan copy of a variable: (scenario, plan, path,
                          # quarter); the variable itself holds the platform's total


# [output] detail (engine.config.output): the variables that belong to a member's cell, so
# can be written by sex, age band, risk group and plan as NAME_by (engine.run.detail); a
# plan's arrays come from the engines by row and age band under CELLS_PREFIX + NAME.
DETAIL_VARIABLES = ("members", "joins", "lapses", "deaths", "claims", "diagnosed_in_waiting",
                    "mild_claims", "suspended", "claims_below_cap", "sharers", "aid")
DETAIL_SUFFIX = "_by"
CELLS_PREFIX = "cells:"


def empty_outputs(n_paths: int, quarters: int) -> dict[str, np.ndarray]:
    """Zeroed per-(path, quarter) arrays for every variable."""
    return {v.name: np.zeros((n_paths, quarters), dtype=v.dtype) for v in VARIABLES}

"""A platform's expected path given its systematic drivers, for drivers chosen by hand or by
a search (a reverse stress test's most likely way to fail, :mod:`engine.studies.likely_failure`).

The drivers are given as each row's incidence level ``Λ[p, t]`` and join multipliers
``G[p, t]``; every count is then replaced by its mean (:mod:`engine.model.mean_path`), so a
row is the conditional-mean path the tail pilot ranks paths by (:mod:`engine.run.tail`).
Rows are independent: a search evaluates many candidate drivers in one call.
"""

from __future__ import annotations

import numpy as np

from engine.model.mean_path import mean_paths
from engine.model.tilt import CLAIM_STATS_KEY
from engine.run.plans import PlatformInputs, chain_plans
from engine.run.simulate import with_moves


def paths_given_drivers(platform: PlatformInputs, join_gamma: np.ndarray,
                        levels: np.ndarray) -> dict[str, np.ndarray]:
    """Each row's expected path given its drivers ``(P, T)``: the platform's totals per
    variable ``(P, T)`` (and each plan's ``NAME_by_plan``)."""
    def run_plan(plan, arrivals, keep_aged_out, enrolment):
        T = plan.quarters
        aged = np.zeros((len(levels), T, plan.n_rows, plan.n_durations))
        out = mean_paths(plan, join_gamma[:, :T], levels[:, :T], moves_in=arrivals,
                         moves_out=aged if keep_aged_out else None, enrolment=enrolment)
        del out[CLAIM_STATS_KEY]
        return with_moves(out, arrivals, aged if keep_aged_out else None)

    return chain_plans(platform, run_plan)

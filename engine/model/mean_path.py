"""The model with every draw replaced by its mean (:class:`MeanDraws`):
one loop, used for the expected path of a scenario, each path's expected path given its
systematic drivers (the tail pilot's stand-in for a simulated path, :mod:`engine.run.tail`),
a platform's plans in expectation (:mod:`engine.run.plans`) and the fairness table
(:mod:`engine.model.fairness`).

The expectation is exact while the quarter's step is linear in the state (no cost feedback,
caps that do not bind, a fixed or innovation-only growth model); otherwise it is the
first-order (mean-field) path.
"""

from __future__ import annotations

import numpy as np

from engine.model.inputs import ModelInputs
from engine.model.reference import initial_state, step_quarter
from engine.model.tilt import CLAIM_STATS_KEY
from engine.variables import CELLS_PREFIX, VARIABLES


class MeanDraws:
    """Each draw replaced by its mean (``n p``, ``λ``): the step then gives the expected path.

    The expectation is exact while the step is linear in the state: no cost feedback
    (both elasticities and anti-selection 0), caps that do not bind and a fixed or
    innovation-only growth model; otherwise it is the first-order (mean-field) path.
    """

    keyed = False

    def binomial(self, n, p, t, kind, path, cell):
        return n * np.asarray(p, dtype=np.float64)

    def poisson(self, lam, t, kind, path, cell):
        return np.asarray(lam, dtype=np.float64)


def mean_paths(inputs: ModelInputs, join_gamma: np.ndarray, incidence_level: np.ndarray,
               paths: np.ndarray | None = None, moves_in: np.ndarray | None = None,
               moves_out: np.ndarray | None = None, traces: list | None = None,
               enrolment=None, detail: bool = False) -> dict[str, np.ndarray]:
    """Each path's expected path given its drivers, ``(P, T)`` per variable.

    Parameters
    ----------
    inputs : one plan's (or scenario's) inputs
    join_gamma, incidence_level : ``(P, T)`` the joins' mixing multipliers and the
        systematic incidence level of each path and quarter (ones: the expected path)
    paths : the paths' indices (the streams' counters; MeanDraws does not read them)
    moves_in : ``(P, T, R, Dn)`` members entering from a younger plan, or None
    moves_out : ``(P, T, R, Dn)`` filled with the members who aged out, or None
    traces : a list of ``T`` dicts filled with each quarter's per-cell arrays
        (:func:`engine.model.reference.step_quarter`), or None
    enrolment : an enrolled plan's :class:`engine.run.simulate.Enrolment` (the enrolling
        plan's expected joins and leavers' share), or None
    detail : also ``inputs.detail``'s variables by (row, age band), ``(P, T, R, B)`` under
        ``CELLS_PREFIX + name`` (expected counts: the fairness study's profiles)

    Returns
    -------
    dict
        Every variable of :mod:`engine.variables`, and the tilted claims' statistics under
        :data:`engine.model.tilt.CLAIM_STATS_KEY` (zeros: an expected path draws no tilt).
    """
    count, T = join_gamma.shape
    paths = np.zeros(count, dtype=np.int64) if paths is None else paths
    out = {v.name: np.zeros((count, T)) for v in VARIABLES}
    if detail:
        out.update({CELLS_PREFIX + name: np.zeros((count, T, inputs.n_rows,
                                                   inputs.n_age_bands))
                    for name in inputs.detail})
    state = initial_state(inputs, count, dtype=np.float64)
    draws = MeanDraws()
    for t in range(T):
        moves = {"in": None if moves_in is None else moves_in[:, t],
                 "out": None if moves_out is None else moves_out[:, t],
                 "enrolment": None if enrolment is None else enrolment.at(t)}
        step_quarter(inputs, state, t, draws, paths, join_gamma[:, t], incidence_level[:, t],
                     out, trace=None if traces is None else traces[t], moves=moves)
    out[CLAIM_STATS_KEY] = state.claim_stats
    return out


def expected_path(inputs: ModelInputs) -> dict[str, np.ndarray]:
    """The expected path of a scenario (drivers at their mean, 1): one value per variable
    and quarter, ``(T,)``."""
    ones = np.ones((1, inputs.quarters))
    out = mean_paths(inputs, ones, ones)
    del out[CLAIM_STATS_KEY]
    return {name: values[0] for name, values in out.items()}

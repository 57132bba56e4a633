"""The path loop of the numba kernel: the quarter's steps in the order of events.

The order is :mod:`engine.model.reference`'s (its module docstring); each step is a
function of :mod:`engine.kernel.members` or :mod:`engine.kernel.money`. Where the engines
may differ in the last bit: see :mod:`engine.model.elementwise` (``expm1`` and the sign of
a zero solvency gap); a count differs only if a uniform falls within that bit of a decision
boundary (about 1e-16 per draw). Amounts are sums of integer-valued products (exact below
2**53 yuan) when benefits are whole yuan, so their summation order does not matter.

Parallel over paths: :func:`simulate_paths_serial` releases the GIL and
:func:`engine.run.simulate.simulate_paths` runs disjoint ranges of paths on several threads,
each with its own ``State`` and ``Scratch``. A ``prange`` loop around the same path
function compiled twice as slowly (numba's parallel wrapper re-optimises the whole inlined
path function: about 20 s cold against 10 s), and each path's numbers do not depend on the
thread that ran it either way.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.kernel.members import (
    age_and_close,
    apply_stage,
    gather_stage,
    joins,
    pool_incidence,
    start_path,
    top_ups,
)
from engine.kernel.money import aid_due, count_sharers, share
from engine.kernel.records import STAGE, STAGE_ROUTE, STAGE_SKIP
from engine.model.events import repeats, skipped
from engine.random.cells import binomial_cells


@njit(cache=True, nogil=True, error_model="numpy")
def simulate_paths_serial(first, stop, path_start, par, tab, keys, drivers, st, scr, out):
    """Rows ``first .. stop − 1`` of the outputs (paths ``path_start + row``), one after
    another on one thread's ``State`` and ``Scratch``; releases the GIL. ``drivers``
    (``records.Drivers``) holds each path's systematic multipliers, the members moving
    in from and out to other plans of a platform, and an enrolled plan's enrolling plan's
    joins and leavers' share.

    The path loop and the quarter loop are one function: a separate path function costs
    another round of linking and optimising every step (about 3 s of cold compile).
    """
    for i in range(first, stop):
        start_path(par, tab.initial_members, st)
        c0 = np.uint64(path_start + i)
        for t in range(tab.hazard_factor.size):
            level_t = drivers.incidence_level[i, t]
            joins(t, i, c0, par, tab, keys, st, scr, out, drivers)
            # an enrolled plan's lapses: the share of the enrolling plan's members who left
            leave_q = (drivers.source_leave_q[i, t] if drivers.source_leave_q.shape[0] > 0
                       else 0.0)
            # 2.-4. the decrements of engine.model.events.DECREMENTS, in order
            severe_yuan = 0.0
            for stage in range(len(STAGE)):
                if skipped(STAGE_SKIP[stage], par.prepaid, par.waiting_quarters):
                    continue
                for k in range(repeats(STAGE_ROUTE[stage], par.n_payout_levels)):
                    # the stage's cells drawn together (engine.random.cells), called here
                    # rather than in a step so that one step fewer compiles the samplers
                    count = gather_stage(stage, k, t, par, tab, st, scr, level_t,
                                         leave_q)
                    binomial_cells(count, scr.draws, keys.k0, keys.k1, c0,
                                   np.uint64(keys.decrements[stage, t]))
                    severe_yuan += apply_stage(stage, k, t, i, par, tab, st, scr, out, count)
            pool_incidence(t, i, tab.group_incidence, st, out, level_t)
            top_ups(par, st, scr)
            due = aid_due(t, i, par, st, scr, out, severe_yuan, tab.benefit_factor[t],
                          tab.payment_pattern)
            count_sharers(t, i, par, st, scr, out)
            share(t, i, par, st, scr, out, due, tab.year_starts[t], tab.platform_funds[t],
                  tab.share_weight)
            age_and_close(t, i, par, st, out, drivers.arrivals, drivers.aged_cells)

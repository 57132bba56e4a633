"""When a quarter's claims are paid (``benefits.payment_pattern``): one rule for both engines.

Notes
-----
With pattern ``w_0 .. w_{L−1}`` (shares of a quarter's claims paid in that quarter and the
``L − 1`` after it) and ``pending_j`` what earlier quarters left due ``j + 1`` quarters on::

    due_t      = w_0 · incurred_t + pending_0
    pending_j  ← pending_{j+1} + w_{j+1} · incurred_t      (j < L − 2)
    pending_{L−2} ← w_{L−1} · incurred_t

With ``w = [1]`` all is due at once. Counts are expected shares (fractions of a claim).
"""

from __future__ import annotations

from numba.extending import register_jitable


@register_jitable
def fall_due(incurred, pending, pattern):
    """What falls due this quarter; updates ``pending`` in place.

    ``pending`` has ``L − 1`` rows (at least one, unused when ``L = 1``); each row is a
    scalar per path in the kernel and a per-path array in the reference.
    """
    last = pattern.size - 1
    due = pattern[0] * incurred
    if last > 0:
        due = due + pending[0]
        for j in range(last - 1):
            pending[j] = pending[j + 1] + pattern[j + 1] * incurred
        pending[last - 1] = pattern[last] * incurred
    return due

"""Each path's systematic drivers as results variables (``driver_*``, DESIGN §4).

A path's systematic draws (:mod:`engine.model.systematic`) decide most of what a pool of
millions does: the yearly innovations of the incidence level, the trend error, the shock
events' starts and the joins' mixing multipliers. The run keeps them beside the path's
results so that an analysis can condition on them (which drivers a ruin comes from:
:mod:`engine.analysis.reverse_stress`). Both engines draw them with the same numpy code
before the quarter loop, so they are the same bits whichever engine runs the counts.

Each is stored as the value the path used, on the scale of the model's own (untilted) law:

==========================  ===========================  ===================================
variable                    dims (after scenario, path)  law under the model
==========================  ===========================  ===================================
driver_level_innovation     calendar_year                ``ε_y ~ N(0, 1)``
driver_trend                (none)                       ``ε_τ ~ N(0, 1)``
driver_shock_start          quarter                      1 with probability ``q`` while no
                                                         event or catch-up is in progress
driver_join_multiplier      quarter                      ``G_t ~ Gamma(1/α, α)``: mean 1,
                                                         s.d. ``√α``
==========================  ===========================  ===================================

In a run with a ``[tail]`` tilt the stored value is the tilted draw (``ε + μ``, ``G`` drawn
with mean ``m``): what drove the path. Weighed by the file's ``weight`` its law is the
model's again, so every weighted statistic of a driver is the model's.

A driver a scenario does not draw (its parameter is 0) is not stored: a file whose
scenarios draw none has no ``driver_*`` variable and its root attribute
``systematic_drivers`` is empty (its paths differ only by the counts' own, diversifiable,
randomness); in a set where some scenarios draw a driver and others do not, the others'
values are NaN.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Driver(NamedTuple):
    name: str           # the results variable
    drawn: str          # its key in engine.model.systematic's ``drivers`` dict ("join": ours)
    dim: str | None     # its own dimension after (scenario, path), if any
    law: str            # "normal", "bernoulli" or "gamma" (module notes)
    long_name: str


DRIVERS: tuple[Driver, ...] = (
    Driver("driver_level_innovation", "level", "calendar_year", "normal",
           "innovation of the log incidence level in the calendar year, N(0, 1) under the "
           "model (engine.model.systematic)"),
    Driver("driver_trend", "trend", None, "normal",
           "the incidence trend's error, N(0, 1) under the model"),
    Driver("driver_shock_start", "shock_start", "quarter", "bernoulli",
           "1 if an incidence shock event started in the quarter, else 0"),
    Driver("driver_join_multiplier", "join", "quarter", "gamma",
           "the joins' mixing multiplier of the quarter, Gamma with mean 1 and variance "
           "growth.dispersion under the model"),
)
BY_NAME = {d.name: d for d in DRIVERS}
PREFIX = "driver_"
UNITS = "1"
CALENDAR_YEAR = "calendar_year"
ATTRIBUTE = "systematic_drivers"    # the root attribute listing the drivers a file stores


def is_driver(name: str) -> bool:
    return name.startswith(PREFIX)


def driver_outputs(drawn: dict[str, np.ndarray], multipliers: np.ndarray,
                   joins_drawn: bool) -> dict[str, np.ndarray]:
    """The ``driver_*`` arrays of a chunk of paths, ``(P, ...)`` float64.

    Parameters
    ----------
    drawn : what :func:`engine.model.systematic.incidence_levels` put in its ``drivers``
        dict (only the drivers the scenario draws)
    multipliers : ``(P, T)`` the joins' mixing multipliers
    joins_drawn : whether the multipliers were drawn (not ones for a dispersion of 0)
    """
    out = {}
    for d in DRIVERS:
        if d.drawn == "join":
            if joins_drawn:
                out[d.name] = np.asarray(multipliers, dtype=np.float64)
        elif d.drawn in drawn:
            out[d.name] = np.asarray(drawn[d.drawn], dtype=np.float64)
    return out

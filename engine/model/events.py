"""The binomial decrements of a quarter, declared once: the table both engines read.

Each :class:`Decrement` says what is drawn (its stream :class:`~engine.random.streams.Kind`,
which also names it), from whom, where the drawn count goes, which output variable counts
it, which members leave the plan by it, when the quarter has no such stage, and its
probability. :data:`DECREMENTS` lists them in the order the quarter draws them (the order of
events is written out in :mod:`engine.model.reference`).

The numba kernel numbers its stages from this tuple (``engine.kernel.records.STAGE``), keys
each stage's stream by its kind, gathers a stage's cells by its :class:`Route`, skips it by
its :class:`Skip` and adds its count to its ``output``; the numpy reference
(:func:`engine.model.reference.step_quarter`) loops over the same table. What differs
between decrements beyond the table is only each one's probability, built by one branch
in each engine (``engine.kernel.members.gather_stage`` and
``engine.model.reference.decrement_probability``) from the model's rules named in
``probability``.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

from numba.extending import register_jitable

from engine.random.streams import Kind


class Route(IntEnum):
    """Whom a decrement draws from and where its drawn count goes."""

    LEAVE = 0
    """Every (row, age, duration) cell with members; the drawn leave the plan and are
    counted in ``output``."""
    DIAGNOSE = 1
    """Every member cell; the drawn leave the plan: those past the waiting period are the
    quarter's claims, those in the quarter it ends wait for :attr:`ELIGIBLE`, those
    before it are counted in ``output``."""
    ELIGIBLE = 2
    """The diagnoses in the quarter the waiting period ends, per (row, age): the drawn are
    claims, the others are counted in ``output``."""
    MILD = 3
    """The quarter's claims, per (row, age): the drawn are mild claims, counted in
    ``output``; the others are severe and paid the age's benefit."""
    PAYOUT = 4
    """The severe claims, per (row, age), once per payout level (:mod:`engine.model.payout`,
    a chain of binomials): the drawn are paid the level's amount instead of the full
    benefit and counted in ``output``."""


class Skip(IntEnum):
    """When a quarter has no such stage (its draws are not made, its count is 0)."""

    NEVER = 0
    WITHOUT_PREPAID = 1    # no pre-paid deposits ([prepaid] absent)
    WITHOUT_WAITING = 2    # no waiting period (benefits.waiting_quarters = 0)


class Decrement(NamedTuple):
    kind: Kind                  # its stream, and its name (lower case: the kernel's stage)
    route: Route
    output: str                 # the variable (engine.variables) its count is added to
    leaving: tuple[str, ...]    # the variables that count members leaving the plan by it
    skip: Skip
    probability: str            # per cell and quarter, from the model's rules


DECREMENTS: tuple[Decrement, ...] = (
    Decrement(Kind.SUSPENSIONS, Route.LEAVE, "suspended", ("suspended",), Skip.WITHOUT_PREPAID,
              "prepaid.suspension_probability: 1 − topup_probability for a cohort whose "
              "balance is short of the last charge, else 0"),
    Decrement(Kind.DEATHS, Route.LEAVE, "deaths", ("deaths",), Skip.NEVER,
              "death_q[s, a] (death_q_joiners[s, a] at duration 0)"),
    Decrement(Kind.DIAGNOSES, Route.DIAGNOSE, "diagnosed_in_waiting",
              ("claims", "diagnosed_in_waiting"), Skip.NEVER,
              "units.prob_from_hazard(diagnosis_hazard_q[s, a, d] · hazard_factor[t] · Λ)"),
    Decrement(Kind.ELIGIBLE, Route.ELIGIBLE, "diagnosed_in_waiting", (), Skip.WITHOUT_WAITING,
              "1/2: a diagnosis in the quarter the waiting period ends falls after it"),
    Decrement(Kind.MILD, Route.MILD, "mild_claims", (), Skip.NEVER, "mild_share"),
    Decrement(Kind.PAYOUT_LEVEL, Route.PAYOUT, "claims_below_cap", (), Skip.NEVER,
              "payout_level_p[k]: level k's probability given the levels before it "
              "(payout.conditional_probabilities); drawn once per level, none without levels"),
    Decrement(Kind.LAPSES, Route.LEAVE, "lapses", ("lapses",), Skip.NEVER,
              "lapse.lapse_probability(lapse_fixed_q[d], lapse_cost_q[d], (c / c_ref)^(η σ)) "
              "(lapse.joiners_lapse at duration 0); an enrolled plan: the enrolling plan's "
              "leavers' share of the quarter f^k_t at every duration"),
)

LEAVING: tuple[str, ...] = tuple(dict.fromkeys(v for d in DECREMENTS for v in d.leaving))
"""The variables that count members leaving by a decrement (the roll-forward's terms)."""


@register_jitable
def repeats(route, n_payout_levels):
    """How many times a stage of ``route`` is drawn in a quarter: once per payout level for
    :attr:`Route.PAYOUT` (its draws keyed by the level in the cell's duration bits), else
    once."""
    return n_payout_levels if route == Route.PAYOUT else 1


@register_jitable
def skipped(skip, prepaid, waiting_quarters):
    """Whether a stage with ``skip`` (a :class:`Skip` value) is left out of the quarter."""
    return ((skip == Skip.WITHOUT_PREPAID and not prepaid)
            or (skip == Skip.WITHOUT_WAITING and waiting_quarters == 0))

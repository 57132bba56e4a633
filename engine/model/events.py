"""The order of the binomial decrements within a quarter: the one place it is defined.

Each entry is the stream kind of a decrement, in the order the quarter draws them (the
order of events is written out in :mod:`engine.model.reference`): pre-paid suspensions,
deaths, diagnoses, the eligible share of the diagnoses in the quarter a waiting period
ends, mild claims among the claims, lapses. The numba kernel numbers its
decrement stages from this tuple and keys each stage's stream by its kind.
"""

from __future__ import annotations

from engine.random.streams import Kind

DECREMENTS: tuple[Kind, ...] = (Kind.SUSPENSIONS, Kind.DEATHS, Kind.DIAGNOSES, Kind.ELIGIBLE,
                                Kind.MILD, Kind.LAPSES)

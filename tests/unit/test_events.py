"""The decrement table (engine.model.events) is consistent with what reads it."""

import numpy as np

from engine.kernel.records import INT_VARIABLES, STAGE, STAGE_SLOT
from engine.model.events import DECREMENTS, Route, Skip, skipped
from engine.random import streams


def test_each_decrement_has_its_own_stream_and_integer_outputs():
    kinds = [d.kind for d in DECREMENTS]
    assert len(set(kinds)) == len(kinds)
    joins = {streams.Kind.JOINS, streams.Kind.JOINS_TOTAL, streams.Kind.JOINS_GROUP}
    assert not joins & set(kinds)
    for d in DECREMENTS:
        assert d.output in INT_VARIABLES, d
        assert set(d.leaving) <= set(INT_VARIABLES), d
        assert d.probability, d


def test_the_kernel_numbers_its_stages_from_the_table():
    assert STAGE._fields == tuple(d.kind.name.lower() for d in DECREMENTS)
    assert [INT_VARIABLES[j] for j in STAGE_SLOT] == [d.output for d in DECREMENTS]


def test_members_leave_only_by_routes_that_take_them_out():
    for d in DECREMENTS:
        if d.route in (Route.ELIGIBLE, Route.MILD, Route.PAYOUT):
            assert d.leaving == (), d       # they split claims, nobody leaves
        else:
            assert d.leaving, d


def test_skip_rules():
    assert skipped(Skip.WITHOUT_PREPAID, False, 2) and not skipped(Skip.WITHOUT_PREPAID, True, 0)
    assert skipped(Skip.WITHOUT_WAITING, True, 0) and not skipped(Skip.WITHOUT_WAITING, False, 1)
    assert not any(skipped(Skip.NEVER, prepaid, w) for prepaid in (False, True) for w in (0, 3))
    assert np.all([isinstance(d.skip, Skip) for d in DECREMENTS])

"""The one-at-a-time sensitivity of the study's four answers: which keys it moves, where
they live in a scenario document, and the ranking by the largest change."""

import math
import tomllib
from pathlib import Path

import pytest

from engine.studies import assumption_sensitivity as A

ROOT = Path(__file__).resolve().parents[2]


def test_every_candidate_is_set_by_the_emutual_file_and_moves_alone():
    doc = tomllib.loads((ROOT / "scenarios" / "emutual.toml").read_text(encoding="utf-8"))
    found = A.applicable(doc)
    assert [c.key for c in found] == [c.key for c in A.CANDIDATES]
    moved = A.with_value(doc, "plans.children.enrolled_with.per_joiner", 0.4)
    assert moved["plans"][0]["enrolled_with"]["per_joiner"] == 0.4
    assert doc["plans"][0]["enrolled_with"]["per_joiner"] == 0.25      # a copy
    others = {k: v for k, v in moved.items() if k != "plans"}
    assert others == {k: v for k, v in doc.items() if k != "plans"}


def test_a_post_paid_scenario_gets_no_top_up_assumptions():
    doc = tomllib.loads((ROOT / "scenarios" / "xianghubao.toml").read_text(encoding="utf-8"))
    keys = [c.key for c in A.applicable(doc)]
    assert not any(k.startswith("prepaid.") or k.startswith("plans.") for k in keys)


def test_the_last_full_year_skips_a_partial_one():
    labels = ["2020Q3", "2020Q4", "2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1"]
    assert A.last_full_year(labels) == (2021, [2, 3, 4, 5])


def test_swings_are_ranked_by_their_largest_relative_change():
    base = {"members": 100.0, "claims": 10.0, "value": 1000.0, "share": 0.01}
    c = A.CANDIDATES[0]
    small = A.Swing(c, 0.9, dict(base), {**base, "members": 110.0})
    large = A.Swing(c, 0.9, dict(base), {**base, "claims": 15.0})
    assert small.largest(base) == pytest.approx(0.1)
    assert large.largest(base) == pytest.approx(0.5)
    nan_share = A.Swing(c, 0.9, {**base, "share": math.nan}, base)
    assert nan_share.largest(base) == 0.0

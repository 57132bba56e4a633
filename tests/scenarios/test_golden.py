"""Results do not move unless a change means them to: per-variable checksums of every
shipped scenario and stress set, in both backends (the numpy reference on the first three
scenarios of a set), against ``tests/golden/checksums.json``
(refresh with ``python -m tests.golden.refresh`` in a commit that bumps the version and says
why in CHANGELOG.md)."""

import json

import pytest

from tests.golden.refresh import BACKENDS, CHECKSUMS, checksums_of, key, shipped_files

pytestmark = pytest.mark.slow

GOLDEN = json.loads(CHECKSUMS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", shipped_files(), ids=key)
def test_shipped_results_equal_the_golden_checksums(path, backend):
    expected = GOLDEN["checksums"][backend].get(key(path))
    assert expected is not None, f"{key(path)} has no golden checksums: refresh them"
    got = checksums_of(path, backend, GOLDEN["paths"])
    moved = sorted(name for name in expected.keys() | got.keys()
                   if expected.get(name) != got.get(name))
    assert not moved, f"{key(path)} ({backend}): results moved for {', '.join(moved)}"

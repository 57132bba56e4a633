"""Philox4x32-10 against Random123's known answers; keyed uniforms."""

import numpy as np
import pytest

from engine.random import streams

# Random123 kat_vectors (philox4x32, 7 and 10 rounds): counter, key -> output.
KAT = [
    (10, [0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    (10, [0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    (10, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
    (7, [0, 0, 0, 0], [0, 0], [0x5F6FB709, 0x0D893F64, 0x4F121F81, 0x4F730A48]),
    (7, [0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0x4DFCCABA, 0x190A87F0, 0xC47362BA, 0xB6B5242A]),
]


@pytest.mark.parametrize("rounds,ctr,key,expected", KAT)
def test_philox_known_answers(rounds, ctr, key, expected):
    out = streams.philox4x32(*ctr, *key, rounds=rounds)
    assert [int(w) for w in out] == expected


def test_uniforms_are_strictly_inside_the_unit_interval():
    assert streams.words_to_uniform(0, 0) == 0.5 * 2.0 ** -52
    top = streams.words_to_uniform(0xFFFFFFFF, 0xFFFFFFFF)
    assert top < 1.0 and 1.0 - top == 0.5 * 2.0 ** -52


def test_a_draw_depends_only_on_its_own_counter():
    s = streams.Stream(seed=123, quarter=4, kind=streams.Kind.DIAGNOSES)
    paths = np.arange(1000)
    u_all, v_all = s.uniforms(paths, 17, 0)
    u_one, v_one = s.uniforms(np.array([637]), 17, 0)
    assert u_all[637] == u_one[0] and v_all[637] == v_one[0]


def uniform_pair(seed, path, quarter, kind, cell, attempt):
    """The two uniforms of one Philox block keyed by what the draw means."""
    return streams.Stream(seed, quarter, kind).uniforms(np.array([path]), cell, attempt)


def test_every_part_of_the_key_changes_the_numbers():
    base = uniform_pair(5, 3, 2, streams.Kind.DEATHS, 9, 0)[0]
    for changed in (uniform_pair(6, 3, 2, streams.Kind.DEATHS, 9, 0),
                    uniform_pair(5, 4, 2, streams.Kind.DEATHS, 9, 0),
                    uniform_pair(5, 3, 3, streams.Kind.DEATHS, 9, 0),
                    uniform_pair(5, 3, 2, streams.Kind.LAPSES, 9, 0),
                    uniform_pair(5, 3, 2, streams.Kind.DEATHS, 10, 0),
                    uniform_pair(5, 3, 2, streams.Kind.DEATHS, 9, 1)):
        assert changed[0] != base


def test_seeds_use_all_64_bits():
    assert streams.seed_key(2**32 + 5) == (5, 1)
    a = uniform_pair(5, 0, 0, 1, 0, 0)[0]
    b = uniform_pair(2**32 + 5, 0, 0, 1, 0, 0)[0]
    assert a != b
    with pytest.raises(ValueError):
        streams.seed_key(2**64)


def test_uniforms_look_uniform():
    u, v = streams.Stream(1, 0, 1).uniforms(np.arange(200_000), 0, 0)
    for x in (u, v):
        # Mean of U(0,1) is 1/2 with s.e. sqrt(1/12/n).
        se = np.sqrt(1 / 12 / x.size)
        assert abs(x.mean() - 0.5) < 4 * se
    assert abs(np.corrcoef(u, v)[0, 1]) < 4 / np.sqrt(u.size)

"""Counter-based random streams keyed by what a draw means (DESIGN §2).

Every uniform number is a pure function of ``(seed, path, quarter, kind, cell, attempt)``:
the Philox4x32-10 block cipher (Salmon et al., "Parallel random numbers: as easy as 1, 2,
3", SC'11; checked against Random123's known-answer vectors in the tests) maps

* key     ``(seed mod 2**32, seed div 2**32)``
* counter ``(path, kind · 2**24 + quarter, cell, attempt)``

to four 32-bit words, read as two uniforms with 52 random bits each. A path's numbers
therefore never depend on which other paths, scenarios, threads, chunks or machines ran
with it, and scenarios of a set share their noise (common random numbers): the scenario is
not part of the key.

``attempt`` numbers the blocks one draw consumes: a rejection sampler uses block 0 for
its first try, block 1 for its second, and so on.

Kinds (:class:`Kind`; part of the contract: changing one changes every result)::

    JOIN_GAMMA = 1   joins' negative-binomial mixing multiplier, one per (path, quarter)
    JOINS      = 2   the quarter's joins split over (sex, age-quarter) cells: one draw per
                     node of the binary tree (engine.model.growth.split_tree), cell = node
    DEATHS     = 3   deaths per cell
    DIAGNOSES  = 4   diagnoses per cell
    MILD       = 5   mild claims among a (sex, age-quarter)'s claims
    LAPSES     = 6   lapses per cell
    SUSPENSIONS = 7  pre-paid members suspended (balance not topped up) per cell
    JOINS_TOTAL = 8  the quarter's joins, one per (path, quarter), cell 0
    ELIGIBLE   = 9   diagnoses in the quarter the waiting period ends that are past it
    INCIDENCE_LEVEL = 10  systematic incidence level: one normal per (path, year), cell 0
    INCIDENCE_TREND = 11  systematic trend error: one normal per path (quarter 0), cell 0
    INCIDENCE_SHOCK = 12  systematic shock events: one uniform per (path, quarter), cell 0
    JOINS_GROUP = 13 a (sex, age-quarter) cell's joiners in group k, keyed by that row's cell
    SCENARIO   = 14  the key of scenario i of a set with independent streams (path = i)

Cells of group ``k > 0`` are keyed above the sex bit (:mod:`engine.model.inputs`), so the
cells of group 0 keep the keys they had before risk groups existed.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

GENERATOR = "philox4x32-10"
GENERATOR_VERSION = "mutualsim-streams-3"



class Kind(IntEnum):
    """What a draw means: the counter's kind (the one table of stream kinds)."""

    JOIN_GAMMA = 1
    JOINS = 2
    DEATHS = 3
    DIAGNOSES = 4
    MILD = 5
    LAPSES = 6
    SUSPENSIONS = 7
    JOINS_TOTAL = 8
    ELIGIBLE = 9
    INCIDENCE_LEVEL = 10
    INCIDENCE_TREND = 11
    INCIDENCE_SHOCK = 12
    JOINS_GROUP = 13
    SCENARIO = 14
    PAYOUT_LEVEL = 15


PHILOX_M0 = 0xD2511F53
PHILOX_M1 = 0xCD9E8D57
PHILOX_W0 = 0x9E3779B9
PHILOX_W1 = 0xBB67AE85
MASK32 = 0xFFFFFFFF
TWO_POW_M52 = 2.0 ** -52
MAX_QUARTER = 2 ** 24 - 1


def seed_key(seed: int) -> tuple[int, int]:
    """The Philox key of a 64-bit seed: its low and high 32-bit halves."""
    seed = int(seed)
    if not 0 <= seed < 2 ** 64:
        raise ValueError(f"seed must be in [0, 2**64) (got {seed})")
    return seed & MASK32, seed >> 32


def scenario_seed(seed: int, index: int) -> int:
    """The seed of scenario ``index`` of a set with independent streams: the 64 bits of the
    Philox block keyed by ``seed`` at counter ``(index, SCENARIO · 2**24, 0, 0)``. Common
    streams (the default) use ``seed`` itself for every scenario."""
    k0, k1 = seed_key(seed)
    w0, w1, _, _ = philox4x32(np.uint64(index), quarter_kind_word(0, Kind.SCENARIO), 0, 0,
                              k0, k1)
    return int(w0) | (int(w1) << 32)


def quarter_kind_word(quarter: int, kind: int) -> int:
    """The counter's second word: ``kind · 2**24 + quarter``."""
    return (int(kind) << 24) | int(quarter)


def philox4x32(c0, c1, c2, c3, k0: int, k1: int, rounds: int = 10):
    """Philox4x32 with ``rounds`` rounds on arrays of counters (broadcast together).

    Returns four ``uint64`` arrays holding 32-bit words.

    Notes
    -----
    One round: ``(hi0, lo0) = M0 · c0``, ``(hi1, lo1) = M1 · c2`` (64-bit products), then
    ``c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)``; the key is bumped by the Weyl
    constants ``W0, W1`` between rounds.
    """
    c0, c1, c2, c3 = np.broadcast_arrays(*(np.asarray(c, dtype=np.uint64) for c in
                                           (c0, c1, c2, c3)))
    m0, m1, mask = np.uint64(PHILOX_M0), np.uint64(PHILOX_M1), np.uint64(MASK32)
    s32 = np.uint64(32)
    key0, key1 = int(k0), int(k1)
    for r in range(rounds):
        if r:
            key0 = (key0 + PHILOX_W0) & MASK32
            key1 = (key1 + PHILOX_W1) & MASK32
        p0 = c0 * m0
        p1 = c2 * m1
        c0, c1, c2, c3 = ((p1 >> s32) ^ c1 ^ np.uint64(key0), p1 & mask,
                          (p0 >> s32) ^ c3 ^ np.uint64(key1), p0 & mask)
    return c0, c1, c2, c3


def words_to_uniform(hi, lo):
    """Two 32-bit words → a uniform in (0, 1) with 52 random bits: ``(x + 1/2) · 2**-52``.

    ``x = hi · 2**20 + lo // 2**12``; ``x + 1/2`` is exact in a double, so the result is
    never 0 or 1 and logarithms of it and of ``1 − u`` are finite.
    """
    x = (np.asarray(hi, np.uint64) << np.uint64(20)) | (np.asarray(lo, np.uint64)
                                                         >> np.uint64(12))
    return (x.astype(np.float64) + 0.5) * TWO_POW_M52


class Stream:
    """The streams of one (seed, quarter, kind): uniforms for given paths and cells."""

    __slots__ = ("seed", "quarter", "kind", "k0", "k1", "word1")

    def __init__(self, seed: int, quarter: int, kind: int):
        if not 0 <= quarter <= MAX_QUARTER:
            raise ValueError(f"quarter index out of range (got {quarter})")
        self.seed, self.quarter, self.kind = seed, quarter, kind
        self.k0, self.k1 = seed_key(seed)
        self.word1 = quarter_kind_word(quarter, kind)

    def uniforms(self, path, cell, attempt):
        """``(u, v)``: the two uniforms of block ``attempt`` for each ``(path, cell)``."""
        w0, w1, w2, w3 = philox4x32(path, self.word1, cell, attempt, self.k0, self.k1)
        return words_to_uniform(w0, w1), words_to_uniform(w2, w3)

"""Binomial draws for many cells of one stream at once: the kernel's decrements.

The draws are those of :func:`engine.random.compiled.binomial`, bit for bit (so those of
:func:`engine.random.samplers.binomial`); only the order of the work changes, so that the
machine is kept busy rather than waiting:

1. **First blocks together.** Every cell's Philox block 0 (counter ``(c0, c1, cell, 0)``) is
   computed in one loop over the cells that LLVM vectorises (eight 64-bit lanes with
   AVX-512: about 2 ns a block against 13 ns for one block alone, whose ten rounds are a
   chain of dependent multiplications).
2. **Zero squeeze.** Inversion returns 0 when ``u ≤ f(0) = (1 − r)**n``. Since
   ``(1 − r)**n ≥ 1 − n·r`` (Bernoulli's inequality), ``u ≤ 1 − n·r − margin`` returns 0
   without computing ``f(0)``; ``margin = 4e-15`` covers the error of the computed ``f(0)``
   (:func:`engine.random.elementary.no_event_probability`: relative ``(5|y| + 4)·2**-53``
   with ``|y| ≤ 1.39·n·r``, and the squeeze can only apply where ``n·r < 1``: below
   ``1.3e-15``) and the rounding of ``1 − n·r − margin`` (a few ``2**-53``), so the
   squeeze returns 0 only where the inversion does. About a third of the default
   scenario's decrements (cells where ``n·r < 0.1``) end here.
3. **Inversion searches advanced together.** ``f(0)`` of the remaining inversion draws is
   computed in one loop LLVM vectorises (no call to ``pow``); then the first
   :data:`DENSE_STEPS` steps of every search, stopped or not, in loops over plain arrays
   that LLVM vectorises too (a stopped search stays stopped, so its ``k`` stays); then each
   pass advances every search still going by one step and keeps those still going in a
   list. No branch depends on a draw's value: one at a time, a search's end is a
   mispredicted branch and its steps a chain of dependent operations, about 7 ns a step on
   the default scenario (the dense steps: about 1 ns).
4. **BTRS in rounds.** For ``n·r ≥ 10`` the candidate and the squeeze of block 0 are
   computed in one loop over plain arrays that LLVM vectorises (:func:`_btrs_candidates`:
   square root, divisions and ``floor`` eight at a time); the draws the squeeze does not
   accept (37 % of the default scenario's) get the exact test (four logarithms) in a second
   loop, again without a branch on the verdict; the draws rejected (17 %) try block 1 the
   same way, with their blocks computed together, then block 2 (:data:`BTRS_ROUNDS`).

A search past ``min(n, n·r + 9)`` is redone from block 0 by the scalar sampler, the
definition, and a BTRS draw rejected in every round goes on in it from the next block; so
the batch returns exactly what the scalar sampler returns, which the tests check in every
regime.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

from engine.random.compiled import (
    _MASK,
    _fc,
    binomial_given,
    philox_uniforms,
)
from engine.random.elementary import no_event_probability
from engine.random.rejection import btrs_constants, candidate
from engine.random.samplers import BINOMIAL_INVERSION_MAX

SQUEEZE_MARGIN = 4e-15           # the zero squeeze's margin (module docstring, step 2)
REDO = -1                        # a draw the fast steps leave to the scalar sampler
CONTINUE = -2                    # BTRS: rejected in every round, on from block BTRS_ROUNDS
DENSE_STEPS = 6                  # inversion: steps of every search before the list
                                 # (4, 6, 8 measured: 0.90, 0.88, 0.89 of the list alone)
BTRS_ROUNDS = 3                  # BTRS: blocks tried together (83 %, 97 %, 99.5 % accepted)
ACCEPT, TEST = 1, 0              # BTRS: squeezed, or to be tested exactly


class CellDraws(NamedTuple):
    """One thread's arrays for the draws of a stage, ``capacity`` cells each.

    The caller fills ``n``, ``p`` and ``cell`` (the counter's third word) for cells
    ``0 .. count − 1``; :func:`binomial_cells` writes the draws to ``x``. The other arrays
    are work space.
    """

    n: np.ndarray       # int64 trials
    p: np.ndarray       # float64 probability
    cell: np.ndarray    # int64 counter word of the cell
    x: np.ndarray       # int64 draws
    u: np.ndarray       # float64 block 0, first uniform
    v: np.ndarray       # float64 block 0, second uniform
    inversion: np.ndarray   # int64 cells left to the inversion search
    btrs: np.ndarray        # int64 cells drawn by BTRS
    walk_u: np.ndarray      # float64 the search: u less the probabilities passed
    walk_f: np.ndarray      # float64 f(k)
    walk_k: np.ndarray      # float64 k
    walk_a: np.ndarray      # float64 (n + 1) r / q
    walk_s: np.ndarray      # float64 r / q
    walk_cap: np.ndarray    # float64 min(n, n·r + 9): beyond it, the scalar sampler
    active: np.ndarray      # int64 searches still going; BTRS: the squeeze's verdict
    round_cell: np.ndarray  # int64 BTRS: the cells of a round's blocks
    round_u: np.ndarray     # float64 BTRS: a round's blocks, first uniform
    round_v: np.ndarray     # float64 BTRS: a round's blocks, second uniform


def cell_draws(capacity: int) -> CellDraws:
    """Work arrays for up to ``capacity`` cells a stage."""
    capacity = max(int(capacity), 1)
    ints = ("n", "cell", "x", "inversion", "btrs", "active", "round_cell")
    return CellDraws(**{name: np.zeros(capacity, np.int64 if name in ints else np.float64)
                        for name in CellDraws._fields})


@njit(cache=True)
def first_blocks(count, cell, k0, k1, c0, c1, c3, u, v):
    """``u[j], v[j]``: the uniforms of Philox block ``c3`` at counter ``(c0, c1, cell[j], c3)``,
    in a loop LLVM vectorises (:func:`engine.random.compiled.philox_uniforms` is inlined
    by numba)."""
    for j in range(count):
        u[j], v[j] = philox_uniforms(k0, k1, c0, c1, np.uint64(cell[j]) & _MASK, c3)


@njit(cache=True)
def binomial_cells(count, cd, k0, k1, c0, c1):
    """``cd.x[j] = Binomial(cd.n[j], cd.p[j])`` on counter ``(c0, c1, cd.cell[j])`` for
    ``j < count``: :func:`engine.random.compiled.binomial`'s draws, computed together."""
    first_blocks(count, cd.cell, k0, k1, c0, c1, np.uint64(0), cd.u, cd.v)
    n_inversion = np.int64(0)   # not literal zeros: the passes compile for int64 only
    n_btrs = np.int64(0)
    for j in range(count):
        n = cd.n[j]
        p = cd.p[j]
        x = 0
        if n > 0 and p > 0.0:
            flip = p > 0.5
            r = 1.0 - p if flip else p
            if r == 0.0:
                x = n
            else:
                nf = float(n)
                nr = nf * r
                if nr < BINOMIAL_INVERSION_MAX:
                    u = 1.0 - cd.u[j] if flip else cd.u[j]
                    if u > 1.0 - nr - SQUEEZE_MARGIN:
                        cd.inversion[n_inversion] = j
                        n_inversion += 1
                    elif flip:
                        x = n
                else:
                    cd.btrs[n_btrs] = j
                    n_btrs += 1
        cd.x[j] = x
    if n_inversion > 0:
        _inversion_cells(n_inversion, cd)
    if n_btrs > 0:
        _btrs_cells(n_btrs, cd, k0, k1, c0, c1)
    if n_inversion + n_btrs > 0:
        # the draws the fast steps left, by the scalar sampler (one call site: its body is
        # compiled once): from block 0, or BTRS after its rounds
        for j in range(count):
            if cd.x[j] < 0:
                first = np.int64(0) if cd.x[j] == REDO else np.int64(BTRS_ROUNDS)
                cd.x[j] = binomial_given(cd.n[j], cd.p[j], cd.u[j], cd.v[j], first, k0, k1, c0,
                                         c1, np.uint64(cd.cell[j]))


@njit(cache=True, error_model="numpy")
def _inversion_cells(m, cd):
    """Step 3 of the module docstring for the cells ``cd.inversion[:m]``."""
    for i in range(m):
        j = cd.inversion[i]
        p = cd.p[j]
        flip = p > 0.5
        r = 1.0 - p if flip else p
        nf = float(cd.n[j])
        q = 1.0 - r
        s = r / q
        cd.walk_f[i] = r      # (f(0) in the next loop)
        cd.walk_k[i] = nf     # (0 in the next loop)
        cd.walk_a[i] = (nf + 1.0) * s
        cd.walk_s[i] = s
        cd.walk_u[i] = 1.0 - cd.u[j] if flip else cd.u[j]
        cd.walk_cap[i] = min(nf, nf * r + 9.0)
    # f(0) on two arrays only: with the gathers and six arrays written above, LLVM would
    # not vectorise it (too many checks that the arrays do not overlap)
    for i in range(m):
        cd.walk_f[i] = no_event_probability(cd.walk_k[i], cd.walk_f[i])
        cd.walk_k[i] = 0.0
    # the first steps of every search, over plain arrays (vectorised): a search that has
    # stopped stays stopped (u ≤ 0 ≤ f from then on, or k past the bound) and keeps its k;
    # the one exception, f turned negative by rounding at k = n, ends past the bound and is
    # redone by the scalar sampler
    for _ in range(DENSE_STEPS):
        for i in range(m):
            f = cd.walk_f[i]
            u = cd.walk_u[i]
            k = cd.walk_k[i]
            go = (u > f) & (k <= cd.walk_cap[i])
            cd.walk_u[i] = u - f
            cd.walk_f[i] = f * (cd.walk_a[i] / (k + 1.0) - cd.walk_s[i])
            cd.walk_k[i] = k + np.float64(go)
    # then one step of every search still going, and the list of those still going
    # shrinks; no branch depends on a draw (a search's end costs no misprediction), and a
    # stopped search's u and f are not read again (only its k)
    going = 0
    for i in range(m):
        cd.active[going] = i
        going += (cd.walk_u[i] > cd.walk_f[i]) & (cd.walk_k[i] <= cd.walk_cap[i])
    while going > 0:
        still = 0
        for g in range(going):
            i = cd.active[g]
            f = cd.walk_f[i]
            u = cd.walk_u[i]
            k = cd.walk_k[i]
            go = (u > f) & (k <= cd.walk_cap[i])
            step = k + 1.0
            cd.walk_u[i] = u - f
            cd.walk_f[i] = f * (cd.walk_a[i] / step - cd.walk_s[i])
            cd.walk_k[i] = k + np.float64(go)
            cd.active[still] = i
            still += go
        going = still
    for i in range(m):
        j = cd.inversion[i]
        n = cd.n[j]
        if cd.walk_k[i] > cd.walk_cap[i]:
            cd.x[j] = REDO    # past the cheap bound: the scalar sampler decides
        else:
            x = int(cd.walk_k[i])
            cd.x[j] = n - x if cd.p[j] > 0.5 else x


@njit(cache=True, error_model="numpy")
def _btrs_candidates(m, n, r, u, v, k_out, verdict_out):
    """BTRS's candidate ``k`` and squeeze for lanes ``0 .. m − 1`` (trials ``n``, probability
    ``r ≤ 1/2``, uniforms ``u``, ``v``): ``verdict_out`` is ``us`` if squeezed, ``−us`` if
    the exact test must decide, 0 if ``k`` is out of range (``us > 0`` always). Plain
    arrays and no branch: LLVM vectorises it (square root, divisions, floor)."""
    for i in range(m):
        nf = n[i]
        _, _, b, a, c, v_r, _, _, _ = btrs_constants(nf, r[i])
        us, k = candidate(u[i], a, b, c, 0.0)
        valid = (k >= 0.0) & (k <= nf)
        squeezed = valid & (us >= 0.07) & (v[i] <= v_r)
        k_out[i] = k
        verdict_out[i] = us * (np.float64(squeezed) - np.float64(valid & ~squeezed))


@njit(cache=True)
def _btrs_cells(m, cd, k0, k1, c0, c1):
    """Step 4 of the module docstring for the cells ``cd.btrs[:m]``, in rounds: round ``a``
    tries block ``a`` of every draw not yet accepted — the candidate and squeeze for all,
    then the exact test (four logarithms) for those the squeeze leaves, one after another
    without branching on the verdict; after :data:`BTRS_ROUNDS` rounds the scalar sampler
    goes on from the next block."""
    for attempt in range(BTRS_ROUNDS):
        if m == 0:
            break
        if attempt == 0:
            for i in range(m):
                j = cd.btrs[i]
                cd.round_u[i] = cd.u[j]
                cd.round_v[i] = cd.v[j]
        else:
            for i in range(m):
                cd.round_cell[i] = cd.cell[cd.btrs[i]]
            first_blocks(m, cd.round_cell, k0, k1, c0, c1, np.uint64(attempt), cd.round_u,
                         cd.round_v)
        # the inversion's work arrays, free by now, hold each draw's n and r as plain
        # arrays for _btrs_candidates, and its verdict in walk_f
        for i in range(m):
            j = cd.btrs[i]
            p = cd.p[j]
            cd.walk_s[i] = 1.0 - p if p > 0.5 else p
            cd.walk_a[i] = float(cd.n[j])
        _btrs_candidates(m, cd.walk_a, cd.walk_s, cd.round_u, cd.round_v, cd.walk_k,
                         cd.walk_f)
        for i in range(m):
            us = cd.walk_f[i]
            verdict = ACCEPT if us > 0.0 else (TEST if us < 0.0 else REDO)
            cd.walk_u[i] = abs(us)
            cd.active[i] = verdict
        for i in range(m):
            if cd.active[i] != TEST:
                continue
            j = cd.btrs[i]
            p = cd.p[j]
            r = 1.0 - p if p > 0.5 else p
            nf = float(cd.n[j])
            k = cd.walk_k[i]
            us = cd.walk_u[i]
            # engine.random.compiled._btrs's test, operation for operation
            _, _, b, a, _, _, alpha, lpq, mode = btrs_constants(nf, r)
            h = ((mode + 0.5) * math.log((mode + 1.0) / (lpq * (nf - mode + 1.0))) + _fc(mode)
                 + _fc(nf - mode))
            lhs = math.log(cd.round_v[i] * alpha / (a / (us * us) + b))
            rhs = (h + (nf + 1.0) * math.log((nf - mode + 1.0) / (nf - k + 1.0))
                   + (k + 0.5) * math.log(lpq * (nf - k + 1.0) / (k + 1.0))
                   - _fc(k) - _fc(nf - k))
            cd.active[i] = ACCEPT if lhs <= rhs else REDO
        kept = 0
        for i in range(m):
            j = cd.btrs[i]
            if cd.active[i] == ACCEPT:
                x = int(cd.walk_k[i])
                cd.x[j] = cd.n[j] - x if cd.p[j] > 0.5 else x
            else:
                cd.btrs[kept] = j
                kept += 1
        m = kept
    for i in range(m):
        cd.x[cd.btrs[i]] = CONTINUE

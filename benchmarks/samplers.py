"""(b), (c) The samplers on the default scenario's own draws, and the kernel against them.

Measurement ``samplers``: every draw the default scenario makes on a set of paths is recorded
through the numpy reference (which makes the same draws as the kernel) and replayed, in this
process on one thread: through the kernel's batch (a stage's cells of one path together,
joins one at a time), through the samplers one draw at a time (the kernel before issue 15)
and through numpy's vectorised ``Generator.binomial`` / ``poisson`` with per-draw
parameters. The kernel's cells/s on one thread over the same paths, against the samplers'
time alone, gives the share of kernel time spent outside the samplers.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import DEFAULT_SCENARIO, Context, best_of, load_inputs

# the decrements are drawn a stage at a time (engine.random.cells), the joins one at a time
STAGE_KINDS = ("DEATHS", "DIAGNOSES", "MILD", "LAPSES", "SUSPENSIONS", "ELIGIBLE")


class Recorder:
    """KeyedDraws that also keeps every draw's parameters (n, p or λ) and counters."""

    def __init__(self, seed: int):
        from engine.model.reference import KeyedDraws

        self.draws = KeyedDraws(seed)
        self.binomial_calls: list[tuple] = []
        self.poisson_calls: list[tuple] = []

    @staticmethod
    def _flat(shape, *arrays):
        return [np.broadcast_to(np.asarray(a), shape).ravel().copy() for a in arrays]

    def binomial(self, n, p, t, kind, path, cell):
        """Record, then draw as :class:`engine.model.reference.KeyedDraws` does."""
        n = np.asarray(n)
        self.binomial_calls.append((*self._flat(n.shape, n, p, path, cell), t, kind))
        return self.draws.binomial(n, p, t, kind, path, cell)

    def poisson(self, lam, t, kind, path, cell):
        """Record, then draw as :class:`engine.model.reference.KeyedDraws` does."""
        lam = np.asarray(lam)
        self.poisson_calls.append((*self._flat(lam.shape, lam, path, cell), t, kind))
        return self.draws.poisson(lam, t, kind, path, cell)


def _stack(calls, drop_zero: bool):
    """Recorded calls as flat arrays (parameters, path, cell) and each draw's counter word."""
    from engine.random import streams

    if not calls:
        # (the default scenario's joins are binomial within its market: no Poisson)
        return None
    cols = list(zip(*calls, strict=True))
    arrays = [np.concatenate(c) for c in cols[:-2]]
    words = np.concatenate([np.full(len(c[0]), streams.quarter_kind_word(t, kind))
                            for c, t, kind in zip(calls, cols[-2], cols[-1], strict=True)])
    keep = arrays[0] > 0 if drop_zero else np.ones(arrays[0].size, bool)
    return [a[keep] for a in arrays] + [words[keep]]


def recorded_draws(paths: int = 40):
    """Every draw the default scenario makes on ``paths`` paths, as the kernel makes them
    (cells with n = 0 are skipped by the kernel and dropped here).

    Returns
    -------
    tuple
        ``(inputs, seed, binomial, poisson)``: the scenario's inputs and seed, the binomial
        draws as ``[n, p, path, cell, word]`` arrays and the Poisson draws as
        ``[lam, path, cell, word]`` (None when the scenario draws none).
    """
    from engine.model import reference
    from engine.model.systematic import incidence_levels, join_multipliers
    from engine.variables import empty_outputs

    inputs, seed = load_inputs(DEFAULT_SCENARIO)
    rec = Recorder(seed)
    path_ids = np.arange(paths)
    state = reference.initial_state(inputs, paths)
    out = empty_outputs(paths, inputs.quarters)
    gamma = join_multipliers(inputs.join_dispersion, inputs.quarters, inputs.tilt, seed,
                             path_ids)[0]
    levels, _ = incidence_levels(inputs.systematic, seed, path_ids,
                                 inputs.year_of_quarter)
    for t in range(inputs.quarters):
        reference.step_quarter(inputs, state, t, rec, path_ids, gamma[:, t], levels[:, t], out)
    return inputs, seed, _stack(rec.binomial_calls, True), _stack(rec.poisson_calls, False)


def _binomial_runs(seed: int, binomial_calls):
    """The recorded binomial draws split, before timing, into the kernel's batches (by
    counter word, stages by path) and into one-at-a-time groups; returns the two replays
    (functions of no argument) and the share of draws made in stages."""
    from engine.random import batch as kernel
    from engine.random import streams
    from engine.random.cells import cell_draws

    k0, k1 = streams.seed_key(seed)
    n, p, path, cell, words = binomial_calls
    staged = np.isin(words >> 24, [int(streams.Kind[k]) for k in STAGE_KINDS])
    order = np.lexsort((path, words))
    sn, sp, spath, scell, swords = (a[order][staged[order]] for a in (n, p, path, cell, words))
    key = swords.astype(np.int64) * (int(path.max()) + 1) + spath
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1], True])
    cd = cell_draws(int(np.diff(starts).max()))
    sout = np.zeros(sn.size, dtype=np.int64)
    single = [(int(w), n[m], p[m], path[m], cell[m]) for w in np.unique(words[~staged])
              for m in [~staged & (words == w)]]
    groups = [(int(w), n[words == w], p[words == w], path[words == w], cell[words == w])
              for w in np.unique(words)]
    out = np.zeros(n.size, dtype=np.int64)

    def ours_binomial():
        kernel.binomial_stage_draws(sn, sp, k0, k1, swords[starts[:-1]], spath[starts[:-1]],
                                    scell, starts, cd, sout)
        for w, gn, gp, gpath, gcell in single:
            kernel.binomial_draws(gn, gp, k0, k1, w, gpath, gcell, out)

    def one_at_a_time():
        for w, gn, gp, gpath, gcell in groups:
            kernel.binomial_draws(gn, gp, k0, k1, w, gpath, gcell, out)

    return ours_binomial, one_at_a_time, float(staged.mean())


def _poisson_speeds(seed: int, poisson_calls, rng) -> tuple[float, float]:
    """Seconds (best of three) of the recorded Poisson draws, ours one at a time by counter
    word, and numpy's on the same λ."""
    from engine.random import batch as kernel
    from engine.random import streams

    k0, k1 = streams.seed_key(seed)
    lam, lpath, lcell, lwords = poisson_calls
    lgroups = [(int(w), lam[lwords == w], lpath[lwords == w], lcell[lwords == w])
               for w in np.unique(lwords)]
    lout = np.zeros(lam.size, dtype=np.int64)

    def ours_poisson():
        for w, glam, gpath, gcell in lgroups:
            kernel.poisson_draws(glam, k0, k1, w, gpath, gcell, lout)

    ours_poisson()
    return best_of(ours_poisson), best_of(lambda: rng.poisson(lam))


def sampler_speeds(inputs, seed, binomial_calls, poisson_calls) -> dict:
    """The recorded binomial draws as the kernel makes them (a stage's cells of one path
    together, joins one at a time), the same draws one at a time as the kernel before
    issue 15 made them, and numpy's ``Generator.binomial`` on the same parameters; the
    Poisson draws, if any, ours and numpy's. Only the draws are timed (best of three).

    Returns
    -------
    dict
        ``sampler_ns_per_draw``, ``one_at_a_time_ns_per_draw``, ``numpy_sampler_ns_per_draw``
        (ns per binomial draw), ``staged_draw_share`` (fraction of draws made in stages),
        ``binomial_draws_recorded``, ``poisson_draws_recorded`` (counts), with Poisson draws
        ``poisson_ns_per_draw`` and ``numpy_poisson_ns_per_draw`` (ns per draw), and
        ``_sampler_seconds`` (ours, all draws, seconds; not recorded).
    """
    n, p = binomial_calls[0], binomial_calls[1]
    ours_binomial, one_at_a_time, staged_share = _binomial_runs(seed, binomial_calls)
    ours_binomial()
    one_at_a_time()
    rng = np.random.default_rng(1)
    t_ours = best_of(ours_binomial)
    t_single = best_of(one_at_a_time)
    t_numpy = best_of(lambda: rng.binomial(n, p))
    result = {"sampler_ns_per_draw": t_ours / n.size * 1e9,
              "numpy_sampler_ns_per_draw": t_numpy / n.size * 1e9,
              "one_at_a_time_ns_per_draw": t_single / n.size * 1e9,
              "staged_draw_share": staged_share,
              "binomial_draws_recorded": int(n.size), "poisson_draws_recorded": 0,
              "_sampler_seconds": t_ours}
    if poisson_calls is None:
        return result
    lam = poisson_calls[0]
    t_pois, t_pois_np = _poisson_speeds(seed, poisson_calls, rng)
    result.update({"poisson_ns_per_draw": t_pois / lam.size * 1e9,
                   "numpy_poisson_ns_per_draw": t_pois_np / lam.size * 1e9,
                   "poisson_draws_recorded": int(lam.size),
                   "_sampler_seconds": t_ours + t_pois})
    return result


def share_outside_samplers(inputs, seed, paths: int, sampler_seconds: float) -> dict:
    """The kernel on one thread over the recorded paths against its draws alone.

    Parameters
    ----------
    paths : int
        The paths the draws were recorded on.
    sampler_seconds : float
        Our samplers' time for those draws (``_sampler_seconds``).

    Returns
    -------
    dict
        ``kernel_cells_per_s_1thread`` (the kernel's cells/s, best of three),
        ``sampler_bound_cells_per_s_1thread`` (cells/s if the kernel did nothing but draw),
        ``share_outside_samplers`` (fraction of kernel time, at least 0).
    """
    import numba

    from engine.run.simulate import simulate_paths

    before = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        simulate_paths(inputs, seed, 0, 2, backend="numba")
        t_kernel = best_of(lambda: simulate_paths(inputs, seed, 0, paths, backend="numba"))
    finally:
        numba.set_num_threads(before)
    cells = paths * inputs.quarters * inputs.n_cells
    return {"kernel_cells_per_s_1thread": cells / t_kernel,
            "sampler_bound_cells_per_s_1thread": cells / sampler_seconds,
            "share_outside_samplers": max(0.0, 1.0 - sampler_seconds / t_kernel)}


def measure(context: Context) -> dict:
    """The ``samplers`` measurement on 40 recorded paths (2 quick): the keys of
    :func:`sampler_speeds` (less ``_sampler_seconds``) and of
    :func:`share_outside_samplers`."""
    paths = context.size(40, 2)
    inputs, seed, binomial_calls, poisson_calls = recorded_draws(paths)
    speeds = sampler_speeds(inputs, seed, binomial_calls, poisson_calls)
    sampler_seconds = speeds.pop("_sampler_seconds")
    speeds.update(share_outside_samplers(inputs, seed, paths, sampler_seconds))
    return speeds

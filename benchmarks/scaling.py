"""(d), (e) Scaling over paths and quarters on the small plan, and peak memory.

Measurement ``scaling``: whole runs, each in a child process writing a results file as
``mutualsim run`` does (:mod:`benchmarks.child_run`), over 10^3–10^6 paths at 20 quarters
and over 20, 40, 80 quarters at 5·10^4 paths, and the children's peak resident memory.

Measurement ``kernel_scaling``: the kernel alone, in this process, no files, best of three.
"""

from __future__ import annotations

from benchmarks.common import SMALL_SCENARIO, Context, best_of, run_child

PATHS = (10**3, 10**4, 10**5, 10**6)
QUARTERS = (20, 40, 80)
QUARTER_SCALING_PATHS = 50_000  # enough work that timer noise stays near 1 %


def _marginal(a: dict, b: dict) -> float:
    """ns per cell added from run ``a`` to run ``b``."""
    return (b["seconds"] - a["seconds"]) / (b["cells"] - a["cells"]) * 1e9


def _per_cell(r: dict) -> float:
    return r["seconds"] / r["cells"] * 1e9


def scaling(paths: tuple = PATHS, quarter_paths: int = QUARTER_SCALING_PATHS) -> dict:
    """Cost over paths and quarters on the small plan, whole runs in child processes.

    Linearity is judged on marginal costs, which a run's fixed cost (file creation, thread
    start-up, per-path set-up) does not distort: the time per added cell from ``paths[1]``
    to ``paths[2]`` (10^4 to 10^5) against that from ``paths[2]`` to ``paths[3]`` (10^5 to
    10^6), and from 20 to 40 quarters against 40 to 80. Each point but the largest path
    count is the faster of two runs (run-to-run noise is several per cent).

    Parameters
    ----------
    paths : tuple of four ints
        Path counts at 20 quarters.
    quarter_paths : int
        Paths at each quarter count.

    Returns
    -------
    dict
        ``scaling_ns_per_cell_by_paths``, ``scaling_ns_per_cell_by_quarters`` (ns per cell of
        the whole run, keyed by the count as a string), ``scaling_marginal_ns_per_cell_paths``,
        ``scaling_marginal_ns_per_cell_quarters`` (two ns per added cell each),
        ``scaling_deviation_paths``, ``scaling_deviation_quarters`` (``|second/first − 1|``),
        ``peak_rss_mb_1e4``, ``peak_rss_mb_1e6`` (MB, at ``paths[1]`` and ``paths[3]``).
    """
    run_child("child_run", SMALL_SCENARIO, 10, 20)  # fills the compile cache, if it is not yet

    def best_of_two(n_paths, quarters):
        runs = [run_child("child_run", SMALL_SCENARIO, n_paths, quarters) for _ in range(2)]
        return min(runs, key=lambda r: r["seconds"])

    by_paths = {n: best_of_two(n, 20) for n in paths[:-1]}
    by_paths[paths[-1]] = run_child("child_run", SMALL_SCENARIO, paths[-1], 20)
    by_quarters = {q: best_of_two(quarter_paths, q) for q in QUARTERS}
    m_paths = (_marginal(by_paths[paths[1]], by_paths[paths[2]]),
               _marginal(by_paths[paths[2]], by_paths[paths[3]]))
    m_quarters = (_marginal(by_quarters[20], by_quarters[40]),
                  _marginal(by_quarters[40], by_quarters[80]))
    return {
        "scaling_ns_per_cell_by_paths": {str(k): _per_cell(v) for k, v in by_paths.items()},
        "scaling_ns_per_cell_by_quarters": {str(k): _per_cell(v)
                                            for k, v in by_quarters.items()},
        "scaling_marginal_ns_per_cell_paths": list(m_paths),
        "scaling_marginal_ns_per_cell_quarters": list(m_quarters),
        "scaling_deviation_paths": abs(m_paths[1] / m_paths[0] - 1),
        "scaling_deviation_quarters": abs(m_quarters[1] / m_quarters[0] - 1),
        "peak_rss_mb_1e4": by_paths[paths[1]]["max_rss_mb"],
        "peak_rss_mb_1e6": by_paths[paths[3]]["max_rss_mb"],
    }


def kernel_scaling(paths: int = 20_000, path_counts: tuple = PATHS[:3]) -> dict:
    """The kernel alone (no files), best of three: ns per cell over 20, 40, 80 quarters at
    ``paths`` paths and over ``path_counts`` (10^3, 10^4, 10^5) paths at 20 quarters, on the
    small plan.

    Returns
    -------
    dict
        ``kernel_ns_per_cell_by_quarters``, ``kernel_ns_per_cell_by_paths`` (ns per cell,
        keyed by the count as a string), ``kernel_scaling_spread_quarters`` and
        ``kernel_scaling_spread_paths`` (largest over smallest, minus 1; paths: the last two
        counts only).
    """
    import tomllib

    from engine.config.scenario import scenario_set_from_dict
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths

    raw = tomllib.loads(SMALL_SCENARIO.read_text())

    def ns_per_cell(n_paths, quarters):
        raw["scenario"]["quarters"] = quarters
        inputs = build_inputs(scenario_set_from_dict(raw, str(SMALL_SCENARIO), "",
                                                     SMALL_SCENARIO.parent).base)
        simulate_paths(inputs, 1, 0, 4)
        t = best_of(lambda: simulate_paths(inputs, 1, 0, n_paths))
        return t / (n_paths * quarters * inputs.n_cells) * 1e9

    by_quarter = {q: ns_per_cell(paths, q) for q in QUARTERS}
    by_p = {p: ns_per_cell(p, 20) for p in path_counts}

    def spread(values):
        values = list(values)
        return max(values) / min(values) - 1

    return {"kernel_ns_per_cell_by_quarters": {str(k): v for k, v in by_quarter.items()},
            "kernel_ns_per_cell_by_paths": {str(k): v for k, v in by_p.items()},
            "kernel_scaling_spread_quarters": spread(by_quarter.values()),
            "kernel_scaling_spread_paths": spread(list(by_p.values())[1:])}


def measure_scaling(context: Context) -> dict:
    """The ``scaling`` measurement: :data:`PATHS` and :data:`QUARTER_SCALING_PATHS`
    (10, 20, 40, 80 paths and 40 quick)."""
    return scaling(context.size(PATHS, (10, 20, 40, 80)),
                   context.size(QUARTER_SCALING_PATHS, 40))


def measure_kernel_scaling(context: Context) -> dict:
    """The ``kernel_scaling`` measurement: 2·10^4 paths by quarters, 10^3–10^5 by paths
    (20, and 10, 20, 40 quick)."""
    return kernel_scaling(context.size(20_000, 20), context.size(PATHS[:3], (10, 20, 40)))

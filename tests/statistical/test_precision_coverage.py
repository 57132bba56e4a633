"""Sequential stopping stays honest: the 95 % intervals of runs stopped by the
``[precision]`` rule (engine.analysis.precision) cover the exact answer.

Stopping when an estimated s.e. first falls below a target favours samples whose s.e. is
under-estimated. On a closed cohort whose year-1 claims are exactly Binomial (no joins,
deaths or lapses; constant incidence: tests/statistical/test_model_statistics.py), 200
replications of a stopped run — each its own seed, chunks of 10 paths, the rule checked
after every chunk past 20 paths — must put the exact mean inside ``estimate ± 1.96 s.e.``
at least 93 % of the time (the issue's bound: nominal 95 % less about one binomial s.e. of
a coverage over 200 replications, √(0.95 · 0.05 / 200) = 1.5 %).
"""

import numpy as np

from engine.analysis.precision import Target, estimate, path_values
from engine.model import units
from engine.run.precision import PrecisionOrder
from engine.run.simulate import simulate_paths
from tests.statistical.test_model_statistics import closed_cohort

REPLICATIONS = 200
MEMBERS, RATE = 3000, 4000.0
TARGET = Target("mean", "claims", 1, None, None, None, 0.01, None)


def stopped_run(inputs, seed: int) -> tuple[float, float, int]:
    """One precision run of the cohort: its estimate, s.e. and paths."""
    order = PrecisionOrder(1, 2000, 10, 20, [[TARGET]], True)
    kept = []
    while (c := order.next_chunk()) is not None:
        data = simulate_paths(inputs, seed, c.start, c.count)
        kept += [d for _, d in order.offer(c, data)]
    claims = np.concatenate([path_values(TARGET, d) for d in kept])
    est = estimate(TARGET, claims)
    assert est.paths == order.paths_used()[0]
    return est.value, est.se, est.paths


def test_stopped_runs_cover_the_exact_mean(tmp_path):
    inputs = closed_cohort(tmp_path, rate_per_100k=RATE, quarters=4, members=MEMBERS)
    q = units.quarterly_prob_from_rate_per_100k(RATE)
    exact = MEMBERS * (1 - (1 - q) ** 4)
    runs = np.array([stopped_run(inputs, 1000 + r) for r in range(REPLICATIONS)])
    value, se, paths = runs.T
    covered = np.abs(value - exact) <= 1.96 * se
    assert covered.mean() >= 0.93, (covered.mean(), paths.min(), paths.max())
    # the rule did stop the runs (not at the maximum) and at different counts
    assert paths.max() < 2000 and paths.min() < paths.max()
    assert np.all(se <= TARGET.relative_se * np.abs(value))

"""Speed of the engine on this machine, measured as ratios within one run (``make bench``).

One module per measurement, each with a ``measure(context)`` returning the keys it adds to
the record in ``benchmarks/results/bench.jsonl`` (names for ``--only`` in brackets):

- :mod:`benchmarks.compile_time` (``compile``): cold and cached compile, child processes;
- :mod:`benchmarks.kernel` (``kernel``): the numba kernel against the numpy reference;
- :mod:`benchmarks.scaling` (``scaling``, ``kernel_scaling``): cost over paths and quarters,
  whole runs in child processes with their peak memory, and the kernel alone;
- :mod:`benchmarks.samplers` (``samplers``): the default scenario's recorded draws, ours
  against numpy's, and the kernel's time outside the samplers;
- :mod:`benchmarks.previous_kernel` (``previous``): today's kernel against ``--previous REV``;
- :mod:`benchmarks.end_to_end` (``end_to_end``): ``mutualsim run``, numba against numpy;
- :mod:`benchmarks.regimes` (``philox``, ``regimes``): Philox blocks, samplers by regime;
- :mod:`benchmarks.tail` (``tail``, ``ruin``): plain Monte Carlo against importance sampling;
- :mod:`benchmarks.cluster` (``cluster``): Dask LocalCluster against one process;
- :mod:`benchmarks.analysis_sets` (``analysis_sets``): ``compare`` and ``report`` of 100 and
  1,000 scenarios, per scenario and against the run;
- :mod:`benchmarks.sobol_study` (``sobol``): the shipped Sobol study's paths and the width
  of its total indices' intervals.

:mod:`benchmarks.run` is the runner (``python -m benchmarks``), :mod:`benchmarks.table` the
table it writes to ``docs/benchmarks.md``; ``child_run``, ``child_compile`` and
``child_kernel`` are the child processes (``python -m benchmarks.child_*``); ``bench`` is
the old entry point's alias; ``compare_trees`` compares two source trees (issue 9).
"""

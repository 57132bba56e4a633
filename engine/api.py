"""The engine's public face for notebooks and scripts: each command of ``mutualsim`` is a
thin wrapper over one of these functions, which return Python objects.

``import engine`` does no work: these names are imported on first use
(``engine.simulate``, ``engine.summary``, ``engine.compare``, ``engine.write_report``,
``engine.write_plots``; not ``engine.run`` or ``engine.report``, the packages of runs and
reports). A walk through a notebook session, executed by the tests: ``docs/notebook.md``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

# A run without an ``out`` file is held in memory up to this size (its variables' bytes);
# a larger one stays in a temporary file, opened lazily, whose name the dataset's
# ``encoding["source"]`` gives. 1 GiB: a tenth of a laptop's memory.
IN_MEMORY_BYTES = 2 ** 30
BYTES_PER_VALUE = 8
VARIABLES_PER_PATH_QUARTER = 30


def simulate(scenario: str | Path, *, paths: int | None = None, seed: int | None = None,
             out: str | Path | None = None, backend: str = "numba",
             threads: int | None = None, quiet: bool = True):
    """Run a scenario (or set) file and return its results as an ``xarray.Dataset``.

    Parameters
    ----------
    scenario : path of a scenario or platform file (TOML)
    paths, seed : override the file's (``[scenario] paths`` and ``seed``)
    out : results file to write (HDF5, netCDF-4 layout); None: a temporary one, read into
        memory when the run holds under :data:`IN_MEMORY_BYTES`, else kept and opened
        lazily
    backend : ``"numba"`` (the kernel) or ``"numpy"`` (the reference): the same numbers
    threads : numba threads (default: all cores)
    quiet : no progress bar

    Returns
    -------
    xarray.Dataset
        What ``mutualsim run`` writes (README "Results"); with ``out`` given, the file
        opened lazily (close it, or use it in a ``with`` block, before writing it again).

    Raises
    ------
    InputError
        A bad scenario, option or output path: ``exc.problems`` lists each as
        ``FILE: key: what (got VALUE)``; nothing is written.
    """
    from engine.config.scenario import load_scenario_set
    from engine.resolved import RESOLVED_ENCODING, resolved_text
    from engine.run.runner import RunRequest, run
    from engine.store import open_results

    if out is not None:
        request = RunRequest(scenario=str(scenario), out=Path(out), paths=paths, seed=seed,
                             backend=backend, threads=threads, quiet=quiet,
                             command="engine.simulate")
        return open_results(run(request).out)
    scenario_set = load_scenario_set(scenario)
    base = scenario_set.base.scenario
    size = (len(scenario_set.scenarios) * (paths or base.paths) * base.quarters
            * VARIABLES_PER_PATH_QUARTER * BYTES_PER_VALUE)
    folder = Path(tempfile.mkdtemp(prefix="mutualsim-"))
    target = folder / f"{Path(scenario).stem}.h5"
    request = RunRequest(scenario=str(scenario), out=target, paths=paths, seed=seed,
                         backend=backend, threads=threads, quiet=quiet,
                         command="engine.simulate")
    run(request)
    ds = open_results(target)
    if size > IN_MEMORY_BYTES:
        return ds
    with ds:
        loaded = ds.load()
    # the resolved values travel with the dataset, as they do with the file
    loaded.encoding[RESOLVED_ENCODING] = resolved_text(target)
    target.unlink()
    folder.rmdir()
    return loaded


def open_results(path: str | Path):
    """A results file as an ``xarray.Dataset``, opened lazily after its own checks (a
    damaged, incomplete or newer-format file raises ``ResultsError`` in one line)."""
    from engine.store import open_results as _open

    return _open(path)


def summary(ds, pooled: bool = False) -> dict:
    """The summary of a results dataset (what ``mutualsim summary --json`` prints), as
    Python objects: see :func:`engine.analysis.summary.summarize`."""
    from engine.analysis.summary import summarize

    return summarize(ds, pooled=pooled)


def compare(ds):
    """One row per scenario: swept values, ruin probability, capital at 99.5 %, cost per
    member, members at the horizon, platform value, each with its Monte Carlo standard
    error and its difference from the first scenario, as a ``pandas.DataFrame`` indexed by
    scenario (what ``mutualsim compare`` writes to ``compare.csv``)."""
    import pandas as pd

    from engine.analysis.compare import compare as _compare

    rows = _compare(ds).rows
    return pd.DataFrame(rows).set_index("scenario")


def write_report(ds, out: str | Path) -> Path:
    """Write the self-contained HTML report of a results dataset (``mutualsim report``)."""
    from engine.report.html import write_report as _write
    from engine.store import check_output_path
    from engine.studies.fairness import fairness_text

    return _write(ds, check_output_path(out), fairness=fairness_text(ds))


def write_plots(ds, out: str | Path, pooled: bool = False) -> list[Path]:
    """Write the figures of a results dataset as PNG files into the folder ``out``
    (``mutualsim plot``); returns their paths."""
    from engine.report.plots import write_plots as _write

    return _write(ds, Path(out), pooled=pooled)

"""Results files: HDF5 laid out as netCDF-4 (DESIGN §4), written chunk by chunk.

Layout: dimensions ``scenario``, ``path``, ``quarter`` (and ``chunk``); coordinates
``scenario`` (names), ``path`` (indices), ``quarter`` (labels like "2020Q3") and one
coordinate per swept key along ``scenario`` (named by the dotted key); one variable per
quantity of :mod:`engine.variables` with dims ``(scenario, path, quarter)``, ``units`` and
``long_name``; ``chunk_done (scenario, chunk)`` records which chunks of paths are written.
HDF5 chunks are ``(1, chunk_paths, quarters)``, shuffled and gzip-compressed (netCDF-4's
standard filters), so reading one variable
across all paths touches one HDF5 chunk per path chunk. Attributes carry provenance: the
scenario file's text, seed, generator, versions, start and end time.

The file is written under ``TARGET.part`` and renamed to ``TARGET`` once complete, so the
target name never holds a half-written file; an interrupted run leaves ``TARGET.part``
(readable, with ``chunk_done``) and its journal (:mod:`engine.run.journal`) for ``--resume``.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import tempfile
from pathlib import Path

import h5netcdf
import h5py
import numpy as np

from engine.config.platform import plan_label
from engine.errors import ResultsError
from engine.model import drivers
from engine.resolved import FORMAT_VERSION, check_format
from engine.resolved import GROUP as RESOLVED_GROUP
from engine.resolved import VALUES as RESOLVED_VALUES
from engine.space import ensure_room
from engine.store_detail import create_detail
from engine.used_paths import MASKED_CHUNK, PATHS_USED, PATHS_USED_LONG_NAME
from engine.variables import PLAN_SUFFIX, VARIABLES, WEIGHT, WEIGHT_LONG_NAME, WEIGHT_UNITS

# A platform's per-plan extras beside each variable's per-plan copy (engine.run.plans).
PLAN_EXTRAS = (("moved_in", "persons", "members who entered the plan from the plan for "
                "the younger ages"),
               ("moved_out", "persons", "members who left the plan for the plan for the "
                "older ages (not counted in the platform's aged_out)"))


def plan_names(scenario_set) -> tuple[str, ...]:
    """The plans of a platform file (the same for every member of its set), or ()."""
    return tuple(plan_label(p.name) for p in scenario_set.base.plans)

COMPRESSION_LEVEL = 1   # gzip 1 with shuffle: near level 4's size at a fraction of the time


def engine_version() -> str:
    from engine import __version__
    return __version__


def part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def check_output_path(target: str | Path) -> Path:
    """Fail early (exit 2) when the results cannot be written where asked."""
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ResultsError.one(str(path), "--out", "folder does not exist", str(folder))
    if path.is_dir():
        raise ResultsError.one(str(path), "--out", "is a folder, not a file name", str(path))
    # Probe by writing: permission bits alone miss read-only file systems (and root).
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".mutualsim-probe-")
    except OSError:
        raise ResultsError.one(str(path), "--out", "folder is not writable",
                               str(folder)) from None
    os.close(fd)
    os.unlink(probe)
    return path


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _versions() -> dict[str, str]:
    import numba
    import scipy
    return {
        "engine_version": engine_version(),
        "numpy_version": np.__version__,
        "numba_version": numba.__version__,
        "scipy_version": scipy.__version__,
        "h5py_version": h5py.__version__,
        "h5netcdf_version": h5netcdf.__version__,
        "python_version": platform.python_version(),
    }


class ResultsWriter:
    """Writes a scenario set's results chunk by chunk; :meth:`finish` renames into place.

    Parameters
    ----------
    target : final file name
    scenario_set : the :class:`~engine.config.scenario.ScenarioSet` run
    n_paths, chunk_paths : paths per scenario and per chunk
    seed : root seed
    quarter_labels : labels of the quarters
    resolved : the JSON text of the set's resolved values (:mod:`engine.run.resolve`),
        stored in the group ``resolved`` (:mod:`engine.resolved`)
    extra_attrs : more provenance (generator and its version, backend, command line, ...)
    """

    def __init__(self, target: str | Path, scenario_set, n_paths: int, chunk_paths: int,
                 seed: int, quarter_labels, resolved: str, extra_attrs: dict | None = None):
        self.target = Path(target)
        self.part = part_path(self.target)
        self.n_scenarios = len(scenario_set.scenarios)
        self.n_paths = n_paths
        self.chunk_paths = chunk_paths
        self.n_chunks = -(-n_paths // chunk_paths)
        self.quarters = len(quarter_labels)
        ensure_room(self.part, 0)
        self._file = h5netcdf.File(self.part, "w")
        self.plans = plan_names(scenario_set)
        # A precision run's paths are not known in advance: its path and chunk dimensions
        # are unlimited, sized for the maximum and cut to the paths run at the end.
        self.resizable = bool((extra_attrs or {}).get("precision"))
        self._file.dimensions = {"scenario": self.n_scenarios,
                                 "path": None if self.resizable else n_paths,
                                 "quarter": self.quarters,
                                 "chunk": None if self.resizable else self.n_chunks,
                                 **({"plan": len(self.plans)} if self.plans else {})}
        if self.resizable:
            self._file.resize_dimension("path", n_paths)
            self._file.resize_dimension("chunk", self.n_chunks)
        self._set = scenario_set
        self._coordinates(scenario_set, quarter_labels)
        coords = " ".join(scenario_set.swept_keys)
        self._coords = coords
        self._variables(coords)
        self._resolved(resolved)
        self._attributes(scenario_set, seed, extra_attrs)

    def _coordinates(self, scenario_set, quarter_labels) -> None:
        """``scenario`` (names), ``path`` (indices), ``quarter`` (labels) and one coordinate
        per swept key along ``scenario`` (numbers where every value is one, else text)."""
        f = self._file
        names = np.array([s.name for s in scenario_set.scenarios], dtype=object)
        v = f.create_variable("scenario", ("scenario",), dtype=h5py.string_dtype())
        v[:] = names
        v.attrs["long_name"] = "scenario name"
        v = f.create_variable("path", ("path",), data=np.arange(self.n_paths, dtype=np.int64))
        v.attrs["long_name"] = "Monte Carlo path index (the streams' path counter)"
        v = f.create_variable("quarter", ("quarter",), dtype=h5py.string_dtype())
        v[:] = np.array(list(quarter_labels), dtype=object)
        v.attrs["long_name"] = "calendar quarter"
        for key in scenario_set.swept_keys:
            values = [s.swept[key] for s in scenario_set.scenarios]
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in values):
                v = f.create_variable(key, ("scenario",), data=np.array(values, dtype=float))
            else:
                v = f.create_variable(key, ("scenario",), dtype=h5py.string_dtype())
                v[:] = np.array([str(x) for x in values], dtype=object)
            v.attrs["long_name"] = f"swept scenario key {key}"

    def _variables(self, coords: str) -> None:
        """Every quantity of :mod:`engine.variables` (a platform's per-plan copies too), the
        paths' ``weight`` and ``chunk_done``; ``coords`` names the swept coordinates."""
        chunk = min(self.chunk_paths, self.n_paths)
        for var in VARIABLES:
            self._compressed(var.name, ("scenario", "path", "quarter"), var.dtype,
                             (1, chunk, self.quarters), var.units, var.long_name, coords)
        if self.plans:
            self._plan_variables(self.chunk_paths, self.n_paths, coords)
        self.detail = create_detail(
            self._file, self._set, lambda *a: self._compressed(*a, coords), chunk,
            self.quarters)
        self._compressed(WEIGHT, ("scenario", "path"), np.float64, (1, chunk), WEIGHT_UNITS,
                         WEIGHT_LONG_NAME, coords)
        v = self._file.create_variable(
            "chunk_done", ("scenario", "chunk"), dtype=np.int8,
            data=np.zeros((self.n_scenarios, self.n_chunks), dtype=np.int8))
        v.attrs["long_name"] = "1 when the chunk's paths are written"
        v.attrs["units"] = "1"

    def _compressed(self, name: str, dims: tuple[str, ...], dtype, chunks: tuple[int, ...],
                    units: str, long_name: str, coords: str) -> None:
        """A variable in HDF5 chunks ``chunks``, shuffled, gzip-compressed and checksummed,
        with its ``units``, ``long_name`` and (for a sweep) ``coordinates``."""
        v = self._file.create_variable(name, dims, dtype=dtype, chunks=chunks,
                                       compression="gzip", compression_opts=COMPRESSION_LEVEL,
                                       shuffle=True, fletcher32=True)
        v.attrs["units"] = units
        v.attrs["long_name"] = long_name
        if coords:
            v.attrs["coordinates"] = coords

    def _resolved(self, resolved: str) -> None:
        """The set's resolved values (JSON text) in the group ``resolved``."""
        group = self._file.create_group(RESOLVED_GROUP)
        v = group.create_variable(RESOLVED_VALUES, (), dtype=h5py.string_dtype())
        v[...] = resolved
        v.attrs["long_name"] = ("every scenario's resolved values, the tables as used, the "
                                "premiums as used and the first scenario's fairness table")
        v.attrs["encoding"] = "JSON (layout: engine.run.resolve)"

    def _attributes(self, scenario_set, seed: int, extra_attrs: dict | None) -> None:
        """The file's provenance: scenario file and text, sweep, seed, sizes, start time,
        versions, then ``extra_attrs``."""
        base = scenario_set.base
        attrs = {
            "title": f"mutualsim results: {base.scenario.name}",
            "format_version": np.int32(FORMAT_VERSION),
            "Conventions": "CF-1.8",
            "scenario_file": scenario_set.file,
            "scenario_toml": scenario_set.text,
            "scenario_description": base.scenario.description,
            "swept_keys": ",".join(scenario_set.swept_keys),
            "sweep_method": scenario_set.method,
            "sweep_samples": np.int64(scenario_set.samples),
            "sweep_second_order": np.int8(scenario_set.second_order),
            "seed": np.uint64(seed),
            "paths": np.int64(self.n_paths),
            "chunk_paths": np.int64(self.chunk_paths),
            "start_quarter": base.scenario.start,
            "start_time": _now(),
            **_versions(),
            **(extra_attrs or {}),
        }
        for k, val in attrs.items():
            self._file.attrs[k] = val

    def _plan_variables(self, chunk_paths: int, n_paths: int, coords: str) -> None:
        """A platform's ``plan`` coordinate and each variable's per-plan copy
        ``NAME_by_plan (scenario, plan, path, quarter)``; the variable holds the total."""
        f = self._file
        v = f.create_variable("plan", ("plan",), dtype=h5py.string_dtype())
        v[:] = np.array(list(self.plans), dtype=object)
        v.attrs["long_name"] = "plan of the platform (its own ages, rules and pool)"
        chunks = (1, 1, min(chunk_paths, n_paths), self.quarters)
        described = [(var.name, var.dtype, var.units, var.long_name) for var in VARIABLES]
        described += [(name, np.int64, units, text) for name, units, text in PLAN_EXTRAS]
        for name, dtype, units, text in described:
            self._compressed(name + PLAN_SUFFIX, ("scenario", "plan", "path", "quarter"),
                             dtype, chunks, units, f"{text}, by plan", coords)

    def write(self, scenario: int, chunk_index: int, start: int,
              data: dict[str, np.ndarray]) -> None:
        """Write one chunk's per-(path, quarter) arrays (a platform's per-plan ones too)
        and mark the chunk done."""
        # The raw bytes bound what gzip writes (it may grow incompressible data by a few
        # bytes a block, which the margin covers).
        ensure_room(self.part, sum(v.nbytes for v in data.values()))
        f = self._file
        stop = start + data["members"].shape[0]
        for var in VARIABLES:
            f.variables[var.name][scenario, start:stop, :] = data[var.name]
        if self.plans:
            for name in [v.name for v in VARIABLES] + [x[0] for x in PLAN_EXTRAS]:
                f.variables[name + PLAN_SUFFIX][scenario, :, start:stop, :] = \
                    data[name + PLAN_SUFFIX]
        for name in self.detail:
            f.variables[name][scenario, start:stop, ...] = data[name]
        f.variables[WEIGHT][scenario, start:stop] = data[WEIGHT]
        for name, values in data.items():
            if drivers.is_driver(name):
                self._driver(name)[scenario, start:stop, ...] = values
        f.variables["chunk_done"][scenario, chunk_index] = 1
        f.flush()

    def _driver(self, name: str):
        """The variable of driver ``name`` (:mod:`engine.model.drivers`), created the first
        time a chunk brings it (NaN for the scenarios that do not draw it)."""
        f = self._file
        if name in f.variables:
            return f.variables[name]
        driver = drivers.BY_NAME[name]
        dims: tuple[str, ...] = ("scenario", "path")
        if driver.dim == drivers.CALENDAR_YEAR and drivers.CALENDAR_YEAR not in f.dimensions:
            years = sorted({int(label[:4]) for label in f.variables["quarter"][:]})
            f.dimensions[drivers.CALENDAR_YEAR] = len(years)
            v = f.create_variable(drivers.CALENDAR_YEAR, (drivers.CALENDAR_YEAR,),
                                  data=np.array(years, dtype=np.int64))
            v.attrs["long_name"] = "calendar year"
        if driver.dim is not None:
            dims += (driver.dim,)
        chunks = (1, min(self.chunk_paths, self.n_paths)) + \
            tuple(f.dimensions[d].size for d in dims[2:])
        v = f.create_variable(name, dims, dtype=np.float64, chunks=chunks, compression="gzip",
                              compression_opts=COMPRESSION_LEVEL, shuffle=True,
                              fletcher32=True, fillvalue=np.nan)
        v.attrs["units"] = drivers.UNITS
        v.attrs["long_name"] = driver.long_name
        v.attrs["law"] = driver.law
        if self._coords:
            v.attrs["coordinates"] = self._coords
        return v

    def finish(self, paths_used: np.ndarray | None = None) -> Path:
        """Record the paths each scenario used (a precision run's, :mod:`engine.used_paths`;
        default: all), the end time and the drivers stored, close, and rename the file
        into place."""
        used = (np.full(self.n_scenarios, self.n_paths, dtype=np.int64) if paths_used is None
                else np.asarray(paths_used, dtype=np.int64))
        if self.resizable:
            self._cut(used)
        v = self._file.create_variable(PATHS_USED, ("scenario",), data=used)
        v.attrs["long_name"] = PATHS_USED_LONG_NAME
        v.attrs["units"] = "paths"
        self._file.attrs[drivers.ATTRIBUTE] = ",".join(
            d.name for d in drivers.DRIVERS if d.name in self._file.variables)
        self._file.attrs["end_time"] = _now()
        self._file.close()
        os.replace(self.part, self.target)
        return self.target

    def _cut(self, used: np.ndarray) -> None:
        """Cut the path and chunk dimensions to the most paths a scenario used, and mask
        each scenario's paths past its own count (NaN, counts 0, weight 0, chunk_done 2)."""
        f = self._file
        n = int(used.max())
        f.resize_dimension("path", n)
        f.resize_dimension("chunk", -(-n // self.chunk_paths))
        f.variables["path"][:] = np.arange(n, dtype=np.int64)
        f.attrs["paths"] = np.int64(n)
        for s, count in enumerate(int(u) for u in used):
            if count == n:
                continue
            for name, var in f.variables.items():
                dims = var.dimensions
                if dims[:1] != ("scenario",) or "path" not in dims or name == "chunk_done":
                    continue
                axis = dims.index("path") - 1
                fill = 0 if var.dtype.kind in "iu" else np.nan
                if name == WEIGHT:
                    fill = 0.0
                index = (s,) + (slice(None),) * axis + (slice(count, n),)
                var[index] = fill
            f.variables["chunk_done"][s, -(-count // self.chunk_paths):] = MASKED_CHUNK

    def close_partial(self, mark: bool = True) -> None:
        """Close without renaming: ``TARGET.part`` stays, its ``chunk_done`` saying which
        paths are written; nothing appears at the target name. ``mark`` records the time
        of the interruption (not when the disk is full)."""
        if mark:
            self._file.attrs["interrupted_time"] = _now()
        self._file.close()


def _check_format(path: Path) -> None:
    """Refuse a newer format before anything else reads the file (its layout may differ)."""
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: f.attrs[k] for k in ("format_version", "engine_version")
                     if k in f.attrs}
    except Exception:  # noqa: BLE001 - results_problems names what is wrong
        return
    check_format(path, attrs)


def open_results(path: str | Path):
    """Open a results file with xarray (``engine="h5netcdf"``) once it passes its own checks
    (:func:`engine.results_check.results_problems`), or raise ``ResultsError`` with one line
    naming the file and the first thing wrong."""
    import xarray as xr

    from engine.results_check import results_problems

    p = Path(path)
    if not p.is_file():
        raise ResultsError.one(str(p), "", "results file not found", has_got=False)
    _check_format(p)
    problems = results_problems(p)
    if problems:
        raise ResultsError.one(str(p), "", "; ".join(problems), has_got=False)
    try:
        return xr.open_dataset(p, engine="h5netcdf")
    except Exception as exc:  # noqa: BLE001 - any reader failure means "not our file"
        raise ResultsError.one(str(p), "", f"not a readable results file ({exc})",
                               has_got=False) from None


def write_reweighted(source: str | Path, target: str | Path, weights: np.ndarray,
                     attrs: dict) -> Path:
    """A copy of results file ``source`` at ``target`` whose ``weight`` is ``weights``
    ``(scenario, path)`` and whose root carries ``attrs`` (a stress's description): a
    results file every reader reads, its statistics those of the reweighted model. Written
    under ``TARGET.part`` and renamed."""
    import shutil

    target = Path(target)
    part = part_path(target)
    ensure_room(part, Path(source).stat().st_size)
    shutil.copyfile(source, part)
    try:
        with h5netcdf.File(part, "r+") as f:
            w = np.asarray(weights, dtype=np.float64)
            if WEIGHT in f.variables:
                f.variables[WEIGHT][...] = w
            else:                        # a file from before weights (engine < 0.4.0)
                v = f.create_variable(WEIGHT, ("scenario", "path"), data=w)
                v.attrs["units"] = WEIGHT_UNITS
                v.attrs["long_name"] = WEIGHT_LONG_NAME
            for key, value in attrs.items():
                f.attrs[key] = value
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return target

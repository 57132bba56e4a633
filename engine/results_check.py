"""A results file's own checks, run before any command reads it (DESIGN §4).

``summary``, ``plot``, ``compare``, ``report`` and ``disclose`` read files that may have been
copied, truncated, edited by another tool or damaged on disk. A damaged file must not end in
a traceback halfway through writing figures, so :func:`results_problems` checks the whole
file first: it opens as HDF5, carries its provenance, its dimensions and the contract's
variables with their shapes (a detail's ``NAME_by`` too), every chunk is marked written,
and every data chunk reads back
(HDF5 verifies the deflate stream's Adler-32 and, for files from engine 0.3.1 on, each
chunk's Fletcher-32 checksum), with no negative counts. Reading is chunk by chunk, so
memory stays at one HDF5 chunk; the cost is one decompression of the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from engine.used_paths import MASKED_CHUNK, PATHS_USED
from engine.variables import (
    CONTRACT,
    DETAIL_SUFFIX,
    DETAIL_VARIABLES,
    PLAN_SUFFIX,
    VARIABLES,
    WEIGHT,
)

PROVENANCE = ("generator", "generator_version", "engine_version", "seed", "scenario_toml")
QUARTER_LABEL = re.compile(r"^\d{4}Q[1-4]$")


def _short(exc: BaseException) -> str:
    """The first line of an HDF5 error, without h5py's call-site noise."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def results_problems(path: str | Path) -> list[str]:
    """What is wrong with the results file at ``path`` (empty when it passes); the first
    problem that stops further checks ends the list."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except Exception as exc:  # noqa: BLE001 - any failure to open is "not readable"
        return [f"not a readable HDF5 file ({_short(exc)})"]
    with f:
        try:
            return _structure_problems(f) or _data_problems(f)
        except Exception as exc:  # noqa: BLE001 - damaged metadata fails in many ways
            return [f"damaged ({_short(exc)})"]


def _structure_problems(f) -> list[str]:
    missing = [a for a in PROVENANCE if a not in f.attrs]
    if missing:
        return [f"not a mutualsim results file (no {', '.join(missing)} attribute)"]
    out = []
    for dim in ("scenario", "path", "quarter"):
        if dim not in f or f[dim].ndim != 1:
            out.append(f"the {dim} coordinate is missing")
    if out:
        return out
    shape = (len(f["scenario"]), len(f["path"]), len(f["quarter"]))
    labels = [q.decode() if isinstance(q, bytes) else str(q) for q in f["quarter"][()]]
    bad = [q for q in labels if not QUARTER_LABEL.match(q)]
    if bad:
        out.append(f"quarter labels are not like 2020Q3 (got {bad[0]!r})")
    missing = [name for name in CONTRACT if name not in f]
    if missing:
        out.append(f"variables missing: {', '.join(missing)}")
    plans = len(f["plan"]) if "plan" in f else None
    for var in VARIABLES:
        if var.name in f and f[var.name].shape != shape:
            out.append(f"{var.name} has shape {f[var.name].shape}, not (scenario, path, "
                       f"quarter) = {shape}")
        per_plan = var.name + PLAN_SUFFIX
        if plans is not None and per_plan in f and \
                f[per_plan].shape != (shape[0], plans, *shape[1:]):
            out.append(f"{per_plan} has shape {f[per_plan].shape}")
    for name in DETAIL_VARIABLES:
        detail = name + DETAIL_SUFFIX
        if detail in f and f[detail].shape[:3] != shape:
            out.append(f"{detail} has shape {f[detail].shape}, not (scenario, path, quarter, "
                       f"...) = {shape} + (...)")
    if WEIGHT in f and f[WEIGHT].shape != shape[:2]:
        out.append(f"{WEIGHT} has shape {f[WEIGHT].shape}, not (scenario, path) = "
                   f"{shape[:2]}")
    if _format(f) >= 2 and "resolved/values" not in f:
        out.append("the resolved group (resolved/values) is missing: a format-2 file keeps "
                   "its scenarios' resolved values there")
    if "chunk_done" not in f:
        out.append("chunk_done is missing")
    elif not out:
        done = f["chunk_done"][()]
        if done.ndim != 2 or done.shape[0] != shape[0]:
            out.append(f"chunk_done has shape {done.shape}")
        elif not np.all((done == 1) | (done == MASKED_CHUNK)):
            out.append(f"incomplete: {int(np.sum(done == 1))} of {done.size} chunks of paths "
                       "are written (an interrupted run's .part file? complete it with "
                       "--resume)")
        else:
            out += _paths_used_problems(f, done, shape)
    return out


def _paths_used_problems(f, done: np.ndarray, shape: tuple[int, ...]) -> list[str]:
    """``paths_used`` within the path dimension, and chunks masked exactly past it."""
    if PATHS_USED not in f:
        return [] if not np.any(done == MASKED_CHUNK) else \
            ["chunk_done marks masked chunks but paths_used is missing"]
    used = f[PATHS_USED][()]
    if used.shape != shape[:1] or np.any(used < 1) or np.any(used > shape[1]):
        return [f"{PATHS_USED} must give 1 to {shape[1]} paths for each scenario (got "
                f"{used.tolist()})"]
    chunk = int(np.asarray(f.attrs.get("chunk_paths", shape[1])).ravel()[0])
    for s, count in enumerate(used):
        written = -(-int(count) // max(chunk, 1))
        if not (np.all(done[s, :written] == 1) and np.all(done[s, written:] == MASKED_CHUNK)):
            return [f"chunk_done of scenario {s} does not match its {PATHS_USED} ({count})"]
    return []


def _format(f) -> int:
    value = f.attrs.get("format_version")
    return 1 if value is None else int(np.asarray(value).item())


def _data_problems(f) -> list[str]:
    import h5py

    counts = {v.name for v in VARIABLES if v.dtype is np.int64}
    for name in sorted(f):
        dset = f[name]
        if not isinstance(dset, h5py.Dataset) or dset.dtype.kind not in "iuf":
            continue
        base = name.removesuffix(PLAN_SUFFIX).removesuffix(DETAIL_SUFFIX)
        blocks = dset.iter_chunks() if dset.chunks else [()]
        for block in blocks:
            try:
                values = dset[block]
            except Exception as exc:  # noqa: BLE001 - checksum, inflate, bad offsets
                return [f"damaged: {name} cannot be read ({_short(exc)})"]
            if base in counts and np.any(values < 0):
                return [f"damaged: {name} holds negative counts"]
            if name == WEIGHT and not np.all(np.isfinite(values) & (values >= 0)):
                return [f"damaged: {name} holds a likelihood ratio that is negative or not "
                        "finite"]
    return []

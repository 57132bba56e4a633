"""The results-file contract (DESIGN §4) as the test suite checks it."""

from __future__ import annotations

import numpy as np
import xarray as xr

from engine.variables import CONTRACT, VARIABLES

COUNTS = [v.name for v in VARIABLES if v.dtype is np.int64]
PROVENANCE = ("seed", "generator", "generator_version", "engine_version", "scenario_toml",
              "start_time", "end_time")


def contract_problems(path) -> list[str]:
    """Every way the file at ``path`` breaks the results contract (empty when it meets it)."""
    out = []
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        for dim in ("scenario", "path", "quarter"):
            if dim not in ds.dims or dim not in ds.coords:
                out.append(f"dimension/coordinate {dim} missing")
        labels = [str(q) for q in ds["quarter"].values]
        if not all(len(q) == 6 and q[4] == "Q" for q in labels):
            out.append(f"quarter labels {labels[:3]}")
        for name in CONTRACT:
            if name not in ds:
                out.append(f"{name} missing")
        for var in VARIABLES:
            if var.name not in ds:
                out.append(f"{var.name} missing")
                continue
            da = ds[var.name]
            if da.dims != ("scenario", "path", "quarter"):
                out.append(f"{var.name} dims {da.dims}")
            if da.attrs.get("units") != var.units or not da.attrs.get("long_name"):
                out.append(f"{var.name} units/long_name")
        for name in COUNTS:
            x = ds[name].values
            if np.any(x < 0):
                out.append(f"{name} negative")
        for attr in PROVENANCE:
            if attr not in ds.attrs:
                out.append(f"attribute {attr} missing")
        if not np.all(ds["chunk_done"].values == 1):
            out.append("not every chunk is marked done")
    return out

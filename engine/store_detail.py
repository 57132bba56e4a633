"""The detail's dimensions, coordinates and variables in a results file (``[output]``,
:mod:`engine.config.output`; shaped by :mod:`engine.run.detail`).

Dimensions ``sex`` (female, male), ``age_band`` (labels like "30-34", with
``age_band_lower`` and ``age_band_upper`` in completed years) and ``risk_group`` (the
groups' names), created only for the dimensions ``by`` asks for (``plan`` is a platform
file's own); each detailed variable ``NAME_by (scenario, path, quarter, <by>)`` in the
variable's units, chunked as the totals are.
"""

from __future__ import annotations

import h5py
import numpy as np

from engine.config.output import SEXES, band_labels
from engine.model.inputs import ONE_GROUP
from engine.variables import DETAIL_SUFFIX, VARIABLES

# What a member's age is in each detailed variable (the age at the event)
AGE_AT = ("age in completed years at the event (members: at the quarter's end; sharers: "
          "when the quarter's cost is shared)")


def _labels(f, name: str, labels: list[str], long_name: str) -> None:
    f.dimensions[name] = len(labels)
    v = f.create_variable(name, (name,), dtype=h5py.string_dtype())
    v[:] = np.array(labels, dtype=object)
    v.attrs["long_name"] = long_name


def create_detail(f, scenario_set, compressed, chunk_paths: int, quarters: int
                  ) -> tuple[str, ...]:
    """Create the detail's dimensions, coordinates and variables in the open file ``f``
    (``compressed(name, dims, dtype, chunks, units, long_name)`` makes one variable);
    returns the names of the variables."""
    out = scenario_set.base.output
    if not out.detail:
        return ()
    by = tuple(out.by)
    if "sex" in by:
        _labels(f, "sex", list(SEXES), "sex of the members")
    if "age_band" in by:
        bands = out.age_bands
        _labels(f, "age_band", band_labels(bands), f"age band: {AGE_AT}")
        for end, j in (("lower", 0), ("upper", 1)):
            v = f.create_variable(f"age_band_{end}", ("age_band",),
                                  data=np.array([b[j] for b in bands], dtype=np.int64))
            v.attrs["long_name"] = f"{end} end of the age band (included)"
            v.attrs["units"] = "years"
    if "risk_group" in by:
        groups = scenario_set.base.risk.groups or ONE_GROUP
        _labels(f, "risk_group", [g["name"] for g in groups], "risk group ([risk] groups)")
    described = {v.name: v for v in VARIABLES}
    names = []
    for name in out.detail:
        var = described[name]
        dims = ("scenario", "path", "quarter") + by
        chunks = (1, chunk_paths, quarters) + tuple(f.dimensions[d].size for d in by)
        compressed(name + DETAIL_SUFFIX, dims, var.dtype, chunks, var.units,
                   f"{var.long_name}, by {', '.join(by)}")
        names.append(name + DETAIL_SUFFIX)
    return tuple(names)

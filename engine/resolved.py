"""What a results file says about its own scenarios: the resolved values its readers use,
and the file's format version (DESIGN §4).

Format policy
-------------
A results file's root attribute ``format_version`` says its layout. Readers accept every
earlier version and refuse a newer one in one line naming the file and both versions
(exit 2): a newer file may hold what this engine cannot read correctly, and a wrong number
is worse than none. A change that moves, renames or reinterprets anything a reader uses
raises the version; a change that only adds (a variable, an attribute) does not, and every
reader tolerates what it does not know. Each version stays readable for ever: fixtures of
every earlier engine that changed the format or the schema are read in the tests
(``tests/fixtures/results``).

=======  ==============  ===============================================================
version  engines         layout
=======  ==============  ===============================================================
1        0.1.0 – 0.5.0   no ``format_version`` attribute. Variables ``(scenario, path,
                         quarter)``; from 0.3.0 a platform's ``plan`` dimension and
                         ``NAME_by_plan`` copies; from 0.4.0 ``weight (scenario, path)``
                         (absent: every path weighs 1). The scenario survives only as its
                         TOML text (``scenario_toml``) and the swept values (coordinates
                         named by the dotted key): readers rebuild the few values they use
                         from the text, with this engine's defaults for absent keys,
                         without validating it against today's schema and without reading
                         any table (see :func:`_rebuilt`).
2        0.6.0 –         ``format_version = 2`` and a netCDF-4 group ``resolved`` whose
                         string variable ``values`` holds, as JSON, every scenario's
                         resolved values (every key of every table, defaults filled in;
                         plans; the tables' contents as used; the health-insurance
                         premiums as used; the tilt as run) and the first scenario's
                         fairness table (:mod:`engine.run.resolve`). Readers use these
                         and never the scenario's files. ``xarray.open_dataset(FILE,
                         engine="h5netcdf", group="resolved")`` shows the group.
                         From 0.7.0 ``claims_below_cap``; from 0.10.0 ``driver_*``.
3        0.11.0 –        ``paths_used (scenario)``: the paths each scenario holds. A
                         ``[precision]`` run may stop its scenarios at different counts;
                         paths past a scenario's count are masked (NaN, counts 0, weight
                         0, ``chunk_done`` 2) and readers take only its used paths
                         (:mod:`engine.used_paths`). An older reader would count the masked
                         paths, so it must refuse the file.
=======  ==============  ===============================================================

Readers get a scenario's values as a :class:`Record`, attribute access over the JSON
(``r.valuation.discount_rate``, ``r.plans[0].benefits.amount_by_age``), the same names a
validated scenario has.
"""

from __future__ import annotations

import ast
import copy
import json
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from engine.errors import ResultsError

FORMAT_VERSION = 3
GROUP = "resolved"
VALUES = "values"
FORMAT_ENGINES = {1: "0.1.0-0.5.0", 2: "0.6.0 on"}


class Record:
    """Read-only attribute access over a JSON object (nested objects are records too)."""

    __slots__ = ("_data",)

    def __init__(self, data: dict):
        object.__setattr__(self, "_data", data)

    def __getattr__(self, name: str):
        try:
            return _wrap(self._data[name])
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str):
        return _wrap(self._data[name])

    def __eq__(self, other) -> bool:
        if isinstance(other, Record):
            other = other._data
        return isinstance(other, dict) and self._data == other

    __hash__ = None

    def __contains__(self, name: str) -> bool:
        return name in self._data

    def __setattr__(self, name, value):
        raise AttributeError("a results file's resolved values are read-only")

    def get(self, dotted: str, default=None):
        """The value of a dotted key (``"sharing.fee_rate"``), or ``default``."""
        node = self._data
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return _wrap(node)

    def as_dict(self) -> dict:
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"Record({', '.join(self._data)})"


def _wrap(value):
    if isinstance(value, dict):
        return Record(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [Record(v) for v in value]
    return value


@dataclass(frozen=True)
class Resolved:
    """A file's resolved values: ``scenarios`` (one :class:`Record` per scenario, in the
    file's order), ``tables`` (id → the table as used; empty for format 1), ``fairness``
    (rows, or None for format 1) and ``how`` (where the values come from, in words)."""

    scenarios: tuple
    tables: dict
    fairness: list | None
    how: str


def format_version(ds_or_attrs) -> int:
    """The results format of an opened dataset (or its attributes): 1 when unstated."""
    attrs = getattr(ds_or_attrs, "attrs", ds_or_attrs)
    value = attrs.get("format_version")
    return 1 if value is None else int(np.asarray(value).item())


def check_format(path: str | Path, attrs) -> None:
    """One line, exit 2, for a file this engine cannot read: a newer format, or a
    ``format_version`` that is not a positive whole number."""
    from engine import __version__

    value = attrs.get("format_version")
    if value is None:
        return
    try:
        version = int(np.asarray(value).item())
    except (TypeError, ValueError):
        raise ResultsError.one(str(path), "format_version", "is not a whole number",
                               value) from None
    if version < 1:
        raise ResultsError.one(str(path), "format_version", "is not a positive whole number",
                               version)
    if version > FORMAT_VERSION:
        writer = attrs.get("engine_version", "a later engine")
        raise ResultsError.one(str(path), "format_version", f"written in results format "
                               f"{version} by engine {writer}; this engine ({__version__}) "
                               f"reads formats 1-{FORMAT_VERSION}: upgrade mutualsim to read "
                               "it", version)


def provenance(ds) -> str:
    """Which engine wrote the file, in one line (every reader prints it)."""
    attrs = ds.attrs
    v = format_version(ds)
    return (f"results written by engine {attrs.get('engine_version', '?')} (results format "
            f"{v}, generator {attrs.get('generator', '?')} "
            f"{attrs.get('generator_version', '')}".rstrip() + ") on "
            f"{attrs.get('start_time', '?')}" + ("" if v >= 2 else
                                                 "; values rebuilt from its scenario text"))


# A dataset held in memory (``engine.simulate`` without a file) keeps its file's resolved
# values under this key of its ``encoding``.
RESOLVED_ENCODING = "mutualsim_resolved_values"


def resolved_text(path: str | Path) -> str:
    """The JSON text of a format-2 file's resolved values."""
    import h5py

    with h5py.File(path, "r") as f:
        raw = f[f"{GROUP}/{VALUES}"][()]
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def resolved(ds) -> Resolved:
    """The resolved values of an opened results dataset (format 2: stored; format 1:
    rebuilt from the stored scenario text, :func:`_rebuilt`)."""
    if RESOLVED_ENCODING in ds.encoding:
        return _parsed(ds.encoding[RESOLVED_ENCODING], "results in memory")
    source = ds.encoding.get("source")
    if format_version(ds) >= 2 and source:
        p = Path(source)
        st = p.stat()
        return _stored(str(p.resolve()), st.st_mtime_ns, st.st_size)
    return _rebuilt(ds)


def scenario_values(ds) -> list:
    """One :class:`Record` per scenario of the file, in its order."""
    return list(resolved(ds).scenarios)


def fairness_rows(ds) -> list[dict] | None:
    """The first scenario's fairness rows as the run stored them, or None (format 1)."""
    return resolved(ds).fairness


@lru_cache(maxsize=8)
def _stored(path: str, mtime_ns: int, size: int) -> Resolved:
    try:
        text = resolved_text(path)
    except (KeyError, OSError) as exc:
        raise ResultsError.one(path, f"{GROUP}/{VALUES}", "is missing or unreadable in a "
                               f"format-{FORMAT_VERSION} file ({type(exc).__name__})",
                               has_got=False) from None
    return _parsed(text, path)


def _parsed(text: str, where: str) -> Resolved:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ResultsError.one(where, f"{GROUP}/{VALUES}", f"is not valid JSON ({exc})",
                               has_got=False) from None
    return Resolved(tuple(Record(s) for s in doc["scenarios"]), doc.get("tables", {}),
                    doc.get("fairness"), "stored in the file at run time")


# ---------------------------------------------------------------- format 1

def _rebuilt(ds) -> Resolved:
    """Format 1: each scenario's values from the stored TOML text and the swept values.

    The text is parsed, not validated: keys retired since (``lapse.antiselection``) are kept
    as given and unused, and keys absent from the text take this engine's defaults (what the
    readers of engines up to 0.5.0 applied too, as they re-validated the text). A platform
    plan's tables are the platform's with the plan's merged over them, key by key; its
    initial members come from the file's arrays by the roll-forward identity (members at
    the end of the first quarter less that quarter's flows), since the split of the
    platform's members by age needs the age-mix table. Premiums are this engine's table
    with the scenario's own years on top.
    """
    file = str(ds.encoding.get("source", "results"))
    try:
        raw = tomllib.loads(str(ds.attrs["scenario_toml"]))
    except (KeyError, tomllib.TOMLDecodeError) as exc:
        raise ResultsError.one(file, "scenario_toml", f"cannot be read as TOML ({exc})",
                               has_got=False) from None
    for key in ("sweep", "extends", "platform"):
        raw.pop(key, None)
    plans = raw.pop("plans", [])
    names = [str(s) for s in ds["scenario"].values]
    swept_keys = [k for k in str(ds.attrs.get("swept_keys", "")).split(",") if k]
    scenarios = []
    for i, name in enumerate(names):
        doc = copy.deepcopy(raw)
        swept = {}
        for key in swept_keys:
            value = _swept_value(ds[key].values[i]) if key in ds else None
            swept[key] = value
            table, _, leaf = key.partition(".")
            doc.setdefault(table, {})[leaf] = value
        values = _with_defaults(doc)
        values.update(name=name, swept=swept, tables={},
                      premiums_yuan_by_year=_premiums(values["market"]))
        values["plans"] = [_plan_values(doc, plan, name, j, ds, i)
                           for j, plan in enumerate(plans)]
        scenarios.append(Record(values))
    return Resolved(tuple(scenarios), {}, None, "rebuilt from the scenario text stored in "
                    "the file (results format 1)")


def _swept_value(value):
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
    return np.asarray(value).item()


def _with_defaults(doc: dict) -> dict:
    from engine.config.schema import SCHEMA

    out = {}
    for table, keys in SCHEMA.items():
        given = doc.get(table, {}) if isinstance(doc.get(table), dict) else {}
        out[table] = {**{k: copy.deepcopy(spec.default) for k, spec in keys.items()},
                      **given}
    return out


def _plan_values(doc: dict, plan: dict, platform: str, j: int, ds, i: int) -> dict:
    merged = copy.deepcopy(doc)
    for table, keys in plan.items():
        if isinstance(keys, dict):
            merged.setdefault(table, {}).update(keys)
    lo, hi = plan.get("ages", [None, None])
    merged.setdefault("population", {}).update(age_min=lo, age_max=hi)
    values = _with_defaults(merged)
    values["population"]["initial_members"] = _initial_members(ds, i, j)
    values.update(name=f"{platform}.{plan.get('name', j)}", swept={}, tables={}, plans=[],
                  plan_index=j, premiums_yuan_by_year=_premiums(values["market"]))
    return values


ROLL_FORWARD_OUT = ("suspended", "deaths", "claims", "diagnosed_in_waiting", "lapses",
                    "aged_out", "closed_out")


def _initial_members(ds, i: int, j: int) -> int | None:
    """Plan ``j``'s members at the start: ``N_0 = members_0 − joins_0 − moved_in_0 + Σ
    outflows_0`` on path 0 (the same on every path)."""
    def first(name):
        key = name + "_by_plan"
        return int(ds[key].values[i, j, 0, 0]) if key in ds else 0

    if "members_by_plan" not in ds:
        return None
    return (first("members") - first("joins") - first("moved_in")
            + sum(first(name) for name in ROLL_FORWARD_OUT))


def _premiums(market: dict) -> dict[str, float]:
    from engine.config import tables

    by_year = tables.premiums_with(market.get("health_premium_by_year"))
    return {str(y): v for y, v in sorted(by_year.items())}

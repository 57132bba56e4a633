"""Scenario files (TOML) → frozen, validated configuration; sweeps → scenario sets.

A scenario file has the tables of :data:`engine.config.schema.SCHEMA` plus an optional ``[sweep]``
of dotted keys → lists of values; the set is their Cartesian product (``method = "grid"``).
Validation reports every problem at once, each as ``FILE: table.key: what (got VALUE)``,
and raises :class:`~engine.errors.ScenarioError`. Tables named by a scenario (incidence,
mortality, mixes) are loaded and checked here too, so that a scenario that validates runs.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from dataclasses import dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from engine.config import platform, tables
from engine.config.labels import parse_quarter, quarter_offset
from engine.config.schema import GROUP_KEYS, REQUIRED, RETIRED, SCHEMA, Key
from engine.errors import InputError, Problem, Problems, ScenarioError, read_user_file

_BUILTIN_TABLES = {
    "incidence.table": tables.INCIDENCE_TABLES,
    "mortality.table": tables.MORTALITY_TABLES,
    "population.initial_age_mix": tables.MIX_TABLES,
    "growth.joiner_age_mix": tables.MIX_TABLES,
}
MAX_DURATION_QUARTERS = 63   # duration cells are keyed with 6 bits (engine.random.streams)
MAX_PAYMENT_QUARTERS = 9     # length of benefits.payment_pattern
SWEEP_LIMIT = 1_000          # scenarios in one set without --force
SWEEP_HARD_LIMIT = 100_000   # with --force
SWEEP_METHODS = ("grid", "zip", "latin")
SWEEP_STREAMS = ("common", "independent")   # DESIGN §2


# The Python type each kind of key holds once validated (schema.Key.kind).
KIND_TYPES: dict[str, type] = {
    "int": int, "float": float, "str": str, "choice": str, "quarter": str,
    "table_ref": str, "float_list": list[float], "bands": list[list[float]],
    "shocks": list[dict[str, float | int | str]], "year_table": dict[str, float],
    "groups": list[dict[str, float | str]],
    "changes": list[dict[str, Any]],
}


def _section_class(table: str):
    """A frozen dataclass of the table's keys, typed from the schema (``None`` allowed
    where the key's default is ``None``)."""
    fields_ = []
    for key, spec in SCHEMA[table].items():
        kind = KIND_TYPES[spec.kind]
        fields_.append((key, kind | None if spec.default is None else kind))
    return make_dataclass(table.capitalize(), fields_, frozen=True)


SECTIONS = {table: _section_class(table) for table in SCHEMA}


class _ScenarioMethods:
    """What a scenario offers beyond its fields (see :data:`Scenario`)."""

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def duration_cap(self) -> int:
        """``D = max(waiting + 1, 4 (len(selection) − 1), len(by_duration) − 1)``, quarters.

        Durations ``0..D`` are tracked; ``D`` holds everyone at or past it. Every quantity
        that depends on duration is constant from ``D`` on.
        """
        return _duration_cap(self.benefits.waiting_quarters, self.incidence.selection,
                             self.lapse.by_duration)

    def get(self, dotted: str) -> Any:
        table, key = dotted.split(".", 1)
        return getattr(getattr(self, table), key)


# One validated scenario: the tables of the file (``scenario``, ``population``, ``growth``,
# ...), each a frozen dataclass of its keys typed from the schema (``SECTIONS[table]``),
# plus where it came from: ``file`` (path as given), ``text`` (the file's TOML text, stored
# in results), ``base_dir`` (CSV paths are relative to it) and ``swept`` (dotted key →
# value for a member of a scenario set). Its fields follow the schema's tables, so a new
# table in the schema needs no edit here.
Scenario = make_dataclass(
    "Scenario",
    [("file", str), ("text", str), ("base_dir", Path),
     *((table, SECTIONS[table]) for table in SCHEMA),
     ("swept", dict, field(default_factory=dict)),
     # a platform (engine.config.platform): its plans, each a scenario of its own ages and
     # rules, and what happens to members past a plan's oldest age; a plan: its index
     ("plans", tuple, ()), ("age_out", str, "leave"), ("plan_index", int, 0),
     # a plan of a platform whose plans' ages may overlap: its cells are keyed apart
     ("plan_own_cells", bool, False)],
    bases=(_ScenarioMethods,), frozen=True)
Scenario.__module__ = __name__  # so that pickling (Dask workers) finds it here


def _duration_cap(waiting: int, selection: list, by_duration: list | None) -> int:
    # at least waiting + 1 (and 1): duration 0 then holds only the quarter's joiners (half
    # exposure, no reaction to cost) and duration `waiting` only the cohort whose waiting
    # period ends in this quarter (half its diagnoses are paid)
    return max(waiting + 1, 4 * (len(selection) - 1), len(by_duration or [1]) - 1)


@dataclass(frozen=True)
class ScenarioSet:
    """The scenarios of one file: one, or the members of its ``[sweep]``.

    ``swept_keys`` lists the dotted keys that vary; every member's ``swept`` gives its
    values. With ``streams = "common"`` (the default) all members share the base seed and
    so the same random streams; with ``"independent"`` member ``i`` draws from the key
    :func:`engine.random.streams.scenario_seed` derives from the seed and ``i``.
    """

    file: str
    text: str
    scenarios: tuple[Scenario, ...]
    swept_keys: tuple[str, ...]
    method: str = "none"
    streams: str = "common"

    @property
    def base(self) -> Scenario:
        return self.scenarios[0]


# --------------------------------------------------------------------------- loading

def load_scenario_set(path: str | Path, *, check_tables: bool = True,
                      force: bool = False) -> ScenarioSet:
    """Read, validate and expand a scenario file.

    Raises
    ------
    ScenarioError
        With every problem found, each naming the file, the key and the value.
    """
    raw, text = read_document(path)
    return scenario_set_from_dict(raw, str(path), text, Path(path).resolve().parent,
                                  check_tables=check_tables, force=force)


def read_document(path: str | Path, what: str = "scenario file") -> tuple[dict, str]:
    """A TOML file's document and text, merged over its base if it ``extends`` one; a file
    that cannot be read or parsed is one problem naming it (exit 2)."""
    label = str(path)
    text = read_user_file(path, ScenarioError, what, "cannot read")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError.one(label, "", f"invalid TOML: {exc}", has_got=False) from None
    if "extends" in raw:
        raw, text = _extend(raw, Path(path), label)
    return raw, text


TABLE_REF_KEYS = ("incidence.table", "mortality.table", "population.initial_age_mix",
                  "growth.joiner_age_mix")


def _extend(raw: dict, path: Path, label: str, depth: int = 0) -> tuple[dict, str]:
    """Merge a file that ``extends = "BASE.toml"`` over its base (this file's keys win,
    table by table); return the merged document and its TOML text (stored in results).

    The base's CSV table paths are rewritten relative to this file's folder.
    """
    import os

    import tomli_w

    base_name = raw.pop("extends")
    if not isinstance(base_name, str):
        raise ScenarioError.one(label, "extends", "must be a path to a scenario file",
                                base_name)
    base_path = (path.parent / base_name)
    if not base_path.is_file():
        raise ScenarioError.one(label, "extends", "scenario file not found", base_name)
    if depth > 4:
        raise ScenarioError.one(label, "extends", "too deep a chain of extends", base_name)
    try:
        base_raw = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ScenarioError.one(label, "extends", f"cannot read the base ({exc})",
                                base_name) from None
    if "extends" in base_raw:
        base_raw, _ = _extend(base_raw, base_path, str(base_path), depth + 1)
    base_raw.pop("sweep", None)
    builtin = {**tables.INCIDENCE_TABLES, **tables.MORTALITY_TABLES, **tables.MIX_TABLES}
    for dotted in TABLE_REF_KEYS:
        table, key = dotted.split(".")
        ref = base_raw.get(table, {}).get(key)
        if isinstance(ref, str) and ref not in builtin and not Path(ref).is_absolute():
            base_raw[table][key] = os.path.relpath((base_path.parent / ref).resolve(),
                                                   path.parent.resolve())
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base_raw.items()}
    for table, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(table), dict) \
                and table != "sweep":
            merged[table].update(values)
        else:
            merged[table] = values
    own = "".join(f"# | {line}\n" for line in path.read_text(encoding="utf-8").splitlines())
    text = (f"# {path.name} extends {base_name}. The merged scenario as it was run follows;\n"
            f"# {path.name} itself is at the end, as comments.\n\n" + tomli_w.dumps(merged)
            + f"\n# ---- {path.name}\n" + own)
    return merged, text


def load_scenario(path: str | Path) -> Scenario:
    """Load a file that holds exactly one scenario (its base, if it has a sweep)."""
    return load_scenario_set(path).base


def scenario_set_from_dict(raw: dict, file: str, text: str, base_dir: Path, *,
                           check_tables: bool = True, force: bool = False) -> ScenarioSet:
    """Validate a parsed TOML document and expand its sweep (see :func:`load_scenario_set`).

    A sweep of more than ``SWEEP_LIMIT`` scenarios is refused unless ``force``.
    """
    problems = Problems(file)
    raw = dict(raw)
    sweep = raw.pop("sweep", None)
    raw, plans, options = platform.split_platform(raw, problems)
    base = _parse(raw, file, text, base_dir, problems, check_tables=check_tables)
    base = _with_plans(base, raw, plans, options, problems, check_tables=check_tables)
    seed = base.scenario.seed if base is not None else 1
    keys, combos, method, streams = _parse_sweep(sweep, problems, seed, force)
    problems.raise_if_any()
    if not keys:
        return ScenarioSet(file, text, (base,), (), "none", streams)
    members = []
    seen: set[str] = set()
    for index, combo in enumerate(combos):
        overridden = _with_overrides(raw, dict(zip(keys, combo, strict=True)))
        sub = Problems(file)
        swept = dict(zip(keys, combo, strict=True))
        label = str(index) if method in ("zip", "latin") else None
        member = _parse(overridden, file, text, base_dir, sub, check_tables=check_tables,
                        swept=swept, label=label)
        member = _with_plans(member, overridden, plans, options, sub,
                             check_tables=check_tables, swept=swept, label=label)
        for p in sub.items:
            shown = str(p)
            if shown not in seen:
                seen.add(shown)
                problems.items.append(
                    Problem(p.file, p.key, p.what + f" [in sweep member {_label(swept)}]",
                            p.got, p.has_got))
        members.append(member)
    problems.raise_if_any()
    return ScenarioSet(file, text, tuple(members), tuple(keys), method, streams)


def _with_plans(scenario: Scenario | None, raw: dict, plans: list[dict], options: dict,
                problems: Problems, *, check_tables: bool, swept: dict | None = None,
                label: str | None = None) -> Scenario | None:
    """The scenario with its plans (:mod:`engine.config.platform`), each validated as a
    scenario of its own; problems name the plan (``plans.adults.benefits...``)."""
    if scenario is None or not plans:
        return scenario
    from engine.model.inputs import age_mix_share  # late: inputs needs this module

    pop = scenario.population
    out = []
    for j, plan in enumerate(plans):
        lo, hi = plan["ages"]
        market = age_mix_share(scenario, "growth.joiner_age_mix", scenario.growth.joiner_age_mix,
                               lo, hi)
        initial = age_mix_share(scenario, "population.initial_age_mix", pop.initial_age_mix,
                                lo, hi)
        document = platform.plan_document(raw, plan, market, initial)
        sub = Problems(scenario.file)
        member = _parse(document, scenario.file, scenario.text, scenario.base_dir, sub,
                        check_tables=check_tables, swept=swept, label=label)
        problems.items.extend(platform.prefixed(sub.items, plan["name"]))
        if member is None:
            continue
        if options["age_out"] == "next_plan" and member.sharing.funding == "prepaid":
            problems.add("platform.age_out", f"plan {plan['name']} is pre-paid: members who "
                         "move keep no balance in the engine, so next_plan needs post-paid "
                         "plans", "next_plan")
        out.append(replace(member, plan_index=j, plan_own_cells=options["ages_may_overlap"],
                           scenario=replace(member.scenario, name=document["scenario"]["name"]
                                            if not swept else
                                            f"{document['scenario']['name']}"
                                            f"[{label or _label(swept)}]")))
    if len(out) != len(plans):
        return None
    return replace(scenario, plans=tuple(out), age_out=options["age_out"])


def _label(swept: dict) -> str:
    return ",".join(f"{k}={_short(v)}" for k, v in swept.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "[" + ",".join(_short(v) for v in value) + "]"
    if isinstance(value, (list, dict)):
        # A table-valued key (shocks, bands): a short digest keeps names readable; risk
        # groups also show each group's name and incidence multiplier.
        import hashlib
        digest = hashlib.sha1(repr(value).encode()).hexdigest()[:6]
        if value and isinstance(value, list) and all(
                isinstance(g, dict) and "name" in g for g in value):
            groups = "/".join(f"{g['name']}×{_short(g.get('incidence', 1.0))}" for g in value)
            return f"<{groups} #{digest}>"
        return f"<{len(value)} items #{digest}>" if value else "<none>"
    return str(value)


def _with_overrides(raw: dict, overrides: dict) -> dict:
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for dotted, value in overrides.items():
        table, key = dotted.split(".", 1)
        out.setdefault(table, {})
        out[table][key] = value
    return out


def _parse_sweep(sweep: Any, problems: Problems, seed: int, force: bool
                 ) -> tuple[list[str], list[tuple], str, str]:
    """Validate ``[sweep]``: :func:`_sweep_values` and the choice of ``streams``."""
    streams = "common"
    if isinstance(sweep, dict) and "streams" in sweep:
        sweep = dict(sweep)
        streams = sweep.pop("streams")
        if streams not in SWEEP_STREAMS:
            problems.add("sweep.streams", f"must be one of {', '.join(SWEEP_STREAMS)}",
                         streams)
            streams = "common"
    return (*_sweep_values(sweep, problems, seed, force), streams)


def _sweep_values(sweep: Any, problems: Problems, seed: int, force: bool
                  ) -> tuple[list[str], list[tuple], str]:
    """Validate ``[sweep]`` and expand it to one tuple of values per scenario.

    ``grid``: the Cartesian product of the lists. ``zip``: the i-th values of all lists.
    ``latin``: ``samples`` scenarios by Latin hypercube sampling: each key's range
    (``{low = .., high = ..}``, uniform) or list of options (equally likely) is cut into
    ``samples`` equal strata, each used exactly once, in an independent random order per
    key; the draws come from ``numpy.random.Generator(SeedSequence([seed, 0x1A71]))``, so
    a file always expands to the same set.
    """
    if sweep is None:
        return [], [], "none"
    if not isinstance(sweep, dict):
        problems.add("sweep", "must be a table of dotted keys → lists", sweep)
        return [], [], "none"
    sweep = dict(sweep)
    method = sweep.pop("method", "grid")
    samples = sweep.pop("samples", None)
    if method not in SWEEP_METHODS:
        problems.add("sweep.method", f"must be one of {', '.join(SWEEP_METHODS)}", method)
        return [], [], "none"
    if method == "latin":
        if not (isinstance(samples, int) and not isinstance(samples, bool) and samples >= 1):
            problems.add("sweep.samples", "must be an integer ≥ 1 with method = \"latin\"",
                         samples)
            return [], [], method
    elif samples is not None:
        problems.add("sweep.samples", "is only for method = \"latin\"", samples)
    # `a.b = [..]` (unquoted) inside [sweep] reads as a nested table {a: {b: [..]}}; a quoted
    # "a.b" stays one key. Both name the dotted key a.b.
    flat: dict[str, Any] = {}
    for k, v in sweep.items():
        if "." not in k and isinstance(v, dict):
            for k2, v2 in v.items():
                flat[f"{k}.{k2}"] = v2
        else:
            flat[k] = v
    keys, values = [], []
    for dotted, options in flat.items():
        key = f"sweep.{dotted}"
        table, _, name = dotted.partition(".")
        if table not in SCHEMA or name not in SCHEMA[table]:
            valid = sorted(f"{t}.{k}" for t in SCHEMA if t != "scenario" for k in SCHEMA[t])
            problems.add(key, f"no such key to sweep (valid: {', '.join(valid)})", dotted)
            continue
        if table == "scenario":
            problems.add(key, "scenario.* keys cannot be swept (the set shares one seed, "
                         "horizon and path count)", dotted)
            continue
        if method == "latin" and isinstance(options, dict):
            low, high = options.get("low"), options.get("high")
            if set(options) != {"low", "high"} or not (_is_number(low) and _is_number(high)) \
                    or low > high:
                problems.add(key, "a range must be {low = number, high = number} with low ≤ "
                             "high", options)
                continue
            keys.append(dotted)
            values.append(("range", float(low), float(high), SCHEMA[table][name].kind))
            continue
        if not isinstance(options, list) or not options:
            problems.add(key, "must be a non-empty list of values"
                         + (" or {low, high}" if method == "latin" else ""), options)
            continue
        keys.append(dotted)
        values.append(options)
    if method == "zip" and len({len(v) for v in values}) > 1:
        problems.add("sweep", "with method = \"zip\" every list must have the same length",
                     {k: len(v) for k, v in zip(keys, values, strict=True)})
        return [], [], method
    if not keys:
        return [], [], method
    size = {"zip": len(values[0]), "latin": samples}.get(method) or \
        math.prod(len(v) for v in values)
    if size > SWEEP_LIMIT and not force:
        problems.add("sweep", f"expands to {size} scenarios, more than {SWEEP_LIMIT}: pass "
                     "--force to run it anyway", size)
        return [], [], method
    if size > SWEEP_HARD_LIMIT:
        problems.add("sweep", f"expands to more than {SWEEP_HARD_LIMIT} scenarios", size)
        return [], [], method
    if method == "zip":
        return keys, list(zip(*values, strict=True)), method
    if method == "latin":
        return keys, _latin(values, samples, seed), method
    return keys, list(itertools.product(*values)), method


def _latin(values: list, samples: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x1A71]))
    columns = []
    for spec in values:
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        if isinstance(spec, tuple):
            _, low, high, kind = spec
            if kind == "int":
                x = [int(min(high, math.floor(low + v * (high - low + 1)))) for v in u]
            else:
                x = [float(low + v * (high - low)) for v in u]
        else:
            x = [spec[min(len(spec) - 1, int(v * len(spec)))] for v in u]
        columns.append(x)
    return list(zip(*columns, strict=True))


def _parse(raw: dict, file: str, text: str, base_dir: Path, problems: Problems, *,
           check_tables: bool, swept: dict | None = None,
           label: str | None = None) -> Scenario | None:
    for table in raw:
        if table not in SCHEMA:
            valid = ", ".join(["sweep", "platform", "plans", *SCHEMA])
            problems.add(table, f"unknown table (valid: {valid})", has_got=False)
    values: dict[str, dict[str, Any]] = {}
    for table, keys in SCHEMA.items():
        given = raw.get(table, {})
        if not isinstance(given, dict):
            problems.add(table, "must be a table", given)
            given = {}
        for k in given:
            if f"{table}.{k}" in RETIRED:
                problems.add(f"{table}.{k}", RETIRED[f"{table}.{k}"], given[k])
            elif k not in keys:
                problems.add(f"{table}.{k}", f"unknown key (valid: {', '.join(keys)})",
                             given[k])
        values[table] = {}
        for k, spec in keys.items():
            full = f"{table}.{k}"
            if k in given:
                values[table][k] = _check(spec, given[k], full, problems, base_dir)
            elif spec.default is REQUIRED:
                problems.add(full, "required key is missing", has_got=False)
                values[table][k] = None
            else:
                values[table][k] = spec.default
    _cross_checks(values, problems)
    if problems:
        return None
    sections = {t: SECTIONS[t](**values[t]) for t in SCHEMA}
    scenario = Scenario(file=file, text=text, base_dir=base_dir, swept=dict(swept or {}),
                        **sections)
    if swept:
        base_name = scenario.scenario.name
        named = SECTIONS["scenario"](**{**values["scenario"],
                                        "name": f"{base_name}[{label or _label(swept)}]"})
        scenario = Scenario(file=file, text=text, base_dir=base_dir, swept=dict(swept),
                            **{**sections, "scenario": named})
    if check_tables:
        # Late import: inputs needs the scenario types defined here.
        from engine.model.inputs import build_inputs
        try:
            build_inputs(scenario)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
    return scenario


# ------------------------------------------------------------------------ key checks

def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _num(x: float) -> str:
    return str(x) if isinstance(x, int) else f"{x:g}"


def _range_text(spec: Key) -> str:
    lo = "" if spec.lo == -math.inf else (f"> {_num(spec.lo)}" if spec.lo_open
                                          else f"≥ {_num(spec.lo)}")
    hi = "" if spec.hi == math.inf else (f"< {_num(spec.hi)}" if spec.hi_open
                                          else f"≤ {_num(spec.hi)}")
    if lo and hi:
        return (f"in {'(' if spec.lo_open else '['}{_num(spec.lo)}, {_num(spec.hi)}"
                f"{')' if spec.hi_open else ']'}")
    return lo or hi


def _in_range(spec: Key, v: float) -> bool:
    if math.isnan(v):
        return False
    above = v > spec.lo if spec.lo_open else v >= spec.lo
    below = v < spec.hi if spec.hi_open else v <= spec.hi
    return above and below


def _check_number(spec: Key, v: Any, key: str, problems: Problems, integer: bool):
    if integer and not (isinstance(v, int) and not isinstance(v, bool)):
        problems.add(key, "must be an integer", v)
        return None
    if not integer and not _is_number(v):
        problems.add(key, "must be a number", v)
        return None
    # Integers are compared exactly: a 64-bit seed does not survive a float conversion.
    inside = spec.lo <= v <= spec.hi if integer else _in_range(spec, float(v))
    if not inside:
        problems.add(key, f"must be {_range_text(spec)}", v)
        return None
    return int(v) if integer else float(v)


def _check(spec: Key, v: Any, key: str, problems: Problems, base_dir: Path) -> Any:
    kind = spec.kind
    if kind in ("int", "float"):
        return _check_number(spec, v, key, problems, integer=kind == "int")
    if kind == "str":
        if not isinstance(v, str):
            problems.add(key, "must be a string", v)
            return None
        return v
    if kind == "choice":
        if v not in spec.choices:
            problems.add(key, f"must be one of {', '.join(spec.choices)}", v)
            return None
        return v
    if kind == "quarter":
        try:
            parse_quarter(v)
        except (ValueError, TypeError):
            problems.add(key, "must be a quarter like \"2019Q3\"", v)
            return None
        return v
    if kind == "float_list":
        if not isinstance(v, list) or not v:
            problems.add(key, "must be a non-empty list of numbers", v)
            return None
        out = []
        for i, x in enumerate(v):
            checked = _check_number(spec, x, f"{key}[{i}]", problems, integer=False)
            out.append(checked)
        return None if any(x is None for x in out) else out
    if kind == "bands":
        return _check_bands(v, key, problems)
    if kind == "shocks":
        return _check_shocks(v, key, problems)
    if kind == "groups":
        return _check_groups(v, key, problems)
    if kind == "changes":
        return _check_changes(v, key, problems)
    if kind == "year_table":
        if not isinstance(v, dict):
            problems.add(key, "must be a table of year = amount", v)
            return None
        out = {}
        for year, amount in v.items():
            if not str(year).isdigit():
                problems.add(f"{key}.{year}", "year must be like 2020", year)
            elif not _is_number(amount) or amount < 0:
                problems.add(f"{key}.{year}", "must be a number ≥ 0", amount)
            else:
                out[int(year)] = float(amount)
        return out
    if kind == "table_ref":
        builtins = _BUILTIN_TABLES[key]
        if not isinstance(v, str) or not v:
            problems.add(key, "must be a built-in table name or a CSV path", v)
            return None
        path = Path(v) if Path(v).is_absolute() else base_dir / v
        if v not in builtins and (path.suffix.lower() != ".csv" or not path.is_file()):
            problems.add(key, f"not a built-in table ({', '.join(builtins)}) nor an existing "
                         "CSV file", v)
            return None
        return v
    raise AssertionError(f"unknown key kind {kind}")  # schema bug, not user input


def _check_bands(v: Any, key: str, problems: Problems):
    if not isinstance(v, list) or not v:
        problems.add(key, "must be a list of [lo, hi, amount]", v)
        return None
    out = []
    for i, band in enumerate(v):
        ok = (isinstance(band, list) and len(band) == 3
              and all(isinstance(x, int) and not isinstance(x, bool) for x in band[:2])
              and _is_number(band[2]))
        if not ok:
            problems.add(f"{key}[{i}]", "must be [lo, hi, amount] with integer ages", band)
            return None
        lo, hi, amount = band
        if lo > hi:
            problems.add(f"{key}[{i}]", "band ends before it starts", band)
            return None
        if amount < 0 or not math.isfinite(amount):
            problems.add(f"{key}[{i}]", "amount must be ≥ 0", amount)
            return None
        out.append((int(lo), int(hi), float(amount)))
    return out


def _check_shocks(v: Any, key: str, problems: Problems):
    if not isinstance(v, list):
        problems.add(key, "must be a list of {start, quarters, multiplier}", v)
        return None
    out = []
    spec = {"start": None, "quarters": None, "multiplier": None}
    for i, shock in enumerate(v):
        where = f"{key}[{i}]"
        if not isinstance(shock, dict):
            problems.add(where, "must be {start = \"2020Q1\", quarters = 1, multiplier = 1.2}",
                         shock)
            continue
        for k in shock:
            if k not in spec:
                problems.add(f"{where}.{k}", "unknown key (valid: start, quarters, multiplier)",
                             shock[k])
        start = _check(Key("quarter", ""), shock.get("start"), f"{where}.start", problems,
                       Path("."))
        n = _check_number(Key("int", "", lo=1), shock.get("quarters"), f"{where}.quarters",
                          problems, integer=True)
        mult = _check_number(Key("float", "", lo=0.0), shock.get("multiplier"),
                             f"{where}.multiplier", problems, integer=False)
        if None not in (start, n, mult):
            out.append({"start": start, "quarters": n, "multiplier": mult})
    return out if len(out) == len(v) else None


def _tables_of(v: list, key: str, problems: Problems, valid: tuple[str, ...], shape: str):
    """``(where, table)`` for each element of a list of tables; an element that is not a
    table, and every unknown key, is a problem (the element is then left out)."""
    for i, item in enumerate(v):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be {shape}", item)
            continue
        for k in item:
            if k not in valid:
                problems.add(f"{where}.{k}", f"unknown key (valid: {', '.join(valid)})",
                             item[k])
        yield where, item


def _check_changes(v: Any, key: str, problems: Problems):
    """``[{from = "2020Q3", amount_by_age = [[lo, hi, amount], ...]}, ...]`` (dated changes of
    benefit amounts; that ``from`` lies inside the run is a cross-check)."""
    if not isinstance(v, list):
        problems.add(key, "must be a list of {from, amount_by_age}", v)
        return None
    out = []
    for where, change in _tables_of(v, key, problems, ("from", "amount_by_age"),
                                    "{from = \"2020Q3\", amount_by_age = [[lo, hi, "
                                    "amount]]}"):
        start = _check(Key("quarter", ""), change.get("from"), f"{where}.from", problems,
                       Path("."))
        bands = _check_bands(change.get("amount_by_age"), f"{where}.amount_by_age", problems)
        if start is not None and bands is not None:
            out.append({"from": start, "amount_by_age": bands})
    return out if len(out) == len(v) else None


MAX_GROUPS = 16      # risk groups are keyed with 4 bits above the sex bit (model.inputs)


def _check_groups(v: Any, key: str, problems: Problems):
    """``[risk] groups``: each group's keys (:data:`GROUP_KEYS`), unique names, shares that
    sum to 1 and a share-weighted incidence multiplier of 1 (so the table keeps its level)."""
    if not isinstance(v, list) or not v:
        problems.add(key, "must be a non-empty list of {name, population_share, incidence, "
                     "lapse_sensitivity, join_sensitivity}", v)
        return None
    if len(v) > MAX_GROUPS:
        problems.add(key, f"at most {MAX_GROUPS} groups", len(v))
        return None
    out = []
    for where, group in _tables_of(v, key, problems, tuple(GROUP_KEYS),
                                   "a table {name = \"low\", population_share = 0.5, ...}"):
        checked = {}
        for k, spec in GROUP_KEYS.items():
            if k in group:
                checked[k] = _check(spec, group[k], f"{where}.{k}", problems, Path("."))
            elif spec.default is REQUIRED:
                problems.add(f"{where}.{k}", "required key is missing", has_got=False)
                checked[k] = None
            else:
                checked[k] = spec.default
        if None not in checked.values():
            out.append(checked)
    if len(out) != len(v):
        return None
    names = [g["name"] for g in out]
    if len(set(names)) != len(names):
        problems.add(key, "group names must be unique", names)
        return None
    total = math.fsum(g["population_share"] for g in out)
    if abs(total - 1.0) > 1e-9:
        problems.add(f"{key}.population_share", "shares must sum to 1", f"{total:.12g}")
        return None
    mean = math.fsum(g["population_share"] * g["incidence"] for g in out)
    if abs(mean - 1.0) > 1e-9:
        problems.add(f"{key}.incidence", "the share-weighted incidence multiplier must be 1 "
                     "(the table keeps its level)", f"{mean:.12g}")
        return None
    return out


def _tail_checks(values: dict, problems: Problems) -> None:
    """A tilt needs the random driver it tilts (engine.model.tilt)."""
    tail, inc, growth = values["tail"], values["incidence"], values["growth"]
    drivers = {
        "level_shift": (tail["level_shift"] != 0.0, (inc["level_sd_per_year"] or 0.0) > 0.0,
                        "incidence.level_sd_per_year is 0: no systematic level to tilt"),
        "trend_shift": (tail["trend_shift"] != 0.0, (inc["trend_sd"] or 0.0) > 0.0,
                        "incidence.trend_sd is 0: no trend error to tilt"),
        "shock_probability_per_year": (
            tail["shock_probability_per_year"] is not None,
            (inc["shock_probability_per_year"] or 0.0) > 0.0
            and (inc["shock_size"] or 0.0) != 0.0,
            "incidence has no random shocks (shock_probability_per_year or shock_size is "
            "0) to tilt"),
        "join_multiplier_mean": (tail["join_multiplier_mean"] != 1.0,
                                 (growth["dispersion"] or 0.0) >= 1e-12,
                                 "growth.dispersion is 0: no join multiplier to tilt"),
    }
    for key, (asked, present, why) in drivers.items():
        if asked and not present:
            problems.add(f"tail.{key}", why, tail[key])
    quarters = values["scenario"]["quarters"]
    if tail["pilot"] == "conditional_mean" and tail["drivers"] != "systematic":
        problems.add("tail.pilot", "an expected path has no claim counts to tilt: tilting "
                     f'them (tail.drivers = "{tail["drivers"]}") needs "simulated"',
                     tail["pilot"])
    if tail["target"] is None and tail["drivers"] != "systematic":
        problems.add("tail.drivers", "the pilot that tilts them needs tail.target",
                     tail["drivers"])
    if tail["target"] is not None and isinstance(quarters, int):
        if tail["drivers"] != "claims" and \
                not any(present for _, present, _ in drivers.values()):
            problems.add("tail.target", "the scenario has no random systematic driver to "
                         "tilt (incidence.level_sd_per_year, trend_sd, random shocks, "
                         "growth.dispersion); tilt the claim counts with tail.drivers = "
                         '"claims"', tail["target"])
        years = -(-quarters // 4)
        if tail["target"] == "shortfall" and isinstance(tail["year"], int) and \
                tail["year"] > years:
            problems.add("tail.year", f"must be a projection year of the run (1-{years})",
                         tail["year"])
        horizon = tail["horizon_quarters"]
        if horizon is not None and horizon > quarters:
            problems.add("tail.horizon_quarters", f"must be within the run's {quarters} "
                         "quarters", horizon)


MIN_TOPUP_YUAN = 0.01   # one fen: a smaller top-up is a typo, and overflows the top-up count


def _cross_checks(values: dict, problems: Problems) -> None:
    _tail_checks(values, problems)
    prepaid = values["prepaid"]
    key = "topup_amount" if prepaid["topup_amount"] is not None else "deposit"
    topup = prepaid[key]
    if isinstance(topup, float | int) and 0 < topup < MIN_TOPUP_YUAN:
        problems.add(f"prepaid.{key}", "a top-up (the deposit when topup_amount is not given) "
                     f"must be 0 (none) or at least {MIN_TOPUP_YUAN} yuan", topup)
    pop, growth, lapse = values["population"], values["growth"], values["lapse"]
    benefits, incidence = values["benefits"], values["incidence"]
    age_min, age_max = pop["age_min"], pop["age_max"]
    if age_min is not None and age_max is not None:
        if age_min > age_max:
            problems.add("population.age_min", f"must be ≤ age_max ({age_max})", age_min)
        elif benefits["amount_by_age"] is not None:
            _check_band_cover(benefits["amount_by_age"], age_min, age_max, problems)
    model = growth["model"]
    if model in ("bass", "logistic") and growth["market_potential"] is None:
        problems.add("growth.market_potential", f"required for the {model} model",
                     has_got=False)
    market = growth["market_potential"]
    if market is not None and (pop["initial_members"] or 0) > market:
        problems.add("population.initial_members", f"must be ≤ growth.market_potential "
                     f"({_num(market)}): the market counts everyone who ever joined",
                     pop["initial_members"])
    if model == "logistic" and pop["initial_members"] == 0:
        problems.add("population.initial_members",
                     "must be > 0 for the logistic model (it grows from current members)", 0)
    if model == "fixed":
        series, quarters = growth["series"], values["scenario"]["quarters"]
        if series is None:
            problems.add("growth.series", "required for the fixed model", has_got=False)
        elif quarters is not None and len(series) < quarters:
            problems.add("growth.series", f"needs one value per quarter ({quarters})",
                         f"{len(series)} values")
    if lapse["by_duration"] is not None and lapse["base_quarterly"] != 0.0:
        problems.add("lapse.by_duration", "give base_quarterly or by_duration, not both",
                     lapse["by_duration"])
    elastic = (lapse["cost_elasticity"] or 0) > 0 or (growth["cost_elasticity"] or 0) > 0
    if elastic and lapse["reference_cost"] is None:
        problems.add("lapse.reference_cost",
                     "required when lapse or growth cost_elasticity is positive", has_got=False)
    if benefits["mild_share"] and benefits["mild_share"] > 0 and benefits["mild_amount"] is None:
        problems.add("benefits.mild_amount", "required when mild_share > 0", has_got=False)
    year = incidence["national_level_year"]
    if year is not None and year not in tables.ncc_years():
        problems.add("incidence.national_level_year",
                     f"no NCC crude rate for that year (have {tables.ncc_years()})", year)
    if None not in (benefits["waiting_quarters"], incidence["selection"]):
        cap = _duration_cap(benefits["waiting_quarters"], incidence["selection"],
                            lapse["by_duration"])
        if cap > MAX_DURATION_QUARTERS:
            problems.add("incidence.selection",
                         f"durations tracked would exceed {MAX_DURATION_QUARTERS} quarters "
                         "(waiting, 4 × selection years, lapse.by_duration)", cap)
    if values["sharing"]["funding"] == "prepaid" and values["sharing"]["rule"] == "age_rated":
        problems.add("sharing.funding", "prepaid balances are kept for equal sharing only "
                     "(sharing.rule = \"equal\")", "prepaid")
    pattern = benefits["payment_pattern"]
    if pattern is not None:
        if abs(sum(pattern) - 1.0) > 1e-9:
            problems.add("benefits.payment_pattern", "shares must sum to 1", pattern)
        if len(pattern) > MAX_PAYMENT_QUARTERS:
            problems.add("benefits.payment_pattern",
                         f"at most {MAX_PAYMENT_QUARTERS} quarters", len(pattern))
    start, quarters = values["scenario"]["start"], values["scenario"]["quarters"]
    if start is not None and quarters is not None:
        launch = growth["start_joins_from"]
        if launch is not None and not 0 <= quarter_offset(start, launch) < quarters:
            problems.add("growth.start_joins_from", f"is dated outside the run ({start} and "
                         f"the {quarters - 1} quarters after it)", launch)
        for key, label in (("growth.stop_joins_from", growth["stop_joins_from"]),
                           ("closure.quarter", values["closure"]["quarter"]),
                           ("closure.platform_funds_from",
                            values["closure"]["platform_funds_from"])):
            if label is not None and quarter_offset(start, label) < 0:
                problems.add(key, f"is before the scenario's start ({start})", label)
        for i, change in enumerate(benefits["changes"] or []):
            offset = quarter_offset(start, change["from"])
            if not 0 <= offset < quarters:
                problems.add(f"benefits.changes[{i}].from", "is dated outside the run "
                             f"({start} and the {quarters - 1} quarters after it)",
                             change["from"])
    init_d = pop["initial_duration_quarters"]
    if init_d is not None and init_d > MAX_DURATION_QUARTERS:
        problems.add("population.initial_duration_quarters",
                     f"must be ≤ {MAX_DURATION_QUARTERS}", init_d)


def _check_band_cover(bands: list, age_min: int, age_max: int, problems: Problems) -> None:
    key = "benefits.amount_by_age"
    shown = [[lo, hi, a] for lo, hi, a in bands]
    ordered = sorted(bands)
    for (_, hi0, _), (lo1, _, _) in itertools.pairwise(ordered):
        if lo1 <= hi0:
            problems.add(key, f"age bands overlap at age {lo1}", shown)
            return
        if lo1 > hi0 + 1:
            problems.add(key, f"age bands leave a gap at ages {hi0 + 1}-{lo1 - 1}", shown)
            return
    if ordered[0][0] > age_min or ordered[-1][1] < age_max:
        problems.add(key, f"age bands must cover ages {age_min}-{age_max}", shown)

"""One key's value against its :class:`~engine.config.schema.Key`: type, range, shape.

:func:`check_key` returns the value as the scenario holds it (ints and floats as such, bands
as tuples), or ``None`` after recording a problem ``table.key: what (got VALUE)``. Checks
that relate keys to one another are in :mod:`engine.config.cross_checks`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from engine.config.labels import parse_quarter
from engine.config.lookup import resolve_table
from engine.config.schema import GROUP_KEYS, REQUIRED, Key
from engine.errors import Problems

MAX_GROUPS = 16      # risk groups are keyed with 4 bits above the sex bit (model.inputs)


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def shown_number(x: float) -> str:
    """A number as a message shows it: an int as is, a float by ``%g``."""
    return str(x) if isinstance(x, int) else f"{x:g}"


def check_key(spec: Key, v: Any, key: str, problems: Problems, base_dir: Path) -> Any:
    """The checked value of ``key`` (relative CSV paths from ``base_dir``), or ``None``."""
    kind = spec.kind
    if kind in ("int", "float"):
        return check_number(spec, v, key, problems, integer=kind == "int")
    if kind in _TEXT_CHECKS:
        return _TEXT_CHECKS[kind](spec, v, key, problems)
    if kind in _LIST_CHECKS:
        return _LIST_CHECKS[kind](v, key, problems)
    if kind == "float_list":
        return _check_float_list(spec, v, key, problems)
    if kind == "table_ref":
        return _check_table_ref(v, key, problems, base_dir)
    if kind in _OUTPUT_CHECKS:
        from engine.config import output

        return getattr(output, _OUTPUT_CHECKS[kind])(v, key, problems)
    if kind == "precision_targets":
        from engine.config.precision import check_targets

        return check_targets(v, key, problems)
    raise AssertionError(f"unknown key kind {kind}")  # schema bug, not user input


_OUTPUT_CHECKS = {"detail_variables": "check_detail", "detail_dims": "check_by",
                  "age_bands": "check_age_bands"}


def check_number(spec: Key, v: Any, key: str, problems: Problems, integer: bool):
    if integer and not (isinstance(v, int) and not isinstance(v, bool)):
        problems.add(key, "must be an integer", v)
        return None
    if not integer and not is_number(v):
        problems.add(key, "must be a number", v)
        return None
    # Integers are compared exactly: a 64-bit seed does not survive a float conversion.
    inside = spec.lo <= v <= spec.hi if integer else in_range(spec, float(v))
    if not inside:
        problems.add(key, f"must be {range_text(spec)}", v)
        return None
    return int(v) if integer else float(v)


def range_text(spec: Key) -> str:
    num = shown_number
    lo = "" if spec.lo == -math.inf else (f"> {num(spec.lo)}" if spec.lo_open
                                          else f"≥ {num(spec.lo)}")
    hi = "" if spec.hi == math.inf else (f"< {num(spec.hi)}" if spec.hi_open
                                          else f"≤ {num(spec.hi)}")
    if lo and hi:
        return (f"in {'(' if spec.lo_open else '['}{num(spec.lo)}, {num(spec.hi)}"
                f"{')' if spec.hi_open else ']'}")
    return lo or hi


def in_range(spec: Key, v: float) -> bool:
    if math.isnan(v):
        return False
    above = v > spec.lo if spec.lo_open else v >= spec.lo
    below = v < spec.hi if spec.hi_open else v <= spec.hi
    return above and below


# ------------------------------------------------------------------ text and tables

def _check_str(spec: Key, v: Any, key: str, problems: Problems):
    if not isinstance(v, str):
        problems.add(key, "must be a string", v)
        return None
    return v


def _check_choice(spec: Key, v: Any, key: str, problems: Problems):
    if v not in spec.choices:
        problems.add(key, f"must be one of {', '.join(spec.choices)}", v)
        return None
    return v


def _check_quarter(spec: Key, v: Any, key: str, problems: Problems):
    try:
        parse_quarter(v)
    except (ValueError, TypeError):
        problems.add(key, "must be a quarter like \"2019Q3\"", v)
        return None
    return v


def _check_year_table(spec: Key, v: Any, key: str, problems: Problems):
    if not isinstance(v, dict):
        problems.add(key, "must be a table of year = amount", v)
        return None
    out = {}
    for year, amount in v.items():
        if not str(year).isdigit():
            problems.add(f"{key}.{year}", "year must be like 2020", year)
        elif not is_number(amount) or amount < 0:
            problems.add(f"{key}.{year}", "must be a number ≥ 0", amount)
        else:
            out[int(year)] = float(amount)
    return out


def _dated_values(spec: Key, v: Any, key: str, problems: Problems, what: str,
                  label) -> dict | None:
    """A table of date label → number in the key's range; ``label(text, key)`` gives the
    label as stored, or None after adding its problem."""
    if not isinstance(v, dict):
        problems.add(key, f"must be a table of {what} = number", v)
        return None
    out = {}
    for given, x in v.items():
        name = label(given, f"{key}.{given}")
        number = check_number(spec, x, f"{key}.{given}", problems, integer=False) \
            if name is not None else None
        if number is not None:
            out[name] = number
    return out


def _check_year_values(spec: Key, v: Any, key: str, problems: Problems):
    """A table of calendar year → number in the key's range, as ``{"2020": x}``."""
    def year(text, where):
        if str(text).isdigit():
            return str(int(text))
        problems.add(where, "year must be like 2020", text)
        return None

    return _dated_values(spec, v, key, problems, "year", year)


def _check_quarter_values(spec: Key, v: Any, key: str, problems: Problems):
    """A table of quarter → number in the key's range, as ``{"2020Q1": x}``."""
    def quarter(text, where):
        checked = _check_quarter(spec, text, where, problems)
        return None if checked is None else str(checked).upper()

    return _dated_values(spec, v, key, problems, '"quarter"', quarter)


def _check_quarter_list(spec: Key, v: Any, key: str, problems: Problems):
    if not isinstance(v, list):
        problems.add(key, "must be a list of quarters like [\"2020Q1\"]", v)
        return None
    checked = [_check_quarter(spec, q, key, problems) for q in v]
    return None if any(q is None for q in checked) else sorted({q.upper() for q in checked})


_TEXT_CHECKS = {"str": _check_str, "choice": _check_choice, "quarter": _check_quarter,
                "year_table": _check_year_table, "year_values": _check_year_values,
                "quarter_values": _check_quarter_values, "quarter_list": _check_quarter_list}


def _check_table_ref(v: Any, key: str, problems: Problems, base_dir: Path):
    """A built-in table's name or an existing CSV file (:func:`resolve_table`)."""
    if not isinstance(v, str) or not v:
        problems.add(key, "must be a built-in table name or a CSV path", v)
        return None
    kind, _ = resolve_table(key, v, base_dir, problems)
    return None if kind is None else v


# ------------------------------------------------------------------------------ lists

def _check_float_list(spec: Key, v: Any, key: str, problems: Problems):
    if not isinstance(v, list) or not v:
        problems.add(key, "must be a non-empty list of numbers", v)
        return None
    out = [check_number(spec, x, f"{key}[{i}]", problems, integer=False)
           for i, x in enumerate(v)]
    return None if any(x is None for x in out) else out


def _check_bands(v: Any, key: str, problems: Problems):
    if not isinstance(v, list) or not v:
        problems.add(key, "must be a list of [lo, hi, amount]", v)
        return None
    out = []
    for i, band in enumerate(v):
        ok = (isinstance(band, list) and len(band) == 3
              and all(isinstance(x, int) and not isinstance(x, bool) for x in band[:2])
              and is_number(band[2]))
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
        start = _check_quarter(Key("quarter", ""), shock.get("start"), f"{where}.start",
                               problems)
        n = check_number(Key("int", "", lo=1), shock.get("quarters"), f"{where}.quarters",
                         problems, integer=True)
        mult = check_number(Key("float", "", lo=0.0), shock.get("multiplier"),
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
        start = _check_quarter(Key("quarter", ""), change.get("from"), f"{where}.from",
                               problems)
        bands = _check_bands(change.get("amount_by_age"), f"{where}.amount_by_age", problems)
        if start is not None and bands is not None:
            out.append({"from": start, "amount_by_age": bands})
    return out if len(out) == len(v) else None


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
                checked[k] = check_key(spec, group[k], f"{where}.{k}", problems, Path("."))
            elif spec.default is REQUIRED:
                problems.add(f"{where}.{k}", "required key is missing", has_got=False)
                checked[k] = None
            else:
                checked[k] = spec.default
        if None not in checked.values():
            out.append(checked)
    if len(out) != len(v):
        return None
    return out if _groups_consistent(out, key, problems) else None


def _groups_consistent(groups: list[dict], key: str, problems: Problems) -> bool:
    """Unique names, shares summing to 1 and a share-weighted incidence multiplier of 1."""
    names = [g["name"] for g in groups]
    if len(set(names)) != len(names):
        problems.add(key, "group names must be unique", names)
        return False
    total = math.fsum(g["population_share"] for g in groups)
    if abs(total - 1.0) > 1e-9:
        problems.add(f"{key}.population_share", "shares must sum to 1", f"{total:.12g}")
        return False
    mean = math.fsum(g["population_share"] * g["incidence"] for g in groups)
    if abs(mean - 1.0) > 1e-9:
        problems.add(f"{key}.incidence", "the share-weighted incidence multiplier must be 1 "
                     "(the table keeps its level)", f"{mean:.12g}")
        return False
    return True


MAX_PAYOUT_LEVELS = 8   # a level's draws are keyed in the duration bits of a cell (6 bits)


def _check_payout_levels(v: Any, key: str, problems: Problems):
    """``[{share_of_cap, probability}, ...]``: shares in (0, 1], probabilities in [0, 1]
    summing to at most 1, at most :data:`MAX_PAYOUT_LEVELS` levels."""
    if not isinstance(v, list):
        problems.add(key, "must be a list of {share_of_cap, probability}", v)
        return None
    if len(v) > MAX_PAYOUT_LEVELS:
        problems.add(key, f"at most {MAX_PAYOUT_LEVELS} levels", len(v))
        return None
    out = []
    for where, level in _tables_of(v, key, problems, ("share_of_cap", "probability"),
                                   "{share_of_cap = 0.5, probability = 0.3}"):
        share = check_number(Key("float", "", lo=0.0, lo_open=True, hi=1.0),
                             level.get("share_of_cap"), f"{where}.share_of_cap", problems,
                             integer=False)
        p = check_number(Key("float", "", lo=0.0, hi=1.0), level.get("probability"),
                         f"{where}.probability", problems, integer=False)
        if None not in (share, p):
            out.append({"share_of_cap": share, "probability": p})
    if len(out) != len(v):
        return None
    total = math.fsum(level["probability"] for level in out)
    if total > 1.0 + 1e-12:
        problems.add(f"{key}.probability", "probabilities must sum to at most 1",
                     f"{total:.12g}")
        return None
    return out


_LIST_CHECKS = {"bands": _check_bands, "shocks": _check_shocks, "groups": _check_groups,
                "changes": _check_changes, "payout_levels": _check_payout_levels}

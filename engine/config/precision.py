"""``[precision]``: the statistics a run must know to a stated standard error (DESIGN §3).

A target is one table of ``[precision] targets``::

    {statistic = "mean", variable = "cost_per_member", year = [1, 2, 3, 4], relative_se = 0.02}
    {statistic = "var", level = 0.995, year = 4, relative_se = 0.05}      # of the shortfall
    {statistic = "ruin", by = "2022Q1", absolute_se = 0.01}

``statistic`` is ``mean`` (the mean of a variable's value in a projection year), ``var`` or
``tvar`` (of a variable's yearly sum at ``level``; the variable defaults to ``shortfall``)
or ``ruin`` (the probability of a solvency gap by the end of quarter ``by``; default: the
run's end). Exactly one of ``relative_se`` (a share of the estimate, > 0) and
``absolute_se`` (in the statistic's units, > 0). A mean's ``year`` may be a list (each year
must reach the target) and defaults to every full projection year. How the run stops is
:mod:`engine.run.precision`; the estimators and the stopping rule are
:mod:`engine.analysis.precision`.

This module checks a target's own keys (:func:`check_targets`, the ``precision_targets``
key kind) and, once the run's length is known, its years and quarter
(:func:`cross_check`).
"""

from __future__ import annotations

from typing import Any

from engine.config.labels import quarter_labels, quarter_offset
from engine.errors import Problems

STATISTICS = ("mean", "var", "tvar", "ruin")
TARGET_KEYS = ("statistic", "variable", "year", "level", "by", "relative_se", "absolute_se")
# The paths of one scenario are keyed by one 32-bit word of the Philox counter
# (engine.random.streams): a run can hold at most 2**32 paths of a scenario.
MAX_PATHS = 2 ** 32
DEFAULT_VARIABLE = {"mean": "cost_per_member", "var": "shortfall", "tvar": "shortfall"}
SHAPE = ('{statistic = "mean", variable = "cost_per_member", year = 1, relative_se = 0.02} '
         '(statistic: mean, var, tvar or ruin)')


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_one(item: dict, where: str, problems: Problems) -> dict | None:
    """One target's own keys, normalised (defaults filled in), or ``None``."""
    from engine.variables import VARIABLES

    before = len(problems.items)
    for k in item:
        if k not in TARGET_KEYS:
            problems.add(f"{where}.{k}", f"unknown key (valid: {', '.join(TARGET_KEYS)})",
                         item[k])
    stat = item.get("statistic")
    if stat not in STATISTICS:
        problems.add(f"{where}.statistic", f"must be one of {', '.join(STATISTICS)}", stat)
        return None
    out: dict[str, Any] = {"statistic": stat}
    names = [v.name for v in VARIABLES]
    if stat == "ruin":
        for k in ("variable", "year", "level"):
            if k in item:
                problems.add(f"{where}.{k}", "a ruin target has no such key (ruin is a "
                             "solvency gap by quarter `by`)", item[k])
        by = item.get("by")
        if by is not None and not isinstance(by, str):
            problems.add(f"{where}.by", 'must be a quarter like "2022Q1"', by)
        out["by"] = by
    else:
        if "by" in item:
            problems.add(f"{where}.by", f"a {stat} target is of a projection year (year)",
                         item["by"])
        variable = item.get("variable", DEFAULT_VARIABLE[stat])
        if variable not in names:
            problems.add(f"{where}.variable", "must be a results variable (valid: "
                         f"{', '.join(names)})", variable)
        out["variable"] = variable
        years = item.get("year")
        if years is None and stat != "mean":
            problems.add(f"{where}.year", f"a {stat} target needs the projection year whose "
                         "value it is of (1 = the first four quarters)", has_got=False)
        listed = years if isinstance(years, list) else [years] if years is not None else []
        if not all(isinstance(y, int) and not isinstance(y, bool) and y >= 1 for y in listed) \
                or (isinstance(years, list) and not years):
            problems.add(f"{where}.year", "must be a projection year ≥ 1 (or, for a mean, a "
                         "list of them)", years)
        elif isinstance(years, list) and stat != "mean":
            problems.add(f"{where}.year", f"a {stat} target is of one year", years)
        out["year"] = sorted(set(listed)) if years is not None else None
        if stat in ("var", "tvar"):
            level = item.get("level", 0.995)
            if not _number(level) or not 0.0 < level < 1.0:
                problems.add(f"{where}.level", "must be a level in (0, 1), like 0.995", level)
            out["level"] = level
        elif "level" in item:
            problems.add(f"{where}.level", "a mean has no level", item["level"])
    given = [k for k in ("relative_se", "absolute_se") if k in item]
    if len(given) != 1:
        problems.add(where, "needs exactly one of relative_se and absolute_se "
                     f"(got {len(given) or 'neither'})", has_got=False)
    for k in given:
        if not _number(item[k]) or not item[k] > 0:
            problems.add(f"{where}.{k}", "must be a standard error > 0", item[k])
        out[k] = item[k]
    return out if len(problems.items) == before else None


def check_targets(v: Any, key: str, problems: Problems):
    """``[precision] targets``: a list of target tables (module docstring)."""
    if not isinstance(v, list):
        problems.add(key, f"must be a list of targets like {SHAPE}", v)
        return None
    out = []
    for i, item in enumerate(v):
        where = f"{key}[{i}]"
        if not isinstance(item, dict):
            problems.add(where, f"must be a table like {SHAPE}", item)
            continue
        checked = _check_one(item, where, problems)
        if checked is not None:
            out.append(checked)
    return out if len(out) == len(v) else None


def cross_check(values: dict, problems: Problems) -> None:
    """Years within the run, ``by`` a quarter of the run, ``min_paths ≤ max_paths``."""
    precision, scenario = values["precision"], values["scenario"]
    lo, hi = precision["min_paths"], precision["max_paths"]
    if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
        problems.add("precision.min_paths", f"must not exceed precision.max_paths ({hi})", lo)
    quarters, start = scenario["quarters"], scenario["start"]
    if not isinstance(quarters, int) or start is None or not precision["targets"]:
        return
    years = quarters // 4
    labels = quarter_labels(start, quarters)
    for i, target in enumerate(precision["targets"]):
        where = f"precision.targets[{i}]"
        for y in target.get("year") or []:
            if y > years:
                problems.add(f"{where}.year", f"must be a full projection year of the run "
                             f"(1-{years})", y)
        by = target.get("by")
        if by is not None:
            try:
                inside = 0 <= quarter_offset(start, by) < quarters
            except ValueError:
                inside = False
            if not inside:
                problems.add(f"{where}.by", f"must be a quarter of the run ({labels[0]}-"
                             f"{labels[-1]})", by)
        if target.get("year") is None and target["statistic"] == "mean" and years < 1:
            problems.add(f"{where}.year", "the run has no full projection year", has_got=False)


# --------------------------------------------------------------------------- --precision

SPEC_HELP = ("a target as key=value pairs joined by commas, the keys of a [precision] "
             "target, like statistic=var,year=4,level=0.995,relative_se=5%% (a year range "
             "1..4, a percentage for a share); min_paths=N,max_paths=N set the bounds")


def _spec_value(text: str):
    """``5%`` → 0.05, ``1..4`` → [1, 2, 3, 4], numbers as numbers, else the text."""
    text = text.strip()
    if text.endswith("%"):
        try:
            return float(text[:-1]) / 100.0
        except ValueError:
            return text
    if ".." in text:
        lo, _, hi = text.partition("..")
        if lo.strip().isdigit() and hi.strip().isdigit():
            return list(range(int(lo), int(hi) + 1))
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_specs(specs: list[str], problems: Problems) -> dict:
    """The ``[precision]`` table that ``--precision`` ``specs`` describe (unchecked)."""
    table: dict[str, Any] = {"targets": []}
    for spec in specs:
        item = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, eq, value = part.partition("=")
            if not eq:
                problems.add("precision", f"{SPEC_HELP} (got {part!r})", has_got=False)
                continue
            item[key.strip()] = _spec_value(value)
        for bound in ("min_paths", "max_paths"):
            if bound in item:
                table[bound] = item.pop(bound)
        if item:
            table["targets"].append(item)
    return table


def override(scenario_set, specs: list[str]):
    """``scenario_set`` with every scenario's ``[precision]`` replaced by the table of
    ``--precision`` ``specs``, checked like the file's (one line per problem, naming
    ``--precision``, the key and the value; exit 2)."""
    from dataclasses import replace
    from pathlib import Path

    from engine.config.checks import check_key
    from engine.config.scenario import SECTIONS
    from engine.config.schema import SCHEMA

    problems = Problems("--precision")
    table = parse_specs(specs, problems)
    values = {}
    for key, spec in SCHEMA["precision"].items():
        given = table.get(key, spec.default)
        values[key] = check_key(spec, given, f"precision.{key}", problems, Path("."))
    if not values["targets"] and not problems:
        problems.add("precision.targets", "--precision needs at least one target "
                     "(statistic=...)", has_got=False)
    base = scenario_set.base.scenario
    if not problems:
        cross_check({"precision": values, "scenario": {"quarters": base.quarters,
                                                       "start": base.start}}, problems)
    problems.raise_if_any()
    section = SECTIONS["precision"](**values)
    return replace(scenario_set, scenarios=tuple(replace(s, precision=section)
                                                 for s in scenario_set.scenarios))

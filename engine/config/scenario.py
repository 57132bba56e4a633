"""Scenario files (TOML) → frozen, validated configuration; sweeps → scenario sets.

A scenario file has the tables of :data:`engine.config.schema.SCHEMA` plus an optional ``[sweep]``
of dotted keys → lists of values; the set is their Cartesian product (``method = "grid"``).
Validation reports every problem at once, each as ``FILE: table.key: what (got VALUE)``,
and raises :class:`~engine.errors.ScenarioError`. Tables named by a scenario (incidence,
mortality, mixes) are loaded and checked here too, so that a scenario that validates runs.

The rooms of the configuration, in the order a file passes through them:
:mod:`~engine.config.loading` (TOML, ``extends``), :mod:`~engine.config.platform`
(``[[plans]]``), :mod:`~engine.config.checks` (each key),
:mod:`~engine.config.cross_checks` (keys against each other),
:mod:`~engine.config.lookup` (the tables a scenario names) and
:mod:`~engine.config.sweeps` (``[sweep]`` → members); this module puts them together.
"""

from __future__ import annotations

from dataclasses import dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any

from engine.config import output, platform
from engine.config.checks import check_key
from engine.config.cross_checks import cross_checks, duration_cap_of
from engine.config.loading import read_document
from engine.config.lookup import age_mix_share, scenario_tables
from engine.config.schema import REQUIRED, RETIRED, SCHEMA
from engine.config.sweeps import member_label, parse_sweep, with_overrides
from engine.errors import InputError, Problem, Problems

__all__ = ["SECTIONS", "Scenario", "ScenarioSet", "load_scenario", "load_scenario_set",
           "read_document", "scenario_set_from_dict"]

# The Python type each kind of key holds once validated (schema.Key.kind).
KIND_TYPES: dict[str, type] = {
    "int": int, "float": float, "str": str, "choice": str, "quarter": str,
    "table_ref": str, "float_list": list[float], "bands": list[list[float]],
    "shocks": list[dict[str, float | int | str]], "year_table": dict[str, float],
    "year_values": dict[str, float], "quarter_values": dict[str, float],
    "quarter_list": list[str],
    "groups": list[dict[str, float | str]],
    "changes": list[dict[str, Any]],
    "payout_levels": list[dict[str, float]],
    "precision_targets": list[dict[str, Any]],
    "detail_variables": list[str],
    "detail_dims": list[str],
    "age_bands": list[list[int]],
}


class Section:
    """A table of a scenario (``scenario.lapse``): its keys are its fields, typed from the
    schema. The classes are made from :data:`~engine.config.schema.SCHEMA`
    (:data:`SECTIONS`); an instance pickles as its table's name and values."""

    _schema_table: str = ""   # the table's name (keys never start with _)

    def __reduce__(self):
        return _section, (self._schema_table, self.__dict__.copy())


def _section(table: str, values: dict) -> Section:
    return SECTIONS[table](**values)


def _section_class(table: str) -> type:
    """A frozen dataclass of the table's keys, typed from the schema (``None`` allowed
    where the key's default is ``None``)."""
    fields_ = []
    for key, spec in SCHEMA[table].items():
        kind = KIND_TYPES[spec.kind]
        fields_.append((key, kind | None if spec.default is None else kind))
    cls = make_dataclass(table.capitalize(), fields_, bases=(Section,), frozen=True,
                         namespace={"_schema_table": table})
    cls.__module__ = __name__
    return cls


SECTIONS = {table: _section_class(table) for table in SCHEMA}


@dataclass(frozen=True)
class Scenario:
    """One validated scenario.

    Its tables, one field each in the schema's order (a test checks that they are exactly
    :data:`~engine.config.schema.SCHEMA`'s tables), each a :class:`Section` of its keys;
    and where it came from: ``file`` (path as given), ``text`` (the file's TOML text,
    stored in results), ``base_dir`` (CSV paths are relative to it) and ``swept`` (dotted
    key → value for a member of a scenario set). A platform (:mod:`engine.config.platform`)
    has its ``plans``, each a scenario of its own ages and rules, and ``age_out``, what
    happens to members past a plan's oldest age; a plan has its ``plan_index``, and
    ``plan_own_cells`` when the platform's plans' ages may overlap (its cells are keyed
    apart), and ``enrolled_with`` ``(k, r)`` when its joiners are enrolled by plan ``k``'s
    (``()``: it grows by its own growth model).
    """

    file: str
    text: str
    base_dir: Path
    scenario: Section
    population: Section
    growth: Section
    incidence: Section
    mortality: Section
    lapse: Section
    benefits: Section
    sharing: Section
    risk: Section
    reserve: Section
    prepaid: Section
    closure: Section
    valuation: Section
    tail: Section
    market: Section
    drivers: Section
    precision: Section
    output: Section
    swept: dict = field(default_factory=dict)
    plans: tuple = ()
    age_out: str = "leave"
    plan_index: int = 0
    plan_own_cells: bool = False
    enrolled_with: tuple = ()       # a plan enrolled by another's joiners: (its index, r)

    @property
    def name(self) -> str:
        return self.scenario.name

    @property
    def duration_cap(self) -> int:
        """``D = max(waiting + 1, 4 (len(selection) − 1), len(by_duration) − 1)``, quarters.

        Durations ``0..D`` are tracked; ``D`` holds everyone at or past it. Every quantity
        that depends on duration is constant from ``D`` on.
        """
        return duration_cap_of(self.benefits.waiting_quarters, self.incidence.selection,
                               self.lapse.by_duration)

    def get(self, dotted: str) -> Any:
        table, key = dotted.split(".", 1)
        return getattr(getattr(self, table), key)


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
    samples: int = 0                # latin, sobol: [sweep] samples (0: none)
    second_order: bool = False      # sobol: the design holds second-order indices

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
    origin = _Origin(file, text, base_dir, check_tables)
    base = _with_plans(_parse(raw, origin, problems), raw, plans, options, problems,
                       origin)
    seed = base.scenario.seed if base is not None else 1
    keys, combos, method, streams = parse_sweep(sweep, problems, seed, force)
    output.check_platform(base, problems)
    problems.raise_if_any()
    if not keys:
        return ScenarioSet(file, text, output.with_default_bands((base,)), (), "none",
                           streams)
    members = []
    seen: set[str] = set()
    for index, combo in enumerate(combos):
        swept = dict(zip(keys, combo, strict=True))
        overridden = with_overrides(raw, swept)
        sub = Problems(file)
        member_of = replace(origin, swept=swept,
                            label=str(index) if method in ("zip", "latin", "sobol") else None)
        member = _with_plans(_parse(overridden, member_of, sub), overridden, plans, options,
                             sub, member_of)
        for p in sub.items:
            shown = str(p)
            if shown not in seen:
                seen.add(shown)
                problems.items.append(
                    Problem(p.file, p.key, p.what + f" [in sweep member {member_label(swept)}]",
                            p.got, p.has_got))
        members.append(member)
    problems.raise_if_any()
    output.check_groups(members, problems)
    problems.raise_if_any()
    return ScenarioSet(file, text, output.with_default_bands(tuple(members)), tuple(keys),
                       method, streams,
                       int(sweep.get("samples") or 0), bool(sweep.get("second_order", False)))


@dataclass(frozen=True)
class _Origin:
    """Where a document came from and how to check it: the file, its text and folder,
    whether to read its tables, and for a sweep member its values and label (the index
    of a ``zip`` or ``latin`` member; ``None``: ``key=value,...``)."""

    file: str
    text: str
    base_dir: Path
    check_tables: bool
    swept: dict | None = None
    label: str | None = None

    def member_name(self, name: str) -> str:
        return f"{name}[{self.label or member_label(self.swept)}]"


def _with_plans(scenario: Scenario | None, raw: dict, plans: list[dict], options: dict,
                problems: Problems, origin: _Origin) -> Scenario | None:
    """The scenario with its plans (:mod:`engine.config.platform`), each validated as a
    scenario of its own; problems name the plan (``plans.adults.benefits...``)."""
    if scenario is None or not plans:
        return scenario
    pop = scenario.population
    markets = {plan["name"]: age_mix_share(scenario, "growth.joiner_age_mix",
                                           scenario.growth.joiner_age_mix, *plan["ages"])
               for plan in plans}
    out = []
    for j, plan in enumerate(plans):
        lo, hi = plan["ages"]
        market = markets[plan["name"]]
        if plan.get("enrolled_with"):
            market = plan["enrolled_with"]["per_joiner"] * markets[plan["enrolled_with"]["plan"]]
        initial = age_mix_share(scenario, "population.initial_age_mix", pop.initial_age_mix,
                                lo, hi)
        document = platform.plan_document(raw, plan, market, initial)
        sub = Problems(scenario.file)
        member = _parse(document, replace(origin, file=scenario.file, text=scenario.text,
                                          base_dir=scenario.base_dir), sub)
        problems.items.extend(platform.prefixed(sub.items, plan["name"]))
        if member is None:
            continue
        if options["age_out"] == "next_plan" and member.sharing.funding == "prepaid":
            problems.add("platform.age_out", f"plan {plan['name']} is pre-paid: members who "
                         "move keep no balance in the engine, so next_plan needs post-paid "
                         "plans", "next_plan")
        name = document["scenario"]["name"]
        enrolled = plan.get("enrolled_with")
        enrolled_with = (() if not enrolled else
                         ([p["name"] for p in plans].index(enrolled["plan"]),
                          float(enrolled["per_joiner"])))
        out.append(replace(member, plan_index=j, plan_own_cells=options["ages_may_overlap"],
                           enrolled_with=enrolled_with,
                           scenario=replace(member.scenario, name=origin.member_name(name)
                                            if origin.swept else name)))
    if len(out) != len(plans):
        return None
    return replace(scenario, plans=tuple(out), age_out=options["age_out"])


def _parse(raw: dict, origin: _Origin, problems: Problems) -> Scenario | None:
    """The scenario of a document (a sweep member's named ``NAME[...]``), or ``None``
    after recording its problems: each key's, the cross checks' and its tables'."""
    values = _checked_values(raw, origin.base_dir, problems)
    cross_checks(values, problems)
    if problems:
        return None
    if origin.swept:
        values["scenario"]["name"] = origin.member_name(values["scenario"]["name"])
    scenario = Scenario(file=origin.file, text=origin.text, base_dir=origin.base_dir,
                        swept=dict(origin.swept or {}),
                        **{t: SECTIONS[t](**values[t]) for t in SCHEMA})
    if origin.check_tables:
        try:
            scenario_tables(scenario)
        except InputError as exc:
            problems.extend(exc.problems)
            return None
    return scenario


def _checked_values(raw: dict, base_dir: Path, problems: Problems) -> dict[str, dict]:
    """``{table: {key: checked value}}`` with the schema's defaults; an unknown table or
    key, a retired key, a missing required key and a bad value are problems (the value
    ``None``)."""
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
                values[table][k] = check_key(spec, given[k], full, problems, base_dir)
            elif spec.default is REQUIRED:
                problems.add(full, "required key is missing", has_got=False)
                values[table][k] = None
            else:
                values[table][k] = spec.default
    return values

"""The resolved values a results file carries: everything its readers need,
taken at run time from the validated scenarios, so that a file can be read away from its
scenario's tables and by later engines.

One JSON document (:data:`engine.resolved.FORMAT_VERSION`, layout in
:mod:`engine.resolved`)::

    {"scenarios": [{"name", "swept", "duration_cap", "plan_index", "age_out",
                    TABLE: {KEY: value, ...} for every table of the schema (defaults filled
                    in; [tail] as run, a pilot's tilt included),
                    "tables": {"incidence_per_100k" | "death_q" | "initial_age_mix" |
                               "joiner_age_mix": TABLE_ID},
                    "premiums_yuan_by_year": {year: yuan},
                    "plans": [the same for each plan of a platform]}, ...],
     "tables": {TABLE_ID: {"quantity", "units", "source", "ages": [lo, hi],
                           "female": [...], "male": [...]}},
     "fairness": [the first scenario's fairness rows (engine.model.fairness)]}

A table used by many scenarios of a set is stored once (``TABLE_ID`` is a digest of its
values).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

import numpy as np

from engine.config import tables
from engine.config.schema import SCHEMA
from engine.model.fairness import analyse
from engine.model.inputs import build_inputs, tables_as_used

TABLE_UNITS = {
    "incidence_per_100k": ("incidence.table", "diagnoses per 100,000 person-years"),
    "death_q": ("mortality.table", "quarterly probability of death"),
    "initial_age_mix": ("population.initial_age_mix", "share of initial members"),
    "joiner_age_mix": ("growth.joiner_age_mix", "share of joiners"),
}


def _table_id(name: str, values: np.ndarray) -> str:
    digest = hashlib.sha256(name.encode() + np.ascontiguousarray(values, float).tobytes())
    return f"{name}-{digest.hexdigest()[:16]}"


def _scenario_values(scenario, store: dict) -> dict:
    """One scenario's (or plan's) resolved values; its tables go into ``store``."""
    out = {"name": scenario.name, "swept": dict(scenario.swept),
           "duration_cap": scenario.duration_cap, "plan_index": scenario.plan_index,
           "age_out": scenario.age_out, "enrolled_with": list(scenario.enrolled_with)}
    for table in SCHEMA:
        out[table] = dataclasses.asdict(getattr(scenario, table))
    refs = {}
    pop = scenario.population
    for name, values in tables_as_used(scenario).items():
        key, units = TABLE_UNITS[name]
        tid = _table_id(name, values)
        refs[name] = tid
        store.setdefault(tid, {"quantity": name, "units": units,
                               "source": f"{key} = {scenario.get(key)!r}",
                               "ages": [pop.age_min, pop.age_max],
                               "female": values[0].tolist(), "male": values[1].tolist()})
    out["tables"] = refs
    premiums = tables.premiums_with(scenario.market.health_premium_by_year)
    out["premiums_yuan_by_year"] = {str(y): v for y, v in sorted(premiums.items())}
    out["plans"] = [_scenario_values(p, store) for p in scenario.plans]
    return out


def resolved_record(scenario_set) -> str:
    """The JSON text of a set's resolved values (module docstring)."""
    store: dict = {}
    scenarios = [_scenario_values(s, store) for s in scenario_set.scenarios]
    fairness = [dataclasses.asdict(row) for row in analyse(build_inputs(scenario_set.base))]
    return json.dumps({"scenarios": scenarios, "tables": store, "fairness": fairness},
                      ensure_ascii=False, separators=(",", ":"))

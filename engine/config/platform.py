"""Plans on a platform (DESIGN §1): a scenario file whose ``[[plans]]`` split it by age.

A platform file is a scenario file (its tables describe the platform as one pool, which is
itself a valid scenario: "one pool" against "separate age pools" is then a comparison of
two runs on the same common random numbers) plus::

    [platform]
    age_out = "leave"            # or "next_plan": members past a plan's oldest age move to
                                 # the plan that starts at the next age (post-paid plans)
    ages_may_overlap = false     # true: plans are separate products whose ages overlap (each
                                 # plan then keys all its draws apart: its own members)

    [[plans]]
    name = "adults"
    ages = [18, 50]
    launch = "2019Q1"            # optional: no joins before this quarter
    enrolled_with = { plan = "adults", per_joiner = 0.3 }   # optional (see below)
    benefits = { amount_by_age = [[18, 50, 400000]], changes = [...] }
    sharing = { fee_rate = 0.1 } # any table but scenario, risk and market

Each plan is the platform's tables with the plan's ages and its own tables merged over
them, key by key. People join the plan for their age: a plan's market potential (and its
initial members, and a fixed series of joins) is the platform's times the joiners' (initial
members') age mix share of the plan's ages against the platform's ages,

    M_j = M · Σ_{a ∈ plan j} π(a) / Σ_{a ∈ platform} π(a),

so that with the same innovation and imitation the plans' Bass curves add up to the
platform's when their costs agree (a plan may set its own ``growth.market_potential``).

A plan whose members are enrolled by another plan's members (children by their parents)
says so with ``enrolled_with = { plan = "adults", per_joiner = r }``. Its joins and lapses
then follow that plan path by path (:mod:`engine.run.plans` runs it after it):

* joins: ``J_t ~ Poisson(r · J^k_t)`` given the other plan's joins ``J^k_t`` of the same
  quarter and path (``r`` persons enrolled per joiner; the plan's own growth settings are
  not used; its market potential, ``r · M_k`` with ``M_k`` from the age mix as above, is
  reported only);
* lapses: every member leaves with probability ``f^k_t = (lapses^k_t + suspended^k_t) /
  (members^k_{t−1} + J^k_t)``, the share of the other plan's members who left that quarter
  by lapsing or being suspended (the family leaves together), in place of the plan's own
  lapse rates. Its other decrements (deaths, claims, its own pre-paid suspensions) are its
  own.

The plan's members then rise and fall with the other plan's, instead of staying when the
other plan's members leave. Members may not move between plans then (``age_out =
"leave"``).
What a platform shares across its plans is fixed at the platform: the systematic incidence
level, the joins' over-dispersion multiplier, the risk groups and the joiners' age mix; a
plan may not set them. Plan ``j`` keys its join draws with its index (its joiners are its
own); the other draws are keyed by cell (absolute age), so plans over disjoint ages draw
exactly what the one pool draws for the same members. Where ages may overlap, plan ``j``
keys every cell ``j · 2**24`` apart: separate products, separate members, separate draws.
"""

from __future__ import annotations

import re
from typing import Any

from engine.errors import Problem, Problems

PLATFORM_KEYS = {"age_out": ("leave", "next_plan"), "ages_may_overlap": (False, True)}
PLAN_OWN_KEYS = ("name", "ages", "launch", "enrolled_with")
MAX_PER_JOINER = 10.0   # persons enrolled per joiner of the other plan: a typo guard
FIXED_AT_PLATFORM = {
    "scenario": "the run's calendar, paths and seed are the platform's",
    "risk": "risk groups are the platform's population",
    "market": "the premium series is the platform's",
    "tail": "the tilted systematic drivers are the platform's, shared by its plans",
    "drivers": "the systematic drivers are the platform's, shared by its plans",
    "precision": "the run's stopping rule is the platform's (its totals are the statistics)",
    "output": "the results' detail is the platform's (its bands and dimensions are the file's)",
    "population.age_min": "give the plan's ages as ages = [lo, hi]",
    "population.age_max": "give the plan's ages as ages = [lo, hi]",
    "growth.model": "joins come from the platform's growth model",
    "growth.dispersion": "the joins' over-dispersion is shared by the plans",
    "growth.joiner_age_mix": "people join the plan for their age from the platform's mix",
    "population.initial_age_mix": "initial members are split by the platform's mix",
    "incidence.level_sd_per_year": "systematic risk is shared by the plans",
    "incidence.level_autocorrelation": "systematic risk is shared by the plans",
    "incidence.trend_sd": "systematic risk is shared by the plans",
    "incidence.shock_probability_per_year": "systematic risk is shared by the plans",
    "incidence.shock_size": "systematic risk is shared by the plans",
    "incidence.shock_quarters": "systematic risk is shared by the plans",
    "incidence.shock_catch_up": "systematic risk is shared by the plans",
    "incidence.systematic_seed": "systematic risk is shared by the plans",
}
MAX_PLANS = 15   # a plan's index is keyed in 4 bits above the cells of its join draws
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def plan_label(name: str) -> str:
    """A plan's own name from its scenario's name, ``PLATFORM.PLAN`` or, in a sweep,
    ``PLATFORM.PLAN[LABEL]``: the label may hold dots (``reserve.initial=0``), the plan's
    name may not (:data:`_NAME`)."""
    return name.split("[", 1)[0].rsplit(".", 1)[-1]


def split_platform(raw: dict, problems: Problems) -> tuple[dict, list[dict], dict]:
    """``(scenario tables, plans, platform options)`` of a parsed file; checks the
    ``[platform]`` table and each plan's own keys (names, ages, launch) and tables."""
    raw = dict(raw)
    plans_raw = raw.pop("plans", None)
    platform_raw = raw.pop("platform", None)
    if plans_raw is None:
        if platform_raw is not None:
            problems.add("platform", "a [platform] table needs [[plans]]", has_got=False)
        return raw, [], {}
    options = _options(platform_raw, problems)
    if not isinstance(plans_raw, list) or not plans_raw:
        problems.add("plans", "must be a non-empty list of [[plans]] tables", plans_raw)
        return raw, [], options
    if len(plans_raw) > MAX_PLANS:
        problems.add("plans", f"at most {MAX_PLANS} plans", len(plans_raw))
        return raw, [], options
    plans: list[dict] = []
    names: set[str] = set()
    for j, plan in enumerate(plans_raw):
        checked = _plan(j, plan, names, problems)
        if checked is not None:
            plans.append(checked)
    _check_enrolled_with(plans, options, problems)
    if not options["ages_may_overlap"]:
        ordered = sorted(plans, key=lambda p: p["ages"])
        for first, second in zip(ordered, ordered[1:], strict=False):
            if second["ages"][0] <= first["ages"][1]:
                problems.add(f"plans.{second['name']}.ages", f"overlaps the ages of plan "
                             f"{first['name']} ({first['ages'][0]}-{first['ages'][1]}); set "
                             "platform.ages_may_overlap = true if people may hold both",
                             list(second["ages"]))
    return raw, plans, options


def _options(platform_raw, problems: Problems) -> dict:
    """The ``[platform]`` options (:data:`PLATFORM_KEYS`), their defaults where not given."""
    options = {"age_out": "leave", "ages_may_overlap": False}
    if platform_raw is not None and not isinstance(platform_raw, dict):
        problems.add("platform", "must be a table", platform_raw)
        platform_raw = {}
    for key, value in (platform_raw or {}).items():
        if key not in PLATFORM_KEYS:
            problems.add(f"platform.{key}", "unknown key (valid: "
                         f"{', '.join(PLATFORM_KEYS)})", value)
        elif value not in PLATFORM_KEYS[key] or isinstance(value, bool) != (
                key == "ages_may_overlap"):
            shown = ", ".join(str(x).lower() if isinstance(x, bool) else x
                              for x in PLATFORM_KEYS[key])
            problems.add(f"platform.{key}", f"must be one of {shown}", value)
        else:
            options[key] = value
    return options


def _plan(j: int, plan: Any, names: set[str], problems: Problems) -> dict | None:
    """Plan ``j``'s name, ages, launch and tables, or ``None`` after recording its
    problems; ``names`` collects the names seen, which must differ."""
    where = f"plans[{j}]"
    if not isinstance(plan, dict):
        problems.add(where, "must be a table with name, ages and the plan's tables", plan)
        return None
    name = plan.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        problems.add(f"{where}.name", "must be a name of letters, digits, _ or -, "
                     "starting with a letter", name)
        return None
    if name in names:
        problems.add(f"{where}.name", "two plans have this name", name)
        return None
    names.add(name)
    ages = plan.get("ages")
    if not (isinstance(ages, list) and len(ages) == 2
            and all(isinstance(a, int) and not isinstance(a, bool) for a in ages)
            and 0 <= ages[0] <= ages[1] <= 110):
        problems.add(f"plans.{name}.ages", "must be [lo, hi], integer ages with "
                     "0 ≤ lo ≤ hi ≤ 110", ages)
        return None
    ok = True
    tables = {}
    for key, value in plan.items():
        if key in PLAN_OWN_KEYS:
            continue
        if key in FIXED_AT_PLATFORM:
            problems.add(f"plans.{name}.{key}", FIXED_AT_PLATFORM[key], value)
            ok = False
            continue
        if not isinstance(value, dict):
            problems.add(f"plans.{name}.{key}", "must be a table of the plan's own keys "
                         "(or name, ages, launch)", value)
            ok = False
            continue
        for k, v in value.items():
            if f"{key}.{k}" in FIXED_AT_PLATFORM:
                problems.add(f"plans.{name}.{key}.{k}", FIXED_AT_PLATFORM[f"{key}.{k}"], v)
                ok = False
        tables[key] = value
    if not ok:
        return None
    return {"name": name, "ages": (ages[0], ages[1]), "launch": plan.get("launch"),
            "enrolled_with": plan.get("enrolled_with"), "tables": tables}


def _check_enrolled_with(plans: list[dict], options: dict, problems: Problems) -> None:
    """Each ``enrolled_with`` names another plan, which is not itself enrolled by a
    third, and gives ``0 < per_joiner ≤ MAX_PER_JOINER``; members do not age into the
    enrolling plan (``age_out = "leave"``)."""
    names = {p["name"]: p for p in plans}
    for plan in plans:
        value = plan["enrolled_with"]
        if value is None:
            continue
        key = f"plans.{plan['name']}.enrolled_with"
        if options["age_out"] == "next_plan":
            # the enrolled plan runs after the plan it follows, which would wait for the
            # members moving in from it
            problems.add(key, 'needs platform.age_out = "leave" (members moving between '
                         "the plans would make each wait for the other)", value)
        if not (isinstance(value, dict) and set(value) == {"plan", "per_joiner"}):
            problems.add(key, "must be { plan = NAME, per_joiner = r }", value)
            continue
        other, ratio = value["plan"], value["per_joiner"]
        if other not in names or other == plan["name"]:
            problems.add(f"{key}.plan", "must name another plan of this platform", other)
        elif names[other]["enrolled_with"] is not None:
            problems.add(f"{key}.plan", "names a plan that is itself enrolled by another",
                         other)
        if (isinstance(ratio, bool) or not isinstance(ratio, (int, float))
                or not 0 < ratio <= MAX_PER_JOINER):
            problems.add(f"{key}.per_joiner", f"must be a number in (0, {MAX_PER_JOINER:g}]",
                         ratio)


def plan_document(raw: dict, plan: dict, market_share: float, initial_share: float
                  ) -> dict:
    """The scenario document of one plan: the platform's tables, the plan's ages, launch
    and tables over them, and its part of the market (see the module docstring)."""
    out: dict[str, Any] = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for table, values in plan["tables"].items():
        out.setdefault(table, {})
        out[table] = {**out[table], **values}
    population = out.setdefault("population", {})
    population["age_min"], population["age_max"] = plan["ages"]
    growth = out.setdefault("growth", {})
    own_growth = plan["tables"].get("growth", {})
    if plan["launch"] is not None:
        growth["start_joins_from"] = plan["launch"]
    if "market_potential" not in own_growth and growth.get("market_potential") is not None:
        growth["market_potential"] = growth["market_potential"] * market_share
    if "series" not in own_growth and isinstance(growth.get("series"), list):
        growth["series"] = [x * market_share for x in growth["series"]]
    if "initial_members" not in plan["tables"].get("population", {}):
        population["initial_members"] = int(round(population.get("initial_members", 0)
                                                  * initial_share))
    scenario = out.setdefault("scenario", {})
    scenario["name"] = f"{scenario.get('name', '')}.{plan['name']}"
    return out


def prefixed(problems: list[Problem], plan: str) -> list[Problem]:
    """A plan's problems with its name in the key: ``plans.adults.benefits...``."""
    return [Problem(p.file, f"plans.{plan}.{p.key}" if p.key else f"plans.{plan}", p.what,
                    p.got, p.has_got) for p in problems]

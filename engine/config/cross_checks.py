"""Checks between keys, once each key has passed its own (:mod:`engine.config.checks`).

``values`` is ``{table: {key: checked value or None}}``: a key that failed its own check is
``None`` here and the checks that need it are skipped. :func:`cross_checks` runs
:data:`CROSS_CHECKS` in order, each on one topic, and each records its problems with the key
to change.
"""

from __future__ import annotations

import itertools

from engine.config import output, precision, tables
from engine.config.checks import shown_number
from engine.config.labels import quarter_labels, quarter_offset
from engine.errors import Problems

MAX_DURATION_QUARTERS = 63   # duration cells are keyed with 6 bits (engine.random.streams)
MAX_PAYMENT_QUARTERS = 9     # length of benefits.payment_pattern
MIN_TOPUP_YUAN = 0.01   # one fen: a smaller top-up is a typo, and overflows the top-up count


def duration_cap_of(waiting: int, selection: list, by_duration: list | None) -> int:
    """``D = max(waiting + 1, 4 (len(selection) − 1), len(by_duration) − 1)``, quarters."""
    # at least waiting + 1 (and 1): duration 0 then holds only the quarter's joiners (half
    # exposure, no reaction to cost) and duration `waiting` only the cohort whose waiting
    # period ends in this quarter (half its diagnoses are paid)
    return max(waiting + 1, 4 * (len(selection) - 1), len(by_duration or [1]) - 1)


def cross_checks(values: dict, problems: Problems) -> None:
    """Every check of :data:`CROSS_CHECKS`, in order."""
    for check in CROSS_CHECKS:
        check(values, problems)


def _tail_drivers(values: dict) -> dict:
    """Tail key → (a tilt asked for, the random driver it tilts present, why not)."""
    tail, inc, growth = values["tail"], values["incidence"], values["growth"]
    return {
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


def _tail(values: dict, problems: Problems) -> None:
    """A tilt needs the random driver it tilts (engine.model.tilt), and a target within
    the run."""
    tail = values["tail"]
    drivers = _tail_drivers(values)
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
    if tail["target"] is None or not isinstance(quarters, int):
        return
    if tail["drivers"] != "claims" and not any(present for _, present, _ in drivers.values()):
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


def _topup(values: dict, problems: Problems) -> None:
    prepaid = values["prepaid"]
    key = "topup_amount" if prepaid["topup_amount"] is not None else "deposit"
    topup = prepaid[key]
    if isinstance(topup, float | int) and 0 < topup < MIN_TOPUP_YUAN:
        problems.add(f"prepaid.{key}", "a top-up (the deposit when topup_amount is not given) "
                     f"must be 0 (none) or at least {MIN_TOPUP_YUAN} yuan", topup)


def _ages(values: dict, problems: Problems) -> None:
    pop, benefits = values["population"], values["benefits"]
    age_min, age_max = pop["age_min"], pop["age_max"]
    if age_min is not None and age_max is not None:
        if age_min > age_max:
            problems.add("population.age_min", f"must be ≤ age_max ({age_max})", age_min)
        elif benefits["amount_by_age"] is not None:
            _band_cover(benefits["amount_by_age"], age_min, age_max, problems)


def _band_cover(bands: list, age_min: int, age_max: int, problems: Problems) -> None:
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


def _growth(values: dict, problems: Problems) -> None:
    pop, growth = values["population"], values["growth"]
    model = growth["model"]
    if model in ("bass", "logistic") and growth["market_potential"] is None:
        problems.add("growth.market_potential", f"required for the {model} model",
                     has_got=False)
    market = growth["market_potential"]
    if market is not None and (pop["initial_members"] or 0) > market:
        problems.add("population.initial_members", f"must be ≤ growth.market_potential "
                     f"({shown_number(market)}): the market counts everyone who ever joined",
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


def _lapse_and_mild(values: dict, problems: Problems) -> None:
    growth, lapse, benefits = values["growth"], values["lapse"], values["benefits"]
    if lapse["by_duration"] is not None and lapse["base_quarterly"] != 0.0:
        problems.add("lapse.by_duration", "give base_quarterly or by_duration, not both",
                     lapse["by_duration"])
    elastic = (lapse["cost_elasticity"] or 0) > 0 or (growth["cost_elasticity"] or 0) > 0
    if elastic and lapse["reference_cost"] is None:
        problems.add("lapse.reference_cost",
                     "required when lapse or growth cost_elasticity is positive", has_got=False)
    if benefits["mild_share"] and benefits["mild_share"] > 0 and benefits["mild_amount"] is None:
        problems.add("benefits.mild_amount", "required when mild_share > 0", has_got=False)


def _national_level(values: dict, problems: Problems) -> None:
    year = values["incidence"]["national_level_year"]
    if year is not None and year not in tables.ncc_years():
        problems.add("incidence.national_level_year",
                     f"no NCC crude rate for that year (have {tables.ncc_years()})", year)


def _tracked_durations(values: dict, problems: Problems) -> None:
    benefits, incidence = values["benefits"], values["incidence"]
    if None not in (benefits["waiting_quarters"], incidence["selection"]):
        cap = duration_cap_of(benefits["waiting_quarters"], incidence["selection"],
                              values["lapse"]["by_duration"])
        if cap > MAX_DURATION_QUARTERS:
            problems.add("incidence.selection",
                         f"durations tracked would exceed {MAX_DURATION_QUARTERS} quarters "
                         "(waiting, 4 × selection years, lapse.by_duration)", cap)


def _prepaid_rule(values: dict, problems: Problems) -> None:
    if values["sharing"]["funding"] == "prepaid" and values["sharing"]["rule"] == "age_rated":
        problems.add("sharing.funding", "prepaid balances are kept for equal sharing only "
                     "(sharing.rule = \"equal\")", "prepaid")


def _payment_pattern(values: dict, problems: Problems) -> None:
    pattern = values["benefits"]["payment_pattern"]
    if pattern is not None:
        if abs(sum(pattern) - 1.0) > 1e-9:
            problems.add("benefits.payment_pattern", "shares must sum to 1", pattern)
        if len(pattern) > MAX_PAYMENT_QUARTERS:
            problems.add("benefits.payment_pattern",
                         f"at most {MAX_PAYMENT_QUARTERS} quarters", len(pattern))


def _calendar(values: dict, problems: Problems) -> None:
    """Dated keys lie inside the run (or, for those that stop something, after its start)."""
    start, quarters = values["scenario"]["start"], values["scenario"]["quarters"]
    if start is None or quarters is None:
        return
    growth, closure = values["growth"], values["closure"]
    launch = growth["start_joins_from"]
    if launch is not None and not 0 <= quarter_offset(start, launch) < quarters:
        problems.add("growth.start_joins_from", f"is dated outside the run ({start} and "
                     f"the {quarters - 1} quarters after it)", launch)
    for key, label in (("growth.stop_joins_from", growth["stop_joins_from"]),
                       ("closure.quarter", closure["quarter"]),
                       ("closure.platform_funds_from", closure["platform_funds_from"])):
        if label is not None and quarter_offset(start, label) < 0:
            problems.add(key, f"is before the scenario's start ({start})", label)
    for i, change in enumerate(values["benefits"]["changes"] or []):
        offset = quarter_offset(start, change["from"])
        if not 0 <= offset < quarters:
            problems.add(f"benefits.changes[{i}].from", "is dated outside the run "
                         f"({start} and the {quarters - 1} quarters after it)",
                         change["from"])


def _fixed_drivers(values: dict, problems: Problems) -> None:
    """A ``[drivers]`` value names a year or quarter of the run, and a driver the scenario
    draws (holding one it does not draw would silently do nothing)."""
    fixed, start, quarters = values["drivers"], values["scenario"]["start"], \
        values["scenario"]["quarters"]
    if start is None or quarters is None:
        return
    present = {key: present for key, (_, present, _) in _tail_drivers(values).items()}
    why = {key: reason.replace(" to tilt", " to hold") for key, (_, _, reason)
           in _tail_drivers(values).items()}
    years = {int(q[:4]) for q in quarter_labels(start, quarters)}
    checks = (("level_innovations", "level_shift", fixed["level_innovations"] or {}),
              ("trend", "trend_shift", {} if fixed["trend"] is None else {"": fixed["trend"]}),
              ("join_multipliers", "join_multiplier_mean", fixed["join_multipliers"] or {}),
              ("shock_starts", "shock_probability_per_year",
               {} if fixed["shock_starts"] is None else {"": fixed["shock_starts"]}))
    for key, driver, given in checks:
        if given and not present[driver]:
            problems.add(f"drivers.{key}", why[driver], next(iter(given.values())))
    for year in fixed["level_innovations"] or {}:
        if int(year) not in years:
            problems.add(f"drivers.level_innovations.{year}", "is a year outside the run "
                         f"({min(years)}-{max(years)})", int(year))
    dated = [(f"drivers.join_multipliers.{q}", q) for q in fixed["join_multipliers"] or {}]
    dated += [("drivers.shock_starts", q) for q in fixed["shock_starts"] or []]
    for key, label in dated:
        if not 0 <= quarter_offset(start, label) < quarters:
            problems.add(key, f"is dated outside the run ({start} and the {quarters - 1} "
                         "quarters after it)", label)


def _initial_duration(values: dict, problems: Problems) -> None:
    init_d = values["population"]["initial_duration_quarters"]
    if init_d is not None and init_d > MAX_DURATION_QUARTERS:
        problems.add("population.initial_duration_quarters",
                     f"must be ≤ {MAX_DURATION_QUARTERS}", init_d)


# The checks in the order their problems are reported.
CROSS_CHECKS = (_tail, _topup, _ages, _growth, _lapse_and_mild, _national_level,
                _tracked_durations, _prepaid_rule, _payment_pattern, _calendar,
                _initial_duration, _fixed_drivers, precision.cross_check,
                output.cross_check)

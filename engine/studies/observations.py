"""Published figures of a platform (observations CSV) and the model's value for each.

File format (``#`` lines are comments)::

    date,metric,value,unit,source[,period_start,period_end][,sd_log][,plan]

``date`` is a day (2019-11-22), a month (2019-06), a quarter (2019Q2) or a year (2019).
Metrics:

``members`` (stock, persons)
    members at the date; a month, quarter or year means its last day.
``cumulative_aided`` (stock, persons)
    claims paid since the scenario's start, at the date (must not fall).
``sharers`` (persons)
    members who shared the cost of the quarter that holds the date.
``aided_in_period`` (flow, persons), ``aid_amount_in_period`` (flow, yuan),
``cost_per_member_in_period`` (flow, yuan per member)
    over ``period_start``–``period_end`` (both inclusive, any of the date forms), or over
    the month, quarter or year ``date`` names.
``aided_per_member_year`` (rate, per 100,000 member-years)
    claims paid over the period per 100,000 years of membership,
    ``10⁵ · Σ claims / (Σ_quarters (N_start + N_end) / 2 · f / 4)`` (``f`` the part of the
    quarter inside the period): the form of a figure a source gives for a subgroup (a city,
    a plan), whose exposure the file's note must state.

Rules, checked against the scenario's rules and never fitted (:func:`rule_checks`):
``founding`` (a year: the scenario starts in it), ``deposit`` (yuan: ``prepaid.deposit``
under pre-paid funding), ``waiting_days`` (``benefits.waiting_quarters`` × 91.3 within half
a month), ``benefit_cap`` (yuan: the plan's largest amount at the date), ``single_payout``
(yuan: one claimant's aid, at most the plan's largest amount at the date).

Profile figures (``claims_male_share``, ``mean_age_at_claim``, ``claims_age_share``,
``members_age_share``, with the optional columns ``sex``, ``age_from`` and ``age_to``) say
who claims and who is a member: :mod:`engine.studies.profile_figures`.

``plan`` (optional) names a plan of a platform file (:mod:`engine.config.platform`): the
figure is then compared with that plan's values; empty means the platform's totals.

``sd_log`` (optional) is the observation's error on the log scale (0.1 ≈ 10 %); default
0.1.

Counts and amounts of aid are compared with what the model pays in each quarter under
``benefits.payment_pattern`` (``claims_reported``, ``aid_reported``). Time inside the
model is continuous in quarters: ``τ = k + f`` is the point a fraction
``f`` (by days) into projection quarter ``k``. Stocks interpolate linearly within a quarter
(members from the quarter's start to its end); flows accumulate pro rata by days.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.config.labels import parse_quarter
from engine.config.platform import plan_label
from engine.config.tables import read_csv
from engine.errors import Problem, TableError
from engine.studies.profile_figures import (
    PROFILE_STOCKS,
    PROFILES,
    WhoProblem,
    label,
    profile_value,
    who_of,
)

STOCKS = ("members", "cumulative_aided", "sharers")
FLOWS = ("aided_in_period", "aid_amount_in_period", "cost_per_member_in_period",
         "aided_per_member_year")
RULES = ("founding", "deposit", "waiting_days", "benefit_cap", "single_payout")
METRICS = STOCKS + FLOWS + PROFILES + RULES
DEFAULT_SD_LOG = 0.1

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Observation:
    """One published figure, placed on the model's time axis (quarters from the start)."""

    row: int
    metric: str
    value: float
    unit: str
    source: str
    date: str
    start: float      # τ of the period's start (equal to ``end`` for a stock)
    end: float        # τ of the stock's date or the period's end
    sd_log: float
    last_day: dt.date  # the last calendar day the figure covers
    plan: str = ""     # a plan of the platform, or "" for the platform's totals
    note: str = ""
    sex: str = ""      # a profile figure's sex, "" for both
    age_from: int | None = None   # an age share's ages, completed years, both included
    age_to: int | None = None

    @property
    def label(self) -> str:
        """The metric with its sex and ages, as tables show it."""
        return label(self.metric, self.sex, self.age_from, self.age_to)


def date_span(text: str) -> tuple[dt.date, dt.date]:
    """``(first day, day after the last)`` of a day, month, quarter or year; ValueError else."""
    text = text.strip()
    if m := _DAY.match(text):
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        return day, day + dt.timedelta(days=1)
    if m := _MONTH.match(text):
        first = dt.date(int(m[1]), int(m[2]), 1)
        return first, _add_months(first, 1)
    if _YEAR.match(text):
        return dt.date(int(text), 1, 1), dt.date(int(text) + 1, 1, 1)
    year, q = parse_quarter(text)
    first = dt.date(year, 3 * q - 2, 1)
    return first, _add_months(first, 3)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_time(start_quarter: str, moment: dt.date) -> float:
    """τ of the start of day ``moment``: quarters since the start of ``start_quarter``."""
    year, q = parse_quarter(start_quarter)
    first = dt.date(year, 3 * q - 2, 1)
    months = (moment.year - first.year) * 12 + moment.month - first.month
    k = months // 3
    q_start = _add_months(first, 3 * k)
    q_end = _add_months(q_start, 3)
    return k + (moment - q_start).days / (q_end - q_start).days


@dataclass(frozen=True)
class _Reading:
    """An observations file being read: its name as problems give it, and the scenario its
    rows are placed on."""

    label: str
    start_quarter: str
    quarters: int
    plans: tuple[str, ...]


class _RowProblem(Exception):
    """A row's first problem: the row is left out and the problem reported with the rest."""

    def __init__(self, reading: _Reading, where: str, column: str, what: str, got):
        super().__init__(what)
        self.problem = Problem(reading.label, f"{where}, column {column}", what, got)


def _sd_log(row: dict, reading: _Reading, where: str) -> float:
    """The row's ``sd_log`` (default :data:`DEFAULT_SD_LOG`)."""
    if not row.get("sd_log"):
        return DEFAULT_SD_LOG
    try:
        sd = float(row["sd_log"])
        if sd > 0:
            return sd
    except ValueError:
        pass
    raise _RowProblem(reading, where, "sd_log", "must be a number > 0", row["sd_log"])


def read_observations(path: str | Path, start_quarter: str, quarters: int,
                      plans: tuple[str, ...] = ()) -> list[Observation]:
    """Read and check an observations file for a scenario starting at ``start_quarter``.

    Raises
    ------
    TableError
        Every problem at once, each naming the file, row and column: an unknown metric, a
        value that is not a number (or is negative), a date that cannot be read, is before
        the scenario's start or after its last quarter, a period that ends before it starts,
        a flow without a period, a cumulative count that falls, a plan that the scenario
        does not have (``plans``: the platform's plan names).
    """
    table = read_csv(path, ("date", "metric", "value", "unit", "source"))
    reading = _Reading(table.path, start_quarter, quarters, plans)
    problems: list[Problem] = []
    out: list[Observation] = []
    for number, row in table.rows:
        try:
            out.append(_observation(reading, number, row))
        except _RowProblem as exc:
            problems.append(exc.problem)
    problems += _falling_cumulative(reading, out)
    if problems:
        raise TableError(problems)
    return out


def _observation(reading: _Reading, number: int, row: dict) -> Observation:
    """Row ``number`` checked and placed on the scenario's time axis; raises
    :class:`_RowProblem` at its first problem (metric, value, plan, sd_log, date, period,
    then the run's span)."""
    where = f"row {number}"
    metric = _metric(row, reading, where)
    value = _value(row, reading, where)
    plan = _plan(row, reading, where)
    try:
        who = who_of(row, metric, value)
    except WhoProblem as exc:
        raise _RowProblem(reading, where, exc.column, exc.what, exc.got) from None
    if plan and metric in PROFILES:
        raise _RowProblem(reading, where, "plan", "profile figures are of the platform's "
                          "totals: leave plan empty", plan)
    sd = _sd_log(row, reading, where)
    try:
        first, after = date_span(row["date"])
    except ValueError:
        raise _RowProblem(reading, where, "date", "must be a day (2019-11-22), month "
                          "(2019-06), quarter (2019Q2) or year", row["date"]) from None
    note = (row.get("note") or "").strip()
    if metric in RULES:
        t = quarter_time(reading.start_quarter, first)
        return Observation(number, metric, value, row["unit"], row["source"], row["date"],
                           t, t, sd, after - dt.timedelta(days=1), plan, note)
    if metric in STOCKS + PROFILE_STOCKS:
        t0, t1, column, last_day = _stock_time(reading, row, first, after)
    else:
        t0, t1, column, last_day = _flow_time(reading, where, row, first, after)
    _check_inside_run(reading, where, row, column, (t0, t1))
    return Observation(number, metric, value, row["unit"], row["source"], row["date"],
                       t0, t1, sd, last_day, plan, note, *who)


def _metric(row: dict, reading: _Reading, where: str) -> str:
    metric = row["metric"]
    if metric not in METRICS:
        raise _RowProblem(reading, where, "metric",
                          f"unknown metric (valid: {', '.join(METRICS)})", metric)
    return metric


def _value(row: dict, reading: _Reading, where: str) -> float:
    """The row's value: a finite number ≥ 0."""
    try:
        value = float(row["value"])
        if not math.isfinite(value):
            raise ValueError
    except ValueError:
        raise _RowProblem(reading, where, "value", "is not a number", row["value"]) from None
    if value < 0:
        raise _RowProblem(reading, where, "value", "must be ≥ 0", value)
    return value


def _plan(row: dict, reading: _Reading, where: str) -> str:
    """The row's plan (one of the scenario's), or "" for the platform's totals."""
    plan = (row.get("plan") or "").strip()
    if plan and plan not in reading.plans:
        have = ", ".join(reading.plans) if reading.plans else "the scenario has no plans"
        raise _RowProblem(reading, where, "plan", f"no such plan ({have})", plan)
    return plan


def _stock_time(reading: _Reading, row: dict, first: dt.date, after: dt.date
                ) -> tuple[float, float, str, dt.date]:
    """A stock's τ (twice), the column it comes from and its last day: a day means that
    day; a month, quarter or year means its end."""
    is_day = bool(_DAY.match(row["date"]))
    t = quarter_time(reading.start_quarter, first if is_day else after)
    return t, t, "date", first if is_day else after - dt.timedelta(days=1)


def _flow_time(reading: _Reading, where: str, row: dict, first: dt.date, after: dt.date
               ) -> tuple[float, float, str, dt.date]:
    """A flow's τ at the start and the end of its period (``period_start``–``period_end``,
    or the month, quarter or year of ``date``), the column that names it and its last
    day."""
    p_start, p_end = row.get("period_start", ""), row.get("period_end", "")
    if bool(p_start) != bool(p_end):
        raise _RowProblem(reading, where, "period_start",
                          "give both period_start and period_end", p_start)
    if p_start:
        try:
            first, _ = date_span(p_start)
            _, after = date_span(p_end)
        except ValueError:
            raise _RowProblem(reading, where, "period_start", "periods must be days, months, "
                              "quarters or years", f"{p_start}..{p_end}") from None
        column = "period_end"
        if after <= first:
            raise _RowProblem(reading, where, "period_end", "period ends before it starts",
                              f"{p_start}..{p_end}")
    elif _DAY.match(row["date"]):
        raise _RowProblem(reading, where, "date", f"{row['metric']} is a flow: give "
                          "period_start and period_end, or a month, quarter or year",
                          row["date"])
    else:
        column = "date"
    return (quarter_time(reading.start_quarter, first),
            quarter_time(reading.start_quarter, after), column, after - dt.timedelta(days=1))


def _check_inside_run(reading: _Reading, where: str, row: dict, column: str,
                      span: tuple[float, float]) -> None:
    """The figure's τ from ``span[0]`` to ``span[1]`` must lie within the run."""
    got = row["date"] if column == "date" else row[column]
    if span[0] < 0:
        raise _RowProblem(reading, where, column,
                          f"is before the scenario's start ({reading.start_quarter})", got)
    if span[1] > reading.quarters + 1e-9:
        raise _RowProblem(reading, where, column, f"is after the scenario's last quarter "
                          f"({reading.quarters} quarters from {reading.start_quarter})", got)


def _falling_cumulative(reading: _Reading, out: list[Observation]) -> list[Problem]:
    """A problem for each ``cumulative_aided`` figure below an earlier one."""
    problems = []
    cumulative = sorted((o for o in out if o.metric == "cumulative_aided"),
                        key=lambda o: o.end)
    for before, after in zip(cumulative, cumulative[1:], strict=False):
        if after.value < before.value and after.end > before.end:
            problems.append(Problem(reading.label, f"row {after.row}, column value",
                                    f"cumulative_aided falls from {before.value:g} (row "
                                    f"{before.row})", after.value))
    return problems


# ------------------------------------------------------------- the model's values

def _cumulative_at(flows: np.ndarray, tau: float) -> np.ndarray:
    """Σ of a per-quarter flow up to τ, pro rata within the quarter; ``flows`` (..., T)."""
    T = flows.shape[-1]
    k = min(int(math.floor(tau)), T)
    whole = flows[..., :k].sum(axis=-1)
    if k < T:
        whole = whole + (tau - k) * flows[..., k]
    return whole


def _stock_at(end_values: np.ndarray, initial: float, tau: float) -> np.ndarray:
    """A stock at τ, linear within the quarter from its start to its end value."""
    T = end_values.shape[-1]
    k = min(int(math.floor(tau)), T - 1)
    f = tau - k
    start = end_values[..., k - 1] if k > 0 else np.full(end_values.shape[:-1], initial)
    return start + f * (end_values[..., k] - start)


def _member_quarters(members: np.ndarray, initial: float) -> np.ndarray:
    """Each quarter's mean members, ``(N_start + N_end) / 2`` (``(..., T)``)."""
    start = np.concatenate([np.full(members.shape[:-1] + (1,), initial), members[..., :-1]],
                           axis=-1)
    return 0.5 * (start + members)


def model_values(observations: list[Observation], results: dict[str, np.ndarray],
                 initial_members: float, plans: tuple[str, ...] = (),
                 initial_by_plan: tuple[float, ...] = ()) -> np.ndarray:
    """The model's counterpart of each observation, from per-quarter results ``(..., T)``.

    Returns ``(..., n_observations)``: one column per observation, for every leading index
    (a path, a parameter draw, or none for the expected path). A platform's results carry
    each plan's values as ``NAME_by_plan`` ``(n_plans, ..., T)``; ``plans`` names them and
    ``initial_by_plan`` gives their initial members.
    """
    columns = []
    for o in observations:
        if o.plan:
            j = plans.index(o.plan)
            mine = {name[:-len("_by_plan")]: values[j] for name, values in results.items()
                    if name.endswith("_by_plan")}
            initial = initial_by_plan[j] if initial_by_plan else 0.0
        else:
            mine, initial = results, initial_members
        columns.append(_model_value(o, mine, initial))
    return np.stack(columns, axis=-1)


def _model_value(o: Observation, results: dict[str, np.ndarray], initial_members: float
                 ) -> np.ndarray:
    """The model's value of one observation from one set of per-quarter results."""
    if o.metric in PROFILES:
        return profile_value(o, results)
    # Published counts and amounts are of claims paid: with a payment pattern, those falling
    # due in each quarter (results without them, e.g. hand-made ones, use the incurred).
    paid_claims = "claims_reported" if "claims_reported" in results else "claims"
    paid_aid = "aid_reported" if "aid_reported" in results else "aid"
    if o.metric == "members":
        return _stock_at(results["members"].astype(float), initial_members, o.end)
    if o.metric == "sharers":
        sharers = results["sharers"].astype(float)
        return sharers[..., min(int(math.floor(o.end)), sharers.shape[-1] - 1)]
    if o.metric == "cumulative_aided":
        return _cumulative_at(results[paid_claims].astype(float), o.end)
    if o.metric == "aided_per_member_year":
        x = results[paid_claims].astype(float)
        m = _member_quarters(results["members"].astype(float), initial_members)
        aided = _cumulative_at(x, o.end) - _cumulative_at(x, o.start)
        years = (_cumulative_at(m, o.end) - _cumulative_at(m, o.start)) / 4.0
        return 1e5 * aided / np.where(years > 0, years, np.inf)
    name = {"aided_in_period": paid_claims, "aid_amount_in_period": paid_aid,
            "cost_per_member_in_period": "cost_per_member"}[o.metric]
    x = results[name].astype(float)
    return _cumulative_at(x, o.end) - _cumulative_at(x, o.start)


# ------------------------------------------------------------------ rules

@dataclass(frozen=True)
class RuleCheck:
    """A published rule against the scenario's: ``model`` is the scenario's value."""

    observation: Observation
    model: float
    consistent: bool
    what: str


def fitted_only(observations: list[Observation]) -> list[Observation]:
    """The figures a model produces (rules are checked, not fitted)."""
    return [o for o in observations if o.metric not in RULES]


def rule_checks(observations: list[Observation], scenario) -> list[RuleCheck]:
    """Each rule observation against the (platform or plan) scenario's rules at its date."""
    from engine.config.labels import quarter_offset

    plans = {plan_label(p.name): p for p in scenario.plans}
    start = scenario.scenario.start
    out = []
    for o in observations:
        if o.metric not in RULES:
            continue
        own = plans.get(o.plan, scenario)
        quarter = max(0, min(int(math.floor(o.end)), scenario.scenario.quarters - 1))
        if o.metric == "founding":
            model = float(parse_quarter(start)[0])
            out.append(RuleCheck(o, model, model == o.value, f"the run starts in {start}"))
        elif o.metric == "deposit":
            prepaid = own.sharing.funding == "prepaid"
            model = float(own.prepaid.deposit) if prepaid else 0.0
            out.append(RuleCheck(o, model, prepaid and model == o.value,
                                 "pre-paid deposit" if prepaid else "the scenario is "
                                 "post-paid"))
        elif o.metric == "waiting_days":
            model = own.benefits.waiting_quarters * 365.25 / 4
            out.append(RuleCheck(o, model, abs(model - o.value) <= 15,
                                 f"{own.benefits.waiting_quarters} quarters"))
        else:
            amounts = [a for _, _, a in own.benefits.amount_by_age]
            for change in own.benefits.changes:
                if quarter_offset(start, change["from"]) <= quarter:
                    amounts = [a for _, _, a in change["amount_by_age"]]
            model = max(amounts)
            if o.metric == "benefit_cap":
                out.append(RuleCheck(o, model, model == o.value, "the plan's largest amount "
                                     "at that date"))
            else:
                out.append(RuleCheck(o, model, o.value <= model, "one payout, at most the "
                                     "plan's largest amount at that date"))
    return out

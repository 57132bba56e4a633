"""Published figures of a platform (observations CSV) and the model's value for each.

File format (``#`` lines are comments)::

    date,metric,value,unit,source[,period_start,period_end][,sd_log]

``date`` is a day (2019-11-22), a month (2019-06), a quarter (2019Q2) or a year (2019).
Metrics:

``members`` (stock, persons)
    members at the date; a month, quarter or year means its last day.
``cumulative_aided`` (stock, persons)
    claims paid since the scenario's start, at the date (must not fall).
``aided_in_period`` (flow, persons), ``aid_amount_in_period`` (flow, yuan),
``cost_per_member_in_period`` (flow, yuan per member)
    over ``period_start``–``period_end`` (both inclusive, any of the date forms), or over
    the month, quarter or year ``date`` names.

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
from engine.config.tables import read_csv
from engine.errors import Problem, TableError

STOCKS = ("members", "cumulative_aided")
FLOWS = ("aided_in_period", "aid_amount_in_period", "cost_per_member_in_period")
METRICS = STOCKS + FLOWS
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


def read_observations(path: str | Path, start_quarter: str, quarters: int
                      ) -> list[Observation]:
    """Read and check an observations file for a scenario starting at ``start_quarter``.

    Raises
    ------
    TableError
        Every problem at once, each naming the file, row and column: an unknown metric, a
        value that is not a number (or is negative), a date that cannot be read, is before
        the scenario's start or after its last quarter, a period that ends before it starts,
        a flow without a period, a cumulative count that falls.
    """
    table = read_csv(path, ("date", "metric", "value", "unit", "source"))
    label = table.path
    problems: list[Problem] = []
    out: list[Observation] = []
    for number, row in table.rows:
        where = f"row {number}"
        metric = row["metric"]
        if metric not in METRICS:
            problems.append(Problem(label, f"{where}, column metric",
                                    f"unknown metric (valid: {', '.join(METRICS)})", metric))
            continue
        try:
            value = float(row["value"])
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            problems.append(Problem(label, f"{where}, column value", "is not a number",
                                    row["value"]))
            continue
        if value < 0:
            problems.append(Problem(label, f"{where}, column value", "must be ≥ 0", value))
            continue
        sd = DEFAULT_SD_LOG
        if row.get("sd_log"):
            try:
                sd = float(row["sd_log"])
                if not sd > 0:
                    raise ValueError
            except ValueError:
                problems.append(Problem(label, f"{where}, column sd_log",
                                        "must be a number > 0", row["sd_log"]))
                continue
        try:
            first, after = date_span(row["date"])
        except ValueError:
            problems.append(Problem(label, f"{where}, column date", "must be a day "
                                    "(2019-11-22), month (2019-06), quarter (2019Q2) or year",
                                    row["date"]))
            continue
        if metric in STOCKS:
            # A day means that day; a month, quarter or year means its end.
            is_day = bool(_DAY.match(row["date"]))
            moment = first if is_day else after
            t0 = t1 = quarter_time(start_quarter, moment)
            column = "date"
            last_day = first if is_day else after - dt.timedelta(days=1)
        else:
            p_start, p_end = row.get("period_start", ""), row.get("period_end", "")
            if bool(p_start) != bool(p_end):
                problems.append(Problem(label, f"{where}, column period_start",
                                        "give both period_start and period_end", p_start))
                continue
            if p_start:
                try:
                    first, _ = date_span(p_start)
                    _, after = date_span(p_end)
                except ValueError:
                    problems.append(Problem(label, f"{where}, column period_start",
                                            "periods must be days, months, quarters or "
                                            "years", f"{p_start}..{p_end}"))
                    continue
                column = "period_end"
                if after <= first:
                    problems.append(Problem(label, f"{where}, column period_end",
                                            "period ends before it starts",
                                            f"{p_start}..{p_end}"))
                    continue
            elif _DAY.match(row["date"]):
                problems.append(Problem(label, f"{where}, column date",
                                        f"{metric} is a flow: give period_start and "
                                        "period_end, or a month, quarter or year",
                                        row["date"]))
                continue
            else:
                column = "date"
            t0 = quarter_time(start_quarter, first)
            t1 = quarter_time(start_quarter, after)
            last_day = after - dt.timedelta(days=1)
        if t0 < 0:
            problems.append(Problem(label, f"{where}, column {column}",
                                    f"is before the scenario's start ({start_quarter})",
                                    row["date"] if column == "date" else row[column]))
            continue
        if t1 > quarters + 1e-9:
            problems.append(Problem(label, f"{where}, column {column}",
                                    f"is after the scenario's last quarter ({quarters} "
                                    f"quarters from {start_quarter})",
                                    row["date"] if column == "date" else row[column]))
            continue
        out.append(Observation(number, metric, value, row["unit"], row["source"],
                               row["date"], t0, t1, sd, last_day))
    cumulative = sorted((o for o in out if o.metric == "cumulative_aided"),
                        key=lambda o: o.end)
    for before, after in zip(cumulative, cumulative[1:], strict=False):
        if after.value < before.value and after.end > before.end:
            problems.append(Problem(label, f"row {after.row}, column value",
                                    f"cumulative_aided falls from {before.value:g} (row "
                                    f"{before.row})", after.value))
    if problems:
        raise TableError(problems)
    return out


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


def model_values(observations: list[Observation], results: dict[str, np.ndarray],
                 initial_members: float) -> np.ndarray:
    """The model's counterpart of each observation, from per-quarter results ``(..., T)``.

    Returns ``(..., n_observations)``: one column per observation, for every leading index
    (a path, a parameter draw, or none for the expected path).
    """
    # Published counts and amounts are of claims paid: with a payment pattern, those falling
    # due in each quarter (results without them, e.g. hand-made ones, use the incurred).
    paid_claims = "claims_reported" if "claims_reported" in results else "claims"
    paid_aid = "aid_reported" if "aid_reported" in results else "aid"
    columns = []
    for o in observations:
        if o.metric == "members":
            columns.append(_stock_at(results["members"].astype(float), initial_members, o.end))
        elif o.metric == "cumulative_aided":
            columns.append(_cumulative_at(results[paid_claims].astype(float), o.end))
        else:
            name = {"aided_in_period": paid_claims, "aid_amount_in_period": paid_aid,
                    "cost_per_member_in_period": "cost_per_member"}[o.metric]
            x = results[name].astype(float)
            columns.append(_cumulative_at(x, o.end) - _cumulative_at(x, o.start))
    return np.stack(columns, axis=-1)

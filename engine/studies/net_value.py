"""The platform's net value at a valuation date: fee income less what running it costs.

Per path, with quarter ``t``'s cash flows at the quarter's end and ``k_t`` the quarters from
the valuation date ``D`` (a quarter's end) to that end::

    c_t = fee_t − o · N_t − a · J_t − h · K_t − F_t

    V(D) = Σ_{t : k_t ≥ 1} v^{k_t} c_t  +  v^{K} · TV,      v = (1 + r)^(−1/4)

``fee_t`` the fee income (yuan), ``N_t`` members at the quarter's end (standing for the
quarter's active members), ``J_t`` joins, ``K_t`` claims (cases), ``F_t`` what the platform
paid in members' place (``platform_funding``; 0 unless a closure makes it pay), ``o`` the
operating cost per member-quarter, ``a`` the acquisition cost per join, ``h`` the handling
cost per case (investigation, review, publicity of the case), ``r`` the scenario's annual
``valuation.discount_rate`` and ``K`` the quarters from ``D`` to the end of the last quarter.
Flows at or before ``D`` are excluded: they are the past at the valuation date.

The terminal value ``TV`` at the horizon's end is an assumption stated with every figure:

``closure``        ``TV = 0``: nothing after the last quarter. China's online mutual-aid
                   platforms closed in 2020-22 under regulatory pressure (the closure rows
                   of engine/data/mutual_aid_platform_facts.csv, :data:`CLOSURE_SOURCES`).
``going concern``  the last four quarters' net cash flow ``C = Σ c_t`` as a growing annual
                   perpetuity, the first payment a year after the horizon:
                   ``TV = max(0, C (1 + g) / (r − g))`` with ``g < r`` (growth, a judgement).
                   The floor at 0 is the owner's option to close rather than fund a loss for
                   ever (closing costs aside).

The revenue-only figure, ``Σ v^{k_t} fee_t`` with every cost 0 and closure, is reported
beside the value and named "revenue only (not a value)".

The value is linear in the costs, so each path's discounted components (fees,
member-quarters, joins, cases, platform funding, and their last-year sums) are computed once
and every cost combination of the sweep is a weighted sum of them. Quantiles are the lower
(inverted-CDF) quantiles of :func:`engine.analysis.weighted.quantile` over the pooled paths
of all scenarios (a fitted set's parameter draws, equally weighted paths), with the run's
likelihood-ratio weights where it has them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from engine.analysis import weighted as W
from engine.config.labels import parse_quarter, quarter_offset
from engine.used_paths import paths_used, scenario_paths

LEVELS = (0.05, 0.5, 0.95)
COMPONENTS = ("fee", "members", "joins", "claims", "platform_funding")
TERMINALS = ("closure", "going concern")
# The going-concern growth per year: a stated judgement (no growth after the horizon; the
# sector had stopped growing by 2021 and the regulator was closing it).
GROWTH_PER_YEAR = 0.0
REVENUE_ONLY = "revenue only (not a value)"
# Closure rows of engine/data/mutual_aid_platform_facts.csv (date, platform, source page).
CLOSURE_SOURCES = (
    ("2020", "Baidu 灯火互助", "https://www.tellerreport.com/business/2021-02-27-%0A---"
     "difficult-to-make-profit--lack-of-supervision--network-mutual-assistance-platform-"
     "encounters-%22growth-troubles%22%0A--.BJmGHDrdf_.html"),
    ("2021-01-31", "美团互助 (Meituan)", "https://www.rayradar.com/2021/01/15/meituan-"
     "mutual-aid-closed-on-january-31-and-will-be-returned-to-members-in-full/"),
    ("2021-03-24", "轻松互助 (Qingsong), announced", "https://www.shine.cn/biz/finance/"
     "2104036954/"),
    ("2021-03-31", "水滴互助 (Waterdrop)", "https://todaychina.cc/?p=25490"),
    ("2021-04-30", "悟空互助 (Wukong)", "http://www.jizihe.com/page/2021/0912/8860394.shtml"),
    ("2021-05-14", "Xiaomi Tianxing", "https://yicaiglobal.com/news/ant-follows-meituan-"
     "waterdrop-and-xiaomi-in-shutting-mutual-aid-platform-amid-crackdown"),
    ("2022-01-28", "相互宝 (Xiang Hu Bao)", "https://m.gucheng.com/finance/202112/"
     "4142021.shtml"),
)
CLOSURE_WORDS = ("closure at the horizon's end: nothing after the last quarter. China's "
                 "online mutual-aid platforms closed in 2020-22 under regulatory pressure: "
                 "Meituan's 2021-01-31, Waterdrop's 2021-03-31, Xiang Hu Bao's 2022-01-28, "
                 "about ten platforms in 2021 (engine/data/mutual_aid_platform_facts.csv)")


@dataclass(frozen=True)
class CostAssumption:
    """One cost with its range (yuan) and where each number comes from."""

    name: str
    unit: str
    low: float
    central: float
    high: float
    basis: str

    def values(self) -> dict[str, float]:
        return {"low": self.low, "central": self.central, "high": self.high}


OPEX = CostAssumption(
    "operating cost", "yuan per member per quarter", 0.25, 0.75, 1.50,
    "judgement (no platform published its operating costs): operators described the 8% "
    "fee as covering operations; the central 0.75 yuan sits below what the fee earned per "
    "member-quarter (about one yuan for e互助 in 2019: shown beside from the run), the low "
    "a third of it, the high twice it (operations outrun the fee)")
ACQUISITION = CostAssumption(
    "acquisition cost", "yuan per join", 0.0, 3.0, 15.0,
    "judgement: members joined through the operator's own apps and channels for a deposit "
    "of a few yuan; insurers are said to pay 80-220 yuan online for a paying customer, "
    "about 120 yuan for health insurance (tinckay.com/hulianwang-baike/23559.html and "
    "/696.html, unattributed industry pages: an upper reference only, not used)")
HANDLING = CostAssumption(
    "handling cost", "yuan per case (claim)", 500.0, 2000.0, 5000.0,
    "judgement (no published figure): each case is investigated (hospital records, a "
    "visit), reviewed and published before members share it")
COSTS = (OPEX, ACQUISITION, HANDLING)


@dataclass
class NetValue:
    """The sweep's answer; amounts in yuan at the valuation date (see the module
    docstring). ``rows``: one per cost case and terminal with ``case``, ``terminal``,
    the three costs and ``quantiles`` (level → yuan) and ``mean``."""

    valuation_date: str
    discount_rates: tuple[float, ...]
    growth_per_year: float
    quarters_after: int
    horizon_end: str
    paths: int
    costs: tuple[CostAssumption, ...]
    rows: list[dict] = field(default_factory=list)
    revenue_only: dict[str, float] = field(default_factory=dict)
    components: dict[str, dict[str, float]] = field(default_factory=dict)
    fee_per_member_quarter: dict[str, float] = field(default_factory=dict)
    members_at_date: dict[str, float] = field(default_factory=dict)
    closure_words: str = CLOSURE_WORDS      # the words the document prints (report reads
    revenue_label: str = REVENUE_ONLY       # results, never a study's module)

    def central(self, terminal: str = "closure") -> dict | None:
        """The central cost case's row under ``terminal`` (None if not valued)."""
        return next((r for r in self.rows if r["case"] == "central"
                     and r["terminal"] == terminal), None)


def quarter_of_date(date) -> str:
    """The quarter that ends on ``date`` (``"2019-12-31"``, a :class:`datetime.date` or a
    label ``"2019Q4"``, which stands for its last day).

    Raises
    ------
    ValueError
        When ``date`` is not the last day of a quarter (the model's cash flows fall on
        quarter ends; a date inside a quarter would split one).
    """
    if isinstance(date, str) and "Q" in date:
        parse_quarter(date)
        return date.strip()
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    ends = {(3, 31): 1, (6, 30): 2, (9, 30): 3, (12, 31): 4}
    q = ends.get((day.month, day.day))
    if q is None:
        raise ValueError(f"valuation date: must be a quarter's last day like 2019-12-31 "
                         f"(got {day.isoformat()})")
    return f"{day.year}Q{q}"


def last_quarter_end(date) -> str:
    """The last quarter's end on or before ``date`` (``2020-04-15`` → ``2020-03-31``): a
    valuation date from, say, the last day of the calibration data."""
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    q = (day.month - 1) // 3 + 1
    label = f"{day.year}Q{q}"
    if quarter_end(label) != day.isoformat():
        label = f"{day.year}Q{q - 1}" if q > 1 else f"{day.year - 1}Q4"
    return quarter_end(label)


def quarter_end(label: str) -> str:
    """``"2019Q4"`` → ``"2019-12-31"``."""
    year, q = parse_quarter(label)
    return f"{year}-{('03-31', '06-30', '09-30', '12-31')[q - 1]}"


def offsets(labels, valuation_date) -> np.ndarray:
    """``k_t``: quarters from the valuation date to each quarter's end (≤ 0 at or before
    it)."""
    d = quarter_of_date(valuation_date)
    return np.array([quarter_offset(d, str(lab)) for lab in labels])


def discounted_components(series: dict[str, np.ndarray], labels, valuation_date,
                          annual_rate: float) -> dict[str, np.ndarray]:
    """Per path: each of :data:`COMPONENTS` discounted to the valuation date over the
    quarters after it (``Σ_{k_t ≥ 1} v^{k_t} x_t``), and its sum over the last four quarters
    of the horizon (key ``"<name>_last_year"``, undiscounted, annualised when the run has
    fewer than four quarters).

    ``series`` holds ``(P, T)`` arrays ``fee_revenue``, ``members``, ``joins``, ``claims``
    and optionally ``platform_funding`` (0 when absent).

    Raises
    ------
    ValueError
        When the valuation date is at or after the end of the last quarter (nothing is left
        to value).
    """
    k = offsets(labels, valuation_date)
    if k[-1] < 1:
        raise ValueError(f"valuation date {quarter_end(quarter_of_date(valuation_date))}: "
                         f"at or after the projection's end ({quarter_end(str(labels[-1]))})")
    after = k >= 1
    v = (1.0 + annual_rate) ** -0.25
    factors = np.where(after, v ** np.maximum(k, 0).astype(float), 0.0)
    names = {"fee": "fee_revenue", "members": "members", "joins": "joins",
             "claims": "claims", "platform_funding": "platform_funding"}
    shape = np.shape(series["fee_revenue"])
    last = min(4, shape[-1])
    out = {}
    for key, var in names.items():
        x = np.asarray(series[var], dtype=float) if var in series else np.zeros(shape)
        out[key] = x @ factors
        out[key + "_last_year"] = x[:, -last:].sum(axis=1) * (4.0 / last)
    return out


def value_of(parts: dict[str, np.ndarray], opex: float, acquisition: float, handling: float,
             terminal: str, annual_rate: float, quarters_to_end: int,
             growth: float = GROWTH_PER_YEAR) -> np.ndarray:
    """Each path's value at the valuation date from :func:`discounted_components` (the
    module docstring's formula), yuan.

    Raises
    ------
    ValueError
        For an unknown ``terminal`` or a going concern with ``growth ≥ annual_rate``.
    """
    def net(suffix: str) -> np.ndarray:
        return (parts["fee" + suffix] - opex * parts["members" + suffix]
                - acquisition * parts["joins" + suffix] - handling * parts["claims" + suffix]
                - parts["platform_funding" + suffix])

    value = net("")
    if terminal == "closure":
        return value
    if terminal != "going concern":
        raise ValueError(f"terminal: must be one of {', '.join(TERMINALS)} (got {terminal!r})")
    if growth >= annual_rate:
        raise ValueError(f"going concern: growth must be below the discount rate "
                         f"(got growth {growth:g}, rate {annual_rate:g})")
    perpetuity = np.maximum(net("_last_year") * (1.0 + growth) / (annual_rate - growth), 0.0)
    return value + (1.0 + annual_rate) ** (-quarters_to_end / 4.0) * perpetuity


def cost_cases(costs=COSTS) -> list[tuple[str, tuple[float, float, float]]]:
    """The sweep: all central; each cost low and high with the others central (one at a
    time); all low; all high. Each case ``(label, (opex, acquisition, handling))``."""
    central = tuple(c.central for c in costs)
    cases = [("central", central)]
    for j, c in enumerate(costs):
        for level in ("low", "high"):
            values = list(central)
            values[j] = c.values()[level]
            cases.append((f"{c.name} {level}", tuple(values)))
    cases.append(("all low", tuple(c.low for c in costs)))
    cases.append(("all high", tuple(c.high for c in costs)))
    return cases


def _quantiles(x: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
    return {f"{q:g}": float(v) for q, v in zip(LEVELS, W.quantile(x, list(LEVELS), w),
                                              strict=True)}


def net_value(ds, valuation_date, costs=COSTS, growth: float = GROWTH_PER_YEAR,
              discount_rate: float | None = None) -> NetValue:
    """The net value sweep of an opened results dataset (module docstring).

    Parameters
    ----------
    ds
        Results (:func:`engine.store.open_results`): ``fee_revenue``, ``members``,
        ``joins``, ``claims`` (and ``platform_funding`` if stored), dims
        ``(scenario, path, quarter)``. Every scenario's paths are pooled.
    valuation_date
        A quarter's last day (``"2019-12-31"``, a date, or ``"2019Q4"``).
    costs
        The three :class:`CostAssumption` (operating, acquisition, handling) in that order.
    growth
        The going concern's growth per year (a judgement; below every discount rate).
    discount_rate
        Annual rate for every scenario; default each scenario's ``valuation.discount_rate``.

    Returns
    -------
    NetValue
        Rows per cost case (:func:`cost_cases`) and terminal, the revenue-only figure, the
        central case's components, the fee per member-quarter over the year up to the date
        and the members at the date (each as quantiles, yuan or persons).
    """
    from engine.analysis.compare import used_values
    from engine.analysis.summary import path_weights, scenarios_of

    labels = [str(q) for q in ds["quarter"].values]
    n_scenarios = ds.sizes["scenario"]
    rates = ([float(discount_rate)] * n_scenarios if discount_rate is not None else
             [float(s.valuation.discount_rate) for s in scenarios_of(ds)])
    names = ["fee_revenue", "members", "joins", "claims"] + (
        ["platform_funding"] if "platform_funding" in ds else [])
    k = offsets(labels, valuation_date)
    quarters_to_end = int(k[-1])
    parts_by_scenario = []
    for i in range(n_scenarios):
        series = {v: scenario_paths(ds, v, i) for v in names}
        parts_by_scenario.append(discounted_components(series, labels, valuation_date,
                                                       rates[i]))
    every = list(range(n_scenarios))
    w = path_weights(ds, every)

    def pooled(opex, acquisition, handling, terminal):
        return np.concatenate([value_of(p, opex, acquisition, handling, terminal, r,
                                        quarters_to_end, growth)
                               for p, r in zip(parts_by_scenario, rates, strict=True)])

    result = NetValue(quarter_end(quarter_of_date(valuation_date)), tuple(sorted(set(rates))),
                      growth, int((k >= 1).sum()), quarter_end(labels[-1]),
                      int(paths_used(ds).sum()), tuple(costs))
    # a perpetuity needs a rate above its growth: without one (a scenario valued at 0 %),
    # only closure is valued and the document says so
    terminals = TERMINALS if min(rates) > growth else ("closure",)
    for label, (o, a, h) in cost_cases(costs):
        for terminal in terminals:
            x = pooled(o, a, h, terminal)
            result.rows.append({"case": label, "terminal": terminal, "opex": o,
                                "acquisition": a, "handling": h,
                                "quantiles": _quantiles(x, w), "mean": W.mean(x, w)})
    result.revenue_only = _quantiles(np.concatenate([p["fee"] for p in parts_by_scenario]), w)
    central = dict(zip(("opex", "acquisition", "handling"), (c.central for c in costs),
                       strict=True))
    for key, scale in (("fee", 1.0), ("members", central["opex"]),
                       ("joins", central["acquisition"]), ("claims", central["handling"]),
                       ("platform_funding", 1.0)):
        x = np.concatenate([p[key] for p in parts_by_scenario]) * scale
        result.components[key] = _quantiles(x, w)
    year = (k <= 0) & (k > -4)
    if year.any():
        fee = used_values(ds, "fee_revenue", every)[:, year].sum(axis=1)
        members = used_values(ds, "members", every)[:, year].astype(float).sum(axis=1)
        result.fee_per_member_quarter = _quantiles(fee / np.maximum(members, 1.0), w)
        at = int(np.flatnonzero(k == 0)[0]) if (k == 0).any() else None
        if at is not None:
            result.members_at_date = _quantiles(
                used_values(ds, "members", every)[:, at].astype(float), w)
    return result

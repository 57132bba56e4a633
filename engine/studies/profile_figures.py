"""Published figures of who claims and who is a member: the observations' profile metrics.

Rows of an observations file (:mod:`engine.studies.observations`) with these metrics, and
the optional columns ``sex`` (``female``, ``male``, or empty for both) and ``age_from``,
``age_to`` (completed years, both included)::

    claims_male_share    flow   per cent   men's share of the claims of the period
    mean_age_at_claim    flow   years      the claimants' mean age in completed years
                                           (周岁), of one sex or both
    claims_age_share     flow   per cent   the share of the period's claims (of one sex
                                           or both) at ages age_from..age_to
    members_age_share    stock  per cent   the share of the members (of one sex or both)
                                           at ages age_from..age_to, at the date

Shares are in per cent (52.3, not 0.523) so that the fit's and the verdicts' scale,
``log(1 + x)``, is close to a relative one, as it is for every other figure: ``sd_log``
0.05 is then about ±5 % of the share. The figures are of a platform's totals (a ``plan``
is refused).

The model's values come from the claims and members by sex and age band
(``claims_by``, ``members_by``; :mod:`engine.config.output`): ``disclose`` reads them from a
results file by ``sex`` and ``age_band``, and lists a figure the file cannot give as not
checked (:func:`checkable`); ``calibrate`` and its backtest run the expected path and the
forecast with one-year bands (:func:`with_profile_detail`), where the mean of completed
years is exact. From wider bands the mean age takes each band's middle ``(lo + hi) / 2``,
and an age range must start and end on band edges. Claims are those
incurred in the period (the detail is of incurred claims); a payment pattern that does not
depend on age or sex moves counts between quarters but not these shares and means.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from engine.config.output import MAX_AGE, SEXES, age_band_index

PROFILE_FLOWS = ("claims_male_share", "mean_age_at_claim", "claims_age_share")
PROFILE_STOCKS = ("members_age_share",)
PROFILES = PROFILE_FLOWS + PROFILE_STOCKS
AGE_SHARES = ("claims_age_share", "members_age_share")
TAKES_SEX = ("mean_age_at_claim",) + AGE_SHARES
# keys of the results dict that model_values reads for these metrics
CLAIMS, MEMBERS = "claims_by_sex_age", "members_by_sex_age"
LOWER, UPPER = "age_band_lower", "age_band_upper"


class WhoProblem(ValueError):
    """A profile column's problem: ``(column, what, got)``."""

    def __init__(self, column: str, what: str, got):
        super().__init__(what)
        self.column, self.what, self.got = column, what, got


def who_of(row: dict, metric: str, value: float) -> tuple[str, int | None, int | None]:
    """``(sex, age_from, age_to)`` of a row, checked against its metric; raises
    :class:`WhoProblem` at the first problem."""
    sex = (row.get("sex") or "").strip()
    ages = [(row.get(c) or "").strip() for c in ("age_from", "age_to")]
    if sex and metric not in TAKES_SEX:
        raise WhoProblem("sex", f"{metric} takes no sex (only {', '.join(TAKES_SEX)})"
                         + ("; claims_male_share is of both sexes" if metric ==
                            "claims_male_share" else ""), sex)
    if sex and sex not in SEXES:
        raise WhoProblem("sex", f"unknown sex (valid: {', '.join(SEXES)}, or empty for "
                         "both)", sex)
    if metric not in AGE_SHARES:
        for column, text in zip(("age_from", "age_to"), ages, strict=True):
            if text:
                raise WhoProblem(column, f"{metric} takes no ages (only "
                                 f"{', '.join(AGE_SHARES)})", text)
        age_from = age_to = None
    else:
        age_from, age_to = (_age(column, text) for column, text in
                            zip(("age_from", "age_to"), ages, strict=True))
        if age_to < age_from:
            raise WhoProblem("age_to", f"is below age_from ({age_from})", age_to)
    if metric in PROFILES:
        top = MAX_AGE if metric == "mean_age_at_claim" else 100.0
        if value > top:
            raise WhoProblem("value", f"{metric} must be at most {top:g} "
                             + ("(years)" if metric == "mean_age_at_claim" else
                                "(per cent: 52.3, not 0.523)"), value)
    return sex, age_from, age_to


def _age(column: str, text: str) -> int:
    if not text:
        raise WhoProblem(column, "an age share needs age_from and age_to (completed years)",
                         text)
    try:
        age = float(text)
    except ValueError:
        raise WhoProblem(column, "must be an age in completed years", text) from None
    if not math.isfinite(age) or age != math.floor(age) or not 0 <= age <= MAX_AGE:
        raise WhoProblem(column, f"must be a whole age in completed years, 0 to {MAX_AGE}",
                         text)
    return int(age)


def label(metric: str, sex: str, age_from: int | None, age_to: int | None) -> str:
    """The figure as tables name it: ``mean_age_at_claim male``,
    ``members_age_share 20-29``."""
    parts = [metric]
    if sex:
        parts.append(sex)
    if age_from is not None:
        parts.append(f"{age_from}-{age_to}")
    return " ".join(parts)


# ------------------------------------------------------------------ the model's values

def bands_of(observation, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """The bands inside ``age_from..age_to`` (a boolean mask), clipped to the bands' span;
    raises :class:`WhoProblem` where a band straddles either end or none is inside."""
    lo = max(observation.age_from, int(lower[0]))
    hi = min(observation.age_to, int(upper[-1]))
    inside = (lower >= lo) & (upper <= hi)
    if lo > hi or not inside.any():
        raise WhoProblem("age_from", f"no band of the results lies in "
                         f"{observation.age_from}-{observation.age_to} (bands "
                         f"{int(lower[0])}-{int(upper[-1])})", observation.age_from)
    for column, end, edges in (("age_from", lo, lower), ("age_to", hi, upper)):
        if end not in set(int(e) for e in edges):
            shown = ", ".join(f"{int(a)}-{int(b)}" for a, b in zip(lower, upper, strict=True))
            raise WhoProblem(column, f"is not a band edge of the results' claims and members "
                             f"by age ({shown}): give bands that start and end there",
                             getattr(observation, column))
    return inside


def profile_value(o, results: dict) -> np.ndarray:
    """The model's value of profile figure ``o`` from claims and members by (sex, band),
    ``(..., T, 2, B)`` under :data:`CLAIMS` and :data:`MEMBERS`; NaN where nobody claims
    (or is a member) in the figure's group."""
    from engine.studies.observations import _cumulative_at

    lower, upper = results[LOWER], results[UPPER]
    sexes = slice(None) if not o.sex else slice(SEXES.index(o.sex), SEXES.index(o.sex) + 1)
    if o.metric == "members_age_share":
        members = results[MEMBERS].astype(float)
        T = members.shape[-3]
        # the members at the end of the quarter that holds the date
        k = min(max(int(math.ceil(o.end - 1e-9)) - 1, 0), T - 1)
        by_band = members[..., k, sexes, :].sum(axis=-2)
    else:
        claims = np.moveaxis(results[CLAIMS].astype(float), -3, -1)      # (..., 2, B, T)
        period = _cumulative_at(claims, o.end) - _cumulative_at(claims, o.start)
        if o.metric == "claims_male_share":
            return 100.0 * _ratio(period[..., 1, :].sum(axis=-1), period.sum(axis=(-2, -1)))
        by_band = period[..., sexes, :].sum(axis=-2)
    total = by_band.sum(axis=-1)
    if o.metric == "mean_age_at_claim":
        middle = 0.5 * (lower + upper)
        return _ratio((by_band * middle).sum(axis=-1), total)
    return 100.0 * _ratio(by_band[..., bands_of(o, lower, upper)].sum(axis=-1), total)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def from_detail(arrays: dict, dims: tuple[str, ...], lower, upper) -> dict:
    """:data:`CLAIMS` and :data:`MEMBERS` ``(..., T, 2, B)`` from ``claims_by`` and
    ``members_by`` ``(..., T, <dims>)`` (the other dimensions summed out), with the bands'
    ends; ``{}`` when they are missing or not by sex and age band."""
    if "sex" not in dims or "age_band" not in dims:
        return {}
    out = {LOWER: np.asarray(lower, dtype=float), UPPER: np.asarray(upper, dtype=float)}
    for name, key in (("claims_by", CLAIMS), ("members_by", MEMBERS)):
        if name not in arrays:
            continue
        values = arrays[name]
        lead = values.ndim - len(dims)
        axes = [lead + dims.index("sex"), lead + dims.index("age_band")]
        moved = np.moveaxis(values, axes, [-2, -1])
        extra = tuple(range(lead, moved.ndim - 2))
        out[key] = moved.sum(axis=extra) if extra else moved
    return out


def missing(observations, results: dict) -> list:
    """The profile figures whose claims or members by sex and age the results lack."""
    need = {m: (MEMBERS if m == "members_age_share" else CLAIMS) for m in PROFILES}
    return [o for o in observations if o.metric in PROFILES and need[o.metric] not in results]


def with_profile_detail(platform):
    """A run's inputs with claims and members by sex and one-year age bands added (the
    profile figures' model values; nothing else changes: the detail only counts)."""
    ages = [a for plan in platform.plans for a in plan.age_years]
    bands = [(a, a) for a in range(int(min(ages)), int(max(ages)) + 1)]
    plans = tuple(replace(p, detail=tuple(dict.fromkeys(p.detail + ("claims", "members"))),
                          n_age_bands=len(bands), age_band=age_band_index(bands, p.age_years))
                  for p in platform.plans)
    return replace(platform, plans=plans, detail_by=("sex", "age_band")), bands


def detail_results(out: dict, bands) -> dict:
    """The profile arrays of a run made with :func:`with_profile_detail`."""
    return from_detail(out, ("sex", "age_band"), [b[0] for b in bands],
                       [b[1] for b in bands])


def file_results(ds, index: list[int]) -> dict:
    """The profile arrays of a results file's chosen scenarios (their used paths stacked),
    from ``claims_by`` and ``members_by``; ``{}`` without them."""
    from engine.analysis.compare import used_values
    from engine.variables import DETAIL_SUFFIX

    names = [n + DETAIL_SUFFIX for n in ("claims", "members") if n + DETAIL_SUFFIX in ds]
    if not names or "age_band_lower" not in ds:
        return {}
    dims = tuple(ds[names[0]].dims[3:])
    return from_detail({n: used_values(ds, n, index) for n in names}, dims,
                       ds["age_band_lower"].values, ds["age_band_upper"].values)


def checkable(observations, results: dict) -> tuple[list, list[tuple]]:
    """The figures ``results`` can give, and ``(figure, why)`` for each profile figure it
    cannot: its detail missing (no ``claims_by`` or ``members_by`` by sex and age band), or
    an age range that does not start and end on the results' band edges."""
    lacking = {id(o) for o in missing(observations, results)}
    kept, unchecked = [], []
    for o in observations:
        if id(o) in lacking:
            name = "members" if o.metric == "members_age_share" else "claims"
            unchecked.append((o, f"the results hold no {name}_by by sex and age_band (the "
                                 f"scenario's [output]: detail = [\"{name}\"], by = "
                                 "[\"sex\", \"age_band\"])"))
            continue
        if o.metric in AGE_SHARES:
            try:
                bands_of(o, results[LOWER], results[UPPER])
            except WhoProblem as exc:
                unchecked.append((o, f"{exc.column} {exc.got} {exc.what}"))
                continue
        kept.append(o)
    return kept, unchecked

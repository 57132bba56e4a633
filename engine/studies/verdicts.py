"""Verdicts the study and the calibration print, each from one rule so that no two tables
can disagree:

* **inside or outside** (:func:`inside`): a published figure against the model's value for
  it, on the log1p scale the fit uses, the model's own interval widened by the figure's
  stated error (``sd_log``) in quadrature. The A/E table, the list by source, the
  calibration report, the backtest and the study page all call it.
* **below, above or undecided** (:func:`rate_verdict`): a probability estimated from ``k``
  failing paths of ``n`` against a threshold, from its exact (Clopper–Pearson) 95 %
  interval, with the paths that would decide it when it is undecided.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.studies.observations import Observation

LEVEL = 0.90                      # the yardstick's level: the model's 5 %–95 % interval
CONFIDENCE = 0.95                 # the exact interval a rate verdict rests on
CONFLICT_Z = 1.5   # figures that pull the fit apart: |z| > 1.5 on opposite sides
MAX_PATHS_SEARCHED = 10_000_000   # beyond this, a rate is called undecidable


def relative_error(model: float, observed: float) -> float:
    """``(model − observed) / observed`` (NaN for an observed 0)."""
    return (model - observed) / observed if observed else float("nan")


def normal_quantile(p: float) -> float:
    """The standard normal's ``p`` quantile (1.645 for 0.95)."""
    from scipy import stats
    return float(stats.norm.ppf(p))


def z_score(observed: float, sd_log: float, median: float, low: float | None = None,
            high: float | None = None, level: float = LEVEL) -> float:
    """How far the model lands from a published figure, in combined standard deviations
    (positive: the model above the figure); :func:`inside` is ``|z| ≤ z_level``.

    Notes
    -----
    On the log1p scale (the fit's: ``x ↦ log(1 + max(x, 0))``), with ``y`` the figure,
    ``μ`` the model's median (or its expected value), ``[a, b]`` the model's interval at
    ``level`` (quantiles ``(1 − level)/2`` and ``(1 + level)/2``) and
    ``z_level = Φ⁻¹((1 + level)/2)`` (1.645 at 90 %), the model's spread on the figure's
    side of the median is ``s = (log1p b − log1p μ)/z_level`` above it and
    ``(log1p μ − log1p a)/z_level`` below it, and::

        z = (log1p μ − log1p y) / √(sd_log² + s²)

    the difference of the model and a figure published with error ``N(0, sd_log²)`` on
    the log scale, in its own standard deviations (the two errors independent). With no
    stated error (``sd_log = 0``) the figure is inside exactly when ``a ≤ y ≤ b``; with no
    model interval (``low``, ``high`` None: an expected value, as the calibration has)
    ``s = 0`` and ``z`` is the fit's residual on the figure's own error.
    """
    def lg(x):
        return math.log1p(max(float(x), 0.0))

    zl = normal_quantile(0.5 + level / 2)
    mu, y = lg(median), lg(observed)
    if y >= mu:
        s = 0.0 if high is None else max(lg(high) - mu, 0.0) / zl
    else:
        s = 0.0 if low is None else max(mu - lg(low), 0.0) / zl
    scale = math.hypot(float(sd_log or 0.0), s)
    if scale == 0.0:
        return 0.0 if mu == y else math.copysign(math.inf, mu - y)
    return (mu - y) / scale


def inside(observed: float, sd_log: float, median: float, low: float | None = None,
           high: float | None = None, level: float = LEVEL) -> bool:
    """Whether a published figure is inside the model's interval at ``level``, widened by
    the figure's own stated error: ``|z| ≤ Φ⁻¹((1 + level)/2)`` with ``z`` of
    :func:`z_score` (the one yardstick of every table and list).

    Examples
    --------
    >>> inside(110.0, 0.0, 100.0, 80.0, 120.0)       # inside the model's own interval
    True
    >>> inside(130.0, 0.0, 100.0, 80.0, 120.0)       # outside it, and no stated error
    False
    >>> inside(130.0, 0.2, 100.0, 80.0, 120.0)       # outside it, inside the figure's error
    True
    """
    return abs(z_score(observed, sd_log, median, low, high, level)) \
        <= normal_quantile(0.5 + level / 2)


def figure_range(observed: float, sd_log: float, level: float = LEVEL) -> tuple[float, float]:
    """The figure's own range at ``level`` from its stated error, on the log1p scale:
    ``expm1(log1p y ± z_level · sd_log)``."""
    zl = normal_quantile(0.5 + level / 2)
    y = math.log1p(max(observed, 0.0))
    return math.expm1(y - zl * sd_log), math.expm1(y + zl * sd_log)


@dataclass(frozen=True)
class Verdict:
    """Where the model lands against one published figure: ``fitted`` (a median over
    paths, or an expected value) and, where there are paths, the model's 90 % interval
    ``low``–``high``; ``met`` is :func:`inside`, ``z`` its :func:`z_score`."""

    observation: Observation
    fitted: float
    low: float | None = None
    high: float | None = None

    @property
    def error(self) -> float:
        return relative_error(self.fitted, self.observation.value)

    @property
    def z(self) -> float:
        return z_score(self.observation.value, self.observation.sd_log, self.fitted,
                       self.low, self.high)

    @property
    def met(self) -> bool:
        return inside(self.observation.value, self.observation.sd_log, self.fitted,
                      self.low, self.high)


YARDSTICK = ("inside: within the model's 90% interval widened by the figure's own stated "
             "error (sd_log) in quadrature on the log scale, |z| ≤ 1.645")


def conflict_lines(rows: list[Verdict]) -> list[str]:
    """Per source, how far the model lands (:func:`inside` decides met or not); then the
    sources that pull it in opposite directions (``|z| > CONFLICT_Z``, the model above one
    and below another): the fit is a compromise between them and no parameter set of this
    model meets them together."""
    spread = any(v.low is not None for v in rows)
    lines = [f"by source (mean |z|; a figure is met when {YARDSTICK}"
             + ("" if spread else "; an expected value has no interval of its own, so on "
                "the figure's error alone") + "):"]
    sources: dict[str, list[Verdict]] = {}
    for v in rows:
        sources.setdefault(v.observation.source, []).append(v)
    for source, vs in sources.items():
        missed = [v for v in vs if not v.met]
        mean = sum(abs(v.z) for v in vs) / len(vs)
        state = ("met" if not missed else "NOT MET: " + ", ".join(
            f"row {v.observation.row} {v.observation.label} "
            f"({'model above' if v.z > 0 else 'model below'}, {v.error:+.0%})" for v in missed))
        lines.append(f"  {source}: {len(vs)} figure(s), mean |z| {mean:.2f}, {state}")
    above = [v for v in rows if v.z > CONFLICT_Z]
    below = [v for v in rows if v.z < -CONFLICT_Z]
    if above and below:
        def names(vs):
            return "; ".join(f"row {v.observation.row} {v.observation.label} "
                             f"{v.observation.date}" for v in vs)
        lines.append(f"sources in conflict (|z| > {CONFLICT_Z:g} on opposite sides): the fit "
                     f"lands above {names(above)} and below {names(below)}; it is a "
                     "compromise the stated errors (sd_log) weigh, and this model cannot "
                     "meet them together")
    elif above or below:
        lines.append("pulled one way only (a different model, not a compromise between "
                     "sources, would be needed to meet them): "
                     + "; ".join(f"row {v.observation.row} {v.observation.label}"
                                 for v in above + below))
    else:
        lines.append(f"no two figures pull the fit apart (every |z| ≤ {CONFLICT_Z:g})")
    return lines


# ------------------------------------------------------------------ rates against targets

@dataclass(frozen=True)
class RateVerdict:
    """A probability from ``failures`` of ``paths`` against ``threshold``: ``word`` is
    ``"below"`` when the exact interval's upper bound ``upper`` is below the threshold,
    ``"above"`` when its lower bound ``lower`` is above it, else ``"undecided"``, with
    ``needed`` the paths that would decide it if the observed rate held (None: never, the
    rate being the threshold itself or needing more than :data:`MAX_PATHS_SEARCHED`)."""

    failures: int
    paths: int
    threshold: float
    lower: float
    upper: float
    word: str
    needed: int | None = None

    @property
    def rate(self) -> float:
        return self.failures / self.paths if self.paths else math.nan

    @property
    def below(self) -> bool:
        return self.word == "below"

    @property
    def text(self) -> str:
        """E.g. "0 of 50 paths: undecided against 0.5% (exact 95% interval up to 5.82%;
        598 paths would decide it if the rate held)"."""
        counted = f"{self.failures:,} of {self.paths:,} paths" + (
            f" ({percent(self.rate)})" if self.failures else "")
        lo, hi = percent(self.lower, self.threshold), percent(self.upper, self.threshold)
        bound = (f"exact 95% interval up to {hi}" if self.failures == 0
                 else f"exact 95% interval {lo}–{hi}")
        if self.word != "undecided":
            return f"{counted}: {self.word} {percent(self.threshold)} ({bound})"
        why = (f"{self.needed:,} paths would decide it if the rate held" if self.needed
               else "no number of paths would decide it at this rate")
        return f"{counted}: undecided against {percent(self.threshold)} ({bound}; {why})"


    @property
    def short(self) -> str:
        """The verdict for a table's cell: "below (0 of 600 paths, up to 0.498%)"."""
        lo, hi = percent(self.lower, self.threshold), percent(self.upper, self.threshold)
        bound = f"up to {hi}" if self.failures == 0 else f"{lo}–{hi}"
        more = ("" if self.word != "undecided" else
                f"; {self.needed:,} paths would decide" if self.needed else "; at the target")
        return f"{self.word} ({self.failures:,} of {self.paths:,} paths, {bound}{more})"


def percent(x: float, apart_from: float | None = None) -> str:
    """A probability in percent to three significant figures, more where that would print
    it as ``apart_from`` (a bound of 0.4997 % is not printed as the 0.5 % it is below)."""
    for digits in range(3, 9):
        text = f"{100 * x:.{digits}g}"
        if apart_from is None or x == apart_from or text != f"{100 * apart_from:.{digits}g}":
            break
    return f"{text}%"


def rate_verdict(failures: int, paths: int, threshold: float,
                 confidence: float = CONFIDENCE) -> RateVerdict:
    """Below, above or undecided (see :class:`RateVerdict`) from the exact interval of
    :func:`engine.analysis.metrics.clopper_pearson` (one-sided at ``k = 0``).

    Examples
    --------
    >>> rate_verdict(0, 50, 0.005).word, rate_verdict(0, 50, 0.005).needed
    ('undecided', 598)
    >>> rate_verdict(0, 600, 0.005).word
    'below'
    >>> rate_verdict(30, 600, 0.005).word
    'above'
    """
    from engine.analysis.metrics import clopper_pearson

    lo, hi = clopper_pearson(failures, paths, confidence)
    if hi < threshold:
        word, needed = "below", None
    elif lo > threshold:
        word, needed = "above", None
    else:
        word = "undecided"
        needed = paths_needed(failures, paths, threshold, confidence)
    return RateVerdict(int(failures), int(paths), threshold, lo, hi, word, needed)


def paths_needed(failures: int, paths: int, threshold: float,
                 confidence: float = CONFIDENCE) -> int | None:
    """The fewest paths ``N`` whose exact interval at the observed rate ``r = k/n`` (``r·N``
    failures, an effective count) clears ``threshold``: its upper bound below it when
    ``r < threshold``, its lower bound above it when ``r > threshold``; None when
    ``r = threshold`` or ``N`` would exceed :data:`MAX_PATHS_SEARCHED`.

    Notes
    -----
    For ``k = 0`` the one-sided bound ``1 − (1 − c)^{1/N}`` is below ``t`` from
    ``N > log(1 − c)/log(1 − t)`` (598 paths for ``t`` = 0.5 % at 95 %); otherwise the
    bound at a fixed rate narrows as ``N`` grows, and ``N`` is found by doubling, then
    bisection.
    """
    from engine.analysis.metrics import clopper_pearson

    rate = failures / paths if paths else 0.0
    if rate == threshold:
        return None

    def clears(n: int) -> bool:
        lo, hi = clopper_pearson(rate * n, n, confidence)
        return hi < threshold if rate < threshold else lo > threshold

    if failures == 0:
        n = math.floor(math.log(1.0 - confidence) / math.log1p(-threshold)) + 1
        while not clears(n):            # guard the floating point at the boundary
            n += 1
        return n
    hi = max(int(paths), 1)
    while not clears(hi):
        hi *= 2
        if hi > MAX_PATHS_SEARCHED:
            return None
    lo = hi // 2 if hi > paths else 0   # clears(lo) is False (or lo is 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if clears(mid) else (mid, hi)
    return hi

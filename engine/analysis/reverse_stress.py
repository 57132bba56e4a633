"""Reverse stress testing from a results file: how likely an event is, and which systematic
drivers it comes from (issue 28).

With ``n`` paths of a scenario, each with its likelihood ratio ``w_i`` (1 in a plain run),
its event indicator ``I_i`` and a driver ``X_i`` (:mod:`engine.model.drivers`):

* the event's probability ``p̂ = Σ w_i I_i / n``, s.e. ``sd(w I) / √n`` (unbiased under a
  tilt, :mod:`engine.analysis.weighted`); where no path has the event, the one-sided 95 %
  Clopper–Pearson bound ``1 − 0.05^{1/n}`` of a plain file (a tilted file's paths bound
  the tilted law's probability, not the model's: no bound is given), and the file cannot
  say more;
* each driver's mean given the event, ``m̂_A = Σ w I X / Σ w I`` (a ratio estimator), s.e.
  ``s_A = √(Σ (w I (X − m̂_A))²) / Σ w I`` (the delta method): the conditional-mean reverse
  stress test (Glasserman, Kang & Kang, *Stress scenario selection by empirical
  likelihood*, Quantitative Finance 15, 2015), whose drivers moved furthest from their law
  are those the event comes from;
* how far the event moves it, in units of the driver's own s.d. ``σ``:
  ``(m̂_A − m̂) / σ`` with ``m̂ = Σ w X / Σ w`` the driver's weighted mean over all the
  scenario's paths (equal to ``(1 − p̃)(m̂_A − m̂_B)``, ``B`` the paths without the event and
  ``p̃ = Σ w I / Σ w`` the self-normalised share with it). Its s.e. is the delta method's,
  with the event's share random too: ``√(Σ ψ_i²) / σ``, ``ψ_i = w_i (I_i (X_i − m̂_A) / p̃
  − (X_i − m̂)) / Σ w``. Measured against the same paths' mean rather than the law's, the
  paths' own sampling error cancels: an event every path has moves nothing (shift 0, s.e.
  0), and with many paths ``m̂`` is the law's mean, so the shift is Glasserman, Kang &
  Kang's ``(m_A − μ) / σ``. ``σ`` is the law's for the normal innovations (1) and the
  joins' multiplier (``√α``, ``α`` the scenario's ``growth.dispersion``); for a shock's
  start in a quarter it is estimated from the paths, ``√(q̂ (1 − q̂))`` with ``q̂`` the
  weighted share that started one then (the chance of a start depends on whether an
  event is already in progress).

Many components are ranked at once (each year's innovation, each quarter's multiplier):
at 2 s.e. about one in twenty that the event does not move is flagged as moved by chance.

Only the drivers' components that come before the event's end are read (a draw after it
cannot cause it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.analysis.events import Event, happens_by_scenario
from engine.analysis.metrics import clopper_pearson
from engine.errors import OptionError
from engine.model import drivers as D
from engine.resolved import scenario_values
from engine.used_paths import path_count, scenario_paths
from engine.variables import WEIGHT

CONFIDENCE = 0.95
Z_95 = 1.959963984540054       # the normal's 97.5 % point


class ReverseStressError(OptionError):
    """What the file cannot answer: the option, what is wrong and the value."""

    def __init__(self, key: str, what: str, got: object = None):
        super().__init__(what, got, key)


@dataclass(frozen=True)
class Probability:
    """An event's probability in one scenario (module notes)."""

    estimate: float
    standard_error: float
    paths: int
    paths_with_event: int
    effective_paths: float
    upper_95: float | None       # one-sided Clopper–Pearson bound: no path, plain file

    @property
    def one_in(self) -> float | None:
        return 1.0 / self.estimate if self.estimate > 0 else None


@dataclass(frozen=True)
class DriverShift:
    """One driver component's mean given the event (module notes)."""

    driver: str            # the results variable
    component: str         # its calendar year or quarter ("" for the trend)
    index: int             # the component's index along the driver's own dimension
    law_mean: float
    law_sd: float
    mean_given_event: float
    standard_error: float  # of mean_given_event
    shift_sd: float        # (m̂_A − m̂) / σ: how far the event moves it, in its own s.d.
    shift_se: float

    @property
    def within_noise(self) -> bool:
        """Whether the shift is within 2 s.e. of 0 (the event may not move it at all)."""
        return abs(self.shift_sd) <= 2.0 * self.shift_se


@dataclass
class ScenarioAnswer:
    name: str
    probability: Probability
    shifts: list[DriverShift] = field(default_factory=list)


def weights_of(ds, scenario: int) -> np.ndarray:
    """Scenario ``scenario``'s weights of its used paths, ``(P_i,)`` (ones for a plain run or
    a file before weights)."""
    if WEIGHT not in ds:
        return np.ones(path_count(ds, scenario))
    return np.asarray(scenario_paths(ds, WEIGHT, scenario), dtype=float)


def probability(happens: np.ndarray, w: np.ndarray) -> Probability:
    """The event's probability from ``(P,)`` indicators and weights (module notes)."""
    x = w * happens
    n = len(x)
    k = int(happens.sum())
    estimate = float(x.sum() / n)
    se = float(np.std(x, ddof=1) / np.sqrt(n)) if n > 1 else 0.0
    ess = float(w.sum() ** 2 / (w @ w)) if w.any() else 0.0
    # zero paths of n drawn from the model bound its probability (one-sided 95 %); drawn
    # from a tilted law they bound that law's, not the model's: no bound then
    plain = bool(np.all(w == 1.0))
    upper = clopper_pearson(0, n, CONFIDENCE)[1] if k == 0 and plain else None
    return Probability(estimate, se, n, k, ess, upper)


def probabilities(ds, event: Event) -> list[Probability]:
    """The event's probability in every scenario of the file."""
    happens = happens_by_scenario(ds, event)
    return [probability(happens[s], weights_of(ds, s)) for s in range(len(happens))]


def stored_drivers(ds) -> list[str]:
    """The ``driver_*`` variables the file holds (none for a file before engine 0.10.0 or
    a run that draws no systematic driver)."""
    return [d.name for d in D.DRIVERS if d.name in ds.variables]


def _components(ds, driver: D.Driver, event: Event) -> list[tuple[int, str]]:
    """The components of ``driver`` before the event's end: ``(index, label)``."""
    if driver.dim is None:
        return [(0, "")]
    labels = [str(q) for q in ds["quarter"].values]
    if driver.dim == "quarter":
        return [(t, labels[t]) for t in range(event.stop)]
    last_year = int(labels[event.stop - 1][:4])
    years = [int(y) for y in ds[D.CALENDAR_YEAR].values]
    return [(i, str(y)) for i, y in enumerate(years) if y <= last_year]


def _law(driver: D.Driver, x: np.ndarray, w: np.ndarray, dispersion: float
         ) -> tuple[float, float]:
    """The driver's mean and s.d. under the model (module notes)."""
    if driver.law == "normal":
        return 0.0, 1.0
    if driver.law == "gamma":
        return 1.0, float(np.sqrt(dispersion))
    q = float(np.sum(w * x) / np.sum(w))
    return q, float(np.sqrt(q * (1.0 - q)))


def _ratio_mean(weights: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """``Σ w x / Σ w`` and its delta-method s.e. (0, 0 without weight)."""
    total = float(weights.sum())
    if total <= 0:
        return 0.0, 0.0
    m = float(weights @ x / total)
    return m, float(np.sqrt(np.sum((weights * (x - m)) ** 2)) / total)


def shift(x: np.ndarray, happens: np.ndarray, w: np.ndarray, sd: float
          ) -> tuple[float, float, float, float]:
    """``(m̂_A, s_A, shift, s.e.)`` of one driver component (module notes)."""
    on = w * happens
    m_a, s_a = _ratio_mean(on, x)
    total = float(w.sum())
    m_all = float(w @ x / total)
    p_event = float(on.sum() / total)
    # each path's influence on m̂_A − m̂ (the delta method, the event's share random too)
    influence = w * (happens * (x - m_a) / p_event - (x - m_all)) / total
    return m_a, s_a, (m_a - m_all) / sd, float(np.sqrt(np.sum(influence ** 2))) / sd


def driver_shifts(ds, event: Event, scenario: int, happens: np.ndarray) -> list[DriverShift]:
    """Every stored driver component's mean given the event in scenario ``scenario``,
    ranked by how far the event moves it (module notes); [] when no path has the event."""
    w = weights_of(ds, scenario)
    happens = np.asarray(happens, dtype=bool)
    if not (w * happens).sum() > 0:
        return []
    dispersion = 0.0
    if "driver_join_multiplier" in ds.variables:
        values = scenario_values(ds)[scenario]
        dispersion = float(values.get("growth.dispersion", 0.0) or 0.0)
    out = []
    for name in stored_drivers(ds):
        driver = D.BY_NAME[name]
        data = np.asarray(scenario_paths(ds, name, scenario), dtype=float)
        if np.isnan(data).all():
            continue                     # this scenario does not draw it
        for index, label in _components(ds, driver, event):
            x = data if driver.dim is None else data[:, index]
            if np.ptp(x) == 0.0:
                continue                 # held ([drivers]) or never started: not random here
            mu, sd = _law(driver, x, w, dispersion)
            if not sd > 0:
                continue                 # a component that never varies (no start possible)
            out.append(DriverShift(name, label, index, mu, sd, *shift(x, happens, w, sd)))
    out.sort(key=lambda s: -abs(s.shift_sd))
    return out


def scenario_shares(probs: list[Probability]) -> list[float]:
    """Each scenario's share of the set's event probability, ``p_s / Σ p``, as if the
    scenarios were equally likely (0 each where no scenario has the event)."""
    p = np.array([x.estimate for x in probs])
    return list(p / p.sum()) if p.sum() > 0 else [0.0] * len(p)

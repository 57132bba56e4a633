"""Choosing a run's tilt: a pilot run and the cross-entropy method.

``[tail] target`` names what the run is for: ``"shortfall"`` (the shortfall of projection
year ``tail.year``, its VaR and TVaR at ``tail.level``) or ``"ruin"`` (a first gap by
``tail.horizon_quarters``). Before the main run, :func:`choose_tilt` runs ``pilot_paths``
paths, up to the end of the target's period only, on a seed of their own (so the main
run's paths stay untouched), keeps the paths that reach the target's tail (the elite), and
moves each systematic driver's tilt to the elite's weighted mean (Rubinstein & Kroese,
*The Cross-Entropy Method*, 2004, §3; for the common factors, Glasserman & Li 2005):

* each year's level innovation shift ``μ_y = Σ_e w ε_y / Σ_e w``;
* the trend error's shift ``μ_τ = Σ_e w ε_τ / Σ_e w``;
* the shock start chance: ``q' = Σ_e w starts / Σ_e w eligible quarters`` (per quarter,
  stated per year);
* each quarter's join multiplier mean ``m_t = Σ_e w G_t / Σ_e w``;
* with ``tail.drivers = "claims"`` or ``"both"``, the claim counts' Esscher parameter
  (:func:`claim_update`).

The pilot's paths are, by default, each path's expected path given its systematic drivers
(``tail.pilot = "conditional_mean"``: every binomial and Poisson count replaced by its mean,
:class:`engine.model.reference.MeanDraws`, vectorised over paths). In a pool of millions
the counts add little to what the drivers decide, so the elite is nearly the one full
simulation would give, at a fraction of the cost; the main run is simulated in full and its
weights make it exact whatever the pilot chose. Tilting claim counts needs the counts, so
that pilot is simulated.

For a shortfall target of systematic drivers the pilot by default (``tail.pilot_stop =
"surrogate"``, engine 0.13.0) keeps no elite: it fits the target to the drivers over all
its paths and runs cross-entropy on that fit (:mod:`engine.run.surrogate`,
:func:`surrogate_rounds`), with a shock start chance for each quarter.

With ``tail.pilot_stop = "extrapolate"`` (the default from engine 0.11.0 to 0.12.1) the
pilot stops after its first round: for a shortfall target of systematic drivers the first
round's elite (the pilot's top 10 %) lies short of the target's tail, and instead of a
second round its shifts are scaled to the target's level as a normal tail's are
(:func:`tail_ratio`, :func:`extrapolated`). The pilot's paths are expected paths given their
drivers, not draws of the model, so they cannot enter the estimate: the saving is to need
one round of them (measured in ``make bench``, ``tail``).

These are the exact cross-entropy updates for the families of :mod:`engine.model.tilt`
(normal mean, Bernoulli probability, gamma scale at a fixed shape). A round's elite is the
paths above ``γ = min(VaR_level, the pilot's top PILOT_ELITE share)``: while the tail is rarer
than the elite share, each round moves the drivers toward it (multi-level CE). For ruin the
paths are ranked by how near they came (:func:`target_values`), so that a ruin rarer than
the elite share is approached the same way. The tilt
chosen is stored in the results file (``tail_tilt``) and is a pure function of the seed,
so a resumed run chooses it again, bit for bit.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from engine.analysis import weighted as W
from engine.model.systematic import incidence_levels, join_multipliers
from engine.model.tilt import CLAIM_STATS_KEY, Tilt
from engine.random import streams

PILOT_INDEX = 2**32 - 1        # the pilot's seed: scenario_seed(seed, PILOT_INDEX), a member
                               # index no sweep reaches, so its paths are the pilot's own
PILOT_ELITE = 0.10             # the share of pilot paths kept in a round (Rubinstein–Kroese)
ROUNDS = 3                     # at most; a round whose elite is the target's tail ends it
SCREEN_SE = 2.0                # a component's elite mean must be this many s.e. off
MIN_ELITE = 10                 # fewer elite paths than this: the pilot cannot choose a tilt
SHIFT_LIMIT = 8.0              # the schema's range for shifts
MEAN_LIMIT = 20.0
CLAIM_TILT_LIMIT = 10.0        # the schema's range for tail.claim_tilt
SHOCK_WEIGHT_LIMIT = 20.0      # judgement: a quarter's start chance is tilted to no less
                               # than the model's / 20, so a start weighs at most 20
ELITE_PILOT_PATHS = 2000       # tail.pilot_paths by default where the pilot keeps an elite
SURROGATE_PILOT_PATHS = 200    # judgement: five paths for each of the surrogate's (about 40
                               # for the default scenario's four years) terms
PILOT_BLOCK = 100              # the surrogate's pilot paths are computed this many at a time
                               # (the expected paths' arrays then stay in cache: 6 against
                               # 8.5 ms a path at 500 at once, on two cores)


def pilot_seed(seed: int) -> int:
    return streams.scenario_seed(seed, PILOT_INDEX)


def target_values(out: dict[str, np.ndarray], target: str, year: int,
                  horizon: int | None) -> np.ndarray:
    """The pilot's per-path value of the target: the shortfall of projection ``year``
    (yuan), or for ruin by ``horizon`` quarters how near the path came to it: the largest
    solvency gap, or (no gap) minus the smallest reserve (yuan; ruin ⟺ > 0). The second
    ranks paths that were not ruined, so a rare ruin is approached level by level."""
    if target == "shortfall":
        return out["shortfall"][:, 4 * (year - 1):4 * year].sum(axis=1)
    stop = horizon or out["solvency_gap"].shape[1]
    gap, reserve = out["solvency_gap"][:, :stop], out["reserve"][:, :stop]
    return np.where(gap > 0, gap, -reserve).max(axis=1)


def elite_paths(x: np.ndarray, w: np.ndarray, target: str, level: float
                ) -> tuple[float, np.ndarray, bool]:
    """A round's threshold, elite and whether the elite is the target's own tail (module
    notes): the paths past ``γ``, the lesser of the target (VaR at ``level``; ruin: a value
    above 0) and the pilot's top :data:`PILOT_ELITE` share."""
    # Not a reported figure but a step of the pilot's search, interpolated: the lower rule
    # would change which paths are elite, so the tilts chosen and every tilted run's numbers
    # (the one exception to engine.analysis.weighted.quantile).
    top = float(np.quantile(x, 1.0 - PILOT_ELITE))  # pilot-threshold
    if target == "shortfall":
        at_level = W.var(x, level, w)
        gamma = min(at_level, top)
        return gamma, (x >= gamma) & (x > 0), gamma >= at_level
    if top > 0:
        return 0.0, x > 0, True
    return top, x >= top, False


def _drivers(platform, seed: int, paths: np.ndarray) -> dict[str, np.ndarray]:
    """The systematic drivers the pilot's paths drew: the platform's, drawn alike in every
    plan (its first plan's settings)."""
    first = platform.plans[0]
    drivers: dict[str, np.ndarray] = {}
    incidence_levels(first.systematic, seed if first.systematic_seed is None
                     else first.systematic_seed, paths, first.year_of_quarter, first.tilt,
                     drivers, first.fixed_drivers)
    drivers["join"] = join_multipliers(first.join_dispersion, first.quarters, first.tilt,
                                       seed, paths, first.fixed_drivers)[0]
    return drivers


def _update(tilt: Tilt, drivers: dict, w: np.ndarray, elite: np.ndarray, first,
            by_quarter: bool = False) -> Tilt:
    """One cross-entropy step (module notes) over the draws the tilt applies to; with
    ``by_quarter``, a shock start chance for each quarter (:func:`_shock_by_quarter`)."""
    we = w[elite]
    total = float(we.sum())
    changes = {}
    quarters = tilt.quarters or first.quarters
    years = int(first.year_of_quarter[quarters - 1]) + 1      # calendar years it touches
    n_elite = total * total / float(we @ we)     # the elite's effective size

    def screened(means, model_mean: float, model_sd: float) -> np.ndarray:
        # A component whose elite mean is within 2 s.e. of the model's is not a driver of
        # this tail: tilting it would only add to the weights' variance.
        means = np.asarray(means, dtype=float)
        keep = np.abs(means - model_mean) > SCREEN_SE * model_sd / np.sqrt(n_elite)
        return np.where(keep, means, model_mean)

    if "level" in drivers:
        # one shift per year the tilt reaches (the exact update for independent normals)
        level = drivers["level"][elite][:, :years]
        changes["level_shift"] = tuple(float(x) for x in np.clip(
            screened(we @ level / total, 0.0, 1.0), -SHIFT_LIMIT, SHIFT_LIMIT))
    if "trend" in drivers:
        changes["trend_shift"] = float(np.clip(
            screened(we @ drivers["trend"][elite] / total, 0.0, 1.0), -SHIFT_LIMIT,
            SHIFT_LIMIT))
    if "shock_start" in drivers:
        changes["shock_probability_per_year"] = (
            _shock_by_quarter(drivers, we, elite, quarters, n_elite, first) if by_quarter
            else _shock_chance(drivers, we, elite, quarters, n_elite, first))
    if first.join_dispersion >= 1e-12:
        # one mean per quarter the tilt reaches (measured: one per year, shared by its
        # quarters, tilted less where the tail needs it and reduced the variance less)
        changes["join_multiplier_mean"] = tuple(float(x) for x in np.clip(
            screened(we @ drivers["join"][elite][:, :quarters] / total, 1.0,
                     np.sqrt(first.join_dispersion)), 1.0 / MEAN_LIMIT, MEAN_LIMIT))
    return dataclasses.replace(tilt, **changes)


def _shock_chance(drivers, we, elite, quarters, n_elite, first) -> float | None:
    """The elite's start chance per year over the tilted quarters, or None (the model's)
    unless it differs from the model's by more than 2 binomial s.e."""
    total = float(we.sum())
    starts = we @ drivers["shock_start"][elite][:, :quarters].sum(axis=1)
    eligible = we @ drivers["shock_eligible"][elite][:, :quarters].sum(axis=1)
    q = float(np.clip(starts / eligible, 1e-4, 0.5)) if eligible > 0 else None
    q_model = 1.0 - (1.0 - first.systematic.shock_probability_per_year) ** 0.25
    n_quarters = eligible / total * n_elite if eligible > 0 else 0.0
    if q is not None and abs(q - q_model) > SCREEN_SE * np.sqrt(
            q_model * (1.0 - q_model) / max(n_quarters, 1.0)):
        return 1.0 - (1.0 - q) ** 4
    return None


def _shock_by_quarter(drivers, we, elite, quarters, n_elite, first
                      ) -> tuple[float, ...] | None:
    """The elite's start chance in each tilted quarter, stated per year; the model's where
    it is within 2 binomial s.e. of it, and at least the model's over
    :data:`SHOCK_WEIGHT_LIMIT` (so a start the elite never saw weighs at most that much)."""
    per_year = first.systematic.shock_probability_per_year
    q_model = 1.0 - (1.0 - per_year) ** 0.25
    total = float(we.sum())
    starts = we @ drivers["shock_start"][elite][:, :quarters]
    eligible = we @ drivers["shock_eligible"][elite][:, :quarters]
    q = np.clip(starts / np.maximum(eligible, 1e-300), q_model / SHOCK_WEIGHT_LIMIT, 0.5)
    n_quarters = eligible / total * n_elite
    moved = (eligible > 0) & (np.abs(q - q_model) > SCREEN_SE * np.sqrt(
        q_model * (1.0 - q_model) / np.maximum(n_quarters, 1.0)))
    if not moved.any():
        return None
    # the model's own figure where not moved: Tilt.shock_start_at then gives its very bits
    return tuple(float(1.0 - (1.0 - v) ** 4) if m else float(per_year)
                 for v, m in zip(q, moved, strict=True))


def claim_update(theta: float, stats: np.ndarray, w: np.ndarray, elite: np.ndarray) -> float:
    """One cross-entropy step for the claim counts' Esscher parameter (module notes).

    With ``T`` a path's tilted claims' aid, ``A'`` its expectation and ``A''`` its variance
    under the tilt ``θ`` it was drawn with (units of 100,000 yuan;
    :data:`engine.model.tilt.CLAIM_STATS`), the elite's log-likelihood ``Σ_e w (θ T −
    A(θ))`` is largest where ``Σ_e w T = Σ_e w A'(θ*)``. For rare claims ``A'`` grows as
    ``e^{θ b̄}`` with ``b̄ = A''/A'`` (the claims' aid-weighted benefit), which gives
    ``θ* = θ + log(Σ w T / Σ w A') Σ w A' / Σ w A''``: Newton's step to first order, and
    exact for one benefit when claims are rare.
    """
    we = w[elite]
    aid, mean, variance = (float(we @ stats[elite, j]) for j in (1, 2, 3))
    if aid <= 0.0 or mean <= 0.0 or variance <= 0.0:
        return theta
    step = np.log(aid / mean) * mean / variance
    return float(np.clip(theta + step, -CLAIM_TILT_LIMIT, CLAIM_TILT_LIMIT))


def pilot_mode(tail) -> str:
    """``"conditional_mean"`` or ``"simulated"``: ``tail.pilot``, or by default the
    conditional mean when only systematic drivers are tilted (module notes)."""
    if tail.pilot is not None:
        return tail.pilot
    return "conditional_mean" if tail.drivers == "systematic" else "simulated"


def pilot_inputs(platform, quarters: int | None):
    """The run's inputs (:class:`engine.run.plans.PlatformInputs`) stopped at the end of the
    target's period: later quarters cannot move the target, and the pilot's paths cost what
    that period costs."""
    import dataclasses

    from engine.model.inputs import first_quarters

    if quarters is None:
        return platform
    return dataclasses.replace(platform, plans=tuple(first_quarters(p, quarters)
                                                     for p in platform.plans))


def choose_tilt(run_inputs_for, seed: int, tail, backend: str = "numba"
                ) -> tuple[Tilt, dict]:
    """The tilt for ``tail`` (the scenario's ``[tail]`` table): by the surrogate
    (:func:`surrogates`; module notes), else by up to :data:`ROUNDS` rounds of
    cross-entropy on :func:`pilot_paths_of` pilot paths each, stopping after the first
    round whose elite is the target's own tail; ``run_inputs_for(tilt)`` gives the
    inputs to simulate under a tilt. Returns the tilt and a record of the rounds.

    Raises
    ------
    ValueError
        When a round's elite has fewer than :data:`MIN_ELITE` paths with a positive target
        (nothing in the pilot comes near the tail; more pilot paths are needed).
    """
    from engine.run.plans import simulate_plans
    from engine.run.simulate import CONDITIONAL_MEAN

    seed_p = pilot_seed(seed)
    n = pilot_paths_of(tail)
    if pilot_mode(tail) == CONDITIONAL_MEAN:
        backend = CONDITIONAL_MEAN
    paths = np.arange(n, dtype=np.int64)
    tilt = Tilt.of(tail)
    record = []
    if surrogates(tail):
        tilt = _surrogate_pilot(run_inputs_for, seed_p, tail, n, backend, record)
    for r in range(0 if surrogates(tail) else ROUNDS):
        inputs = pilot_inputs(run_inputs_for(tilt), tilt.quarters)
        out = simulate_plans(inputs, seed_p, 0, n, backend)
        w = out["weight"]
        x = target_values(out, tail.target, tail.year, tail.horizon_quarters)
        gamma, elite, reached = elite_paths(x, w, tail.target, tail.level)
        if elite.sum() < MIN_ELITE:
            raise ValueError(f"round {r + 1}: {int(elite.sum())} of {n} pilot "
                             "paths reach the target's tail")
        first = inputs.plans[0]
        if tail.drivers != "claims":
            tilt = _update(tilt, _drivers(inputs, seed_p, paths), w, elite, first)
        if tail.drivers != "systematic":
            tilt = dataclasses.replace(tilt, claim_tilt=claim_update(
                tilt.claim_tilt, out[CLAIM_STATS_KEY], w, elite))
        record.append({"round": r + 1, "threshold": float(gamma),
                       "elite_paths": int(elite.sum()),
                       "effective_sample_size": W.effective_sample_size(w),
                       "reached_target": reached,
                       "tilt": dataclasses.asdict(tilt)})
        if reached:
            # the elite was the target's own tail: this update is the cross-entropy tilt
            # for the target (Rubinstein & Kroese §3.4), and another round would only
            # re-estimate it from as many paths
            break
        if r == 0 and extrapolates(tail):
            kappa = tail_ratio(float(elite.sum()) / n, tail.level)
            tilt = extrapolated(tilt, kappa)
            record[-1].update({"extrapolated_by": kappa, "tilt": dataclasses.asdict(tilt)})
            break
    return tilt, {"target": tail.target, "level": tail.level, "year": tail.year,
                  "horizon_quarters": tail.horizon_quarters,
                  "pilot_paths": n, "pilot": pilot_mode(tail),
                  "pilot_stop": ("surrogate" if surrogates(tail) else "extrapolate"
                                 if extrapolates(tail) else "target"),
                  "pilot_seed": seed_p, "rounds": record}


def _surrogate_pilot(run_inputs_for, seed_p: int, tail, n: int, backend: str, record: list
                     ) -> Tilt:
    """The tilt by cross-entropy on the pilot's surrogate (:mod:`engine.run.surrogate`):
    ``n`` pilot paths under the design's tilt fit the surrogate, whose rounds (drivers
    only, a fixed set of :data:`~engine.run.surrogate.SURROGATE_PATHS`) are recorded."""
    from engine.run import surrogate as S
    from engine.run.plans import simulate_plans

    tilt = Tilt.of(tail)
    inputs = pilot_inputs(run_inputs_for(S.design_tilt(tilt, run_inputs_for(tilt).plans[0])),
                          tilt.quarters)
    x = np.concatenate([target_values(simulate_plans(
        inputs, seed_p, start, min(PILOT_BLOCK, n - start), backend),
        tail.target, tail.year, tail.horizon_quarters)
        for start in range(0, n, PILOT_BLOCK)])
    first = inputs.plans[0]
    drivers = _drivers(inputs, seed_p, np.arange(n, dtype=np.int64))
    model = S.fit(x, S.features(drivers, first, tilt.quarters))
    record.append({"round": 0, "surrogate_r_squared": model.r_squared,
                   "surrogate_terms": model.kept})
    first = pilot_inputs(run_inputs_for(tilt), tilt.quarters).plans[0]
    return surrogate_rounds(first, tilt, model, seed_p, tail.level, record)


def surrogate_rounds(first, tilt: Tilt, model, seed_p: int, level: float, record: list
                     ) -> Tilt:
    """Cross-entropy on ``model`` (a :class:`~engine.run.surrogate.Surrogate`) from
    ``tilt``: each round draws the drivers of the surrogate's paths under the current tilt
    (``first``, a plan's inputs, names the drivers' laws), keeps those whose ``x̂`` passes
    the lesser of VaR at ``level`` and the top 10 %, and takes the exact update, with a
    shock chance per quarter; it stops after the first round whose elite is the target's
    own tail."""
    from engine.run import surrogate as S

    paths = np.arange(S.SURROGATE_FIRST_PATH, S.SURROGATE_FIRST_PATH + S.SURROGATE_PATHS,
                      dtype=np.int64)
    for r in range(S.SURROGATE_ROUNDS):
        drivers, w = S.drivers_with_weights(dataclasses.replace(first, tilt=tilt), seed_p,
                                            paths)
        gamma, elite, reached = elite_paths(model.predict(drivers, first, tilt.quarters), w,
                                            "shortfall", level)
        if elite.sum() < MIN_ELITE:
            raise ValueError(f"surrogate round {r + 1}: {int(elite.sum())} of "
                             f"{S.SURROGATE_PATHS} draws reach the target's tail")
        tilt = _update(tilt, drivers, w, elite, first, by_quarter=True)
        record.append({"round": r + 1, "surrogate_threshold": float(gamma),
                       "elite_paths": int(elite.sum()), "reached_target": reached,
                       "tilt": dataclasses.asdict(tilt)})
        if reached:
            break
    return tilt


def pilot_paths_of(tail) -> int:
    """``tail.pilot_paths``, or by default :data:`SURROGATE_PILOT_PATHS` for the surrogate
    and :data:`ELITE_PILOT_PATHS` for a pilot of elites."""
    if tail.pilot_paths is not None:
        return tail.pilot_paths
    return SURROGATE_PILOT_PATHS if surrogates(tail) else ELITE_PILOT_PATHS


def surrogates(tail) -> bool:
    """Whether the pilot fits a surrogate (``tail.pilot_stop = "surrogate"``,
    :mod:`engine.run.surrogate`): a shortfall target, only systematic drivers tilted, from
    the model's law (no shift given as a starting point)."""
    return (tail.drivers == "systematic" and tail.target == "shortfall"
            and tail.pilot_stop == "surrogate" and Tilt.of(tail).none)


def extrapolates(tail) -> bool:
    """Whether the pilot stops after its first round with an extrapolated tilt
    (``tail.pilot_stop = "extrapolate"``): a shortfall target, only systematic drivers
    tilted, from the model's law (no shift given as a starting point)."""
    return (tail.drivers == "systematic" and tail.target == "shortfall"
            and tail.pilot_stop == "extrapolate" and Tilt.of(tail).none)


def tail_ratio(elite_share: float, level: float) -> float:
    """``κ = λ(z_level) / λ(z_elite)``: how much further the mean of a standard normal's tail
    beyond its ``level`` quantile lies than beyond the elite's, ``λ(z) = φ(z) / (1 − Φ(z))``
    (the inverse Mills ratio), ``z_elite = Φ⁻¹(1 − elite_share)``.

    For a target that is a linear function ``a·ε`` of standard normal drivers, the elite
    ``{a·ε ≥ γ}``'s mean is ``a/|a| λ(z_elite)`` and the cross-entropy shift for the tail
    beyond VaR at ``level`` is ``a/|a| λ(z_level)``: scaling the first by κ gives the second
    without a second round. Where the target is not linear the weights still make every
    estimate exact; only the variance reduction depends on it (``make bench``, ``tail``)."""
    from scipy import stats

    def mills(z: float) -> float:
        return float(stats.norm.pdf(z) / stats.norm.sf(z))

    return mills(stats.norm.ppf(level)) / mills(stats.norm.isf(elite_share))


def extrapolated(tilt: Tilt, kappa: float) -> Tilt:
    """The first round's tilt scaled to the target (:func:`tail_ratio`): normal shifts by
    κ, each join multiplier's mean ``1 + κ (m − 1)`` (a gamma of mean 1 near a normal), the
    shock chance as the elite's."""
    def scaled(x, centre: float, lo: float, hi: float):
        if isinstance(x, tuple):
            return tuple(float(np.clip(centre + kappa * (v - centre), lo, hi)) for v in x)
        return float(np.clip(centre + kappa * (x - centre), lo, hi))

    return dataclasses.replace(
        tilt, level_shift=scaled(tilt.level_shift, 0.0, -SHIFT_LIMIT, SHIFT_LIMIT),
        trend_shift=scaled(tilt.trend_shift, 0.0, -SHIFT_LIMIT, SHIFT_LIMIT),
        join_multiplier_mean=scaled(tilt.join_multiplier_mean, 1.0, 1.0 / MEAN_LIMIT,
                                    MEAN_LIMIT))


def describe(record: dict) -> str:
    return json.dumps(record)

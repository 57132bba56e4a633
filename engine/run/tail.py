"""Choosing a run's tilt: a pilot run and the cross-entropy method (issue 14).

``[tail] target`` names what the run is for: ``"shortfall"`` (the shortfall of projection
year ``tail.year``, its VaR and TVaR at ``tail.level``) or ``"ruin"`` (a first gap by
``tail.horizon_quarters``). Before the main run, :func:`choose_tilt` runs ``pilot_paths``
paths on a seed of their own (so the main run's paths stay untouched), keeps the paths that
reach the target's tail (the elite), and moves each systematic driver's tilt to the elite's
weighted mean (Rubinstein & Kroese, *The Cross-Entropy Method*, 2004, §3; for the common
factors, Glasserman & Li 2005):

* each year's level innovation shift ``μ_y = Σ_e w ε_y / Σ_e w``;
* the trend error's shift ``μ_τ = Σ_e w ε_τ / Σ_e w``;
* the shock start chance: ``q' = Σ_e w starts / Σ_e w eligible quarters`` (per quarter,
  stated per year);
* each quarter's join multiplier mean ``m_t = Σ_e w G_t / Σ_e w``.

These are the exact cross-entropy updates for the families of :mod:`engine.model.tilt`
(normal mean, Bernoulli probability, gamma scale at a fixed shape). A round's elite is the
paths above ``γ = min(VaR_level, the pilot's top PILOT_ELITE share)``: while the tail is rarer
than the elite share, each round moves the drivers toward it (multi-level CE). The tilt
chosen is stored in the results file (``tail_tilt``) and is a pure function of the seed,
so a resumed run chooses it again, bit for bit.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from engine.analysis import weighted as W
from engine.model.systematic import incidence_levels
from engine.model.tilt import Tilt
from engine.random import streams

PILOT_INDEX = 2**32 - 1        # the pilot's seed: scenario_seed(seed, PILOT_INDEX), a member
                               # index no sweep reaches, so its paths are the pilot's own
PILOT_ELITE = 0.10             # the share of pilot paths kept in a round (Rubinstein–Kroese)
ROUNDS = 3
SCREEN_SE = 2.0                # a component's elite mean must be this many s.e. off
MIN_ELITE = 10                 # fewer elite paths than this: the pilot cannot choose a tilt
SHIFT_LIMIT = 8.0              # the schema's range for shifts
MEAN_LIMIT = 20.0


def pilot_seed(seed: int) -> int:
    return streams.scenario_seed(seed, PILOT_INDEX)


def target_values(out: dict[str, np.ndarray], target: str, year: int,
                  horizon: int | None) -> np.ndarray:
    """The pilot's per-path value of the target: the shortfall of projection ``year``
    (yuan), or 1 for a first gap by ``horizon`` quarters (0 otherwise)."""
    if target == "shortfall":
        return out["shortfall"][:, 4 * (year - 1):4 * year].sum(axis=1)
    gap = out["solvency_gap"][:, :horizon] if horizon else out["solvency_gap"]
    return np.any(gap > 0, axis=1).astype(float)


def _drivers(inputs, seed: int, paths: np.ndarray) -> dict[str, np.ndarray]:
    from engine.run.simulate import join_multipliers_weighted

    first = inputs.plans[0] if hasattr(inputs, "plans") else inputs
    drivers: dict[str, np.ndarray] = {}
    incidence_levels(first.systematic, seed if first.systematic_seed is None
                     else first.systematic_seed, paths, first.year_of_quarter, first.tilt,
                     drivers)
    drivers["join"] = join_multipliers_weighted(first, seed, paths)[0]
    return drivers


def _update(tilt: Tilt, drivers: dict, w: np.ndarray, elite: np.ndarray, first) -> Tilt:
    """One cross-entropy step (module notes) over the draws the tilt applies to."""
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
        starts = we @ drivers["shock_start"][elite][:, :quarters].sum(axis=1)
        eligible = we @ drivers["shock_eligible"][elite][:, :quarters].sum(axis=1)
        q = float(np.clip(starts / eligible, 1e-4, 0.5)) if eligible > 0 else None
        if q is not None:
            changes["shock_probability_per_year"] = 1.0 - (1.0 - q) ** 4
    if first.join_dispersion >= 1e-12:
        # one mean per quarter the tilt reaches
        changes["join_multiplier_mean"] = tuple(float(x) for x in np.clip(
            screened(we @ drivers["join"][elite][:, :quarters] / total, 1.0,
                     np.sqrt(first.join_dispersion)), 1.0 / MEAN_LIMIT, MEAN_LIMIT))
    return dataclasses.replace(tilt, **changes)


def choose_tilt(run_inputs_for, seed: int, tail, backend: str = "numba"
                ) -> tuple[Tilt, dict]:
    """The tilt for ``tail`` (the scenario's ``[tail]`` table) by :data:`ROUNDS` rounds of
    cross-entropy on ``tail.pilot_paths`` pilot paths; ``run_inputs_for(tilt)`` gives the
    inputs to simulate under a tilt. Returns the tilt and a record of the rounds.

    Raises
    ------
    ValueError
        When a round's elite has fewer than :data:`MIN_ELITE` paths with a positive target
        (nothing in the pilot comes near the tail; more pilot paths are needed).
    """
    from engine.run.simulate import simulate_paths

    seed_p = pilot_seed(seed)
    paths = np.arange(tail.pilot_paths, dtype=np.int64)
    tilt = Tilt.of(tail)
    record = []
    for r in range(ROUNDS):
        inputs = run_inputs_for(tilt)
        out = simulate_paths(inputs, seed_p, 0, tail.pilot_paths, backend)
        w = out["weight"]
        x = target_values(out, tail.target, tail.year, tail.horizon_quarters)
        if tail.target == "shortfall":
            gamma = min(W.var(x, tail.level, w), float(np.quantile(x, 1.0 - PILOT_ELITE)))
            elite = (x >= gamma) & (x > 0)
        else:
            gamma = 1.0
            elite = x > 0
        if elite.sum() < MIN_ELITE:
            raise ValueError(f"round {r + 1}: {int(elite.sum())} of {tail.pilot_paths} pilot "
                             "paths reach the target's tail")
        first = inputs.plans[0] if hasattr(inputs, "plans") else inputs
        tilt = _update(tilt, _drivers(inputs, seed_p, paths), w, elite, first)
        record.append({"round": r + 1, "threshold": float(gamma),
                       "elite_paths": int(elite.sum()),
                       "effective_sample_size": W.effective_sample_size(w),
                       "tilt": dataclasses.asdict(tilt)})
    return tilt, {"target": tail.target, "level": tail.level, "year": tail.year,
                  "horizon_quarters": tail.horizon_quarters,
                  "pilot_paths": tail.pilot_paths, "pilot_seed": seed_p, "rounds": record}


def describe(record: dict) -> str:
    return json.dumps(record)

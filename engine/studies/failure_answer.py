"""The most likely way to fail as a reverse stress test's answer: the search
(:mod:`engine.studies.likely_failure`) on the run's scenario, the drivers in words, and the
scenario file that replays it (:mod:`engine.studies.replay`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.analysis.events import Event
from engine.studies.likely_failure import (
    LikelyFailure,
    most_likely_failure,
    replay_scores,
    values_of,
)
from engine.studies.replay import ScenarioNotFound, replay_text, run_scenario

REPLAY_PATHS = 200       # paths of the replay file (its event should be on most of them)
MATERIAL_SD = 0.5        # a driver this far from its expectation is named in the words
WORDS_DRIVERS = 4        # at most this many named


def likely_failure_answer(ds, event: Event, index: int, results, scenario_file,
                          out_dir: Path | None, probability) -> dict:
    """``likely_failure`` (or ``likely_failure_note`` saying why not), ``replay`` and the
    replay file's text (``_replay_text``) for scenario ``index`` of the file."""
    from engine.run.plans import build_run_inputs

    if not [v for v in ds.variables if str(v).startswith("driver_")]:
        return {"likely_failure_note": "the file stores no systematic drivers to search"}
    try:
        scenario_set, path = run_scenario(ds, results or ".", scenario_file)
    except ScenarioNotFound as exc:
        return {"likely_failure_note": str(exc)}
    platform = build_run_inputs(scenario_set.scenarios[index])
    failure = most_likely_failure(platform, event)
    answer = {"likely_failure": _failure_dict(failure, event, probability, platform)}
    if not failure.found or out_dir is None:
        return answer
    scores, factor, margin, roomy = replay_scores(platform, event, failure)
    values = _held_values(failure, scores, platform)
    room = ("so that the expected path has the event with room to spare" if roomy else
            "WARNING: even there the expected path's margin is short of 5 % of its scale, "
            "so fewer than half the paths may have the event")
    header = [f"Replays {event.describe()} on {scenario_set.scenarios[index].name}: the "
              "systematic drivers of the most likely way to fail",
              f"(mutualsim reverse-stress, a local design point {failure.distance:.2f} s.d. "
              f"from the drivers' medians), held on every path at {factor:g} × that point,",
              f"{room} (margin {margin:,.4g}). Shock events are held at none, as in the "
              "search. The counts stay random; later drivers are drawn as usual.",
              f"Run from: {path}", "",
              "  mutualsim run reverse_stress.toml --out replay.h5"]
    text = replay_text(ds, scenario_set, path, index, out_dir, values, header, REPLAY_PATHS)
    answer["replay"] = {"file": "reverse_stress.toml", "factor": factor, "margin": margin,
                        "room_reached": roomy, "paths": REPLAY_PATHS, "drivers": values}
    answer["_replay_text"] = text
    return answer


def _held_values(failure: LikelyFailure, scores: np.ndarray, platform) -> dict:
    """The ``[drivers]`` table for scores ``scores`` of the failure's components."""
    values = values_of(failure.components, scores, platform.plans[0].join_dispersion)
    out: dict = {"level_innovations": {}, "join_multipliers": {}, "trend": None,
                 "shock_starts": []}
    for c, x in zip(failure.components, values, strict=True):
        if c.driver == "driver_level_innovation":
            out["level_innovations"][c.label] = round(float(x), 6)
        elif c.driver == "driver_trend":
            out["trend"] = round(float(x), 6)
        else:
            out["join_multipliers"][c.label] = round(float(x), 6)
    fixed = platform.plans[0].fixed_drivers
    labels = platform.plans[0].quarter_labels
    if fixed.shock_starts is not None:
        out["shock_starts"] = [labels[t] for t in fixed.shock_starts]
    if platform.plans[0].systematic.shock_probability_per_year == 0.0 or \
            platform.plans[0].systematic.shock_size == 0.0:
        del out["shock_starts"]          # nothing to hold: the scenario draws no shocks
    return out


def _failure_dict(failure: LikelyFailure, event: Event, probability, platform) -> dict:
    drivers = sorted(({"driver": c.driver, "component": c.label, "score_sd": float(u),
                       "value": float(v)}
                      for c, u, v in zip(failure.components, failure.scores, failure.values,
                                         strict=True)),
                     key=lambda d: -abs(d["score_sd"]))
    return {"found": failure.found, "on_expected_path": failure.on_expected_path,
            "distance_sd": failure.distance, "form_probability": failure.form_probability,
            "form_one_in": 1.0 / failure.form_probability if failure.form_probability > 1e-300
            else None, "margin": failure.margin, "message": failure.message,
            "drivers": drivers,
            "incidence_vs_expected_by_year": _yearly_levels(failure, platform),
            "in_words": in_words(failure, event, probability, drivers, platform)}


def _yearly_levels(failure: LikelyFailure, platform) -> dict[str, float]:
    """The incidence level at the design point relative to its expectation (1), averaged
    over each calendar year's quarters, less 1."""
    labels = platform.plans[0].quarter_labels[:len(failure.levels)]
    out: dict[str, list[float]] = {}
    for label, level in zip(labels, failure.levels, strict=True):
        out.setdefault(label[:4], []).append(float(level))
    return {year: float(np.mean(v)) - 1.0 for year, v in out.items()}


def in_words(failure: LikelyFailure, event: Event, probability, drivers: list[dict],
             platform) -> str:
    """One or two sentences for a reader: what the drivers must do, and how likely that
    is by the first-order estimate beside the simulated probability."""
    text = _words(failure, event, probability, drivers, platform)
    return text[0].upper() + text[1:]


def _words(failure: LikelyFailure, event: Event, probability, drivers: list[dict],
           platform) -> str:
    if not failure.found:
        return f"the search found no design point for {event.describe()}: {failure.message}."
    if failure.on_expected_path:
        return (f"{event.describe()} happens on the expected path with every driver at its "
                "median: no stress is needed.")
    clauses = []
    years = _yearly_levels(failure, platform)
    level_years = sorted({d["component"] for d in drivers[:WORDS_DRIVERS]
                          if d["driver"] in ("driver_level_innovation", "driver_trend")
                          and abs(d["score_sd"]) >= MATERIAL_SD})
    for year in level_years if level_years != [""] else sorted(years):
        if year in years:
            clauses.append(f"the incidence level runs {100 * years[year]:+.0f} % against its "
                           f"expectation in {year}")
    for d in drivers[:WORDS_DRIVERS]:
        if d["driver"] == "driver_join_multiplier" and abs(d["score_sd"]) >= MATERIAL_SD:
            clauses.append(f"joins run at {100 * d['value']:.0f} % of their expectation in "
                           f"{d['component']}")
    what = "; ".join(clauses) or "its drivers move slightly from their expectation"
    p = probability.estimate
    simulated = (f"the simulated probability is {100 * p:.3g} % (s.e. "
                 f"{100 * probability.standard_error:.2g} %)" if p > 0 else
                 "no simulated path has it")
    return (f"{event.describe()} happens on the expected path if {what}. The most likely "
            f"such drivers (a local design point) lie {failure.distance:.2f} standard "
            f"deviations from their medians: {_one_in(failure.form_probability)} by the "
            f"first-order estimate Φ(−β), a scale of how extreme they are; {simulated}.")


def _one_in(p: float) -> str:
    return f"about 1 in {1 / p:,.0f}" if p > 1e-300 else "below 1 in 10^300"

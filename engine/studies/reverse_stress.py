"""``mutualsim reverse-stress``: an event's probability, the drivers it comes from, and the
scenarios of a set that carry it (:mod:`engine.analysis.reverse_stress`), as text for the
terminal and as files (``reverse_stress.json``, ``driver_shifts.csv``, ``scenarios.csv``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from engine.analysis import reverse_stress as R
from engine.analysis.events import Event, happens_by_scenario, parse_event
from engine.analysis.sensitivity import swept_keys
from engine.report.reverse_stress_page import probability_text

TOP_SHIFTS = 12        # driver components printed (every one is in the CSV)
TOP_SCENARIOS = 10     # scenarios of a set printed (every one is in the CSV)
NO_DRIVERS = ("this file stores no systematic drivers (written before engine 0.10.0, or its "
              "scenarios draw none: their paths then differ only by the counts' own, "
              "diversifiable, randomness), so it cannot say which drivers the event comes "
              "from")


def _pick_scenario(ds, name: str | None, probs: list[R.Probability]) -> int:
    names = [str(s) for s in ds["scenario"].values]
    if name is None:
        return 0
    if name not in names:
        raise R.ReverseStressError("--scenario", "not a scenario of the file", name)
    return names.index(name)


def analyse(ds, event_text: str, scenario_name: str | None = None, *,
            results: str | Path | None = None, scenario_file: str | Path | None = None,
            out_dir: Path | None = None, search: bool = True) -> dict:
    """The reverse stress test of ``event_text`` on a results file, as one JSON-able dict;
    with ``search``, also the most likely way to fail and its replay scenario
    (:mod:`engine.studies.likely_failure`), where the run's scenario file can be read.

    Raises
    ------
    OptionError
        For a bad event (``--event``) or scenario name (``--scenario``).
    """
    event = parse_event(event_text, [str(q) for q in ds["quarter"].values])
    happens = happens_by_scenario(ds, event)
    probs = [R.probability(happens[s], R.weights_of(ds, s)) for s in range(len(happens))]
    chosen = _pick_scenario(ds, scenario_name, probs)
    names = [str(s) for s in ds["scenario"].values]
    drivers = R.stored_drivers(ds)
    shifts = R.driver_shifts(ds, event, chosen, happens[chosen]) if drivers else []
    answer = {
        "event": event.text, "event_described": event.describe(), "kind": event.kind,
        "scenario": names[chosen], "weighted": bool(_weighted(ds)),
        "probability": _probability_dict(probs[chosen]),
        "tail_hint": event.tail_hint() if probs[chosen].paths_with_event == 0 else None,
        "drivers_stored": drivers,
        "drivers_note": None if drivers else NO_DRIVERS,
        "driver_shifts": [_shift_dict(s) for s in shifts],
        "set": _set_rows(ds, names, probs) if len(names) > 1 else [],
        "_event": event,
    }
    if search:
        from engine.studies.failure_answer import likely_failure_answer

        answer.update(likely_failure_answer(ds, event, chosen, results, scenario_file,
                                            out_dir, probs[chosen]))
    return answer


def _weighted(ds) -> bool:
    # a masked path's weight 0 (paths_used) does not make a plain file a weighted one
    return any(not np.all(R.weights_of(ds, s) == 1.0) for s in range(ds.sizes["scenario"]))


def _probability_dict(p: R.Probability) -> dict:
    return {"estimate": p.estimate, "standard_error": p.standard_error, "paths": p.paths,
            "paths_with_event": p.paths_with_event, "effective_paths": p.effective_paths,
            "upper_95": p.upper_95, "one_in": p.one_in}


def _shift_dict(s: R.DriverShift) -> dict:
    return {"driver": s.driver, "component": s.component, "law_mean": s.law_mean,
            "law_sd": s.law_sd, "mean_given_event": s.mean_given_event,
            "mean_given_event_se": s.standard_error, "shift_sd": s.shift_sd,
            "shift_sd_se": s.shift_se, "within_noise": s.within_noise}


def _set_rows(ds, names: list[str], probs: list[R.Probability]) -> list[dict]:
    """Every scenario of a set with its swept values, probability and share, most likely
    first."""
    shares = R.scenario_shares(probs)
    keys = swept_keys(ds)
    swept = {k: [v.item() if hasattr(v, "item") else v for v in ds[k].values] for k in keys}
    rows = [{"scenario": names[i], **{k: swept[k][i] for k in keys},
             "probability": probs[i].estimate, "probability_se": probs[i].standard_error,
             "share": shares[i]} for i in range(len(names))]
    return sorted(rows, key=lambda r: -r["probability"])


# ------------------------------------------------------------------------------ text

def _percent(x: float) -> str:
    return np.format_float_positional(100 * x, precision=3, fractional=False, trim="-") + " %"


def driver_label(driver: str, component: str) -> str:
    name = driver.removeprefix("driver_").replace("_", " ")
    return f"{name} {component}".strip()


def format_text(result: dict) -> str:
    """The answer for the terminal: every number with its units and basis."""
    lines = [f"event: {result['event_described']}",
             f"scenario {result['scenario']}",
             f"probability: {probability_text(result)}"]
    hint = result["tail_hint"]
    if hint and hint.startswith("[tail]"):
        lines += ["the file cannot say which drivers it comes from; a run aimed at the "
                  "event would add:", *("    " + x for x in hint.splitlines())]
    elif hint:
        lines.append(f"the file cannot say which drivers it comes from; {hint}")
    if result["drivers_note"]:
        lines.append(result["drivers_note"] + ".")
    elif result["driver_shifts"]:
        lines.append("drivers given the event, ranked by how far it moves them (mean over "
                     "the paths with the event less the mean over all paths, in s.d. of the "
                     "driver's law, ± 2 s.e.):")
        for s in result["driver_shifts"][:TOP_SHIFTS]:
            noise = "  (within noise)" if s["within_noise"] else ""
            lines.append(f"  {driver_label(s['driver'], s['component']):<32} "
                         f"{s['shift_sd']:+.2f} ± {2 * s['shift_sd_se']:.2f}{noise}")
        rest = len(result["driver_shifts"]) - TOP_SHIFTS
        if rest > 0:
            lines.append(f"  ... and {rest} more components (driver_shifts.csv)")
        n = len(result["driver_shifts"])
        lines.append(f"  ({n} components tested at 2 s.e.: about {0.05 * n:.1f} of those the "
                     "event does not move would be flagged as moved by chance)")
    lines += _failure_lines(result)
    if result["set"]:
        lines.append(f"the set's {len(result['set'])} scenarios where the event is most "
                     "likely (share: of the set's summed probability, the scenarios taken "
                     "as equally likely):")
        for row in result["set"][:TOP_SCENARIOS]:
            swept = ", ".join(f"{k}={row[k]:.4g}" if isinstance(row[k], float)
                              else f"{k}={row[k]}" for k in row
                              if k not in ("scenario", "probability", "probability_se",
                                           "share"))
            lines.append(f"  {row['scenario']}: {_percent(row['probability'])} "
                         f"(s.e. {_percent(row['probability_se'])}), share "
                         f"{_percent(row['share'])}; {swept}")
    return "\n".join(lines)


def _failure_lines(result: dict) -> list[str]:
    failure = result.get("likely_failure")
    if failure is None:
        note = result.get("likely_failure_note")
        return [f"most likely way to fail: not searched: {note}."] if note else []
    lines = ["most likely way to fail (the drivers nearest their medians whose expected "
             "path has the event; a local design point):", "  " + failure["in_words"]]
    moved = [d for d in failure["drivers"] if abs(d["score_sd"]) >= 0.01] \
        if failure["found"] else []
    for d in moved[:TOP_SHIFTS]:
        lines.append(f"  {driver_label(d['driver'], d['component']):<32} "
                     f"score {d['score_sd']:+.2f} s.d., value {d['value']:.4g}")
    if result.get("replay"):
        lines.append(f"  replayed by {result['replay']['file']} (the drivers at "
                     f"{result['replay']['factor']:g} × the design point)")
    return lines


# ------------------------------------------------------------------------------ files

def write_files(result: dict, out: Path) -> list[Path]:
    """``reverse_stress.json``, ``driver_shifts.csv`` and (a set) ``scenarios.csv``."""
    out.mkdir(parents=True, exist_ok=True)
    data = {k: v for k, v in result.items() if not k.startswith("_")}
    written = [out / "reverse_stress.json"]
    written[0].write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if result["driver_shifts"]:
        written.append(_csv(out / "driver_shifts.csv", result["driver_shifts"]))
    if result["set"]:
        written.append(_csv(out / "scenarios.csv", result["set"]))
    if result.get("_replay_text"):
        written.append(out / "reverse_stress.toml")
        written[-1].write_text(result["_replay_text"], encoding="utf-8")
    return written


def _csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def event_of(result: dict) -> Event:
    return result["_event"]


def report_section(ds, results: str | Path) -> str | None:
    """The report's reverse stress section: ruin by the run's last quarter in the first
    scenario, from the file alone (the drivers given the event; the search of the most
    likely way to fail and its replay file are the command's, which reads the model);
    None for a file without systematic drivers."""
    from engine.report.reverse_stress_page import section

    if not R.stored_drivers(ds):
        return None
    last = str(ds["quarter"].values[-1])
    answer = analyse(ds, f"ruin by {last}", results=results, search=False)
    answer["likely_failure_note"] = ("it reads the model; run mutualsim reverse-stress FILE "
                                     f"--event \"ruin by {last}\" for it, another event or "
                                     "scenario, and the file that replays it")
    return section(answer)


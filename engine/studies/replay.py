"""The scenario a results file was run from, and a scenario file that replays an event by
holding its drivers (``[drivers]``, :class:`engine.model.systematic.FixedDrivers`).

A results file stores its scenario's merged text (``scenario_toml``) and the path it was
read from (``scenario_file``). The model itself (tables by age, durations, plans) is not
rebuilt from the file's resolved values, so a search over the model's expected path reads
the scenario file again: the one named ``--scenario-file``, else the stored path (as given,
then beside the results file), and only if its text is still the one the run used.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import tomli_w

from engine.config.loading import rebase_table_refs
from engine.config.scenario import load_scenario_set
from engine.errors import InputError


class ScenarioNotFound(Exception):
    """Why the run's scenario cannot be read: one sentence for the answer."""


def run_scenario(ds, results: str | Path, scenario_file: str | Path | None = None):
    """``(scenario set, its file)`` the results file was run from (module notes).

    Raises
    ------
    ScenarioNotFound
        Where no readable file holds the run's scenario text.
    """
    stored = str(ds.attrs.get("scenario_file", ""))
    text = str(ds.attrs.get("scenario_toml", ""))
    if scenario_file is not None:
        candidates = [Path(scenario_file)]
    else:
        candidates = [Path(stored), Path(results).resolve().parent / Path(stored).name]
    for path in candidates:
        if not stored and scenario_file is None:
            break
        if not path.is_file():
            continue
        try:
            scenario_set = load_scenario_set(path, force=True)
        except InputError as exc:
            raise ScenarioNotFound(f"the scenario file {path} does not load "
                                   f"({exc.problems[0]})") from None
        if scenario_set.text != text:
            raise ScenarioNotFound(f"the scenario file {path} has changed since the run (its "
                                   "text differs from the one stored in the results)")
        return scenario_set, path
    raise ScenarioNotFound(f"the scenario file the run was made from ({stored or 'unnamed'}) "
                           "is not found; give it with --scenario-file")


def replay_text(ds, scenario_set, scenario_path: Path, index: int, out_dir: Path,
                fixed: dict, header: list[str], paths: int) -> str:
    """The TOML text of a scenario that replays an event: scenario ``index`` of the set
    (its swept values written in), without the set's ``[sweep]`` and ``[tail]``, its table
    paths rewritten relative to ``out_dir``, and ``fixed`` as its ``[drivers]``."""
    raw = tomllib.loads(str(ds.attrs["scenario_toml"]))
    raw.pop("sweep", None)
    raw.pop("tail", None)
    raw.pop("extends", None)
    for key, value in scenario_set.scenarios[index].swept.items():
        table, name = key.split(".", 1)
        raw.setdefault(table, {})[name] = value.item() if hasattr(value, "item") else value
    rebase_table_refs(raw, scenario_path.resolve().parent, out_dir)
    base = scenario_set.scenarios[index]
    raw.setdefault("scenario", {})
    raw["scenario"]["name"] = f"{base.name}_reverse_stress"
    raw["scenario"]["description"] = ("the drivers of the most likely way to fail, held on "
                                      f"every path (replays the event on {base.name})")
    raw["scenario"]["paths"] = int(paths)
    raw["drivers"] = {k: v for k, v in fixed.items() if v is not None and v != {}}
    body = tomli_w.dumps(_plain(raw))
    return "\n".join("# " + line if line else "#" for line in header) + "\n\n" + body


def _plain(value):
    """A document tomli_w writes: numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def relative(path: Path, to_dir: Path) -> str:
    return os.path.relpath(path.resolve(), to_dir.resolve())

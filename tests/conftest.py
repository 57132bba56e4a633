"""Shared helpers: scenarios built in code, written to temporary TOML files."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, settings

from engine.config.scenario import load_scenario_set
from engine.model.inputs import build_inputs

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis profiles, registered once: "default" for make test and CI, "long" for a soak
# (HYPOTHESIS_PROFILE=long); tests set their own example counts under "default".
settings.register_profile("default", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
SCENARIOS = ROOT / "scenarios"

# A small plan: ages 30-34, two durations, everything that could vary switched on modestly.
SMALL = {
    "scenario": {"name": "small", "start": "2020Q1", "quarters": 6, "paths": 20, "seed": 7},
    "population": {"initial_members": 20000, "age_min": 30, "age_max": 34},
    "growth": {"model": "fixed", "series": [3000.0] * 6},
    "incidence": {"selection": [0.5, 1.0]},
    "mortality": {"multiplier": 1.0},
    "lapse": {"base_quarterly": 0.03},
    "benefits": {"waiting_quarters": 1, "amount_by_age": [[30, 34, 100000]]},
    "sharing": {"fee_rate": 0.08},
}


def scenario_dict(**changes) -> dict:
    """``SMALL`` with ``table__key=value`` changes (``None`` deletes the key)."""
    out = copy.deepcopy(SMALL)
    for dotted, value in changes.items():
        table, key = dotted.split("__", 1)
        out.setdefault(table, {})
        if value is None:
            out[table].pop(key, None)
        else:
            out[table][key] = value
    return out


def write_toml(path: Path, data: dict) -> Path:
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("# test table\n" + header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def constant_table(path: Path, column: str, value: float, lo: int = 0, hi: int = 110) -> Path:
    """An ``age,sex,<column>`` CSV with one value for every age and both sexes."""
    return write_csv(path, f"age,sex,{column}",
                     [f"{lo}-{hi},female,{value}", f"{lo}-{hi},male,{value}"])


def load(tmp_path: Path, data: dict, name: str = "s.toml"):
    """Write ``data`` and load it as a scenario set."""
    return load_scenario_set(write_toml(tmp_path / name, data))


def inputs_of(tmp_path: Path, data: dict):
    return build_inputs(load(tmp_path, data).base)


@pytest.fixture
def small_dict():
    return scenario_dict()


def assert_within_se(estimate: float, exact: float, se: float, k: float = 4.0, what: str = ""):
    """``|estimate − exact| < k · se`` with a message that shows the numbers."""
    assert abs(estimate - exact) < k * se, (
        f"{what}: estimate {estimate:.6g} vs exact {exact:.6g}, {k} SE = {k * se:.3g}")

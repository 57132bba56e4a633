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


def headless_screenshot(page: Path, shot: Path, what: str, height: int):
    """The page as headless Chromium renders it (RGB pixels), after checking that it logs
    no console error; skips, saying so, where Debian's ``chromium`` is not installed."""
    import shutil
    import subprocess

    import matplotlib.image as mpimg

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): the "
                    f"screenshot check of the {what} is skipped")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--hide-scrollbars", f"--window-size=1280,{height}",
                           f"--screenshot={shot}", "--enable-logging=stderr", "--v=0",
                           page.as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line
               or "Uncaught" in line or "Failed to load resource" in line]
    assert not console, console
    return mpimg.imread(shot)[..., :3]


def require_cjk_font(what: str) -> None:
    """Skip, naming the package, where fontconfig lists no Chinese font: without one
    Chromium draws e互助's name as empty boxes (Debian: apt-get install fonts-noto-cjk)."""
    import shutil
    import subprocess

    fc_list = shutil.which("fc-list")
    found = subprocess.run([fc_list, ":lang=zh"], capture_output=True, text=True,
                           timeout=60).stdout.strip() if fc_list else ""
    if not found:
        pytest.skip("no Chinese font is installed (apt-get install fonts-noto-cjk): the "
                    f"check that the {what} renders CJK text is skipped")


def assert_one_line_error(proc, *fragments: str) -> None:
    """A command's bad input: exit status 2 and one line on stderr naming every fragment."""
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def assert_unknown_plan_refused(tmp_path: Path, command: str, *before: str, after=()) -> None:
    """``mutualsim COMMAND [before] OBS.csv [after] --out DIR`` with an observation of a plan
    the platform does not have: one line naming the file, the column and the plan, exit 2,
    and no output folder."""
    import subprocess
    import sys

    obs = tmp_path / "unknown_plan.csv"
    obs.write_text("date,metric,value,unit,source,plan\n2020Q2,members,1,persons,x,kids\n",
                   encoding="utf-8")
    out = tmp_path / "refused"
    proc = subprocess.run([sys.executable, "-m", "engine", command, *before, str(obs),
                           *after, "--out", str(out)], capture_output=True, text=True)
    assert_one_line_error(proc, "column plan", "kids", str(obs))
    assert not out.exists()


def latin_set_results(tmp: Path, samples: int = 24, paths: int = 8) -> Path:
    """A run of a Latin set of ``samples`` small scenarios over the lapse and the mild
    share (beyond the 20 scenarios that get every scenario's own charts)."""
    from engine import cli

    data = scenario_dict(scenario__paths=paths)
    data["sweep"] = {"method": "latin", "samples": samples,
                     "lapse.base_quarterly": {"low": 0.01, "high": 0.2},
                     "benefits.mild_share": {"low": 0.0, "high": 0.5}}
    path = write_toml(tmp / "set.toml", data)
    out = tmp / "r.h5"
    assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    return out

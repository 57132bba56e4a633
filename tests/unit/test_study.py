"""The study document (issue 12): one HTML page per platform answering the study's questions
in its order, each of the four with a number; its policies tested by scenario files it
writes; readable offline and (where Debian's ``chromium`` is installed) rendered headless."""

import re
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import (
    assert_unknown_plan_refused,
    headless_screenshot,
    scenario_dict,
    write_toml,
)

PLATFORM = {"platform": {"age_out": "leave"},
            "plans": [{"name": "young", "ages": [30, 32]},
                      {"name": "old", "ages": [33, 34],
                       "benefits": {"amount_by_age": [[33, 34, 60000]]}}]}
OBSERVATIONS = ("date,metric,value,unit,source,period_start,period_end,sd_log,plan\n"
                "2020Q2,members,25000,persons,https://example.org/a,,,0.1,\n"
                "2020Q3,aided_in_period,5,persons,https://example.org/b,,,0.3,old\n"
                "2020-06,benefit_cap,60000,yuan,https://example.org/c,,,,old\n")


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    data = {**scenario_dict(scenario__description="A small platform of two plans",
                            scenario__quarters=8, growth__series=[3000.0] * 8,
                            market__health_premium_by_year={"2020": 8.173e11,
                                                            "2021": 8.447e11}),
            **PLATFORM}
    scenario = write_toml(tmp / "p.toml", data)
    obs = tmp / "obs.csv"
    obs.write_text(OBSERVATIONS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "engine", "study", str(scenario), str(obs),
                           "--out", str(tmp / "doc"), "--paths", "40"],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return tmp / "doc"


def test_the_document_answers_the_four_questions_with_numbers(study):
    text = (study / "study.html").read_text(encoding="utf-8")
    answers = text[text.index("The four answers"):text.index("</ol>")]
    items = re.findall(r"<li>(.*?)</li>", answers, re.S)
    assert len(items) == 4
    for item, label in zip(items, ("Valid members", "Claims", "The platform's value",
                                   "Market share"), strict=True):
        assert label in item
        assert re.search(r"\d", item.split("</b>", 1)[1]), item
    assert re.search(r"\d+\.\d+%", items[3])            # a share, in percent
    order = ["1. Development", "2. Advantages in numbers", "3. Risks in numbers",
             "4. Sustainability", "5. Recommendations"]
    assert [text.index(h) for h in order] == sorted(text.index(h) for h in order)
    for policy in ("Separate age pools or one pool", "The cap and fee that keep members",
                   "Make up solvency", "Standardise disclosure", "Clarify positioning"):
        assert policy in text
    assert text.count("<b>Answer:</b>") >= 3
    assert "premium at 25% expenses" in text
    assert "rule" in text and "consistent" in text           # the published cap is checked
    why = text[text.index("Why the forecast cannot meet every figure"):]
    assert "https://example.org/a" in why and "mean |z|" in why   # per source
    # readable offline: nothing fetched
    assert not re.search(r"(src|href)=\"https?:", text)


def test_the_policies_are_scenario_files_with_their_results(study):
    files = sorted(p.name for p in (study / "scenarios").glob("*.toml"))
    assert "one_pool.toml" in files and "reserve_loading_0.1.toml" in files
    assert any(f.startswith("cap_") for f in files)
    for f in files:
        assert (study / "results" / f.replace(".toml", ".h5")).is_file()
    from engine.config.scenario import load_scenario_set
    assert not load_scenario_set(study / "scenarios" / "one_pool.toml").base.plans
    assert len(load_scenario_set(study / "scenarios" / "cap_1.5x.toml").scenarios) == 3
    loaded = load_scenario_set(study / "scenarios" / "reserve_loading_0.1.toml").base
    assert all(p.reserve.loading_per_member_quarter > 0 for p in loaded.plans)
    assert all(p.sharing.cap_per_quarter > 0 for p in loaded.plans)
    assert (study / "disclosure" / "disclosure_ae.csv").is_file()


def test_the_founding_capital_is_a_sweep_whose_ruin_falls_with_the_capital(study):
    """The capital policy sweeps each plan's reserve at the start on common random numbers:
    the members do not see the reserve behind a cap, so every path's first gap can only come
    later (or never) with more capital, and the ruin probabilities fall with it."""
    from engine.analysis.summary import summarize
    from engine.config.scenario import load_scenario_set
    from engine.store import open_results
    from engine.studies.study import CAPITAL_GRID, CAPITAL_LOADING_SHARE

    scenarios = load_scenario_set(study / "scenarios" / "founding_capital.toml").scenarios
    assert [s.swept["reserve.initial"] for s in scenarios] == list(CAPITAL_GRID)
    for s, capital in zip(scenarios, CAPITAL_GRID, strict=True):
        assert all(p.reserve.initial == capital for p in s.plans)
        assert all(p.reserve.loading_per_member_quarter > 0 for p in s.plans)
    with open_results(study / "results" / "founding_capital.h5") as ds:
        summary = summarize(ds)
        members = ds["members"].values
    ruin = [summary["ruin_probability"][n] for n in summary["scenarios"]]
    assert all(a >= b for a, b in zip(ruin, ruin[1:], strict=False)), ruin
    assert ruin[0] > ruin[-1]                      # the grid spans the answer's range
    assert all(np.array_equal(members[0], m) for m in members[1:])   # capital moves no one
    text = (study / "study.html").read_text(encoding="utf-8")
    capital = text[text.index("Make up solvency: the founding capital"):]
    assert f"{CAPITAL_LOADING_SHARE:.0%}" in capital[:2000]


def test_a_bad_observation_stops_the_study_before_anything_is_written(tmp_path):
    scenario = write_toml(tmp_path / "p.toml", {**scenario_dict(), **PLATFORM})
    assert_unknown_plan_refused(tmp_path, "study", str(scenario))


def test_the_document_renders_in_headless_chromium(study, tmp_path):
    pixels = headless_screenshot(study / "study.html", tmp_path / "shot.png",
                                 "study document", 3000)
    assert pixels.shape[0] >= 2000
    assert np.std(pixels) > 0.05                      # not a blank page

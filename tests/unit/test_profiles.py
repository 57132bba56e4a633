"""Who claims and who is a member: the profiles that the summary and the report draw from a
results file's detail, checked against figures computed by hand from the same arrays."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

from engine.analysis.profiles import age_quantiles, profiles
from engine.analysis.summary import format_summary, summarize
from engine.report.html import render
from tests.conftest import ROOT, SCENARIOS


def test_age_quantiles_interpolate_within_bands():
    lower = np.array([30.0, 35.0, 40.0])
    upper = np.array([34.0, 39.0, 49.0])
    counts = np.array([[10.0, 10.0, 20.0], [0.0, 0.0, 0.0], [0.0, 4.0, 0.0]])
    q = age_quantiles(counts, lower, upper, levels=(0.25, 0.5, 0.75))
    # path 0: 40 claims; the 10th is the end of 30-34 (35.0), the 20th the end of 35-39
    # (40.0), the 30th half way through 40-49 (45.0)
    assert q[:, 0] == pytest.approx([35.0, 40.0, 45.0])
    assert np.all(np.isnan(q[:, 1]))                    # no claims: no age
    assert q[:, 2] == pytest.approx([36.25, 37.5, 38.75])   # one band: spread over 35-40


@pytest.fixture(scope="module")
def detailed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("profiles")
    file = tmp / "d.toml"
    file.write_text(f'extends = "{(SCENARIOS / "xianghubao.toml").as_posix()}"\n'
                    "[scenario]\nquarters = 9\npaths = 60\n[output]\n"
                    'detail = ["claims", "members"]\nby = ["sex", "age_band", "risk_group"]\n',
                    encoding="utf-8")
    out = tmp / "d.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(file), "--out", str(out),
                           "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return out


def test_profiles_match_the_detail_by_hand(detailed):
    with xr.open_dataset(detailed, engine="h5netcdf") as ds:
        labels = [str(q) for q in ds["quarter"].values]
        figures = profiles(ds, [0], labels, None)
        claims = ds["claims_by"].values[0].sum(axis=4)           # (P, T, sex, band)
        members = ds["members_by"].values[0]
        lower = ds["age_band_lower"].values
        upper = ds["age_band_upper"].values
    year = [t for t, q in enumerate(labels) if q.startswith("2020")]
    c = claims[:, year].sum(axis=1)                                # (P, sex, band)
    share = c[:, 1].sum(axis=1) / c.sum(axis=(1, 2))
    got = figures["claims_male_share"]["2020"]
    assert got["mean"] == pytest.approx(share.mean())
    assert got["se"] == pytest.approx(share.std(ddof=1) / np.sqrt(len(share)))
    assert got["q05"] <= got["q50"] <= got["q95"]
    mid = (lower + upper + 1) / 2
    female_age = (c[:, 0] @ mid) / c[:, 0].sum(axis=1)
    assert figures["age_at_claim"]["female"]["2020"]["mean"]["mean"] == \
        pytest.approx(female_age.mean())
    all_age = (c.sum(axis=1) @ mid) / c.sum(axis=(1, 2))
    assert figures["age_at_claim"]["all"]["2020"]["mean"]["mean"] == pytest.approx(all_age.mean())
    # the band shares of a year's claims add up to 1 on every path
    by_band = figures["claims_by_age_band"]["2020"]
    assert sum(s["mean"] for sex in by_band.values() for s in sex.values()) == \
        pytest.approx(1.0)
    t = labels.index("2019Q4")
    mix = figures["members_risk_mix"]["2019Q4"]
    m = members[:, t].sum(axis=(1, 2))                             # (P, group)
    assert mix["riskier"]["mean"] == pytest.approx((m[:, 1] / m.sum(axis=1)).mean())
    assert set(figures["members_age_pyramid"]) == {"2018Q4", "2019Q4", "2020Q4"}


def test_the_summary_and_report_show_the_profiles_only_with_detail(detailed):
    with xr.open_dataset(detailed, engine="h5netcdf") as ds:
        text = format_summary(summarize(ds))
        page = render(ds)
    assert "men's share of claims, by year" in text and "age at claim, female" in text
    assert "Who claims and who is a member" in page and "age pyramids" in page
    plain = SCENARIOS.parent / "tests" / "fixtures" / "results"
    fixture = sorted(plain.glob("*.h5"))[-1]
    with xr.open_dataset(fixture, engine="h5netcdf") as ds:
        assert summarize(ds)["profiles"] == {str(s): {} for s in ds["scenario"].values}
        assert "Who claims" not in render(ds)


def test_the_expected_paths_age_at_claim_is_the_incidence_weighted_mean_age(tmp_path):
    """A closed group, one quarter: the expected path's mean age at claim is the mean of
    exact ages (completed age + ½) weighted by members times the probability of a claim."""
    from engine.studies.fairness import expected_profiles
    from tests.unit.test_detail import MIXED_AGES, mixed_closed_group

    scenario, claims = mixed_closed_group(tmp_path)                  # (sex, ages)
    ages = np.arange(MIXED_AGES[0], MIXED_AGES[1] + 1) + 0.5
    figures = expected_profiles(scenario)
    year = scenario.scenario.start[:4]
    assert figures["age_at_claim"]["all"][year]["mean"]["mean"] == pytest.approx(
        (claims.sum(axis=0) * ages).sum() / claims.sum(), rel=1e-12)
    assert figures["age_at_claim"]["male"][year]["mean"]["mean"] == pytest.approx(
        (claims[1] * ages).sum() / claims[1].sum(), rel=1e-12)
    assert figures["claims_male_share"][year]["mean"] == pytest.approx(
        claims[1].sum() / claims.sum(), rel=1e-12)


def test_the_age_profile_page_shows_what_its_example_computes():
    """docs/age_profile.md's table is examples/age_profile.py's output, number for number."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("age_profile",
                                                  ROOT / "examples" / "age_profile.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    rows = example.rows()
    page = (ROOT / "docs" / "age_profile.md").read_text(encoding="utf-8")
    for row in rows:
        cells = [row["mix"].replace("-0.3", "−0.3")] + [f"{v:.1f}" for k, v in row.items()
                                                         if k != "mix"]
        assert "| " + " | ".join(cells) + " |" in page, cells


def test_the_study_says_who_claims_or_that_the_run_cannot():
    from engine.report.study_sections import who_claims

    stat = {"mean": 0.45, "q05": 0.44, "q95": 0.46, "paths": 10}
    age = {"mean": {"mean": 47.0, "q05": 46.5, "q95": 47.5, "paths": 10}}
    text = who_claims({"claims_male_share": {"2019": stat},
                       "age_at_claim": {"all": {"2019": age}, "female": {"2019": age}}}, "2019")
    assert "men make 45.0 % of 2019's modelled claims (5-95 % of paths 44.0-46.0 %)" in text
    assert "mean age at claim, female, 47.0 years (46.5-47.5" in text
    assert "no published figure" in text.lower()
    assert "no detail" in who_claims({}, "2019")

    from types import SimpleNamespace

    from engine.studies.observations import Observation

    o = Observation(26, "mean_age_at_claim", 36.8, "years", "s", "2019-08-09", 0, 3, 0.1,
                    None)
    row = SimpleNamespace(observation=o, median=47.5, inside_90=False)
    held = who_claims({"claims_male_share": {"2019": stat}}, "2019", [row])
    assert ("Held against the published figures: mean age at claim to 2019-08-09: "
            "published 36.8 years, model median 47.5 (not met).") in held
    assert "no published figure" not in held.lower()

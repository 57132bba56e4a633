"""Profile figures in observations files (who claims, who is a member): reading and bad
input, the model's values by hand, `disclose` against a results file's detail, and
`calibrate`'s expected path with one-year bands."""

import csv

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.errors import TableError
from engine.run.plans import build_run_inputs, expected_paths
from engine.studies.observations import model_values, read_observations
from engine.studies.profile_figures import (
    CLAIMS,
    LOWER,
    MEMBERS,
    UPPER,
    detail_results,
    from_detail,
    with_profile_detail,
)
from tests.conftest import load, scenario_dict, write_toml

HEADER = "date,metric,value,unit,source,period_start,period_end,sex,age_from,age_to"


def write_obs(tmp_path, *rows, name="obs.csv"):
    path = tmp_path / name
    path.write_text("# test\n" + HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _by_hand_results():
    """Claims and members by (sex, band) over 4 quarters, bands 20-29, 30-39, 40-49."""
    T = 4
    claims = np.zeros((T, 2, 3))
    claims[:, 0] = [1.0, 2.0, 3.0]          # women, each quarter
    claims[:, 1] = [2.0, 2.0, 4.0]          # men
    claims[3] *= 10.0                       # the last quarter differs: pro rata matters
    members = np.zeros((T, 2, 3))
    members[:, 0] = [100.0, 50.0, 50.0]
    members[:, 1] = [60.0, 60.0, 80.0]
    members[2, 1, 0] = 260.0                # the third quarter's end differs
    return {CLAIMS: claims, MEMBERS: members, LOWER: np.array([20.0, 30.0, 40.0]),
            UPPER: np.array([29.0, 39.0, 49.0])}


def test_profile_values_by_hand(tmp_path):
    obs = read_observations(write_obs(
        tmp_path,
        "2020,claims_male_share,50,percent,s,2020Q1,2020Q2,,,",
        "2020,mean_age_at_claim,40,years,s,2020Q1,2020Q2,female,,",
        "2020,mean_age_at_claim,40,years,s,2020Q1,2020Q2,,,",
        "2020,claims_age_share,40,percent,s,2020Q1,2020-11-15,male,30,49",
        "2020-08-15,members_age_share,40,percent,s,,,,20,29",
        "2020-08-15,members_age_share,40,percent,s,,,male,40,60",
    ), "2020Q1", 4)
    m = model_values(obs, _by_hand_results(), initial_members=0.0)
    # two quarters: women 2 · (1, 2, 3), men 2 · (2, 2, 4)
    assert m[0] == pytest.approx(100 * 16 / 28)
    assert m[1] == pytest.approx((1 * 24.5 + 2 * 34.5 + 3 * 44.5) / 6)
    assert m[2] == pytest.approx((3 * 24.5 + 4 * 34.5 + 7 * 44.5) / 14)
    # men's claims to 2020-11-15: three quarters and 45 of Q4's 92 days, at ten times
    f = 45 / 92
    men = np.array([2.0, 2.0, 4.0]) * (3 + 10 * f)
    assert m[3] == pytest.approx(100 * men[1:].sum() / men.sum())
    # members at the end of Q3 (the quarter that holds 2020-08-15)
    assert m[4] == pytest.approx(100 * (100 + 260) / (200 + 400))
    # ages 40-60 run past the last band: clipped to 40-49
    assert m[5] == pytest.approx(100 * 80 / 400)
    assert [o.label for o in obs][:2] == ["claims_male_share", "mean_age_at_claim female"]
    assert obs[3].label == "claims_age_share male 30-49"


def test_detail_with_more_dimensions_is_summed_out():
    rng = np.random.default_rng(3)
    claims = rng.integers(0, 9, size=(5, 4, 2, 3, 2))       # (path, T, sex, band, group)
    out = from_detail({"claims_by": claims}, ("sex", "age_band", "risk_group"),
                      [20, 30, 40], [29, 39, 49])
    assert np.array_equal(out[CLAIMS], claims.sum(axis=-1))
    assert from_detail({"claims_by": claims}, ("age_band", "risk_group"), [20], [29]) == {}


@pytest.mark.parametrize("row,column,fragment", [
    ("2020,mean_age_at_claim,40,years,s,,,unknown,,", "sex", "unknown sex"),
    ("2020,claims_age_share,40,percent,s,,,,-3,29", "age_from", "whole age"),
    ("2020,claims_age_share,40,percent,s,,,,30,29", "age_to", "below age_from"),
    ("2020,claims_age_share,40,percent,s,,,,30,", "age_to", "needs age_from and age_to"),
    ("2020,claims_male_share,0.5,percent,s,,,male,,", "sex", "is of both sexes"),
    ("2020,claims_male_share,150,percent,s,,,,,", "value", "per cent"),
    ("2020,mean_age_at_claim,140,years,s,,,,,", "value", "at most 110"),
    ("2020,mean_age_at_claim,40,years,s,,,,30,39", "age_from", "takes no ages"),
    ("2020,members,40,persons,s,,,male,,", "sex", "takes no sex"),
])
def test_bad_profile_figures_name_file_row_and_column(tmp_path, row, column, fragment):
    path = write_obs(tmp_path, row)
    with pytest.raises(TableError) as info:
        read_observations(path, "2020Q1", 8)
    line = str(info.value.problems[0])
    assert line.startswith(f"{path}: row 3, column {column}: "), line
    assert fragment in line, line


def _scenario(tmp_path, output: dict | None):
    data = scenario_dict(population__age_min=20, population__age_max=49,
                         population__initial_members=300000, scenario__quarters=4,
                         benefits__amount_by_age=[[20, 49, 100000]])
    if output is not None:
        data["output"] = output
    return write_toml(tmp_path / "s.toml", data)


def _run(tmp_path, output):
    scenario = _scenario(tmp_path, output)
    results = tmp_path / "r.h5"
    assert cli.main(["run", str(scenario), "--paths", "20", "--out", str(results),
                     "--quiet"]) == 0
    return results


def test_disclose_computes_profiles_from_the_results_detail(tmp_path, capsys):
    results = _run(tmp_path, {"detail": ["claims", "members"], "by": ["sex", "age_band"]})
    obs = write_obs(tmp_path, "2020,claims_male_share,50,percent,s,2020Q1,2020Q4,,,",
                    "2020,mean_age_at_claim,40,years,s,2020Q1,2020Q4,male,,",
                    "2020-12-31,members_age_share,30,percent,s,,,,20,29")
    assert cli.main(["disclose", str(obs), str(results), "--out", str(tmp_path / "d")]) == 0
    rows = list(csv.DictReader(open(tmp_path / "d" / "disclosure_ae.csv", encoding="utf-8")))
    with xr.open_dataset(results, engine="h5netcdf") as ds:
        claims = ds["claims_by"].values[0].sum(axis=1)             # (path, sex, band)
        members = ds["members_by"].values[0, :, -1]                # end of 2020Q4
        lower = ds["age_band_lower"].values
        upper = ds["age_band_upper"].values
    male = 100 * claims[:, 1].sum(axis=1) / claims.sum(axis=(1, 2))
    mean_male = (claims[:, 1] * (lower + upper) / 2).sum(axis=1) / claims[:, 1].sum(axis=1)
    young = 100 * members[..., :2].sum(axis=(1, 2)) / members.sum(axis=(1, 2))
    for row, per_path in zip(rows, (male, mean_male, young), strict=True):
        # the CSV writes six significant digits
        assert float(row["expected_mean"]) == pytest.approx(per_path.mean(), rel=1e-5)
    assert (rows[1]["metric"], rows[1]["sex"]) == ("mean_age_at_claim", "male")
    assert (rows[2]["age_from"], rows[2]["age_to"]) == ("20", "29")


@pytest.mark.parametrize("output,row,fragment", [
    (None, "2020,claims_male_share,50,percent,s,2020Q1,2020Q4,,,", "no claims_by by sex"),
    ({"detail": ["claims"], "by": ["age_band"]},
     "2020,claims_male_share,50,percent,s,2020Q1,2020Q4,,,", "no claims_by by sex"),
    ({"detail": ["claims"], "by": ["sex", "age_band"]},
     "2020-12,members_age_share,50,percent,s,,,,20,29", "no members_by by sex"),
    ({"detail": ["claims", "members"], "by": ["sex", "age_band"]},
     "2020,claims_age_share,50,percent,s,2020Q1,2020Q4,,22,29", "not a band edge"),
])
def test_disclose_says_which_profiles_the_results_cannot_give(tmp_path, capsys, output, row,
                                                              fragment):
    # the figure is neither inside nor outside: listed as not checked, the rest disclosed
    results = _run(tmp_path, output)
    obs = write_obs(tmp_path, "2020-12,members,300000,persons,s,,,,,", row)
    out = tmp_path / "d"
    capsys.readouterr()
    assert cli.main(["disclose", str(obs), str(results), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "1 figures against 20 paths" in said and "row 4" in said and fragment in said
    rows = list(csv.DictReader(open(out / "disclosure_ae.csv", encoding="utf-8")))
    assert [r["row"] for r in rows] == ["3", "4"]
    assert rows[1]["flag"].startswith("not checked: ") and fragment in rows[1]["flag"]
    assert rows[1]["expected_median"] == ""
    assert "Published figures not checked" in (out / "disclosure.html").read_text("utf-8")


def test_the_expected_path_with_one_year_bands(tmp_path):
    scenario = load(tmp_path, scenario_dict(population__age_min=20, population__age_max=49,
                                            population__initial_members=300000,
                                            benefits__amount_by_age=[[20, 49, 100000]])).base
    platform = build_run_inputs(scenario)
    plain = expected_paths(platform)
    detailed, bands = with_profile_detail(platform)
    out = expected_paths(detailed, detail=True)
    # the detail only counts: every total is the same bits
    for name, values in plain.items():
        assert np.array_equal(values, out[name]), name
    assert bands == [(a, a) for a in range(20, 50)]
    profile = detail_results(out, bands)
    np.testing.assert_allclose(profile[CLAIMS].sum(axis=(-2, -1)), plain["claims"],
                               rtol=1e-12)
    np.testing.assert_allclose(profile[MEMBERS].sum(axis=(-2, -1)), plain["members"],
                               rtol=1e-12)


@pytest.mark.slow
def test_the_age_profile_page_shows_the_fit_to_the_published_profiles():
    """docs/age_profile.md's table: the shipped scenario's expected path, and what
    `calibrate` fits (with the age tilt) on the shipped file."""
    import datetime as dt

    from engine.config.scenario import load_scenario_set
    from engine.studies.calibrate import fit
    from engine.studies.observations import fitted_only
    from engine.studies.profile_figures import PROFILES
    from tests.conftest import ROOT, SCENARIOS

    page = (ROOT / "docs" / "age_profile.md").read_text(encoding="utf-8")
    observations = ROOT / "data" / "observations" / "xianghubao.csv"
    scenario = load_scenario_set(SCENARIOS / "xianghubao.toml").base
    platform, bands = with_profile_detail(build_run_inputs(scenario))
    out = expected_paths(platform, detail=True)
    out |= detail_results(out, bands)
    figures = [o for o in fitted_only(read_observations(observations, "2018Q4", 21))
               if o.metric in PROFILES]
    shipped = model_values(figures, out, float(scenario.population.initial_members))
    for o, value in zip(figures, shipped, strict=True):
        unit = "years" if o.metric == "mean_age_at_claim" else "%"
        assert f"| {o.value:g} {unit} | {value:.1f} {unit} |" in page, (o.label, value)

    result = fit(observations, SCENARIOS / "xianghubao.toml", dt.date(2019, 12, 31))
    fitted = {o.label: float(m) for o, m in zip(result.used, result.fitted_values,
                                                strict=True)}
    assert f"| 47.5 years | {fitted['mean_age_at_claim']:.1f} years |" in page
    assert f"| 16.1 % | {fitted['claims_age_share 20-39']:.1f} % |" in page
    assert f"J = {result.objective:.1f} (" in page
    assert result.parameters[-1].key == "incidence.age_tilt_per_decade"
    assert f"τ = {result.theta[-1]:.2f} per decade".replace("-", "−") in page

"""The sector (issue 12): platforms on one calendar, summed path by path; parameter draws of
a set spread over the sector's paths; one systematic level shared."""

import numpy as np
import pytest

from engine.errors import ScenarioError
from engine.studies.sector import load_sector, run_sector
from tests.conftest import ROOT, scenario_dict, write_toml


def _sector(tmp_path, extra=""):
    a = scenario_dict(scenario__start="2020Q1", scenario__quarters=6,
                      growth__series=[3000.0] * 6, incidence__level_sd_per_year=0.05)
    b = scenario_dict(scenario__name="b", scenario__start="2020Q3", scenario__quarters=6,
                      scenario__seed=99, growth__series=[1000.0] * 6,
                      incidence__level_sd_per_year=0.05)
    b["sweep"] = {"sharing.fee_rate": [0.05, 0.1, 0.2], "streams": "independent"}
    write_toml(tmp_path / "a.toml", a)
    write_toml(tmp_path / "b.toml", b)
    path = tmp_path / "sector.toml"
    path.write_text('[sector]\nname = "s"\nstart = "2020Q1"\nquarters = 8\npaths = 9\n'
                    'systematic_seed = 5\n[[platforms]]\nfile = "a.toml"\n'
                    '[[platforms]]\nfile = "b.toml"\nclosure = "2021Q2"\n' + extra,
                    encoding="utf-8")
    return path


def test_totals_are_the_platforms_sums_on_the_sectors_calendar(tmp_path):
    sector = load_sector(_sector(tmp_path))
    result = run_sector(sector, 9)
    a, b = result["platforms"]["small"], result["platforms"]["b"]
    for name in ("members", "claims", "contributions"):
        np.testing.assert_array_equal(result["totals"][name], a[name] + b[name])
    # a runs 2020Q1-2021Q2 (quarters 0-5), b starts 2020Q3 and closes at the end of 2021Q2
    assert np.all(a["members"][:, 6:] == 0) and np.all(a["members"][:, :6] > 0)
    assert np.all(b["members"][:, :2] == 0) and np.all(b["members"][:, 2:5] > 0)
    assert np.all(b["members"][:, 5:] == 0)
    years = {row["year"]: row for row in result["years"]}
    assert years[2020]["market_share"] is not None                   # 2020's premium is known
    contributions = result["totals"]["contributions"][:, :4].sum(axis=1)
    assert years[2020]["contributions_yuan"]["0.5"] == np.quantile(contributions, 0.5,
                                                                   method="inverted_cdf")


def test_a_sets_draws_spread_over_the_sectors_paths(tmp_path):
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.simulate import scenario_seeds

    sector = load_sector(_sector(tmp_path))
    result = run_sector(sector, 9)
    b = sector.platforms[1].scenario_set
    seeds = scenario_seeds(b.base.scenario.seed, 3, "independent")
    # sector path 4 is scenario 4 % 3 = 1, its path 4 // 3 = 1
    direct = simulate_plans(build_run_inputs(b.scenarios[1]), seeds[1], 0, 3)
    np.testing.assert_array_equal(result["platforms"]["b"]["members"][4, 2:8],
                                  direct["members"][1])
    # the systematic level is the sector's: the same for both platforms in a shared quarter
    a_inputs = build_run_inputs(sector.platforms[0].scenario_set.base)
    assert a_inputs.plans[0].systematic_seed == 5


def test_a_bad_sector_file_is_one_line(tmp_path):
    path = _sector(tmp_path, '[[platforms]]\nfile = "missing.toml"\n')
    with pytest.raises(ScenarioError) as err:
        load_sector(path)
    assert len(err.value.problems) == 1
    assert "platforms[2].file" in str(err.value) and "missing.toml" in str(err.value)


def test_the_shipped_sector_loads():
    sector = load_sector(ROOT / "scenarios" / "sector" / "sector.toml")
    assert [p.name for p in sector.platforms] == ["xianghubao", "emutual", "waterdrop",
                                                  "qingsong", "meituan"]

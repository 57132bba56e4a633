"""The sector's share of health-insurance premiums by year (issue 26, item 5): partial years
against the same fraction of the year's premiums, the platform's share beside the sector's,
the calendar widened to the first launch, and the regulator's 2014-2017 premiums."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import tables
from engine.report.study_economics import sector_section
from engine.studies.sector_share import sector_share, share_by_year, widened
from tests.conftest import scenario_dict, write_toml


def _result():
    # two paths, 2019Q3-2020Q4: 2019 is partial (2 quarters), 2020 full
    labels = ["2019Q3", "2019Q4", "2020Q1", "2020Q2", "2020Q3", "2020Q4"]
    own = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]])
    other = np.full((2, 6), 10.0)
    return {"labels": labels, "totals": {"contributions": own + other},
            "platforms": {"mine": {"contributions": own}, "other": {"contributions": other}}}


def test_a_partial_year_is_compared_with_the_same_fraction_of_its_premiums():
    rows = {r["year"]: r for r in share_by_year(_result(), "mine", {2019: 800.0, 2020: 1000.0})}
    y19, y20 = rows[2019], rows[2020]
    assert y19["partial"] and y19["quarters"] == 2 and not y20["partial"]
    assert y19["premium_compared_yuan"] == 400.0 and y20["premium_compared_yuan"] == 1000.0
    # path 0 paid 3 (own) + 20 (other) in 2019, path 1 paid 4 + 20: lower quantiles
    assert y19["contributions_yuan"]["0.5"] == 23.0
    assert y19["share"]["0.5"] == pytest.approx(23.0 / 400.0)
    assert y19["share"]["0.95"] == pytest.approx(24.0 / 400.0)
    assert y19["platform_share"]["0.5"] == pytest.approx(3.0 / 400.0)
    assert y20["platform_contributions_yuan"]["0.95"] == 18.0
    assert y20["share"]["0.95"] == pytest.approx(58.0 / 1000.0)


def test_years_without_a_premium_get_no_share():
    rows = share_by_year(_result(), "mine", {2020: 1000.0})
    assert rows[0]["premium_yuan"] is None and rows[0]["share"] is None
    assert rows[0]["platform_share"] is None and rows[0]["contributions_yuan"]["0.5"] == 23.0
    page = "\n".join(sector_section({"rows": rows, "platforms": ["mine", "other"],
                                     "paths": 2, "labels": _result()["labels"]}, "mine"))
    assert "No premium figure for 2019" in page and "partial: 2 quarters" in page
    assert "e+" not in page


def _sector_file(tmp_path):
    a = scenario_dict(scenario__start="2020Q1", scenario__quarters=6,
                      growth__series=[3000.0] * 6)
    b = scenario_dict(scenario__name="b", scenario__start="2020Q3", scenario__quarters=6,
                      scenario__seed=99, growth__series=[1000.0] * 6)
    write_toml(tmp_path / "a.toml", a)
    write_toml(tmp_path / "b.toml", b)
    path = tmp_path / "sector.toml"
    path.write_text('[sector]\nname = "s"\nstart = "2020Q3"\nquarters = 6\npaths = 4\n'
                    'systematic_seed = 5\n[[platforms]]\nfile = "a.toml"\n'
                    '[[platforms]]\nfile = "b.toml"\n', encoding="utf-8")
    return path


def test_the_calendar_starts_at_the_first_launch_and_ends_where_the_file_does(tmp_path):
    from engine.studies.sector import load_sector

    sector = widened(load_sector(_sector_file(tmp_path)))
    assert sector.labels[0] == "2020Q1" and sector.labels[-1] == "2021Q4"
    result = sector_share(_sector_file(tmp_path), 4, platform="small")
    assert result["labels"] == sector.labels and result["platform"] == "small"
    rows = {r["year"]: r for r in result["rows"]}
    assert set(rows) == {2020, 2021} and not rows[2020]["partial"]
    premium = tables.health_premiums_yuan()[2020]
    assert rows[2020]["premium_compared_yuan"] == premium
    # the sector's share is at least the platform's, path by path, so in every quantile
    for level in ("0.05", "0.5", "0.95"):
        assert rows[2020]["share"][level] >= rows[2020]["platform_share"][level] > 0
    with pytest.raises(ValueError, match="must be one of small, b"):
        sector_share(_sector_file(tmp_path), 4, platform="nobody")


def test_the_regulators_2014_to_2017_premiums_are_in_the_table_with_their_sources():
    rows = {int(row["year"]): row for _, row in tables.data_table(
        "china_health_insurance_premiums.csv").rows}
    expected = {2014: 1587.0, 2015: 2410.47, 2016: 4042.50, 2017: 4389.46}   # 亿元
    for year, yi in expected.items():
        assert rows[year]["source_url"].startswith("http"), year
        # billion yuan = 亿元 / 10; 2014 is published rounded, 2015 derived from 2016's growth
        assert float(rows[year]["premium_billion_yuan"]) == pytest.approx(yi / 10, rel=1e-3)
    premiums = tables.health_premiums_yuan()
    assert all(premiums[y] < premiums[y + 1] for y in range(2014, 2021))


def test_the_sector_alone_is_shown_without_a_platform_and_the_first_launch_is_named(tmp_path):
    result = sector_share(_sector_file(tmp_path), 4, platform=None)
    assert all(r["platform_share"] is None for r in result["rows"])
    page = "\n".join(sector_section(result))
    assert "Before 2020Q3 the modelled sector is small alone" in page
    assert "e互助 contributions" not in page and "sector share of premiums" in page

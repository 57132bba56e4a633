"""Observations files: dates, validation (file, row, column) and the model's values."""

import datetime as dt

import numpy as np
import pytest

from engine import cli
from engine.errors import TableError
from engine.studies.observations import date_span, model_values, quarter_time, read_observations
from tests.conftest import scenario_dict, write_toml

HEADER = "date,metric,value,unit,source,period_start,period_end"


def write_obs(tmp_path, *rows, header=HEADER):
    path = tmp_path / "obs.csv"
    path.write_text("# test\n" + header + "\n" + "\n".join(rows) + "\n")
    return path


def test_date_forms():
    assert date_span("2019-11-22") == (dt.date(2019, 11, 22), dt.date(2019, 11, 23))
    assert date_span("2019-06") == (dt.date(2019, 6, 1), dt.date(2019, 7, 1))
    assert date_span("2019Q4") == (dt.date(2019, 10, 1), dt.date(2020, 1, 1))
    assert date_span("2019") == (dt.date(2019, 1, 1), dt.date(2020, 1, 1))
    with pytest.raises(ValueError):
        date_span("22/11/2019")


def test_quarter_time_is_days_into_the_quarter():
    assert quarter_time("2020Q1", dt.date(2020, 1, 1)) == 0.0
    assert quarter_time("2020Q1", dt.date(2020, 4, 1)) == 1.0
    assert quarter_time("2020Q1", dt.date(2020, 5, 16)) == pytest.approx(1 + 45 / 91)
    assert quarter_time("2020Q1", dt.date(2019, 12, 1)) < 0


def test_stocks_and_flows_are_placed_on_the_quarter_axis(tmp_path):
    obs = read_observations(write_obs(
        tmp_path, "2020-06,members,10,persons,s,,", "2020-05-16,cumulative_aided,3,persons,s,,",
        "2020,aided_in_period,5,persons,s,,",
        "2020-10-01,aid_amount_in_period,7,yuan,s,2020-02,2020Q3"), "2020Q1", 8)
    assert obs[0].end == 2.0                                  # end of June
    assert obs[1].end == pytest.approx(1 + 45 / 91)
    assert (obs[2].start, obs[2].end) == (0.0, 4.0)
    assert obs[3].start == pytest.approx(31 / 91) and obs[3].end == 3.0


def test_model_values_interpolate_and_accumulate(tmp_path):
    obs = read_observations(write_obs(
        tmp_path, "2020-05-16,members,1,persons,s,,", "2020-05-16,cumulative_aided,1,persons,s,,",
        "2020Q2,aided_in_period,1,persons,s,,", "2020-02-15,members,1,persons,s,,"), "2020Q1", 4)
    results = {"members": np.array([[100, 200, 300, 400]]),
               "claims": np.array([[10, 20, 30, 40]])}
    f = 45 / 91
    m = model_values(obs, results, initial_members=50.0)[0]
    assert m[0] == pytest.approx(100 + f * 100)
    assert m[1] == pytest.approx(10 + f * 20)
    assert m[2] == pytest.approx(20)
    assert m[3] == pytest.approx(50 + (45 / 91) * 50)       # 2020-02-15 is day 45 of Q1


@pytest.mark.parametrize("row,column,fragment", [
    ("2020-06,member,10,persons,s,,", "metric", "unknown metric"),
    ("2020-06,members,ten,persons,s,,", "value", "is not a number"),
    ("2020-06,members,-1,persons,s,,", "value", "must be ≥ 0"),
    ("2019-11,members,10,persons,s,,", "date", "before the scenario's start"),
    ("2031-01,members,10,persons,s,,", "date", "after the scenario's last quarter"),
    ("2020-06-01,aided_in_period,10,persons,s,,", "date", "give period_start and period_end"),
    ("2020-06-01,aided_in_period,10,persons,s,2020-06-01,2020-05-01", "period_end",
     "period ends before it starts"),
    ("20-06,members,10,persons,s,,", "date", "must be a day"),
])
def test_bad_observations_name_file_row_and_column(tmp_path, row, column, fragment):
    path = write_obs(tmp_path, "2020-03,members,5,persons,s,,", row)
    with pytest.raises(TableError) as info:
        read_observations(path, "2020Q1", 8)
    line = str(info.value.problems[0])
    assert line.startswith(f"{path}: row 4, column {column}: "), line
    assert fragment in line, line


def test_a_cumulative_count_that_falls(tmp_path):
    path = write_obs(tmp_path, "2020-06,cumulative_aided,50,persons,s,,",
                     "2020-09,cumulative_aided,40,persons,s,,")
    with pytest.raises(TableError, match="row 4, column value: cumulative_aided falls"):
        read_observations(path, "2020Q1", 8)


def test_calibrate_command_exits_2_on_bad_observations(tmp_path, capsys):
    scenario = write_toml(tmp_path / "s.toml", scenario_dict())
    path = write_obs(tmp_path, "2020-06,members,ten,persons,s,,")
    out = tmp_path / "fitted.toml"
    assert cli.main(["calibrate", str(path), "--scenario", str(scenario), "--out",
                     str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "row 3, column value" in err[0]
    assert not out.exists() and not out.with_suffix(".png").exists()

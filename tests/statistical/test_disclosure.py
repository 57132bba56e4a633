"""Disclosure (issue 12): figures the engine itself generated, published with their stated
error, land inside the model's 90 % intervals widened by that error (the one yardstick,
issue 26) 90 % of the time, within binomial error; the command writes its tables."""

import csv
import subprocess
import sys

import numpy as np

from engine.run.simulate import simulate_paths
from engine.studies.disclosure import actual_expected, reserve_adequacy
from engine.studies.observations import Observation, model_values
from tests.conftest import assert_unknown_plan_refused, inputs_of, scenario_dict, write_toml

REFERENCE_PATHS = 400
FIGURES = 240


def _observations(quarters):
    """Stocks at quarter ends and flows over single quarters, as a platform publishes."""
    import datetime as dt
    out = []
    for t in range(quarters):
        for metric in ("members", "sharers", "aided_in_period", "cost_per_member_in_period",
                       "aid_amount_in_period"):
            start, end = (t + 1.0, t + 1.0) if metric in ("members",) else (float(t), t + 1.0)
            if metric == "sharers":
                start = end = t + 0.5
            out.append(Observation(len(out), metric, 0.0, "", "", "", start, end, 0.1,
                                   dt.date(2020, 1, 1)))
    return out


def test_engine_generated_figures_land_in_90_percent_intervals_90_percent_of_the_time(
        tmp_path):
    inputs = inputs_of(tmp_path, scenario_dict(scenario__quarters=6,
                                               growth__series=[3000.0] * 6,
                                               growth__dispersion=0.05))
    out = simulate_paths(inputs, 41, 0, REFERENCE_PATHS + FIGURES)
    templates = _observations(inputs.quarters)
    values = model_values(templates, out, float(inputs.initial_members.sum()))
    reference = values[:REFERENCE_PATHS]
    inside = []
    # each figure published with its stated error: log1p(figure) = log1p(path's) + N(0, 0.1²),
    # so the yardstick (the 90 % interval widened by sd_log) should hold 90 % of them
    error = np.random.default_rng(7).normal(0.0, 0.1, FIGURES)
    for i in range(FIGURES):
        j = i % len(templates)                   # each figure from its own held-out path
        o = templates[j]
        value = float(np.expm1(np.log1p(values[REFERENCE_PATHS + i, j]) + error[i]))
        figure = Observation(o.row, o.metric, value, "", "", "", o.start, o.end, 0.1,
                             o.last_day)
        (row,) = actual_expected([figure], reference[:, j:j + 1])
        inside.append(row.inside_90)
    share = np.mean(inside)
    # binomial error of the share of FIGURES independent figures, 4 standard errors; the
    # intervals' own sampling error over REFERENCE_PATHS paths adds about 0.9·0.1/400 to the
    # variance (the coverage of an empirical interval is Beta-distributed)
    se = np.sqrt(0.9 * 0.1 / FIGURES + 0.9 * 0.1 / REFERENCE_PATHS)
    assert abs(share - 0.9) <= 4 * se, (share, se)


def test_percentile_and_ae_of_a_figure():
    o = Observation(1, "members", 20.0, "", "", "", 1.0, 1.0, 0.1, None)
    values = np.arange(1.0, 101.0)[:, None]              # 1..100
    (row,) = actual_expected([o], values)
    assert row.percentile == (19 + 0.5) / 100
    assert row.ae == 20.0 / 50.5
    assert not row.inside_50 and row.inside_90 and row.flag == ""


def test_capital_needed_is_the_995_quantile_of_the_next_years_worst_fall():
    rng = np.random.default_rng(3)
    reserve = np.cumsum(rng.normal(0, 1, (4000, 9)), axis=1)
    rows = reserve_adequacy(reserve, [f"q{t}" for t in range(9)])
    t = 2
    fall = np.maximum(0, reserve[:, t:t + 1] - reserve[:, t + 1:t + 5]).max(axis=1)
    assert rows[t]["capital_needed_995_yuan"] == np.quantile(fall, 0.995, method="inverted_cdf")
    assert rows[t]["horizon_quarters"] == 4 and rows[-1]["horizon_quarters"] == 1
    assert len(rows) == 8


PLATFORM = {"platform": {"age_out": "leave"},
            "plans": [{"name": "young", "ages": [30, 32]}, {"name": "old", "ages": [33, 34]}]}


def test_disclose_writes_the_tables_and_flags_figures_outside(tmp_path):
    scenario = write_toml(tmp_path / "p.toml", {**scenario_dict(), **PLATFORM})
    results = tmp_path / "r.h5"
    assert subprocess.run([sys.executable, "-m", "engine", "run", str(scenario), "--out",
                           str(results), "--quiet", "--paths", "200"]).returncode == 0
    obs = tmp_path / "obs.csv"
    obs.write_text("date,metric,value,unit,source,plan\n"
                   "2020Q2,members,1,persons,test,\n"              # far below: flagged
                   "2020Q2,aided_in_period,1e9,persons,test,old\n"  # far above: flagged
                   "2020Q3,members,1e9,persons,test,young\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "engine", "disclose", str(obs), str(results),
                           "--out", str(tmp_path / "d")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "3 outside the 90% interval" in proc.stdout
    with open(tmp_path / "d" / "disclosure_ae.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["flag"] for r in rows] == ["below the 90% interval", "above the 90% interval",
                                         "above the 90% interval"]
    with open(tmp_path / "d" / "reserve_adequacy.csv", encoding="utf-8") as f:
        plans = {r["plan"] for r in csv.DictReader(f)}
    assert plans == {"", "young", "old"}
    page = (tmp_path / "d" / "disclosure.html").read_text(encoding="utf-8")
    assert "Reserve adequacy" in page and "quarterly disclosure" in page
    # an observation for a plan that does not exist: one line, exit 2, nothing written
    assert_unknown_plan_refused(tmp_path, "disclose", after=(str(results),))

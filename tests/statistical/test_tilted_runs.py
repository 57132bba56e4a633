"""Weighted paths (issue 14): a ``[tail]`` tilt of the systematic drivers, each path's
likelihood ratio stored as ``weight``, and the summary's weighted estimates.

A zero tilt is the plain run bit for bit; on a model with every systematic driver on, the
likelihood ratios average 1 within their standard error and each driver's tilted draws
reproduce the model's moments (weighted); tilted runs estimate what a large plain run
does within 4 standard errors; bad ``[tail]`` input is one line, exit 2.
"""

import numpy as np
import pytest
import xarray as xr

from engine import cli
from engine.analysis import weighted as W
from engine.analysis.summary import summarize
from engine.model.systematic import SystematicRisk, incidence_levels
from engine.model.tilt import Tilt
from engine.store import open_results
from engine.variables import VARIABLES
from tests.conftest import assert_one_line_error, assert_within_se, scenario_dict, write_toml
from tests.statistical.helpers import tail_probability, tail_probability_standard_error

RISK = SystematicRisk(level_sd=0.15, level_autocorrelation=0.5, trend_sd=0.05,
                      shock_probability_per_year=0.2, shock_size=0.3, shock_quarters=2,
                      shock_catch_up=0.5)
SYSTEMATIC = dict(incidence__level_sd_per_year=0.15, incidence__level_autocorrelation=0.5,
                  incidence__trend_sd=0.05, incidence__shock_probability_per_year=0.2,
                  incidence__shock_size=0.3, incidence__shock_quarters=2,
                  growth__dispersion=0.05, sharing__cap_per_quarter=6.0,
                  sharing__shortfall="reserve", scenario__quarters=8,
                  growth__series=[3000.0] * 8)
TILT = {"level_shift": 0.6, "trend_shift": 0.5, "shock_probability_per_year": 0.4,
        "join_multiplier_mean": 1.02}


def run(*args) -> int:
    return cli.main([str(a) for a in args])


def results(tmp_path, name, paths, tail=None, **changes):
    data = scenario_dict(**{**SYSTEMATIC, **changes})
    if tail is not None:
        data["tail"] = tail
    out = tmp_path / f"{name}.h5"
    assert run("run", write_toml(tmp_path / f"{name}.toml", data), "--out", out,
               "--paths", paths, "--quiet") == 0
    return out


def test_a_zero_tilt_is_the_plain_run_bit_for_bit(tmp_path):
    plain = results(tmp_path, "plain", 60)
    zero = results(tmp_path, "zero", 60, tail={"level_shift": 0.0, "trend_shift": 0.0,
                                               "join_multiplier_mean": 1.0})
    with xr.open_dataset(plain, engine="h5netcdf") as a, \
            xr.open_dataset(zero, engine="h5netcdf") as b:
        for v in VARIABLES:
            assert np.array_equal(a[v.name].values, b[v.name].values, equal_nan=True), v.name
        assert np.all(a["weight"].values == 1.0) and np.all(b["weight"].values == 1.0)
        assert a["weight"].dims == ("scenario", "path")
    with open_results(plain) as ds:
        assert summarize(ds)["weighted"] == {"small": False}


def test_the_tilted_drivers_reproduce_the_models_moments_when_weighted():
    """E_g[w] = 1 and E_g[w h(Λ)] = E_f[h(Λ)]: the level's mean (1 by construction in each
    year) and its second moment against a plain sample, for every driver tilted at once."""
    years = np.repeat(np.arange(4), 4)
    n = 40_000
    tilted, log_w = incidence_levels(RISK, 5, np.arange(n), years, Tilt(**{
        k: v for k, v in TILT.items() if k != "join_multiplier_mean"}))
    plain, zero = incidence_levels(RISK, 5, np.arange(n, 2 * n), years)
    assert np.all(zero == 0.0)
    w = np.exp(log_w)
    assert_within_se(W.mean(w, None), 1.0, W.mean_standard_error(w), what="mean weight")
    for t in (0, 7, 15):
        for power in (1, 2):
            x = tilted[:, t] ** power
            y = plain[:, t] ** power
            se = np.hypot(W.mean_standard_error(x, w), y.std(ddof=1) / np.sqrt(n))
            assert_within_se(W.mean(x, w), y.mean(), se, what=f"E[Λ_{t}^{power}]")
    assert tilted[:, 15].mean() > plain[:, 15].mean()     # the tilt moves the draws up


@pytest.mark.slow
def test_tilted_runs_estimate_what_plain_runs_do(tmp_path):
    plain_file = results(tmp_path, "plain", 6000)
    tilted_file = results(tmp_path, "tilted", 3000, tail=TILT)
    with open_results(plain_file) as a, open_results(tilted_file) as b:
        sa, sb = summarize(a), summarize(b)
        w = b["weight"].values[0]
        claims_a = a["claims"].values[0].sum(axis=1)
        claims_b = b["claims"].values[0].sum(axis=1)
        short_a = a["shortfall"].values[0].sum(axis=1)
        short_b = b["shortfall"].values[0].sum(axis=1)
    assert sb["weighted"]["small"] and 0 < sb["effective_paths"]["small"] < 3000
    assert_within_se(W.mean(w), 1.0, W.mean_standard_error(w), what="mean weight")
    se = np.hypot(W.mean_standard_error(claims_b, w), W.mean_standard_error(claims_a))
    assert_within_se(W.mean(claims_b, w), claims_a.mean(), se, what="mean claims")
    threshold = float(np.quantile(short_a, 0.95))
    p_a = tail_probability(short_a, threshold)
    p_b = tail_probability(short_b, threshold, w)
    se = np.hypot(tail_probability_standard_error(short_a, threshold),
                  tail_probability_standard_error(short_b, threshold, w))
    assert_within_se(p_b, p_a, se, what="P(shortfall over the run > its plain 95% quantile)")
    se = np.hypot(sa["ruin_probability_se"]["small"], sb["ruin_probability_se"]["small"])
    assert_within_se(sb["ruin_probability"]["small"], sa["ruin_probability"]["small"], se,
                     what="ruin probability")


@pytest.mark.parametrize("tail,changes,key", [
    ({"level_shift": 0.5}, {"incidence__level_sd_per_year": 0.0}, "tail.level_shift"),
    ({"trend_shift": 0.5}, {"incidence__trend_sd": 0.0}, "tail.trend_shift"),
    ({"shock_probability_per_year": 0.5}, {"incidence__shock_size": 0.0},
     "tail.shock_probability_per_year"),
    ({"join_multiplier_mean": 1.1}, {"growth__dispersion": 0.0}, "tail.join_multiplier_mean"),
    ({"level_shift": 99.0}, {}, "tail.level_shift"),
    ({"shock_probability_per_year": 1.0}, {}, "tail.shock_probability_per_year"),
    ({"join_multiplier_mean": 0.0}, {}, "tail.join_multiplier_mean"),
    ({"target": "capital"}, {}, "tail.target"),
    ({"target": "shortfall"}, {"incidence__level_sd_per_year": 0.0, "incidence__trend_sd": 0.0,
                               "incidence__shock_probability_per_year": 0.0,
                               "growth__dispersion": 0.0}, "tail.target"),
    ({"target": "shortfall", "level": 1.0}, {}, "tail.level"),
    ({"target": "shortfall", "level": 0.0}, {}, "tail.level"),
    ({"target": "shortfall", "year": 3}, {}, "tail.year"),
    ({"target": "ruin", "horizon_quarters": 9}, {}, "tail.horizon_quarters"),
    ({"drivers": "claims"}, {}, "tail.drivers"),
    ({"target": "ruin", "drivers": "claims", "pilot": "conditional_mean"}, {}, "tail.pilot"),
    ({"target": "ruin", "pilot": "mean"}, {}, "tail.pilot"),
    ({"target": "shortfall", "drivers": "counts"}, {}, "tail.drivers"),
    ({"claim_tilt": 11.0}, {}, "tail.claim_tilt"),
    ({"target": "shortfall", "drivers": "both"},
     {"incidence__level_sd_per_year": 0.0, "incidence__trend_sd": 0.0,
      "incidence__shock_probability_per_year": 0.0, "growth__dispersion": 0.0}, "tail.target"),
    ({"target": "shortfall", "pilot_paths": 100, "level": 0.99999},
     {"sharing__cap_per_quarter": 1e9}, "tail.pilot_paths"),
])
def test_a_bad_tail_is_one_line_and_nothing_written(tmp_path, tail, changes, key):
    import subprocess
    import sys

    data = scenario_dict(**{**SYSTEMATIC, **changes})
    data["tail"] = tail
    path = write_toml(tmp_path / "bad.toml", data)
    out = tmp_path / "bad.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--out",
                           str(out), "--paths", "2"], capture_output=True, text=True)
    assert_one_line_error(proc, str(path), key)
    assert not out.exists()


def test_a_plan_may_not_tilt_on_its_own(tmp_path, capsys):
    data = scenario_dict(**SYSTEMATIC)
    data["plans"] = [{"name": "young", "ages": [30, 32], "tail": {"level_shift": 0.5}},
                     {"name": "old", "ages": [33, 34]}]
    path = write_toml(tmp_path / "p.toml", data)
    assert run("validate", path) == 2
    assert "plans.young.tail" in capsys.readouterr().err


def test_a_pilot_told_to_reach_the_target_takes_rounds_until_its_elite_is_the_tail(tmp_path):
    """``pilot_stop = "target"`` (the rule before engine 0.11.0): rounds until one's elite
    is the target's own tail, at most three; the extrapolated round scales the first round's
    shifts by κ = λ(z_level) / λ(z_elite) (engine.run.tail.tail_ratio)."""
    import json

    from scipy import stats

    from engine.run.tail import tail_ratio

    tail = {"target": "shortfall", "year": 1, "level": 0.99, "pilot_paths": 400,
            "pilot": "simulated", "pilot_stop": "target"}
    with xr.open_dataset(results(tmp_path, "t", 20, tail=tail), engine="h5netcdf") as x:
        rounds = json.loads(x.attrs["tail_tilt"])["rounds"]
    assert 1 <= len(rounds) <= 3 and rounds[-1]["reached_target"]
    assert not any(r["reached_target"] for r in rounds[:-1])
    assert "extrapolated_by" not in rounds[-1]
    assert any(m != 1.0 for m in rounds[-1]["tilt"]["join_multiplier_mean"])
    # λ(z) = φ(z) / (1 − Φ(z)): the top 10 % of a normal has mean 1.755, the top 1 % 2.665
    assert tail_ratio(0.10, 0.99) == pytest.approx(
        (stats.norm.pdf(2.3263) / 0.01) / (stats.norm.pdf(1.2816) / 0.10), rel=1e-3)


def test_the_pilot_chooses_a_tilt_stores_it_and_chooses_it_again(tmp_path):
    """A ``[tail] target`` runs a pilot on its own seed, chooses the tilt by cross-entropy,
    stores it (``tail_tilt``) and gives it to the run; the choice is a pure function of the
    seed (two runs are the same file), the tilt moves the drivers toward the tail (more
    claims in the target's year), and draws after the target's year are not tilted."""
    import json

    # a pool of 20,000 whose year-1 tail owes much to its claim counts: a simulated pilot,
    # of elites extrapolated (the surrogate, the default: test_surrogate_pilot.py)
    tail = {"target": "shortfall", "year": 1, "level": 0.99, "pilot_paths": 400,
            "pilot": "simulated", "pilot_stop": "extrapolate"}
    a = results(tmp_path, "a", 200, tail=tail)
    b = results(tmp_path, "b", 200, tail=tail)
    plain = results(tmp_path, "plain", 200)
    with xr.open_dataset(a, engine="h5netcdf") as x, xr.open_dataset(b, engine="h5netcdf") as y, \
            xr.open_dataset(plain, engine="h5netcdf") as p:
        record = json.loads(x.attrs["tail_tilt"])
        assert record == json.loads(y.attrs["tail_tilt"])
        for v in VARIABLES:
            assert np.array_equal(x[v.name].values, y[v.name].values, equal_nan=True)
        assert np.array_equal(x["weight"].values, y["weight"].values)
        assert record["target"] == "shortfall" and record["pilot"] == "simulated"
        # one round, its elite's shifts extrapolated to the target's level (pilot_stop =
        # "extrapolate"), or a first round whose elite is already the target's tail
        rounds = record["rounds"]
        assert len(rounds) == 1
        assert rounds[0]["reached_target"] or rounds[0]["extrapolated_by"] > 1
        chosen = record["rounds"][-1]["tilt"]
        assert chosen["quarters"] == 4 and max(chosen["level_shift"]) > 0
        # one mean per tilted quarter (one round's top 10 % may leave them all untilted:
        # within 2 s.e. of the model's; the test of pilot_stop = "target" sees them move)
        assert len(chosen["join_multiplier_mean"]) == 4
        w = x["weight"].values[0]
        assert not np.all(w == 1.0)
        tilted_claims = x["claims"].values[0][:, :4].sum()
        assert tilted_claims > p["claims"].values[0][:, :4].sum()
    with open_results(a) as ds:
        summary = summarize(ds)
    assert summary["weighted"]["small"]
    assert summary["effective_paths"]["small"] == pytest.approx(W.effective_sample_size(w))


def test_the_study_refuses_a_tilt_and_disclose_weighs_one(tmp_path):
    """The study compares published figures with plain paths (one line, exit 2); the
    disclosure of a tilted run weighs its paths and says how many are effective."""
    import subprocess
    import sys

    data = scenario_dict(**SYSTEMATIC)
    data["tail"] = {"level_shift": 0.5}
    path = write_toml(tmp_path / "t.toml", data)
    obs = tmp_path / "obs.csv"
    obs.write_text("date,metric,value,unit,source\n2020Q2,members,25000,persons,x\n",
                   encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "engine", "study", str(path), str(obs),
                           "--out", str(tmp_path / "doc")], capture_output=True, text=True)
    assert_one_line_error(proc, str(path), "tail")
    assert not (tmp_path / "doc").exists()
    out = results(tmp_path, "tilted", 20, tail={"level_shift": 0.5})
    proc = subprocess.run([sys.executable, "-m", "engine", "disclose", str(obs), str(out),
                           "--out", str(tmp_path / "disc")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "20 weighted paths" in proc.stdout and "effective sample size" in proc.stdout
    page = (tmp_path / "disc" / "disclosure.html").read_text(encoding="utf-8")
    assert "effective sample size" in page


def test_disclosure_tables_weigh_paths_exactly():
    """Weights 2 on half the paths and 0 on the rest give that half's lower quantiles,
    mean, percentile and 99.5 % capital (a weight is a count of paths)."""
    from engine.analysis import metrics
    from engine.studies import disclosure
    from engine.studies.observations import Observation

    rng = np.random.default_rng(5)          # test data only
    reserve = np.cumsum(rng.normal(0.0, 1e6, size=(400, 9)), axis=1) + 5e6
    w = np.tile([2.0, 0.0], 200)
    half = reserve[::2]
    weighted = disclosure.reserve_adequacy(reserve, [f"q{t}" for t in range(9)], w=w)
    for row, t in zip(weighted, range(9), strict=False):
        fall = np.maximum(0.0, (half[:, t:t + 1] - half[:, t + 1:t + 5]).max(axis=1))
        assert row["capital_needed_995_yuan"] == metrics.var(fall, 0.995)
        assert row["reserve_held_yuan"] == metrics.quantile(half[:, t], 0.5)
    values = reserve[:, :1]
    import datetime as dt

    o = Observation(1, "members", float(np.median(half[:, 0])), "persons", "x", "2020Q1",
                    0.0, 0.0, 0.1, dt.date(2020, 3, 31))
    row = disclosure.actual_expected([o], values, w)[0]
    assert row.mean == pytest.approx(half[:, 0].mean(), rel=1e-12)
    assert row.q05 == metrics.quantile(half[:, 0], 0.05)
    below = np.count_nonzero(half[:, 0] < o.value) + \
        0.5 * np.count_nonzero(half[:, 0] == o.value)
    assert row.percentile == pytest.approx(below / 200, rel=1e-12)


def test_a_tilted_calibration_backtest_weighs_its_forecast(tmp_path, capsys):
    """calibrate accepts a [tail]: the fit uses expected paths (no tilt), the backtest's
    forecast paths are drawn tilted and their quantiles weighted, and it says so."""
    from tests.statistical.test_calibration import plan, synthetic_observations

    obs = synthetic_observations(tmp_path)
    scenario = plan(market=3.0e6, level=1.3)
    scenario["tail"] = {"claim_tilt": 0.3}
    base = write_toml(tmp_path / "base.toml", scenario)
    assert run("calibrate", obs, "--scenario", base, "--out", tmp_path / "fitted.toml",
               "--until", "2019-12-31", "--draws", "4", "--paths", "20") == 0
    report = capsys.readouterr().out
    assert "backtest: fitted on observations to 2019-12-31" in report
    assert "weighted (a [tail] tilt)" in report and "effective sample size" in report
PLANS = [{"name": "young", "ages": [30, 32]}, {"name": "old", "ages": [33, 34]}]


def platform_and_plans(tmp_path, tail: dict):
    """A two-plan platform under ``tail``: its 50 paths, and each plan's run alone."""
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.simulate import simulate_paths

    data = scenario_dict(**SYSTEMATIC)
    data["plans"] = PLANS
    data["tail"] = tail
    platform = build_run_inputs(load_scenario_set(write_toml(tmp_path / "p.toml", data)).base)
    return (simulate_plans(platform, 3, 0, 50),
            [simulate_paths(plan, 3, 0, 50) for plan in platform.plans])


def test_a_platform_tilts_its_shared_drivers_once(tmp_path):
    """Plans share the platform's systematic drivers: one tilt, one likelihood ratio per
    path, the same whichever plan's draws it is computed from."""
    tail = {"level_shift": 0.4, "join_multiplier_mean": 1.05}
    out, alone = platform_and_plans(tmp_path, tail)
    alone = [a["weight"] for a in alone]
    assert np.array_equal(out["weight"], alone[0]) and np.array_equal(alone[0], alone[1])
    assert not np.all(out["weight"] == 1.0)
    file = results(tmp_path, "platform", 30, tail=tail)
    with open_results(file) as ds:
        assert summarize(ds)["weighted"]["small"]


def test_a_platforms_plans_multiply_their_claim_ratios(tmp_path):
    """Each plan's claim counts are its own draws: the platform's weight is the product of
    the plans' ratios (and the shared drivers' once)."""
    from engine.model.tilt import CLAIM_STATS_KEY

    out, alone = platform_and_plans(tmp_path, {"level_shift": 0.4, "claim_tilt": 0.3})
    claims = [a[CLAIM_STATS_KEY][:, 0] for a in alone]
    shared = np.log(alone[0]["weight"]) - claims[0]
    np.testing.assert_allclose(np.log(alone[1]["weight"]) - claims[1], shared, rtol=1e-12)
    np.testing.assert_allclose(np.log(out["weight"]), shared + claims[0] + claims[1],
                               rtol=1e-12)
    assert np.all(claims[0] != 0) and np.all(claims[1] != 0)


def test_claims_can_be_tilted_where_nothing_systematic_is(tmp_path):
    """``drivers = "claims"``: a scenario with no systematic driver takes a ruin target; the
    pilot's Esscher parameter is stored, and summary reports weighted figures."""
    import json

    plain = {"incidence__level_sd_per_year": 0.0, "incidence__trend_sd": 0.0,
             "incidence__shock_probability_per_year": 0.0, "growth__dispersion": 0.0}
    tail = {"target": "ruin", "drivers": "claims", "pilot_paths": 300}
    file = results(tmp_path, "claims", 200, tail=tail, **plain)
    with open_results(file) as ds:
        record = json.loads(ds.attrs["tail_tilt"])
        theta = record["rounds"][-1]["tilt"]["claim_tilt"]
        assert theta > 0 and record["rounds"][-1]["tilt"]["level_shift"] == 0.0
        assert not np.all(ds["weight"].values == 1.0)
        assert summarize(ds)["weighted"]


def test_a_run_stopped_early_is_the_first_quarters_of_the_whole_run(tmp_path):
    """The pilot simulates only the target's period (engine.run.tail.pilot_inputs): every
    draw is keyed by its quarter, so those quarters are the whole run's, bit for bit."""
    import dataclasses

    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.tail import pilot_inputs

    data = scenario_dict(**SYSTEMATIC)
    data["tail"] = {"level_shift": 0.4, "join_multiplier_mean": 1.05, "claim_tilt": 0.2}
    inputs = build_run_inputs(load_scenario_set(write_toml(tmp_path / "s.toml", data)).base)
    # the tilt limited to the first five quarters, as a target's period limits it
    plan = inputs.plans[0]
    inputs = dataclasses.replace(inputs, plans=(dataclasses.replace(
        plan, tilt=dataclasses.replace(plan.tilt, quarters=5)),))
    whole = simulate_plans(inputs, 5, 0, 40)
    stopped = simulate_plans(pilot_inputs(inputs, 5), 5, 0, 40)
    assert stopped["members"].shape == (40, 5)
    for name, values in stopped.items():
        if values.ndim == 2 and values.shape[1] == 5:
            np.testing.assert_array_equal(values, whole[name][:, :5], err_msg=name)
    np.testing.assert_array_equal(stopped["weight"], whole["weight"])
    assert not np.all(whole["weight"] == 1.0)


def test_the_pilots_conditional_mean_is_the_expected_path_given_the_drivers(tmp_path):
    """Without systematic risk every path's conditional mean is the scenario's expected
    path; with it, the paths differ by their drivers alone (the same drivers, the same
    path)."""
    from engine.config.scenario import load_scenario_set
    from engine.model.mean_path import expected_path
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.simulate import CONDITIONAL_MEAN

    plain = {"incidence__level_sd_per_year": 0.0, "incidence__trend_sd": 0.0,
             "incidence__shock_probability_per_year": 0.0, "growth__dispersion": 0.0}
    inputs = build_run_inputs(load_scenario_set(write_toml(
        tmp_path / "p.toml", scenario_dict(**{**SYSTEMATIC, **plain}))).base)
    out = simulate_plans(inputs, 5, 0, 3, CONDITIONAL_MEAN)
    expected = expected_path(inputs.plans[0])
    for name in ("members", "claims", "aid", "shortfall", "reserve", "solvency_gap"):
        for p in range(3):
            np.testing.assert_allclose(out[name][p], expected[name], rtol=1e-12, atol=1e-9,
                                       err_msg=name)
    inputs = build_run_inputs(load_scenario_set(write_toml(
        tmp_path / "s.toml", scenario_dict(**SYSTEMATIC))).base)
    first = simulate_plans(inputs, 5, 0, 4, CONDITIONAL_MEAN)
    again = simulate_plans(inputs, 5, 2, 2, CONDITIONAL_MEAN)
    np.testing.assert_array_equal(first["aid"][2:], again["aid"])
    assert len({float(v) for v in first["aid"][:, -1]}) == 4


def test_the_default_pilot_ranks_paths_by_their_conditional_mean(tmp_path):
    """Without ``pilot``, a pilot tilting systematic drivers computes each path's expected
    path given its drivers, and tilts the incidence upward for a shortfall target."""
    import json

    tail = {"target": "shortfall", "year": 2, "level": 0.99, "pilot_paths": 400}
    file = results(tmp_path, "mean", 50, tail=tail)
    with xr.open_dataset(file, engine="h5netcdf") as ds:
        record = json.loads(ds.attrs["tail_tilt"])
    chosen = record["rounds"][-1]["tilt"]
    assert record["pilot"] == "conditional_mean"
    assert max(chosen["level_shift"]) > 0 or chosen["trend_shift"] > 0

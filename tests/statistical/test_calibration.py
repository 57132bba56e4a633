"""Calibration recovers known parameters from figures the engine itself produced."""

import datetime as dt
import math
import tomllib

import numpy as np
import pytest

from engine import cli
from engine.config.scenario import load_scenario_set
from engine.model.inputs import build_inputs
from engine.run.simulate import simulate_paths
from engine.studies import calibrate
from tests.conftest import write_toml

TRUE = {"growth.market_potential": 2.0e6, "growth.innovation": 0.3, "growth.imitation": 1.2,
        "level": 1.0, "lapse.base_quarterly": 0.03}


def plan(market=2.0e6, innovation=0.3, imitation=1.2, level=1.0, lapse=0.03):
    return {
        "scenario": {"name": "synthetic", "start": "2018Q1", "quarters": 16, "paths": 40,
                     "seed": 99},
        "population": {"initial_members": 0, "age_min": 30, "age_max": 39},
        "growth": {"model": "bass", "market_potential": market, "innovation": innovation,
                   "imitation": imitation},
        "incidence": {"selection": [0.5 * level, 1.0 * level]},
        "lapse": {"base_quarterly": lapse},
        "benefits": {"waiting_quarters": 1, "amount_by_age": [[30, 39, 100000]]},
        "sharing": {"fee_rate": 0.08},
    }


def synthetic_observations(tmp_path, noise_sd=0.05, seed=3, truth_doc=None, aid_rows=False):
    """One simulated path, read on sparse irregular dates, with multiplicative noise."""
    truth = load_scenario_set(write_toml(tmp_path / "truth.toml", truth_doc or plan())).base
    out = simulate_paths(build_inputs(truth), 99, 0, 1)
    rng = np.random.default_rng(seed)  # test data only
    start = dt.date(2018, 1, 1)
    rows = []
    from engine.studies.observations import model_values, read_observations

    days = sorted(rng.choice(np.arange(60, 16 * 91 - 10), size=9, replace=False))
    lines = [f"{start + dt.timedelta(days=int(d))},members,1,persons,synthetic,,,0.07"
             for d in days]
    for d in sorted(rng.choice(np.arange(200, 16 * 91 - 10), size=4, replace=False)):
        lines.append(f"{start + dt.timedelta(days=int(d))},cumulative_aided,1,persons,"
                     "synthetic,,,0.08")
    lines += ["2019,aided_in_period,1,persons,synthetic,,,0.08",
              "2020,aided_in_period,1,persons,synthetic,,,0.08"]
    if aid_rows:
        lines += ["2019,aid_amount_in_period,1,yuan,synthetic,,,0.08",
                  "2020,aid_amount_in_period,1,yuan,synthetic,,,0.08",
                  "2021,aid_amount_in_period,1,yuan,synthetic,,,0.08"]
    header = "date,metric,value,unit,source,period_start,period_end,sd_log"
    path = tmp_path / "obs.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    obs = read_observations(path, "2018Q1", 16)
    exact = model_values(obs, out, 0.0)[0]
    noisy = exact * np.exp(rng.normal(0.0, noise_sd, size=exact.size))
    for line, value in zip(lines, noisy, strict=True):
        parts = line.split(",")
        parts[2] = f"{value:.6g}"
        rows.append(",".join(parts))
    # Make the cumulative counts non-decreasing after the noise, as real ones are.
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    try:
        read_observations(path, "2018Q1", 16)
    except Exception:  # noqa: BLE001 - a falling cumulative after noise: drop the noise there
        rows = [r if ",cumulative_aided," not in r else
                ",".join(r.split(",")[:2] + [f"{e:.6g}"] + r.split(",")[3:])
                for r, e in zip(rows, exact, strict=True)]
        path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_calibration_recovers_known_parameters(tmp_path):
    obs = synthetic_observations(tmp_path)
    # The prior is centred on the base scenario (near the truth, as a sensible base is);
    # the optimiser starts far from the truth: at least 5 standard errors on every parameter.
    base = write_toml(tmp_path / "base.toml", plan(market=3.2e6, innovation=0.18, imitation=2.0,
                                                    level=1.6, lapse=0.06))
    true_theta = [math.log(TRUE["growth.market_potential"]), math.log(TRUE["growth.innovation"]),
                  math.log(TRUE["growth.imitation"]), math.log(TRUE["level"] / 1.6),
                  math.log(0.03 / 0.97)]
    start_theta = [math.log(2.0e7), math.log(0.03), math.log(6.0), math.log(3.0 / 1.6),
                   math.log(0.5 / 0.5)]
    result = calibrate.fit(obs, base, start=start_theta)
    se = result.standard_errors
    for p, est, s, true, start in zip(result.parameters, result.theta, se, true_theta,
                                      start_theta, strict=True):
        # A fit that stayed where it began fails the second check.
        assert abs(start - true) > 5 * s, (
            f"{p.name}: start {start:.3f} only {abs(start - true) / s:.1f} SE from {true:.3f}")
        assert abs(est - true) < 4 * s, f"{p.name}: {est:.3f} vs true {true:.3f}, 4 SE {4*s:.3f}"
    # The claims data must inform the incidence level tightly (else the check above would
    # be vacuous); members alone confound M, p and lapse (correlations near 0.99), whose
    # wide intervals are the honest answer.
    assert se[3] < 0.15, se
    corr = result.covariance / np.outer(se, se)
    assert abs(corr[0, 4]) > 0.9  # M and lapse trade off: higher M with higher lapse


def test_backtest_holds_out_later_observations(tmp_path, capsys):
    obs = synthetic_observations(tmp_path)
    base = write_toml(tmp_path / "base.toml", plan(market=3.0e6, level=1.3))
    out = tmp_path / "fitted.toml"
    assert cli.main(["calibrate", str(obs), "--scenario", str(base), "--out", str(out),
                     "--until", "2019-12-31", "--draws", "8", "--paths", "10"]) == 0
    report = capsys.readouterr().out
    later_rows = [line for line in obs.read_text().splitlines()[1:]
                  if line.split(",")[0] > "2019-12-31" and not line.startswith("2019,")]
    assert "backtest: fitted on observations to 2019-12-31" in report
    backtest_part = report.split("backtest:")[1]
    assert backtest_part.count("yes") + backtest_part.count("no ") >= len(later_rows)
    fitted = tomllib.loads(out.read_text())
    assert fitted["sweep"]["method"] == "zip"
    assert len(fitted["sweep"]["growth.market_potential"]) == 8
    assert fitted["scenario"]["paths"] == 5                 # 40 paths shared among 8 draws
    fitted_set = load_scenario_set(out)
    assert len(fitted_set.scenarios) == 8
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_a_fit_that_does_not_converge_writes_nothing(tmp_path, monkeypatch, capsys):
    obs = synthetic_observations(tmp_path)
    base = write_toml(tmp_path / "base.toml", plan())

    class Failed:
        success, message, x, fun, nit = False, "ABNORMAL_TERMINATION_IN_LNSRCH", None, 0.0, 0

    monkeypatch.setattr(calibrate.optimize, "minimize", lambda *a, **k: Failed())
    out = tmp_path / "fitted.toml"
    assert cli.main(["calibrate", str(obs), "--scenario", str(base), "--out", str(out)]) == 2
    assert "did not converge" in capsys.readouterr().err
    assert not out.exists() and not out.with_suffix(".png").exists()


@pytest.mark.parametrize("until", ["2017-06-30"])
def test_until_before_any_observation(tmp_path, until, capsys):
    obs = synthetic_observations(tmp_path)
    base = write_toml(tmp_path / "base.toml", plan())
    assert cli.main(["calibrate", str(obs), "--scenario", str(base), "--out",
                     str(tmp_path / "f.toml"), "--until", until]) == 2
    assert "no observations on or before" in capsys.readouterr().err


LEVELS = [{"share_of_cap": 0.2, "probability": 0.1}, {"share_of_cap": 0.6, "probability": 0.3}]


def with_levels(doc: dict, total: float) -> dict:
    doc["benefits"]["payout_levels"] = [{**lv, "probability": lv["probability"] * total / 0.4}
                                        for lv in LEVELS]
    return doc


def test_the_share_paid_below_the_cap_moves_the_levels_total_and_keeps_their_shape():
    raw = with_levels(plan(), 0.4)
    parameters = calibrate.parameters_for(raw)
    assert parameters[-1].key == "benefits.payout_levels"
    theta = calibrate.initial_theta(raw, parameters)
    assert theta[-1] == pytest.approx(math.log(0.4 / 0.6))
    theta[-1] = math.log(0.7 / 0.3)
    levels = calibrate.apply_theta(raw, parameters, theta)["benefits"]["payout_levels"]
    assert [lv["share_of_cap"] for lv in levels] == [0.2, 0.6]
    assert [lv["probability"] for lv in levels] == pytest.approx([0.175, 0.525])
    # without levels (or with a plan's own) the share is not fitted
    assert calibrate.parameters_for(plan())[-1].key != "benefits.payout_levels"


def test_calibration_recovers_the_share_paid_below_the_cap(tmp_path):
    """Claims and aid amounts of one path whose claims are paid below the cap with total
    probability 0.5: the fit from a base at 0.05 lands within 4 standard errors of 0.5 (and
    the start is more than 5 away), the mean payout per case informing it. The prior, centred
    on the base, pulls by about (θ0 − θ)/(1 + 1/se²): a third of a standard error here."""
    truth = with_levels(plan(), 0.5)
    obs = synthetic_observations(tmp_path, truth_doc=truth, aid_rows=True)
    base = write_toml(tmp_path / "base.toml", with_levels(plan(), 0.05))
    result = calibrate.fit(obs, base)
    k = [p.key for p in result.parameters].index("benefits.payout_levels")
    se = result.standard_errors[k]
    true, start = math.log(0.5 / 0.5), math.log(0.05 / 0.95)
    assert abs(start - true) > 5 * se, se
    assert abs(result.theta[k] - true) < 4 * se, (result.theta[k], se)


def test_the_age_tilt_is_fitted_only_with_figures_of_claimants_ages():
    raw = plan()
    assert "incidence.age_tilt_per_decade" not in [p.key for p in
                                                   calibrate.parameters_for(raw)]
    from engine.studies.observations import Observation

    age = Observation(1, "mean_age_at_claim", 40.0, "years", "s", "2019", 0, 4, 0.1,
                      dt.date(2019, 12, 31))
    parameters = calibrate.parameters_for(raw, [age])
    assert parameters[-1].key == "incidence.age_tilt_per_decade"
    theta = calibrate.initial_theta(raw, parameters)
    assert theta[-1] == 0.0
    theta[-1] = -0.7
    assert calibrate.apply_theta(raw, parameters, theta)["incidence"][
        "age_tilt_per_decade"] == -0.7


@pytest.mark.slow
def test_calibration_recovers_the_age_tilt_from_claimants_ages(tmp_path):
    """Claimants' mean ages and a share of claims by age from a plan whose claim rates
    rise less steeply with age than the table's (τ = −1.2 per decade): the fit from τ = 0
    lands within 4 standard errors of −1.2, and the start is more than 5 away."""
    from engine.run.plans import build_run_inputs, expected_paths
    from engine.studies.observations import model_values, read_observations
    from engine.studies.profile_figures import detail_results, with_profile_detail

    def wide(tilt):
        doc = plan()
        doc["population"].update(age_min=20, age_max=59)
        doc["benefits"]["amount_by_age"] = [[20, 59, 100000]]
        doc["incidence"]["age_tilt_per_decade"] = tilt
        return doc

    truth = load_scenario_set(write_toml(tmp_path / "truth.toml", wide(-1.2))).base
    platform, bands = with_profile_detail(build_run_inputs(truth))
    out = expected_paths(platform, detail=True)
    out |= detail_results(out, bands)
    header = ("date,metric,value,unit,source,period_start,period_end,sd_log,note,sex,"
              "age_from,age_to")
    lines = ["2018-12,members,1,persons,synthetic,,,0.05,,,,",
             "2019-12,members,1,persons,synthetic,,,0.05,,,,",
             "2019,aided_in_period,1,persons,synthetic,,,0.05,,,,",
             "2019,mean_age_at_claim,1,years,synthetic,,,0.02,,,,",
             "2020,mean_age_at_claim,1,years,synthetic,,,0.02,,male,,",
             "2020,claims_age_share,1,percent,synthetic,,,0.05,,,20,39"]
    path = tmp_path / "obs.csv"
    path.write_text(header + "\n" + "\n".join(lines) + "\n")
    exact = model_values(read_observations(path, "2018Q1", 16), out, 0.0)
    rows = [",".join(line.split(",")[:2] + [f"{v:.6g}"] + line.split(",")[3:])
            for line, v in zip(lines, exact, strict=True)]
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    result = calibrate.fit(path, write_toml(tmp_path / "base.toml", wide(0.0)))
    k = [p.key for p in result.parameters].index("incidence.age_tilt_per_decade")
    se = result.standard_errors[k]
    assert abs(0.0 - (-1.2)) > 5 * se, se
    assert abs(result.theta[k] - (-1.2)) < 4 * se, (result.theta[k], se)


@pytest.mark.slow
def test_a_scenario_that_extends_another_is_fitted_as_the_merged_document(tmp_path):
    obs = synthetic_observations(tmp_path)
    base = write_toml(tmp_path / "base.toml", plan(market=1.5e6))
    child = tmp_path / "child.toml"
    child.write_text('extends = "base.toml"\n\n[scenario]\nname = "child"\n',
                     encoding="utf-8")
    direct, extended = calibrate.fit(obs, base), calibrate.fit(obs, child)
    assert extended.raw["scenario"]["name"] == "child"
    np.testing.assert_allclose(extended.theta, direct.theta, rtol=1e-9, atol=1e-12)

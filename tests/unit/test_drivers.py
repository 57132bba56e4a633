"""Each path's systematic drivers in the results file (issue 28, engine.model.drivers): the
values the path used, the same bits from both engines, the model's law when weighted, none
stored (and said so) where nothing systematic is drawn, NaN for a scenario of a set that
does not draw one."""

import numpy as np
import pytest
import xarray as xr

from engine.analysis import weighted as W
from engine.model.drivers import ATTRIBUTE, DRIVERS
from engine.run.simulate import simulate_paths
from engine.store import open_results
from tests.conftest import inputs_of, scenario_dict, write_toml
from tests.statistical.test_tilted_runs import SYSTEMATIC, TILT, results, run

NAMES = [d.name for d in DRIVERS]


def levels_from_drivers(ds, scenario: int = 0) -> np.ndarray:
    """``Λ[p, t]`` rebuilt from the stored drivers by engine.model.systematic's formulas."""
    sd, rho, trend_sd = 0.15, 0.5, 0.05
    size, quarters, catch_up = 0.3, 2, 0.0
    eps = ds["driver_level_innovation"].values[scenario]
    years = ds["calendar_year"].values
    labels = [str(q) for q in ds["quarter"].values]
    year_of_quarter = np.array([int(q[:4]) - years[0] for q in labels])
    z = np.zeros_like(eps)
    for y in range(eps.shape[1]):
        z[:, y] = sd * eps[:, y] if y == 0 else \
            rho * z[:, y - 1] + sd * np.sqrt(1 - rho * rho) * eps[:, y]
    level = np.exp(z - sd * sd / 2)[:, year_of_quarter]
    t = np.arange(len(labels)) / 4.0
    level = level * np.exp(trend_sd * ds["driver_trend"].values[scenario][:, None] * t)
    starts = ds["driver_shock_start"].values[scenario]
    shock = np.ones_like(starts)
    for p in range(len(starts)):
        left = 0
        for q in range(starts.shape[1]):
            if starts[p, q] == 1:
                left = quarters
            if left > 0:
                shock[p, q] = 1 + size
                left -= 1
    assert catch_up == 0.0   # the SYSTEMATIC scenario has no catch-up
    return level * shock


@pytest.mark.parametrize("tail", [None, TILT])
def test_the_stored_drivers_are_those_the_paths_used(tmp_path, tail):
    out = results(tmp_path, "drivers", 80, tail=tail)
    with open_results(out) as ds:
        assert ds.attrs[ATTRIBUTE] == ",".join(NAMES)
        assert ds["driver_level_innovation"].dims == ("scenario", "path", "calendar_year")
        assert ds["driver_trend"].dims == ("scenario", "path")
        assert ds["driver_join_multiplier"].dims == ("scenario", "path", "quarter")
        assert list(ds["calendar_year"].values) == [2020, 2021]
        # Λ rebuilt from the drivers is the level the path ran with: the tilted draw when
        # tilted (what drove the path), not the stream's untransformed draw
        assert np.allclose(levels_from_drivers(ds), ds["incidence_level"].values[0],
                           rtol=1e-12, atol=0)
        if tail is not None:
            level = ds["driver_level_innovation"].values[0]
            assert level.mean() > 0.3      # shifted by 0.6: the tilted draws
        for name in NAMES:
            assert ds[name].attrs["law"] and ds[name].attrs["units"] == "1"


def test_both_engines_store_the_same_driver_bits(tmp_path):
    inputs = inputs_of(tmp_path, scenario_dict(**SYSTEMATIC))
    fast = simulate_paths(inputs, 11, 3, 30, backend="numba")
    ref = simulate_paths(inputs, 11, 3, 30, backend="numpy")
    for name in NAMES:
        assert np.array_equal(fast[name], ref[name]), name


def test_weighted_drivers_follow_the_models_law(tmp_path):
    """Under a tilt the stored innovations are shifted; weighed by ``weight`` their mean is
    the model's 0 and their variance 1, within 4 s.e. of the weighted estimators."""
    out = results(tmp_path, "weighted", 400, tail={"level_shift": 0.5, "trend_shift": 0.4})
    with open_results(out) as ds:
        w = ds["weight"].values[0]
        for x in (ds["driver_level_innovation"].values[0][:, 0], ds["driver_trend"].values[0]):
            mean, se = W.mean(x, w), W.mean_standard_error(x, w)
            assert abs(mean) < 4 * se
            second, se2 = W.mean(x * x, w), W.mean_standard_error(x * x, w)
            assert abs(second - 1.0) < 4 * se2


def test_a_run_without_systematic_risk_stores_no_drivers_and_says_so(tmp_path):
    path = write_toml(tmp_path / "plain.toml", scenario_dict())
    out = tmp_path / "plain.h5"
    assert run("run", path, "--out", out, "--paths", 10, "--quiet") == 0
    with open_results(out) as ds:
        assert ds.attrs[ATTRIBUTE] == ""
        assert not [v for v in ds.data_vars if v.startswith("driver_")]
        assert "calendar_year" not in ds.dims


def test_a_set_stores_nan_for_the_scenarios_that_do_not_draw_a_driver(tmp_path):
    data = scenario_dict(**SYSTEMATIC)
    data["sweep"] = {"incidence.level_sd_per_year": [0.0, 0.15]}
    path = write_toml(tmp_path / "set.toml", data)
    out = tmp_path / "set.h5"
    assert run("run", path, "--out", out, "--paths", 12, "--quiet") == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        level = ds["driver_level_innovation"].values
        assert np.isnan(level[0]).all() and np.isfinite(level[1]).all()
        # the other drivers are drawn in both, on the same streams
        assert np.array_equal(ds["driver_trend"].values[0], ds["driver_trend"].values[1])


# ------------------------------------------------------------- [drivers]: held drivers

HELD = {"level_innovations": {"2021": 2.5}, "trend": -1.0,
        "join_multipliers": {"2020Q2": 0.25}, "shock_starts": ["2020Q3"]}


def test_held_drivers_are_the_same_on_every_path_and_the_rest_still_drawn(tmp_path):
    plain = results(tmp_path, "plain", 40)
    held = results(tmp_path, "held", 40, drivers__level_innovations=HELD["level_innovations"],
                   drivers__trend=HELD["trend"], drivers__join_multipliers=HELD[
                       "join_multipliers"], drivers__shock_starts=HELD["shock_starts"])
    with open_results(plain) as a, open_results(held) as b:
        level = b["driver_level_innovation"].values[0]
        assert np.all(level[:, 1] == 2.5)
        assert np.array_equal(level[:, 0], a["driver_level_innovation"].values[0][:, 0])
        assert np.all(b["driver_trend"].values[0] == -1.0)
        joins = b["driver_join_multiplier"].values[0]
        assert np.all(joins[:, 1] == 0.25)
        others = [t for t in range(joins.shape[1]) if t != 1]
        assert np.array_equal(joins[:, others], a["driver_join_multiplier"].values[0][:, others])
        starts = b["driver_shock_start"].values[0]
        assert np.all(starts[:, 2] == 1) and starts.sum() == len(starts)
        # the levels rebuilt from the held values are those the paths ran with
        assert np.allclose(levels_from_drivers(b), b["incidence_level"].values[0],
                           rtol=1e-12, atol=0)


def test_held_drivers_add_nothing_to_the_weights(tmp_path):
    """Under a tilt of the level and the trend, holding every year's innovation and the
    trend leaves only the join multipliers' and shocks' likelihood ratios."""
    tail = {"level_shift": 0.6, "trend_shift": 0.5}
    held = results(tmp_path, "held", 30, tail=tail,
                   drivers__level_innovations={"2020": 0.1, "2021": 0.2}, drivers__trend=0.0)
    with open_results(held) as ds:
        assert np.all(ds["weight"].values == 1.0)


@pytest.mark.parametrize("drivers,key,what", [
    ({"level_innovations": {"2031": 1.0}}, "drivers.level_innovations.2031",
     "a year outside the run"),
    ({"join_multipliers": {"2020Q1": 0.0}}, "drivers.join_multipliers.2020Q1", "must be"),
    ({"join_multipliers": {"2040Q1": 1.0}}, "drivers.join_multipliers.2040Q1",
     "outside the run"),
    ({"shock_starts": ["2020Q5"]}, "drivers.shock_starts", "must be a quarter"),
    ({"trend": 9.0}, "drivers.trend", "must be in [-8, 8]"),
])
def test_bad_held_drivers_are_one_line_each(tmp_path, capsys, drivers, key, what):
    data = scenario_dict(**SYSTEMATIC)
    data["drivers"] = drivers
    path = write_toml(tmp_path / "bad.toml", data)
    assert run("validate", path) == 2
    err = capsys.readouterr().err
    assert f"{key}: " in err and what in err, err


def test_holding_a_driver_the_scenario_does_not_draw_is_an_error(tmp_path, capsys):
    data = scenario_dict()
    data["drivers"] = {"trend": 1.0}
    path = write_toml(tmp_path / "bad.toml", data)
    assert run("validate", path) == 2
    assert "drivers.trend: incidence.trend_sd is 0: no trend error to hold" in \
        capsys.readouterr().err

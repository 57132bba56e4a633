"""Reverse stress testing (issue 28): events, their probability, and the drivers' means
given them.

On a linear Gaussian model (drivers ``Z ~ N(0, I)``, event ``a·Z > c``) the conditional
mean is known: ``E[Z | a·Z > c] = a / |a| · φ(k) / (1 − Φ(k))`` with ``k = c / |a|``; the
estimators reproduce it within 4 s.e., from plain and from tilted (weighted) paths. On the
engine, a ``[tail]`` aimed at ruin estimates the ruin probability a large plain run does,
within 4 s.e.
"""

import json

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from engine.analysis import reverse_stress as R
from engine.analysis.events import EventError, parse_event
from engine.studies.reverse_stress import analyse
from tests.conftest import assert_within_se
from tests.statistical.test_tilted_runs import results, run

LABELS = [f"{y}Q{q}" for y in (2020, 2021) for q in (1, 2, 3, 4)]
A = np.array([1.0, 2.0, -0.5, 0.0])
C = 3.0


def gaussian_file(n: int, seed: int, tilt: np.ndarray | None = None) -> xr.Dataset:
    """A results-like dataset of ``n`` paths whose year-1 shortfall is ``a·Z`` (yuan) with
    ``Z`` the four level innovations; drawn from ``N(tilt, I)`` with the likelihood ratio
    as ``weight`` when ``tilt`` is given."""
    rng = np.random.default_rng(seed)
    mu = np.zeros(len(A)) if tilt is None else tilt
    z = rng.standard_normal((n, len(A))) + mu
    w = np.exp(-z @ mu + 0.5 * mu @ mu)
    shortfall = np.zeros((1, n, len(LABELS)))
    shortfall[0, :, 0] = z @ A
    return xr.Dataset(
        {"shortfall": (("scenario", "path", "quarter"), shortfall),
         "weight": (("scenario", "path"), w[None, :]),
         "driver_level_innovation": (("scenario", "path", "calendar_year"), z[None, :, :])},
        coords={"scenario": ["gauss"], "quarter": LABELS,
                "calendar_year": [2020, 2021, 2022, 2023]})


def exact_conditional_mean() -> np.ndarray:
    norm = np.linalg.norm(A)
    k = C / norm
    return A / norm * stats.norm.pdf(k) / stats.norm.sf(k)


@pytest.mark.parametrize("tilt", [None, A / np.linalg.norm(A) * C / np.linalg.norm(A)])
def test_conditional_means_of_a_linear_gaussian_event(tilt):
    ds = gaussian_file(40_000, 1, tilt)
    event = parse_event(f"shortfall year 1 > {C}", LABELS)
    happens = event.happens({"shortfall": ds["shortfall"].values[0]})
    w = ds["weight"].values[0]
    p = R.probability(happens, w)
    exact_p = stats.norm.sf(C / np.linalg.norm(A))
    assert_within_se(p.estimate, exact_p, p.standard_error, what="P(a·Z > c)")
    shifts = {s.index: s for s in R.driver_shifts(_every_year(ds), event, 0, happens)}
    for j, want in enumerate(exact_conditional_mean()):
        s = shifts[j]
        assert_within_se(s.mean_given_event, want, s.standard_error, what=f"E[Z_{j} | A]")
        # against the paths' own mean: E[Z | A] − E[Z] = E[Z | A], the law's mean being 0
        assert_within_se(s.shift_sd, want, s.shift_se, what=f"shift of Z_{j}")
    if tilt is not None:
        assert p.effective_paths < 40_000 and p.paths_with_event > 10_000


def _every_year(ds):
    """The dataset with its four driver years labelled 2020, so that every component lies
    before the year-1 event's end (a driver's later years are not read)."""
    return ds.assign_coords(calendar_year=[2020, 2020, 2020, 2020])


def test_an_event_every_path_has_moves_no_driver():
    ds = gaussian_file(2000, 2)
    event = parse_event("shortfall year 1 > -1e9", LABELS)
    happens = event.happens({"shortfall": ds["shortfall"].values[0]})
    assert happens.all()
    for s in R.driver_shifts(_every_year(ds), event, 0, happens):
        assert s.shift_sd == 0.0 and s.shift_se == 0.0 and s.within_noise


@pytest.mark.parametrize("text,what", [
    ("solvency 2021Q4", "unknown quantity"),
    ("ruin by 2030Q1", "quarter outside the run"),
    ("shortfall year 3 > 1e9", "projection year outside the run"),
    ("shortfall year 1 > lots", "the amount is not a number"),
    ("members at 2020Q2 > 5", "not an event of the form"),
])
def test_a_bad_event_says_what_is_wrong(text, what):
    with pytest.raises(EventError, match=what):
        parse_event(text, LABELS)


def test_events_read_the_quarters_they_name():
    ruin = parse_event("ruin by 2020Q3", LABELS)
    gap = np.zeros((3, 8))
    gap[0, 2] = 1.0          # by 2020Q3
    gap[1, 3] = 1.0          # after it
    reserve = np.ones((3, 8))
    assert list(ruin.happens({"solvency_gap": gap, "reserve": reserve})) == [True, False, False]
    members = parse_event("members at 2021Q1 < 100", LABELS)
    m = np.full((2, 8), 150.0)
    m[1, 4] = 99.0
    assert list(members.happens({"members": m})) == [False, True]
    cost = parse_event("cost per member year 2 > 40", LABELS)
    c = np.full((2, 8), 10.0)
    c[1, 5] = 11.0
    assert list(cost.happens({"cost_per_member": c})) == [False, True]


# ----------------------------------------------------------------------- on the engine

# A pool of two million whose ruin (a required cost above the cap of 20 yuan a quarter) has
# a probability of a few per cent, driven by the systematic drivers more than by the counts
RUINOUS = dict(population__initial_members=2_000_000, growth__series=[300000.0] * 8,
               sharing__cap_per_quarter=20.0, sharing__shortfall="reserve")


@pytest.mark.slow
def test_a_tilt_aimed_at_ruin_estimates_the_plain_runs_probability(tmp_path):
    plain = results(tmp_path, "plain", 6000, **RUINOUS)
    tilted = results(tmp_path, "tilted", 1500, tail={"target": "ruin", "pilot_paths": 1000},
                     **RUINOUS)
    with xr.open_dataset(plain, engine="h5netcdf") as a, \
            xr.open_dataset(tilted, engine="h5netcdf") as b:
        pa = analyse(a, "ruin by 2021Q4")["probability"]
        pb = analyse(b, "ruin by 2021Q4")["probability"]
    assert 0 < pa["estimate"] < 0.2
    se = np.hypot(pa["standard_error"], pb["standard_error"])
    assert_within_se(pb["estimate"], pa["estimate"], se, what="P(ruin by 2021Q4)")


def test_the_command_answers_and_writes_its_files(tmp_path, capsys):
    out = results(tmp_path, "sys", 200, **RUINOUS)
    assert run("reverse-stress", out, "--event", "ruin by 2021Q4", "--out",
               tmp_path / "rs") == 0
    text = capsys.readouterr().out
    assert "probability:" in text and "drivers given the event" in text
    data = json.loads((tmp_path / "rs" / "reverse_stress.json").read_text(encoding="utf-8"))
    assert data["probability"]["paths"] == 200
    assert data["drivers_stored"] and data["driver_shifts"]
    ranked = [abs(s["shift_sd"]) for s in data["driver_shifts"]]
    assert ranked == sorted(ranked, reverse=True)
    assert (tmp_path / "rs" / "driver_shifts.csv").is_file()


def test_a_file_without_drivers_says_so_rather_than_show_zeros(tmp_path, capsys):
    from tests.conftest import scenario_dict, write_toml

    path = write_toml(tmp_path / "plain.toml", scenario_dict(**RUINOUS))
    out = tmp_path / "plain.h5"
    assert run("run", path, "--out", out, "--paths", 50, "--quiet") == 0
    assert run("reverse-stress", out, "--event", "ruin by 2021Q2", "--out",
               tmp_path / "rs") == 0
    text = capsys.readouterr().out
    assert "stores no systematic drivers" in text
    data = json.loads((tmp_path / "rs" / "reverse_stress.json").read_text(encoding="utf-8"))
    assert data["driver_shifts"] == [] and data["drivers_note"]


@pytest.mark.parametrize("args,key", [
    (["--event", "ruin by 2031Q1"], "--event"),
    (["--event", "claims year 1 > 5"], "--event"),
    (["--event", "shortfall year 1 > x"], "--event"),
    (["--event", "ruin by 2021Q1", "--scenario", "nope"], "--scenario"),
])
def test_bad_reverse_stress_input_is_one_line_and_nothing_written(tmp_path, capsys, args,
                                                                   key):
    out = results(tmp_path, "sys", 20, **RUINOUS)
    folder = tmp_path / "rs"
    assert run("reverse-stress", out, *args, "--out", folder) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and f": {key}: " in lines[0], lines
    assert not folder.exists()


# ------------------------------------------------------------- the most likely way to fail

def test_the_design_point_of_a_linear_event_is_c_a_over_a_squared():
    """``min ½|u|²`` subject to ``a·u ≥ c``: ``u* = c a / |a|²``, ``β = c / |a|``."""
    from engine.studies.likely_failure import design_point

    u, margin, found, _ = design_point(lambda rows: rows @ A - C, len(A))
    assert found
    assert np.allclose(u, C * A / (A @ A), atol=1e-5)
    assert np.isclose(np.linalg.norm(u), C / np.linalg.norm(A), atol=1e-6)


def test_the_design_point_of_an_event_on_the_expected_path_is_the_expectation():
    from engine.studies.likely_failure import design_point

    u, margin, found, message = design_point(lambda rows: rows @ A + 1.0, len(A))
    assert found and not u.any() and margin == 1.0 and "expected path" in message


def test_the_replay_file_has_the_event_on_its_expected_path_and_most_paths(tmp_path,
                                                                             capsys):
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs
    from engine.studies.likely_failure import most_likely_failure

    out = results(tmp_path, "sys", 200, **RUINOUS)
    folder = tmp_path / "rs"
    assert run("reverse-stress", out, "--event", "ruin by 2021Q4", "--out", folder) == 0
    text = capsys.readouterr().out
    assert "most likely way to fail" in text and "standard deviations" in text
    answer = json.loads((folder / "reverse_stress.json").read_text(encoding="utf-8"))
    failure = answer["likely_failure"]
    assert failure["found"] and failure["distance_sd"] > 0
    assert np.isclose(failure["form_probability"], stats.norm.sf(failure["distance_sd"]))
    replay = folder / "reverse_stress.toml"
    # held at the design point (a little beyond), the expected path has the event
    scenario = load_scenario_set(replay).base
    event = parse_event("ruin by 2021Q4", LABELS)
    held = most_likely_failure(build_run_inputs(scenario), event)
    assert held.on_expected_path and held.margin > 0
    # and a plain run of it has the event on most of its paths
    replayed = tmp_path / "replay.h5"
    assert run("run", replay, "--out", replayed, "--paths", 200, "--quiet") == 0
    with xr.open_dataset(replayed, engine="h5netcdf") as ds:
        p = analyse(ds, "ruin by 2021Q4", search=False)["probability"]
    assert p["estimate"] > 0.5


def test_conditional_means_read_back_from_a_results_file_on_disk(tmp_path):
    """The Gaussian paths written as netCDF-4 and read back by xarray give the same
    conditional means (the estimators read files, not only datasets in memory)."""
    ds = gaussian_file(5000, 8)
    path = tmp_path / "gauss.h5"
    ds.to_netcdf(path, engine="h5netcdf")
    event = parse_event(f"shortfall year 1 > {C}", LABELS)
    with xr.open_dataset(path, engine="h5netcdf") as back:
        happens = event.happens({"shortfall": back["shortfall"].values[0]})
        got = R.driver_shifts(_every_year(back), event, 0, happens)
    want = R.driver_shifts(_every_year(ds), event, 0, happens)
    assert [(s.index, s.mean_given_event) for s in got] == \
        [(s.index, s.mean_given_event) for s in want]


def test_a_set_says_where_the_event_is_most_likely_and_each_ones_share(tmp_path, capsys):
    from tests.conftest import scenario_dict, write_toml
    from tests.statistical.test_tilted_runs import SYSTEMATIC

    data = scenario_dict(**{**SYSTEMATIC, **RUINOUS})
    data["sweep"] = {"sharing.cap_per_quarter": [19.0, 20.0, 30.0]}
    path = write_toml(tmp_path / "set.toml", data)
    out = tmp_path / "set.h5"
    assert run("run", path, "--out", out, "--paths", 200, "--quiet") == 0
    assert run("reverse-stress", out, "--event", "ruin by 2021Q4", "--out",
               tmp_path / "rs") == 0
    answer = json.loads((tmp_path / "rs" / "reverse_stress.json").read_text(encoding="utf-8"))
    rows = answer["set"]
    assert [r["sharing.cap_per_quarter"] for r in rows][0] == 19.0      # most likely first
    assert abs(sum(r["share"] for r in rows) - 1.0) < 1e-12
    probabilities = [r["probability"] for r in rows]
    assert probabilities == sorted(probabilities, reverse=True)
    assert "most likely" in capsys.readouterr().out
    assert (tmp_path / "rs" / "scenarios.csv").is_file()


def test_the_report_has_a_reverse_stress_section_from_the_file(tmp_path):
    out = results(tmp_path, "sys", 200, **RUINOUS)
    page = tmp_path / "report.html"
    assert run("report", out, "--out", page) == 0
    text = page.read_text(encoding="utf-8")
    assert "What would break it: ruin" in text and "drivers moved furthest" in text
    assert "mutualsim reverse-stress" in text

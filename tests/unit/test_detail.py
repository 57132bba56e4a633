"""Results by sex, age band, risk group and plan (``[output]``): both engines bit for bit,
sums to the totals, the bands the claims fall in, the file's layout and bad input."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomli_w
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.output import DIMS, default_age_bands
from engine.config.scenario import load_scenario_set, scenario_set_from_dict
from engine.errors import ScenarioError
from engine.model.inputs import build_inputs
from engine.run.plans import build_run_inputs, simulate_plans
from engine.variables import CELLS_PREFIX, DETAIL_SUFFIX, DETAIL_VARIABLES
from tests.conftest import (
    ROOT,
    SCENARIOS,
    assert_one_line_error,
    load,
    scenario_dict,
    write_csv,
    write_toml,
)
from tests.strategies import scenarios

ALL = list(DETAIL_VARIABLES)


def _extending(tmp_path: Path, base: str, **tables) -> Path:
    """A scenario file that extends a shipped one with ``tables`` over it."""
    text = f'extends = "{(SCENARIOS / base).as_posix()}"\n'
    return _write(tmp_path / "d.toml", text + tomli_w.dumps(tables))


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _both_engines(platform, seed, paths):
    return (simulate_plans(platform, seed, 3, paths, "numba"),
            simulate_plans(platform, seed, 3, paths, "numpy"))


def _assert_sums(out, by, totals_exact_aid=False):
    for name in [n for n in out if n.endswith(DETAIL_SUFFIX) and n[:-3] in ALL]:
        total = out[name[:-len(DETAIL_SUFFIX)]]
        summed = out[name].sum(axis=tuple(range(2, 2 + len(by))))
        if out[name].dtype.kind == "i" or totals_exact_aid:
            assert np.array_equal(summed, total), name
        else:
            np.testing.assert_allclose(summed, total, rtol=1e-12, atol=1e-6, err_msg=name)


@pytest.mark.parametrize("base,by,quarters", [
    ("xianghubao.toml", ["sex", "age_band", "risk_group"], 8),
    ("emutual.toml", ["sex", "age_band", "risk_group", "plan"], 6),
    ("emutual.toml", ["age_band"], 6),
])
def test_detail_equals_between_engines_and_sums_to_the_totals(tmp_path, base, by, quarters):
    # e互助: three pre-paid plans with a waiting period, payout levels and risk groups:
    # every stage that counts into a detailed variable is drawn
    start = {"emutual.toml": {"start": "2019Q4"}}.get(base, {})
    file = _extending(tmp_path, base, scenario={"quarters": quarters, **start},
                      output={"detail": ALL, "by": by})
    scenario = load_scenario_set(file).base
    platform = build_run_inputs(scenario)
    fast, ref = _both_engines(platform, scenario.scenario.seed, 12)
    assert fast.keys() == ref.keys()
    for name in fast:
        assert np.array_equal(fast[name], ref[name], equal_nan=True), name
    assert not any(n.startswith(CELLS_PREFIX) for n in fast)
    _assert_sums(fast, by)
    dims = [d for d in DIMS if d in by]
    sizes = {"sex": 2, "age_band": len(scenario.output.age_bands),
             "risk_group": max(1, len(scenario.risk.groups)), "plan": len(scenario.plans)}
    assert fast["claims_by"].shape == (12, quarters) + tuple(sizes[d] for d in dims)
    drawn = {"xianghubao.toml": ("claims", "mild_claims", "diagnosed_in_waiting", "deaths"),
             "emutual.toml": ("claims", "claims_below_cap", "diagnosed_in_waiting", "deaths")}
    for name in drawn[base]:
        assert fast[name].sum() > 0, name
    if "plan" in by:
        # each plan's detail is that plan's own results
        axes = tuple(range(2, 1 + len(by)))
        for j in range(len(scenario.plans)):
            for name in ("claims", "members", "joins", "lapses"):
                assert np.array_equal(fast[name + "_by"][..., j].sum(axis=axes),
                                      fast[name + "_by_plan"][j]), name


def test_detail_leaves_plain_results_as_they_were(tmp_path):
    plain = load_scenario_set(_extending(tmp_path, "xianghubao.toml",
                                         scenario={"quarters": 5})).base
    file = _extending(tmp_path, "xianghubao.toml", scenario={"quarters": 5},
                      output={"detail": ["claims", "aid"]})
    with_detail = load_scenario_set(file).base
    a = simulate_plans(build_run_inputs(with_detail), 5, 0, 30)
    b = simulate_plans(build_run_inputs(plain), 5, 0, 30)
    for name in b:
        assert np.array_equal(a[name], b[name], equal_nan=True), name
    assert set(a) - set(b) == {"claims_by", "aid_by"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.sampled_from(ALL), min_size=1, max_size=4, unique=True),
       st.lists(st.sampled_from(DIMS[:3]), max_size=3, unique=True))
def test_detail_equals_between_engines_on_random_scenarios(raw, detail, by):
    raw = {**raw, "output": {"detail": detail, "by": by}}
    scenario = scenario_set_from_dict(raw, "<h>", "", Path(".")).base
    platform = build_run_inputs(scenario)
    fast, ref = _both_engines(platform, raw["scenario"]["seed"], 3)
    for name in fast:
        assert np.array_equal(fast[name], ref[name], equal_nan=True), name
    _assert_sums(fast, [d for d in DIMS if d in by])


def _closed_group(tmp_path: Path, ages: tuple[int, int], sexes: dict[str, float],
                  members: int, quarters: int, bands=None, mix_ages=None) -> dict:
    """A closed group (no joins, lapses or deaths) of a plan for ``ages``, with ``members``
    spread evenly over ``mix_ages`` (default: all its ages) and the sexes' shares, and an
    incidence table without selection or trend."""
    lo, hi = ages
    m_lo, m_hi = mix_ages or ages
    rows = [f"{a},{sex},{sexes.get(sex, 0.0) / (m_hi - m_lo + 1) if m_lo <= a <= m_hi else 0}"
            for sex in ("female", "male") for a in range(lo, hi + 1)]
    mix = write_csv(tmp_path / "mix.csv", "age,sex,share", rows)
    data = scenario_dict(**{
        "scenario__quarters": quarters, "population__initial_members": members,
        "population__age_min": lo, "population__age_max": hi,
        "population__initial_age_mix": str(mix), "growth__joiner_age_mix": str(mix),
        "growth__series": [0.0] * quarters, "incidence__selection": [1.0],
        "mortality__multiplier": 0.0, "lapse__base_quarterly": 0.0,
        "benefits__amount_by_age": [[lo, hi, 100000]]})
    data["output"] = {"detail": ["claims", "members"], "by": ["sex", "age_band"]}
    if bands is not None:
        data["output"]["age_bands"] = bands
    return data


def test_a_closed_group_of_one_age_and_sex_claims_in_its_band_only(tmp_path):
    data = _closed_group(tmp_path, (40, 41), {"female": 1.0}, 200_000, 4)
    assert load(tmp_path, data).base.output.age_bands == [[40, 44]]
    data = _closed_group(tmp_path, (30, 49), {"female": 1.0}, 200_000, 4,
                         bands=[[30, 39], [40, 44], [45, 49]], mix_ages=(40, 40))
    scenario = load(tmp_path, data).base
    out = simulate_plans(build_run_inputs(scenario), 1, 0, 20)
    claims = out["claims_by"]                               # (P, T, sex, band)
    assert claims[:, :, 0, 1].sum() == out["claims"].sum() > 0
    assert claims[:, :, 1].sum() == 0 and claims[:, :, 0, [0, 2]].sum() == 0
    members = out["members_by"]
    assert np.array_equal(members[:, :, 0, 1], out["members"])


MIXED_AGES = (30, 59)


def mixed_closed_group(tmp_path: Path):
    """A closed group of ages 30-59, 55 % women, one quarter, no waiting period, single-year
    bands; and by hand its expected claims by (sex, age): the members of each sex and age
    times ``1 − exp(−rate / 100,000 / 4)``, the rate from the incidence table."""
    from engine.model.inputs import tables_as_used

    lo, hi = MIXED_AGES
    data = _closed_group(tmp_path, (lo, hi), {"female": 0.55, "male": 0.45}, 1_000_000, 1,
                         bands=[[a, a] for a in range(lo, hi + 1)])
    data["benefits"]["waiting_quarters"] = 0
    scenario = load(tmp_path, data).base
    rate = tables_as_used(scenario)["incidence_per_100k"]            # (sex, ages)
    members = build_inputs(scenario).initial_members.sum(axis=2)
    members = members.reshape(2, -1, hi - lo + 1, 4).sum(axis=(1, 3))  # (sex, ages)
    return scenario, members * -np.expm1(-rate / 100_000 / 4)


def test_mean_age_at_claim_of_a_closed_group_matches_the_incidence_by_age(tmp_path):
    """The claims' mean age (single-year bands) against the exposure-weighted incidence by
    age computed by hand: within 4 s.e. of the ratio estimator over paths."""
    scenario, expected = mixed_closed_group(tmp_path)
    out = simulate_plans(build_run_inputs(scenario), 11, 0, 400)
    claims = out["claims_by"][:, 0].sum(axis=1).astype(float)        # (P, ages)
    ages = np.arange(MIXED_AGES[0], MIXED_AGES[1] + 1, dtype=float)
    x, y = claims @ ages, claims.sum(axis=1)
    mean_age = x.sum() / y.sum()
    se = np.sqrt(((x - mean_age * y) ** 2).sum()) / y.sum()
    exact = (expected.sum(axis=0) * ages).sum() / expected.sum()
    assert abs(mean_age - exact) < 4 * se, (mean_age, exact, se)
    assert se < 0.05


def test_the_file_holds_the_detail_and_xarray_reads_it(tmp_path):
    file = _extending(tmp_path, "xianghubao.toml", scenario={"quarters": 4, "paths": 40},
                      output={"detail": ["claims", "members", "aid"],
                              "by": ["risk_group", "age_band", "sex"],
                              "age_bands": [[0, 17], [18, 39], [40, 59]]})
    out = tmp_path / "r.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(file), "--out", str(out),
                           "--quiet"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        v = ds["claims_by"]
        assert v.dims == ("scenario", "path", "quarter", "sex", "age_band", "risk_group")
        assert list(ds["age_band"].values) == ["0-17", "18-39", "40-59"]
        assert list(ds["age_band_lower"].values) == [0, 18, 40]
        assert list(ds["sex"].values) == ["female", "male"]
        assert list(ds["risk_group"].values) == ["healthier", "riskier"]
        assert v.attrs["units"] == "persons"
        assert (v.sum(["sex", "age_band", "risk_group"]) == ds["claims"]).all()
        assert "members_by" in ds and "joins_by" not in ds
        assert ds["aid_by"].encoding["zlib"] and ds["aid_by"].encoding["shuffle"]


def test_default_bands_are_five_years_over_the_sets_ages():
    assert default_age_bands(0, 59)[:2] == [[0, 4], [5, 9]]
    assert default_age_bands(18, 60) == [[15, 19], [20, 24], [25, 29], [30, 34], [35, 39],
                                         [40, 44], [45, 49], [50, 54], [55, 59], [60, 64]]
    assert default_age_bands(108, 110) == [[105, 109], [110, 110]]


@pytest.mark.parametrize("output,key,fragment", [
    ({"detail": ["claims", "reserve"]}, "output.detail", "reserve"),
    ({"detail": ["claims"], "by": ["sex", "province"]}, "output.by", "province"),
    ({"detail": ["claims"], "age_bands": [[30, 40], [40, 49]]}, "output.age_bands",
     "overlaps"),
    ({"detail": ["claims"], "age_bands": [[30, 31], [33, 34]]}, "output.age_bands",
     "ages 32-32 in no band"),
    ({"detail": ["claims"], "age_bands": [[31, 34]]}, "output.age_bands", "30-30"),
    ({"detail": ["claims"], "by": ["plan"]}, "output.by", "platform"),
    ({"by": ["sex"], "age_bands": [[30, 34]]}, "output.age_bands", "needs output.detail"),
    ({"detail": ["claims"], "age_bands": [[34, 30]]}, "output.age_bands", "lo ≤ hi"),
])
def test_bad_detail_is_refused_naming_the_key_and_value(tmp_path, output, key, fragment):
    data = scenario_dict()
    data["output"] = output
    with pytest.raises(ScenarioError) as err:
        load(tmp_path, data)
    text = str(err.value)
    assert key in text and fragment in text, text


def test_bad_detail_on_the_command_line_is_one_line_and_writes_nothing(tmp_path):
    data = scenario_dict()
    data["output"] = {"detail": ["claims"], "by": ["sex", "province"]}
    file = write_toml(tmp_path / "bad.toml", data)
    out = tmp_path / "r.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(file), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT)
    assert_one_line_error(proc, "bad.toml", "output.by", "province")
    assert not out.exists() and not list(tmp_path.glob("r.h5*"))


def test_risk_group_detail_needs_the_same_groups_across_a_sweep(tmp_path):
    data = scenario_dict()
    data["output"] = {"detail": ["claims"], "by": ["risk_group"]}
    one = [{"name": "a", "population_share": 1.0}]
    two = [{"name": "a", "population_share": 0.5}, {"name": "b", "population_share": 0.5}]
    data["sweep"] = {"risk.groups": [one, two]}
    with pytest.raises(ScenarioError, match="same risk groups"):
        load(tmp_path, data)

"""Issue 12: dated rule changes and plans on a platform."""

import subprocess
import sys

import numpy as np
import pytest

from engine.errors import ScenarioError
from engine.model.mean_path import expected_path
from engine.run.simulate import simulate_paths
from engine.variables import VARIABLES
from tests.conftest import inputs_of, load, scenario_dict

CHANGE = [{"from": "2020Q3", "amount_by_age": [[32, 34, 60000]]}]


def test_a_dated_benefit_change_takes_effect_in_its_quarter(tmp_path):
    plain = expected_path(inputs_of(tmp_path, scenario_dict(benefits__mild_share=0.0)))
    changed_inputs = inputs_of(tmp_path, scenario_dict(benefits__changes=CHANGE))
    changed = expected_path(changed_inputs)
    # 2020Q3 is the third quarter: amounts of ages 32-34 fall from then on, 30-31 keep theirs
    assert changed_inputs.benefit_yuan[:2].max() == 100000
    assert set(changed_inputs.benefit_yuan[2:, :8].ravel()) == {100000}
    assert set(changed_inputs.benefit_yuan[2:, 8:].ravel()) == {60000}
    np.testing.assert_array_equal(changed["aid"][:2], plain["aid"][:2])
    assert np.all(changed["aid"][2:] < plain["aid"][2:])
    np.testing.assert_array_equal(changed["claims"][:3], plain["claims"][:3])


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_change_changes_only_aid_from_its_quarter_on_every_path(tmp_path, backend):
    plain = simulate_paths(inputs_of(tmp_path, scenario_dict()), 5, 0, 6, backend)
    changed = simulate_paths(inputs_of(tmp_path, scenario_dict(benefits__changes=CHANGE)),
                             5, 0, 6, backend)
    np.testing.assert_array_equal(changed["aid"][:, :2], plain["aid"][:, :2])
    # amounts do not feed back here (no cost elasticity): counts are the same draws
    np.testing.assert_array_equal(changed["claims"], plain["claims"])
    assert np.all(changed["aid"][:, 2:] <= plain["aid"][:, 2:])
    assert np.any(changed["aid"][:, 2:] < plain["aid"][:, 2:])


def test_kernel_and_reference_agree_with_a_change(tmp_path):
    inputs = inputs_of(tmp_path, scenario_dict(benefits__changes=CHANGE))
    a = simulate_paths(inputs, 9, 0, 5, "numba")
    b = simulate_paths(inputs, 9, 0, 5, "numpy")
    for v in VARIABLES:
        np.testing.assert_array_equal(a[v.name], b[v.name], err_msg=v.name)


@pytest.mark.parametrize("when", ["2019Q4", "2021Q3"])
def test_a_change_dated_outside_the_run_is_one_line_and_exit_2(tmp_path, when):
    data = scenario_dict(benefits__changes=[{"from": when, "amount_by_age": [[30, 34, 1.0]]}])
    with pytest.raises(ScenarioError) as err:
        load(tmp_path, data)
    text = str(err.value)
    assert "benefits.changes[0].from" in text and "outside the run" in text and when in text
    proc = subprocess.run([sys.executable, "-m", "engine", "validate", str(tmp_path / "s.toml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "benefits.changes[0].from" in proc.stderr


# ------------------------------------------------------------------ plans on a platform

def platform_dict(plans, age_out="leave", overlap=None, **changes):
    data = scenario_dict(population__age_min=30, population__age_max=39,
                         benefits__amount_by_age=[[30, 39, 100000]],
                         growth__model="bass", growth__market_potential=2e6,
                         growth__innovation=0.05, growth__imitation=0.5,
                         growth__series=None, **changes)
    data["platform"] = {"age_out": age_out}
    if overlap is not None:
        data["platform"]["ages_may_overlap"] = overlap
    data["plans"] = plans
    return data


TWO_PLANS = [{"name": "young", "ages": [30, 34]},
             {"name": "old", "ages": [35, 39],
              "benefits": {"amount_by_age": [[35, 39, 50000]]},
              "sharing": {"fee_rate": 0.1}}]


def run_platform(tmp_path, data, backend="numba", paths=6, seed=3):
    from engine.run.plans import build_run_inputs, simulate_plans
    scenario = load(tmp_path, data, "platform.toml").base
    return scenario, simulate_plans(build_run_inputs(scenario), seed, 0, paths, backend)


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_a_platform_of_one_plan_equals_its_scenario_bit_for_bit(tmp_path, backend):
    systematic = dict(incidence__level_sd_per_year=0.05, incidence__trend_sd=0.01,
                      growth__dispersion=0.1)
    data = platform_dict([{"name": "all", "ages": [30, 39]}], **systematic)
    _, platform = run_platform(tmp_path, data, backend)
    plain_data = {k: v for k, v in data.items() if k not in ("plans", "platform")}
    alone = simulate_paths(inputs_of(tmp_path, plain_data), 3, 0, 6, backend)
    for v in VARIABLES:
        np.testing.assert_array_equal(platform[v.name], alone[v.name], err_msg=v.name)
        np.testing.assert_array_equal(platform[v.name + "_by_plan"][0], alone[v.name],
                                      err_msg=v.name)


def test_totals_are_the_sums_of_the_plans_and_their_weighted_means(tmp_path):
    _, out = run_platform(tmp_path, platform_dict(TWO_PLANS, incidence__level_sd_per_year=0.05))
    for v in VARIABLES:
        by_plan = out[v.name + "_by_plan"]
        if v.total == "sum":
            np.testing.assert_array_equal(out[v.name], by_plan.sum(axis=0), err_msg=v.name)
        elif v.total == "common":
            np.testing.assert_array_equal(by_plan[0], by_plan[1], err_msg=v.name)
    sharers = out["sharers_by_plan"].astype(float)
    paid = (out["cost_per_member_by_plan"] * sharers).sum(axis=0)
    np.testing.assert_allclose(out["cost_per_member"] * sharers.sum(axis=0), paid, rtol=1e-12)
    # the plans really differ: the old plan pays half the amount and a higher fee
    assert not np.array_equal(out["cost_per_member_by_plan"][0],
                              out["cost_per_member_by_plan"][1])
    # systematic risk is shared: one level for both plans, and it varies
    assert out["incidence_level"].std() > 0


def test_members_past_a_plans_ages_leave_it_or_move_to_the_next(tmp_path):
    _, leave = run_platform(tmp_path, platform_dict(TWO_PLANS))
    assert leave["aged_out_by_plan"][0].sum() > 0
    assert leave["moved_in_by_plan"].sum() == 0
    np.testing.assert_array_equal(leave["aged_out"], leave["aged_out_by_plan"].sum(axis=0))
    _, move = run_platform(tmp_path, platform_dict(TWO_PLANS, age_out="next_plan"))
    np.testing.assert_array_equal(move["moved_out_by_plan"][0], move["aged_out_by_plan"][0])
    np.testing.assert_array_equal(move["moved_in_by_plan"][1], move["moved_out_by_plan"][0])
    # the young plan's numbers do not depend on where its leavers go
    for name in ("members", "claims", "cost_per_member"):
        np.testing.assert_array_equal(move[name + "_by_plan"][0], leave[name + "_by_plan"][0])
    # the platform keeps those who move: only the old plan's leavers leave it
    np.testing.assert_array_equal(move["aged_out"], move["aged_out_by_plan"][1])
    assert np.all(move["members_by_plan"][1] >= leave["members_by_plan"][1])
    assert move["members_by_plan"][1].sum() > leave["members_by_plan"][1].sum()
    # every plan's members roll forward
    for j in range(2):
        p = {k[:-8]: v[j] for k, v in move.items() if k.endswith("_by_plan")}
        flows = (p["joins"] + p["moved_in"] - p["suspended"] - p["deaths"] - p["claims"]
                 - p["diagnosed_in_waiting"] - p["lapses"] - p["aged_out"] - p["closed_out"])
        np.testing.assert_array_equal(p["members"][:, 1:], p["members"][:, :-1] + flows[:, 1:])


def test_engines_agree_on_a_platform_whose_members_move(tmp_path):
    data = platform_dict(TWO_PLANS, age_out="next_plan", growth__dispersion=0.2,
                         incidence__level_sd_per_year=0.05)
    _, a = run_platform(tmp_path, data, "numba")
    _, b = run_platform(tmp_path, data, "numpy")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_plans_over_the_same_ages_draw_their_own_numbers(tmp_path):
    same = [{"name": "a", "ages": [30, 39]}, {"name": "b", "ages": [30, 39]}]
    _, out = run_platform(tmp_path, platform_dict(same, overlap=True))
    joins = out["joins_by_plan"]
    assert not np.array_equal(joins[0], joins[1])
    # separate products: their members' diagnoses and lapses are their own draws too
    for name in ("claims", "diagnosed_in_waiting", "lapses", "deaths"):
        assert not np.array_equal(out[name + "_by_plan"][0], out[name + "_by_plan"][1]), name
    np.testing.assert_array_equal(out["incidence_level_by_plan"][0],
                                  out["incidence_level_by_plan"][1])


def test_the_market_is_split_by_the_joiners_age_mix(tmp_path):
    scenario, _ = run_platform(tmp_path, platform_dict(TWO_PLANS), paths=1)
    shares = [p.growth.market_potential / 2e6 for p in scenario.plans]
    assert sum(shares) == pytest.approx(1.0, rel=1e-12)
    assert all(0.2 < s < 0.8 for s in shares)
    assert sum(p.population.initial_members for p in scenario.plans) == 20000


def test_a_plan_enrolled_with_another_takes_its_market_times_the_ratio(tmp_path):
    from engine.config.lookup import age_mix_share
    plans = [{**TWO_PLANS[0], "enrolled_with": {"plan": "old", "per_joiner": 0.3}},
             TWO_PLANS[1]]
    scenario, _ = run_platform(tmp_path, platform_dict(plans), paths=1)
    young, old = scenario.plans
    old_share = age_mix_share(scenario, "growth.joiner_age_mix",
                              scenario.growth.joiner_age_mix, 35, 39)
    assert old.growth.market_potential == pytest.approx(2e6 * old_share, rel=1e-12)
    assert young.growth.market_potential == pytest.approx(0.3 * 2e6 * old_share, rel=1e-12)
    # the market alone moves: initial members are still split by the initial age mix
    alone, _ = run_platform(tmp_path, platform_dict(TWO_PLANS), paths=1)
    assert young.population.initial_members == alone.plans[0].population.initial_members


@pytest.mark.parametrize(("plans", "key", "got"), [
    ([{"name": "a", "ages": [30, 34], "enrolled_with": {"plan": "c", "per_joiner": 0.3}},
      {"name": "b", "ages": [35, 39]}], "plans.a.enrolled_with.plan", "c"),
    ([{"name": "a", "ages": [30, 34], "enrolled_with": {"plan": "b", "per_joiner": 0}},
      {"name": "b", "ages": [35, 39]}], "plans.a.enrolled_with.per_joiner", "0"),
    ([{"name": "a", "ages": [30, 32], "enrolled_with": {"plan": "b", "per_joiner": 0.2}},
      {"name": "b", "ages": [33, 35], "enrolled_with": {"plan": "c", "per_joiner": 0.2}},
      {"name": "c", "ages": [36, 39]}], "plans.a.enrolled_with.plan", "b"),
    ([{"name": "a", "ages": [30, 34], "enrolled_with": "b"},
      {"name": "b", "ages": [35, 39]}], "plans.a.enrolled_with", "b"),
    ([{"name": "a", "ages": [30, 35]}, {"name": "b", "ages": [35, 39]}], "plans.b.ages",
     "[35, 39]"),
    ([{"name": "a", "ages": [30, 39], "risk": {"groups": []}}], "plans.a.risk", "groups"),
    ([{"name": "a", "ages": [30, 39], "incidence": {"trend_sd": 0.1}}],
     "plans.a.incidence.trend_sd", "0.1"),
    ([{"name": "a", "ages": [30, 39], "launch": "2030Q1"}],
     "plans.a.growth.start_joins_from", "2030Q1"),
    ([{"name": "a", "ages": [30, 39], "benefits": {"amount_by_age": [[30, 39, -1]]}}],
     "plans.a.benefits.amount_by_age[0]", "-1"),
])
def test_bad_plans_are_one_line_naming_file_key_and_value(tmp_path, plans, key, got):
    path = tmp_path / "platform.toml"
    from tests.conftest import write_toml
    write_toml(path, platform_dict(plans))
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--out",
                           str(tmp_path / "r.h5"), "--quiet"], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert str(path) in lines[0] and key in lines[0] and got in lines[0], lines[0]
    assert not list(tmp_path.glob("r.h5*"))


def test_a_platform_run_writes_plans_and_totals_and_chunks_do_not_matter(tmp_path):
    from tests.conftest import write_toml
    path = write_toml(tmp_path / "platform.toml", platform_dict(TWO_PLANS, age_out="next_plan"))
    files = []
    for chunk in (3, 10):
        out = tmp_path / f"r{chunk}.h5"
        proc = subprocess.run([sys.executable, "-m", "engine", "run", str(path), "--out",
                               str(out), "--quiet", "--paths", "10", "--chunk", str(chunk)],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        files.append(out)
    import xarray as xr
    with xr.open_dataset(files[0], engine="h5netcdf") as a, \
            xr.open_dataset(files[1], engine="h5netcdf") as b:
        assert list(a["plan"].values) == ["young", "old"]
        assert a["members_by_plan"].dims == ("scenario", "plan", "path", "quarter")
        for name in a.data_vars:
            if name != "chunk_done":
                np.testing.assert_array_equal(a[name].values, b[name].values, err_msg=name)
        np.testing.assert_array_equal(a["members"].values,
                                      a["members_by_plan"].sum("plan").values)


def test_a_swept_platforms_plans_keep_their_names(tmp_path):
    """A sweep label may hold dots (``reserve.initial=0``): the plan dimension, the inputs
    and the studies name the plans by their own names, not by a piece of the label."""
    from engine.config.platform import plan_label
    from engine.run.plans import build_run_inputs
    from engine.store import plan_names

    data = platform_dict(TWO_PLANS)
    data["sweep"] = {"reserve.initial": [0.0, 1e6]}
    scenario_set = load(tmp_path, data, "swept.toml")
    assert plan_names(scenario_set) == ("young", "old")
    for member in scenario_set.scenarios:
        assert "[" in member.plans[0].name
        assert build_run_inputs(member).plan_names == ("young", "old")
    assert plan_label("e.adults[reserve.initial=0.5]") == "adults"
    assert plan_label("e.adults") == "adults"

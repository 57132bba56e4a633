"""Issue 26: a plan enrolled by another's joiners (children by their parents) joins and
leaves with it, path by path, in both engines bit for bit, by its exact laws."""

import subprocess
import sys

import numpy as np
import pytest

from engine.run.plans import build_run_inputs, enrolment_of, expected_paths, simulate_plans
from tests.conftest import load, write_toml
from tests.unit.test_plans import TWO_PLANS, platform_dict

RATIO = 0.3


def enrolled_platform(**changes):
    """The young plan enrolled by the old plan's joiners, a lapse and pre-paid top-ups in
    the old plan so that its leavers' share moves."""
    plans = [{**TWO_PLANS[0], "enrolled_with": {"plan": "old", "per_joiner": RATIO}},
             TWO_PLANS[1]]
    return platform_dict(plans, lapse__base_quarterly=0.05, **changes)


def run(tmp_path, data, paths, backend="numba", seed=11):
    scenario = load(tmp_path, data, "platform.toml").base
    inputs = build_run_inputs(scenario)
    return inputs, simulate_plans(inputs, seed, 0, paths, backend)


def by_plan(out, j):
    return {k[:-len("_by_plan")]: v[j] for k, v in out.items() if k.endswith("_by_plan")}


def test_the_enrolled_plan_runs_after_the_plan_that_enrols_it(tmp_path):
    from engine.run.plans import plan_order
    inputs, _ = run(tmp_path, enrolled_platform(), 1)
    assert inputs.enrolled_by == (1, -1)
    assert plan_order(inputs) == [1, 0]
    assert inputs.plans[0].enrolled_per_joiner == RATIO
    assert inputs.plans[1].enrolled_per_joiner == 0.0


def test_engines_agree_bit_for_bit_with_an_enrolled_plan(tmp_path):
    data = enrolled_platform(growth__dispersion=0.2, incidence__level_sd_per_year=0.05)
    _, a = run(tmp_path, data, 6, "numba")
    _, b = run(tmp_path, data, 6, "numpy")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    # and the enrolled plan really follows: its joins are 0 where the other plan's are
    young, old = by_plan(a, 0), by_plan(a, 1)
    assert np.all(young["joins"][old["joins"] == 0] == 0)
    assert young["joins"].sum() > 0


def test_enrolled_joins_are_poisson_of_r_times_the_other_plans_joins(tmp_path):
    # Given the other plan's joins J, the enrolled plan's joins are Poisson(r J), one
    # independent draw per (path, quarter): their sum over cells is Poisson(r ΣJ), and
    # Σ (X − rJ)² / (rJ) has mean n and variance Σ (2 + 1/(rJ)) over the n cells with J > 0.
    _, out = run(tmp_path, enrolled_platform(), 400)
    young, old = by_plan(out, 0), by_plan(out, 1)
    lam = RATIO * old["joins"].astype(float)
    x = young["joins"].astype(float)
    assert np.all(x[lam == 0] == 0)
    live = lam > 0
    z = (x[live] - lam[live]).sum() / np.sqrt(lam[live].sum())
    assert abs(z) < 4, z
    chi = ((x[live] - lam[live]) ** 2 / lam[live]).sum()
    n = live.sum()
    sd = np.sqrt((2 + 1 / lam[live]).sum())
    assert abs(chi - n) < 4 * sd, (chi, n, sd)


def test_enrolled_members_lapse_at_the_other_plans_leavers_share(tmp_path):
    # Lapses are drawn last of the decrements: the members at risk of lapsing are those at
    # the quarter's start plus joiners less every earlier decrement, and given them the
    # lapses are Binomial(at risk, f_t) with f_t the other plan's leavers' share.
    inputs, out = run(tmp_path, enrolled_platform(), 300)
    young, old = by_plan(out, 0), by_plan(out, 1)
    f = enrolment_of(old, float(inputs.plans[1].initial_members.sum())).source_leave_q
    start = np.concatenate([np.full((len(f), 1), float(inputs.plans[0].initial_members.sum())),
                            young["members"][:, :-1]], axis=1)
    at_risk = (start + young["joins"] - young["suspended"] - young["deaths"] - young["claims"]
               - young["diagnosed_in_waiting"])
    mean = (at_risk * f).sum()
    sd = np.sqrt((at_risk * f * (1 - f)).sum())
    assert f.max() > 0.04 and young["lapses"].sum() > 1000
    assert abs(young["lapses"].sum() - mean) < 4 * sd, (young["lapses"].sum(), mean, sd)


def test_the_leavers_share_is_lapses_and_suspensions_over_those_there():
    run_out = {"joins": np.array([[10, 0, 5]]), "members": np.array([[90, 80, 0]]),
               "lapses": np.array([[15, 10, 4]]), "suspended": np.array([[5, 0, 1]])}
    e = enrolment_of(run_out, 100)
    np.testing.assert_array_equal(e.source_joins, [[10, 0, 5]])
    np.testing.assert_allclose(e.source_leave_q, [[20 / 110, 10 / 90, 5 / 85]])
    empty = enrolment_of({k: np.zeros((1, 2)) for k in run_out}, 0)
    np.testing.assert_array_equal(empty.source_leave_q, [[0.0, 0.0]])


def test_the_expected_path_enrols_r_times_the_other_plans_expected_joins(tmp_path):
    scenario = load(tmp_path, enrolled_platform(), "platform.toml").base
    e = expected_paths(build_run_inputs(scenario))
    young, old = e["joins_by_plan"]
    np.testing.assert_allclose(young, RATIO * old, rtol=1e-14)
    assert young.sum() > 0


def test_enrolled_with_members_moving_between_plans_is_one_line(tmp_path):
    path = tmp_path / "platform.toml"
    write_toml(path, enrolled_platform() | {"platform": {"age_out": "next_plan"}})
    proc = subprocess.run([sys.executable, "-m", "engine", "validate", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "plans.young.enrolled_with" in lines[0], lines
    assert "age_out" in lines[0]


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_the_plan_that_enrols_is_unchanged_by_enrolling(tmp_path, backend):
    # the enrolling plan's numbers do not depend on the plan it enrols
    _, enrolled = run(tmp_path, enrolled_platform(), 4, backend)
    _, alone = run(tmp_path, platform_dict(TWO_PLANS, lapse__base_quarterly=0.05), 4,
                   backend)
    for name in ("members", "joins", "claims", "lapses", "aid"):
        np.testing.assert_array_equal(by_plan(enrolled, 1)[name], by_plan(alone, 1)[name],
                                      err_msg=name)

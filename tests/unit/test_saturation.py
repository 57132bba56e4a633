"""Extreme but valid responses to cost saturate instead of overflowing: both engines give the
same finite numbers, the C library's overflow and domain answers are mirrored by the numpy
reference, and elasticities beyond what the float range can carry are refused as bad input.

Found by the scenario fuzzer: a Sobol sweep of ``lapse.cost_elasticity`` up to 2,500 made
the reference's ``math.pow`` raise where the kernel's C ``pow`` gives ``inf``; ``0 · inf``
then made a lapse probability NaN, and a NaN or infinite join weight hung a sampler.
"""

import math
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
import tomli_w

from engine.config.scenario import load_scenario_set
from engine.model.elementwise import c_exp, c_log, c_pow
from engine.run.plans import build_run_inputs, simulate_plans
from tests.conftest import SCENARIOS, assert_one_line_error

POW_CASES = [(10.0, 2500.0), (0.0, -1.0), (-0.0, -1.0), (-0.0, -2.0), (-2.0, 0.5),
             (-2.0, 3.0), (-1e200, 3.0), (-1e200, 2.0), (2.0, -2000.0), (0.0, 0.0),
             (math.inf, 2.0), (-math.inf, 3.0), (1.0, math.nan), (math.nan, 0.0),
             (1.5, 0.75)]
EXP_CASES = [800.0, 709.0, 710.0, -800.0, 1.0, math.inf, -math.inf]
LOG_CASES = [0.0, -0.0, -1.0, 1.0, 1e-320, math.inf]


@numba.njit
def _pow_kernel(x, y):
    return c_pow(x, y)


@numba.njit
def _exp_kernel(x):
    return c_exp(x)


@numba.njit
def _log_kernel(x):
    return c_log(x)


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                  math.copysign(1, b))


@pytest.mark.parametrize("x,y", POW_CASES)
def test_pow_of_the_reference_is_the_c_library_s(x, y):
    assert _same(float(c_pow(x, y)), _pow_kernel(x, y))


@pytest.mark.parametrize("x", EXP_CASES)
def test_exp_of_the_reference_is_the_c_library_s(x):
    assert _same(float(c_exp(x)), _exp_kernel(x))


@pytest.mark.parametrize("x", LOG_CASES)
def test_log_of_the_reference_is_the_c_library_s(x):
    assert _same(float(c_log(x)), _log_kernel(x))


def _extending(tmp_path: Path, **tables) -> Path:
    path = tmp_path / "extreme.toml"
    path.write_text(f'extends = "{(SCENARIOS / "xianghubao.toml").as_posix()}"\n'
                    + tomli_w.dumps(tables), encoding="utf-8")
    return path


@pytest.mark.parametrize("lapse", [
    {"cost_elasticity": 2500.0, "cost_driven_share": 0.0},   # ℓc = 0: 0 · inf was NaN
    {"cost_elasticity": 2500.0, "cost_driven_share": 0.5},   # lapse 1 above the reference
])
def test_a_huge_lapse_elasticity_saturates_alike_in_both_engines(tmp_path, lapse):
    file = _extending(tmp_path, scenario={"quarters": 8}, lapse=lapse,
                      growth={"cost_elasticity": 50.0})
    scenario = load_scenario_set(file).base
    platform = build_run_inputs(scenario)
    fast = simulate_plans(platform, scenario.scenario.seed, 0, 6, "numba")
    ref = simulate_plans(platform, scenario.scenario.seed, 0, 6, "numpy")
    for name, values in fast.items():
        assert np.array_equal(values, ref[name], equal_nan=True), name
        if values.dtype.kind == "f":
            assert not np.isnan(values).any(), name
            if name != "required_cost_per_member":  # aid over no sharers is inf, by design
                assert np.isfinite(values).all(), name
    if lapse["cost_driven_share"] == 0.0:
        # the cost cannot move the lapse: none of the members leaves at rate 1
        assert (fast["members"][:, -1] > 0).all()


@pytest.mark.parametrize("tables,fragments", [
    ({"growth": {"cost_elasticity": 51.0}}, ["growth.cost_elasticity", "51", "[0, 50]"]),
    ({"risk": {"groups": [{"name": "all", "population_share": 1.0,
                           "join_sensitivity": 51.0}]}},
     ["risk.groups[0].join_sensitivity", "51", "[0, 50]"]),
    ({"sweep": {"method": "latin", "samples": 4,
                "growth.cost_elasticity": {"low": 0.0, "high": 2500.0}}},
     ["sweep.growth.cost_elasticity.high", "2500", "[0, 50]"]),
])
def test_elasticities_beyond_the_float_range_are_refused(tmp_path, tables, fragments):
    file = _extending(tmp_path, **tables)
    out = tmp_path / "out.h5"
    proc = subprocess.run([sys.executable, "-m", "engine", "run", str(file), "--paths", "2",
                           "--out", str(out)], capture_output=True, text=True)
    assert_one_line_error(proc, str(file), *fragments)
    assert not out.exists()

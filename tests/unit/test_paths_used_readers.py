"""Readers of per-path results honour ``paths_used`` (:mod:`engine.used_paths`): a scenario
that holds 20 of a file's 40 paths, the rest masked (NaN, counts 0, weight 0), reads bit
for bit like the run of 20 paths, and no masked value reaches a figure.

The fixture runs a set of two scenarios on independent streams (a platform of two plans,
with systematic drivers) at 40 and at 20 paths, and masks scenario 1's paths 20..39 in a
copy of the 40-path file: path ``p`` of a scenario does not depend on how many paths the
run drew, so the 20-path file is what the masked scenario must read as.
"""

import math
import shutil

import h5netcdf
import numpy as np
import pytest

from engine.errors import ResultsError
from engine.run.runner import RunRequest, run
from engine.store import open_results
from engine.used_paths import MASKED_CHUNK, PATHS_USED, PATHS_USED_LONG_NAME, paths_used
from tests.conftest import write_toml
from tests.unit.test_plans import TWO_PLANS, platform_dict

PATHS, KEPT, CHUNK = 40, 20, 10
OBSERVATIONS = ("date,metric,value,unit,source,period_start,period_end,sd_log,plan\n"
                "2020Q2,members,25000,persons,https://example.org/a,,,0.1,\n"
                "2020Q3,aided_in_period,5,persons,https://example.org/b,,,0.3,\n")


def _mask(source, target, used: list[int]) -> None:
    """A copy of ``source`` whose scenario ``i`` holds paths ``0 .. used[i] − 1``: later
    paths masked as a precision run masks them (NaN, counts 0, weight 0, chunks 2)."""
    shutil.copyfile(source, target)
    with h5netcdf.File(target, "r+") as f:
        if PATHS_USED in f.variables:
            f.variables[PATHS_USED][...] = np.asarray(used, dtype=np.int64)
        else:
            v = f.create_variable(PATHS_USED, ("scenario",),
                                  data=np.asarray(used, dtype=np.int64))
            v.attrs["long_name"] = PATHS_USED_LONG_NAME
        for name, var in f.variables.items():
            dims = var.dimensions
            if dims[:1] != ("scenario",) or "path" not in dims:
                continue
            data = var[...]
            fill = 0.0 if name == "weight" else np.nan if data.dtype.kind == "f" else 0
            for i, n in enumerate(used):
                index = [slice(None)] * len(dims)
                index[0], index[dims.index("path")] = i, slice(n, None)
                data[tuple(index)] = fill
            var[...] = data
        for i, n in enumerate(used):
            f.variables["chunk_done"][i, -(-n // CHUNK):] = MASKED_CHUNK


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """(masked file, the 20-path file, the scenario file), opened; closed after."""
    tmp = tmp_path_factory.mktemp("paths_used")
    data = platform_dict(TWO_PLANS, scenario__quarters=8, incidence__level_sd_per_year=0.2,
                         incidence__trend_sd=0.1, growth__dispersion=0.1)
    data["sweep"] = {"reserve.initial": [0.0, 1e6], "streams": "independent"}
    scenario = write_toml(tmp / "set.toml", data)
    for paths in (PATHS, KEPT):
        run(RunRequest(str(scenario), tmp / f"r{paths}.h5", paths=paths, chunk=CHUNK,
                       quiet=True))
    _mask(tmp / f"r{PATHS}.h5", tmp / "masked.h5", [PATHS, KEPT])
    masked, ref = open_results(tmp / "masked.h5"), open_results(tmp / f"r{KEPT}.h5")
    yield masked, ref, scenario, tmp
    masked.close()
    ref.close()


def _numbers(x) -> list[float]:
    """Every number inside a nest of dicts, lists and arrays."""
    if isinstance(x, dict):
        return [v for value in x.values() for v in _numbers(value)]
    if isinstance(x, list | tuple):
        return [v for value in x for v in _numbers(value)]
    if isinstance(x, np.ndarray):
        return [float(v) for v in x.ravel()] if x.dtype.kind in "iufb" else []
    if isinstance(x, bool | int | float | np.number):
        return [float(x)]
    return []


def _same(got, want) -> None:
    """Equal bit for bit (NaN equal to NaN where both have it), and no NaN in ``got`` that
    ``want`` does not have."""
    a, b = _numbers(got), _numbers(want)
    assert len(a) == len(b)
    np.testing.assert_array_equal(np.array(a), np.array(b))


def test_the_fixture_masks_scenario_1(files):
    masked, ref, _, _ = files
    assert list(paths_used(masked)) == [PATHS, KEPT]
    assert np.isnan(masked["cost_per_member"].values[1, KEPT:]).all()
    assert (masked["weight"].values[1, KEPT:] == 0).all()
    assert not np.isnan(ref["cost_per_member"].values).any()


def test_compare_reads_scenario_1_as_the_20_path_run(files):
    from engine.analysis.compare import compare

    masked, ref, _, _ = files
    got, want = compare(masked).rows[1], compare(ref).rows[1]
    # the differences from scenario 0 are left out: it holds 40 paths in one file, 20 in
    # the other
    own = ("cost_per_member_year_mean", "cost_per_member_year_mean_se",
           "members_at_horizon_median_se")
    _same({k: got[k] for k in own}, {k: want[k] for k in own})
    assert all(math.isfinite(got[k]) for k in own)
    from_summary = [k for k in got if k not in own and not k.endswith(("_diff", "_diff_se"))]
    _same({k: got[k] for k in from_summary}, {k: want[k] for k in from_summary})


def test_sensitivity_refuses_a_ragged_file(files):
    from engine.analysis.compare import compare
    from engine.analysis.sensitivity import effect_indices, indices, output_values

    masked, ref, _, _ = files
    with pytest.raises(ResultsError, match=PATHS_USED):
        output_values(masked, "ruin_probability")
    with pytest.raises(ResultsError, match=PATHS_USED):
        indices(masked, ["cost_per_member_year_mean"])
    assert effect_indices(masked, compare(masked)) == []
    assert output_values(ref, "cost_per_member_year_mean")[0].shape == (2,)


def test_stress_weights_stress_scenario_1_as_the_20_path_run(files):
    from engine.studies.stress_test import stress_weights

    masked, ref, _, _ = files
    stress = "mean claims year 1 +10%"
    got, want = stress_weights(masked, stress, 1), stress_weights(ref, stress, 1)
    _same([got["by_scenario"][1], got["drivers"], got["outputs"]],
          [want["by_scenario"][1], want["drivers"], want["outputs"]])
    assert got["drivers"] and all(math.isfinite(x) for x in _numbers(got["outputs"]))
    np.testing.assert_array_equal(got["_weights"][1, :KEPT], want["_weights"][1])
    assert (got["_weights"][1, KEPT:] == 0).all()      # masked paths stay masked


def test_reverse_stress_reads_scenario_1_as_the_20_path_run(files):
    from engine.analysis import reverse_stress as R
    from engine.analysis.events import happens_by_scenario, parse_event
    from engine.studies.reverse_stress import analyse

    masked, ref, _, _ = files
    horizon = str(ref["quarter"].values[-1])
    threshold = float(np.median(ref["members"].values[1, :, -1])) + 0.5
    event = f"members at {horizon} < {threshold}"
    parsed = parse_event(event, [str(q) for q in ref["quarter"].values])
    assert [h.size for h in happens_by_scenario(masked, parsed)] == [PATHS, KEPT]
    name = str(ref["scenario"].values[1])
    got = analyse(masked, event, name, search=False)
    want = analyse(ref, event, name, search=False)
    assert got["probability"]["paths"] == KEPT and not got["weighted"]
    assert 0 < got["probability"]["estimate"] < 1
    _same([got["probability"], got["driver_shifts"]],
          [want["probability"], want["driver_shifts"]])
    assert got["driver_shifts"]
    _same(R.probabilities(masked, parsed)[1].__dict__, R.probabilities(ref, parsed)[1].__dict__)


def test_net_value_and_disclosure_of_scenario_1_match_the_20_path_run(files):
    from engine.studies.disclosure import ae_rows, disclose
    from engine.studies.net_value import net_value

    masked, ref, _, tmp = files
    one, ref_one = masked.isel(scenario=[1]), ref.isel(scenario=[1])
    got = net_value(one, "2020-12-31", discount_rate=0.05)
    want = net_value(ref_one, "2020-12-31", discount_rate=0.05)
    assert got.paths == KEPT
    _same([got.rows, got.revenue_only, got.components, got.fee_per_member_quarter,
           got.members_at_date], [want.rows, want.revenue_only, want.components,
                                  want.fee_per_member_quarter, want.members_at_date])
    assert all(math.isfinite(x) for x in _numbers(got.rows))
    obs = tmp / "obs.csv"
    obs.write_text(OBSERVATIONS, encoding="utf-8")
    name = str(ref["scenario"].values[1])
    d, e = disclose(obs, masked, name), disclose(obs, ref, name)
    assert d.paths == KEPT
    _same([ae_rows(d), d.adequacy, d.quarterly], [ae_rows(e), e.adequacy, e.quarterly])


def test_the_study_series_and_premiums_of_scenario_1_match_the_20_path_run(files):
    from engine.config.scenario import load_scenario_set
    from engine.studies.study import _series, premium_comparison

    masked, ref, scenario, _ = files
    one, ref_one = masked.isel(scenario=[1]), ref.isel(scenario=[1])
    got, want = _series(one), _series(ref_one)
    assert got["cost_per_member"].shape[0] == KEPT
    assert got["members_by_plan"].shape[:2] == (2, KEPT)
    _same(got, want)
    base = load_scenario_set(scenario).base
    _same(premium_comparison(base, one), premium_comparison(base, ref_one))


def test_plots_of_scenario_1_match_the_20_path_run(files):
    from engine.analysis.compare import used_values
    from engine.report.plots import scenario_weights, write_plots

    masked, ref, _, tmp = files
    assert used_values(masked, "members_by_plan", [1]).shape[:2] == (2, KEPT)
    assert scenario_weights(masked, 1) is None         # masked weight 0 is not a tilt
    got = write_plots(masked.isel(scenario=[1]), tmp / "masked_plots")
    want = write_plots(ref.isel(scenario=[1]), tmp / "ref_plots")
    assert [p.name for p in got] == [p.name for p in want]
    for a, b in zip(got, want, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_the_report_page_states_the_paths_held_and_shows_no_nan(files):
    import re

    from engine.report.html import render

    masked, _, _, _ = files
    page = render(masked)
    assert f"2 scenario(s) × {KEPT}–{PATHS} paths" in page
    text = re.sub(r"src='data:[^']*'", "", page)      # the figures' base64 may spell nan
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_differences_between_scenarios_of_different_path_counts():
    """On common streams only the paths both scenarios hold pair; on independent streams
    each mean keeps all its paths, with its own count in its s.e."""
    from engine.analysis.compare import _difference, _weighted_difference

    rng = np.random.default_rng(3)
    x, base = rng.normal(size=20), rng.normal(size=40)
    assert _difference(x, base, True) == _difference(x, base[:20], True)
    assert _weighted_difference(x, None, base, None, True) == \
        _weighted_difference(x, None, base[:20], None, True)
    diff, se = _difference(x, base, False)
    assert diff == x.mean() - base.mean()
    assert se == pytest.approx(np.sqrt(x.var(ddof=1) / 20 + base.var(ddof=1) / 40))

"""Honest uncertainty (issue 26, item 6): one yardstick for inside or outside, used by every
table and list; a policy's "below 0.5 %" only when the exact bound is below it."""

import datetime as dt
import math

import numpy as np
import pytest

from engine.analysis.metrics import clopper_pearson
from engine.studies.verdicts import (
    Verdict,
    conflict_lines,
    inside,
    normal_quantile,
    paths_needed,
    rate_verdict,
    z_score,
)

Z90 = normal_quantile(0.95)


def _figure(value, sd_log, source, row=1, metric="members"):
    from engine.studies.observations import Observation
    return Observation(row, metric, value, "persons", source, "2020Q2", 1.0, 1.0, sd_log,
                       dt.date(2020, 6, 30))


def _upper_edge(median, high, sd_log):
    """The published value at which a figure above the median leaves the yardstick."""
    s = (math.log1p(high) - math.log1p(median)) / Z90
    return math.expm1(math.log1p(median) + Z90 * math.hypot(sd_log, s))


# --------------------------------------------------------------------- inside or outside

def test_a_figure_just_inside_the_widened_interval_is_inside_and_just_beyond_is_outside():
    median, low, high, sd = 1000.0, 800.0, 1200.0, 0.1
    edge = _upper_edge(median, high, sd)
    assert edge > high                       # the figure's own error widens the interval
    assert inside(edge * (1 - 1e-6), sd, median, low, high)
    assert not inside(edge * (1 + 1e-6), sd, median, low, high)
    # below the median, the model's lower half-width counts
    s = (math.log1p(median) - math.log1p(low)) / Z90
    edge = math.expm1(math.log1p(median) - Z90 * math.hypot(sd, s))
    assert inside(edge * (1 + 1e-6), sd, median, low, high)
    assert not inside(edge * (1 - 1e-6), sd, median, low, high)


def test_with_no_stated_error_the_yardstick_is_the_models_interval_itself():
    assert inside(1199.0, 0.0, 1000.0, 800.0, 1200.0)
    assert not inside(1201.0, 0.0, 1000.0, 800.0, 1200.0)
    assert inside(801.0, 0.0, 1000.0, 800.0, 1200.0)
    assert not inside(799.0, 0.0, 1000.0, 800.0, 1200.0)


def test_an_expected_value_alone_is_judged_on_the_figures_error_at_1_645():
    """The calibration has no paths: ``s = 0`` and met ⇔ |z| ≤ 1.645 on sd_log."""
    y, sd = 100.0, 0.2
    just_in = math.expm1(math.log1p(y) + 0.999 * Z90 * sd)
    just_out = math.expm1(math.log1p(y) + 1.001 * Z90 * sd)
    assert Verdict(_figure(y, sd, "a"), just_in).met
    assert not Verdict(_figure(y, sd, "a"), just_out).met
    assert Verdict(_figure(y, sd, "a"), just_out).z == pytest.approx(1.001 * Z90)


def test_the_same_figure_gets_the_same_word_in_the_ae_table_and_the_list_by_source():
    """The Leshan case: a figure above the model's 90 % interval but within its own stated
    error of it is inside in the table and met in the list; one beyond both is outside in
    both."""
    from engine.report.disclosure_html import ae_section
    from engine.report.study_html import conflicts
    from engine.studies.disclosure import Disclosure, actual_expected, ae_rows

    values = np.linspace(800.0, 1200.0, 401)[:, None].repeat(2, axis=1)
    q05, q50, q95 = (float(np.quantile(values[:, 0], q, method="inverted_cdf"))
                     for q in (0.05, 0.5, 0.95))
    edge = _upper_edge(q50, q95, 0.1)
    figures = [_figure(edge * 0.999, 0.1, "https://leshan.example/in", row=1),
               _figure(edge * 1.001, 0.1, "https://aid.example/out", row=2)]
    assert figures[0].value > q95             # outside the model's own interval
    rows = actual_expected(figures, values)
    assert [r.inside_90 for r in rows] == [True, False]
    assert [r["flag"] for r in ae_rows(_disclosure(Disclosure, rows))] == \
        ["", "above the 90% interval"]
    lines = conflict_lines([r.verdict for r in rows])
    inside_line = next(line for line in lines if "leshan.example" in line)
    outside_line = next(line for line in lines if "aid.example" in line)
    assert inside_line.endswith(", met") and "NOT MET" in outside_line
    d = _disclosure(Disclosure, rows)
    table = ae_section(d)
    assert table.count(">inside<") == 1 and table.count(">above the 90% interval<") == 1
    page = conflicts(d)
    assert "aid.example/out: 1 figure(s)" in page and "NOT MET" in page
    assert "leshan.example/in: 1 figure(s), mean |z|" in page
    assert "https://leshan.example/in: 1 figure(s)" in page.split("NOT MET")[0]


def _disclosure(cls, rows):
    return cls("s", 1, 401, ("2020Q1", "2020Q2"), rows, [], [], [])


def test_the_backtest_gives_the_same_word_as_the_ae_table():
    from engine.studies.backtest import BacktestRow
    from engine.studies.disclosure import actual_expected

    values = np.linspace(800.0, 1200.0, 401)[:, None]
    q = {lvl: float(np.quantile(values[:, 0], lvl, method="inverted_cdf"))
         for lvl in (0.05, 0.25, 0.5, 0.75, 0.95)}
    for factor in (0.999, 1.001):
        o = _figure(_upper_edge(q[0.5], q[0.95], 0.1) * factor, 0.1, "s")
        (ae,) = actual_expected([o], values)
        assert BacktestRow(o, q).in_90 == ae.inside_90 == (factor < 1)


def test_z_is_signed_model_minus_figure():
    assert z_score(100.0, 0.1, 120.0) > 0 and z_score(100.0, 0.1, 80.0) < 0


# ------------------------------------------------------------------- rates and thresholds

def test_no_failure_in_50_paths_leaves_half_a_percent_undecided_and_needs_598_paths():
    v = rate_verdict(0, 50, 0.005)
    assert v.word == "undecided" and v.needed == 598
    assert v.upper == pytest.approx(1 - 0.05 ** (1 / 50))
    assert "598 paths would decide it" in v.text and "5.82%" in v.text
    assert math.ceil(math.log(0.05) / math.log(1 - 0.005)) == 598


def test_no_failure_in_600_paths_is_below_half_a_percent_with_its_bound_said():
    v = rate_verdict(0, 600, 0.005)
    assert v.word == "below" and v.upper < 0.005
    assert "below 0.5%" in v.text and "0.498%" in v.text


def test_a_lower_bound_above_the_threshold_is_above():
    v = rate_verdict(30, 600, 0.005)
    assert v.word == "above" and v.lower > 0.005
    assert rate_verdict(3, 200, 0.005).word == "undecided"      # lower bound 0.31 %


@pytest.mark.parametrize("k,n", [(3, 200), (4, 1000), (1, 400), (12, 1000)])
def test_the_paths_needed_are_the_fewest_that_decide_at_the_same_rate(k, n):
    t = 0.005
    needed = paths_needed(k, n, t)
    r = k / n

    def decided(m):
        lo, hi = clopper_pearson(r * m, m)
        return hi < t if r < t else lo > t
    assert decided(needed) and not decided(needed - 1)


def test_a_rate_at_the_threshold_is_never_decided():
    assert rate_verdict(1, 200, 0.005).needed is None


# ------------------------------------------------------------ the study's policy verdicts

def test_the_worst_year_counts_paths_with_a_first_gap_in_that_year():
    from engine.studies.policies import worst_year

    gap = np.zeros((10, 8))
    gap[0, 1] = gap[0, 6] = 1.0         # first gap in year 1 (a later one does not count)
    gap[1, 5] = 1.0                     # year 2
    gap[2, 4:] = 1.0                    # year 2
    gap[3, 7] = 1.0                     # year 2
    assert worst_year(gap) == 3
    assert worst_year(np.zeros((5, 8))) == 0


def test_an_undecided_point_is_rerun_on_the_paths_it_needs_before_the_answer():
    from engine.studies.policies import PATHS_CAP, _estimate, _first_below

    verdicts = {0.0: rate_verdict(40, 200, 0.005), 0.1: rate_verdict(0, 200, 0.005),
                0.2: rate_verdict(0, 200, 0.005)}
    reruns = []

    def rerun(x, n):
        reruns.append((x, n))
        verdicts[x] = rate_verdict(0, n, 0.005)       # no failure on the extra paths
    assert _first_below([0.0, 0.1, 0.2], verdicts.get, rerun) == 0.1
    assert reruns == [(0.1, 598)]                     # "above" at 0.0 is not rerun
    # a rate just under the target that even the cap leaves undecided says so
    v = rate_verdict(8, PATHS_CAP, 0.005)
    assert v.word == "undecided" and f"{PATHS_CAP:,} paths a policy runs at most" in \
        _estimate(v)


def test_a_point_named_as_not_below_is_rerun_until_it_is_shown_above():
    from engine.studies.policies import _settle

    verdicts = {1.0: rate_verdict(2, 50, 0.005)}           # 4 %, lower bound 0.49 %
    assert verdicts[1.0].word == "undecided"

    def rerun(x, n):
        verdicts[x] = rate_verdict(math.ceil(0.04 * n), n, 0.005)   # the rate held
    _settle(1.0, verdicts.get, rerun)
    assert verdicts[1.0].word == "above" and verdicts[1.0].paths == 100   # twice 50

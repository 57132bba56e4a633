"""The platform's net value at a valuation date (issue 26, item 4): closed forms on tiny
synthetic results, the valuation date's handling, the revenue-only figure, the sweep, and one
real run read from its results file."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import xarray as xr

from engine.report.study_economics import value_section
from engine.studies import net_value as nv

RATE = 0.10
V = (1.0 + RATE) ** -0.25                      # quarterly discount factor


def _dataset(fee, members, joins, claims, start="2019Q1", scenarios=1, paths=3):
    """Results with the same per-quarter series on every path and scenario."""
    from engine.config.labels import quarter_labels

    T = len(fee)
    labels = quarter_labels(start, T)

    def var(x):
        return (("scenario", "path", "quarter"),
                np.broadcast_to(np.asarray(x, dtype=float), (scenarios, paths, T)).copy())
    return xr.Dataset({"fee_revenue": var(fee), "members": var(members), "joins": var(joins),
                       "claims": var(claims)},
                      coords={"scenario": [f"s{i}" for i in range(scenarios)],
                              "path": np.arange(paths), "quarter": labels})


def _value(ds, date, o, a, h, terminal="closure", growth=0.0):
    labels = [str(q) for q in ds["quarter"].values]
    series = {k: ds[k].values[0] for k in ("fee_revenue", "members", "joins", "claims")}
    parts = nv.discounted_components(series, labels, date, RATE)
    k_end = int(nv.offsets(labels, date)[-1])
    return nv.value_of(parts, o, a, h, terminal, RATE, k_end, growth)


def test_constant_flows_after_the_date_are_an_annuity_at_the_date():
    # 2019Q1-2020Q4; valued at 2019-12-31: the four quarters of 2020, each netting
    # 100 − 1·10 − 2·1 − 4·0.5 = 86 yuan
    ds = _dataset([100.0] * 8, [10] * 8, [1] * 8, [0.5] * 8)
    value = _value(ds, "2019-12-31", 1.0, 2.0, 4.0)
    annuity = V * (1 - V ** 4) / (1 - V)                      # Σ_{k=1..4} v^k
    np.testing.assert_allclose(value, 86.0 * annuity, rtol=1e-12)


def test_flows_at_or_before_the_date_are_excluded():
    ds = _dataset([100.0] * 8, [10] * 8, [1] * 8, [0.5] * 8)
    past = _dataset([1e9] * 4 + [100.0] * 4, [10] * 8, [1] * 8, [0.5] * 8)
    np.testing.assert_allclose(_value(past, "2019-12-31", 1.0, 2.0, 4.0),
                               _value(ds, "2019-12-31", 1.0, 2.0, 4.0), rtol=1e-12)


def test_a_date_before_the_start_discounts_the_first_flow_from_the_date():
    # valued at 2018-12-31, a run from 2019Q1: flow of quarter t at k = t + 1
    ds = _dataset([50.0] * 4, [0] * 4, [0] * 4, [0] * 4)
    expected = 50.0 * sum(V ** k for k in range(1, 5))
    np.testing.assert_allclose(_value(ds, "2018-12-31", 0, 0, 0), expected, rtol=1e-12)


def test_going_concern_adds_the_growing_perpetuity_of_the_last_year_discounted_to_the_date():
    ds = _dataset([100.0] * 8, [10] * 8, [1] * 8, [0.5] * 8)
    g = 0.02
    closure = _value(ds, "2019-12-31", 1.0, 2.0, 4.0)
    going = _value(ds, "2019-12-31", 1.0, 2.0, 4.0, "going concern", g)
    # last year's net flow 4 × 86 = 344; TV = 344 (1 + g)/(r − g) at 2020-12-31, a year
    # after the date
    tv = 344.0 * (1 + g) / (RATE - g)
    np.testing.assert_allclose(going - closure, tv / (1 + RATE), rtol=1e-12)


def test_a_loss_making_going_concern_is_worth_its_closure():
    ds = _dataset([1.0] * 8, [10] * 8, [0] * 8, [0] * 8)
    closure = _value(ds, "2019-12-31", 1.0, 0, 0)                # −9 a quarter
    going = _value(ds, "2019-12-31", 1.0, 0, 0, "going concern")
    assert np.all(closure < 0)
    np.testing.assert_array_equal(going, closure)


def test_growth_at_or_above_the_rate_is_refused():
    ds = _dataset([1.0] * 8, [1] * 8, [0] * 8, [0] * 8)
    with pytest.raises(ValueError, match="growth must be below the discount rate"):
        _value(ds, "2019-12-31", 0, 0, 0, "going concern", RATE)


def test_the_valuation_date_is_a_quarters_end_in_any_spelling():
    assert nv.quarter_of_date("2019-12-31") == "2019Q4"
    assert nv.quarter_of_date(dt.date(2020, 6, 30)) == "2020Q2"
    assert nv.quarter_of_date("2019Q4") == "2019Q4"
    assert nv.quarter_end("2019Q3") == "2019-09-30"
    with pytest.raises(ValueError, match="quarter's last day"):
        nv.quarter_of_date("2019-11-30")
    ds = _dataset([1.0] * 4, [1] * 4, [0] * 4, [0] * 4)
    with pytest.raises(ValueError, match="at or after the projection's end"):
        _value(ds, "2019-12-31", 0, 0, 0)


def test_revenue_only_is_the_fees_after_the_date_discounted_and_is_named_so():
    fee = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]
    ds = _dataset(fee, [100] * 6, [5] * 6, [1] * 6, scenarios=2)
    result = nv.net_value(ds, "2019-06-30", discount_rate=RATE)
    expected = sum(f * V ** k for k, f in enumerate(fee[2:], start=1))
    assert result.revenue_only["0.5"] == pytest.approx(expected, rel=1e-12)
    assert result.paths == 6 and result.quarters_after == 4
    assert result.valuation_date == "2019-06-30" and result.horizon_end == "2020-06-30"
    # the fee per member-quarter in the year to the date: (10 + 20) / (100 + 100)
    assert result.fee_per_member_quarter["0.5"] == pytest.approx(0.15)
    assert result.members_at_date["0.5"] == 100.0
    page = "\n".join(value_section(result))
    assert nv.REVENUE_ONLY in page and "2019-06-30" in page and "10% a year" in page
    assert "e+" not in page and "yuan" in page


def test_the_sweep_moves_one_cost_at_a_time_and_values_fall_as_costs_rise():
    ds = _dataset([1000.0] * 8, [100] * 8, [10] * 8, [0.1] * 8)
    result = nv.net_value(ds, "2019-12-31", discount_rate=RATE)
    cases = nv.cost_cases()
    assert len(cases) == 9 and len(result.rows) == 9 * len(nv.TERMINALS)
    rows = {(r["case"], r["terminal"]): r for r in result.rows}
    central = rows[("central", "closure")]
    assert (central["opex"], central["acquisition"], central["handling"]) == tuple(
        c.central for c in nv.COSTS)
    high = rows[("operating cost high", "closure")]
    assert high["opex"] == nv.OPEX.high and high["acquisition"] == nv.ACQUISITION.central
    median = {key: r["quantiles"]["0.5"] for key, r in rows.items()}
    assert median[("all high", "closure")] < median[("central", "closure")] < median[
        ("all low", "closure")] < result.revenue_only["0.5"]
    # central, closure, by the closed form
    o, a, h = (c.central for c in nv.COSTS)
    net = 1000.0 - 100 * o - 10 * a - 0.1 * h
    assert median[("central", "closure")] == pytest.approx(
        net * V * (1 - V ** 4) / (1 - V), rel=1e-12)
    # the central parts sum to the central value
    parts = result.components
    assert parts["fee"]["0.5"] - parts["members"]["0.5"] - parts["joins"]["0.5"] - parts[
        "claims"]["0.5"] == pytest.approx(median[("central", "closure")], rel=1e-12)


def test_every_cost_states_its_basis_and_the_closure_rows_cite_the_facts_file():
    from engine.config import tables

    for cost in nv.COSTS:
        assert cost.low <= cost.central <= cost.high and cost.basis and "yuan" in cost.unit
    facts = {row["source_url"] for _, row in tables.data_table(
        "mutual_aid_platform_facts.csv").rows}
    for _, _, url in nv.CLOSURE_SOURCES:
        assert url in facts, url


def test_a_real_run_is_valued_at_its_own_discount_rate(tmp_path):
    from engine import cli
    from engine.store import open_results
    from tests.conftest import scenario_dict, write_toml

    scenario = write_toml(tmp_path / "s.toml", scenario_dict(
        scenario__paths=4, valuation__discount_rate=0.08))
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(scenario), "--out", str(out), "--quiet"]) == 0
    with open_results(out) as ds:
        result = nv.net_value(ds, "2020-06-30")
        fee = ds["fee_revenue"].values[0][:, 2:]
    assert result.discount_rates == (0.08,)
    v = 1.08 ** -0.25
    expected = fee @ v ** np.arange(1, 5)
    assert result.revenue_only["0.5"] == pytest.approx(
        float(np.quantile(expected, 0.5, method="inverted_cdf")), rel=1e-12)


def test_the_last_quarter_end_on_or_before_a_date():
    assert nv.last_quarter_end("2019-12-31") == "2019-12-31"
    assert nv.last_quarter_end(dt.date(2020, 4, 15)) == "2020-03-31"
    assert nv.last_quarter_end("2020-01-01") == "2019-12-31"

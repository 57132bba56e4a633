"""Results files are archives (issue 24): every reader reads every earlier format, a file
copied away from its scenario's tables, and refuses a newer format in one line.

The fixtures in ``tests/fixtures/results`` were written by the engine at earlier releases
(``fixtures.json`` names each commit; ``make_fixtures.py`` remakes them). Each reader's
numbers are checked against a plain recomputation from the file's arrays (h5py, numpy) with
the values its scenario text states, not through :mod:`engine.resolved`.
"""

from __future__ import annotations

import json
import math
import shutil
import tomllib
from pathlib import Path

import h5py
import numpy as np
import pytest

from engine import cli
from engine.config import tables
from engine.resolved import FORMAT_VERSION
from tests.conftest import scenario_dict, write_toml

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"
LISTED = json.loads((FIXTURES / "fixtures.json").read_text(encoding="utf-8"))
NAMES = sorted(LISTED)


def format_of(name: str) -> int:
    """The results format an engine wrote: 3 from 0.11.0 (paths_used), 2 from 0.6.0
    (resolved values stored), else 1."""
    version = tuple(int(x) for x in LISTED[name]["engine_version"].split("."))
    return 3 if version >= (0, 11, 0) else 2 if version >= (0, 6, 0) else 1


def run(*args) -> int:
    return cli.main([str(a) for a in args])


def arrays(path: Path) -> dict:
    """Every variable of the file as numpy arrays, its attributes, read with h5py alone."""
    with h5py.File(path, "r") as f:
        out = {k: f[k][()] for k in f if isinstance(f[k], h5py.Dataset)}
        out["attrs"] = dict(f.attrs)
    return out


def lower_quantile(x: np.ndarray, alpha: float) -> float:
    """``inf{x : F(x) ≥ α}`` of a sample, written out."""
    xs = np.sort(x)
    return float(xs[max(0, math.ceil(alpha * len(xs)) - 1)])


def plain_platform_value(a: dict, i: int, valuation: dict, fee_rate: float) -> np.ndarray:
    """DESIGN §1.9 for scenario ``i``, written out with the gap rule ``platform`` (default)."""
    rate = valuation.get("discount_rate", 0.0)
    members = a["members"][i].astype(float)
    T = members.shape[1]
    v = (1.0 + rate) ** (-0.25 * np.arange(1, T + 1))
    gap = a["solvency_gap"][i]
    rule = valuation.get("gap_funded_by", "platform")
    increase = np.diff(gap, axis=-1, prepend=0.0)
    gap_cost = {"platform": increase, "members": 0.0 * gap,
                "nobody": fee_rate / (1 + fee_rate) * np.maximum(increase, 0)}[rule]
    cash = (a["fee_revenue"][i] + valuation.get("user_value_per_quarter", 0.0) * members
            - valuation.get("acquisition_cost", 0.0) * a["joins"][i]
            - valuation.get("opex_per_member_quarter", 0.0) * members
            - a["platform_funding"][i] - gap_cost)
    return cash @ v


def test_the_fixtures_are_listed_with_the_commit_that_wrote_them():
    assert len(NAMES) >= 5
    versions = {LISTED[n]["engine_version"] for n in NAMES}
    assert {"0.1.0", "0.2.0", "0.3.0", "0.4.2", "0.5.0", "0.7.0"} <= versions
    for name in NAMES:
        a = arrays(FIXTURES / name)
        assert a["attrs"]["engine_version"] == LISTED[name]["engine_version"]
        if format_of(name) == 1:
            assert "format_version" not in a["attrs"]
        else:
            assert int(np.ravel(a["attrs"]["format_version"])[0]) == format_of(name)
        assert len(LISTED[name]["commit"]) >= 7


@pytest.mark.parametrize("name", NAMES)
def test_summary_of_every_earlier_engine_equals_a_plain_recomputation(name, capsys):
    path = FIXTURES / name
    a = arrays(path)
    text = str(a["attrs"]["scenario_toml"])
    doc = tomllib.loads(text)
    assert run("summary", path, "--json") == 0
    s = json.loads(capsys.readouterr().out)
    assert s["engine_version"] == LISTED[name]["engine_version"]
    assert s["format_version"] == format_of(name)
    assert f"engine {LISTED[name]['engine_version']}" in s["written_by"]
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in a["scenario"]]
    assert s["scenarios"] == names
    w = a.get("weight")
    swept = [k for k in str(a["attrs"].get("swept_keys", "")).split(",") if k]
    for i, scenario in enumerate(names):
        weights = None if w is None or np.all(w[i] == 1) else w[i]
        assert s["weighted"][scenario] == (weights is not None)
        n = a["members"].shape[1]
        ruined = np.any(a["solvency_gap"][i] > 0, axis=-1)

        def mean(x, weights=weights, n=n):
            """The plain or importance-weighted mean ``Σ w x / n``."""
            return float(np.mean(x)) if weights is None else float(np.sum(weights * x) / n)

        assert s["ruin_probability"][scenario] == pytest.approx(mean(ruined), abs=1e-15)
        for t in range(a["members"].shape[2]):
            assert s["mean"][scenario]["claims"][t] == pytest.approx(
                mean(a["claims"][i, :, t]), rel=1e-12)
            if weights is None:
                assert s["members_quantiles"][scenario]["0.5"][t] == \
                    lower_quantile(a["members"][i, :, t], 0.5)
        if weights is None:
            yearly = a["shortfall"][i][:, :4].sum(axis=1)
            assert s["shortfall_var_995"][scenario] == lower_quantile(yearly, 0.995)
        valuation = dict(doc.get("valuation", {}))
        fee = doc.get("sharing", {}).get("fee_rate", 0.0)
        for key in swept:                        # a sweep's values are the file's coordinates
            if key == "sharing.fee_rate":
                fee = float(a[key][i])
            elif key.startswith("valuation."):
                valuation[key.split(".", 1)[1]] = float(a[key][i])
        value = plain_platform_value(a, i, valuation, fee)
        assert s["platform_value"][scenario]["mean"] == pytest.approx(mean(value), rel=1e-9)
        premiums = tables.health_premiums_yuan()
        for year, row in s["market_share_by_year"][scenario].items():
            assert row["premium_yuan"] == premiums.get(int(year))


@pytest.mark.parametrize("name", NAMES)
def test_every_reader_reads_every_earlier_engine_and_says_which_wrote_it(name, tmp_path,
                                                                        capsys):
    path = FIXTURES / name
    version = LISTED[name]["engine_version"]
    said = f"engine {version} (results format {format_of(name)}"
    assert run("summary", path) == 0
    assert said in capsys.readouterr().out
    page = tmp_path / "report.html"
    assert run("report", path, "--out", page) == 0
    assert said in capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    assert said in html and "Fairness" in html
    # format 1 stored no fairness table; format 2 stores the one its run computed
    assert ("not stored in this file" in html) == (format_of(name) == 1)
    assert run("compare", path, "--out", tmp_path / "compare") == 0
    assert said in capsys.readouterr().out
    assert (tmp_path / "compare" / "compare.csv").is_file()
    assert run("plot", path, "--out", tmp_path / "plots") == 0
    assert said in capsys.readouterr().out
    assert list((tmp_path / "plots").glob("*.png"))


def _observations(tmp_path: Path, start: str, plan: str = "") -> Path:
    """Two figures inside a six-quarter run from ``start`` (and two rules of a plan)."""
    year = int(start[:4])
    rows = [f"{year + 1}-03-31,members,100000,persons,test,,,,,",
            f"{year + 1},aided_in_period,50,persons,test,{year + 1}-01,{year + 1}-03,,,"]
    if plan:
        rows += [f"{year},deposit,9,yuan,test,,,,,",
                 f"{year + 1}-09,benefit_cap,300000,yuan,test,,,,{plan},"]
    path = tmp_path / "observations.csv"
    path.write_text("date,metric,value,unit,source,period_start,period_end,sd_log,plan,note\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", NAMES)
def test_disclose_reads_every_earlier_engine(name, tmp_path, capsys):
    path = FIXTURES / name
    a = arrays(path)
    start = str(a["attrs"]["start_quarter"])
    platform = "plan" in a
    obs = _observations(tmp_path, start, "adults" if platform else "")
    assert run("disclose", obs, path, "--out", tmp_path / "disclosure") == 0
    out = capsys.readouterr().out
    assert f"engine {LISTED[name]['engine_version']}" in out
    assert (tmp_path / "disclosure").is_dir()
    if platform:
        # the adults' cap, 400,000 then 300,000 from 2015Q3 (the fixture's dated change):
        # the rule check reads it from the stored text, and the plans' initial members from
        # the arrays (the roll-forward identity)
        page = (tmp_path / "disclosure" / "disclosure.html").read_text(encoding="utf-8")
        assert "<td>benefit_cap</td><td>adults</td><td>300,000</td><td>300000</td>" \
            "<td>consistent</td>" in page
        assert "<td>deposit</td><td>platform</td><td>9</td><td>9</td><td>consistent</td>" in page


def _scenario_with_csv_tables(folder: Path) -> Path:
    """A scenario whose incidence table and initial age mix are CSV files beside it."""
    rates = np.nan_to_num(tables.builtin_incidence_per_100k("ci5plus_china_pooled_2008_2012"))
    (folder / "tables").mkdir(parents=True)
    lines = ["# a user's table: the built-in rates times 1.25", "age,sex,rate_per_100k"]
    lines += [f"{age},{sex},{float(1.25 * rates[s, age])!r}"
              for s, sex in enumerate(("female", "male")) for age in range(rates.shape[1])]
    (folder / "tables" / "rates.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mix = ["# a user's mix", "age,sex,share"] + [f"{age},{sex},{1 + age % 3}" for sex in
                                                  ("female", "male") for age in range(30, 35)]
    (folder / "tables" / "mix.csv").write_text("\n".join(mix) + "\n", encoding="utf-8")
    data = scenario_dict(incidence__table="tables/rates.csv",
                         population__initial_age_mix="tables/mix.csv")
    data["valuation"] = {"discount_rate": 0.05, "user_value_per_quarter": 3.0}
    data["market"] = {"health_premium_by_year": {"2020": 5.0e11}}
    data["sweep"] = {"sharing.fee_rate": [0.05, 0.1]}
    return write_toml(folder / "safe.toml", data)


def test_a_file_copied_away_from_its_tables_is_read_from_its_own_values(tmp_path, capsys):
    scenario = _scenario_with_csv_tables(tmp_path / "work")
    out = tmp_path / "work" / "safe.h5"
    assert run("run", scenario, "--out", out, "--paths", 8, "--quiet") == 0
    away = tmp_path / "colleague" / "safe.h5"
    away.parent.mkdir()
    shutil.move(out, away)
    shutil.rmtree(tmp_path / "work")                 # the tables are gone
    capsys.readouterr()
    assert run("summary", away, "--json") == 0
    s = json.loads(capsys.readouterr().out)
    assert s["format_version"] == FORMAT_VERSION == 3
    a = arrays(away)
    for i, name in enumerate(s["scenarios"]):
        value = plain_platform_value(a, i, {"discount_rate": 0.05,
                                            "user_value_per_quarter": 3.0}, (0.05, 0.1)[i])
        assert s["platform_value"][name]["mean"] == pytest.approx(value.mean(), rel=1e-12)
        assert s["market_share_by_year"][name]["2020"]["premium_yuan"] == 5.0e11
    for command in (("report", away, "--out", tmp_path / "r.html"),
                    ("compare", away, "--out", tmp_path / "c"),
                    ("plot", away, "--out", tmp_path / "p"),
                    ("disclose", _observations(tmp_path, "2020Q1"), away, "--out",
                     tmp_path / "d")):
        assert run(*command) == 0, command
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "results format 3" in page and "not stored" not in page
    assert "member-yrs" in page                       # the fairness table, as stored


def test_the_stored_tables_are_the_tables_as_used(tmp_path):
    from engine.resolved import resolved
    from engine.store import open_results

    scenario = _scenario_with_csv_tables(tmp_path)
    out = tmp_path / "safe.h5"
    assert run("run", scenario, "--out", out, "--paths", 2, "--quiet") == 0
    ds = open_results(out)
    try:
        r = resolved(ds)
    finally:
        ds.close()
    assert len(r.scenarios) == 2 and r.fairness
    first = r.scenarios[0]
    assert first.sharing.fee_rate == 0.05 and r.scenarios[1].sharing.fee_rate == 0.1
    assert first.valuation.user_value_per_quarter == 3.0
    assert r.scenarios[1].swept == {"sharing.fee_rate": 0.1}
    # one copy of each table for both scenarios
    assert first.tables.as_dict() == r.scenarios[1].tables.as_dict()
    incidence = r.tables[first.tables.incidence_per_100k]
    rates = np.nan_to_num(tables.builtin_incidence_per_100k("ci5plus_china_pooled_2008_2012"))
    assert incidence["ages"] == [30, 34] and "tables/rates.csv" in incidence["source"]
    np.testing.assert_allclose(incidence["male"], 1.25 * rates[1, 30:35], rtol=1e-15)
    mix = r.tables[first.tables.initial_age_mix]
    weights = np.array([1 + age % 3 for age in range(30, 35)], dtype=float)
    np.testing.assert_allclose(mix["female"], weights / (2 * weights.sum()), rtol=1e-12)


def _copy(tmp_path: Path, name: str = "engine_0.1.0.h5") -> Path:
    target = tmp_path / name
    shutil.copy(FIXTURES / name, target)
    return target


def test_a_newer_format_is_refused_in_one_line(tmp_path, capsys):
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        f.attrs["format_version"] = np.int32(99)
        f.attrs["engine_version"] = "9.0.0"
    from engine import __version__
    for command in (("summary", path), ("report", path, "--out", tmp_path / "r.html"),
                    ("compare", path, "--out", tmp_path / "c"),
                    ("plot", path, "--out", tmp_path / "p")):
        assert run(*command) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert str(path) in err[0] and "format 99" in err[0] and "9.0.0" in err[0] and \
            __version__ in err[0] and f"1-{FORMAT_VERSION}" in err[0]
    assert not (tmp_path / "r.html").exists() and not (tmp_path / "p").exists()


def test_a_fixture_without_its_provenance_is_refused_in_one_line(tmp_path, capsys):
    path = _copy(tmp_path)
    with h5py.File(path, "r+") as f:
        del f.attrs["engine_version"]
    assert run("summary", path) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "engine_version" in err[0]


def test_a_format_2_file_without_its_resolved_values_is_refused_in_one_line(tmp_path,
                                                                           capsys):
    out = tmp_path / "r.h5"
    assert run("run", write_toml(tmp_path / "s.toml", scenario_dict()), "--out", out,
               "--paths", 2, "--quiet") == 0
    with h5py.File(out, "r+") as f:
        del f["resolved"]
    capsys.readouterr()
    assert run("summary", out) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(out) in err[0] and "resolved" in err[0]


def test_format_1_readers_keep_a_retired_key_as_given_and_never_validate(tmp_path):
    from engine.resolved import resolved
    from engine.store import open_results

    ds = open_results(FIXTURES / "engine_0.1.0.h5")
    try:
        r = resolved(ds)
    finally:
        ds.close()
    assert "antiselection" in r.scenarios[0].lapse       # retired in 0.2.0, kept as given
    assert r.fairness is None and "format 1" in r.how


def test_format_1_plans_take_their_initial_members_from_the_roll_forward():
    from engine.resolved import resolved
    from engine.store import open_results

    path = FIXTURES / "engine_0.3.0_platform.h5"
    a = arrays(path)
    ds = open_results(path)
    try:
        plans = resolved(ds).scenarios[0].plans
    finally:
        ds.close()
    assert [p.name.rsplit(".", 1)[-1] for p in plans] == ["children", "adults", "seniors"]
    for j, plan in enumerate(plans):
        flows = (a["joins_by_plan"][0, j] + a["moved_in_by_plan"][0, j]
                 - a["suspended_by_plan"][0, j] - a["deaths_by_plan"][0, j]
                 - a["claims_by_plan"][0, j] - a["diagnosed_in_waiting_by_plan"][0, j]
                 - a["lapses_by_plan"][0, j] - a["aged_out_by_plan"][0, j]
                 - a["closed_out_by_plan"][0, j])
        initial = a["members_by_plan"][0, j][:, 0] - flows[:, 0]
        assert np.all(initial == initial[0])             # the same on every path
        assert plan.population.initial_members == initial[0]
    assert plans[1].benefits.changes[0]["from"] == "2015Q3"

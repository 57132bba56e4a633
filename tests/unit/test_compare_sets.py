"""Issue 27: `compare` of large sets: set-level figures by default, tables in the formats
actuaries open, and no scientific notation where a person reads."""

import csv
import re
import subprocess
import sys

import pytest

from tests.conftest import latin_set_results


@pytest.fixture(scope="module")
def big_set(tmp_path_factory):
    return latin_set_results(tmp_path_factory.mktemp("bigset"))


def compare(results, out, *args):
    return subprocess.run([sys.executable, "-m", "engine", "compare", str(results), "--out",
                           str(out), *args], capture_output=True, text=True)


def test_a_large_set_gets_set_figures_and_every_table_format(big_set, tmp_path):
    out = tmp_path / "cmp"
    proc = compare(big_set, out, "--format", "csv,md,parquet,xlsx")
    assert proc.returncode == 0, proc.stderr
    assert not (out / "scenarios").exists()          # no per-scenario charts by default
    for name in ("risk_measures_across_set.png", "indices_cost_per_member_year_mean.png",
                 "medians_members.png", "compare.parquet", "compare.xlsx"):
        assert (out / name).stat().st_size > 0, name
    assert "24 scenarios" in proc.stdout
    # no scientific notation anywhere a person reads
    for text in (proc.stdout, (out / "compare.md").read_text()):
        assert not re.search(r"\d[eE][+-]\d", text)
    with (out / "compare.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 24
    # the Excel and Parquet files hold the numbers of the CSV
    from openpyxl import load_workbook
    sheet = load_workbook(out / "compare.xlsx")["scenarios"]
    header = [c.value for c in sheet[1]]
    column = header.index("capital 99.5%, worst year (yuan)") + 1
    excel = [sheet.cell(r + 2, column).value for r in range(24)]
    assert excel == pytest.approx([float(r["capital_995_worst_year"]) for r in rows], rel=1e-5)
    assert sheet.freeze_panes == "B2"
    assert sheet.cell(2, header.index("ruin probability") + 1).number_format.endswith("%")
    import pyarrow.parquet as pq
    table = pq.read_table(out / "compare.parquet").to_pydict()
    assert table["cost_per_member_year_mean"] == pytest.approx(
        [float(r["cost_per_member_year_mean"]) for r in rows], rel=1e-5)
    assert table["scenario"] == [r["scenario"] for r in rows]


def test_charts_all_draws_every_scenario(big_set, tmp_path):
    out = tmp_path / "all"
    proc = compare(big_set, out, "--charts", "all", "--format", "csv")
    assert proc.returncode == 0, proc.stderr
    assert len(list((out / "scenarios").glob("*.png"))) >= 24
    assert not (out / "compare.md").exists()


def test_an_unknown_format_is_one_line_and_writes_nothing(big_set, tmp_path):
    out = tmp_path / "bad"
    proc = compare(big_set, out, "--format", "csv,pdf")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--format" in lines[0] and "csv,pdf" in lines[0], lines
    assert not out.exists()


def test_plot_of_a_large_set_draws_the_set_and_the_base(big_set, tmp_path):
    out = tmp_path / "plots"
    proc = subprocess.run([sys.executable, "-m", "engine", "plot", str(big_set), "--out",
                           str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert (out / "risk_measures_across_set.png").exists()
    base = list((out / "base").glob("*.png"))
    assert len(base) >= 3 and all("_0_" in p.name for p in base), base
    assert not list(out.rglob("*_23_*.png"))         # no other scenario's own figures
    every = tmp_path / "every"
    proc = subprocess.run([sys.executable, "-m", "engine", "plot", str(big_set), "--out",
                           str(every), "--charts", "all"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert len(list(every.glob("*.png"))) >= 24 * 3

"""The example analyses run end to end (small: few draws and paths)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("script,expect", [
    ("xianghubao.py", ["backtest: fitted on observations to 2019-12-31", "2021-12-28"]),
    ("emutual_thesis.py", ["calibration of emutual.toml",
                           "backtest: fitted on observations to 2019-12-31", "2020-04"]),
])
def test_example_runs(script, expect, tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / script), "--paths", "40",
                           "--draws", "4", "--out", str(tmp_path), "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout
    for fragment in expect + ["(1) valid members and claims per quarter",
                              "(2) platform value", "(3) mutual aid's market share",
                              "(4) the risks in numbers", "probability of a solvency gap"]:
        assert fragment in out, fragment
    assert (tmp_path / "plots").is_dir()
    page = (tmp_path / "study" / "study.html").read_text(encoding="utf-8")
    assert "The four answers" in page and "5. Recommendations, each tested" in page
    # one printed number against an independent computation from the results file: the
    # pooled probability of a solvency gap by the end (any quarter with a gap)
    import re

    import h5py
    import numpy as np

    printed = float(re.search(r"probability of a solvency gap by the end: ([0-9.]+)",
                              out).group(1))
    (results,) = tmp_path.glob("*_fitted.h5")
    with h5py.File(results, "r") as f:
        gap = f["solvency_gap"][...]                       # (scenario, path, quarter)
    assert abs(printed - np.mean((gap > 0).any(axis=-1))) <= 0.0005


def test_sector_example_writes_the_market_share_by_year(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "sector.py"), "--paths", "20",
                           "--out", str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "market share of mutual aid" in proc.stdout
    for year in ("2018", "2019", "2020", "2021"):
        assert f"  {year}: members" in proc.stdout
    import csv
    with open(tmp_path / "sector_by_year.csv", encoding="utf-8") as f:
        rows = {row["year"]: row for row in csv.DictReader(f)}
    assert float(rows["2019"]["market_share_median"]) > 0
    assert (tmp_path / "sector.png").is_file()


def test_the_reverse_stress_example_answers_and_replays(tmp_path):
    import json

    proc = subprocess.run([sys.executable, str(ROOT / "examples" /
                                               "xianghubao_reverse_stress.py"),
                           "--paths", "1000", "--out", str(tmp_path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for fragment in ("event: ruin (a solvency gap at a quarter's end) by 2022Q1",
                     "most likely way to fail", "stress: VaR 99.5 %"):
        assert fragment in proc.stdout, fragment
    answer = json.loads((tmp_path / "reverse_stress" / "reverse_stress.json")
                        .read_text(encoding="utf-8"))
    assert answer["likely_failure"]["found"]
    replay = json.loads((tmp_path / "replay_check" / "reverse_stress.json")
                        .read_text(encoding="utf-8"))
    assert replay["probability"]["estimate"] > 0.5
    assert (tmp_path / "reverse_stress" / "reverse_stress.html").is_file()
    assert (tmp_path / "stress_weights" / "stressed.h5").is_file()

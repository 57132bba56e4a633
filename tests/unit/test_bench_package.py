"""The bench package (issue 25): the runner writes its table between the markers of the file
``--docs`` names and appends a record with the measurements' keys to ``--jsonl``.

The smoke test runs ``python -m benchmarks`` on its smallest configuration (``--quick``,
three in-process measurements); its numbers are not checked, only that they are written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.table import MARKERS, table, write_between_markers

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "benchmarks" / "results" / "bench.jsonl"

SAMPLER_KEYS = {"sampler_ns_per_draw", "numpy_sampler_ns_per_draw", "one_at_a_time_ns_per_draw",
                "staged_draw_share", "binomial_draws_recorded", "poisson_draws_recorded",
                "kernel_cells_per_s_1thread", "sampler_bound_cells_per_s_1thread",
                "share_outside_samplers"}
PHILOX_KEYS = {"philox_ns_per_block", "philox_batch_ns_per_block"}


@pytest.mark.slow
def test_the_runner_writes_the_table_and_the_record(tmp_path):
    docs, jsonl = tmp_path / "benchmarks.md", tmp_path / "bench.jsonl"
    docs.write_text(f"kept above\n{MARKERS[0]}\nold table\n{MARKERS[1]}\nkept below\n")
    series_before = SERIES.read_bytes() if SERIES.exists() else b""
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--only",
                           "samplers,philox,regimes", "--quick", "--jsonl", str(jsonl),
                           "--docs", str(docs)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]

    records = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert len(records) == 1
    record = records[0]
    assert SAMPLER_KEYS | PHILOX_KEYS | {"date", "machine", "regimes"} <= set(record)
    assert record["only"] == "samplers,philox,regimes" and record["quick"] is True
    assert "_sampler_seconds" not in record
    assert len(record["regimes"]) == 7
    assert all(set(row) == {"ours_ns", "numpy_ns", "mean_np"}
               for row in record["regimes"].values())

    text = docs.read_text()
    assert text.startswith("kept above\n") and text.endswith("kept below\n")
    assert "old table" not in text
    between = text.split(MARKERS[0], 1)[1].split(MARKERS[1], 1)[0]
    assert between.strip() == table(record)
    for row in ("| binomial, the scenario's own draws (ours / numpy) |",
                "| Philox4x32-10 block, one at a time / a stage's together |",
                "| share of kernel time outside the samplers |",
                "| binomial n·p≈500 (lapses) |"):
        assert row in between
    # --quick never adds to the series
    assert (SERIES.read_bytes() if SERIES.exists() else b"") == series_before


def test_every_stored_record_renders():
    """The table reads every record of the series, the partial ``--samplers`` ones too."""
    for line in SERIES.read_text().splitlines():
        record = json.loads(line)
        rendered = table(record)
        assert rendered.startswith(f"Measured {record['date']}")


def test_the_table_goes_between_the_markers_or_they_are_added(tmp_path):
    missing = tmp_path / "new" / "benchmarks.md"
    assert write_between_markers(missing, "T1") == "created"
    assert f"{MARKERS[0]}\nT1\n{MARKERS[1]}" in missing.read_text()
    assert write_between_markers(missing, "T2") == "replaced"
    assert "T1" not in missing.read_text() and "T2" in missing.read_text()
    plain = tmp_path / "plain.md"
    plain.write_text("# Title\n\nprose\n")
    assert write_between_markers(plain, "T3") == "appended"
    assert plain.read_text().startswith("# Title\n\nprose\n\n" + MARKERS[0])

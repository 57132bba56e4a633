"""The HTML report as a person sees it: a title from the scenario's description, the
answers in sentences with their intervals, readable amounts, and (where Debian's
``chromium`` is installed: ``apt-get install chromium``) a headless screenshot that is not
blank, from a page with no console errors."""

import re

import numpy as np
import pytest

from engine import cli
from tests.conftest import headless_screenshot, scenario_dict, write_toml


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    data = scenario_dict(scenario__paths=30, scenario__description="A small plan, stressed")
    data["sweep"] = {"lapse.base_quarterly": [0.01, 0.02, 0.03]}
    path = write_toml(tmp / "s.toml", data)
    out = tmp / "r.h5"
    assert cli.main(["run", str(path), "--out", str(out), "--quiet"]) == 0
    page = tmp / "r.html"
    assert cli.main(["report", str(out), "--out", str(page)]) == 0
    return page


def test_title_opening_sentences_and_amounts(report):
    text = report.read_text(encoding="utf-8")
    assert re.search(r"<title>A small plan, stressed</title>", text)
    brief = text[text.index("In brief"):text.index("<h2>Scenarios")]
    assert brief.count("<p>") == 3                            # one paragraph per scenario
    for fragment in ("members", "claims in that quarter", "Capital at 99.5 %",
                     "Monte Carlo s.e.", "Ruin (a solvency gap", "(95%)", "platform's value"):
        assert fragment in brief.replace("&#x27;", "'"), fragment
    table = text[text.index("<h2>Scenarios"):text.index("<h2>Medians")]
    assert not re.search(r"\de[+-]\d", table), "amounts in scientific notation"
    assert table.count("<th>s.e.</th>") == 4                  # ruin, capital ×2, value


def test_the_page_renders_in_headless_chromium(report, tmp_path):
    pixels = headless_screenshot(report, tmp_path / "shot.png", "report", 1600)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    assert float(np.std(pixels)) > 0.05, "the screenshot is blank"
    dark = float(np.mean(pixels.mean(axis=-1) < 0.5))
    assert 0.005 < dark < 0.5, dark                            # text and lines, not a void

"""The HTML report as a person sees it: a title from the scenario's description, the
answers in sentences with their intervals, readable amounts, and (where Debian's
``chromium`` is installed: ``apt-get install chromium``) a headless screenshot that is not
blank, from a page with no console errors."""

import re

import numpy as np
import pytest

from engine import cli
from tests.conftest import headless_screenshot, latin_set_results, scenario_dict, write_toml


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
    # what a person reads: not the images' data nor the cells' sort keys (data-v)
    readable = re.sub(r"src='data:[^']*'|data-v='[^']*'", "", table)
    assert not re.search(r"\de[+-]\d", readable), "amounts in scientific notation"
    # ruin, capital ×2, cost, members, value
    assert table.count("<th>s.e.</th>") == 6


def test_the_page_renders_in_headless_chromium(report, tmp_path):
    pixels = headless_screenshot(report, tmp_path / "shot.png", "report", 1600)
    assert pixels.shape[0] >= 1000 and pixels.shape[1] >= 1200
    assert float(np.std(pixels)) > 0.05, "the screenshot is blank"
    dark = float(np.mean(pixels.mean(axis=-1) < 0.5))
    assert 0.005 < dark < 0.5, dark                            # text and lines, not a void


@pytest.fixture(scope="module")
def large_report(tmp_path_factory):
    """The report of a Latin set of 24 scenarios over two keys."""
    results = latin_set_results(tmp_path_factory.mktemp("large_report"))
    page = results.with_suffix(".html")
    assert cli.main(["report", str(results), "--out", str(page)]) == 0
    return page


def test_a_large_set_is_described_as_a_set(large_report):
    text = large_report.read_text(encoding="utf-8").replace("&#x27;", "'")
    brief = text[text.index("In brief"):text.index("<h2>Scenarios")]
    assert brief.count("<p>") == 3                  # the base, the spread, what moves it
    assert "the base scenario" in brief and "24 scenarios" in brief
    assert "half the scenarios between" in brief and "first-order index" in brief
    assert "class='sortable'" in text and text.count("<tr>") == 25
    readable = re.sub(r"src='data:[^']*'|data-v='[^']*'", "", text[text.index("In brief"):])
    assert not re.search(r"\d[eE][+-]\d", readable.split("<h2>Scenario file")[0])


def test_the_large_table_sorts_on_a_click_and_the_page_fits_1300_pixels(large_report):
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): the "
                    "sorting and width check of the large report is skipped")
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                           "--window-size=1300,900", "--virtual-time-budget=5000",
                           "--enable-logging=stderr", "--v=0", "--dump-dom",
                           large_report.as_uri() + "#sort-test"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line
               or "Uncaught" in line]
    assert not console, console
    width = int(re.search(r'data-scroll-width="(\d+)"', proc.stdout).group(1))
    assert width <= 1300, f"the page scrolls sideways: {width} px"
    # the page's own script clicked the third column's header (the second swept key)
    body = proc.stdout[proc.stdout.index("<tbody>"):proc.stdout.index("</tbody>")]
    # (the first column, the scenario's name, has no data-v: the third column is the 2nd)
    third = [float(row[1]) for row in
             (re.findall(r"data-v=\"([^\"]+)\"", tr) for tr in body.split("<tr>")[1:])]
    assert len(third) == 24 and third == sorted(third) and len(set(third)) > 20

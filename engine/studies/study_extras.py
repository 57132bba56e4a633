"""The study document's sections beyond the run itself: the platform's value net of costs
at a valuation date (:mod:`engine.studies.net_value`), the whole sector's share of
health-insurance premiums (:mod:`engine.studies.sector_share`) and the sensitivity of the
four answers to the assumptions (:mod:`engine.studies.assumption_sensitivity`), as HTML
fragments by place for :func:`engine.report.study_html.study_page`.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTOR_FILE = ROOT / "scenarios" / "sector" / "sector.toml"
SECTOR_PATHS = 200          # the sector's paths: its share is a context, not the forecast
SENSITIVITY_PATHS = 200     # paths of each one-at-a-time run


def valuation_date(scenario_path: Path, observations: list) -> str:
    """The default valuation date: the end of the calibration data (the last quarter's end
    on or before the ``used up to`` date a fitted file's header states), else of the last
    published figure's quarter."""
    from engine.studies.net_value import last_quarter_end

    for line in Path(scenario_path).read_text(encoding="utf-8").splitlines()[:12]:
        found = re.search(r"used up to (\d{4}-\d{2}-\d{2})", line)
        if found:
            return last_quarter_end(dt.date.fromisoformat(found.group(1)))
    return last_quarter_end(max(o.last_day for o in observations))


def check_valuation_date(date: str, scenario, file: str) -> None:
    """A valuation date inside the run (from its start to before its last quarter's end),
    checked before anything is run; one line naming the option and the date otherwise."""
    from engine.config.labels import quarter_labels
    from engine.errors import InputError
    from engine.studies.net_value import quarter_end, quarter_of_date

    labels = quarter_labels(scenario.scenario.start, scenario.scenario.quarters)
    first = dt.date.fromisoformat(quarter_end(labels[0])) - dt.timedelta(days=92)
    try:
        day = dt.date.fromisoformat(quarter_end(quarter_of_date(date)))
    except ValueError:
        raise InputError.one(file, "--valuation-date", "must be a quarter's last day like "
                             "2019-12-31", date) from None
    if not first <= day < dt.date.fromisoformat(quarter_end(labels[-1])):
        raise InputError.one(file, "--valuation-date", f"must fall in the run, from "
                             f"{first} to before {quarter_end(labels[-1])}", date)


def value_fragment(ds, date: str):
    """The net value (yuan at ``date``, from the study's own results file) and its
    section."""
    from engine.report.study_economics import value_section
    from engine.studies.net_value import net_value

    value = net_value(ds, date)
    return value, value_section(value)


def sector_fragment(platform_name: str, paths: int = SECTOR_PATHS) -> list[str]:
    """The sector's share of premiums by year, with this platform's own beside it where it
    is one of the sector's platforms."""
    from engine.report.study_economics import sector_section
    from engine.studies.sector import load_sector
    from engine.studies.sector_share import sector_share

    names = {p.name for p in load_sector(SECTOR_FILE).platforms}
    platform = platform_name if platform_name in names else None
    share = sector_share(SECTOR_FILE, paths, platform=platform)
    return sector_section(share, platform_label=platform or "this platform")


def sensitivity_fragment(scenario_path: Path, out_dir: Path, date: str,
                         paths: int = SENSITIVITY_PATHS) -> list[str]:
    """Each assumption of :data:`engine.studies.assumption_sensitivity.CANDIDATES` the
    scenario sets, low and high, on the study's seed; the five that move the four answers
    most, in a table; the value is net of the central costs at ``date``."""
    from engine.analysis.summary import summarize
    from engine.report.study_sensitivity import sensitivity_section
    from engine.studies.assumption_sensitivity import run_sensitivity
    from engine.studies.policies import _raw, _run, _write_policy

    def run_doc(doc: dict, name: str):
        path = _write_policy(doc, scenario_path, out_dir, name, None,
                             f"one assumption moved: {name}")
        _, ds = _run(path, out_dir, paths)
        return ds, summarize(ds)

    base, swings = run_sensitivity(_raw(scenario_path), run_doc, date)
    return sensitivity_section(base, swings, paths)

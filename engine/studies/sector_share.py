"""Mutual aid's share of China's commercial health-insurance premiums, year by year, with one
platform's share beside it.

The sector (:mod:`engine.studies.sector`: every platform's scenario on one calendar, summed
path by path) is run from the first platform's launch (e互助, 2014Q3) to the sector file's
last quarter, so the years before the file's own start are counted too (a platform outside
its run counts 0). For calendar year ``y`` with ``n_y`` of its quarters projected::

    share_y = Σ_{t ∈ y} Σ_i c_{i,t} S_{i,t} / (P_y · n_y / 4)

``c_{i,t} S_{i,t}`` platform ``i``'s contributions (cost per member times sharers, yuan) and
``P_y`` the year's premiums (engine/data/china_health_insurance_premiums.csv, each with its
source). A partial year (``n_y < 4``) is compared with the same fraction of the year's
premiums, as if premiums were spread evenly over the year; such years are marked partial.
Years without a premium figure get none. The platform's own share uses its series from the
same sector run. Quantiles are the lower (inverted-CDF) quantiles over the sector's paths.

The sector is the five platforms of the sector file; before 2016 it is e互助 alone in the
model, while other early platforms (not modelled) also ran, so the early years' sector share
is a lower bound of mutual aid's.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.analysis import weighted as W
from engine.config import tables
from engine.config.labels import parse_quarter, quarter_offset

LEVELS = (0.05, 0.5, 0.95)
# The industry's published size at its peak (yuan a year), to read the modelled sector
# against: engine/data/mutual_aid_platform_facts.csv, "Industry (all online mutual aid)".
PUBLISHED_PEAK_YUAN = 5.4e9
PUBLISHED_PEAK_SOURCE = ("Caixin via the Straits Times, https://www.straitstimes.com/asia/"
                         "east-asia/how-chinas-health-care-mutual-aid-industry-folded-in-just-"
                         "3-years")


def _quantiles(x: np.ndarray) -> dict[str, float]:
    return {f"{q:g}": float(v) for q, v in zip(LEVELS, W.quantile(x, list(LEVELS)),
                                              strict=True)}


def widened(sector, start: str | None = None):
    """The sector on a calendar from ``start`` (default: the earliest platform's start) to
    the sector file's last quarter."""
    starts = [p.scenario_set.base.scenario.start for p in sector.platforms]
    start = start or min(starts, key=parse_quarter)
    end = sector.labels[-1]
    return dataclasses.replace(sector, start=start,
                               quarters=quarter_offset(start, end) + 1)


def share_by_year(result: dict, platform: str | None, premiums: dict[int, float] | None = None
                  ) -> list[dict]:
    """Per calendar year of a :func:`engine.studies.sector.run_sector` result: ``year``,
    ``quarters`` projected, ``partial``, ``premium_yuan`` (the year's, or None),
    ``premium_compared_yuan`` (``premium · quarters / 4``), the sector's
    ``contributions_yuan`` and ``share`` and ``platform``'s ``platform_contributions_yuan``
    and ``platform_share`` (quantiles over paths, level → value; shares None without a
    premium; both None when ``platform`` is None)."""
    premiums = tables.health_premiums_yuan() if premiums is None else premiums
    labels = result["labels"]
    totals = result["totals"]["contributions"]
    own = result["platforms"][platform]["contributions"] if platform else None
    rows = []
    for year in sorted({int(lab[:4]) for lab in labels}):
        idx = [t for t, lab in enumerate(labels) if int(lab[:4]) == year]
        n = len(idx)
        premium = premiums.get(year)
        compared = premium * n / 4.0 if premium else None
        sector_paid = totals[:, idx].sum(axis=1)
        own_paid = own[:, idx].sum(axis=1) if platform else None
        rows.append({
            "year": year, "quarters": n, "partial": n < 4, "premium_yuan": premium,
            "premium_compared_yuan": compared,
            "contributions_yuan": _quantiles(sector_paid),
            "share": _quantiles(sector_paid / compared) if compared else None,
            "platform": platform,
            "platform_contributions_yuan": _quantiles(own_paid) if platform else None,
            "platform_share": (_quantiles(own_paid / compared) if platform and compared
                               else None),
        })
    return rows


def sector_share(sector_file, paths: int, platform: str | None = "emutual",
                 start: str | None = None, backend: str = "numba") -> dict:
    """Run the sector of ``sector_file`` with ``paths`` paths from ``start`` (default the
    earliest platform's launch) and return its share of health-insurance premiums by year,
    with ``platform``'s own beside it (None: the sector's alone).

    Returns
    -------
    dict
        ``rows`` (:func:`share_by_year`), ``labels`` (the quarters run), ``paths``,
        ``platforms`` (names), ``platform`` (the one shown beside the sector), ``starts``
        (each platform's first quarter), ``sector`` (its name and description).

    Raises
    ------
    ValueError
        When ``platform`` is not one of the sector's platforms.
    """
    from engine.studies.sector import load_sector, run_sector

    sector = widened(load_sector(sector_file), start)
    names = [p.name for p in sector.platforms]
    if platform is not None and platform not in names:
        raise ValueError(f"platform: must be one of {', '.join(names)} (got {platform!r})")
    result = run_sector(sector, paths, backend)
    return {"rows": share_by_year(result, platform), "labels": result["labels"],
            "paths": paths, "platforms": names, "platform": platform,
            "starts": {p.name: p.scenario_set.base.scenario.start for p in sector.platforms},
            "sector": f"{sector.name}: {sector.description}",
            "published_peak_yuan": PUBLISHED_PEAK_YUAN,
            "published_peak_source": PUBLISHED_PEAK_SOURCE}

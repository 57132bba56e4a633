"""The sector: several platforms' scenarios on one calendar, summed path by path.

A sector file (``scenarios/sector/sector.toml``)::

    [sector]
    name, description, start ("2016Q1"), quarters, paths, systematic_seed
    [[platforms]]
    file = "waterdrop.toml"     # a scenario, set or platform file (paths relative to here)
    closure = "2021Q1"          # optional: the platform's last quarter (an event)

Sector path ``p`` takes, from a platform whose file is a set of ``S`` scenarios (parameter
draws on independent streams), scenario ``p mod S`` and its path ``p div S``; so the
sector's paths carry every platform's parameter and process uncertainty. All platforms get
``incidence.systematic_seed`` from the sector: they share the national incidence level,
while their own draws (their files' seeds) stay independent.

Totals by sector quarter ``t``: members ``N_t = Σ_i N_{i,t}`` (a platform outside its run, or
after its closure, counts 0), claims paid, and contributions ``Σ_i c_{i,t} S_{i,t}`` (cost per
member times sharers, yuan). By calendar year: members at the year's end, claims and
contributions in the year, and the market share ``contributions / premiums`` against China's
commercial health-insurance premiums of that year (``engine/data``; years without a figure
get none).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.analysis import weighted as W
from engine.config import tables
from engine.config.labels import parse_quarter, quarter_labels
from engine.errors import InputError, ScenarioError

SECTOR_KEYS = ("name", "description", "start", "quarters", "paths", "systematic_seed")
SERIES = ("members", "claims", "contributions")
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class SectorPlatform:
    name: str
    file: Path
    scenario_set: object


@dataclass(frozen=True)
class Sector:
    name: str
    description: str
    start: str
    quarters: int
    paths: int
    systematic_seed: int
    platforms: tuple[SectorPlatform, ...]

    @property
    def labels(self) -> list[str]:
        return quarter_labels(self.start, self.quarters)


def load_sector(path) -> Sector:
    """Read and check a sector file and every platform file it names.

    Raises
    ------
    ScenarioError
        One line per problem, naming the file, the key and the value (exit 2).
    """
    from engine.config.scenario import read_document, scenario_set_from_dict

    path = Path(path)
    label = str(path)
    raw, _ = read_document(path, "sector file")
    head = raw.get("sector")
    if not isinstance(head, dict):
        raise ScenarioError.one(label, "sector", "a [sector] table is required", has_got=False)
    for key in head:
        if key not in SECTOR_KEYS:
            raise ScenarioError.one(label, f"sector.{key}", "unknown key (valid: "
                                    f"{', '.join(SECTOR_KEYS)})", head[key])
    try:
        parse_quarter(head.get("start"))
    except (ValueError, TypeError):
        raise ScenarioError.one(label, "sector.start", "must be a quarter like \"2016Q1\"",
                                head.get("start")) from None
    for key in ("quarters", "paths", "systematic_seed"):
        value = head.get(key)
        low = 0 if key == "systematic_seed" else 1
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ScenarioError.one(label, f"sector.{key}", "must be a positive integer", value)
    entries = raw.get("platforms")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError.one(label, "platforms", "list the platforms as [[platforms]] "
                                "tables with a file", entries)
    platforms = []
    for j, entry in enumerate(entries):
        where = f"platforms[{j}]"
        file = entry.get("file") if isinstance(entry, dict) else None
        target = path.parent / str(file)
        if not isinstance(file, str) or not target.is_file():
            raise ScenarioError.one(label, f"{where}.file", "scenario file not found", file)
        platform_raw, platform_text = read_document(target)
        platform_raw.setdefault("incidence", {})["systematic_seed"] = head["systematic_seed"]
        closure = entry.get("closure")
        if closure is not None:
            platform_raw.setdefault("closure", {})["quarter"] = closure
        try:
            scenario_set = scenario_set_from_dict(platform_raw, str(target), platform_text,
                                                  target.resolve().parent)
        except InputError as exc:
            first = exc.problems[0]
            raise ScenarioError.one(label, f"{where} ({first.key})", first.what,
                                    first.got) from None
        platforms.append(SectorPlatform(scenario_set.base.scenario.name.split("[")[0],
                                        target, scenario_set))
    return Sector(str(head.get("name", path.stem)), str(head.get("description", "")),
                  head["start"], head["quarters"], head["paths"], head["systematic_seed"],
                  tuple(platforms))


def platform_series(platform: SectorPlatform, sector: Sector, paths: int,
                    backend: str = "numba") -> dict[str, np.ndarray]:
    """One platform's members, claims and contributions ``(paths, sector quarters)``."""
    from engine.run.plans import build_run_inputs, simulate_plans
    from engine.run.simulate import scenario_seeds

    ss = platform.scenario_set
    S = len(ss.scenarios)
    per = -(-paths // S)
    seeds = scenario_seeds(ss.base.scenario.seed, S, ss.streams)
    runs = [simulate_plans(build_run_inputs(s), seed, 0, per, backend)
            for s, seed in zip(ss.scenarios, seeds, strict=True)]
    labels = quarter_labels(ss.base.scenario.start, ss.base.scenario.quarters)
    where = {lab: t for t, lab in enumerate(labels)}
    out = {name: np.zeros((paths, sector.quarters)) for name in SERIES}
    p = np.arange(paths)
    scenario, row = p % S, p // S
    for t, lab in enumerate(sector.labels):
        if lab not in where:
            continue
        k = where[lab]
        for i in range(S):
            mine = scenario == i
            r = runs[i]
            out["members"][mine, t] = r["members"][row[mine], k]
            out["claims"][mine, t] = r["claims_reported"][row[mine], k]
            out["contributions"][mine, t] = (r["cost_per_member"][row[mine], k]
                                             * r["sharers"][row[mine], k])
    return out


def run_sector(sector: Sector, paths: int | None = None, backend: str = "numba") -> dict:
    """Every platform's series and the sector's totals (see the module docstring)."""
    paths = paths or sector.paths
    by_platform = {p.name: platform_series(p, sector, paths, backend)
                   for p in sector.platforms}
    totals = {name: sum(series[name] for series in by_platform.values()) for name in SERIES}
    return {"labels": sector.labels, "platforms": by_platform, "totals": totals,
            "years": by_year(totals, sector.labels, by_platform)}


def _quantiles(x: np.ndarray) -> dict[str, float]:
    return {f"{q:g}": float(v) for q, v in zip(LEVELS, W.quantile(x, LEVELS), strict=True)}


def by_year(totals: dict, labels: list[str], by_platform: dict) -> list[dict]:
    """The sector by calendar year: members at the year's end, claims, contributions and
    the share of health-insurance premiums, each as quantiles over paths."""
    premiums = tables.health_premiums_yuan()
    rows = []
    for year in sorted({lab[:4] for lab in labels}):
        idx = [t for t, lab in enumerate(labels) if lab.startswith(year)]
        contributions = totals["contributions"][:, idx].sum(axis=1)
        premium = premiums.get(int(year))
        row = {"year": int(year), "quarters": len(idx),
               "members_end": _quantiles(totals["members"][:, idx[-1]]),
               "claims": _quantiles(totals["claims"][:, idx].sum(axis=1)),
               "contributions_yuan": _quantiles(contributions),
               "premium_yuan": premium,
               "market_share": _quantiles(contributions / premium) if premium else None,
               "members_end_by_platform": {
                   name: float(W.quantile(series["members"][:, idx[-1]], 0.5))
                   for name, series in by_platform.items()}}
        rows.append(row)
    return rows


def year_table(result: dict) -> list[dict]:
    """Flat rows (median and 90 % interval) for a CSV."""
    out = []
    for row in result["years"]:
        flat = {"year": row["year"], "quarters": row["quarters"]}
        for key in ("members_end", "claims", "contributions_yuan", "market_share"):
            q = row[key]
            for level in ("0.05", "0.5", "0.95"):
                flat[f"{key}_{'median' if level == '0.5' else 'p' + level[2:].ljust(2, '0')}"] = (
                    "" if q is None else q[level])
        flat["premium_yuan"] = row["premium_yuan"] or ""
        for name, value in row["members_end_by_platform"].items():
            flat[f"members_end_median_{name}"] = value
        out.append(flat)
    return out

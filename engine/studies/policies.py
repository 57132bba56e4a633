"""The study's recommendations as tested policies (``mutualsim study``, section 5).

Each recommendation is a scenario file written next to the document (``DIR/scenarios/``)
and run on the study's seed (common random numbers), with the number it yields: separate
age pools against one pool, the caps and fee that keep members, the reserve loading and the
founding capital that keep the worst one-year probability of a first gap below
:data:`RUIN_TARGET`. Every such answer rests on the exact (Clopper–Pearson) 95 % bound of
its count of paths (:func:`engine.studies.verdicts.rate_verdict`): "below" only when the
bound is, and an undecided scenario is rerun on the paths that would decide it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from engine.used_paths import scenario_paths

RUIN_TARGET = 0.005                 # one-year ruin below 0.5 % (Solvency II / C-ROSS 99.5 %)
# A policy's verdict against RUIN_TARGET rests on the exact 95 % bound of the worst year's
# count (engine.studies.verdicts.rate_verdict); an undecided scenario is rerun on the paths
# that would decide it, at most PATHS_CAP (598 decide 0.5 % when no path fails), and at
# most RERUNS scenarios a policy: the cost of an answer stays within a few main runs.
PATHS_CAP = 2000
RERUNS = 3
# Caps and loadings are set against each plan's peak median cost per member-quarter (the
# largest of its quarters' medians): costs trend (members age, selection wears off), so a
# cap set against a typical quarter binds for good later on, which no loading can fund.
LOADING_SHARES = (0.0, 0.05, 0.1, 0.2, 0.4, 0.8)   # reserve loadings, shares of the peak cost
CAP_MULTIPLES = (1.0, 1.25, 1.5)    # caps as multiples of each plan's peak median cost
FEES = (0.06, 0.08, 0.10)           # management fee grid around the platforms' 8 %
# Founding capital: a reserve at the start, yuan per plan, on a log grid from nothing to 100
# million (e互助's 2019 aid was about 60 million yuan a year: engine/data/
# mutual_aid_platform_facts.csv), with a moderate loading beside it (a judgement).
CAPITAL_GRID = (0.0, 1e5, 1e6, 3e6, 1e7, 3e7, 1e8)
CAPITAL_LOADING_SHARE = 0.10


@dataclass
class Policy:
    """A recommendation tested by a scenario file: what it asks, the file, the answer."""

    title: str
    question: str
    scenario_file: Path
    answer: str
    rows: list[list] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    target: float = RUIN_TARGET          # the verdicts' threshold and rerun cap, for the
    paths_cap: int = PATHS_CAP           # document (report reads them here)


def _raw(path: Path) -> dict:
    from engine.config.scenario import read_document
    return read_document(path)[0]


def _write_policy(raw: dict, scenario_path: Path, out_dir: Path, name: str,
                  sweep: dict | None, description: str) -> Path:
    """A policy's scenario file: the study's scenario, its CSV table paths rewritten for the
    policy's folder (:func:`engine.config.loading.rebase_table_refs`)."""
    from engine.config.loading import rebase_table_refs

    doc = copy.deepcopy(raw)
    doc.pop("sweep", None)
    folder = out_dir / "scenarios"
    rebase_table_refs(doc, scenario_path.parent, folder)
    doc.setdefault("scenario", {})
    doc["scenario"]["name"] = f"{doc['scenario'].get('name', 'study')}_{name}"
    doc["scenario"]["description"] = description
    if sweep:
        doc["sweep"] = sweep
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.toml"
    path.write_text(f"# Written by `mutualsim study` from {scenario_path}: {description}\n"
                    + tomli_w.dumps(doc), encoding="utf-8")
    return path


def _run(path: Path, out_dir: Path, paths: int):
    from engine.run.runner import RunRequest, run
    from engine.store import open_results

    folder = out_dir / "results"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (path.stem + ".h5")
    run(RunRequest(scenario=str(path), out=target, paths=paths, quiet=True,
                   command=f"mutualsim study ({path.name})"))
    return target, open_results(target)


def policies(scenario_path: Path, scenario_set, out_dir: Path, paths: int,
             cost_medians: dict[str, float]) -> list[Policy]:
    """Run the recommendations' scenarios (see the module docstring) and read the answers."""
    from engine.analysis.summary import summarize

    raw = _raw(scenario_path)
    base = scenario_set.base
    out = []
    # 1. separate age pools against one pool
    if base.plans:
        # totals only: an [output] by plan would need the plans this pool has not got
        one = {k: v for k, v in raw.items() if k not in ("plans", "platform", "output")}
        path = _write_policy(one, scenario_path, out_dir, "one_pool", None,
                             "the platform as one pool of all ages")
        _, ds = _run(path, out_dir, paths)
        with ds:
            s1 = summarize(ds)
            name1 = s1["scenarios"][0]
            cost1 = s1["cost_per_member_quantiles"][name1]["0.5"]
            members1 = s1["members_quantiles"][name1]["0.5"]
        out.append(Policy("Separate age pools or one pool",
                          "Do separate plans by age keep more members than one pool?", path,
                          "", [["one pool", members1[-1], cost1[-1]]],
                          ["design", "members at the end (median)",
                           "cost per member in the last quarter (median), yuan"]))
    out.append(cap_policy(raw, scenario_path, out_dir, paths, cost_medians))
    out.append(loading_policy(raw, scenario_path, out_dir, paths, cost_medians))
    out.append(capital_policy(raw, scenario_path, out_dir, paths, cost_medians))
    return out


def cap_policy(raw: dict, scenario_path: Path, out_dir: Path, paths: int,
               cost_medians: dict[str, float]) -> Policy:
    """The cap and the fee that keep the most members with the worst one-year probability
    of a first gap shown below :data:`RUIN_TARGET` (:func:`_year_verdict`): each plan capped
    at a multiple of its own peak median cost per member-quarter (:data:`CAP_MULTIPLES`),
    the shortfall met from the reserve, each cap's file a sweep over :data:`FEES`; the
    undecided scenario with the most members and a rate below the target is rerun (its
    cap's fees with it) on the paths that would decide it, at most :data:`RERUNS` times."""
    from engine.analysis.summary import summarize

    files: dict[float, Path] = {}
    by_cap: dict[float, list[list]] = {}

    def caps(multiple: float, n: int) -> None:
        doc = _capped(raw, cost_medians, multiple)
        path = _write_policy(doc, scenario_path, out_dir, f"cap_{multiple:g}x",
                             {"sharing.fee_rate": list(FEES)},
                             f"caps at {multiple:g} times each plan's peak median cost, and fees")
        files[multiple] = path
        _, ds = _run(path, out_dir, n)
        with ds:
            s2 = summarize(ds)
            by_cap[multiple] = [
                [f"{multiple:g} × peak median cost", float(ds["sharing.fee_rate"].values[i]),
                 s2["members_quantiles"][name]["0.5"][-1], s2["ruin_probability"][name],
                 max(s2["shortfall_var_995_by_year"][name]),
                 _year_verdict(scenario_paths(ds, "solvency_gap", i)), multiple]
                for i, name in enumerate(s2["scenarios"])]

    for multiple in CAP_MULTIPLES:
        caps(multiple, paths)
    # the most members among scenarios shown below the target; an undecided one with more
    # members and a rate below the target is rerun (its cap's fees with it) until decided
    for _ in range(RERUNS):
        rows = [r for m in CAP_MULTIPLES for r in by_cap[m]]
        candidates = [r for r in rows if r[5].below or _worth_rerun(r[5])]
        top = max(candidates, key=lambda r: r[2], default=None)
        if top is None or top[5].below:
            break
        caps(top[6], min(max(top[5].needed or PATHS_CAP, top[5].paths + 1), PATHS_CAP))
    rows = [r for m in CAP_MULTIPLES for r in by_cap[m]]
    safe = [r for r in rows if r[5].below]
    if safe:
        best = max(safe, key=lambda r: r[2])
        answer = (f"caps at {best[0]} with a {best[1]:.0%} fee keep the most members of "
                  f"those shown below the target, {best[2]:,.0f} at the end (median); the "
                  f"worst one-year probability of a first gap: {best[5].text}")
        more = [r for r in rows if r[2] > best[2] and r[5].word == "undecided"]
        if more:
            r = max(more, key=lambda r: r[2])
            answer += (f". Caps at {r[0]} with a {r[1]:.0%} fee keep more ({r[2]:,.0f}) "
                       f"but are not shown below it: {_estimate(r[5])}")
    else:
        best = min(rows, key=lambda r: (r[5].rate, -r[2]))
        if best[5].word == "undecided" and best[5].rate > RUIN_TARGET:
            fee = best[1]
            _settle(best[6], lambda m: next(r[5] for r in by_cap[m] if r[1] == fee), caps)
            rows = [r for m in CAP_MULTIPLES for r in by_cap[m]]
            best = next(r for r in by_cap[best[6]] if r[1] == fee)
        answer = (f"no cap and fee tried is shown to keep the worst one-year probability of "
                  f"a first gap below {RUIN_TARGET:.1%} without a reserve loading; the least "
                  f"ruinous, caps at {best[0]} with a {best[1]:.0%} fee, keeps "
                  f"{best[2]:,.0f} members: {_estimate(best[5])}; next, the loading that pays "
                  "for the caps")
    return Policy("The cap and fee that keep members",
                  f"Which cap per member-quarter (each plan's own, met from the reserve) "
                  f"and fee keep the most members with the probability of a first gap "
                  f"within any one year below {RUIN_TARGET:.1%} (shown by its exact 95% "
                  "bound)?", files[CAP_MULTIPLES[0]], answer,
                  [[*r[:4], r[5].rate, r[5].short, r[4]] for r in rows],
                  ["caps", "fee", "members at the end (median)",
                   "ruin probability by the end",
                   "worst one-year probability of a first gap",
                   f"against {RUIN_TARGET:.1%} (exact 95%)",
                   "worst year's shortfall VaR 99.5%, yuan"])


def worst_year(solvency_gap) -> int:
    """The most paths whose first gap falls within one projection year (quarters
    ``4j + 1 … 4j + 4``) of ``solvency_gap`` ``(paths, T)``: the count of the worst one-year
    probability of a first gap (the count over the paths), the increase of the cumulative
    ruin probability over that year."""
    from engine.analysis.metrics import first_ruin_quarter

    first = first_ruin_quarter(solvency_gap)
    years = first[first >= 0] // 4
    return int(np.bincount(years).max()) if years.size else 0


def _year_verdict(solvency_gap):
    """The worst year's count against :data:`RUIN_TARGET`
    (:func:`engine.studies.verdicts.rate_verdict`): below only when its exact 95 % bound
    is; each year's count is tested, the worst standing for all."""
    from engine.studies.verdicts import rate_verdict

    return rate_verdict(worst_year(solvency_gap), np.shape(solvency_gap)[0], RUIN_TARGET)


def _worth_rerun(verdict) -> bool:
    """An undecided verdict whose rate is below the target and that fewer than
    :data:`PATHS_CAP` paths have not yet decided: more paths may show it below."""
    return (verdict.word == "undecided" and verdict.rate < RUIN_TARGET
            and verdict.paths < PATHS_CAP)


def _first_below(grid: list[float], verdict_of, rerun) -> float | None:
    """The smallest point of ``grid`` (ascending; the probability falls along it) shown
    below :data:`RUIN_TARGET`: each undecided point with a rate below it is rerun on the
    paths that would decide it (at most :data:`PATHS_CAP`; again while more paths leave it
    undecided at a rate below it; at most :data:`RERUNS` runs in all) before the next is
    tried. ``verdict_of(x)`` reads a point's verdict, ``rerun(x, n)``
    runs it again on ``n`` paths."""
    reruns = 0
    for x in grid:
        v = verdict_of(x)
        while not v.below and _worth_rerun(v) and reruns < RERUNS:
            rerun(x, min(max(v.needed or PATHS_CAP, v.paths + 1), PATHS_CAP))
            reruns += 1
            v = verdict_of(x)
        if v.below:
            return x
    return None


def _settle(x, verdict_of, rerun) -> None:
    """Rerun, on the paths that would decide it or twice its paths (at most
    :data:`PATHS_CAP`, at most :data:`RERUNS` times), a point that an answer names as not
    shown below the target while its rate is above it: the answer can then say it is above,
    or that even those paths leave it undecided (more paths may also show it below: the
    caller reads it again)."""
    for _ in range(RERUNS):
        v = verdict_of(x)
        if not (v.word == "undecided" and v.needed and v.rate > RUIN_TARGET
                and v.paths < PATHS_CAP):
            return
        # twice the paths at least: failures come in whole paths, and one more or less
        # moves the paths the observed rate needs by only a few
        rerun(x, min(max(v.needed, 2 * v.paths), PATHS_CAP))


BISECTIONS = 3   # runs that narrow the loading between the grid's last miss and first hit


def loading_policy(raw: dict, scenario_path: Path, out_dir: Path, paths: int,
                   cost_medians: dict[str, float]) -> Policy:
    """The reserve loading (a share of each plan's peak median cost per member-quarter)
    that keeps the worst one-year probability of a first gap below :data:`RUIN_TARGET`
    under the tightest caps, shown by its exact 95 % bound (:func:`_year_verdict`): the
    grid :data:`LOADING_SHARES` (undecided points rerun on more paths, :func:`_first_below`),
    then :data:`BISECTIONS` halvings, on the paths of the first point shown below, of the
    interval between it and the grid point before it (on common random numbers the
    probability falls with the loading path by path, up to members' reactions to what they
    pay)."""
    from engine.analysis.summary import summarize

    runs: dict[float, tuple[Path, list]] = {}

    def row(share: float, n: int) -> None:
        doc = _capped(raw, cost_medians, CAP_MULTIPLES[0], share)
        path = _write_policy(doc, scenario_path, out_dir, f"reserve_loading_{share:.4g}",
                             None, f"a reserve loading of {share:.1%} of each plan's peak "
                             f"median cost under caps at {CAP_MULTIPLES[0]:g} times it")
        _, ds = _run(path, out_dir, n)
        with ds:
            s3 = summarize(ds)
            name = s3["scenarios"][0]
            runs[share] = (path, [share, s3["members_quantiles"][name]["0.5"][-1],
                                  s3["ruin_probability"][name],
                                  _year_verdict(scenario_paths(ds, "solvency_gap", 0))])

    for share in LOADING_SHARES:
        row(share, paths)
    first = runs[LOADING_SHARES[0]][0]
    hit = _first_below(list(LOADING_SHARES), lambda x: runs[x][1][3], row)
    lo = hi = LOADING_SHARES[0]
    if hit is not None and hit > LOADING_SHARES[0]:
        lo, hi = LOADING_SHARES[LOADING_SHARES.index(hit) - 1], hit
        n = runs[hit][1][3].paths
        for _ in range(BISECTIONS):
            mid = 0.5 * (lo + hi)
            row(mid, n)
            lo, hi = (lo, mid) if runs[mid][1][3].below else (mid, hi)
        _settle(lo, lambda x: runs[x][1][3], row)
        hi = min(x for x in runs if runs[x][1][3].below)      # more paths may show lo is
        lo = max((x for x in runs if x < hi), default=hi)
        best, miss = runs[hi][1], runs[lo][1]
    if hit is not None and lo < hi:
        answer = (f"a loading of {hi:.1%} of each plan's peak median cost per member-quarter "
                  f"keeps the probability of a first gap within any one year below "
                  f"{RUIN_TARGET:.1%}: {best[3].text}; it keeps {best[1]:,.0f} members. "
                  f"{lo:.1%} is not shown to ({miss[3].short}): the least loading that is "
                  f"lies between the two")
    else:
        if hit is None:
            _settle(LOADING_SHARES[-1], lambda x: runs[x][1][3], row)
        answer = _unbracketed([runs[x][1] for x in LOADING_SHARES], "loading",
                              f"no loading up to {LOADING_SHARES[-1]:.0%} of the peak "
                              f"median cost is shown to keep it below {RUIN_TARGET:.1%}: "
                              "caps this tight need a larger reserve or higher caps")
    rows = [runs[x][1] for x in sorted(runs)]
    shown = [[f"{r[0]:.1%} of the peak median cost", r[1], r[2], r[3].rate, r[3].short]
             for r in rows]
    return Policy("Make up solvency: the reserve loading",
                  f"What reserve loading keeps one-year ruin below {RUIN_TARGET:.1%} under "
                  f"caps at {CAP_MULTIPLES[0]:g} × each plan's peak median cost, shown by "
                  "its exact 95% bound?", first, answer, shown,
                  ["loading per member-quarter", "members at the end (median)",
                   "ruin probability by the end", "worst one-year probability of a first gap",
                   f"against {RUIN_TARGET:.1%} (exact 95%)"])


def _unbracketed(rows: list[list], what: str, beyond: str) -> str:
    """The answer when no grid point after the first is shown below the target (rows in
    the grid's order, the verdict last): none of ``what`` needed (the first point, none of
    it, is shown below), or none enough (``beyond``, with the last point's verdict)."""
    if rows[0][-1].below:
        return (f"no {what} is needed: without it the probability of a first gap within any "
                f"one year is {_estimate(rows[0][-1])}")
    return f"{beyond} (at the last point tried, {_estimate(rows[-1][-1])})"


def _estimate(verdict) -> str:
    """A verdict's words, with a note when :data:`PATHS_CAP` paths left it undecided: a
    target of 0.5 % met on 200 paths with none failing is met only as far as a bound of
    1.5 % can tell, so the answer says so rather than that it is met."""
    if verdict.word == "undecided" and verdict.paths >= PATHS_CAP:
        return f"{verdict.text}; still undecided on the {PATHS_CAP:,} paths a policy runs at most"
    return verdict.text


def capital_policy(raw: dict, scenario_path: Path, out_dir: Path, paths: int,
                   cost_medians: dict[str, float]) -> Policy:
    """The founding capital (each plan's reserve at the start, yuan) that, with a moderate
    reserve loading (:data:`CAPITAL_LOADING_SHARE` of each plan's peak median cost) under
    the tightest caps, keeps the worst one-year probability of a first gap below
    :data:`RUIN_TARGET`, shown by its exact 95 % bound. A loading builds the reserve only as
    members pay in, so the first years, with few members and the most volatile cost per
    member, need capital that no loading supplies. One sweep over :data:`CAPITAL_GRID` on
    common random numbers (the members do not see the reserve behind a cap, so the
    probability falls with the capital path by path), undecided points rerun on more paths
    (:func:`_first_below`), then one finer sweep, on the paths of the first point shown
    below, between it and the grid point before it."""
    from engine.analysis.summary import summarize

    doc = _capped(raw, cost_medians, CAP_MULTIPLES[0], CAPITAL_LOADING_SHARE)
    doc.setdefault("reserve", {}).pop("initial", None)
    for plan in doc.get("plans", []):
        plan.get("reserve", {}).pop("initial", None)
    found: dict[float, list] = {}

    def sweep(name: str, grid: list[float], n: int) -> Path:
        path = _write_policy(doc, scenario_path, out_dir, name,
                             {"reserve.initial": grid},
                             f"founding capital per plan with a reserve loading of "
                             f"{CAPITAL_LOADING_SHARE:.0%} of each plan's peak median cost "
                             f"under caps at {CAP_MULTIPLES[0]:g} times it")
        _, ds = _run(path, out_dir, n)
        with ds:
            s4 = summarize(ds)
            capital = [float(x) for x in ds["reserve.initial"].values]
            for i, scenario in enumerate(s4["scenarios"]):
                found[capital[i]] = [capital[i], s4["members_quantiles"][scenario]["0.5"][-1],
                                     s4["ruin_probability"][scenario],
                                     _year_verdict(scenario_paths(ds, "solvency_gap", i))]
        return path

    first = sweep("founding_capital", list(CAPITAL_GRID), paths)

    def rerun(x: float, n: int) -> None:
        sweep(f"founding_capital_{x:.0f}", [x], n)

    hit = _first_below(list(CAPITAL_GRID), lambda x: found[x][3], rerun)
    plans = max(len(doc.get("plans", [])), 1)
    each = "per plan" if plans > 1 else ""
    miss = None
    if hit is not None and hit > CAPITAL_GRID[0]:
        lo, hi = CAPITAL_GRID[CAPITAL_GRID.index(hit) - 1], hit
        finer = [float(round(x, -3)) for x in np.geomspace(max(lo, hi / 100), hi, 6)[1:-1]]
        sweep("founding_capital_finer", finer, found[hit][3].paths)
        best = min((r for r in found.values() if r[3].below), key=lambda r: r[0])
        _settle(max(x for x in found if x < best[0]), lambda x: found[x][3], rerun)
        best = min((r for r in found.values() if r[3].below), key=lambda r: r[0])
        miss = max((r for r in found.values() if r[0] < best[0]), key=lambda r: r[0],
                   default=None)
    if hit is not None and hit > CAPITAL_GRID[0] and miss is not None:
        answer = (f"founding capital of {best[0]:,.0f} yuan {each} "
                  f"({best[0] * plans:,.0f} for the platform), with a loading of "
                  f"{CAPITAL_LOADING_SHARE:.0%} of each plan's peak median cost, keeps the "
                  f"probability of a first gap within any one year below {RUIN_TARGET:.1%}: "
                  f"{best[3].text}; {miss[0]:,.0f} is not shown to ({miss[3].short})")
    else:
        if hit is None:
            _settle(CAPITAL_GRID[-1], lambda x: found[x][3], rerun)
        answer = _unbracketed([found[x] for x in CAPITAL_GRID], "founding capital",
                              f"even {CAPITAL_GRID[-1]:,.0f} yuan {each} of founding capital "
                              f"is not shown to keep the probability of a first gap within a "
                              f"year below {RUIN_TARGET:.1%}: caps this tight need a higher "
                              "loading")
    rows = [[r[0], r[1], r[2], r[3].rate, r[3].short] for _, r in sorted(found.items())]
    return Policy("Make up solvency: the founding capital",
                  f"What capital at the start keeps one-year ruin below {RUIN_TARGET:.1%} "
                  f"with a loading of {CAPITAL_LOADING_SHARE:.0%} of each plan's peak median "
                  f"cost, under caps at {CAP_MULTIPLES[0]:g} × that cost, shown by its exact "
                  "95% bound?", first, answer,
                  rows, [f"capital at the start, yuan {each}".strip(),
                         "members at the end (median)", "ruin probability by the end",
                         "worst one-year probability of a first gap",
                         f"against {RUIN_TARGET:.1%} (exact 95%)"])


def _capped(raw: dict, cost_medians: dict[str, float], multiple: float,
            loading_share: float = 0.0) -> dict:
    """The scenario with each plan's (or the one pool's) cap per quarter at ``multiple``
    times its peak median cost per member-quarter, shortfalls met from the reserve, and a
    reserve loading of ``loading_share`` times that cost."""
    doc = copy.deepcopy(raw)
    doc.setdefault("sharing", {})["shortfall"] = "reserve"
    targets = ([(plan, cost_medians.get(plan["name"], 1.0)) for plan in doc["plans"]]
               if doc.get("plans") else [(doc, cost_medians.get("", 1.0))])
    for table, median in targets:
        median = max(median, 1.0)
        table.setdefault("sharing", {}).update(cap_per_quarter=round(multiple * median, 2),
                                               shortfall="reserve")
        table.setdefault("reserve", {})["loading_per_member_quarter"] = round(
            loading_share * median, 2)
    return doc

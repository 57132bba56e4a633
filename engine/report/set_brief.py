"""The report's few sentences on a large set as a whole: how far each risk measure spreads
across the scenarios, and which swept assumptions move capital and cost per member most,
with their sensitivity indices and 95 % intervals (:mod:`engine.analysis.sensitivity`)."""

from __future__ import annotations

import html

from engine.analysis.compare import COLUMNS, Comparison, plain, spread

BRIEF_METRICS = ("ruin_probability", "capital_995_worst_year", "cost_per_member_year_mean")
INDEX_NAMES = {"ST": "total index", "S1": "first-order index"}
TOP = 2                     # assumptions named per measure


def set_brief(comparison: Comparison, effect: list) -> str:
    """One paragraph of the spread, one of what moves it (HTML)."""
    labels = dict(COLUMNS)
    ranges = spread(comparison)
    keys = ", ".join(comparison.swept_keys) or "no swept key"
    parts = [f"The set: {len(comparison.rows)} scenarios over {keys}. Across them,"]
    for metric in BRIEF_METRICS:
        s = ranges[metric]
        parts.append(f"{labels[metric]} runs from {plain(s['min'], metric)} to "
                     f"{plain(s['max'], metric)} (half the scenarios between "
                     f"{plain(s['q25'], metric)} and {plain(s['q75'], metric)});")
    spread_text = " ".join(parts).rstrip(";") + "."
    moved = []
    for result in effect:
        if not result.rows:
            moved.append(f"{result.label[:1].upper()}{result.label[1:]}: "
                         f"{result.note or 'no index'}.")
            continue
        kind = "ST" if any(r["index"] == "ST" for r in result.rows) else "S1"
        ranked = sorted((r for r in result.rows if r["index"] == kind),
                        key=lambda r: -r["value"])[:TOP]
        named = "; ".join(
            f"{r['key']} ({INDEX_NAMES[kind]} {r['value']:.2f}, 95 % {r['low']:.2f} to "
            f"{r['high']:.2f}{', within Monte Carlo noise' if r['within_noise'] else ''})"
            for r in ranked)
        moved.append(f"{result.label[:1].upper()}{result.label[1:]} moves most with {named}; "
                     "Monte Carlo noise is "
                     f"{result.noise_share:.0%} of its variance across the set.")
    what = (" ".join(moved) if moved else "No index: the swept keys are not numbers, or a "
            "key takes one value.")
    return (f"<p>{html.escape(spread_text)}</p><p>{html.escape(what)} An index is the share "
            "of the measure's variance across the scenarios that the assumption explains "
            "(first-order: alone; total: with its interactions).</p>")

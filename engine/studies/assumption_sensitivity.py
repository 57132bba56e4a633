"""Which assumptions move the study's four answers: one at a time, low and high.

Each candidate assumption (:data:`CANDIDATES`: a judgement of the scenario file, with the
range the file's comments state, or the study's own where they state none) is set to its
low and to its high value in the study's scenario (the fitted point estimate, without the
parameter draws), all else equal, and each variant is run on the same seed (common random
numbers: the difference between two runs is the assumption's, not sampling noise, up to
members' reactions). The four answers, in the last full calendar year of the run:

1. valid members at the year's end (median over paths, persons);
2. claims paid in the year (median over paths, cases);
3. the platform's value at the study's valuation date, net of the central costs with
   closure at the horizon's end (median over paths, yuan; :mod:`engine.studies.net_value`);
4. members' contributions in the year over China's commercial health-insurance premiums
   of the year (median over paths).

The swing of an answer is ``(high − low) / base`` for that answer; assumptions are ranked
by their largest absolute swing over the four answers, and the study shows the top
:data:`SHOWN`. A one-at-a-time table says what each assumption alone does; it does not
show interactions (two assumptions at their low values together).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

from engine.analysis import weighted as W
from engine.report.study_sensitivity import ANSWERS, SHOWN  # noqa: F401 (the study's)
from engine.used_paths import scenario_paths


@dataclass(frozen=True)
class Candidate:
    """One assumption: where it lives in the scenario document, its range and why."""

    key: str                     # dotted; "plans.NAME.table.key" for a plan's own value
    label: str
    low: float
    high: float
    basis: str


CANDIDATES = (
    Candidate("prepaid.topup_probability", "members who top up when asked", 0.8, 0.99,
              "judgement: no figure before 2020 informs it (scenario file)"),
    Candidate("prepaid.topup_amount", "top-up amount, yuan", 9.0, 30.0,
              "judgement: the joining deposit (9 yuan) to about three months of an "
              "adult's cost"),
    Candidate("plans.children.enrolled_with.per_joiner",
              "children enrolled per adult who joins", 0.1, 0.4,
              "judgement against 0.40 children aged 1-17 per adult aged 18-50 (WPP 2019)"),
    Candidate("lapse.cost_elasticity", "how strongly lapses follow the cost", 0.4, 1.2,
              "judgement: half and one and a half times the file's 0.8"),
    Candidate("growth.cost_elasticity", "how strongly joins fall with the cost", 0.0, 0.6,
              "judgement: none to twice the file's 0.3"),
    Candidate("lapse.cost_driven_share", "share of lapses driven by the cost", 0.25, 0.75,
              "judgement: about the file's 0.5"),
    Candidate("sharing.fee_rate", "management fee, share of aid", 0.06, 0.10,
              "the sector's published fees: 6 % to 10 % (plan rules file)"),
    Candidate("valuation.discount_rate", "discount rate a year", 0.08, 0.12,
              "judgement about the file's 10 %"),
)


@dataclass
class Swing:
    """One assumption's effect: the four answers at its low and high values."""

    candidate: Candidate
    base_value: float
    low: dict[str, float]
    high: dict[str, float]

    def relative(self, base: dict[str, float]) -> dict[str, float]:
        return {k: ((self.high[k] - self.low[k]) / base[k]) if base[k] else math.nan
                for k in base}

    def largest(self, base: dict[str, float]) -> float:
        values = [abs(v) for v in self.relative(base).values() if math.isfinite(v)]
        return max(values, default=0.0)



def _locate(doc: dict, key: str) -> tuple[dict, str] | None:
    """The table holding ``key`` and its last part, or ``None`` where the document lacks it
    (a plan's key names the plan: ``plans.children.enrolled_with.per_joiner``)."""
    parts = key.split(".")
    if parts[0] == "plans":
        plan = next((p for p in doc.get("plans", []) if p.get("name") == parts[1]), None)
        if plan is None:
            return None
        table, rest = plan, parts[2:]
    else:
        table, rest = doc, parts
    for part in rest[:-1]:
        table = table.get(part)
        if not isinstance(table, dict):
            return None
    return (table, rest[-1]) if rest[-1] in table else None


def applicable(doc: dict) -> list[Candidate]:
    """The candidates the scenario document sets (a pre-paid key only where funding is
    pre-paid, a plan's key only where that plan exists)."""
    out = []
    for c in CANDIDATES:
        if c.key.startswith("prepaid.") and doc.get("sharing", {}).get("funding") != "prepaid":
            continue
        if _locate(doc, c.key) is not None:
            out.append(c)
    return out


def with_value(doc: dict, key: str, value: float) -> dict:
    """A copy of ``doc`` with ``key`` set to ``value``."""
    out = copy.deepcopy(doc)
    table, last = _locate(out, key)
    table[last] = value
    return out


def last_full_year(labels: list[str]) -> tuple[int, list[int]]:
    """The last calendar year with four quarters in the run, and its quarter indices."""
    years: dict[int, list[int]] = {}
    for t, label in enumerate(labels):
        years.setdefault(int(str(label)[:4]), []).append(t)
    full = [y for y, idx in years.items() if len(idx) == 4] or list(years)
    return full[-1], years[full[-1]]


def answers(ds, summary: dict, date: str) -> dict[str, float]:
    """The four answers of one run (see the module docstring), the value at ``date``."""
    from engine.studies.net_value import net_value

    name = summary["scenarios"][0]
    labels = [str(q) for q in ds["quarter"].values]
    year, idx = last_full_year(labels)
    members = scenario_paths(ds, "members", 0)[:, idx[-1]]
    claims = scenario_paths(ds, "claims", 0)[:, idx].sum(axis=1)
    share = summary["market_share_by_year"][name].get(str(year), {}).get("share_quantiles")
    return {"members": float(W.quantile(members, 0.5)),
            "claims": float(W.quantile(claims, 0.5)),
            "value": float(net_value(ds, date).central()["quantiles"]["0.5"]),
            "share": float(share["0.5"]) if share else math.nan, "year": year}


def run_sensitivity(raw: dict, run_doc, date: str) -> tuple[dict[str, float], list[Swing]]:
    """The base answers and every applicable candidate's swing, largest first, the value at
    ``date``.

    ``run_doc(doc, name) -> (ds, summary)`` runs one scenario document on the study's seed
    (the study passes its own runner, so results land beside the policies')."""
    doc = copy.deepcopy(raw)
    doc.pop("sweep", None)
    base_ds, base_summary = run_doc(doc, "sensitivity_base")
    with base_ds:
        base = answers(base_ds, base_summary, date)
    swings = []
    for c in applicable(doc):
        table, last = _locate(doc, c.key)
        found = {}
        for side, value in (("low", c.low), ("high", c.high)):
            ds, summary = run_doc(with_value(doc, c.key, value),
                                  f"sensitivity_{c.key.replace('.', '_')}_{side}")
            with ds:
                found[side] = answers(ds, summary, date)
        swings.append(Swing(c, float(table[last]), found["low"], found["high"]))
    swings.sort(key=lambda s: -s.largest(base))
    return base, swings

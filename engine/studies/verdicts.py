"""How far a fit lands from each published figure, and which figures pull it apart: the
verdicts a calibration report and the study document print (``z`` on each figure's own
stated error, ``sd_log``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from engine.studies.observations import Observation


def relative_error(model: float, observed: float) -> float:
    """``(model − observed) / observed`` (NaN for an observed 0)."""
    return (model - observed) / observed if observed else float("nan")

MISS_Z = 2.0       # a figure the fit does not meet: |z| > 2 on its own stated error
CONFLICT_Z = 1.5   # figures that pull the fit apart: |z| > 1.5 on opposite sides


@dataclass(frozen=True)
class Verdict:
    """How far the fit lands from one published figure: ``z = (log(1 + m) − log(1 + y)) /
    sd_log`` (the objective's own residual)."""

    observation: Observation
    fitted: float

    @property
    def error(self) -> float:
        return relative_error(self.fitted, self.observation.value)

    @property
    def z(self) -> float:
        return float((math.log1p(max(self.fitted, 0.0)) - math.log1p(self.observation.value))
                     / self.observation.sd_log)

    @property
    def met(self) -> bool:
        return abs(self.z) <= MISS_Z


def conflict_lines(rows: list[Verdict]) -> list[str]:
    """Per source, how far the fit lands; then the sources that pull the fit in opposite
    directions (``|z| > CONFLICT_Z``, the model above one and below another): the fit is a
    compromise between them and no parameter set of this model meets them together."""
    lines = ["by source (mean |z|; figures not met have |z| > 2):"]
    sources: dict[str, list[Verdict]] = {}
    for v in rows:
        sources.setdefault(v.observation.source, []).append(v)
    for source, vs in sources.items():
        missed = [v for v in vs if not v.met]
        mean = sum(abs(v.z) for v in vs) / len(vs)
        state = ("met" if not missed else "NOT MET: " + ", ".join(
            f"row {v.observation.row} {v.observation.metric} "
            f"({'model above' if v.z > 0 else 'model below'}, {v.error:+.0%})" for v in missed))
        lines.append(f"  {source}: {len(vs)} figure(s), mean |z| {mean:.2f}, {state}")
    above = [v for v in rows if v.z > CONFLICT_Z]
    below = [v for v in rows if v.z < -CONFLICT_Z]
    if above and below:
        def names(vs):
            return "; ".join(f"row {v.observation.row} {v.observation.metric} "
                             f"{v.observation.date}" for v in vs)
        lines.append(f"sources in conflict (|z| > {CONFLICT_Z:g} on opposite sides): the fit "
                     f"lands above {names(above)} and below {names(below)}; it is a "
                     "compromise the stated errors (sd_log) weigh, and this model cannot "
                     "meet them together")
    elif above or below:
        lines.append("pulled one way only (a different model, not a compromise between "
                     "sources, would be needed to meet them): "
                     + "; ".join(f"row {v.observation.row} {v.observation.metric}"
                                 for v in above + below))
    else:
        lines.append(f"no two figures pull the fit apart (every |z| ≤ {CONFLICT_Z:g})")
    return lines

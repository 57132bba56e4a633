"""A stress on one output, read from one line of text (``mutualsim stress-weights --stress``).

Outputs are per path:

======================================  ====================================================
``shortfall year N``                    the shortfall of projection year N (its four quarters
                                        summed), yuan; likewise ``aid``, ``claims`` (persons)
                                        and ``cost_per_member`` (yuan per member)
``members at QUARTER``                  members at the end of the quarter (persons); likewise
                                        ``reserve`` and ``solvency_gap`` (yuan)
======================================  ====================================================

Stresses: ``mean OUTPUT +10%`` (or ``-5%``, or ``= VALUE``), ``VaR99.5 OUTPUT +10%``,
``TVaR99.5 OUTPUT +10%`` (the level in per cent after the statistic's name) and
``P OUTPUT > THRESHOLD = 2%`` (the probability of exceeding the threshold). A relative change
is of the statistic under the file's own weights.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.errors import OptionError
from engine.used_paths import scenario_paths

YEARLY = ("shortfall", "aid", "claims", "cost_per_member")
AT_QUARTER = ("members", "reserve", "solvency_gap")
UNITS = {"shortfall": "yuan", "aid": "yuan", "claims": "persons",
         "cost_per_member": "yuan per member", "members": "persons", "reserve": "yuan",
         "solvency_gap": "yuan"}
_OUTPUT = r"(?P<name>[a-z_ ]+?)\s+(?:year\s+(?P<year>\d+)|at\s+(?P<quarter>\d{4}Q[1-4]))"
_CHANGE = r"(?:(?P<relative>[+-]\d+(?:\.\d+)?)\s*%|=\s*(?P<value>\S+))"
PATTERNS = {
    "P": re.compile(rf"^P\s+{_OUTPUT}\s*>\s*(?P<threshold>\S+)\s*=\s*(?P<prob>\S+?)\s*%$",
                    re.I),
    "mean": re.compile(rf"^mean\s+{_OUTPUT}\s+{_CHANGE}$", re.I),
    "VaR": re.compile(rf"^VaR(?P<level>\d+(?:\.\d+)?)\s+{_OUTPUT}\s+{_CHANGE}$"),
    "TVaR": re.compile(rf"^TVaR(?P<level>\d+(?:\.\d+)?)\s+{_OUTPUT}\s+{_CHANGE}$"),
}


class SpecError(OptionError):
    """A bad ``--stress``: what is wrong and the value."""

    def __init__(self, what: str, got: object):
        super().__init__(what, got, "--stress")


@dataclass(frozen=True)
class Output:
    """A per-path output: a variable summed over projection year ``year`` or read at the
    end of quarter index ``quarter``."""

    name: str
    year: int | None
    quarter: int | None
    label: str

    @property
    def units(self) -> str:
        return UNITS[self.name]

    def values(self, ds, scenario: int) -> np.ndarray:
        """Each used path's value ``(P_i,)`` (``paths_used``)."""
        x = scenario_paths(ds, self.name, scenario)
        if self.year is not None:
            window = slice(4 * (self.year - 1), 4 * self.year)
            return np.asarray(x[:, window], dtype=float).sum(axis=1)
        return np.asarray(x[:, self.quarter], dtype=float)


@dataclass(frozen=True)
class Stress:
    statistic: str              # "mean", "P", "VaR", "TVaR"
    output: Output
    level: float | None         # VaR / TVaR level, a fraction
    relative: float | None      # +0.10 for "+10%"
    value: float | None         # "= value", or P's probability
    threshold: float | None     # P's threshold
    text: str

    def target(self, base: float) -> float:
        if self.statistic == "P":
            return float(self.value)
        return base * (1.0 + self.relative) if self.relative is not None else float(self.value)

    def describe(self) -> str:
        o = self.output
        if self.statistic == "P":
            return f"P({o.label} > {self.threshold:,.6g} {o.units}) = {100 * self.value:.4g} %"
        name = "mean" if self.statistic == "mean" else \
            f"{self.statistic} {100 * self.level:.4g} %"
        change = (f"{100 * self.relative:+.4g} %" if self.relative is not None
                  else f"= {self.value:,.6g} {o.units}")
        return f"{name} of {o.label} ({o.units}) {change}"


def _number(text: str, what: str) -> float:
    try:
        x = float(str(text).replace(",", "").replace("_", ""))
    except ValueError:
        raise SpecError(f"{what} is not a number", text) from None
    if not np.isfinite(x):
        raise SpecError(f"{what} is not a finite number", text)
    return x


def _output(match, labels: list[str], text: str) -> Output:
    name = " ".join(match.group("name").split()).replace(" ", "_").lower()
    if match.group("year") is not None:
        if name not in YEARLY:
            raise SpecError(f"unknown output: by projection year one of {', '.join(YEARLY)}",
                            name)
        year = int(match.group("year"))
        if not 1 <= year <= len(labels) // 4:
            raise SpecError(f"projection year outside the run (1-{len(labels) // 4})", year)
        return Output(name, year, None, f"{name} in projection year {year}")
    if name not in AT_QUARTER:
        raise SpecError(f"unknown output: at a quarter one of {', '.join(AT_QUARTER)}", name)
    quarter = match.group("quarter").upper()
    if quarter not in labels:
        raise SpecError(f"quarter outside the run ({labels[0]}-{labels[-1]})", quarter)
    return Output(name, None, labels.index(quarter), f"{name} at the end of {quarter}")


def parse_stress(text: str, quarter_labels) -> Stress:
    """The :class:`Stress` ``text`` says (module notes); :class:`SpecError` if it is not
    one."""
    line = " ".join(str(text).split())
    labels = [str(q) for q in quarter_labels]
    for statistic, pattern in PATTERNS.items():
        match = pattern.match(line)
        if match is None:
            continue
        output = _output(match, labels, text)
        level = None
        if statistic in ("VaR", "TVaR"):
            level = _number(match.group("level"), "the level") / 100.0
            if not 0.0 < level < 1.0:
                raise SpecError("the level must be in (0, 100) per cent", match.group("level"))
        if statistic == "P":
            return Stress("P", output, None, None,
                          _number(match.group("prob"), "the probability") / 100.0,
                          _number(match.group("threshold"), "the threshold"), line)
        relative = match.group("relative")
        return Stress(statistic, output, level,
                      None if relative is None else float(relative) / 100.0,
                      None if relative is not None else _number(match.group("value"),
                                                                "the value"),
                      None, line)
    raise SpecError("not a stress: 'mean OUTPUT +10%', 'VaR99.5 OUTPUT +10%', 'TVaR99.5 "
                    "OUTPUT = VALUE' or 'P OUTPUT > THRESHOLD = 2%', OUTPUT like 'shortfall "
                    "year 4' or 'members at 2021Q4'", text)

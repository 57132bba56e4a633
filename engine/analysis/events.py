"""The events a reverse stress test asks about, read from one line of text.

An event is a statement about one path, true or false:

==================================  ===========================================================
text                                true on a path when
==================================  ===========================================================
``ruin by 2021Q4``                  a solvency gap (``solvency_gap > 0``) at the end of some
                                    quarter up to and including 2021Q4
``shortfall year 4 > 2.5e9``        the shortfall of projection year 4 (the run's 13th to
                                    16th quarters, summed, yuan) exceeds 2.5 billion yuan
``cost_per_member year 3 > 150``    what each sharer paid in projection year 3 (aid and fee,
                                    capped, plus any reserve loading; its four quarters
                                    summed, yuan per member) exceeds 150
``members at 2021Q4 < 5e7``         the members at the end of 2021Q4 are fewer than 50 million
==================================  ===========================================================

Projection year ``N`` is the run's quarters ``4(N − 1) .. 4N − 1`` (``[tail] year``'s
convention), so it must lie whole inside the run. Each event also gives a *margin* on a
path, a continuous number that is positive exactly when the event is true (the ruin margin
is :func:`engine.run.tail.target_values`'s: the largest gap, or minus the smallest reserve):
the optimiser of :mod:`engine.studies.likely_failure` moves the drivers until the
conditional-mean path's margin reaches 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.errors import OptionError
from engine.used_paths import paths_used

KINDS = ("ruin", "shortfall", "cost_per_member", "members")
_QUARTER = r"(\d{4}Q[1-4])"
_AMOUNT = r"([^\s]+)"
PATTERNS = {
    "ruin": re.compile(rf"^ruin\s+by\s+{_QUARTER}$", re.I),
    "shortfall": re.compile(rf"^shortfall\s+year\s+(\d+)\s*>\s*{_AMOUNT}$", re.I),
    "cost_per_member": re.compile(rf"^cost[_ ]per[_ ]member\s+year\s+(\d+)\s*>\s*{_AMOUNT}$",
                                  re.I),
    "members": re.compile(rf"^members\s+at\s+{_QUARTER}\s*<\s*{_AMOUNT}$", re.I),
}
# what each kind reads from a results file
VARIABLES = {"ruin": ("solvency_gap", "reserve"), "shortfall": ("shortfall",),
             "cost_per_member": ("cost_per_member",), "members": ("members",)}


class EventError(OptionError):
    """A bad ``--event``: what is wrong and the value."""

    def __init__(self, what: str, got: object):
        super().__init__(what, got, "--event")


@dataclass(frozen=True)
class Event:
    """One event (module notes): ``kind``, its last quarter's index ``stop − 1`` in the run,
    the first quarter it looks at, and its threshold (yuan, yuan per member or persons)."""

    kind: str
    text: str
    first: int          # first quarter index the event reads
    stop: int           # one past the last
    threshold: float    # 0 for ruin
    label: str          # the quarter or projection year as written

    def describe(self) -> str:
        """The event in words, with its units."""
        if self.kind == "ruin":
            return f"ruin (a solvency gap at a quarter's end) by {self.label}"
        if self.kind == "shortfall":
            return (f"a shortfall above {self.threshold:,.0f} yuan in projection year "
                    f"{self.label}")
        if self.kind == "cost_per_member":
            return (f"a cost per member above {self.threshold:,.2f} yuan in projection year "
                    f"{self.label}")
        return f"fewer than {self.threshold:,.0f} members at the end of {self.label}"

    def margin(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Each path's margin ``(P,)`` from its ``(P, T)`` arrays: positive exactly where
        the event is true (module notes); yuan, yuan per member or persons."""
        window = slice(self.first, self.stop)
        if self.kind == "ruin":
            gap = np.asarray(values["solvency_gap"], dtype=float)[:, window]
            reserve = np.asarray(values["reserve"], dtype=float)[:, window]
            return np.where(gap > 0, gap, -reserve).max(axis=1)
        if self.kind == "members":
            members = np.asarray(values["members"], dtype=float)[:, self.stop - 1]
            return self.threshold - members
        total = np.asarray(values[self.kind], dtype=float)[:, window].sum(axis=1)
        return total - self.threshold

    def happens(self, values: dict[str, np.ndarray]) -> np.ndarray:
        """Whether the event is true on each path ``(P,)``."""
        if self.kind == "ruin":
            return (np.asarray(values["solvency_gap"])[:, :self.stop] > 0).any(axis=1)
        return self.margin(values) > 0

    def tail_hint(self) -> str:
        """The ``[tail]`` table of a run aimed at the event, as TOML text, or how else to
        see it."""
        if self.kind == "ruin":
            return f'[tail]\ntarget = "ruin"\nhorizon_quarters = {self.stop}'
        if self.kind == "shortfall":
            return f'[tail]\ntarget = "shortfall"\nyear = {self.label}'
        return ("no [tail] target aims at this event directly: run more paths, or a [tail] "
                "aimed at the ruin or shortfall that comes with it")


def parse_event(text: str, quarter_labels: list[str]) -> Event:
    """The :class:`Event` ``text`` says, over a run of ``quarter_labels``.

    Raises
    ------
    EventError
        For an unknown quantity, a quarter or year outside the run, or an amount that is
        not a number.
    """
    line = " ".join(str(text).split())
    head = line.split(" ", 1)[0].lower() if line else ""
    kind = next((k for k, pattern in PATTERNS.items() if pattern.match(line)), None)
    if kind is None:
        known = {"ruin": "ruin", "shortfall": "shortfall", "cost_per_member":
                 "cost_per_member", "cost": "cost_per_member", "members": "members"}
        if head not in known:
            raise EventError("unknown quantity: the event is 'ruin by QUARTER', 'shortfall "
                             "year N > YUAN', 'cost_per_member year N > YUAN' or 'members at "
                             "QUARTER < N'", text)
        raise EventError(f"not an event of the form {_FORMS[known[head]]!r}", text)
    groups = PATTERNS[kind].match(line).groups()
    labels = [str(q) for q in quarter_labels]
    if kind in ("ruin", "members"):
        quarter = groups[0].upper()
        if quarter not in labels:
            raise EventError(f"quarter outside the run ({labels[0]}-{labels[-1]})", quarter)
        stop = labels.index(quarter) + 1
        first, label = (0 if kind == "ruin" else stop - 1), quarter
    else:
        year = int(groups[0])
        if not 1 <= year <= len(labels) // 4:
            raise EventError(f"projection year outside the run (1-{len(labels) // 4}: the "
                             "run's whole years of four quarters)", year)
        first, stop, label = 4 * (year - 1), 4 * year, str(year)
    threshold = 0.0
    if kind != "ruin":
        try:
            threshold = float(groups[-1].replace(",", "").replace("_", ""))
        except ValueError:
            raise EventError("the amount is not a number", groups[-1]) from None
        if not np.isfinite(threshold):
            raise EventError("the amount is not a finite number", groups[-1])
    return Event(kind, line, first, stop, threshold, label)


_FORMS = {"ruin": "ruin by QUARTER", "shortfall": "shortfall year N > YUAN",
          "cost_per_member": "cost_per_member year N > YUAN",
          "members": "members at QUARTER < N"}


def event_values(ds, event: Event, scenario: int | None = None) -> dict[str, np.ndarray]:
    """The arrays ``event`` reads from a results file: ``(S, P, T)`` of every path, masked
    ones too (``paths_used``), each variable read once for all scenarios; or ``(P_i, T)``,
    the used paths of one ``scenario``."""
    out = {}
    for name in VARIABLES[event.kind]:
        v = ds[name]
        if scenario is not None:
            v = v.isel(scenario=scenario, path=slice(0, int(paths_used(ds)[scenario])))
        out[name] = np.asarray(v.isel(quarter=slice(0, event.stop)).values)
    return out


def happens_by_scenario(ds, event: Event) -> list[np.ndarray]:
    """Whether the event is true on each used path of each scenario: one ``(P_i,)`` array
    per scenario (a scenario that stopped early holds fewer paths, ``paths_used``)."""
    values = event_values(ds, event)
    used = paths_used(ds)
    return [event.happens({k: v[i, :n] for k, v in values.items()})
            for i, n in enumerate(used)]

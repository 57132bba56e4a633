"""Age bands and quarter labels of scenario files and tables (``"40-44"``, ``"2019Q3"``).

Parsing and counting of labels only: conversions between rates and probabilities live in
:mod:`engine.model.units`.
"""

from __future__ import annotations

import re

# ----------------------------------------------------------------------------- age bands

_BAND = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)|(\+))?\s*$")


def parse_age_band(text: str, open_top: int = 110) -> tuple[int, int]:
    """Parse ``"42"``, ``"40-44"`` or ``"85+"`` into inclusive integer years ``(lo, hi)``.

    An open band ``"85+"`` ends at ``open_top``. Raises ``ValueError`` on anything else.
    """
    m = _BAND.match(str(text))
    if not m:
        raise ValueError(f"not an age or age band like 42, 40-44 or 85+: {text!r}")
    lo = int(m.group(1))
    if m.group(2) is not None:
        hi = int(m.group(2))
    elif m.group(3):
        hi = open_top
    else:
        hi = lo
    if hi < lo:
        raise ValueError(f"age band ends before it starts: {text!r}")
    return lo, hi


# ------------------------------------------------------------------------ quarter labels

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def parse_quarter(label: str) -> tuple[int, int]:
    """``"2019Q3"`` → ``(2019, 3)``; raises ``ValueError`` otherwise."""
    m = _QUARTER.match(str(label).strip())
    if not m:
        raise ValueError(f"not a quarter like 2019Q3: {label!r}")
    return int(m.group(1)), int(m.group(2))


def quarter_offset(start: str, label: str) -> int:
    """Quarters from ``start`` to ``label`` (0 when equal, negative when before)."""
    y0, q0 = parse_quarter(start)
    y1, q1 = parse_quarter(label)
    return (y1 - y0) * 4 + (q1 - q0)


def quarter_labels(start: str, quarters: int) -> list[str]:
    """Labels of ``quarters`` consecutive quarters from ``start``: 2019Q4, 2020Q1, ..."""
    y, q = parse_quarter(start)
    out = []
    for _ in range(quarters):
        out.append(f"{y}Q{q}")
        q += 1
        if q == 5:
            y, q = y + 1, 1
    return out

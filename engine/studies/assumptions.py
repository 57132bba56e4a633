"""Every setting of a scenario file with the comment that justifies it, and what kind of
justification that is (the study's "Assumptions and limitations", issue 26).

The file's text is read line by line (a TOML parser drops comments). A key's comment is its
own (after the value, on the value's lines) and the block of comment lines above it, which
holds for the keys that follow it until a blank line, a table header or another block (in a
``[[plans]]`` entry, only for the key right below it: the later keys read the plan's
description on its name line).

Kinds, in the order they are decided:

``fitted``
    the calibration fits the key (``fitted_keys``, from a fitted file's header, see
    :func:`fitted_header`);
``run setting``
    the scenario's name, description, paths and seed: how the run is made, not what it
    assumes;

then the key's own comment, and after it the block above, each read in this order:

``ASSUMPTION/judgement``
    the comment says ``ASSUMPTION`` or ``judgement``;
``fitted``
    the comment says the value was fitted (a rounded fit kept in the file);
``sourced``
    the comment names a source (a web address, a data file, a dated publication with a
    named author or outlet), or (after the key's own comment) the value is one of the
    built-in tables, each of which names its source in its file;
``unsourced``
    none of these.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

FITTED = "fitted"
ASSUMED = "ASSUMPTION/judgement"
SOURCED = "sourced"
SETTING = "run setting"
UNSOURCED = "unsourced"
KINDS = (FITTED, ASSUMED, SOURCED, SETTING, UNSOURCED)
RUN_SETTINGS = ("scenario.name", "scenario.description", "scenario.quarters", "scenario.paths",
                "scenario.seed")

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=\s*(.*)$")
_ASSUMED = re.compile(r"ASSUMPTION|judgement", re.I)
_FITTED = re.compile(r"\bfitted\b", re.I)
# A named source: a web address or domain, a data file, a dated publication with a named
# author or outlet (CJK, "et al", an acronym such as NCC or CNNIC), or a named table.
_URL = re.compile(r"https?://|www\.|\b[\w\-]+\.(?:com|cn|org|net|gov)\b")
_FILE = re.compile(r"engine/data/|\.csv\b|plan rules file")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_NAMED = re.compile(r"[\u4e00-\u9fff]|et al|\b[A-Z]{3,}\b|China Life")


@dataclass(frozen=True)
class Assumption:
    """One setting of a scenario file: its dotted key (a plan's as
    ``plans[children].ages``), its value as written, its comment, kind and line. A comment
    block that reaches several keys is in the first one's ``comment``; the others name that
    key in ``note_as_for`` instead of repeating it."""

    key: str
    value: str
    comment: str
    kind: str
    line: int
    note_as_for: str = ""     # a key above whose comment block this one shares (not repeated)


def _split_comment(line: str) -> tuple[str, str]:
    """``(code, comment)`` of a TOML line: the first ``#`` outside a string starts the
    comment."""
    quote = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return line[:i], line[i + 1:].strip()
        i += 1
    return line, ""


def _depth(code: str) -> int:
    """Open brackets and braces less closed ones in ``code`` (strings already kept whole
    by :func:`_split_comment`; brackets inside strings are rare in scenario files)."""
    text = re.sub(r"\"(?:\\.|[^\"\\])*\"|'[^']*'", "", code)
    return text.count("[") + text.count("{") - text.count("]") - text.count("}")


def classify(key: str, value: str, own: str, lead: str,
             fitted_keys: frozenset[str] | set[str] = frozenset(), plan_note: str = "") -> str:
    """The kind of one setting (see the module docstring for the order); ``plan_note``,
    a plan's description on its name line, is read last."""
    from engine.config.tables import BUILTIN_NAMES

    if key in fitted_keys:
        return FITTED
    if key in RUN_SETTINGS:
        return SETTING
    builtin = value.strip("\"'") in BUILTIN_NAMES
    for comment, last in ((own, builtin), (lead, False), (plan_note, False)):
        if _ASSUMED.search(comment):
            return ASSUMED
        if _FITTED.search(comment):
            return FITTED
        if _URL.search(comment) or _FILE.search(comment) or (
                _YEAR.search(comment) and _NAMED.search(comment)) or last:
            return SOURCED
    return UNSOURCED


def _whole_value(lines: list[str], i: int, value: str, comment: str
                 ) -> tuple[str, str, int]:
    """A value that starts on line ``i`` and may run over the lines below (an array):
    ``(value on one line, the comments on its lines, its last line)``."""
    comments, depth, parts = [comment] if comment else [], _depth(value), [value.strip()]
    while depth > 0 and i + 1 < len(lines):
        i += 1
        more, more_comment = _split_comment(lines[i])
        parts.append(more.strip())
        if more_comment:
            comments.append(more_comment)
        depth += _depth(more)
    value = " ".join(p for p in parts if p).replace("[ ", "[").replace(" ]", "]")
    return value, " ".join(comments), i


def read_assumptions(path: str | Path, fitted_keys=frozenset()) -> list[Assumption]:
    """Every key of a TOML scenario file in the file's order, with its comment and kind.

    Parameters
    ----------
    path : path of a TOML file
    fitted_keys : set of dotted keys the calibration fits (``fitted`` whatever the comment)

    Returns
    -------
    list of Assumption
        A value over several lines is one setting, the comments on its lines its own.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    fitted_keys = frozenset(fitted_keys)
    out: list[Assumption] = []
    table, lead, block = "", "", []
    direct = False                        # the block is right above this key
    lead_key = ""                         # the first key the block's comment was given to
    plan_note = ""
    plan_index = -1
    pending_plan: list[int] = []          # entries of the current [[plans]] without a name
    i = 0
    while i < len(lines):
        code, comment = _split_comment(lines[i])
        stripped = code.strip()
        if not stripped:
            if comment:                   # a comment line: part of a block
                block.append(comment)
            else:                         # a blank line ends the block and its reach
                block, lead = [], ""
            i += 1
            continue
        if block:
            lead, block, direct = " ".join(block), [], True
            lead_key = ""
        header = _HEADER.match(stripped)
        if header:
            table, lead = header.group(2), ""
            if header.group(1) == "[[":
                plan_index += 1
                table, pending_plan, plan_note = f"{table}[{plan_index}]", [], ""
            i += 1
            continue
        key = _KEY.match(code)
        if not key:
            i += 1
            continue
        name, start = key.group(1), i
        value, own, i = _whole_value(lines, i, key.group(2), comment)
        dotted = f"{table}.{name}" if table else name
        if name == "name" and table.endswith(f"[{plan_index}]"):
            label = value.strip("\"'")
            renamed = table.rsplit("[", 1)[0] + f"[{label}]"
            for k in pending_plan:
                a = out[k]
                out[k] = Assumption(a.key.replace(table, renamed, 1), a.value, a.comment,
                                    a.kind, a.line)
            table = renamed
            dotted = f"{table}.{name}"
            plan_note = own
        # in a [[plans]] entry a block reaches only the key right below it; later keys
        # read the plan's description (its name line) instead
        reach = lead if direct or not table.startswith("plans[") else ""
        note = plan_note if table.startswith("plans[") and name != "name" else ""
        shown_note = "" if reach or note == own else note
        shared = lead_key if reach and lead_key else ""
        text = " ".join(c for c in (own, "" if shared else reach, shown_note) if c)
        out.append(Assumption(dotted, value, text,
                              classify(dotted, value, own, reach, fitted_keys, note), start + 1,
                              shared))
        if reach and not lead_key:
            lead_key = dotted
        direct = False
        if table.startswith("plans["):
            pending_plan.append(len(out) - 1)
        i += 1
    return out


def fitted_header(path: str | Path) -> tuple[Path | None, list[str]]:
    """The base scenario and the fitted keys a fitted file's header names
    (``# Base scenario: PATH; observations: ...`` and ``#   KEY (SCALE): ...`` lines
    written by :func:`engine.studies.calibrate.run_calibration`); ``(None, [])`` for a
    file without that header."""
    base, keys = None, []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        found = re.match(r"#\s*Base scenario:\s*(.+?);", line)
        if found:
            base = Path(found.group(1).strip())
        found = re.match(r"#\s+([A-Za-z0-9_.\[\]\-]+) \([\w ]+\): ", line)
        if found:
            keys.append(found.group(1))
    return base, keys


def base_scenario(fitted: str | Path) -> Path | None:
    """The base scenario of a fitted file, if its header names one that exists: as
    written, else relative to the fitted file's folder or to the repository."""
    base, _ = fitted_header(fitted)
    if base is None:
        return None
    root = Path(__file__).resolve().parents[2]
    for candidate in (base, Path(fitted).resolve().parent / base, root / base):
        if candidate.is_file():
            return candidate
    return None


def study_assumptions(scenario_path: str | Path, assumptions_from: str | Path | None = None
                      ) -> tuple[Path, list[Assumption], str]:
    """``(file, settings, note)`` for the study's "Assumptions and limitations": the fitted
    keys from the fitted file's header (none for a plain scenario), the comments from
    ``assumptions_from``, else from the base scenario the header names, else from the
    scenario file itself."""
    scenario_path = Path(scenario_path)
    _, fitted = fitted_header(scenario_path)
    source = Path(assumptions_from) if assumptions_from else base_scenario(scenario_path)
    note = ""
    if source is None:
        source = scenario_path
        if fitted:
            note = ("The fitted file's header names no base scenario that exists here, so "
                    "its own settings, without comments, are listed.")
    elif fitted:
        note = (f"The run uses {scenario_path.name}, fitted from it: the fitted settings "
                "take the calibration's estimates and parameter draws, not the values "
                "shown.")
    return source, read_assumptions(source, fitted), note

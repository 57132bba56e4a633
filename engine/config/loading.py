"""Reading a scenario file: TOML, a base it ``extends``, and table paths that move with it.

A file may say ``extends = "BASE.toml"``: its tables are merged over the base's, key by key
(this file's keys win; the base's ``[sweep]``, ``[precision]`` and ``[output]`` are
dropped), at most five bases deep. The base's CSV table paths are relative to the base's folder;
:func:`rebase_table_refs` rewrites them relative to this file's, as it does for any document
written to another folder.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from engine.config import tables
from engine.config.schema import TABLE_KEYS
from engine.errors import ScenarioError, read_user_file

MAX_EXTENDS_DEPTH = 4   # a file, and at most five bases above it


def read_document(path: str | Path, what: str = "scenario file") -> tuple[dict, str]:
    """A TOML file's document and text, merged over its base if it ``extends`` one; a file
    that cannot be read or parsed is one problem naming it (exit 2)."""
    label = str(path)
    text = read_user_file(path, ScenarioError, what, "cannot read")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError.one(label, "", f"invalid TOML: {exc}", has_got=False) from None
    if "extends" in raw:
        raw, text = _extend(raw, Path(path), label)
    return raw, text


def rebase_table_refs(raw: dict, from_dir: Path, to_dir: Path) -> None:
    """Rewrite in place a document's CSV table paths (:data:`TABLE_KEYS`), read relative to
    ``from_dir``, relative to ``to_dir``; built-in names and absolute paths stay as they
    are."""
    for dotted in TABLE_KEYS:
        table, key = dotted.split(".")
        ref = raw.get(table, {}).get(key)
        if isinstance(ref, str) and ref not in tables.BUILTIN_NAMES \
                and not Path(ref).is_absolute():
            raw[table][key] = os.path.relpath((from_dir / ref).resolve(), to_dir.resolve())


def _extend(raw: dict, path: Path, label: str, depth: int = 0) -> tuple[dict, str]:
    """Merge a file that ``extends = "BASE.toml"`` over its base (this file's keys win,
    table by table); return the merged document and its TOML text (stored in results).

    The base's CSV table paths are rewritten relative to this file's folder.
    """
    import tomli_w

    base_name = raw.pop("extends")
    base_raw, base_path = _read_base(base_name, path, label, depth)
    base_raw.pop("sweep", None)
    # how many paths a run needs is its own question: a base's [precision] is not inherited
    base_raw.pop("precision", None)
    # nor what a run writes beyond the totals: a set of hundreds of stresses of a base
    # would multiply its detail (engine.config.output)
    base_raw.pop("output", None)
    rebase_table_refs(base_raw, base_path.parent, path.parent)
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base_raw.items()}
    for table, values in raw.items():
        if isinstance(values, dict) and isinstance(merged.get(table), dict) \
                and table != "sweep":
            merged[table].update(values)
        else:
            merged[table] = values
    own = "".join(f"# | {line}\n" for line in path.read_text(encoding="utf-8").splitlines())
    text = (f"# {path.name} extends {base_name}. The merged scenario as it was run follows;\n"
            f"# {path.name} itself is at the end, as comments.\n\n" + tomli_w.dumps(merged)
            + f"\n# ---- {path.name}\n" + own)
    return merged, text


def _read_base(base_name, path: Path, label: str, depth: int) -> tuple[dict, Path]:
    """The base document ``extends`` names (itself merged over its own base) and its path."""
    if not isinstance(base_name, str):
        raise ScenarioError.one(label, "extends", "must be a path to a scenario file",
                                base_name)
    base_path = (path.parent / base_name)
    if not base_path.is_file():
        raise ScenarioError.one(label, "extends", "scenario file not found", base_name)
    if depth > MAX_EXTENDS_DEPTH:
        raise ScenarioError.one(label, "extends", "too deep a chain of extends", base_name)
    try:
        base_raw = tomllib.loads(base_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise ScenarioError.one(label, "extends", f"cannot read the base ({exc})",
                                base_name) from None
    if "extends" in base_raw:
        base_raw, _ = _extend(base_raw, base_path, str(base_path), depth + 1)
    return base_raw, base_path

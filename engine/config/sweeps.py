"""A scenario file's ``[sweep]``: dotted keys → values, expanded to one set of values each.

``method = "grid"`` (the default) takes the Cartesian product of the lists, ``"zip"`` the
i-th values of all lists, ``"latin"`` ``samples`` Latin hypercube draws (:func:`_latin`).
``streams = "common"`` (the default) gives all members the base seed, ``"independent"``
each its own (DESIGN §2). Each member is the base document with its values over it
(:func:`with_overrides`), named ``NAME[key=value,...]`` (:func:`member_label`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from typing import Any

import numpy as np

from engine.config.checks import is_number
from engine.config.schema import SCHEMA
from engine.errors import Problems

SWEEP_LIMIT = 1_000          # scenarios in one set without --force
SWEEP_HARD_LIMIT = 100_000   # with --force
SWEEP_METHODS = ("grid", "zip", "latin")
SWEEP_STREAMS = ("common", "independent")   # DESIGN §2


def parse_sweep(sweep: Any, problems: Problems, seed: int, force: bool
                ) -> tuple[list[str], list[tuple], str, str]:
    """Validate ``[sweep]``: ``(keys, one tuple of values per member, method, streams)``
    (:func:`_sweep_values` and the choice of ``streams``)."""
    streams = "common"
    if isinstance(sweep, dict) and "streams" in sweep:
        sweep = dict(sweep)
        streams = sweep.pop("streams")
        if streams not in SWEEP_STREAMS:
            problems.add("sweep.streams", f"must be one of {', '.join(SWEEP_STREAMS)}",
                         streams)
            streams = "common"
    return (*_sweep_values(sweep, problems, seed, force), streams)


def with_overrides(raw: dict, overrides: dict) -> dict:
    """A copy of the document with the dotted keys of ``overrides`` set."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for dotted, value in overrides.items():
        table, key = dotted.split(".", 1)
        out.setdefault(table, {})
        out[table][key] = value
    return out


def member_label(swept: dict) -> str:
    """``key=value,...`` of a sweep member (its name is the base's with this in brackets)."""
    return ",".join(f"{k}={_short(v)}" for k, v in swept.items())


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return "[" + ",".join(_short(v) for v in value) + "]"
    if isinstance(value, (list, dict)):
        # A table-valued key (shocks, bands): a short digest keeps names readable; risk
        # groups also show each group's name and incidence multiplier.
        digest = hashlib.sha1(repr(value).encode()).hexdigest()[:6]
        if value and isinstance(value, list) and all(
                isinstance(g, dict) and "name" in g for g in value):
            groups = "/".join(f"{g['name']}×{_short(g.get('incidence', 1.0))}" for g in value)
            return f"<{groups} #{digest}>"
        return f"<{len(value)} items #{digest}>" if value else "<none>"
    return str(value)


def _sweep_values(sweep: Any, problems: Problems, seed: int, force: bool
                  ) -> tuple[list[str], list[tuple], str]:
    """Validate ``[sweep]`` and expand it to one tuple of values per scenario.

    ``grid``: the Cartesian product of the lists. ``zip``: the i-th values of all lists.
    ``latin``: ``samples`` scenarios by Latin hypercube sampling: each key's range
    (``{low = .., high = ..}``, uniform) or list of options (equally likely) is cut into
    ``samples`` equal strata, each used exactly once, in an independent random order per
    key; the draws come from ``numpy.random.Generator(SeedSequence([seed, 0x1A71]))``, so
    a file always expands to the same set.
    """
    if sweep is None:
        return [], [], "none"
    if not isinstance(sweep, dict):
        problems.add("sweep", "must be a table of dotted keys → lists", sweep)
        return [], [], "none"
    sweep = dict(sweep)
    method = sweep.pop("method", "grid")
    samples = sweep.pop("samples", None)
    if method not in SWEEP_METHODS:
        problems.add("sweep.method", f"must be one of {', '.join(SWEEP_METHODS)}", method)
        return [], [], "none"
    if method == "latin":
        if not (isinstance(samples, int) and not isinstance(samples, bool) and samples >= 1):
            problems.add("sweep.samples", "must be an integer ≥ 1 with method = \"latin\"",
                         samples)
            return [], [], method
    elif samples is not None:
        problems.add("sweep.samples", "is only for method = \"latin\"", samples)
    keys, values = _swept_keys(_flat(sweep), method, problems)
    if method == "zip" and len({len(v) for v in values}) > 1:
        problems.add("sweep", "with method = \"zip\" every list must have the same length",
                     {k: len(v) for k, v in zip(keys, values, strict=True)})
        return [], [], method
    if not keys or not _size_allowed(values, method, samples, force, problems):
        return [], [], method
    if method == "zip":
        return keys, list(zip(*values, strict=True)), method
    if method == "latin":
        return keys, _latin(values, samples, seed), method
    return keys, list(itertools.product(*values)), method


def _flat(sweep: dict) -> dict[str, Any]:
    """Dotted key → options. ``a.b = [..]`` (unquoted) inside [sweep] reads as a nested table
    ``{a: {b: [..]}}``; a quoted ``"a.b"`` stays one key. Both name the dotted key a.b."""
    flat: dict[str, Any] = {}
    for k, v in sweep.items():
        if "." not in k and isinstance(v, dict):
            for k2, v2 in v.items():
                flat[f"{k}.{k2}"] = v2
        else:
            flat[k] = v
    return flat


def _swept_keys(flat: dict[str, Any], method: str, problems: Problems
                ) -> tuple[list[str], list]:
    """The keys that may be swept and their options: a list, or with ``latin`` a range
    ``("range", low, high, kind)``; every other key is a problem."""
    keys, values = [], []
    for dotted, options in flat.items():
        key = f"sweep.{dotted}"
        table, _, name = dotted.partition(".")
        if table not in SCHEMA or name not in SCHEMA[table]:
            valid = sorted(f"{t}.{k}" for t in SCHEMA if t != "scenario" for k in SCHEMA[t])
            problems.add(key, f"no such key to sweep (valid: {', '.join(valid)})", dotted)
            continue
        if table == "scenario":
            problems.add(key, "scenario.* keys cannot be swept (the set shares one seed, "
                         "horizon and path count)", dotted)
            continue
        if method == "latin" and isinstance(options, dict):
            low, high = options.get("low"), options.get("high")
            if set(options) != {"low", "high"} or not (is_number(low) and is_number(high)) \
                    or low > high:
                problems.add(key, "a range must be {low = number, high = number} with low ≤ "
                             "high", options)
                continue
            keys.append(dotted)
            values.append(("range", float(low), float(high), SCHEMA[table][name].kind))
            continue
        if not isinstance(options, list) or not options:
            problems.add(key, "must be a non-empty list of values"
                         + (" or {low, high}" if method == "latin" else ""), options)
            continue
        keys.append(dotted)
        values.append(options)
    return keys, values


def _size_allowed(values: list, method: str, samples: int | None, force: bool,
                  problems: Problems) -> bool:
    """Whether the set's size is within :data:`SWEEP_LIMIT` (:data:`SWEEP_HARD_LIMIT` with
    ``force``); a problem if not."""
    size = {"zip": len(values[0]), "latin": samples}.get(method) or \
        math.prod(len(v) for v in values)
    if size > SWEEP_LIMIT and not force:
        problems.add("sweep", f"expands to {size} scenarios, more than {SWEEP_LIMIT}: pass "
                     "--force to run it anyway", size)
        return False
    if size > SWEEP_HARD_LIMIT:
        problems.add("sweep", f"expands to more than {SWEEP_HARD_LIMIT} scenarios", size)
        return False
    return True


def _latin(values: list, samples: int, seed: int) -> list[tuple]:
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x1A71]))
    columns = []
    for spec in values:
        u = (rng.permutation(samples) + rng.random(samples)) / samples
        if isinstance(spec, tuple):
            _, low, high, kind = spec
            if kind == "int":
                x = [int(min(high, math.floor(low + v * (high - low + 1)))) for v in u]
            else:
                x = [float(low + v * (high - low)) for v in u]
        else:
            x = [spec[min(len(spec) - 1, int(v * len(spec)))] for v in u]
        columns.append(x)
    return list(zip(*columns, strict=True))

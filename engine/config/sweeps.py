"""A scenario file's ``[sweep]``: dotted keys → values, expanded to one set of values each.

``method = "grid"`` (the default) takes the Cartesian product of the lists, ``"zip"`` the
i-th values of all lists, ``"latin"`` ``samples`` Latin hypercube draws (:func:`_latin`),
``"sobol"`` Saltelli's design for Sobol indices from a scrambled Sobol sequence
(:func:`_sobol`; ``samples = N``, a power of 2, and ``second_order``).
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

from engine.config.checks import in_range, is_number, range_text
from engine.config.schema import SCHEMA
from engine.errors import Problems

SWEEP_LIMIT = 1_000          # scenarios in one set without --force
SWEEP_HARD_LIMIT = 100_000   # with --force
SWEEP_METHODS = ("grid", "zip", "latin", "sobol")
RANGED = ("latin", "sobol")                 # methods whose keys may be {low, high} ranges
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
    second_order = sweep.pop("second_order", None)
    if method not in SWEEP_METHODS:
        problems.add("sweep.method", f"must be one of {', '.join(SWEEP_METHODS)}", method)
        return [], [], "none"
    if not _sample_size_ok(method, samples, second_order, problems):
        return [], [], method
    keys, values = _swept_keys(_flat(sweep), method, problems)
    if method == "zip" and len({len(v) for v in values}) > 1:
        problems.add("sweep", "with method = \"zip\" every list must have the same length",
                     {k: len(v) for k, v in zip(keys, values, strict=True)})
        return [], [], method
    if not keys or not _size_allowed(values, method, samples, force, problems,
                                     bool(second_order)):
        return [], [], method
    if method == "zip":
        return keys, list(zip(*values, strict=True)), method
    if method == "latin":
        return keys, _latin(values, samples, seed), method
    if method == "sobol":
        return keys, _sobol(values, samples, bool(second_order), seed), method
    return keys, list(itertools.product(*values)), method


def _sample_size_ok(method: str, samples: Any, second_order: Any, problems: Problems) -> bool:
    """``samples`` (an integer ≥ 1 for ``latin``, a power of 2 ≥ 2 for ``sobol``, absent
    otherwise) and ``second_order`` (a boolean, only for ``sobol``)."""
    whole = isinstance(samples, int) and not isinstance(samples, bool)
    if method == "latin" and not (whole and samples >= 1):
        problems.add("sweep.samples", "must be an integer ≥ 1 with method = \"latin\"", samples)
        return False
    if method == "sobol" and not (whole and samples >= 2 and samples & (samples - 1) == 0):
        problems.add("sweep.samples", "must be a power of 2 (2, 4, 8, ...) with method = "
                     "\"sobol\" (the Sobol sequence is balanced only then)", samples)
        return False
    if method not in RANGED and samples is not None:
        problems.add("sweep.samples", "is only for method = \"latin\" or \"sobol\"", samples)
        return False
    if second_order is not None and (method != "sobol" or not isinstance(second_order, bool)):
        problems.add("sweep.second_order", "must be true or false, and only with method = "
                     "\"sobol\"", second_order)
        return False
    return True


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
        if method in RANGED and isinstance(options, dict):
            low, high = options.get("low"), options.get("high")
            if set(options) != {"low", "high"} or not (is_number(low) and is_number(high)) \
                    or low >= high:
                problems.add(key, "a range must be {low = number, high = number} with low < "
                             "high", options)
                continue
            spec = SCHEMA[table][name]
            outside = [(end, v) for end, v in (("low", low), ("high", high))
                       if not in_range(spec, float(v))]
            if outside:     # every member drawn near that end would fail: say it once
                end, v = outside[0]
                problems.add(f"{key}.{end}", f"must be {range_text(spec)}", v)
                continue
            keys.append(dotted)
            values.append(("range", float(low), float(high), SCHEMA[table][name].kind))
            continue
        if method == "sobol":
            problems.add(key, "method = \"sobol\" needs a range {low = number, high = "
                         "number} for every key", options)
            continue
        if not isinstance(options, list) or not options:
            problems.add(key, "must be a non-empty list of values"
                         + (" or {low, high}" if method == "latin" else ""), options)
            continue
        keys.append(dotted)
        values.append(options)
    return keys, values


def _size_allowed(values: list, method: str, samples: int | None, force: bool,
                  problems: Problems, second_order: bool = False) -> bool:
    """Whether the set's size is within :data:`SWEEP_LIMIT` (:data:`SWEEP_HARD_LIMIT` with
    ``force``); a problem if not."""
    size = {"zip": len(values[0]), "latin": samples,
            "sobol": sobol_size(samples, len(values), second_order)}.get(method) or \
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


def sobol_size(samples: int | None, n_keys: int, second_order: bool) -> int:
    """Scenarios of Saltelli's design: ``N (D + 2)``, or ``N (2D + 2)`` with second order."""
    return (samples or 0) * ((2 if second_order else 1) * n_keys + 2)


def sobol_seed(seed: int) -> int:
    """The scrambling seed of a file's Sobol sequence, derived from the scenario seed (the
    same file always gives the same set)."""
    return int(np.random.SeedSequence([seed, 0x50B0]).generate_state(1)[0])


def _sobol(values: list, samples: int, second_order: bool, seed: int) -> list[tuple]:
    """Saltelli's design (``SALib.sample.sobol``, scrambled with :func:`sobol_seed`) over
    the keys' ranges, rows in SALib's order (``SALib.analyze.sobol`` reads them so);
    integer keys take ``⌊low + u (high − low + 1)⌋`` of the point's share ``u`` of the
    range, as :func:`_latin` does."""
    from SALib.sample import sobol

    problem = {"num_vars": len(values), "names": [f"x{j}" for j in range(len(values))],
               "bounds": [[0.0, 1.0]] * len(values)}
    u = sobol.sample(problem, samples, calc_second_order=second_order, scramble=True,
                     seed=sobol_seed(seed))
    columns = []
    for j, (_, low, high, kind) in enumerate(values):
        if kind == "int":
            columns.append([int(min(high, math.floor(low + v * (high - low + 1))))
                            for v in u[:, j]])
        else:
            columns.append([float(low + v * (high - low)) for v in u[:, j]])
    return list(zip(*columns, strict=True))

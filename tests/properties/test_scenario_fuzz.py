"""A scenario fuzzer: mutated shipped scenario files never end in a traceback.

Hypothesis takes a shipped scenario file (a plain scenario, a platform of plans, a stress
set, a sector file), parses it and mutates it: keys removed, keys added (known names in the
wrong table, and unknown ones), values replaced by every TOML type at ordinary and extreme
sizes, lists resized; or it truncates or splices the text. ``mutualsim validate`` and a
two-path ``mutualsim run`` must then exit 0 or 2, and print no traceback. The mutated file
is written beside a copy of the shipped tree, so its ``extends`` and table references still
resolve and the mutations reach the model's validation rather than a missing file.

``MUTUALSIM_FUZZ_EXAMPLES`` sets the number of cases of the long test (CI's slow run:
300, the same every time; with the variable set, new random cases each run); the quick one
in ``make test`` tries 20 and runs no set of more than 50 scenarios.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from engine import cli
from tests.conftest import SCENARIOS

SHIPPED = sorted(p.relative_to(SCENARIOS) for p in SCENARIOS.rglob("*.toml"))
# Names the engine knows, so that some added keys are real keys in the wrong place.
KNOWN_KEYS = ["paths", "quarters", "seed", "start", "initial_members", "age_min", "age_max",
              "model", "series", "selection", "multiplier", "base_quarterly", "fee_rate",
              "waiting_quarters", "amount_by_age", "cap_per_quarter", "shortfall", "extends",
              "sweep", "plans", "ages", "launch", "table", "loading_per_member_quarter",
              "market_potential", "dispersion", "changes", "from", "name", "groups"]
EXTREME_FLOATS = [0.0, -0.0, 1e-320, -1.0, 0.5, 1.0, 1e6, 1e15, 1e300, math.inf, -math.inf,
                  math.nan]
EXTREME_INTS = [0, 1, -1, 2, 7, 100, 10**6, 10**9, 2**31, 2**63 - 1, -(2**63)]

scalars = st.one_of(
    st.sampled_from(EXTREME_INTS), st.integers(-1000, 10**7),
    st.sampled_from(EXTREME_FLOATS), st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=12), st.builds(lambda: "x" * 5000),
    st.sampled_from(["", "2020Q1", "2020Q5", "1999Q4", "reserve", "haircut", "next_plan",
                     "../x.toml"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1)),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=6),
    st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(min_size=1, max_size=8), inner,
                    max_size=4)), max_leaves=12)


def _slots(doc, prefix=()):
    """Every (container, key) in a parsed TOML document, tables and lists included."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc)
    for key, value in items:
        yield doc, key
        if isinstance(value, (dict, list)):
            yield from _slots(value, (*prefix, key))


def _tables(doc):
    yield doc
    for value in (doc.values() if isinstance(doc, dict) else doc):
        if isinstance(value, (dict, list)):
            yield from _tables(value)


@st.composite
def mutated_file(draw) -> tuple[Path, bytes]:
    """(shipped file's relative path, mutated content)."""
    rel = draw(st.sampled_from(SHIPPED))
    text = (SCENARIOS / rel).read_text(encoding="utf-8")
    kind = draw(st.sampled_from(["edit"] * 6 + ["truncate", "splice"]))
    if kind == "truncate":
        return rel, text.encode()[:draw(st.integers(0, len(text.encode())))]
    if kind == "splice":
        data = text.encode()
        at = draw(st.integers(0, len(data)))
        junk = draw(st.binary(max_size=40) | st.sampled_from([b"[", b"]]", b"=", b'"',
                                                              b"\n[scenario]\n", b"\x00"]))
        return rel, data[:at] + junk + data[at:]
    doc = tomllib.loads(text)
    for _ in range(draw(st.integers(1, 3))):
        slots = list(_slots(doc))
        action = draw(st.sampled_from(["remove", "replace", "add", "resize", "scale",
                                       "scale"]))
        numbers = [(c, k) for c, k in slots
                   if isinstance(c[k], (int, float)) and not isinstance(c[k], bool)]
        if action == "scale" and numbers:
            # Valid-looking but extreme numbers reach the model, not just validation.
            container, key = draw(st.sampled_from(numbers))
            factor = draw(st.sampled_from([0, -1, 0.5, 2, 10, 1000, 1e6, 1e-6]))
            scaled = container[key] * factor
            container[key] = int(scaled) if isinstance(container[key], int) else scaled
        elif action in ("remove", "replace") and slots:
            container, key = draw(st.sampled_from(slots))
            if action == "remove":
                del container[key]
            else:
                container[key] = draw(values)
        elif action == "add":
            tables = [t for t in _tables(doc) if isinstance(t, dict)]
            table = draw(st.sampled_from(tables))
            table[draw(st.sampled_from(KNOWN_KEYS) | st.text(min_size=1, max_size=8))] = \
                draw(values)
        else:
            lists = [t for t in _tables(doc) if isinstance(t, list)]
            if lists:
                target = draw(st.sampled_from(lists))
                size = draw(st.sampled_from([0, 1, 2, 50, 1000]))
                target[:] = (target * (size // max(len(target), 1) + 1))[:size] \
                    if target else []
    try:
        return rel, tomli_w.dumps(doc).encode()
    except (TypeError, ValueError):   # what TOML cannot hold (a NaN key, a huge int)
        return rel, text.encode()


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    """A copy of the shipped scenarios (and the data they name), to write mutants beside."""
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(SCENARIOS, root / "scenarios")
    data = SCENARIOS.parent / "data"
    if data.is_dir():
        shutil.copytree(data, root / "data")
    return root


def _check(tree: Path, case, capsys, max_run_scenarios: int | None = None) -> None:
    rel, content = case
    path = tree / "scenarios" / rel.parent / f"fuzz_{rel.name}"
    path.write_bytes(content)
    out = tree / "fuzz.h5"
    for argv in (["validate", str(path)],
                 ["run", str(path), "--paths", "2", "--out", str(out), "--quiet"]):
        try:
            code = cli.main(argv)
        except SystemExit as exc:   # argparse's own exits
            code = exc.code
        err = capsys.readouterr().err
        assert code in (0, 2), (argv[0], code, err)
        assert "Traceback" not in err, err
        if code == 2:
            assert err.strip(), f"{argv[0]} exited 2 and said nothing"
        event(f"{argv[0]} exit {code}")
        if argv[0] == "validate" and code == 2:
            break   # an invalid file: run would only repeat validate's lines
        if argv[0] == "validate" and max_run_scenarios is not None \
                and _set_size(path) > max_run_scenarios:
            event("run skipped: a large set")
            break   # a Sobol study's hundreds of pilots: the long test runs those
    out.unlink(missing_ok=True)


def _set_size(path: Path) -> int:
    from engine.config.scenario import load_scenario_set

    return len(load_scenario_set(path).scenarios)


COMMON = dict(deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])


# 20 mutations in `make test` (under a minute on two cores: a valid set of more than 50
# scenarios is validated, not run); the 300 of the slow test below in CI run every set
@settings(max_examples=20, **COMMON)
@given(case=mutated_file())
def test_mutated_scenarios_exit_0_or_2(tree, case, capsys):
    _check(tree, case, capsys, max_run_scenarios=50)


@pytest.mark.slow
@settings(max_examples=int(os.environ.get("MUTUALSIM_FUZZ_EXAMPLES", "300")),
          **{**COMMON, "derandomize": "MUTUALSIM_FUZZ_EXAMPLES" not in os.environ})
@given(case=mutated_file())
def test_mutated_scenarios_exit_0_or_2_long(tree, case, capsys):
    _check(tree, case, capsys)

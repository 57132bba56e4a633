"""Per-variable checksums of every shipped scenario and stress set, in both backends.

Run ``python -m tests.golden.refresh`` to rewrite ``checksums.json`` after a change that is
meant to alter results (bump the generator/engine version and add a CHANGELOG line in the
same commit); ``tests/scenarios/test_golden.py`` checks that nothing else moves them.

A checksum is the SHA-256 of a variable's (scenario, path, quarter) array in C order and
its native dtype, over the scenarios of the file, ``GOLDEN_PATHS`` paths each, at the
file's own seed: every scenario with the numba kernel, the first ``NUMPY_SCENARIOS`` of a
set with the numpy reference (about 4 of its 11 minutes of ``make test`` otherwise; the
identity tests compare the engines on the rest of the model).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CHECKSUMS = Path(__file__).with_name("checksums.json")
GOLDEN_PATHS = 16
BACKENDS = ("numba", "numpy")
NUMPY_SCENARIOS = 3
GOLDEN_SCENARIOS = 24     # the first members of a large set (a Sobol study has hundreds)


def shipped_files() -> list[Path]:
    """Every scenario file users get: ``scenarios/``, ``scenarios/stress/`` and the sector's
    platforms in ``scenarios/sector/`` (not the sector file itself, which lists them)."""
    return sorted((ROOT / "scenarios").glob("*.toml")) + sorted(
        (ROOT / "scenarios" / "stress").glob("*.toml")) + sorted(
        p for p in (ROOT / "scenarios" / "sector").glob("*.toml") if p.name != "sector.toml")


def checksums_of(path: Path, backend: str, paths: int = GOLDEN_PATHS) -> dict[str, str]:
    """``{variable: sha256}`` of one file's scenarios simulated on ``backend``."""
    from engine.config.scenario import load_scenario_set
    from engine.run.plans import build_run_inputs, simulate_plans

    scenario_set = load_scenario_set(path, force=True)
    seed = scenario_set.base.scenario.seed
    scenarios = scenario_set.scenarios[:GOLDEN_SCENARIOS]
    if backend == "numpy":
        scenarios = scenarios[:NUMPY_SCENARIOS]
    runs = [simulate_plans(build_run_inputs(s), seed, 0, paths, backend=backend)
            for s in scenarios]
    out = {}
    for name in sorted(set().union(*runs)):
        # a driver some scenarios of a set do not draw is NaN for them, as in the file
        shape = next(r[name].shape for r in runs if name in r)
        stacked = np.ascontiguousarray(np.stack([r.get(name, np.full(shape, np.nan))
                                                 for r in runs]))
        out[name] = hashlib.sha256(stacked.tobytes()).hexdigest()
    return out


def key(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def main() -> int:
    table = {backend: {key(p): checksums_of(p, backend) for p in shipped_files()}
             for backend in BACKENDS}
    CHECKSUMS.write_text(json.dumps({"paths": GOLDEN_PATHS, "checksums": table}, indent=1,
                                    sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {CHECKSUMS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

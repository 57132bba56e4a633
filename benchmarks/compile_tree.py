"""Where the kernel's cold compile goes: each compiled function's seconds, with and without
the functions it calls, and its number of specialisations.

``python -m benchmarks.compile_tree [SCENARIO]`` compiles the kernel in this process into
an empty temporary cache and prints the tree of numba's compile events (``numba:compile``,
:mod:`numba.core.event`): a function's inclusive seconds count the callees numba compiled
for it (each compiled once, then linked into every caller), its own seconds are the rest
(typing, lowering and optimising its module with its callees' code linked in). Then the
number of compiled signatures of each of the engine's dispatchers. Not part of ``make
bench``: a diagnosis for the ``compile`` row (docs/performance.md).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def compile_tree(scenario: str) -> tuple[float, list[tuple[int, str, float, float]], dict]:
    """Compile the kernel on ``scenario``; return the seconds, the events ``(depth, name,
    inclusive s, own s)`` in the order they ended, and ``{dispatcher: signatures}``."""
    os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="compile-tree-")
    from numba.core import event
    from numba.core.dispatcher import Dispatcher

    from engine.config.scenario import load_scenario_set
    from engine.model.inputs import build_inputs
    from engine.run.simulate import simulate_paths

    inputs = build_inputs(load_scenario_set(scenario).base)
    stack: list[list] = []
    ended: list[tuple[int, str, float, float]] = []

    class Listener(event.Listener):
        def on_start(self, ev):
            name = getattr(ev.data.get("dispatcher"), "py_func", None)
            stack.append([getattr(name, "__qualname__", "?"), time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, started, callees = stack.pop()
            seconds = time.perf_counter() - started
            if stack:
                stack[-1][2] += seconds
            ended.append((len(stack), name, seconds, seconds - callees))

    event.register("numba:compile", Listener())
    started = time.perf_counter()
    simulate_paths(inputs, 1, 0, 1, backend="numba")
    total = time.perf_counter() - started
    signatures = {f"{m}.{k}": len(v.signatures) for m, mod in list(sys.modules.items())
                  if m.startswith("engine") for k, v in vars(mod).items()
                  if isinstance(v, Dispatcher) and v.__module__ == m}
    return total, ended, signatures


def main(argv: list[str]) -> int:
    from benchmarks.common import DEFAULT_SCENARIO

    total, ended, signatures = compile_tree(argv[0] if argv else str(DEFAULT_SCENARIO))
    print(f"cold compile {total:.1f} s; inclusive / own seconds (callees indented above "
          "their caller):")
    for depth, name, inclusive, own in ended:
        if inclusive >= 0.1:
            print(f"{'  ' * depth}{name}: {inclusive:.2f} / {own:.2f}")
    print(f"{len(signatures)} dispatchers, {sum(signatures.values())} signatures; more than "
          f"one: {[k for k, n in signatures.items() if n > 1] or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The shape the README promises for ``engine/``: no function longer than 80 lines or with
more than 10 parameters, no module over 500 lines, checked on the source's syntax tree."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
MAX_LINES = 80
MAX_PARAMETERS = 10
MAX_MODULE_LINES = 500


def functions():
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path.relative_to(ENGINE.parent), node


def parameters(node) -> int:
    a = node.args
    return (len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs)
            + (a.vararg is not None) + (a.kwarg is not None))


def test_no_function_is_longer_than_80_lines():
    long = [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, node in functions() if node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_no_function_has_more_than_10_parameters():
    wide = [f"{path}:{node.lineno} {node.name} ({parameters(node)} parameters)"
            for path, node in functions() if parameters(node) > MAX_PARAMETERS]
    assert not wide, "functions over 10 parameters:\n" + "\n".join(wide)


def test_no_module_is_longer_than_500_lines():
    long = [f"{path.relative_to(ENGINE.parent)} ({n} lines)"
            for path in sorted(ENGINE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES]
    assert not long, "modules over 500 lines:\n" + "\n".join(long)


def test_every_quantile_comes_from_the_one_function():
    """Issue 25: every quantile, interval and median of the engine is the lower
    (inverted-CDF) one of ``engine.analysis.weighted.quantile`` (weighted or not), whose plain
    branch is ``engine.analysis.metrics.quantile``: no other module calls numpy's, but for
    the tail pilot's search threshold (``run/tail.py``, marked, its comment says why)."""
    import re

    other = re.compile(r"\bnp\.(nan)?(quantile|percentile|median)\(|statistics\.median")
    found = [f"{path.relative_to(ENGINE.parent)}:{i}: {line.strip()}"
             for path in sorted(ENGINE.rglob("*.py"))
             for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if other.search(line) and path.relative_to(ENGINE) != Path("analysis/metrics.py")
             and not line.rstrip().endswith("# pilot-threshold")]
    assert not found, "quantiles outside the one function:\n" + "\n".join(found)
    metrics = (ENGINE / "analysis" / "metrics.py").read_text(encoding="utf-8")
    calls = re.findall(r"np\.quantile\([^\n]*", metrics)
    assert calls and all('method="inverted_cdf"' in c for c in calls), calls

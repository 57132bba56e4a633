"""The shape the README promises for ``engine/``: no function longer than 120 lines or with
more than 12 parameters (the kernel's steps included), checked on the source's syntax tree."""

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
MAX_LINES = 120
MAX_PARAMETERS = 12


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


def test_no_function_is_longer_than_120_lines():
    long = [f"{path}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for path, node in functions() if node.end_lineno - node.lineno + 1 > MAX_LINES]
    assert not long, "functions over 120 lines:\n" + "\n".join(long)


def test_no_function_has_more_than_12_parameters():
    wide = [f"{path}:{node.lineno} {node.name} ({parameters(node)} parameters)"
            for path, node in functions() if parameters(node) > MAX_PARAMETERS]
    assert not wide, "functions over 12 parameters:\n" + "\n".join(wide)

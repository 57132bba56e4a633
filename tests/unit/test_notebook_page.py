"""docs/notebook.md is executed as it stands (issue 25: a public face for notebooks that
cannot drift from the engine)."""

import doctest
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_notebook_page_runs_as_written():
    cwd = os.getcwd()
    os.chdir(ROOT)       # the page's scenario paths are relative to the repository's root
    try:
        result = doctest.testfile(str(ROOT / "docs" / "notebook.md"), module_relative=False,
                                  optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    finally:
        os.chdir(cwd)
    assert result.attempted >= 15
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"


def test_import_engine_does_no_work():
    import subprocess
    import sys

    code = ("import sys, engine; heavy = [m for m in ('numpy', 'numba', 'xarray', "
            "'engine.api', 'engine.run') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.strip()
    assert out == "[]"

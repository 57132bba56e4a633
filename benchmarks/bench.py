"""Compatibility alias: ``python -m benchmarks.bench [OPTIONS]`` is ``python -m benchmarks``.

The measurements live one to a module in :mod:`benchmarks` (``python -m benchmarks --list``);
the runner is :mod:`benchmarks.run`, which takes the same options here (``--samplers``,
``--only``, ``--previous REV``, ``--quick``, ``--jsonl``, ``--docs``). The names older notes
cite as ``bench.py: tail_sampling, tail_ruin`` are :mod:`benchmarks.tail`'s, re-exported.
"""

import sys

from benchmarks.run import main
from benchmarks.tail import tail_ruin, tail_sampling

__all__ = ["main", "tail_ruin", "tail_sampling"]

if __name__ == "__main__":
    sys.exit(main())

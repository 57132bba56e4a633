"""``python -m benchmarks``: the bench runner (:mod:`benchmarks.run`)."""

import sys

from benchmarks.run import main

sys.exit(main())

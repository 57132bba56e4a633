"""``python -m engine ARGS`` is ``mutualsim ARGS``."""

import sys

from engine.cli import main

sys.exit(main())

"""kernel."""

# Before any @njit(cache=True) below: numba's cache folder named by the sources' digest,
# taken again here because the kernel is imported on the first run, possibly after an edit
# to sources already imported (engine/jit_cache.py).
from engine import jit_cache

jit_cache.recheck()

"""random."""

# Before any @njit(cache=True) below: numba's cache folder named by the sources' digest.
import engine.jit_cache  # noqa: F401

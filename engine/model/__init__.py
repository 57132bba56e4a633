"""model."""

# Take the sources' digest before any model code is imported, so that an edit made after
# this import is seen when the kernel is first imported (engine/jit_cache.py: recheck).
import engine.jit_cache  # noqa: F401

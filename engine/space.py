"""Room on disk, checked before HDF5 is asked to write.

HDF5 does not fail cleanly when a write is refused: its chunk cache defers writes, the
errors surface while objects are freed (printed, not raised), and the process may then
crash, leaving the file unreadable. So the results file is never written into without room
for the chunk at hand: :func:`ensure_room` compares what a write needs with the free space of
the file's file system and with the process's file-size limit (``ulimit -f``, which a batch
system may set), and raises :class:`DiskFull` first. Plain writes (the journal's chunk
images, written with ``os.write``) fail cleanly and are turned into :class:`DiskFull` by
:func:`disk_full_from`.
"""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

# Room kept free beyond a write's own bytes: HDF5's metadata (B-trees, attributes written at
# close) and the journal's commit line must still fit after the chunk.
MARGIN_BYTES = 4 << 20
FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}


class DiskFull(Exception):
    """No room for a write; ``str`` says where, how much was needed and how much was free."""


def room(path: Path) -> int:
    """Bytes that the file at ``path`` may still grow by: the free space of its file system,
    or less where the file-size limit is nearer."""
    folder = path.parent if str(path.parent) else Path(".")
    free = shutil.disk_usage(folder).free
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows has no file-size limit
        return free
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        size = path.stat().st_size if path.exists() else 0
        free = min(free, soft - size)
    return free


def ensure_room(path: Path, needed_bytes: int) -> None:
    """Raise :class:`DiskFull` unless ``path`` may grow by ``needed_bytes`` plus
    :data:`MARGIN_BYTES`."""
    free = room(path)
    if free < needed_bytes + MARGIN_BYTES:
        raise DiskFull(f"no room to write {path.name}: {_mb(max(free, 0))} MB free, a chunk "
                       f"needs {_mb(needed_bytes)} MB and HDF5 {_mb(MARGIN_BYTES)} MB more "
                       "for its metadata")


def disk_full_from(exc: OSError, path: Path) -> DiskFull | None:
    """The :class:`DiskFull` an ``OSError`` from a plain write means, or None."""
    if exc.errno in FULL_ERRNOS:
        return DiskFull(f"no room to write {path.name} ({os.strerror(exc.errno)})")
    return None


def _mb(n: int) -> str:
    return f"{n / 2**20:,.1f}"

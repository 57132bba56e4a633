"""Where numba keeps the kernel's compiled code: a folder named by a digest of its sources.

numba's ``cache=True`` checks only the source file of the function it compiled: an edit to a
function that ``engine/kernel/path.py`` calls (``kernel/members.py``, ``model/lapse.py``,
``random/compiled.py`` ...) left the old machine code in use, and the old numbers with it.
Here the cache folder is named by a digest of every source the compiled code can depend on
(each ``.py`` under ``engine/kernel``, ``engine/model`` and ``engine/random``, and
``engine/variables.py``) and of the compiler's versions (Python, numpy, numba, llvmlite):
after any such edit the folder is a new, empty one and the kernel compiles afresh (about
20 s); without an edit the kernel is read back from the folder.

Imported for its effect, first thing, by ``engine/random/__init__.py``,
``engine/model/__init__.py`` and ``engine/kernel/__init__.py``: numba reads
``numba.config.CACHE_DIR`` when a ``@njit(cache=True)`` decorator runs (its
``_UserProvidedCacheLocator`` is made then), so the setting must be in force before any
module of those packages is executed. Dask workers
import the same modules from the same sources, so they compute the same folder.

The digest must describe the code in memory, which numba compiles, not the files as they are
now. The kernel is imported on the first run (``engine.run.simulate``), possibly long after
the model and ``engine.random`` were (an interactive session: inputs built, a rule edited,
then a run); ``engine/kernel/__init__.py`` therefore calls :func:`recheck`, and where the
sources changed since this module was imported the process compiles into a private folder,
removed at exit, that no other process reads. ``engine/model/__init__.py`` imports this
module too, so the digest is taken before any model code is in memory. Left open:
``engine.variables`` imported alone, edited, and only then ``engine.random`` or the model.

The folder (first that is writable):

1. ``$NUMBA_CACHE_DIR/mutualsim/<digest>`` where the user set numba's cache folder;
2. ``engine/__pycache__/numba-cache/<digest>`` beside the package (a checkout, a copy);
3. ``$XDG_CACHE_HOME/mutualsim/numba/<digest>`` (else ``~/.cache/...``) for an installed,
   read-only package;
4. ``<temporary folder>/mutualsim-numba-<user>/<digest>``.

Old digests' folders (siblings named like a digest) are pruned, best effort, once they have
not been touched for :data:`KEEP_SECONDS` (an hour): a run still going on older sources (a
long run while its sources are being edited) keeps its folder while it may still compile
and write into it, and an afternoon of edits leaves at most an hour's worth of folders (a
few MB each). Each import touches its own folder, so a folder in use counts as fresh.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Mapping
from pathlib import Path

import llvmlite
import numba
import numpy as np
from numba.core import config as numba_config

PACKAGE = Path(__file__).resolve().parent

# The sources compiled into the kernel's machine code (relative to the package).
SOURCE_FOLDERS = ("kernel", "model", "random")
SOURCE_FILES = ("variables.py",)

DIGEST_CHARS = 16
KEEP_SECONDS = 3600.0
_DIGEST_NAME = re.compile(rf"[0-9a-f]{{{DIGEST_CHARS}}}")


def source_files(package: Path = PACKAGE) -> list[Path]:
    """The ``.py`` files the compiled kernel depends on, in a fixed (sorted) order."""
    files = [path for folder in SOURCE_FOLDERS for path in (package / folder).rglob("*.py")]
    files += [package / name for name in SOURCE_FILES]
    return sorted(files, key=lambda path: path.relative_to(package).as_posix())


def source_digest(package: Path = PACKAGE) -> str:
    """Hex digest of the kernel's sources (names and contents) and the compiler's versions.

    Parameters
    ----------
    package : Path
        The ``engine`` folder whose sources are hashed.

    Returns
    -------
    str
        :data:`DIGEST_CHARS` hex characters; equal digests mean the same machine code.
    """
    h = hashlib.sha256()
    versions = (sys.version, np.__version__, numba.__version__, llvmlite.__version__)
    h.update("\0".join(versions).encode())
    for path in source_files(package):
        try:
            source = path.read_bytes()
        except FileNotFoundError:  # deleted since listed: hashed as the sources now are
            continue
        # the name too: a file moved or added changes what is compiled
        h.update(b"\0" + path.relative_to(package).as_posix().encode() + b"\0")
        h.update(source)
    return h.hexdigest()[:DIGEST_CHARS]


def candidate_parents(package: Path = PACKAGE, user_cache_dir: str = "",
                      environ: Mapping[str, str] = os.environ) -> list[Path]:
    """The folders that hold one digest folder each, in order of preference.

    Parameters
    ----------
    package : Path
        The ``engine`` folder.
    user_cache_dir : str
        numba's cache folder as the user set it (``NUMBA_CACHE_DIR``), or ``""``.
    environ : mapping
        Environment variables (``XDG_CACHE_HOME``, ``HOME``).
    """
    parents = [Path(user_cache_dir) / "mutualsim"] if user_cache_dir else []
    parents.append(package / "__pycache__" / "numba-cache")
    xdg = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
    parents.append(Path(xdg).expanduser() / "mutualsim" / "numba")
    user = environ.get("USER") or environ.get("USERNAME") or "user"
    parents.append(Path(tempfile.gettempdir()) / f"mutualsim-numba-{user}")
    return parents


def _writable_folder(folder: Path) -> bool:
    # numba checks the same way (a temporary file); a folder it cannot write is skipped
    # by its locator, which would fall back to the stale in-tree cache
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
        os.utime(folder)  # in use: keeps other processes' pruning away from it
    except OSError:
        return False
    return True


def _last_touched(folder: Path) -> float:
    """The newest modification time of ``folder`` and everything in it."""
    newest = folder.stat().st_mtime
    for path in folder.rglob("*"):
        newest = max(newest, path.stat().st_mtime)
    return newest


def prune_siblings(folder: Path, keep_seconds: float = KEEP_SECONDS,
                   now: float | None = None) -> list[Path]:
    """Remove other digests' folders beside ``folder`` untouched for ``keep_seconds``.

    Only siblings named like a digest are considered; errors (a folder vanishing under a
    concurrent prune, no permission) are ignored: pruning never fails a run.

    Returns
    -------
    list of Path
        The folders removed.
    """
    now = time.time() if now is None else now
    removed = []
    try:
        siblings = list(folder.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        if sibling.name == folder.name or not _DIGEST_NAME.fullmatch(sibling.name):
            continue
        try:
            if not sibling.is_dir() or now - _last_touched(sibling) < keep_seconds:
                continue
            shutil.rmtree(sibling)
        except OSError:
            continue
        removed.append(sibling)
    return removed


def use_digest_folder(package: Path = PACKAGE, user_cache_dir: str | None = None,
                      digest: str | None = None) -> Path | None:
    """Point numba's cache at this sources' digest folder and prune old digests' folders.

    Parameters
    ----------
    package : Path
        The ``engine`` folder.
    user_cache_dir : str, optional
        numba's cache folder as the user set it; default: as found when this module was
        first imported (``NUMBA_CACHE_DIR``), before this module changed it.
    digest : str, optional
        The sources' digest, if already taken (:func:`source_digest`).

    Returns
    -------
    Path or None
        The folder in use; None where no candidate is writable (numba's own locators then
        decide, as they would for a read-only ``__pycache__``).
    """
    user = USER_CACHE_DIR if user_cache_dir is None else user_cache_dir
    digest = source_digest(package) if digest is None else digest
    for parent in candidate_parents(package, user):
        folder = parent / digest
        if _writable_folder(folder):
            numba_config.CACHE_DIR = str(folder)
            prune_siblings(folder)
            return folder
    return None


def recheck(package: Path = PACKAGE) -> Path | None:
    """Keep numba off the shared folder if the sources changed since this module's import.

    Called before the kernel's ``@njit(cache=True)``: the modules already imported hold the
    old code, the files the new, and a cache of the mix under either digest would be stale
    for the next process.

    Returns
    -------
    Path or None
        The folder numba caches in from now on.
    """
    global CACHE_FOLDER
    if CACHE_FOLDER is None or CACHE_FOLDER.name != DIGEST or source_digest(package) == DIGEST:
        return CACHE_FOLDER  # none writable, already private, or unchanged
    CACHE_FOLDER = Path(tempfile.mkdtemp(prefix="mutualsim-numba-private-"))
    atexit.register(shutil.rmtree, CACHE_FOLDER, True)
    numba_config.CACHE_DIR = str(CACHE_FOLDER)
    warnings.warn(f"engine's sources changed after part of them was imported: this process "
                  f"may run a mix of old and new code, compiled into a private cache "
                  f"({CACHE_FOLDER}); restart Python to run the edited sources throughout",
                  RuntimeWarning, stacklevel=2)
    return CACHE_FOLDER


def kernel_is_cached(folder: Path | None = None) -> bool:
    """Whether the kernel's compiled code is in the cache folder (else the first chunk
    compiles it): numba's index file of ``kernel/path.py``'s compiled function."""
    folder = CACHE_FOLDER if folder is None else folder
    return folder is not None and any(folder.glob("kernel_*/path.*.nbi"))


# numba's setting before this module changed it (kept so that a second call nests under the
# user's folder, not under the digest folder)
USER_CACHE_DIR: str = numba_config.CACHE_DIR
DIGEST: str = source_digest()  # of the sources as this process imports them
CACHE_FOLDER: Path | None = use_digest_folder(digest=DIGEST)

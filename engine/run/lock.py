"""One writer per results file: ``TARGET.lock``, taken before anything is written.

Two runs writing the same target would share its ``.part`` file and its journal; HDF5's own
file lock then stops the second with a traceback. The lock file is held with an OS advisory
lock (``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows) for the whole run and names
its holder (process id, host, start time, command), so a second run exits 2 with one line
naming the file and the process. The OS releases the lock when its holder dies, however it
dies (``kill -9`` included), so a lock file left by a dead process is found unlocked: that
stale lock is cleared and reported in a note, never obeyed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from pathlib import Path

from engine.errors import ResultsError

try:  # POSIX
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)
except ImportError:  # pragma: no cover - Windows
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)


def lock_path(target: Path) -> Path:
    return target.with_name(target.name + ".lock")


def _holder(path: Path) -> str:
    """Who holds the lock at ``path``, as its file says (best effort)."""
    try:
        info = json.loads(path.read_text() or "{}")
    except (OSError, ValueError):
        return "another process"
    return (f"process {info.get('pid', '?')} on {info.get('host', '?')} since "
            f"{info.get('since', '?')} ({info.get('command') or 'mutualsim run'})")


class RunLock:
    """The lock on ``target`` and its journal, held from :meth:`acquire` to :meth:`release`
    (or the end of a ``with`` block)."""

    def __init__(self, target: Path, command: str = ""):
        self.target = Path(target)
        self.path = lock_path(self.target)
        self.command = command
        self._fd: int | None = None
        self.notes: list[str] = []

    def acquire(self) -> RunLock:
        """Take the lock or raise :class:`ResultsError` (exit 2) naming its holder."""
        while True:
            existed = self.path.exists()
            stale = _holder(self.path) if existed else ""
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise ResultsError.one(str(self.target), "--out", "cannot create its lock "
                                       f"file {self.path.name} ({exc.strerror})",
                                       has_got=False) from None
            if not _try_lock(fd):
                os.close(fd)
                raise ResultsError.one(str(self.target), "--out", "is being written by "
                                       f"{_holder(self.path)}; wait for it to finish (its "
                                       f"lock: {self.path.name})", has_got=False)
            # The holder before us may have removed the file between our open and our lock:
            # then we locked an unlinked file and must start again on the new one.
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            _unlock(fd)
            os.close(fd)
        if existed and os.fstat(fd).st_size:
            self.notes.append(f"cleared a stale lock on {self.target} left by {stale}, "
                              "which is no longer running")
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "since": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "command": self.command}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(info).encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        # Unlink while still holding the lock, so no one locks a file about to vanish
        # unnoticed (acquire's same-file check covers the remaining race).
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        _unlock(self._fd)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

"""The resume journal: every finished chunk, made durable before it enters the results file.

A run writing ``TARGET`` keeps, next to it, ``TARGET.part`` (the HDF5 results being filled)
and the folder ``TARGET.chunks/`` holding

* ``manifest.json``: what the run is (scenario text digest, seed, paths, chunk size,
  engine and generator versions), written once, atomically;
* ``s{scenario}-c{chunk}.h5``: one small HDF5 file per finished chunk (LZF with shuffle:
  fast, for a file that lives only until the run ends; HDF5's fletcher32 checksum on every
  dataset), written to a temporary name, flushed to disk and renamed, so a chunk file is
  either complete or absent;
* ``committed.txt``: the manifest's commit log, one line per committed chunk (file name,
  bytes, SHA-256 of the file), appended and flushed to disk before the chunk file takes its
  name. Appending keeps a commit O(1) however many chunks a run has; a line torn by a crash
  does not parse and its chunk counts as unverified.

``--resume`` verifies every chunk file against its recorded checksum
(:meth:`Journal.verified`); a file that differs, or has none recorded, is deleted and its
chunk computed again (its paths' numbers depend only on their keys, so the results are
those of an uninterrupted run), with one warning line per chunk.

HDF5 files are not crash-safe: a process killed while HDF5 updates its metadata can leave
the ``.part`` file unreadable. The journal is, so ``--resume`` rebuilds ``TARGET.part`` from
the journal's chunks and computes only the missing ones; the data then equal those of an
uninterrupted run because every chunk's numbers depend only on its paths' keys. The folder
is deleted once ``TARGET`` is complete. Chunk files hold plain numeric arrays (no pickle).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np

from engine.errors import ResultsError
from engine.space import disk_full_from

MANIFEST = "manifest.json"
COMMITTED = "committed.txt"


def journal_dir(target: Path) -> Path:
    return target.with_name(target.name + ".chunks")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a run is; a resumed run must match it exactly."""

    scenario_sha256: str
    scenario_file: str
    seed: int
    paths: int
    chunk_paths: int
    quarters: int
    scenarios: int
    engine_version: str
    generator_version: str
    # the [precision] table as run (JSON; "" for a fixed count): a resumed precision run
    # must stop by the same rule
    precision: str = ""

    def differences(self, other: Manifest) -> list[str]:
        mine, theirs = asdict(self), asdict(other)
        return [f"{k} {theirs[k]!r} ≠ {mine[k]!r}" for k in mine
                if k != "scenario_file" and mine[k] != theirs[k]]


def _fsync_write(path: Path, write) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class Journal:
    """The chunk files of one run (see the module docstring)."""

    def __init__(self, target: Path):
        self.dir = journal_dir(target)

    def exists(self) -> bool:
        return (self.dir / MANIFEST).is_file()

    def start(self, manifest: Manifest) -> None:
        """A fresh journal for ``manifest`` (an earlier one is discarded)."""
        self.discard()
        self.dir.mkdir(parents=True)
        _fsync_write(self.dir / MANIFEST,
                     lambda fh: fh.write(json.dumps(asdict(manifest), indent=1).encode()))

    def manifest(self) -> Manifest:
        try:
            data = json.loads((self.dir / MANIFEST).read_text())
            return Manifest(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise ResultsError.one(str(self.dir), "--resume",
                                   f"not a mutualsim journal ({exc})", has_got=False) from None

    def _chunk_path(self, scenario: int, chunk: int) -> Path:
        return self.dir / f"s{scenario}-c{chunk}.h5"

    def save(self, scenario: int, chunk: int, data: dict[str, np.ndarray]) -> None:
        """Commit one chunk: its file is written and flushed under a temporary name, its
        checksum appended to the commit log and flushed, then the file takes its name.

        The HDF5 image is built in memory and written with plain writes, so a full disk
        raises :class:`~engine.space.DiskFull` cleanly (HDF5 itself would not)."""
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as f:
            for name, values in data.items():
                f.create_dataset(name, data=values, compression="lzf", shuffle=True,
                                 fletcher32=True)
        image = buffer.getvalue()
        final = self._chunk_path(scenario, chunk)
        tmp = final.with_name(final.name + ".tmp")
        # The newline leads: a line torn by a crash is ended by the next one's.
        line = f"\n{final.name} {len(image)} {hashlib.sha256(image).hexdigest()}"
        try:
            with open(tmp, "wb") as fh:
                fh.write(image)
                fh.flush()
                os.fsync(fh.fileno())
            with open(self.dir / COMMITTED, "a", encoding="ascii") as log:
                log.write(line)
                log.flush()
                os.fsync(log.fileno())
            os.replace(tmp, final)
        except OSError as exc:
            tmp.unlink(missing_ok=True)   # a disk that filled leaves no partial chunk behind
            full = disk_full_from(exc, tmp)
            if full is None:
                raise
            raise full from None

    def done(self) -> set[tuple[int, int]]:
        out = set()
        for f in self.dir.glob("s*-c*.h5"):
            s, c = f.stem[1:].split("-c")
            out.add((int(s), int(c)))
        return out

    def recorded(self) -> dict[str, tuple[int, str]]:
        """``{chunk file name: (bytes, SHA-256)}`` from the commit log (the last line for
        a chunk wins; lines that do not parse are ignored)."""
        out = {}
        try:
            text = (self.dir / COMMITTED).read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return out
        for line in text.splitlines():
            parts = line.split(" ")
            if (len(parts) == 3 and parts[1].isdigit() and len(parts[2]) == 64
                    and all(ch in "0123456789abcdef" for ch in parts[2])):
                out[parts[0]] = (int(parts[1]), parts[2])
        return out

    def verified(self, sizes: dict[tuple[int, int], int]) -> tuple[set[tuple[int, int]],
                                                                  list[str]]:
        """The chunks whose files match their recorded checksums, and one warning line per
        chunk that does not (its file is deleted, so the chunk is computed again).
        ``sizes`` gives each chunk's paths, for the warning."""
        recorded = self.recorded()
        good, warnings = set(), []
        for key in sorted(self.done()):
            path = self._chunk_path(*key)
            entry = recorded.get(path.name)
            if entry is None:
                why = "no checksum recorded for it"
            elif entry != (path.stat().st_size, file_sha256(path)):
                why = "damaged (its checksum differs from the one recorded when committed)"
            else:
                good.add(key)
                continue
            path.unlink()
            warnings.append(f"{path}: {why}; recomputing its {sizes.get(key, '?')} paths")
        return good, warnings

    def load(self, scenario: int, chunk: int) -> dict[str, np.ndarray]:
        with h5py.File(self._chunk_path(scenario, chunk), "r") as f:
            return {name: f[name][()] for name in f}

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

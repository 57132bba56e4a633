"""The resume journal: every finished chunk, made durable before it enters the results file.

A run writing ``TARGET`` keeps, next to it, ``TARGET.part`` (the HDF5 results being filled)
and the folder ``TARGET.chunks/`` holding

* ``manifest.json``: what the run is (scenario text digest, seed, paths, chunk size,
  engine and generator versions), written once, atomically;
* ``s{scenario}-c{chunk}.h5``: one small HDF5 file per finished chunk (LZF with shuffle:
  fast, for a file that lives only until the run ends), written to a temporary name,
  flushed to disk and renamed, so a chunk file is either complete or absent.

HDF5 files are not crash-safe: a process killed while HDF5 updates its metadata can leave
the ``.part`` file unreadable. The journal is, so ``--resume`` rebuilds ``TARGET.part`` from
the journal's chunks and computes only the missing ones; the data then equal those of an
uninterrupted run because every chunk's numbers depend only on its paths' keys. The folder
is deleted once ``TARGET`` is complete. Chunk files hold plain numeric arrays (no pickle).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np

from engine.errors import ResultsError

MANIFEST = "manifest.json"


def journal_dir(target: Path) -> Path:
    return target.with_name(target.name + ".chunks")


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
        def write(fh):
            with h5py.File(fh, "w") as f:
                for name, values in data.items():
                    f.create_dataset(name, data=values, compression="lzf", shuffle=True)

        _fsync_write(self._chunk_path(scenario, chunk), write)

    def done(self) -> set[tuple[int, int]]:
        out = set()
        for f in self.dir.glob("s*-c*.h5"):
            s, c = f.stem[1:].split("-c")
            out.add((int(s), int(c)))
        return out

    def load(self, scenario: int, chunk: int) -> dict[str, np.ndarray]:
        with h5py.File(self._chunk_path(scenario, chunk), "r") as f:
            return {name: f[name][()] for name in f}

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

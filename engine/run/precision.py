"""Which chunks a run computes and keeps: all of them (a fixed count), or until the
``[precision]`` targets are met (DESIGN §3, :mod:`engine.analysis.precision`).

A run is a sequence of chunks of ``chunk_paths`` paths, chunk ``k`` of a scenario holding
its paths ``k·chunk .. (k+1)·chunk − 1``. Each chunk's numbers depend only on its paths'
keys, so keeping chunks ``0 .. K − 1`` of a scenario gives, bit for bit, the fixed run of
``K·chunk`` paths. A precision run grows every scenario chunk by chunk:

* chunks are *kept* in order: chunk ``k`` is fed to the statistics (and written) only after
  chunks ``0 .. k − 1``, whatever order they were computed in (a cluster, a resumed run);
* after ``⌈min_paths / chunk⌉`` chunks, and after every chunk from then on, the scenario's
  targets are estimated on all its kept paths; it stops when the stopping rule says every
  target is met, or at ``max_paths``;
* under common random numbers (``[sweep] streams = "common"``, the default) the scenarios
  of a set stop together, at the first count where all of them meet their targets: path
  ``p`` stays shared by every scenario, so paired comparisons stay exact and the file is
  rectangular. With independent streams each scenario stops on its own and the file's
  ``paths_used`` says where (:mod:`engine.used_paths`).

The decisions depend only on the kept chunks, so a resumed run and a cluster run stop at the
same count as a single process. A cluster computes ahead of the decisions
(:meth:`ChunkOrder.next_chunk` with ``ahead``); chunks past a scenario's stop are dropped.
"""

from __future__ import annotations

import math

import numpy as np

from engine.analysis import precision as P
from engine.run.simulate import Chunk
from engine.variables import WEIGHT


class ChunkOrder:
    """The chunks of a fixed-count run, scenario by scenario, every one kept."""

    def __init__(self, n_scenarios: int, n_paths: int, chunk_paths: int):
        self.n_scenarios = n_scenarios
        self.n_paths = n_paths
        self.chunk_paths = chunk_paths
        self.n_chunks = -(-n_paths // chunk_paths)
        self._requested: list[set[int]] = [set() for _ in range(n_scenarios)]

    def chunk(self, scenario: int, index: int) -> Chunk:
        start = index * self.chunk_paths
        return Chunk(scenario, index, start, min(self.chunk_paths, self.n_paths - start))

    def claim(self, c: Chunk) -> None:
        """Mark ``c`` as on its way (a journaled chunk being replayed)."""
        self._requested[c.scenario].add(c.index)

    def next_chunk(self, ahead: int = 0) -> Chunk | None:
        """The next chunk to compute, or None when there is none now."""
        for s in range(self.n_scenarios):
            for k in range(self.n_chunks):
                if k not in self._requested[s]:
                    self._requested[s].add(k)
                    return self.chunk(s, k)
        return None

    def offer(self, c: Chunk, data: dict) -> list[tuple[Chunk, dict]]:
        """The chunks to keep now that ``c`` is computed: ``c`` itself."""
        return [(c, data)]

    def paths_used(self) -> np.ndarray:
        return np.full(self.n_scenarios, self.n_paths, dtype=np.int64)

    @property
    def planned_paths(self) -> int:
        """Paths the progress bar expects over all scenarios."""
        return self.n_paths * self.n_scenarios

    def status(self) -> str:
        return ""


class PrecisionOrder(ChunkOrder):
    """The chunks of a ``[precision]`` run (module docstring): ``targets[s]`` are scenario
    ``s``'s :class:`~engine.analysis.precision.Target`; ``common`` makes the scenarios stop
    together."""

    def __init__(self, n_scenarios: int, max_paths: int, chunk_paths: int, min_paths: int,
                 targets: list[list[P.Target]], common: bool):
        super().__init__(n_scenarios, max_paths, chunk_paths)
        self.targets = targets
        self.groups = [list(range(n_scenarios))] if common else \
            [[s] for s in range(n_scenarios)]
        self.group_of = {s: g for g, members in enumerate(self.groups) for s in members}
        first = min(max(1, math.ceil(min_paths / chunk_paths)), self.n_chunks)
        self.allowed = [first] * len(self.groups)      # chunks each group may keep so far
        self.stopped = [False] * len(self.groups)
        self.kept = [0] * n_scenarios                   # chunks kept, in order
        self._waiting: list[dict[int, dict]] = [{} for _ in range(n_scenarios)]
        self._values: list[list[list[np.ndarray]]] = [[[] for _ in t] for t in targets]
        self._weights: list[list[np.ndarray]] = [[] for _ in range(n_scenarios)]
        self.estimates: list[list[P.Estimate | None]] = [[None] * len(t) for t in targets]

    def next_chunk(self, ahead: int = 0) -> Chunk | None:
        """The next chunk, round by round (chunk ``k`` of every active scenario before chunk
        ``k + 1``); up to ``ahead`` chunks past what the decisions allow so far."""
        for k in range(self.n_chunks):
            for s in range(self.n_scenarios):
                g = self.group_of[s]
                if self.stopped[g] or k >= self.allowed[g] + ahead:
                    continue
                if k not in self._requested[s]:
                    self._requested[s].add(k)
                    return self.chunk(s, k)
        return None

    def offer(self, c: Chunk, data: dict) -> list[tuple[Chunk, dict]]:
        """Take a computed chunk; return the chunks now kept (in order), deciding each group
        whose scenarios all reached their allowed count."""
        self._waiting[c.scenario][c.index] = data
        kept: list[tuple[Chunk, dict]] = []
        moved = True
        while moved:
            moved = False
            for s in range(self.n_scenarios):
                g = self.group_of[s]
                k = self.kept[s]
                if not self.stopped[g] and k < self.allowed[g] and k in self._waiting[s]:
                    chunk_data = self._waiting[s].pop(k)
                    self._feed(s, chunk_data)
                    kept.append((self.chunk(s, k), chunk_data))
                    moved = True
            for g, members in enumerate(self.groups):
                if not self.stopped[g] and all(self.kept[s] == self.allowed[g]
                                               for s in members):
                    self._decide(g)
                    moved = True
        for s in range(self.n_scenarios):     # computed ahead, past the stop: dropped
            if self.stopped[self.group_of[s]]:
                self._waiting[s].clear()
        return kept

    def _feed(self, s: int, data: dict) -> None:
        self.kept[s] += 1
        for j, target in enumerate(self.targets[s]):
            self._values[s][j].append(P.path_values(target, data))
        self._weights[s].append(np.asarray(data[WEIGHT], dtype=np.float64))

    def _decide(self, g: int) -> None:
        """Estimate the group's targets on all kept paths; stop, or allow one more chunk."""
        met = True
        for s in self.groups[g]:
            w = np.concatenate(self._weights[s])
            weights = None if np.all(w == 1.0) else w
            for j, target in enumerate(self.targets[s]):
                est = P.estimate(target, np.concatenate(self._values[s][j]), weights)
                self.estimates[s][j] = est
                met = met and est.met(target)
        if met or self.allowed[g] >= self.n_chunks:
            self.stopped[g] = True
        else:
            self.allowed[g] += 1

    def done(self) -> bool:
        return all(self.stopped)

    def paths_used(self) -> np.ndarray:
        return np.array([min(self.kept[s] * self.chunk_paths, self.n_paths)
                         for s in range(self.n_scenarios)], dtype=np.int64)

    @property
    def planned_paths(self) -> int:
        return sum(min(self.allowed[self.group_of[s]] * self.chunk_paths, self.n_paths)
                   for s in range(self.n_scenarios))

    def status(self) -> str:
        """For the progress bar: how many targets are met, and the least precise one's s.e.
        against its target ("3/5 met; VaR 99.5 % of shortfall, year 4: s.e. 7.1 % (≤ 5 %)")."""
        worst, met, total = None, 0, 0
        for s, targets in enumerate(self.targets):
            for target, est in zip(targets, self.estimates[s], strict=True):
                if est is None:
                    continue
                total += 1
                met += est.met(target)
                shortfall = est.se / max(target.wanted(est.value), 1e-300)
                if not est.met(target) and (worst is None or shortfall > worst[0]):
                    worst = (shortfall, P.status_text(target, est))
        if not total:
            return ""
        return f"{met}/{total} met" + (f"; {worst[1]}" if worst else "")

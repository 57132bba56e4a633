"""One ``mutualsim run``: scenario set → chunks → journal and results file, resumable.

Flow: validate the scenario and the output path (before any simulation), start or check the
journal (:mod:`engine.run.journal`), create ``TARGET.part``, replay journaled chunks into it,
simulate the missing chunks (each saved to the journal, then written to the file), and
rename ``TARGET.part`` to ``TARGET``. Memory is bounded by a chunk.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.config.labels import quarter_labels
from engine.config.scenario import load_scenario_set
from engine.errors import ResultsError
from engine.random import streams
from engine.run.journal import Journal, Manifest, text_digest
from engine.run.lock import RunLock
from engine.run.plans import run_chunks
from engine.run.resolve import resolved_record
from engine.run.simulate import plan_chunks
from engine.space import DiskFull, disk_full_from
from engine.store import ResultsWriter, check_output_path, engine_version, part_path

DEFAULT_CHUNK = {"numba": 1000, "numpy": 250}


def scenario_with_tilt(scenario, tilt):
    """``scenario`` with its ``[tail]`` shifts replaced by ``tilt``'s (its plans too)."""
    values = {k: v for k, v in dataclasses.asdict(tilt).items()
              if k not in ("quarters", "claim_first_quarter")}
    tilted = dataclasses.replace(scenario, tail=dataclasses.replace(scenario.tail, **values))
    if scenario.plans:
        tilted = dataclasses.replace(tilted, plans=tuple(scenario_with_tilt(p, tilt)
                                                         for p in scenario.plans))
    return tilted


def chosen_tilt(scenario, seed: int, backend: str, file: str):
    """The pilot's tilt for ``scenario``'s ``[tail] target`` and its record
    (:func:`engine.run.tail.choose_tilt`); a pilot that cannot choose is one line, exit 2."""
    from engine.run.plans import build_run_inputs
    from engine.run.tail import choose_tilt, pilot_paths_of

    tail = scenario.tail
    try:
        return choose_tilt(lambda t: build_run_inputs(scenario_with_tilt(scenario, t)),
                           seed, tail, backend)
    except ValueError as exc:
        raise ResultsError.one(file, "tail.pilot_paths", f"the pilot cannot choose a tilt: "
                               f"{exc}; give more pilot paths or a lower tail.level",
                               pilot_paths_of(tail)) from None


def tilted_set(scenario_set, seed: int, backend: str):
    """The set with the tilt a ``[tail] target`` asks for, chosen by a pilot on the base
    scenario (:mod:`engine.run.tail`) and given to every member (one tilt keeps paired
    comparisons on common random numbers exact); unchanged without a target."""
    if scenario_set.base.tail.target is None:
        return scenario_set, None
    tilt, record = chosen_tilt(scenario_set.base, seed, backend, scenario_set.file)
    return dataclasses.replace(scenario_set, scenarios=tuple(
        scenario_with_tilt(s, tilt) for s in scenario_set.scenarios)), record


@dataclass
class RunRequest:
    scenario: str
    out: Path
    paths: int | None = None
    seed: int | None = None
    chunk: int | None = None
    backend: str = "numba"
    threads: int | None = None
    resume: bool = False
    quiet: bool = False
    force: bool = False
    scheduler: str | None = None
    # The client's TLS files for a tls:// scheduler (None: Dask's configuration's, if any).
    tls_ca_file: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    command: str = ""
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tail_record: dict | None = None     # the pilot's choice of tilt (engine.run.tail)
    precision: list[str] | None = None  # --precision specs (engine.config.precision)

    def warn(self, line: str) -> None:
        """Say at once (stderr, even with ``quiet``) what the run is repairing."""
        self.warnings.append(line)
        print(f"warning: {line}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class RunPlan:
    """What a run computes, settled before anything is written: paths per scenario (a
    precision run's maximum), the root seed, paths per chunk, the quarters' labels and the
    ``[precision]`` table as run (JSON, "" for a fixed count)."""

    n_paths: int
    seed: int
    chunk: int
    labels: tuple[str, ...]
    precision: str = ""


@dataclass
class RunReport:
    out: Path
    scenarios: int
    paths: int
    quarters: int
    chunks_run: int
    chunks_reused: int
    seconds: float
    already_complete: bool = False
    paths_used: tuple[int, ...] = ()    # per scenario (a precision run's may differ)


def set_threads(threads: int | None) -> int:
    """Use ``threads`` numba threads (default: all the cores numba sees); returns the count."""
    import numba

    available = numba.config.NUMBA_NUM_THREADS
    if threads is None:
        threads = available
    if not 1 <= threads <= available:
        raise ResultsError.one("--threads", "", f"must be between 1 and {available}, the "
                               "cores numba may use", threads)
    numba.set_num_threads(threads)
    return threads


def _existing_results_match(target: Path, manifest: Manifest) -> bool:
    """True when ``target`` is a complete results file of this very run; raise if not ours."""
    import h5py

    try:
        with h5py.File(target, "r") as f:
            attrs = {k: f.attrs[k] for k in f.attrs}
            done = f["chunk_done"][()] if "chunk_done" in f else None
    except (OSError, KeyError) as exc:
        raise ResultsError.one(str(target), "--resume", f"not a mutualsim results file ({exc})",
                               has_got=False) from None

    def text(key):
        value = attrs.get(key)
        return value.decode() if isinstance(value, bytes) else value

    def number(key, default=-1):
        value = attrs.get(key, default)
        return int(np.asarray(value).ravel()[0])

    if text("generator") is None or done is None:
        raise ResultsError.one(str(target), "--resume", "not a mutualsim results file",
                               has_got=False)
    found = Manifest(
        scenario_sha256=text_digest(text("scenario_toml") or ""),
        scenario_file=text("scenario_file") or "", seed=number("seed"),
        paths=number("planned_paths", number("paths")), chunk_paths=manifest.chunk_paths,
        quarters=number("quarters"), scenarios=int(done.shape[0]),
        engine_version=text("engine_version") or "",
        generator_version=text("generator_version") or "",
        precision=text("precision") or "")
    diffs = manifest.differences(found)
    if diffs:
        raise ResultsError.one(str(target), "--resume", "holds the results of another run: "
                               + "; ".join(diffs), has_got=False)
    return bool(done.all())


def run(request: RunRequest) -> RunReport:
    """Carry out a run; raises :class:`~engine.errors.InputError` for any user error."""
    started = time.perf_counter()
    scenario_set = load_scenario_set(request.scenario, force=request.force)
    if request.precision:
        if request.paths is not None:
            raise ResultsError.one("--precision", "", "asks the run to stop at a precision; "
                                   "--paths asks for a fixed count: give one of them",
                                   " ".join(request.precision))
        scenario_set = with_precision(scenario_set, request.precision)
    out = check_output_path(request.out)
    if request.scheduler or _tls_options(request).given():
        from engine.run.cluster import check_scheduler, plaintext_warning

        # The address and the certificates are checked here, before the lock or any file.
        check_scheduler(request.scheduler, _tls_options(request))
        if request.backend != "numba":
            raise ResultsError.one("--backend", "", "a cluster runs the numba kernel; the "
                                   "numpy reference runs in one process", request.backend)
        if warning := plaintext_warning(request.scheduler):
            request.warn(warning)
    elif request.backend == "numba":
        set_threads(request.threads)
        from engine import jit_cache

        if not request.quiet and not jit_cache.kernel_is_cached():
            print("compiling the kernel (once after installing or editing the engine; later "
                  "runs load it from the cache)", file=sys.stderr, flush=True)
    # Nothing has been written yet; from here on this process is the target's one writer.
    lock = RunLock(out, request.command).acquire()
    request.notes.extend(lock.notes)
    try:
        return _run_locked(request, scenario_set, out, started)
    finally:
        lock.release()


def _tls_options(request: RunRequest):
    """The request's ``--tls-*`` options for :mod:`engine.run.cluster`."""
    from engine.run.cluster import TlsOptions

    return TlsOptions(request.tls_ca_file, request.tls_cert, request.tls_key)


def _run_locked(request: RunRequest, scenario_set, out: Path, started: float) -> RunReport:
    base = scenario_set.base.scenario
    precision = precision_record(scenario_set) if request.paths is None else ""
    n_paths = (scenario_set.base.precision.max_paths if precision
               else request.paths or base.paths)
    seed = base.seed if request.seed is None else request.seed
    scenario_set, request.tail_record = tilted_set(scenario_set, seed, request.backend)
    journal = Journal(out)
    chunk = request.chunk
    if request.resume and journal.exists() and chunk is None:
        chunk = journal.manifest().chunk_paths
    chunk = min(chunk or DEFAULT_CHUNK[request.backend], n_paths)
    labels = tuple(quarter_labels(base.start, base.quarters))
    manifest = Manifest(
        scenario_sha256=text_digest(scenario_set.text), scenario_file=scenario_set.file,
        seed=seed, paths=n_paths, chunk_paths=chunk, quarters=len(labels),
        scenarios=len(scenario_set.scenarios), engine_version=engine_version(),
        generator_version=streams.GENERATOR_VERSION, precision=precision)

    reuse: set[tuple[int, int]] = set()
    if request.resume:
        if journal.exists():
            diffs = manifest.differences(journal.manifest())
            if diffs:
                raise ResultsError.one(str(journal.dir), "--resume", "was written by another "
                                       "run: " + "; ".join(diffs), has_got=False)
            sizes = {(c.scenario, c.index): c.count
                     for c in plan_chunks(len(scenario_set.scenarios), n_paths, chunk)}
            reuse, damaged = journal.verified(sizes)
            for line in damaged:
                request.warn(line)
        elif out.exists():
            if _existing_results_match(out, manifest):
                return RunReport(out, len(scenario_set.scenarios), n_paths, len(labels), 0, 0,
                                 time.perf_counter() - started, already_complete=True)
            raise ResultsError.one(str(out), "--resume", "is incomplete and has no journal "
                                   f"({journal.dir.name}) to resume from", has_got=False)
        elif part_path(out).exists():
            raise ResultsError.one(str(part_path(out)), "--resume", "has no journal "
                                   f"({journal.dir.name}) to resume from", has_got=False)
        else:
            request.notes.append(f"nothing to resume at {out}; starting a new run")
    with contextlib.ExitStack() as stack:
        if request.scheduler:
            from engine.run.cluster import open_client, run_chunks_on_cluster

            # Connect before anything is written: an unreachable scheduler leaves no trace.
            client = stack.enter_context(open_client(request.scheduler,
                                                     _tls_options(request)))

            def chunks(order):
                return run_chunks_on_cluster(client, scenario_set.scenarios, n_paths, seed,
                                             chunk, None, scenario_set.streams, order)
        else:
            def chunks(order):
                return run_chunks(scenario_set.scenarios, n_paths, seed, chunk,
                                  request.backend, None, scenario_set.streams, order)
        try:
            return _run_into_files(request, scenario_set, out, journal, manifest, reuse,
                                   chunks, RunPlan(n_paths, seed, chunk, labels, precision),
                                   started)
        except OSError as exc:
            full = disk_full_from(exc, out)
            if full is None:
                raise
            _disk_filled(full, out, journal)
        except DiskFull as exc:
            _disk_filled(exc, out, journal)


def _disk_filled(exc: DiskFull, out: Path, journal: Journal):
    """One line for a disk that filled: the ``.part`` file is removed (the journal alone
    resumes the run, and the space is the user's), the journal kept."""
    part_path(out).unlink(missing_ok=True)
    kept = len(journal.done()) if journal.exists() else 0
    raise ResultsError.one(str(out), "--out", f"the disk filled during the run ({exc}); "
                           f"nothing is written at this name and the journal "
                           f"{journal.dir.name}/ keeps {kept} finished chunk(s): free some "
                           "space, then run again with --resume", has_got=False) from None


def _results_writer(request: RunRequest, scenario_set, out: Path,
                    plan: RunPlan) -> ResultsWriter:
    """The results file's writer, with the run's provenance in its attributes."""
    return ResultsWriter(out, scenario_set, plan.n_paths, plan.chunk, plan.seed,
                         plan.labels, resolved_record(scenario_set),
                         {"generator": streams.GENERATOR,
                          "precision": plan.precision, "planned_paths": plan.n_paths,
                          "generator_version": streams.GENERATOR_VERSION,
                          "backend": request.backend, "command": request.command,
                          "quarters": len(plan.labels),
                          "scheduler": request.scheduler or "single process",
                          # common: scenario i's path p shares its noise with every
                          # other scenario's path p (the summary clusters by path)
                          "streams": scenario_set.streams,
                          **({"tail_tilt": json.dumps(request.tail_record)}
                             if request.tail_record else {})})


def _run_into_files(request, scenario_set, out, journal, manifest, reuse, chunks,
                    plan: RunPlan, started) -> RunReport:
    """Start the journal (unless resuming), replay the journaled chunks ``reuse`` into the
    results file, then store each chunk the run keeps (journal, then file) and rename the
    file into place."""
    if not reuse:
        if journal.exists() and not request.resume:
            request.notes.append(f"discarding the unfinished run in {journal.dir} "
                                 "(use --resume to continue it)")
        journal.start(manifest)
    order = chunk_order(scenario_set, plan)
    writer = _results_writer(request, scenario_set, out, plan)
    from tqdm import tqdm

    bar = tqdm(total=order.planned_paths, unit="path", disable=request.quiet,
               dynamic_ncols=True, desc=scenario_set.base.scenario.name, file=sys.stderr)
    counts = {"reused": 0, "ran": 0}

    def store(c, data):
        if (c.scenario, c.index) not in reuse:      # a replayed chunk is journaled already
            journal.save(c.scenario, c.index, data)
        writer.write(c.scenario, c.index, c.start, data)
        return c.count

    # One thread writes (journal, then results file) while the kernel, which releases the
    # GIL, computes the next chunk; at most two chunks wait, so memory stays bounded.
    pool = ThreadPoolExecutor(max_workers=1)
    pending: deque = deque()

    def keep(c, data):
        for kept, kept_data in order.offer(c, data):
            pending.append(pool.submit(store, kept, kept_data))
        while len(pending) > 1 or (pending and pending[0].done()):
            bar.update(pending.popleft().result())
        if bar.total != order.planned_paths:
            bar.total = order.planned_paths
        if status := order.status():
            bar.set_postfix_str(status, refresh=False)

    try:
        # journaled chunks round by round (a precision run keeps them in that order)
        for key in sorted(reuse, key=lambda k: (k[1], k[0])):
            order.claim(order.chunk(*key))
            keep(order.chunk(*key), journal.load(*key))
            counts["reused"] += 1
        for c, data in chunks(order):
            counts["ran"] += 1
            keep(c, data)
        while pending:
            bar.update(pending.popleft().result())
        pool.shutdown()
        bar.close()
        writer.finish(order.paths_used() if plan.precision else None)
    except BaseException as exc:
        pool.shutdown(wait=True)  # chunks already computed are still saved
        bar.close()
        # A full disk: close without the attribute, inside the room ensure_room kept.
        writer.close_partial(mark=not isinstance(exc, (DiskFull, OSError)))
        raise
    journal.discard()
    used = tuple(int(n) for n in order.paths_used())
    return RunReport(out, len(scenario_set.scenarios), max(used), len(plan.labels),
                     counts["ran"], counts["reused"], time.perf_counter() - started,
                     paths_used=used)


def chunk_order(scenario_set, plan: RunPlan):
    """The run's :class:`~engine.run.precision.ChunkOrder`: every chunk, or a precision
    run's (each scenario's targets from its ``[precision]`` table)."""
    from engine.analysis.precision import targets_of
    from engine.run.precision import ChunkOrder, PrecisionOrder

    n = len(scenario_set.scenarios)
    if not plan.precision:
        return ChunkOrder(n, plan.n_paths, plan.chunk)
    table = scenario_set.base.precision
    targets = [targets_of(dataclasses.asdict(s.precision), list(plan.labels))
               for s in scenario_set.scenarios]
    return PrecisionOrder(n, plan.n_paths, plan.chunk, table.min_paths, targets,
                          scenario_set.streams == "common")


def precision_record(scenario_set) -> str:
    """The base scenario's ``[precision]`` table as JSON, or "" when it has no targets."""
    table = dataclasses.asdict(scenario_set.base.precision)
    return json.dumps(table, sort_keys=True) if table["targets"] else ""


def with_precision(scenario_set, specs: list[str]):
    """The set with its ``[precision]`` table replaced by ``--precision`` ``specs``
    (:func:`engine.config.precision.parse_specs`); a bad spec is one line, exit 2."""
    from engine.config.precision import override

    return override(scenario_set, specs)


def default_output(scenario: str) -> Path:
    folder = Path("results")
    folder.mkdir(exist_ok=True)
    return folder / f"{Path(scenario).stem}.h5"

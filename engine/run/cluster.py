"""Scenario sets on a Dask cluster (``mutualsim run --scheduler``).

Tasks are (scenario, chunk of paths). Each runs the numba kernel on a worker and returns the
chunk's per-(path, quarter) arrays; the client saves each to the journal and writes it to
the results file as it arrives, so a result is written once, whatever order chunks finish
in, and the file equals a single-process run's (every draw is keyed by its path, not by
where it ran). At most ``2 × workers`` chunks are in flight, which bounds the client's
memory. A worker that dies takes its running chunks with it; Dask's scheduler runs them
again on the others (up to ``distributed.scheduler.allowed-failures`` times). A client that
dies leaves the journal, and ``--resume`` finishes the run.

``--scheduler local:N`` starts a ``LocalCluster`` of N worker processes with one thread
each; ``--scheduler tcp://HOST:PORT`` connects to a running scheduler (for SLURM/PBS see
dask-jobqueue, for Kubernetes dask-kubernetes; README "Running on a cluster").

Dask ships tasks as pickles, so whoever reaches an open scheduler runs code on every worker
and reads every result. ``--scheduler tls://HOST:PORT`` connects with mutual TLS: the client
shows a certificate signed by the cluster's CA and checks the scheduler's against it
(``distributed.security.Security``). The certificates come from ``--tls-ca-file``,
``--tls-cert`` and ``--tls-key`` or else from Dask's configuration
(``distributed.comm.tls.ca-file``, ``distributed.comm.tls.client.cert``,
``distributed.comm.tls.client.key``); the options override the configuration.
:func:`check_scheduler` reports a bad address or certificate as one line (exit 2) before
anything is written, and :func:`plaintext_warning` gives the warning for a ``tcp://``
scheduler off this machine's loopback interface, printed on every such run.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import ResultsError
from engine.run.plans import PlatformInputs, build_run_inputs, simulate_plans
from engine.run.simulate import Chunk, plan_chunks, scenario_seeds

CONNECT_TIMEOUT_S = 10
_LOCAL = re.compile(r"^local:(\d+)$")
_FORMS = "must be local:N, tcp://HOST:PORT or tls://HOST:PORT"
RUNNING_ON_A_CLUSTER = 'README "Running on a cluster"'


def parse_scheduler(text: str) -> tuple[str, str | int]:
    """``local:N`` → ("local", N); ``tcp://HOST:PORT`` → ("tcp", text); ``tls://HOST:PORT``
    → ("tls", text); else exit 2."""
    if m := _LOCAL.match(text):
        n = int(m.group(1))
        if n < 1:
            raise ResultsError.one("--scheduler", "", "local:N needs N ≥ 1", text)
        return "local", n
    for scheme in ("tcp", "tls"):
        if text.startswith(f"{scheme}://") and ":" in text[6:]:
            return scheme, text
    raise ResultsError.one("--scheduler", "", _FORMS, text)


@dataclass(frozen=True)
class TlsOptions:
    """The ``--tls-*`` options of ``mutualsim run`` (None: not given)."""

    ca_file: str | None = None
    cert: str | None = None
    key: str | None = None

    def given(self) -> list[str]:
        """The options given, by their command-line names."""
        return [f"--tls-{name}" for name, value in (("ca-file", self.ca_file),
                                                    ("cert", self.cert), ("key", self.key))
                if value is not None]


@dataclass(frozen=True)
class Target:
    """A checked ``--scheduler``: its kind, its value and, for ``tls://``, the client's
    :class:`distributed.security.Security`."""

    kind: str
    value: str | int
    security: object | None = None
    # For messages: "tls_ca_file"/"tls_client_cert"/"tls_client_key" -> (option or Dask
    # configuration key it came from, its value).
    sources: tuple[tuple[str, str, str], ...] = ()

    def source(self, field: str) -> tuple[str, str]:
        """(where ``field`` came from, its value) for a message; ("--scheduler", address)
        when it was not set."""
        for name, where, value in self.sources:
            if name == field:
                return where, value
        return "--scheduler", str(self.value)


# Where each client setting comes from: the option, else this key of Dask's configuration.
_SOURCES = (("tls_ca_file", "--tls-ca-file", "ca_file", "distributed.comm.tls.ca-file"),
            ("tls_client_cert", "--tls-cert", "cert", "distributed.comm.tls.client.cert"),
            ("tls_client_key", "--tls-key", "key", "distributed.comm.tls.client.key"))


def check_scheduler(scheduler: str | None, tls: TlsOptions | None = None) -> Target | None:
    """Check ``--scheduler`` and the ``--tls-*`` options together, before anything is written.

    Parameters
    ----------
    scheduler : str or None
        ``local:N``, ``tcp://HOST:PORT`` or ``tls://HOST:PORT``; None runs in this process.
    tls : TlsOptions, optional
        The certificate options; for a ``tls://`` address each one not given is taken from
        Dask's configuration.

    Returns
    -------
    Target or None
        None when there is no scheduler (and no TLS option).

    Raises
    ------
    ResultsError
        One line, naming the option: a malformed address, TLS options without a ``tls://``
        address, a ``tls://`` address without certificates, a certificate file that is
        missing or unreadable, or a ``tcp://`` address where Dask's configuration requires
        encryption.
    """
    tls = tls or TlsOptions()
    given = tls.given()
    kind, value = parse_scheduler(scheduler) if scheduler else (None, None)
    if given and kind != "tls":
        # Certificates with a plain address would be silently unused: say so, or the user
        # believes the run is protected.
        raise ResultsError.one(given[0], "", "needs a tls://HOST:PORT --scheduler",
                               f"--scheduler {scheduler}" if scheduler else "no --scheduler")
    if kind is None:
        return None
    if kind == "tcp" and _config_requires_encryption():
        raise ResultsError.one("--scheduler", "", "is not encrypted but Dask's configuration "
                               "requires encryption (distributed.comm.require-encryption); "
                               "use tls://HOST:PORT with certificates", value)
    if kind != "tls":
        return Target(kind, value)
    security, where = _client_security(tls)
    return Target(kind, value, security,
                  tuple((field, name, path) for field, (name, path) in where.items()))


def _config_requires_encryption() -> bool:
    import dask

    return bool(dask.config.get("distributed.comm.require-encryption", default=False))


def _client_security(tls: TlsOptions):
    """The client's ``Security`` for a ``tls://`` scheduler: the options over Dask's
    configuration, every file checked now rather than at the first connection."""
    from distributed.security import Security

    chosen = {field: getattr(tls, attr) for field, _, attr, _ in _SOURCES
              if getattr(tls, attr) is not None}
    if tls.cert is not None and tls.key is None:
        # The key goes with its certificate: a configured key would not match the given
        # certificate, so without --tls-key the key is read from the certificate's file.
        chosen["tls_client_key"] = None
    security = Security(require_encryption=True, **chosen)
    where = {}          # field -> (name in messages, path)
    for field, option, attr, key in _SOURCES:
        path = getattr(security, field)
        if path is not None:
            where[field] = (option if getattr(tls, attr) is not None
                            else f"{key} (Dask configuration)", path)
    missing = [option for field, option, _, key in _SOURCES[:2] if field not in where]
    if missing:
        raise ResultsError.one(
            ", ".join(missing), "", "a tls:// scheduler needs the cluster's CA certificate "
            "and this client's certificate (and key), as --tls-ca-file, --tls-cert and "
            "--tls-key or in Dask's configuration (distributed.comm.tls.ca-file, "
            "distributed.comm.tls.client.cert, distributed.comm.tls.client.key); see "
            + RUNNING_ON_A_CLUSTER, has_got=False)
    for name, path in where.values():
        # Dask's configuration may hold a PEM text itself rather than a file name.
        if "\n" not in path and not Path(path).is_file():
            raise ResultsError.one(name, "", "no such file", path)
    name, path = where["tls_ca_file"]
    try:
        ctx = (ssl.create_default_context(cadata=path) if "\n" in path
               else ssl.create_default_context(cafile=path))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ResultsError.one(name, "", f"is not a readable PEM CA certificate ({exc})",
                               path) from None
    name, cert = where["tls_client_cert"]
    key = where.get("tls_client_key", (None, None))[1]
    if "\n" not in cert and (key is None or "\n" not in key):
        try:
            ctx.load_cert_chain(cert, key)
        except (ssl.SSLError, OSError) as exc:
            names = name + (f", {where['tls_client_key'][0]}" if key else "")
            raise ResultsError.one(names, "", "the certificate and key cannot be loaded "
                                   f"together ({exc})", cert) from None
    return security, where


def _is_loopback(host: str) -> bool:
    """True when ``host`` (a name or an address) is on this machine's loopback interface;
    a name that does not resolve counts as elsewhere."""
    host = host.strip("[]")
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    # Every address the name resolves to must be loopback: the client may take any of them.
    try:
        return bool(found) and all(ipaddress.ip_address(str(info[4][0]).split("%")[0])
                                   .is_loopback for info in found)
    except ValueError:
        return False


def plaintext_warning(scheduler: str | None) -> str | None:
    """The warning for a ``tcp://`` scheduler that is not on the loopback interface, else None.

    A plain TCP scheduler accepts pickled tasks from anyone who can reach its port; on the
    loopback interface that is only this machine's users, elsewhere it is the network.
    """
    if not scheduler or not scheduler.startswith("tcp://"):
        return None
    hostport = scheduler[len("tcp://"):].split("/", 1)[0]
    host = hostport[:hostport.index("]") + 1] if hostport.startswith("[") \
        else hostport.rsplit(":", 1)[0]
    if _is_loopback(host):
        return None
    return (f"--scheduler {scheduler} is not encrypted or authenticated: anyone who can reach "
            "the port can run code on the workers and read the results; use tls:// with "
            f"certificates ({RUNNING_ON_A_CLUSTER})")


def _tls_refusal(exc: BaseException, target: Target) -> ResultsError | None:
    """The one line for a failed TLS handshake, if ``exc`` (or what caused it) is one.

    Dask reports the scheduler's certificate failing our check as an
    ``SSLCertVerificationError``; our certificate refused by the scheduler arrives as the
    scheduler's alert (in an ``SSLError`` or the text of a ``CommClosedError``) or, since
    TLS 1.3 checks the client after the client's side of the handshake, as the connection
    closing (``SSLEOFError``); a scheduler that does not speak TLS gives other SSL errors
    or tornado's "IOStream is not idle" ``ValueError``.
    """
    from distributed.comm.core import FatalCommClosedError

    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    for seen in chain:
        if isinstance(seen, ssl.SSLCertVerificationError):
            name, path = target.source("tls_ca_file")
            return ResultsError.one(name, "", f"the scheduler {target.value}'s certificate is "
                                    f"not signed by this CA ({seen.verify_message}); give the "
                                    "cluster's CA certificate", path)
    alerts = [m.group(0) for e in chain
              if (m := re.search(r"(?:SSLV3|TLSV13?)_ALERT_[A-Z_]+", str(e)))]
    eof = any(isinstance(e, ssl.SSLEOFError) for e in chain)
    if alerts or eof:
        name, path = target.source("tls_client_cert")
        why = (f"refused this client's certificate ({alerts[0]})" if alerts else
               "closed the connection in the TLS handshake: it does not accept this "
               "client's certificate, or it is not a tls:// scheduler")
        return ResultsError.one(name, "", f"the scheduler {target.value} {why}; give a "
                                "certificate signed by the cluster's CA", path)
    failed = [e for e in chain if isinstance(e, ssl.SSLError | FatalCommClosedError)
              or (isinstance(e, ValueError) and "SSL" in str(e))]
    if not failed:
        return None
    reason = getattr(failed[-1], "reason", None) or f"{type(failed[-1]).__name__}: {failed[-1]}"
    return ResultsError.one("--scheduler", "", f"the TLS handshake failed ({reason}); is it "
                            "a tls:// scheduler?", target.value)


@contextlib.contextmanager
def open_client(scheduler: str, tls: TlsOptions | None = None):
    """A connected ``distributed.Client`` (and its LocalCluster, if any).

    Raises :class:`ResultsError` (one line) for a scheduler that cannot be reached within
    ``CONNECT_TIMEOUT_S`` or that refuses the TLS handshake (a certificate it does not
    trust, or one we do not).
    """
    from distributed import Client, LocalCluster

    target = check_scheduler(scheduler, tls)
    cluster = None
    if target.kind == "local":
        # One numba thread per worker process: the workers are the parallelism. Set in the
        # workers' environment only (numba refuses a change once this process has threads).
        cluster = LocalCluster(n_workers=int(target.value), threads_per_worker=1,
                               processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR, env={"NUMBA_NUM_THREADS": "1"})
        client = Client(cluster)
    else:
        try:
            client = Client(target.value, timeout=f"{CONNECT_TIMEOUT_S}s",
                            **({"security": target.security} if target.security else {}))
        except (OSError, TimeoutError, ValueError) as exc:
            refused = _tls_refusal(exc, target) if target.kind == "tls" else None
            if refused is not None:
                raise refused from None
            if isinstance(exc, ValueError):
                raise
            if target.kind == "tcp" and type(exc).__name__ == "CommClosedError":
                # Reached, then dropped at once: what a tls:// scheduler does to plain TCP.
                raise ResultsError.one("--scheduler", "", "the scheduler closed the "
                                       "connection at once; if it is a TLS scheduler, give "
                                       "tls://HOST:PORT and certificates",
                                       target.value) from None
            raise ResultsError.one("--scheduler", "", f"cannot reach the scheduler within "
                                   f"{CONNECT_TIMEOUT_S} s ({type(exc).__name__})",
                                   target.value) from None
        except MemoryError:
            # Dask reads the first 8 bytes of the reply as a message length: a server that is
            # not a Dask scheduler (e.g. HTTP on that port) announces an impossible size.
            raise ResultsError.one("--scheduler", "", "the server there is not a Dask "
                                   "scheduler (its reply is not Dask's protocol)",
                                   target.value) from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def simulate_block(inputs: PlatformInputs, seed: int, start: int, count: int
                   ) -> dict[str, np.ndarray]:
    """The task a worker runs: one chunk of paths with the numba kernel.

    Uses the worker's share of the cores for numba's threads, so that a worker running
    ``nthreads`` tasks at once does not oversubscribe the machine.
    """
    import numba

    try:
        from distributed import get_worker

        per_task = max(1, numba.config.NUMBA_NUM_THREADS // get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        per_task = numba.config.NUMBA_NUM_THREADS
    numba.set_num_threads(per_task)
    return simulate_plans(inputs, seed, start, count, backend="numba")


def run_chunks_on_cluster(client, scenarios, n_paths: int, seed: int, chunk_paths: int,
                          skip: Callable[[Chunk], bool] | None = None,
                          streams_choice: str = "common", order=None
                          ) -> Iterator[tuple[Chunk, dict[str, np.ndarray]]]:
    """Like :func:`engine.run.plans.run_chunks`, but on the cluster; yields as chunks finish.

    With an ``order`` (a precision run) up to two tasks per worker run ahead of its
    decisions; what it then drops is the price of not waiting for each chunk."""
    from distributed import as_completed

    inputs = [build_run_inputs(s) for s in scenarios]
    seeds = scenario_seeds(seed, len(scenarios), streams_choice)
    shared = client.scatter(inputs, broadcast=True)
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    limit = 2 * workers
    if order is None:
        todo = iter([c for c in plan_chunks(len(scenarios), n_paths, chunk_paths)
                     if skip is None or not skip(c)])

        def take() -> Chunk | None:
            return next(todo, None)
    else:
        def take() -> Chunk | None:
            return order.next_chunk(ahead=limit)
    pending = as_completed()
    chunk_of = {}

    def fill() -> None:
        while pending.count() < limit and (c := take()) is not None:
            future = client.submit(simulate_block, shared[c.scenario], seeds[c.scenario],
                                   c.start, c.count,
                                   key=f"mutualsim-block-{seed}-{c.scenario}-{c.index}",
                                   pure=False)
            chunk_of[future.key] = c
            pending.add(future)

    fill()
    for future in pending:
        c = chunk_of.pop(future.key)
        data = future.result()
        future.release()
        yield c, data
        fill()

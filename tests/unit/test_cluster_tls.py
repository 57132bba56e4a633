"""A Dask scheduler over TLS (issue 24): the same numbers as a plain run, clients without
the cluster's certificates refused in one line, and a warning for plain TCP off loopback."""

import logging
import socket
import time

import pytest
import xarray as xr

from engine import cli
from engine.errors import ResultsError
from engine.run import cluster
from tests.unit import test_cluster
from tests.unit.test_cluster import assert_same, data_of

distributed = pytest.importorskip("distributed")
pytest.importorskip("cryptography")       # Security.temporary() makes its certificates

sweep_file = test_cluster.sweep_file      # the fixture: a two-scenario sweep of SMALL
TINY = ["--paths", "30", "--chunk", "7", "--quiet"]
TLS_CONFIG = ("distributed.comm.tls.ca-file", "distributed.comm.tls.client.cert",
              "distributed.comm.tls.client.key", "distributed.comm.require-encryption")


def _write_credentials(folder, security):
    """The CA, certificate and key that ``Security.temporary()`` keeps in memory, as files
    (the command line takes files)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, pem in (("ca", security.tls_ca_file), ("cert", security.tls_client_cert),
                      ("key", security.tls_client_key)):
        files[name] = folder / f"{name}.pem"
        files[name].write_text(pem, encoding="utf-8")
    return files


@pytest.fixture(scope="module")
def credentials(tmp_path_factory):
    """(Security, files) of the cluster's CA and (Security, files) of another CA."""
    from distributed.security import Security

    root = tmp_path_factory.mktemp("tls")
    ours, theirs = Security.temporary(), Security.temporary()
    return ((ours, _write_credentials(root / "ours", ours)),
            (theirs, _write_credentials(root / "theirs", theirs)))


@pytest.fixture(scope="module")
def tls_scheduler(credentials):
    """The address of a one-worker TLS cluster that trusts only the first CA."""
    from distributed import LocalCluster

    security = credentials[0][0]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tls",
                      security=security, dashboard_address=None, silence_logs=logging.ERROR,
                      env={"NUMBA_NUM_THREADS": "1"}) as local:
        assert local.scheduler_address.startswith("tls://")
        yield local.scheduler_address


@pytest.fixture(autouse=True)
def no_dask_tls_config():
    """Each test starts without TLS settings in Dask's configuration (the user's own
    ~/.config/dask would otherwise decide what "no certificates" means)."""
    import dask

    with dask.config.set({key: None for key in TLS_CONFIG}):
        yield


def _options(files):
    return ["--tls-ca-file", str(files["ca"]), "--tls-cert", str(files["cert"]),
            "--tls-key", str(files["key"])]


def _refused(tmp_path, sweep_file, capsys, *args):
    """Run with ``args``; the one stderr line of a run that exits 2 having written nothing."""
    before = sorted(tmp_path.iterdir())
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(sweep_file), *TINY, "--out", str(out), *map(str, args)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert sorted(tmp_path.iterdir()) == before        # no results, journal or lock
    return err[0]


@pytest.mark.slow
def test_a_tls_cluster_run_equals_a_single_process_run(tmp_path, sweep_file, credentials,
                                                       tls_scheduler, capsys):
    single, over_tls = tmp_path / "single.h5", tmp_path / "tls.h5"
    assert cli.main(["run", str(sweep_file), *TINY, "--out", str(single)]) == 0
    started = time.time()
    assert cli.main(["run", str(sweep_file), *TINY, "--out", str(over_tls), "--scheduler",
                     tls_scheduler, *_options(credentials[0][1])]) == 0
    assert time.time() - started < 60
    assert capsys.readouterr().err == ""               # no warning over TLS
    assert_same(data_of(single), data_of(over_tls))
    with xr.open_dataset(over_tls, engine="h5netcdf") as ds:
        assert ds.attrs["scheduler"] == tls_scheduler
        assert ds["chunk_done"].values.all()


@pytest.mark.slow
def test_the_certificates_may_come_from_dask_configuration(tmp_path, sweep_file, credentials,
                                                           tls_scheduler):
    import dask

    files = credentials[0][1]
    single, over_tls = tmp_path / "single.h5", tmp_path / "tls.h5"
    assert cli.main(["run", str(sweep_file), *TINY, "--out", str(single)]) == 0
    with dask.config.set({"distributed.comm.tls.ca-file": str(files["ca"]),
                          "distributed.comm.tls.client.cert": str(files["cert"]),
                          "distributed.comm.tls.client.key": str(files["key"])}):
        assert cli.main(["run", str(sweep_file), *TINY, "--out", str(over_tls),
                         "--scheduler", tls_scheduler]) == 0
    assert_same(data_of(single), data_of(over_tls))


def test_a_tls_address_without_certificates_is_refused(tmp_path, sweep_file, capsys):
    line = _refused(tmp_path, sweep_file, capsys, "--scheduler", "tls://127.0.0.1:8786")
    assert line.startswith("--tls-ca-file, --tls-cert: a tls:// scheduler needs"), line


def test_the_options_override_dask_configuration(tmp_path, sweep_file, credentials, capsys):
    import dask

    with dask.config.set({"distributed.comm.tls.ca-file": "/nonexistent/ca.pem"}):
        # The configured CA is not looked at once --tls-ca-file is given ...
        files = credentials[0][1]
        target = cluster.check_scheduler("tls://127.0.0.1:8786", cluster.TlsOptions(
            str(files["ca"]), str(files["cert"]), str(files["key"])))
        assert target.source("tls_ca_file") == ("--tls-ca-file", str(files["ca"]))
        # ... and is named as Dask's configuration when it is used.
        line = _refused(tmp_path, sweep_file, capsys, "--scheduler", "tls://127.0.0.1:8786",
                        "--tls-cert", files["cert"])
    assert line == ("distributed.comm.tls.ca-file (Dask configuration): no such file "
                    "(got '/nonexistent/ca.pem')"), line


@pytest.mark.parametrize("option", ["--tls-ca-file", "--tls-cert", "--tls-key"])
def test_a_missing_certificate_file(tmp_path, sweep_file, credentials, capsys, option):
    args = dict(zip(["--tls-ca-file", "--tls-cert", "--tls-key"],
                    map(str, credentials[0][1].values()), strict=True))
    args[option] = str(tmp_path / "absent.pem")
    line = _refused(tmp_path, sweep_file, capsys, "--scheduler", "tls://127.0.0.1:8786",
                    *[x for pair in args.items() for x in pair])
    assert line == f"{option}: no such file (got {str(tmp_path / 'absent.pem')!r})", line


def test_a_file_that_is_not_a_certificate(tmp_path, sweep_file, credentials, capsys):
    files = credentials[0][1]
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n", encoding="utf-8")
    line = _refused(tmp_path, sweep_file, capsys, "--scheduler", "tls://127.0.0.1:8786",
                    "--tls-ca-file", files["ca"], "--tls-cert", junk, "--tls-key", files["key"])
    assert line.startswith("--tls-cert, --tls-key: the certificate and key cannot be loaded"), \
        line


@pytest.mark.parametrize("scheduler", ["tcp://127.0.0.1:8786", "local:1", None])
def test_tls_options_need_a_tls_address(tmp_path, sweep_file, credentials, capsys, scheduler):
    args = ["--tls-cert", credentials[0][1]["cert"]]
    if scheduler:
        args += ["--scheduler", scheduler]
    line = _refused(tmp_path, sweep_file, capsys, *args)
    got = f"--scheduler {scheduler}" if scheduler else "no --scheduler"
    assert line == f"--tls-cert: needs a tls://HOST:PORT --scheduler (got {got!r})", line


def test_plain_tcp_where_dask_requires_encryption(tmp_path, sweep_file, capsys):
    import dask

    with dask.config.set({"distributed.comm.require-encryption": True}):
        line = _refused(tmp_path, sweep_file, capsys, "--scheduler", "tcp://127.0.0.1:8786")
    assert line.startswith("--scheduler: is not encrypted but Dask's configuration requires")


@pytest.mark.parametrize("address", ["tcp://10.0.0.5:8786", "tcp://192.0.2.1:1",
                                     "tcp://[2001:db8::1]:8786"])
def test_plain_tcp_off_loopback_is_warned_about(address):
    assert cluster.plaintext_warning(address) == (
        f"--scheduler {address} is not encrypted or authenticated: anyone who can reach the "
        "port can run code on the workers and read the results; use tls:// with "
        'certificates (README "Running on a cluster")')


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "tcp://127.1.2.3:1",
                                     "tcp://localhost:8786", "tcp://LOCALHOST:1",
                                     "tcp://[::1]:8786", "tls://10.0.0.5:8786", "local:2",
                                     None])
def test_loopback_tls_and_local_are_not_warned_about(address):
    assert cluster.plaintext_warning(address) is None


def test_a_host_name_is_resolved(monkeypatch):
    def fake(host, port, *args, **kwargs):
        if host == "nowhere.invalid":
            raise socket.gaierror("no such name")
        ip = {"here": "127.0.0.1", "there": "10.0.0.5", "v6here": "::1"}[host]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, 0))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    assert cluster.plaintext_warning("tcp://here:8786") is None
    assert cluster.plaintext_warning("tcp://v6here:8786") is None
    assert cluster.plaintext_warning("tcp://there:8786") is not None
    assert cluster.plaintext_warning("tcp://nowhere.invalid:8786") is not None


def test_the_warning_is_printed_on_a_run(tmp_path, sweep_file, capsys, monkeypatch):
    def no_connection(*args, **kwargs):   # the warning comes first; no network needed
        raise ResultsError.one("--scheduler", "", "not connecting in this test",
                               has_got=False)

    monkeypatch.setattr(cluster, "open_client", no_connection)
    out = tmp_path / "r.h5"
    assert cli.main(["run", str(sweep_file), *TINY, "--out", str(out), "--scheduler",
                     "tcp://192.0.2.1:8786"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: " + cluster.plaintext_warning("tcp://192.0.2.1:8786"),
                   "--scheduler: not connecting in this test"], err


@pytest.mark.slow
@pytest.mark.parametrize("which, option, says", [
    ("ca", "--tls-ca-file", "certificate is not signed by this CA"),
    ("cert", "--tls-cert", "refused this client's certificate|closed the connection"),
], ids=["their-ca", "our-ca-their-cert"])
def test_a_client_of_another_ca_is_refused(tmp_path, sweep_file, credentials, tls_scheduler,
                                           capsys, monkeypatch, which, option, says):
    """Another CA's files: our check of the scheduler fails (``ca``: all three files of
    the other CA), or the scheduler's check of us does (``cert``: our CA, their cert)."""
    import re

    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 3)
    ours, theirs = credentials[0][1], credentials[1][1]
    files = theirs if which == "ca" else {"ca": ours["ca"], "cert": theirs["cert"],
                                          "key": theirs["key"]}
    started = time.time()
    line = _refused(tmp_path, sweep_file, capsys, "--scheduler", tls_scheduler,
                    *_options(files))
    assert time.time() - started < 20
    assert line.startswith(f"{option}: the scheduler {tls_scheduler}") and re.search(says,
                                                                                     line), line


@pytest.mark.slow
def test_plain_tcp_to_a_tls_scheduler_is_one_line(tmp_path, sweep_file, tls_scheduler, capsys,
                                                   monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 3)
    line = _refused(tmp_path, sweep_file, capsys, "--scheduler",
                    tls_scheduler.replace("tls://", "tcp://"))
    assert line.startswith("--scheduler: ") and "tls://" in line, line

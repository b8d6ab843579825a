"""Class 3 of issue 26: a local region run listens on this machine only.

A real LocalCluster from :func:`carecover.region.cluster.connect`: the scheduler, workers and
every HTTP port of the process tree listen on 127.0.0.1; without ``--dashboard`` no route
answers (no ``/info``, ``/json``, ``/status``); with it, the dashboard is on 127.0.0.1.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request

import pytest

pytest.importorskip("distributed", reason="the region extra (dask[distributed]) is not installed")
psutil = pytest.importorskip("psutil")


def _listening() -> list[tuple[str, int]]:
    procs = [psutil.Process(os.getpid()), *psutil.Process(os.getpid()).children(recursive=True)]
    out = []
    for p in procs:
        try:
            conns = p.net_connections(kind="inet")
        except psutil.Error:
            continue
        out += [(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN]
    return out


def _status(port: int, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=300) as r:  # a hang guard
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _http_ports(client) -> list[tuple[str, int]]:
    """The addresses the HTTP servers of the scheduler and the workers listen on."""
    found = list(client.run_on_scheduler(
        lambda dask_scheduler: [s.getsockname()[:2] for s in dask_scheduler.http_server._sockets.values()]))
    for addrs in client.run(lambda dask_worker: [s.getsockname()[:2]
                                                 for s in dask_worker.http_server._sockets.values()]).values():
        found += addrs
    return [tuple(a) for a in found]


def test_local_cluster_binds_127_0_0_1_and_serves_no_dashboard_by_default():
    from carecover.region import cluster

    before = set(_listening())
    with cluster.connect(1) as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        assert all(w.startswith("tcp://127.0.0.1:") for w in client.scheduler_info()["workers"])
        new = [(ip, port) for ip, port in _listening() if (ip, port) not in before]
        assert new and all(ip == "127.0.0.1" for ip, _ in new), new
        http = _http_ports(client)
        assert http and all(ip == "127.0.0.1" for ip, _ in http), http
        for _, port in http:
            for path in ("/info/main/workers.html", "/json/counts.json", "/status", "/eventstream"):
                assert _status(port, path) != 200, (port, path)
        text = cluster.dashboard_text(client)
        assert "127.0.0.1" in text and "this machine only" in text and "dashboard off" in text


def test_dashboard_on_request_is_on_127_0_0_1():
    pytest.importorskip("bokeh")
    from carecover.region import cluster

    before = set(_listening())
    with cluster.connect(1, dashboard=True) as client:
        assert all(ip == "127.0.0.1" for ip, port in _listening() if (ip, port) not in before)
        assert client.dashboard_link.startswith("http://127.0.0.1:")
        assert "dashboard: http://127.0.0.1:" in cluster.dashboard_text(client)

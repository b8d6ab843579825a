"""The Dask cluster a region run uses: a local one by default, or an existing one by address.

Dask 集群：默认在本机启动 LocalCluster，或连接已有调度器（tcp://host:8786）。

A local cluster listens on 127.0.0.1 only (scheduler and workers); its dashboard starts only
on request (``--dashboard``), also on 127.0.0.1, on a free port. The printed line says so.

``dask.distributed`` is imported here only, when a region run starts: everything else in
carecover works without the ``region`` extra.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from carecover.errors import CarecoverError, InputError

__all__ = ["connect", "dashboard_text", "check_workers", "DEFAULT_WORKERS", "MAX_WORKERS", "LOCAL_HOST"]

#: Worker processes of the local cluster when ``--workers`` is not given.
DEFAULT_WORKERS = 2
#: Most worker processes a local cluster starts (``--workers``).
MAX_WORKERS = 256
#: The only address a local cluster listens on.
LOCAL_HOST = "127.0.0.1"


def check_workers(workers: int | None) -> None:
    """Refuse a ``--workers`` that is not a whole number from 1 to :data:`MAX_WORKERS`.

    Parameters
    ----------
    workers
        As given (``None``: the default).

    Raises
    ------
    InputError
        Zero, negative, not whole, or above the limit.
    """
    if workers is None:
        return
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise InputError(f"--workers 须为 1 到 {MAX_WORKERS} 的整数 / --workers must be a whole number from 1 to "
                         f"{MAX_WORKERS}, not {workers!r}", field="--workers", expected=f"1 … {MAX_WORKERS}")


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise InputError("carecover region 需要 dask.distributed / needs dask.distributed: "
                         "pip install 'carecover[region]'", field="region", expected="dask[distributed]") from exc
    return distributed


@contextmanager
def connect(workers: int | None = None, scheduler: str | None = None, *, dashboard: bool = False) -> Iterator[Any]:
    """A ``distributed.Client`` for the run, closed (with its local cluster) afterwards.

    Parameters
    ----------
    workers
        Worker processes of the local cluster (one thread each: the routing is numpy/scipy
        work that holds the GIL in places, and one task per process keeps memory per task
        measurable).
    scheduler
        Address of an existing scheduler; ``workers`` is then ignored.
    dashboard
        Start the local cluster's dashboard (on 127.0.0.1, a free port); off by default.

    Raises
    ------
    CarecoverError
        When the scheduler cannot be reached (exit 3).
    """
    check_workers(workers)
    distributed = _distributed()
    cluster = None
    try:
        if scheduler:
            try:
                client = distributed.Client(scheduler, timeout="20s")
            except OSError as exc:
                raise CarecoverError(f"cannot reach the Dask scheduler {scheduler}: {exc} / 无法连接调度器") from exc
        else:
            cluster = _local_cluster(distributed, int(workers or DEFAULT_WORKERS), dashboard)
            client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def _local_cluster(distributed: Any, workers: int, dashboard: bool) -> Any:
    """A LocalCluster on 127.0.0.1 only: scheduler and workers, and the dashboard on request.

    The scheduler always runs an HTTP server; without a dashboard it listens on a free port of
    127.0.0.1 and serves no route (no ``/info``, ``/json`` or ``/eventstream``). A task is
    retried only when its worker dies (``allowed-failures``), never after an error it raised.
    """
    import dask

    from carecover.region.schedule import WORKER_DEATHS

    routes = dask.config.get("distributed.scheduler.http.routes") if dashboard else []
    # the workers' own logs are silenced (CRITICAL): a task's error reaches the client and is
    # shown once, as one line; a task is run again only when its worker dies
    with dask.config.set({"distributed.scheduler.http.routes": routes,
                          "distributed.scheduler.allowed-failures": WORKER_DEATHS}):
        return distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host=LOCAL_HOST,
                                        dashboard_address=f"{LOCAL_HOST}:0" if dashboard else None,
                                        scheduler_kwargs={"dashboard_address": f"{LOCAL_HOST}:0",
                                                          "dashboard": bool(dashboard)},
                                        silence_logs=logging.CRITICAL)


def dashboard_text(client: Any) -> str:
    """Where the scheduler listens and where the dashboard is (or that it is off)."""
    try:
        address = str(client.scheduler.address)
    except Exception:  # noqa: BLE001 - a client without a scheduler connection
        address = "?"
    local = f"://{LOCAL_HOST}:" in address
    where = "本机 / this machine only" if local else "网络 / reachable on the network"
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard (disabled, or bokeh missing)
        link = None
    if not dashboard_on(client) or not link or "None" in str(link):
        board = "仪表板未启用 / dashboard off (--dashboard)"
    else:
        board = f"仪表板 / dashboard: {link}"
    return f"Dask 调度器 / scheduler: {address} ({where}); {board}"


def dashboard_on(client: Any) -> bool:
    """Whether the client's dashboard link answers (the scheduler serves its dashboard)."""
    import urllib.error
    import urllib.request

    try:
        link = str(client.dashboard_link)
        with urllib.request.urlopen(link, timeout=5) as r:  # noqa: S310 - the scheduler's own http:// link
            return r.status == 200
    except (OSError, ValueError, urllib.error.URLError):
        return False

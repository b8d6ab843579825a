"""The Dask cluster a region run uses: a local one by default, or an existing one by address.

Dask 集群：默认在本机启动 LocalCluster，或连接已有调度器（tcp://host:8786）。

``dask.distributed`` is imported here only, when a region run starts: everything else in
carecover works without the ``region`` extra.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from carecover.errors import CarecoverError, InputError

__all__ = ["connect", "dashboard_text", "check_workers", "DEFAULT_WORKERS", "MAX_WORKERS"]

#: Worker processes of the local cluster when ``--workers`` is not given.
DEFAULT_WORKERS = 2
#: Most worker processes a local cluster starts (``--workers``).
MAX_WORKERS = 256


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
def connect(workers: int | None = None, scheduler: str | None = None, *, dashboard: bool = True) -> Iterator[Any]:
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
        Start the local cluster's dashboard (on a free port).

    Raises
    ------
    CarecoverError
        When the scheduler cannot be reached (exit 3).
    """
    check_workers(workers)
    distributed = _distributed()
    import dask

    from carecover.region.schedule import WORKER_DEATHS

    cluster = None
    try:
        if scheduler:
            try:
                client = distributed.Client(scheduler, timeout="20s")
            except OSError as exc:
                raise CarecoverError(f"cannot reach the Dask scheduler {scheduler}: {exc} / 无法连接调度器") from exc
        else:
            # the workers' own logs are silenced (CRITICAL): a task's error reaches the client
            # and is shown once, as one line; a task is run again only when its worker dies
            with dask.config.set({"distributed.scheduler.allowed-failures": WORKER_DEATHS}):
                cluster = distributed.LocalCluster(n_workers=workers or DEFAULT_WORKERS, threads_per_worker=1,
                                                   processes=True, dashboard_address=":0" if dashboard else None,
                                                   silence_logs=logging.CRITICAL)
            client = distributed.Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def dashboard_text(client: Any) -> str:
    """Where the dashboard is, or why there is none."""
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard (disabled, or bokeh missing)
        link = None
    if not link or "None" in str(link):
        return "Dask 仪表板未启用 / Dask dashboard off (needs bokeh; pip install bokeh)"
    return f"Dask 仪表板 / dashboard: {link}"

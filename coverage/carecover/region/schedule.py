"""Tasks on the cluster: only what the cache lacks is computed, progress as tasks finish.

在集群上调度任务：缓存中已有的任务不再计算；按完成情况显示进度。

A task is run again only when its worker dies mid-task (killed, out of memory): the scheduler
then runs it on another worker, up to :data:`WORKER_DEATHS` times (Dask's
``distributed.scheduler.allowed-failures``); tasks are pure functions of their spec, so the
result is identical. A task that raises (bad input) is never retried: its error stops the run
at once, one line, without the workers' tracebacks. The area merges run on the workers too
(:mod:`carecover.region.reduce`), reading their tasks' results from the cluster (or from the
cache, for tasks finished earlier), each as soon as its area's tasks end; only the merged
areas come back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carecover import utils
from carecover.region.cache import TaskCache, cached_run
from carecover.region.task import TaskSpec
from carecover.utils import log, progress

__all__ = ["Schedule", "submit_tasks", "wait_tasks", "load_cached", "WORKER_DEATHS"]

#: How many worker deaths a task survives (it is run again each time); an error it raises is
#: never retried.
WORKER_DEATHS = 3


@dataclass
class Schedule:
    """What was submitted: futures by task key, tasks found in the cache, timings."""

    futures: dict[str, Any]
    cached: list[str]
    total: int
    seconds: float = 0.0


def submit_tasks(client: Any, specs: Sequence[TaskSpec], cache: TaskCache, prepares: dict[str, tuple],
                 cache_dir: Path) -> Schedule:
    """Submit the tasks the cache lacks (each once, by its key), after the street arrays they
    are built from (each network file read once per area)."""
    from carecover.region.streets import prepare
    from carecover.region.task import read_group_demand

    futures, cached, ready = {}, [], {}
    for spec in specs:
        if cache.has(spec.key):
            cached.append(spec.key)
            continue
        deps = []
        if spec.streets is not None and not Path(spec.streets).is_file():
            if spec.streets not in ready:
                source, clip = prepares[spec.streets]
                ready[spec.streets] = client.submit(prepare, source, clip, spec.streets, cache_dir,
                                                    key=f"carecover-streets-{Path(spec.streets).name}", pure=False)
            deps.append(ready[spec.streets])
        group = "|".join(spec.group["name"].astype(str))
        if spec.params.cache is not False:
            # the group's residents once into the stage cache, before its tasks read them
            if group not in ready:
                ready[group] = client.submit(read_group_demand, spec, pure=False,
                                             key=f"carecover-demand-{spec.key[:24]}")
            deps.append(ready[group])
        futures[spec.key] = client.submit(cached_run, spec, cache.root, utils.QUIET, *deps, key=f"carecover-task-{spec.key[:24]}",
                                          pure=False)
    return Schedule(futures, cached, len(specs))


def wait_tasks(schedule: Schedule, on_done: Callable[[int, int], None] | None = None) -> Schedule:
    """Wait for every submitted task, showing ``done/total``; a task that failed for good
    raises its error here."""
    from distributed import as_completed

    t0 = time.perf_counter()
    done = len(schedule.cached)
    log(f"任务 / tasks: {schedule.total}（缓存 / from cache: {done}, 计算 / to compute: {len(schedule.futures)}）")
    for fut in progress(as_completed(list(schedule.futures.values())), "tasks", total=len(schedule.futures)):
        if fut.status == "error":
            fut.result()  # raises the task's own error
        done += 1
        log(f"  任务完成 / tasks done {done}/{schedule.total}")
        if on_done is not None:
            on_done(done, schedule.total)
    schedule.seconds = time.perf_counter() - t0
    return schedule


def load_cached(items: Sequence[Any], root: Path | None) -> list[Any]:
    """Task results: futures resolved by Dask, cache keys read from the cache."""
    cache = TaskCache(root)
    out = []
    for item in items:
        if isinstance(item, str):
            found = cache.get(item)
            if found is None:
                raise RuntimeError(f"task {item[:12]} vanished from the cache {root}")
            out.append(found)
        else:
            out.append(item)
    return out

"""Finished tasks on disk, keyed by the hash of their inputs and parameters.

已完成的任务按输入与参数的哈希保存在磁盘上；重跑只计算缺少的任务。

A task's key is the SHA-256 of the package's code, the area's parameters (input files by
content, :func:`carecover.plan.cache.params_fingerprint`), its group, clip polygons, tile,
neighbours and siting settings: equal inputs give equal keys on any machine. Results are
data-only files (:mod:`carecover.datastore`, no pickles) in ``<cache>/region/tasks/<key>.npz``,
in a private folder (0700), written atomically by the worker that computed them (a killed
worker leaves nothing half-written); any file may be deleted (the task is then computed
again). Each file carries its key: a damaged file, or one holding another key's result, is
recomputed with one line.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import shapely

from carecover import datastore
from carecover.params import RunParams
from carecover.plan.cache import code_fingerprint, params_fingerprint
from carecover.utils import file_sha256, log

__all__ = ["TaskCache", "task_key", "cached_run"]

#: Bump when the stored layout of task results changes in a way the code hash misses.
TASK_CACHE_VERSION = 2


def _wkb(geom: Any) -> str:
    return "" if geom is None else shapely.to_wkb(geom, hex=True)


def task_key(params: RunParams, parts: dict[str, Any], registers: tuple[Path, ...]) -> str:
    """The cache key of a task.

    Parameters
    ----------
    params
        The area's parameters, with local input files (hashed by content).
    parts
        Everything else that shapes the task (strings, numbers, geometries).
    registers
        The group's own registers (hashed by content).
    """
    plain = {k: (_wkb(v) if hasattr(v, "geom_type") else v) for k, v in sorted(parts.items())}
    text = json.dumps({"v": TASK_CACHE_VERSION, "code": code_fingerprint(), "params": params_fingerprint(params),
                       "registers": [file_sha256(p) for p in registers], "parts": plain},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class TaskCache:
    """Task results on disk (``root/<key>.npz``); ``root=None`` caches nothing."""

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root)

    def path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.npz"

    def has(self, key: str) -> bool:
        """Whether a usable entry is stored (a damaged or foreign one is not: it is recomputed)."""
        p = self.path(key)
        return p is not None and p.is_file() and self.get(key) is not None

    def get(self, key: str) -> Any:
        """The stored result, or ``None`` (absent or unreadable)."""
        p = self.path(key)
        if p is None or not p.is_file():
            return None
        try:
            return datastore.load(p, key)
        except (OSError, datastore.EntryError) as exc:
            log(f"区域任务缓存条目无效，重新计算 / task cache entry not used, recomputed ({exc}): {p}")
            return None

    def put(self, key: str, value: Any) -> None:
        p = self.path(key)
        if p is None:
            return
        try:
            datastore.save(p, value, key)
        except (OSError, TypeError) as exc:  # a full or read-only cache never fails the run
            log(f"区域任务未缓存 / task result not cached ({exc})")


def cached_run(spec: Any, root: Path | None, quiet: bool = False, *after: Any) -> Any:
    """Run a task on a worker: its stored result when there is one, else compute and store it
    (``quiet``: the client's ``--quiet``, which a worker process does not inherit; ``after``:
    results it waits for, such as its street arrays)."""
    import logging

    from carecover import logs, utils
    from carecover.region._sizes import register as register_sizes
    from carecover.region.task import run_task

    register_sizes()  # Dask then knows how large the result it keeps is
    utils.QUIET = quiet
    logs.console(logging.WARNING if quiet else logging.INFO)
    cache = TaskCache(root)
    found = cache.get(spec.key)
    if found is not None:
        return found
    result = run_task(spec)
    cache.put(spec.key, result)
    return result

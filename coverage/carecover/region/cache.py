"""Finished tasks on disk, keyed by the hash of their inputs and parameters.

已完成的任务按输入与参数的哈希保存在磁盘上；重跑只计算缺少的任务。

A task's key is the SHA-256 of the package's code, the area's parameters (input files by
content, :func:`carecover.plan.cache.params_fingerprint`), its group, clip polygons, tile,
neighbours and siting settings: equal inputs give equal keys on any machine. Results are
pickles in ``<cache>/region/tasks/<key>.pkl``, written atomically by the worker that computed
them (a killed worker leaves nothing half-written); any file may be deleted (the task is then
computed again) and a damaged one is ignored.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import shapely

from carecover.params import RunParams
from carecover.plan.cache import code_fingerprint, params_fingerprint
from carecover.utils import atomic_write, file_sha256

__all__ = ["TaskCache", "task_key", "cached_run"]

#: Bump when the pickled layout of task results changes in a way the code hash misses.
TASK_CACHE_VERSION = 1


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
    """Task results on disk (``root/<key>.pkl``); ``root=None`` caches nothing."""

    def __init__(self, root: Path | None) -> None:
        self.root = None if root is None else Path(root)

    def path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.pkl"

    def has(self, key: str) -> bool:
        p = self.path(key)
        return p is not None and p.is_file()

    def get(self, key: str) -> Any:
        """The stored result, or ``None`` (absent or unreadable)."""
        p = self.path(key)
        if p is None or not p.is_file():
            return None
        try:
            with open(p, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - a damaged entry is recomputed
            return None

    def put(self, key: str, value: Any) -> None:
        p = self.path(key)
        if p is None:
            return
        try:
            with atomic_write(p, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:  # a full or read-only cache never fails the run
            pass


def cached_run(spec: Any, root: Path | None, quiet: bool = False, *after: Any) -> Any:
    """Run a task on a worker: its stored result when there is one, else compute and store it
    (``quiet``: the client's ``--quiet``, which a worker process does not inherit; ``after``:
    results it waits for, such as its street arrays)."""
    import logging

    from carecover import logs, utils
    from carecover.region.task import run_task

    utils.QUIET = quiet
    logs.console(logging.WARNING if quiet else logging.INFO)
    cache = TaskCache(root)
    found = cache.get(spec.key)
    if found is not None:
        return found
    result = run_task(spec)
    cache.put(spec.key, result)
    return result

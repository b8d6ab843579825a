"""Timings of a run's stages: wall-clock and CPU seconds, recorded where the work is done.

:func:`step` times a block and hands a :class:`StageTime` to every :func:`recording` open in
the process (the plan's stage runner keeps one per run; a benchmark may hold one around a whole
command), so timings are read from the run itself and nothing is monkeypatched. A worker process
(:mod:`carecover.plan.background`) records its own and sends them back with its result
(:func:`add`, marked ``worker``). Nothing is recorded outside a :func:`recording`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

__all__ = ["StageTime", "add", "recording", "step"]

_OPEN: list[list[StageTime]] = []
_DEPTH = [0]


@dataclass(frozen=True)
class StageTime:
    """How long one stage (or a step inside one) took.

    Attributes
    ----------
    name
        The stage or step (``"travel"``, ``"routing street_centre (walk)"`` …).
    wall_s, cpu_s
        Wall-clock and CPU seconds of the process that did the work (CPU of every thread).
    depth
        0 for a stage, 1 for a step inside a stage, …
    cached
        Read back from the stage cache instead of computed.
    worker
        Done in a worker process beside the main one.
    """

    name: str
    wall_s: float
    cpu_s: float
    depth: int = 0
    cached: bool = False
    worker: bool = False

    def to_dict(self) -> dict:
        """The timing as plain values (``name``, ``wall_s``, ``cpu_s``, ``depth``, ``cached``, ``worker``)."""
        return {"name": self.name, "wall_s": self.wall_s, "cpu_s": self.cpu_s, "depth": self.depth,
                "cached": self.cached, "worker": self.worker}


@contextlib.contextmanager
def recording() -> Iterator[list[StageTime]]:
    """Collect the timings of every :func:`step` inside the block (in the order they end).

    Yields
    ------
    list of StageTime
        Filled while the block runs.
    """
    found: list[StageTime] = []
    _OPEN.append(found)
    try:
        yield found
    finally:  # this very list (lists compare by value: list.remove could take another)
        del _OPEN[next(i for i in range(len(_OPEN) - 1, -1, -1) if _OPEN[i] is found)]


class _Step:
    """What :func:`step` yields: mark the step as read from the cache."""

    cached = False


@contextlib.contextmanager
def step(name: str) -> Iterator[_Step]:
    """Time the block as one stage or step (nothing is kept without an open :func:`recording`).

    Parameters
    ----------
    name
        What the block does.

    Yields
    ------
    object
        Set its ``cached`` to ``True`` when the value was read from a cache.
    """
    mark = _Step()
    wall, cpu = time.perf_counter(), time.process_time()
    depth = _DEPTH[0]
    _DEPTH[0] += 1
    try:
        yield mark
    finally:
        _DEPTH[0] = depth
        if _OPEN:
            add([StageTime(name, time.perf_counter() - wall, time.process_time() - cpu, depth, mark.cached)])


def add(times: Iterable[StageTime], *, worker: bool = False) -> None:
    """Hand timings made elsewhere (a worker process) to the open recordings."""
    times = [replace(t, worker=True) if worker else t for t in times]
    for found in _OPEN:
        found.extend(times)


def depth() -> int:
    """How many steps enclose this point (0 at the top)."""
    return _DEPTH[0]

"""The stage runner: every stage of a plan runs through :meth:`StageRunner.run` (or
:meth:`StageRunner.start` for a branch in a worker process).

It times each stage (wall-clock and CPU seconds, :mod:`carecover.timing`), says what it is
doing through the ``carecover`` logger (:mod:`carecover.logs`: the stage's name as ``INFO``,
its seconds as ``DEBUG``) and, for the stages the stage cache keeps, reads their results back
from :class:`~carecover.plan.cache.StageCache` when their inputs and parameters are unchanged.
Its :attr:`~StageRunner.times` become :attr:`carecover.plan.result.Plan.timings`; benchmarks read
them (``scripts/bench_plan.py``), nothing is monkeypatched.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from carecover import timing
from carecover.logs import LOGGER
from carecover.params import RunParams
from carecover.plan import background
from carecover.plan.cache import StageCache

T = TypeVar("T")

#: Stages whose results the stage cache keeps (ARCHITECTURE.md, "Stage cache").
CACHED = frozenset({"facilities", "demand", "travel", "isochrones", "isochrones here", "figures", "access",
                    "gaps", "siting", "siting travel"})


class StageRunner:
    """Runs a plan's stages: timed, logged and, where the cache keeps them, cached.

    Parameters
    ----------
    params
        The run's parameters (cache folder, workers).
    cache
        The stage cache (:meth:`StageCache.of` ``params`` when not given).
    """

    def __init__(self, params: RunParams, cache: StageCache | None = None) -> None:
        self.params = params
        self.cache = StageCache.of(params) if cache is None else cache
        #: Every stage and step timed so far (in the order they ended).
        self.times: list[timing.StageTime] = []
        #: ``time.perf_counter()`` when the runner was made: the clock of :meth:`elapsed_s`.
        self.started = time.perf_counter()

    def elapsed_s(self) -> float:
        """Wall-clock seconds since the runner was made (a computation's ``runtime_s``, its
        "computed in" line)."""
        return time.perf_counter() - self.started

    def run(self, name: str, fn: Callable[..., T], *args: Any, label: str | None = None) -> T:
        """``fn(*args)`` as the stage ``name`` (from the stage cache when it keeps ``name``).

        Parameters
        ----------
        name
            The stage (a key of :data:`CACHED` for a cached stage).
        fn, args
            The stage function and its inputs.
        label
            A progress message logged (``INFO``) before the stage; none when not given (the
            stage's seconds are logged at ``DEBUG`` either way).
        """
        if label:
            LOGGER.info(label)
        with timing.recording() as found, timing.step(name) as mark:
            if name in CACHED:
                hits = len(self.cache.hits)
                value = self.cache.run(name, fn, *args)
                mark.cached = len(self.cache.hits) > hits
            else:
                value = fn(*args)
        self._took(found)
        return value

    def start(self, name: str, fn: Callable[..., T], *args: Any) -> Branch[T]:
        """The stage ``name`` as a branch in a worker process when the run has two workers
        (:func:`carecover.plan.background.start`), else in place now; ``result()`` gives its value."""
        with timing.recording() as found:  # a branch run in place is timed now
            if name in CACHED:
                job = self.cache.start(self.params.workers, name, fn, *args)
            else:
                job = background.start(self.params.workers, _timed, name, fn, *args)
        self._took(found)
        return Branch(self, job)

    def _took(self, found: list[timing.StageTime]) -> None:
        self.times.extend(found)
        if LOGGER.isEnabledFor(logging.DEBUG):
            for t in found:
                if t.depth == timing.depth():
                    how = " (缓存 / cached)" if t.cached else " (后台 / worker)" if t.worker else ""
                    LOGGER.debug(f"  {t.name}: {t.wall_s:.2f} s, CPU {t.cpu_s:.2f} s{how}")


def _timed(name: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` timed as the step ``name`` (where it runs: in a worker, sent back with the value)."""
    with timing.step(name):
        return fn(*args)


class Branch(Generic[T]):
    """A stage started by :meth:`StageRunner.start`."""

    def __init__(self, runner: StageRunner, job: Any) -> None:
        self._runner, self._job = runner, job

    def result(self) -> T:
        """The stage's value (waits for the worker); its timings join the runner's."""
        with timing.recording() as found:
            value = self._job.result()
        self._runner._took(found)
        return value

"""Work of a run done in a second process while the first goes on.

A plan has independent branches: the isochrone polygons are only drawn on the map and written
to the GeoPackage, so they can be contoured while the coverage figures, gaps and siting are
computed; the second map can be built while the tables and the first map are written. On a
machine with two or more cores :func:`start` forks a worker process for such a branch and
:meth:`Job.result` collects its value; with one worker (``--workers 1``, or one core) the
branch runs in place, at the point it is started.

The result is the same either way, byte for byte: the worker runs the same function on the
same inputs (a fork shares the parent's memory as it was at the start), its value comes back
pickled, and the warnings it raised are put into the run's notices at the place the branch was
started, in the order the worker raised them (they were already shown on the console by the
worker).

The parent's objects are frozen out of the garbage collector's reach for each fork (the
worker's collections would otherwise walk, and so copy, the parent's whole heap); inside
:func:`long_lived` what a run keeps is also left out of the parent's later full collections.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import pickle
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from carecover import notices, timing, utils

T = TypeVar("T")

_RUNNING: list[Job] = []
_LONG_LIVED = [0]  # how many long_lived() blocks are open


def default_workers() -> int:
    """Processes a run uses by default: two when the machine gives this process two cores."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


class Job(Generic[T]):
    """One branch of work: running in a forked worker, or already done in place."""

    def __init__(self, fn: Callable[..., T], args: tuple, kwargs: dict, workers: int) -> None:
        self._at = len(notices.current())
        self._value: Any = None
        self._error: BaseException | None = None
        self._proc = None
        #: Whether a worker process computes the value (else it was computed in place).
        self.forked = False
        if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            try:
                self._value = fn(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001 - raised where the value is asked for (Ctrl-C: now)
                self._error = exc
            self._done = True
            return
        ctx = multiprocessing.get_context("fork")
        self._conn, child = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_work, args=(child, fn, args, kwargs), daemon=True)
        # the parent's objects moved out of the collector's reach for the fork: the worker's
        # collections then skip them instead of touching (and so copying) every page of the
        # parent's heap; this process takes them back at once (unless they were frozen before)
        frozen = gc.get_freeze_count()
        gc.freeze()
        try:
            self._proc.start()
        finally:
            if not frozen and not _LONG_LIVED[0]:
                gc.unfreeze()
        self.forked = True
        child.close()
        self._done = False
        _RUNNING.append(self)

    def result(self, *, notices_here: bool = False) -> T:
        """The branch's value (waits for the worker); its exception is raised here.

        The worker's warnings go into the run's notices where the branch was started, or here
        with ``notices_here`` (a branch that would have run last).
        """
        if not self._done:
            try:
                found, times = self._conn.recv()
                data = self._conn.recv_bytes()
            except EOFError:  # killed (out of memory?) before it could answer
                self._proc.join()
                found, times, data = [], [], None
            self._proc.join()
            self._conn.close()
            _RUNNING.remove(self)
            self._done = True
            notices.insert(found, len(notices.current()) if notices_here else self._at)
            timing.add(times, worker=True)
            if data is None:
                ok, payload = False, RuntimeError(f"后台进程意外退出 / a worker process ended without a result "
                                                  f"(exit code {self._proc.exitcode})")
            else:
                with timing.step("worker result read"):  # the worker's result unpickled, timed here
                    ok, payload = pickle.loads(data)
            if ok:
                self._value = payload
            else:
                self._error = payload
        if self._error is not None:
            raise self._error
        return self._value

    def cancel(self) -> None:
        """Stop the worker (the run failed elsewhere)."""
        if self._proc is not None and self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        with contextlib.suppress(ValueError):
            _RUNNING.remove(self)
        self._done = True


def _work(conn, fn: Callable, args: tuple, kwargs: dict) -> None:
    """The worker: run ``fn`` under its own notice collection and send back the notices and the
    timings (:mod:`carecover.timing`) it recorded, then the outcome pickled (its pickling timed as
    the step ``worker result sent``, its unpickling in the parent as ``worker result read``)."""
    utils.BARS = False  # one progress bar at a time on the console: the parent's
    with notices.collect(echo=True) as found, timing.recording() as times:
        try:
            outcome = (True, fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
            outcome = (False, _portable(exc))
        with timing.step("worker result sent"):
            try:
                data = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # noqa: BLE001 - an unpicklable value
                data = pickle.dumps((False, RuntimeError(f"worker result could not be sent back: {exc!r}")))
    conn.send((list(found), list(times)))
    conn.send_bytes(data)
    conn.close()
    os._exit(0)  # no atexit handlers or finalizers of the parent's objects in the fork


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError carrying its text and traceback."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        text = "".join(traceback.format_exception(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}\n{text}")


def start(workers: int, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Job[T]:
    """Run ``fn(*args, **kwargs)`` in a forked worker when ``workers`` ≥ 2, else in place now.

    Parameters
    ----------
    workers
        Processes the run may use (``RunParams.workers``).
    fn, args, kwargs
        The branch: a function of inputs that are not changed until its result is asked for.

    Returns
    -------
    Job
        Ask :meth:`Job.result` for the value.
    """
    return Job(fn, args, kwargs, workers)


@contextlib.contextmanager
def jobs() -> Iterator[None]:
    """Stop the workers still running when the block ends (a run that failed or was interrupted)."""
    try:
        yield
    finally:
        for job in list(_RUNNING):
            job.cancel()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """A run's block in which :func:`settle` (and each worker's start) moves the objects alive into
    the collector's permanent generation; they are handed back when the outermost block ends.

    A run keeps its networks, demand, travel times and results to the end, yet each full
    collection of the cyclic garbage collector walked every one of them again (about a million
    objects at Hohhot scale, ~2 s of CPU in all); settled, the collector only walks what is new.
    Objects settled are still freed as soon as nothing refers to them.
    """
    _LONG_LIVED[0] += 1
    try:
        yield
    finally:
        _LONG_LIVED[0] -= 1
        if not _LONG_LIVED[0]:
            gc.unfreeze()  # back to the collector: cycles made unreachable meanwhile are collected


def settle() -> None:
    """Inside :func:`long_lived`: the objects alive now are left out of later full collections."""
    if _LONG_LIVED[0]:
        gc.freeze()

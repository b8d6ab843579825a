"""Work done in a worker process (plan/background.py): the same value, the same notices in the
same place, the same errors, as doing it in place."""

from __future__ import annotations

import gc
import os
import time

import numpy as np
import pytest
from carecover import logs, notices, timing
from carecover.errors import InputError
from carecover.plan import background


def _value(n: int) -> dict:
    rng = np.random.default_rng(n)
    return {"pid": os.getpid(), "x": rng.random(n)}


def _warns(n: int) -> int:
    notices.warn("first", f"first {n}")
    notices.warn("second", f"second {n}")
    return n


def _fails(path: str) -> None:
    raise InputError("bad value / 值有误", file=path, row=7, field="capacity", expected="a number")


def _dies() -> None:
    os._exit(9)


def _frozen() -> int:
    return gc.get_freeze_count()


def _sleeps() -> None:
    time.sleep(60)


class TestSameAsInPlace:
    @pytest.mark.parametrize("workers", [1, 2])
    def test_value(self, workers):
        job = background.start(workers, _value, 1000)
        got = job.result()
        assert np.array_equal(got["x"], _value(1000)["x"])
        assert (got["pid"] == os.getpid()) == (workers == 1)  # 2: computed in another process

    @pytest.mark.parametrize("workers", [1, 2])
    def test_notices_where_the_branch_started(self, workers, capfd):
        logs.console()  # the command line's console (a library shows nothing unless logging is set up)
        try:
            with notices.collect() as found:
                notices.warn("before", "before")
                job = background.start(workers, _warns, 3)
                notices.warn("after", "after")
                notices.warn("second", "second 3")  # also raised by the branch: recorded once, there
                assert job.result() == 3
        finally:
            logs.remove_console()
        assert [n.code for n in found] == ["before", "first", "second", "after"]
        # the branch's own notice shown on the console once (by the process that raised it)
        err = capfd.readouterr().err
        assert err.count("first 3") == 1 and err.count("before") == 1

    def test_notices_here(self):
        with notices.collect() as found:
            job = background.start(2, _warns, 4)
            notices.warn("parent", "parent")
            job.result(notices_here=True)
        assert [n.code for n in found] == ["parent", "first", "second"]

    @pytest.mark.parametrize("workers", [1, 2])
    def test_error_keeps_file_row_and_field(self, workers):
        job = background.start(workers, _fails, "register.csv")
        with pytest.raises(InputError) as err:
            job.result()
        assert (err.value.file, err.value.row, err.value.field) == ("register.csv", 7, "capacity")


class TestWorkerFailures:
    def test_a_worker_that_dies_is_an_error_not_a_hang(self):
        job = background.start(2, _dies)
        with pytest.raises(RuntimeError, match="exit code 9"):
            job.result()

    def test_jobs_block_stops_unfinished_workers(self):
        with pytest.raises(KeyboardInterrupt), background.jobs():
            job = background.start(2, _sleeps)
            proc = job._proc
            assert proc.is_alive()
            raise KeyboardInterrupt
        assert not proc.is_alive()

    def test_default_workers(self):
        assert background.default_workers() == (2 if len(os.sched_getaffinity(0)) >= 2 else 1)


class TestWorkerStart:
    def test_the_parents_objects_are_frozen_in_the_worker_only(self):
        keep = [[i] for i in range(1000)]  # objects the collector tracks, made before the fork
        before = gc.get_freeze_count()
        job = background.start(2, _frozen)
        assert gc.get_freeze_count() == before  # this process collects its own objects as before
        assert job.result() >= before + len(keep)  # the worker's collections skip the parent's

    def test_the_results_transfer_is_timed(self):
        with timing.recording() as times:
            got = background.start(2, _value, 1000).result()
        assert np.array_equal(got["x"], _value(1000)["x"])
        names = [(t.name, t.worker) for t in times]
        assert ("worker result sent", True) in names and ("worker result read", False) in names


class TestLongLived:
    def test_settled_objects_are_handed_back_when_the_block_ends(self):
        keep = [[i] for i in range(1000)]
        assert gc.get_freeze_count() == 0
        background.settle()  # outside a block: nothing is settled
        assert gc.get_freeze_count() == 0
        with background.long_lived():
            with background.long_lived():
                background.settle()
                assert gc.get_freeze_count() >= len(keep)
            assert gc.get_freeze_count() >= len(keep)  # still inside the outer block
        assert gc.get_freeze_count() == 0

    def test_a_worker_started_inside_settles_what_is_alive(self):
        keep = [[i] for i in range(1000)]
        with background.long_lived():
            job = background.start(2, _frozen)
            assert gc.get_freeze_count() >= len(keep)
            assert job.result() >= len(keep)
        assert gc.get_freeze_count() == 0

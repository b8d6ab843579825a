"""Freed heap memory goes back to the operating system (glibc), so stages do not stack peaks."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from carecover import memory


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._trim() is None,
                    reason="malloc_trim is glibc's (Linux)")
def test_freed_small_blocks_are_returned():
    """200 MB in 2 KB arrays (the heap, not mmap), all freed but the last (which pins the top
    of the heap, so free() alone cannot shrink it): the resident size drops once released."""
    blocks = [np.ones(256) for _ in range(100_000)]
    last = blocks[-1]
    del blocks
    before = _rss_mb()
    assert memory.release_freed() is True
    assert _rss_mb() < before - 100, (before, _rss_mb())
    assert last.sum() == 256


def test_without_the_c_library_nothing_is_attempted(monkeypatch):
    monkeypatch.setattr(memory, "_trim", lambda: None)
    assert memory.release_freed() is False

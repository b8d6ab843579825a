"""Giving freed memory back to the operating system between the plan's heavy stages.

A city-wide stage (the isochrones: street samples, grids of contour values, millions of outline
vertices) allocates and frees hundreds of MB in pieces small enough for the C allocator's heap.
glibc keeps such freed pages in the process (the resident size stays at the stage's peak)
until ``malloc_trim`` returns them, so the next heavy stage (the township reach matrix) adds
its own peak on top. Elsewhere (macOS, Windows, musl) this is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import lru_cache

__all__ = ["release_freed"]


@lru_cache(maxsize=1)
def _trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def release_freed() -> bool:
    """Return the heap's free pages to the operating system (glibc ``malloc_trim(0)``).

    Returns
    -------
    bool
        Whether the C library has ``malloc_trim`` (and so whether anything was attempted).
    """
    trim = _trim()
    if trim is None:
        return False
    trim(0)
    return True

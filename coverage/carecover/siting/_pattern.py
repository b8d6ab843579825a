"""The reach pattern of a prepared state stored as small steps (one byte per entry, mostly).

Used by :mod:`carecover.siting.state`; kept apart so that module stays a readable size.
"""

from __future__ import annotations

import numpy as np

__all__ = ["encode_pattern", "decode_pattern"]

#: Steps of this size or more are stored in ``reach_step_big``.
_BIG_STEP = 255
#: Entries encoded at a time by :func:`encode_pattern`.
_BLOCK = 1 << 22


def encode_pattern(indptr: np.ndarray, indices: np.ndarray, block: int = _BLOCK) -> dict[str, np.ndarray]:
    """The column indices of a CSR pattern (sorted within rows) as small steps.

    Within each row, a step is the column minus the previous column (minus -1 for the row's
    first entry), so every step is >= 1. Steps below 255 are one byte each in ``reach_step``;
    a 255 there means "the step is the next value of ``reach_step_big``". A catchment is mostly
    runs of neighbouring demand points (steps of 1), which then compress to almost nothing.
    The steps are worked out ``block`` entries at a time (the same bytes for any ``block``).

    Returns
    -------
    dict
        ``reach_step`` (uint8, one per entry) and ``reach_step_big`` (uint32).
    """
    cols = np.asarray(indices)
    n = len(cols)
    small = np.empty(n, np.uint8)
    big = []
    starts = np.asarray(indptr[:-1], dtype=np.int64)
    starts = starts[starts < n]
    # a block of entries at a time: the int64 steps of one block, not of tens of millions of entries
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        step = np.empty(hi - lo, np.int64)
        step[0] = cols[lo] + 1 if lo == 0 else int(cols[lo]) - int(cols[lo - 1])
        np.subtract(cols[lo + 1:hi], cols[lo:hi - 1], out=step[1:], dtype=np.int64)
        first = starts[np.searchsorted(starts, lo):np.searchsorted(starts, hi)]
        step[first - lo] = cols[first].astype(np.int64) + 1
        big.append(step[step >= _BIG_STEP].astype(np.uint32))
        np.minimum(step, _BIG_STEP, out=step)
        small[lo:hi] = step
    return {"reach_step": small,
            "reach_step_big": np.concatenate(big) if big else np.zeros(0, np.uint32)}


def decode_pattern(indptr: np.ndarray, reach_step: np.ndarray, reach_step_big: np.ndarray) -> np.ndarray:
    """Column indices from :func:`encode_pattern`'s steps (numpy only)."""
    step = np.asarray(reach_step, dtype=np.int64)
    step[step == _BIG_STEP] = reach_step_big
    total = np.cumsum(step)
    indptr = np.asarray(indptr, dtype=np.int64)
    before = np.where(indptr[:-1] > 0, total[np.maximum(indptr[:-1] - 1, 0)], 0) if len(total) else \
        np.zeros(len(indptr) - 1, np.int64)
    return total - np.repeat(before, np.diff(indptr)) - 1

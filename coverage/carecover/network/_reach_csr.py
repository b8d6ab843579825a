"""The reach matrix's CSR parts from chunks of rows routed in any order (used by
:func:`carecover.network.engine.reach_matrix`): rows copied into place chunk by chunk, each chunk
freed once placed, and the same-segment routes merged in row by row, so that the peak is the
matrix and a chunk rather than several copies of it (30 million entries for a township drive).
"""

from __future__ import annotations

import numpy as np

from carecover.memory import release_freed

__all__ = ["merge_extra", "row_major"]


#: Bytes of placed chunks after which :func:`row_major` gives the freed pages back.
_RELEASE_EVERY = 32 << 20


def row_major(rows: list, cols: list, vals: list, ns: int, nt: int,
               extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR parts (``indptr``, columns, values) from chunks in any order; the lists are emptied.

    ``rows`` holds per chunk its sources (ascending) and their entry counts; ``cols``/``vals``
    their entries source by source. Every row comes whole from one chunk with its columns
    ascending, so the rows are only copied into place as slices (no sort, no scatter), chunk by
    chunk, each chunk freed once placed: the peak is the matrix and one chunk, not two matrices.
    ``extra`` (rows, columns, seconds; sorted by row, then column) are merged in: the faster
    where the row has the column, else inserted in column order.
    """
    index = np.int32 if nt < 2**31 and ns < 2**31 else np.int64
    counts = np.zeros(ns, np.int64)
    where: dict[int, tuple[int, int, int]] = {}  # row -> (chunk, start, end) of each row with entries
    for k, (R, n) in enumerate(rows):
        end = np.cumsum(n)
        counts[R] = n
        has = np.flatnonzero(n)
        where.update(zip(R[has].tolist(), zip([k] * len(has), (end - n)[has].tolist(), end[has].tolist(),
                                                strict=True), strict=True))
    rows.clear()
    if extra is not None and len(extra[0]):
        merge_extra(where, cols, vals, counts, extra, index)
    indptr = np.zeros(ns + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    C, V = np.empty(int(indptr[-1]), index), np.empty(int(indptr[-1]))
    by_chunk: dict[int, list] = {}
    for r, (k, a, b) in where.items():
        by_chunk.setdefault(k, []).append((r, a, b))
    freed = 0
    for k in sorted(by_chunk):
        ck, vk = cols[k], vals[k]
        for r, a, b in by_chunk[k]:
            C[indptr[r]:indptr[r + 1]] = ck[a:b]
            V[indptr[r]:indptr[r + 1]] = vk[a:b]
        cols[k] = vals[k] = None  # placed: freed before the next chunk's rows touch C and V
        freed += ck.nbytes + vk.nbytes
        del ck, vk
        if freed > _RELEASE_EVERY:  # the heap keeps freed chunks resident until trimmed
            release_freed()
            freed = 0
    cols.clear()
    vals.clear()
    return indptr, C, V


def merge_extra(where: dict, cols: list, vals: list, counts: np.ndarray,
                 extra: tuple[np.ndarray, np.ndarray, np.ndarray], index: type) -> None:
    """Merge the ``extra`` entries into their rows: the faster seconds in place where the row
    has the column; a row that gains columns becomes a chunk of its own (appended to
    ``cols``/``vals``; ``where`` and ``counts`` updated)."""
    r2, c2, v2 = extra
    bounds = np.flatnonzero(np.r_[True, r2[1:] != r2[:-1], True])
    for g in range(len(bounds) - 1):
        lo, hi = bounds[g], bounds[g + 1]
        r, c, v = int(r2[lo]), c2[lo:hi], v2[lo:hi]
        if r in where:
            k, a, b = where[r]
            rc, rv = cols[k][a:b], vals[k][a:b]  # (views: the chunk's own arrays)
        else:
            rc, rv = np.zeros(0, index), np.zeros(0)
        pos = np.searchsorted(rc, c)
        found = (pos < len(rc)) & (rc[np.minimum(pos, len(rc) - 1)] == c) if len(rc) else np.zeros(len(c), bool)
        rv[pos[found]] = np.minimum(rv[pos[found]], v[found])
        if not found.all():  # (new arrays: the chunk's slice is no longer read)
            cols.append(np.insert(rc, pos[~found], c[~found].astype(index)).astype(index, copy=False))
            vals.append(np.insert(rv, pos[~found], v[~found]))
            where[r] = (len(cols) - 1, 0, len(cols[-1]))
            counts[r] = len(cols[-1])

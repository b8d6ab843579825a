"""The reach matrix's CSR assembled from chunks of rows (any order) with the same-segment routes
merged in: against a dense matrix built entry by entry."""

from __future__ import annotations

import numpy as np
import pytest
from carecover.network._reach_csr import row_major


def _chunks(rng, dense: np.ndarray, n_chunks: int):
    """The dense matrix's rows dealt into chunks in a random order (each chunk's rows ascending)."""
    ns = dense.shape[0]
    deal = rng.integers(0, n_chunks, ns)
    order = rng.permutation(n_chunks)
    rows, cols, vals = [], [], []
    for k in order:
        R = np.flatnonzero(deal == k)
        if len(R) == 0:
            continue
        sub = dense[R]
        r, c = np.nonzero(np.isfinite(sub))
        rows.append((R, np.bincount(r, minlength=len(R))))
        cols.append(c.astype(np.int32))
        vals.append(sub[r, c])
    return rows, cols, vals


@pytest.mark.parametrize("seed", range(10))
def test_chunks_and_same_segment_routes_make_the_dense_matrix(seed):
    rng = np.random.default_rng(seed)
    ns, nt = 23, 57
    dense = np.where(rng.random((ns, nt)) < 0.3, rng.random((ns, nt)) * 100, np.inf)
    dense[rng.integers(0, ns, 3)] = np.inf  # rows without endpoint routes
    # same-segment routes: some on entries the row has (faster or slower), some new
    n_extra = 40
    r2, c2 = rng.integers(0, ns, n_extra), rng.integers(0, nt, n_extra)
    v2 = rng.random(n_extra) * 100
    k2 = np.unique(r2.astype(np.int64) * nt + c2)
    r2, c2, v2 = k2 // nt, k2 % nt, rng.random(len(k2)) * 100
    want = dense.copy()
    want[r2, c2] = np.minimum(want[r2, c2], v2)
    rows, cols, vals = _chunks(rng, dense, 6)
    indptr, C, V = row_major(rows, cols, vals, ns, nt, (r2, c2, v2))
    assert rows == [] and cols == [] and vals == []
    assert C.dtype == np.int32 and V.dtype == np.float64
    got = np.full((ns, nt), np.inf)
    for i in range(ns):
        seg = C[indptr[i]:indptr[i + 1]]
        assert (np.diff(seg) > 0).all()  # columns ascending, no duplicates
        got[i, seg] = V[indptr[i]:indptr[i + 1]]
    np.testing.assert_array_equal(got, want)


def test_no_chunks_and_only_same_segment_routes():
    r2, c2, v2 = np.array([0, 0, 2]), np.array([1, 4, 0]), np.array([3.0, 1.0, 2.0])
    indptr, C, V = row_major([], [], [], 3, 5, (r2, c2, v2))
    np.testing.assert_array_equal(indptr, [0, 2, 2, 3])
    np.testing.assert_array_equal(C, [1, 4, 0])
    np.testing.assert_array_equal(V, [3.0, 1.0, 2.0])
    indptr, C, V = row_major([], [], [], 3, 5)
    assert len(C) == len(V) == 0 and (indptr == 0).all()

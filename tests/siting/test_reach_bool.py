"""Reach matrices as boolean CSR: the direct path for a canonical matrix equals the general one."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.siting.reach import as_bool_csr


def _general(coverage) -> sp.csr_matrix:
    """The normalisation written out step by step (copy, drop zeros, sum duplicates, sort)."""
    m = sp.csr_matrix(coverage, copy=True)
    m.data = m.data != 0
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    return m.astype(bool)


def _assert_same(a: sp.csr_matrix, b: sp.csr_matrix) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype == bool
    for name in ("indptr", "indices", "data"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)


@pytest.mark.parametrize("seed", range(4))
def test_canonical_and_other_forms_give_the_same_bool_matrix(seed):
    rng = np.random.default_rng(seed)
    secs = np.where(rng.random((20, 500)) < 0.3, rng.uniform(0, 900, (20, 500)) + 1e-9, 0.0)
    canonical = sp.csr_matrix(secs)
    with_zero = canonical.copy()
    with_zero.data[::7] = 0.0  # explicit zeros: not an entry
    unsorted = canonical.copy()
    for r in range(unsorted.shape[0]):  # columns in reverse within each row
        a, b = unsorted.indptr[r], unsorted.indptr[r + 1]
        unsorted.indices[a:b] = unsorted.indices[a:b][::-1].copy()
        unsorted.data[a:b] = unsorted.data[a:b][::-1].copy()
    unsorted.has_sorted_indices = False
    for m in (canonical, with_zero, unsorted, canonical.tocoo(), secs):
        _assert_same(as_bool_csr(m), _general(sp.csr_matrix(m)))
    out = as_bool_csr(canonical)
    out.indices[:] = 0  # the result never shares the input's arrays
    assert canonical.indices.max() > 0


@pytest.mark.parametrize("seed", range(4))
def test_pattern_of_a_reach_matrix_shares_its_arrays(seed):
    """The plan's state keeps the pattern of the reach matrix without a copy of its columns."""
    from carecover.siting.reach import pattern_of

    rng = np.random.default_rng(seed)
    m = sp.random(30, 500, density=0.2, format="csr", random_state=seed)
    m.data[:] = rng.random(m.nnz) * 900 + 1e-9  # seconds + 1e-9: every entry truthy
    p = pattern_of(m)
    _assert_same(p, as_bool_csr(m))
    assert p.indices is m.indices or np.shares_memory(p.indices, m.indices)
    # anything else (an explicit zero, unsorted columns) is normalised, not shared
    z = m.copy()
    z.data[0] = 0.0
    _assert_same(pattern_of(z), as_bool_csr(z))
    assert not np.shares_memory(pattern_of(z).indices, z.indices)

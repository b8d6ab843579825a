"""Marginal gains on the model's gain matrix (demand that can still gain only) equal those on A."""

from __future__ import annotations

import numpy as np
import pytest
from carecover.siting.greedy import gains_of, online_bound
from carecover.siting.model import MaximalCovering


@pytest.mark.parametrize("seed", range(8))
def test_gains_bit_for_bit_as_on_the_whole_matrix(make_instance, seed):
    rng, A, w, c0, xy, groups = make_instance(seed, n_cand=15, n_dem=400, density=0.3)
    w[rng.random(len(w)) < 0.1] = 0.0  # demand without weight cannot gain either
    w = w + rng.random(len(w))  # non-integral weights: any reordering of the sums would show
    model = MaximalCovering.from_reach_matrix(A, w, 3, covered0=c0)
    G = model.gain_matrix
    assert G.nnz < model.A.nnz and not (~model.active[G.indices]).any()
    covered = ~model.active
    for _ in range(4):
        want = model.A.astype(np.float64) @ np.where(covered, 0.0, w)
        np.testing.assert_array_equal(gains_of(model, covered), want)
        covered = covered | (rng.random(len(w)) < 0.3)
    # a mask that leaves weight on demand already covered is summed on A, as before
    odd = np.zeros(len(w), bool)
    np.testing.assert_array_equal(gains_of(model, odd), model.A.astype(np.float64) @ w)
    assert online_bound(model, odd, 0.0) > online_bound(model, ~model.active, 0.0)


@pytest.mark.parametrize("seed", range(4))
def test_gain_matrix_is_a_with_only_active_columns(make_instance, seed):
    """The same CSR arrays (and dtypes) as ``A`` in float64 with the inactive entries eliminated."""
    rng, A, w, c0, xy, groups = make_instance(seed, n_cand=15, n_dem=400, density=0.3)
    w[rng.random(len(w)) < 0.1] = 0.0
    model = MaximalCovering.from_reach_matrix(A, w, 3, covered0=c0)
    want = model.A.astype(np.float64)
    want.data[~model.active[want.indices]] = 0.0
    want.eliminate_zeros()
    got = model.gain_matrix
    assert got.shape == want.shape
    for part in ("indptr", "indices", "data"):
        a, b = getattr(got, part), getattr(want, part)
        assert a.dtype == b.dtype, part
        np.testing.assert_array_equal(a, b)


def test_gain_matrix_of_a_large_matrix_allocates_no_float_copy_of_it():
    """Built from the kept entries only: less than two bytes an entry of ``A`` at its peak (a
    float64 copy of ``A`` first would be twelve: 30 million entries at Hohhot scale, 360 MB)."""
    import tracemalloc

    import scipy.sparse as sp

    rng = np.random.default_rng(3)
    n_cand, n_dem, per_row = 40, 200_000, 50_000
    cols = np.sort(np.stack([rng.choice(n_dem, per_row, replace=False) for _ in range(n_cand)]), axis=1)
    A = sp.csr_matrix((np.ones(cols.size, bool), cols.ravel().astype(np.int32),
                       np.arange(0, cols.size + 1, per_row)), shape=(n_cand, n_dem))
    c0 = rng.random(n_dem) < 0.98  # most demand already covered (as for the township tier)
    model = MaximalCovering.from_reach_matrix(A, np.ones(n_dem), 3, covered0=c0)
    tracemalloc.start()
    try:
        G = model.gain_matrix
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < G.nnz < A.nnz // 20
    assert peak < 2 * A.nnz, peak

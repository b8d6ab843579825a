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

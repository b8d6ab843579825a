"""Each demand point's time once the chosen sites open (the planned scenario's times)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.plan.siting import time_after


def _one_by_one(time_s, reach, chosen):
    """Column by column: the fastest chosen site that reaches the point, else the time before."""
    out = np.asarray(time_s, float).copy()
    R = reach.toarray()
    for c in range(R.shape[1]):
        vals = [R[j, c] for j in chosen if R[j, c] > 0]
        if vals:
            out[c] = min(out[c], min(vals) - 1e-9)
    return out


@pytest.mark.parametrize("seed", range(6))
def test_time_after_matches_column_by_column(seed):
    rng = np.random.default_rng(seed)
    n_sites, n_dem = 12, 300
    mask = rng.random((n_sites, n_dem)) < 0.2
    secs = np.where(mask, rng.uniform(0.0, 900.0, (n_sites, n_dem)), 0.0)
    secs[mask & (rng.random((n_sites, n_dem)) < 0.05)] = 0.0  # a site on the point itself
    reach = sp.csr_matrix(np.where(mask, secs + 1e-9, 0.0))
    time_s = np.where(rng.random(n_dem) < 0.5, rng.uniform(0.0, 1200.0, n_dem), np.inf)
    for chosen in ([], [3], [0, 5, 7], list(rng.permutation(n_sites)[:6]), [2, 2]):
        got = time_after(time_s, reach, chosen)
        np.testing.assert_array_equal(got, _one_by_one(time_s, reach, chosen))

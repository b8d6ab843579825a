"""A plan's what-if state keeps the reach pattern and the chosen rows' seconds only: who serves
whom after the plan (``plan/serves.py``) and the state file are those of the full matrix."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from carecover.plan import serves
from carecover.siting.reach import pattern_of
from carecover.siting.state import TierState, state_arrays


def _state(reach: sp.csr_matrix, chosen: np.ndarray, pattern: bool) -> TierState:
    n_cand, n_dem = reach.shape
    existing = sp.csr_matrix((2, n_dem))
    return TierState(existing, pattern_of(reach) if pattern else reach, np.ones(n_dem), np.ones(n_dem),
                     np.ones(2, bool), np.zeros(n_cand), np.zeros(n_cand), np.arange(n_cand),
                     np.array([f"c{i}" for i in range(n_cand)]), chosen, {},
                     chosen_reach=reach[chosen] if pattern else None)


def test_pattern_state_serves_as_the_full_one():
    rng = np.random.default_rng(5)
    n_cand, n_dem = 40, 3000
    reach = sp.random(n_cand, n_dem, density=0.05, format="csr", random_state=5)
    reach.data[:] = rng.random(reach.nnz) * 900 + 1e-9
    chosen = np.array([7, 3, 31], np.int64)  # the solver's order, not ascending
    now = np.where(rng.random(n_dem) < 0.5, rng.random(n_dem) * 1200, np.inf)
    travel = SimpleNamespace(tiers={"t": SimpleNamespace(time_s=now, covered=now <= 900)})
    full = serves.after_plan({"t": _state(reach, chosen, False)}, travel, n_dem)["t"]
    kept = serves.after_plan({"t": _state(reach, chosen, True)}, travel, n_dem)["t"]
    np.testing.assert_array_equal(full[0], kept[0])
    np.testing.assert_array_equal(full[1], kept[1])
    assert (full[0] != "").sum() > 20  # new sites serve someone
    a, b = state_arrays(_state(reach, chosen, False)), state_arrays(_state(reach, chosen, True))
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

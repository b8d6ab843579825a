"""Coverage curves and the fewest sites for a target (carecover.siting.curve)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.siting.brute import BruteForce
from carecover.siting.curve import coverage_curve, min_sites_for_target
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering

A = sp.csr_matrix(np.array([[1, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 1]], dtype=bool))
W = np.array([2.0, 2.0, 1.0, 3.0, 0.0])


@pytest.fixture
def model() -> MaximalCovering:
    return MaximalCovering.from_reach_matrix(A, W, 1)


class TestCoverageCurve:
    def test_greedy_and_exact_columns(self, model):
        df = coverage_curve(model, 4, exact=Highs())  # only 3 candidates: the curve stops at p = 3
        assert list(df["p"]) == [0, 1, 2, 3]
        assert list(df["covered_weight"]) == [0.0, 4.0, 7.0, 8.0]
        assert list(df["marginal_gain"]) == [0.0, 4.0, 3.0, 1.0]
        assert list(df["site"]) == [-1, 0, 2, 1]
        assert list(df["covered_exact"]) == [0.0, 4.0, 7.0, 8.0]
        assert df["share"].iloc[-1] == 1.0

    def test_flat_tail_when_the_last_sites_add_nothing(self):
        df = coverage_curve(MaximalCovering.from_reach_matrix(sp.vstack([A, sp.csr_matrix((1, 5), dtype=bool)]),
                                                              W, 1), 4)
        assert list(df["covered_weight"]) == [0.0, 4.0, 7.0, 8.0, 8.0] and df["site"].iloc[-1] == -1
        assert "covered_exact" not in df

    def test_forced_sites_start_the_curve(self):
        m = MaximalCovering.from_reach_matrix(A, W, 1, forced=[1])
        df = coverage_curve(m, 3, exact=Highs())
        assert df["site"].tolist() == [-1, 1, 0, 2] and np.isnan(df["covered_exact"].iloc[0])


class TestMinSitesForTarget:
    def test_greedy_and_exact(self, model):
        k, sol = min_sites_for_target(model, 0.8)  # 0.8 × 8 = 6.4 → 2 sites
        assert k == 2 and sol.covered_after == 7.0
        k, sol = min_sites_for_target(model, 0.8, solver=Highs())
        assert k == 2 and sol.method == "exact"
        k, sol = min_sites_for_target(model, 0.8, solver=BruteForce())
        assert k == 2 and sol.method == "brute"
        assert min_sites_for_target(model, 0.0)[0] == 0

    def test_already_reached_or_unreachable(self):
        k, _ = min_sites_for_target(MaximalCovering.from_reach_matrix(
            A, W, 1, covered0=np.array([1, 1, 1, 1, 0], bool)), 0.9)
        assert k == 0  # already at 100 %
        k, sol = min_sites_for_target(MaximalCovering.from_reach_matrix(A[:2], W, 1), 0.9)
        assert k is None and sol.covered_after == 5.0

    def test_errors(self, model):
        with pytest.raises(InputError, match="target_share"):
            min_sites_for_target(model, 1.5)
        with pytest.raises(InputError, match="unknown method"):
            min_sites_for_target(model, 0.5, solver="exact")


@pytest.mark.parametrize("seed", range(12))
def test_min_sites_stops_early_with_the_full_runs_count(make_instance, make_constraints, seed):
    """The greedy count read off a run stopped at the target is the full run's count."""
    rng, A, w, c0, xy, groups = make_instance(seed, n_cand=14, n_dem=60, density=0.15)
    w = w + rng.random(len(w))  # non-integral weights
    model = MaximalCovering.from_reach_matrix(A, w, 1, covered0=c0, **make_constraints(seed, rng, xy, groups, 14))
    cap = int(model.allowed.sum())
    full = model.solve(Greedy(), p=cap)
    cum = full.covered_before + np.r_[0.0, np.cumsum(full.gains)]
    for share in (0.0, 0.3, 0.6, 0.8, 0.95, 1.0, min(1.0, float(cum[-1] / full.total_weight))):
        need = share * full.total_weight - 1e-9 * max(full.total_weight, 1.0)
        hit = np.flatnonzero(cum >= need)
        hit = hit[hit >= model.forced.size]
        want = int(hit[0]) if hit.size else None
        k, sol = min_sites_for_target(model, share)
        assert k == want
        if k is None:
            assert list(sol.chosen) == list(full.chosen)
        else:
            assert list(sol.chosen) == list(full.chosen[:k])

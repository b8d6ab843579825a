"""The Lagrangian bound of the covering model: a hand-checked run, and on random instances a
valid bound (at least the optimum) and valid per-candidate bounds (at least the best set
holding the candidate), both by enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.siting.covering_bound import best_sites, keep_candidates, lagrangian_bound
from carecover.siting.greedy import Greedy
from carecover.siting.model import MaximalCovering
from carecover.siting.reduction import reduce


def best_with(B: sp.csr_matrix, w: np.ndarray, p: int, code=None, cap=None) -> tuple[float, np.ndarray]:
    """By enumeration over sets of at most ``p`` candidates (within the group caps): the optimum,
    and per candidate the best value of a set holding it (-inf when no set may hold it)."""
    nc = B.shape[1]
    cols = B.T.tocsr()
    best, per = 0.0, np.full(nc, -np.inf)
    for k in range(1, min(p, nc) + 1):
        for S in itertools.combinations(range(nc), k):
            if code is not None:
                n = np.bincount(code[list(S)], minlength=cap.size)
                if np.any((cap >= 0) & (n > cap)):
                    continue
            v = float(w[np.unique(np.concatenate([cols[j].indices for j in S]))].sum())
            best = max(best, v)
            per[list(S)] = np.maximum(per[list(S)], v)
    return best, per


class TestHandChecked:
    """Groups a, b, c, d with weights 3, 3, 1, 2; site 0 reaches {a, b}, site 1 {b, c}, site 2
    {d}; one site. Greedy takes site 0 (6), the optimum.

    From mu = w / 2 = (1.5, 1.5, 0.5, 1): prices c = (3, 2, 1), L = 4.5 + 3 = 7.5, and with a
    site forced in 7.5, 6.5, 5.5. The subgradient (site 0 chosen) is (0, 0, -1, -1); the Polyak
    step 2 * (7.5 - 6) / 2 = 1.5 lifts mu_c, mu_d to their caps 1 and 2: c = (3, 2.5, 2),
    L = 3 + 3 = 6 = greedy's value, so the run stops after 2 steps, with the per-site bounds
    min(7.5, 6) = 6, min(6.5, 6 - 0.5) = 5.5 and min(5.5, 6 - 1) = 5."""

    B = sp.csr_matrix(np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1]], dtype=bool))
    w = np.array([3.0, 3.0, 1.0, 2.0])

    def test_run(self):
        lag = lagrangian_bound(self.B, self.w, 1, 6.0)
        assert lag.value == pytest.approx(6.0) and lag.iterations == 2
        assert lag.with_site == pytest.approx([6.0, 5.5, 5.0])
        assert keep_candidates(lag, 6.0, self.w.sum()).tolist() == [True, False, False]

    def test_keeps_sites_of_an_equal_set(self):
        # a known value of 5.5 keeps site 1 (its bound 5.5 reaches it); site 2 (5) goes
        lag = lagrangian_bound(self.B, self.w, 1, 6.0)
        assert keep_candidates(lag, 5.5, self.w.sum()).tolist() == [True, True, False]

    def test_all_sites_fit(self):
        # p' = number of candidates: every site is in the top set, nothing can be fixed
        lag = lagrangian_bound(self.B, self.w, 3, 9.0)
        assert lag.value == pytest.approx(9.0)
        assert keep_candidates(lag, 9.0, self.w.sum()).all()


class TestBestSites:
    """The inner problem by hand: prices 5, 4, 3, 2, 1 for sites 0-4."""

    c = np.array([5.0, 4.0, 3.0, 2.0, 1.0])

    def test_without_groups(self):
        # two sites: {0, 1}; forcing site 2, 3 or 4 in swaps out site 1 (price 4)
        top, pen = best_sites(self.c, 2)
        assert sorted(top.tolist()) == [0, 1] and pen.tolist() == [0, 0, 1, 2, 3]

    def test_group_caps(self):
        # sites 0, 1, 2 in group 0 (cap 1), 3 in group 1 (cap 0), 4 in group 2 (uncapped);
        # three sites: 0, then 1 and 2 blocked by the cap, 3 by its cap of 0, then 4: {0, 4}.
        # Forcing 1 or 2 swaps out site 0 (their group's cheapest taken): penalties 1 and 2;
        # site 3 can never be chosen: infinite penalty.
        code, cap = np.array([0, 0, 0, 1, 2]), np.array([1, 0, -1])
        top, pen = best_sites(self.c, 3, code, cap)
        assert sorted(top.tolist()) == [0, 4]
        assert pen.tolist() == [0, 1, 2, np.inf, 0]


class TestValidBounds:
    """On random reduced models the bound is at least the optimum and each candidate's bound at
    least the best set holding it (enumeration); fixing leaves every optimal set intact."""

    @pytest.mark.parametrize("seed", range(30))
    def test_random(self, make_instance, seed):
        rng, A, w, c0, _, _ = make_instance(seed, 10, 40, 0.2)
        p = int(rng.integers(1, 5))
        m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0)
        g = m.solve(Greedy())
        red = reduce(m)
        if red.cand.size == 0:
            pytest.skip("nothing to gain")
        opt, per = best_with(red.B, red.w, p)
        lag = lagrangian_bound(red.B, red.w, p, g.objective)
        tol = 1e-7 * red.w.sum()
        assert lag.value >= opt - tol
        assert np.all(lag.with_site >= per - tol)
        keep = keep_candidates(lag, g.objective, red.w.sum())
        assert np.all(keep[per >= opt - 1e-9])  # every candidate of an optimal set stays

    @pytest.mark.parametrize("seed", range(30, 50))
    def test_random_with_group_caps(self, make_instance, seed):
        rng, A, w, c0, _, groups = make_instance(seed, 10, 40, 0.2)
        p = int(rng.integers(2, 5))
        m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, groups=groups,
                                              max_per_group={0: 1, 1: 2})
        g = m.solve(Greedy())
        red = reduce(m)
        if red.cand.size == 0:
            pytest.skip("nothing to gain")
        code = m.groups.code[red.cand]
        opt, per = best_with(red.B, red.w, p, code, red.cap_left)
        lag = lagrangian_bound(red.B, red.w, p, g.objective, code=code, cap=red.cap_left)
        tol = 1e-7 * red.w.sum()
        assert lag.value >= opt - tol
        assert np.all(lag.with_site >= per - tol)
        assert np.all(keep_candidates(lag, g.objective, red.w.sum())[per >= opt - 1e-9])

    def test_fixing_happens(self, make_instance):
        # the check above could pass with nothing fixed: on these seeds the bound does fix
        fixed = 0
        for seed in range(30):
            rng, A, w, c0, _, _ = make_instance(seed, 10, 40, 0.2)
            m = MaximalCovering.from_reach_matrix(A, w, int(rng.integers(1, 5)), covered0=c0)
            red = reduce(m)
            if red.cand.size:
                lag = lagrangian_bound(red.B, red.w, m.p, m.solve(Greedy()).objective)
                fixed += int((~keep_candidates(lag, m.solve(Greedy()).objective, red.w.sum())).sum())
        assert fixed > 30

    def test_deterministic(self, make_instance):
        rng, A, w, c0, _, _ = make_instance(3, 10, 40, 0.3)
        red = reduce(MaximalCovering.from_reach_matrix(A, w, 3, covered0=c0))
        a, b = (lagrangian_bound(red.B, red.w, 3, 1.0) for _ in range(2))
        assert a.value == b.value and a.iterations == b.iterations
        assert np.array_equal(a.with_site, b.with_site)

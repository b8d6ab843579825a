"""The maximal served model (carecover.siting.served): hand-checked cases, brute force on random
instances, capacity and demand never exceeded, the exact reduction, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.siting.brute import BruteForce
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.served import MaximalServed
from carecover.siting.served_flow import served_value
from scipy.optimize import linprog


def reference_served(R: np.ndarray, w: np.ndarray, cap: np.ndarray) -> float:
    """Served elderly by a dense LP written out independently (scipy linprog)."""
    ks, ds = np.nonzero(R)
    if not ks.size:
        return 0.0
    n = ks.size
    A = np.zeros((R.shape[1] + R.shape[0], n))
    A[ds, np.arange(n)] = 1.0
    A[R.shape[1] + ks, np.arange(n)] = 1.0
    res = linprog(-np.ones(n), A_ub=A, b_ub=np.r_[w, cap], bounds=(0, None), method="highs")
    return float(-res.fun)


@pytest.fixture
def make_served():
    """``make_served(seed, n_cand=9, n_exist=3, n_dem=30)`` → (model kwargs, dense reach rows)."""

    def make(seed: int, n_cand: int = 9, n_exist: int = 3, n_dem: int = 30, p: int | None = None):
        rng = np.random.default_rng(seed)
        A = rng.random((n_cand, n_dem)) < 0.25
        E = rng.random((n_exist, n_dem)) < 0.3
        w = rng.integers(0, 10, n_dem).astype(float)
        ce = rng.integers(0, 30, n_exist).astype(float)
        cn = rng.integers(1, 25, n_cand).astype(float)
        p = int(rng.integers(1, 4)) if p is None else p
        kw = {}
        if seed % 4 == 1:
            kw = {"forced": [int(rng.integers(0, n_cand))]}
        elif seed % 4 == 2:
            kw = {"groups": rng.integers(0, 3, n_cand), "max_per_group": 1}
        elif seed % 4 == 3:
            kw = {"candidate_xy": rng.random((n_cand, 2)) * 1000.0, "min_spacing_m": 300.0}
        model = MaximalServed.from_reach_matrix(sp.csr_matrix(A), w, ce, cn, p, existing_reach=sp.csr_matrix(E), **kw)
        return model, A, E, w, ce, cn

    return make


class TestHandChecked:
    """Two facilities worked out by hand."""

    @pytest.fixture
    def two(self):
        # existing e0 (5 places) reaches d0 (4 elderly) and d1 (6); candidate c0 (5 places) reaches
        # d1 and d2 (3); candidate c1 (10 places) reaches d2 only.
        E = sp.csr_matrix(np.array([[1, 1, 0]], bool))
        A = sp.csr_matrix(np.array([[0, 1, 1], [0, 0, 1]], bool))
        return MaximalServed.from_reach_matrix(A, np.array([4.0, 6.0, 3.0]), [5.0], [5.0, 10.0], 1,
                                               existing_reach=E, candidate_ids=["c0", "c1"])

    def test_one_site(self, two):
        # e0 serves 5 of d0 + d1 = 10; c0 takes d1's other 5 (its capacity) -> +5; c1 only d2 -> +3
        for solver in (Greedy(), Highs(), BruteForce()):
            s = two.solve(solver)
            assert s.served_before == pytest.approx(5.0)
            assert s.candidate_ids == ["c0"] and s.objective == pytest.approx(5.0)
            assert s.served_after == pytest.approx(10.0) and s.load.tolist() == pytest.approx([5.0])
            assert s.gap == pytest.approx(0.0)

    def test_two_sites(self, two):
        s = two.solve(Highs(), p=2)
        # c0 serves d1's other 5, c1 all of d2: every one of the 13 elderly is served
        assert sorted(s.candidate_ids) == ["c0", "c1"] and s.objective == pytest.approx(8.0)
        assert s.served_after == pytest.approx(13.0) == s.total_weight
        assert s.gains.tolist() == pytest.approx([5.0, 3.0])
        assert s.load.sum() == pytest.approx(8.0) and np.all(s.load <= s.capacity + 1e-9)

    def test_greedy_trap(self):
        # c0 (11 places) reaches d0 (6) and d1 (6); c1 (10) d0 and d2 (4); c2 (10) d1 and d3 (4).
        # Greedy takes c0 (11), then c1 adds 5 (d0's last one and d2): 16. The optimum c1 + c2
        # serves d0 + d2 and d1 + d3: 20.
        A = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1]], bool))
        m = MaximalServed.from_reach_matrix(A, np.array([6.0, 6.0, 4.0, 4.0]), None, [11.0, 10.0, 10.0], 2)
        g, e, b = m.solve(Greedy()), m.solve(Highs()), m.solve(BruteForce())
        assert g.chosen.tolist() == [0, 1] and g.gains.tolist() == pytest.approx([11.0, 5.0])
        assert e.objective == pytest.approx(20.0) and b.objective == pytest.approx(20.0)
        assert sorted(e.chosen.tolist()) == [1, 2] and e.status == "optimal" and e.gap == 0.0
        assert e.load.tolist() == pytest.approx([10.0, 10.0])
        assert g.bound >= 20.0 - 1e-9 and g.gap > 0

    def test_capacity_binds_not_reach(self):
        # one candidate reaching 100 elderly with 7 places serves 7
        A = sp.csr_matrix(np.ones((1, 4), bool))
        m = MaximalServed.from_reach_matrix(A, np.full(4, 25.0), None, 7.0, 1)
        s = m.solve(Highs())
        assert s.objective == pytest.approx(7.0) and s.load.tolist() == pytest.approx([7.0])


class TestAgainstBruteForce:
    """Exact equals brute force (each subset by its own LP on the unreduced problem); greedy is
    never better than exact and its bound never below the optimum; nothing exceeds capacity or demand."""

    @pytest.mark.parametrize("seed", range(24))
    def test_random_instances(self, make_served, seed):
        m, A, E, w, ce, cn = make_served(seed)
        b, e, g = m.solve(BruteForce()), m.solve(Highs(threads=1)), m.solve(Greedy())
        assert e.objective == pytest.approx(b.objective, abs=1e-6)
        assert g.objective <= e.objective + 1e-6
        assert g.bound >= b.objective - 1e-6
        for s in (b, e, g):
            sel = s.chosen.tolist()
            assert len(sel) <= m.p and m.is_feasible(sel)
            assert set(m.forced.tolist()) <= set(sel)
            # the objective re-computed by an independent dense LP
            R = np.vstack([E, A[sel]]) if sel else E
            after = reference_served(R, w, np.r_[ce, cn[sel]])
            assert after == pytest.approx(s.served_after, abs=1e-6)
            assert s.served_before == pytest.approx(reference_served(E, w, ce), abs=1e-6)
            assert s.gains.sum() == pytest.approx(s.objective)
            assert np.all(s.load <= s.capacity + 1e-9) and np.all(s.load >= -1e-9)
            assert s.served_after <= min(w.sum(), ce.sum() + cn[sel].sum()) + 1e-9

    @pytest.mark.parametrize("seed", range(100, 124, 4))
    def test_greedy_is_plain_greedy(self, make_served, seed):
        # the lazy greedy takes the sites plain greedy takes, each gain by a fresh LP
        m, A, E, w, ce, cn = make_served(seed, n_cand=12, p=4)
        assert not m.forced.size and m.groups is None and m.spacing is None  # seed % 4 == 0
        s = m.solve(Greedy())
        chosen, cur = [], served_value(sp.csr_matrix(E), w, ce, np.ones(len(ce), bool))
        for _ in range(m.p):
            vals = [(m.served_of(chosen + [j]), -j) for j in range(A.shape[0]) if j not in chosen]
            best, neg = max(vals)
            if best - cur <= 1e-9:
                break
            chosen.append(-neg)
            cur = best
        assert s.chosen.tolist() == chosen


class TestBounds:
    """The cut bounds on a site's gain alone never cut off its exact gain (its own full LP)."""

    @pytest.mark.parametrize("seed", range(200, 220))
    def test_single_site_cuts(self, make_served, seed):
        from carecover.siting.served_greedy import Evaluator, initial_bounds

        m, A, E, w, ce, cn = make_served(seed * 4, n_cand=10, n_exist=int(seed % 5), n_dem=40)
        prep = m.prepared()
        ub = initial_bounds(prep, Evaluator(prep).lp)
        exact = np.array([m.objective_of(list(m.forced) + [int(j)]) - m.objective_of(list(m.forced))
                          for j in prep.cand])
        assert np.all(ub >= exact - 1e-6), (ub, exact)
        # candidates left out of the reduced problem gain nothing
        out = sorted(set(range(A.shape[0])) - set(prep.cand.tolist()) - set(m.forced.tolist()))
        assert all(m.objective_of(list(m.forced) + [j]) - m.objective_of(list(m.forced)) < 1e-6 for j in out)


    @pytest.mark.parametrize("seed", range(300, 316))
    def test_lagrangian_bound_and_pruning(self, make_served, seed):
        from carecover.siting.served_bound import lagrangian_bound
        from carecover.siting.served_solvers import prune_lagrange

        m, *_ = make_served(seed, n_cand=10, n_exist=2, n_dem=40, p=3)
        best = m.solve(BruteForce())
        prep = m.prepared()
        p_free = m.p - m.forced.size
        lag = lagrangian_bound(prep.arcs, prep.n_fixed, p_free, prep.base)
        assert lag.value - prep.base + prep.fixed_objective >= best.objective - 1e-6
        # the optimal set's free sites survive pruning at the optimum's own value
        keep = prune_lagrange(lag, p_free, prep.base + best.objective - prep.fixed_objective)
        pos = {int(c): q for q, c in enumerate(prep.cand)}
        assert all(keep[pos[int(j)]] for j in best.chosen if int(j) in pos)


class TestErrors:
    def test_bad_capacity(self):
        A = sp.csr_matrix(np.ones((2, 3), bool))
        with pytest.raises(InputError, match="capacity_new"):
            MaximalServed.from_reach_matrix(A, np.ones(3), None, [1.0, -2.0], 1)
        with pytest.raises(InputError, match="capacity_new"):
            MaximalServed.from_reach_matrix(A, np.ones(3), None, [1.0, np.nan], 1)
        with pytest.raises(InputError, match="capacity_existing"):
            MaximalServed.from_reach_matrix(A, np.ones(3), [1.0, 2.0], 3.0, 1,
                                            existing_reach=sp.csr_matrix(np.ones((1, 3), bool)))

    def test_existing_columns(self):
        with pytest.raises(InputError, match="existing_reach"):
            MaximalServed.from_reach_matrix(sp.csr_matrix(np.ones((2, 3), bool)), np.ones(3), [1.0], 3.0, 1,
                                            existing_reach=sp.csr_matrix(np.ones((1, 4), bool)))

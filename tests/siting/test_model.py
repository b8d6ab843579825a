"""The covering model (carecover.siting.model): hand-checked instances, constructors, validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.siting.brute import BruteForce
from carecover.siting.constraints import (
    check_covered0,
    check_weights,
    group_caps,
    selection,
    spacing_conflicts,
)
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering

SOLVERS = (Greedy(), Highs(), BruteForce())


@pytest.fixture
def model_of():
    """``model_of(rows, weights, p, **constraints)``: a model from a dense 0/1 list of rows."""

    def make(rows, weights, p, **constraints) -> MaximalCovering:
        A = sp.csr_matrix(np.array(rows, dtype=bool))
        return MaximalCovering.from_reach_matrix(A, np.asarray(weights, float), p, **constraints)

    return make


class TestHandChecked:
    """Small instances whose answers are worked out by hand."""

    def test_greedy_trap(self, model_of):
        # d0..d3 weights 3, 4, 4, 3; site0 = {1, 2} (8), site1 = {0, 1} (7), site2 = {2, 3} (7).
        m = model_of([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 1, 1]], [3.0, 4.0, 4.0, 3.0], 2)
        g, e, b = m.solve(Greedy()), m.solve(Highs()), m.solve(BruteForce())
        # Greedy takes site 0 (8) then site 1 (3) = 11; optimum is sites 1 + 2 = 14.
        assert list(g.chosen) == [0, 1] and list(g.gains) == [8.0, 3.0] and g.objective == 11.0
        assert e.objective == 14.0 and sorted(e.chosen) == [1, 2] and e.status == "optimal"
        assert b.objective == 14.0 and sorted(b.chosen) == [1, 2]
        assert e.gap == 0.0
        # Greedy's bound must not cut off the optimum.
        assert g.bound >= 14.0 - 1e-9 and g.gap > 0
        # Exact ordered by greedy marginal gain within the chosen set: 7 then 7 (tie: lowest index).
        assert list(e.chosen) == [1, 2] and list(e.gains) == [7.0, 7.0]
        assert [list(a) for a in e.newly_covered] == [[0, 1], [2, 3]]

    def test_greedy_equals_exact_with_existing_coverage(self, model_of):
        # 5 demand, weights 1..5; demand 4 (w 5) already covered.
        m = model_of([[1, 0, 0, 0, 1], [0, 1, 1, 0, 0], [0, 0, 1, 1, 0]], [1.0, 2.0, 3.0, 4.0, 5.0], 2,
                     covered0=np.array([0, 0, 0, 0, 1], bool), candidate_ids=["a", "b", "c"])
        g, e = m.solve(Greedy()), m.solve(Highs())
        # c covers 3+4 = 7, then b adds 2 (1 is a's only, worth 1): greedy = exact = 9.
        assert list(g.chosen) == [2, 1] and g.candidate_ids == ["c", "b"] and g.objective == 9.0
        assert e.objective == 9.0 and list(e.chosen) == [2, 1]
        assert g.covered_before == 5.0 and g.covered_after == 14.0 and g.total_weight == 15.0
        assert g.share_after == pytest.approx(14 / 15)
        df = g.to_frame()
        assert list(df["candidate_id"]) == ["c", "b"] and list(df["covered_weight"]) == [12.0, 14.0]

    def test_deterministic_tie_break_lowest_index(self, model_of):
        rows, w = [[1, 0], [0, 1], [1, 0]], [2.0, 2.0]
        assert list(model_of(rows, w, 1).solve(Greedy()).chosen) == [0]
        assert list(model_of(rows, w, 2).solve(Greedy()).chosen) == [0, 1]

    @pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.name)
    def test_fewer_sites_than_p_when_nothing_more_to_gain(self, model_of, solver):
        s = model_of([[1, 1, 0], [1, 0, 0], [0, 0, 0]], [1.0, 1.0, 1.0], 3).solve(solver)
        assert list(s.chosen) == [0] and s.objective == 2.0
        assert "p = 3" in s.note

    @pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.name)
    def test_spacing_maximal_set_smaller_than_p(self, model_of, solver):
        # Site 0 covers most but blocks everything else by spacing: optimum is {0} alone.
        m = model_of([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]], [1.0, 5.0, 5.0, 1.0], 2,
                     candidate_xy=np.array([[0.0, 0.0], [10.0, 0.0], [20.0, 0.0]]), min_spacing_m=50.0)
        s = m.solve(solver)
        assert list(s.chosen) == [0] and s.objective == 11.0

    @pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.name)
    def test_group_capped_at_zero_offers_no_candidate(self, model_of, solver):
        # candidate 0 (group "has") covers the most, but its group is capped at 0: 1 then 2 are chosen
        m = model_of([[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 1]], [5.0, 4.0, 3.0, 2.0], 2,
                     groups=np.array(["has", "lacks", "other"], dtype=object),
                     max_per_group={"has": 0, "lacks": 1})
        sol = m.solve(solver)
        assert sorted(int(j) for j in sol.chosen) == [1, 2]
        assert sol.objective == pytest.approx(7.0)


class TestConstructors:
    """``from_reach_matrix`` and the constraint builders."""

    def test_from_reach_matrix_equals_class_call(self, make_instance, make_constraints):
        rng, A, w, c0, xy, groups = make_instance(4)
        kw = make_constraints(4, rng, xy, groups)
        a = MaximalCovering.from_reach_matrix(A, w, 2, covered0=c0, **kw)
        b = MaximalCovering(A, w, 2, covered0=c0, **kw)
        for attr in ("weights", "covered0", "allowed", "forced", "forbidden", "active"):
            np.testing.assert_array_equal(getattr(a, attr), getattr(b, attr))
        assert (a.A != b.A).nnz == 0
        np.testing.assert_array_equal(a.spacing.pairs, b.spacing.pairs)
        assert a.solve(Highs()).chosen.tolist() == b.solve(Highs()).chosen.tolist()

    def test_reach_seconds_and_dense_input(self):
        # explicit entries are travel seconds + 1e-9; an explicit zero does not count
        secs = sp.csr_matrix((np.array([120.0 + 1e-9, 0.0, 30.0 + 1e-9]), ([0, 0, 1], [0, 1, 2])), shape=(2, 3))
        m = MaximalCovering.from_reach_matrix(secs, np.ones(3), 1)
        assert m.A.dtype == bool and m.A.nnz == 2 and m.row(0).tolist() == [0]
        dense = MaximalCovering.from_reach_matrix(secs.toarray(), np.ones(3), 1)
        assert (dense.A != m.A).nnz == 0

    def test_builders(self):
        assert check_weights([1, 2], 2).dtype == float
        assert not check_covered0(None, 3).any()
        sel = selection(2, [1], [0, 0], 4)
        assert sel.forced.tolist() == [1] and sel.forbidden.tolist() == [0]
        assert sel.allowed.tolist() == [False, True, True, True]
        g = group_caps(np.array(["b", "a", "b"], dtype=object), {"b": 1}, 3)
        assert g.labels.tolist() == ["a", "b"] and g.code.tolist() == [1, 0, 1] and g.cap.tolist() == [-1, 1]
        assert group_caps(None, None, 3) is None
        s = spacing_conflicts(np.array([[0.0, 0], [5, 0], [100, 0]]), 10.0, np.ones(3, bool))
        assert s.pairs.tolist() == [[0, 1]] and s.conflicts[0].tolist() == [1] and not len(s.conflicts[2])
        # "at least" the spacing: exactly 10 m apart is allowed; forbidden candidates do not conflict
        assert spacing_conflicts(np.array([[0.0, 0], [10, 0]]), 10.0, np.ones(2, bool)).pairs.size == 0
        assert spacing_conflicts(np.array([[0.0, 0], [5, 0]]), 10.0, np.array([True, False])).pairs.size == 0
        assert spacing_conflicts(None, None, np.ones(2, bool)) is None

    def test_formulation_is_documented(self):
        doc = MaximalCovering.__doc__
        for term in ("objective", "coverage", "cardinality", "group caps", "spacing", "forced", "covered0"):
            assert term in doc


class TestErrors:
    """Malformed inputs and constraints that cannot hold are input errors."""

    A = sp.csr_matrix(np.eye(3, dtype=bool))

    @pytest.mark.parametrize(("match", "args", "kwargs"), [
        ("only 2 candidates", (np.ones(3), 3), {"forbidden": [0]}),
        ("negative", (np.array([1.0, -1.0, 1.0]), 1), {}),
        ("weights has 2", (np.ones(2), 1), {}),
        ("NaN", (np.array([1.0, np.nan, 1.0]), 1), {}),
        ("covered0", (np.ones(3), 1), {"covered0": np.zeros(4, bool)}),
        ("forced and forbidden", (np.ones(3), 1), {"forced": [1], "forbidden": [1]}),
        ("closer than", (np.ones(3), 2), {"forced": [0, 1], "candidate_xy": np.zeros((3, 2)), "min_spacing_m": 10}),
        ("cap", (np.ones(3), 2), {"forced": [0, 1], "groups": np.array([1, 1, 2]), "max_per_group": 1}),
        ("candidate_xy", (np.ones(3), 1), {"min_spacing_m": 10}),
        ("max_per_group needs groups", (np.ones(3), 1), {"max_per_group": 1}),
        ("p must be >= 0", (np.ones(3), -1), {}),
        ("exceed p", (np.ones(3), 1), {"forced": [0, 1]}),
        ("outside", (np.ones(3), 1), {"forced": [5]}),
        ("candidate_ids", (np.ones(3), 1), {"candidate_ids": ["a"]}),
    ])
    def test_construction(self, match, args, kwargs):
        with pytest.raises(InputError, match=match):
            MaximalCovering.from_reach_matrix(self.A, *args, **kwargs)

    def test_unknown_solver(self):
        m = MaximalCovering.from_reach_matrix(self.A, np.ones(3), 1)
        with pytest.raises(InputError, match="unknown method"):
            m.solve("magic")
        with pytest.raises(InputError, match="unknown method"):
            m.solve(object())

    def test_p_override_out_of_range(self):
        m = MaximalCovering.from_reach_matrix(self.A, np.ones(3), 1, forced=[0])
        with pytest.raises(InputError, match="p = 0 is not between 1 and 3"):
            m.solve(Greedy(), p=0)
        assert m.p == 1

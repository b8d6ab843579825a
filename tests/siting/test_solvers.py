"""Solvers (Greedy, Highs, BruteForce): the results of before the redesign, CELF = greedy,
HiGHS optimal = brute force, the reduction, and spopt's MCLP on the same instance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.siting.brute import BruteForce
from carecover.siting.curve import coverage_curve, min_sites_for_target
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs, reduce
from carecover.siting.model import MaximalCovering

BEFORE = Path(__file__).parent / "data" / "before_redesign.json"


def _record(s) -> dict:
    return {"chosen": [int(j) for j in s.chosen], "gains": [float(g) for g in s.gains],
            "objective": s.objective, "status": s.status, "method": s.method,
            "bound": s.bound, "gap": s.gap, "note": s.note,
            "newly": [[int(i) for i in a] for a in s.newly_covered]}


def _before_cases():
    return json.loads(BEFORE.read_text(encoding="utf-8"))["cases"]


@pytest.fixture
def recorded_model(make_instance, make_constraints):
    """``recorded_model(case)``: the model of one case of data/before_redesign.json."""

    def make(case: dict) -> MaximalCovering:
        seed, big = case["seed"], case["seed"] >= 25
        rng, A, w, c0, xy, groups = make_instance(seed, case["n_cand"], case["n_dem"], 0.08 if big else 0.25)
        p = int(rng.integers(2, 7)) if big else int(rng.integers(1, 4))
        assert p == case["p"]
        kw = make_constraints(seed, rng, xy, groups, case["n_cand"])
        return MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, **kw)

    return make


class TestSameResultsAsBeforeTheRedesign:
    """Every solver object gives exactly what the pre-redesign ``solve(method)`` gave (recorded
    at commit 2992ef1 by the same instance factory): sites, order, gains, objective, status,
    bound, gap, note; and the curves and target counts built on them."""

    @pytest.mark.parametrize("case", _before_cases(), ids=lambda c: f"seed{c['seed']}")
    def test_solutions(self, recorded_model, case):
        m = recorded_model(case)
        assert _record(m.solve(Greedy())) == case["greedy"]
        assert _record(m.solve(Highs())) == case["exact"]
        if "brute" in case:
            assert _record(m.solve(BruteForce())) == case["brute"]

    @pytest.mark.parametrize("case", _before_cases()[::4], ids=lambda c: f"seed{c['seed']}")
    def test_curves_and_targets(self, recorded_model, case):
        m = recorded_model(case)
        cur = coverage_curve(m, min(case["p"] + 2, int(m.allowed.sum())), exact=Highs())
        got = {k: [None if (isinstance(v, float) and np.isnan(v)) else v for v in cur[k].tolist()]
               for k in cur.columns}
        assert got == case["curve"]
        for name, solver in (("greedy", Greedy()), ("exact", Highs())):
            k, s = min_sites_for_target(m, 0.7, solver=solver)
            assert {"k": k, "solution": _record(s)} == case[f"min_sites_{name}"]

    def test_names_are_a_convenience_for_the_objects(self, recorded_model):
        m = recorded_model(_before_cases()[29])
        assert _record(m.solve("greedy")) == _record(m.solve(Greedy())) == _record(m.solve())
        assert _record(m.solve("exact", 10.0)) == _record(m.solve(Highs(time_limit=10.0)))
        assert Highs().name == "exact" and Greedy().name == "greedy" and BruteForce().name == "brute"


def naive_greedy(A: sp.csr_matrix, w, c0, p: int, kw: dict) -> tuple[list[int], list[float]]:
    """Greedy by full re-evaluation of every candidate each round (ties: lowest index), with the
    side constraints checked from the raw inputs: the reference CELF must reproduce."""
    n = A.shape[0]
    covered = c0.copy() | (w <= 0)
    rows = [A.indices[A.indptr[j]:A.indptr[j + 1]] for j in range(n)]
    groups, caps = kw.get("groups"), kw.get("max_per_group")

    def cap(j):
        if groups is None:
            return None
        return caps.get(groups[j]) if isinstance(caps, dict) else caps

    def available(j, chosen):
        if j in chosen or j in kw.get("forbidden", []):
            return False
        c = cap(j)
        if c is not None and sum(groups[k] == groups[j] for k in chosen) >= c:
            return False
        xy, d = kw.get("candidate_xy"), kw.get("min_spacing_m")
        return d is None or all(np.hypot(*(xy[j] - xy[k])) >= d for k in chosen)

    def gain(j):
        return float(w[rows[j][~covered[rows[j]]]].sum())

    chosen, gains = [], []
    pools = [sorted(kw.get("forced", [])), None]
    for pool in pools:
        while len(chosen) < p:
            cands = [j for j in (pool if pool is not None else range(n))
                     if (j not in chosen) and (pool is not None or available(j, chosen))]
            if not cands:
                break
            best = max(cands, key=lambda j: (gain(j), -j))
            if pool is None and gain(best) <= 0:
                break
            gains.append(gain(best))
            chosen.append(best)
            covered[rows[best]] = True
    return chosen, gains


class TestGreedyIsCELF:
    """The lazy greedy takes the same sites in the same order as plain greedy."""

    @pytest.mark.parametrize("seed", range(40))
    def test_against_plain_greedy(self, make_instance, make_constraints, seed):
        n_cand = 12 if seed % 2 else 30
        rng, A, w, c0, xy, groups = make_instance(seed, n_cand, 120, 0.1)
        p = int(rng.integers(1, 7))
        kw = make_constraints(seed, rng, xy, groups, n_cand)
        sol = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, **kw).solve(Greedy())
        chosen, gains = naive_greedy(A, w, c0, p, kw)
        assert sol.chosen.tolist() == chosen
        assert sol.gains.tolist() == gains
        assert sol.status == "heuristic" and sol.bound >= sol.objective


class TestExactAgreesWithBruteForce:
    """Brute force, HiGHS and greedy agree where they must, under every side constraint."""

    @pytest.mark.parametrize("seed", range(25))
    def test_random_instances(self, make_instance, make_constraints, objective, seed):
        rng, A, w, c0, xy, groups = make_instance(seed)
        p = int(rng.integers(1, 4))
        kwargs = make_constraints(seed, rng, xy, groups)
        m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, **kwargs)
        b, e, g = m.solve(BruteForce()), m.solve(Highs()), m.solve(Greedy())
        assert e.objective == pytest.approx(b.objective), (seed, kwargs)
        assert g.objective <= e.objective + 1e-9
        assert g.bound >= b.objective - 1e-9
        for s in (b, e, g):
            sel = list(s.chosen)
            assert len(sel) <= p and len(set(sel)) == len(sel)
            assert objective(A, w, c0, sel) == pytest.approx(s.objective)
            assert s.gains.sum() == pytest.approx(s.objective)
            assert m.is_feasible(sel)
            assert set(kwargs.get("forced", [])) <= set(sel)
            assert not set(kwargs.get("forbidden", [])) & set(sel)
            # newly covered demand is disjoint, uncovered before, and has the stated weight
            allnew = np.concatenate(s.newly_covered) if sel else np.zeros(0, int)
            assert len(np.unique(allnew)) == len(allnew) and not c0[allnew].any()
            assert w[allnew].sum() == pytest.approx(s.objective)
        if "min_spacing_m" in kwargs:
            pts = xy[list(e.chosen)]
            d = np.hypot(*(pts[:, None] - pts[None]).transpose(2, 0, 1))
            assert (d[np.triu_indices(len(pts), 1)] >= kwargs["min_spacing_m"]).all()

    @pytest.mark.parametrize("seed", range(100, 130))
    def test_highs_optimal_equals_brute(self, make_instance, objective, seed):
        rng, A, w, c0, xy, groups = make_instance(seed, 11, 40, 0.2)
        p = int(rng.integers(2, 5))
        forced = [int(rng.integers(0, 11))]
        kw = {"groups": groups, "max_per_group": {0: 1, 1: 2}, "candidate_xy": xy, "min_spacing_m": 200.0,
              "forced": forced, "forbidden": [(forced[0] + 5) % 11]}
        m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, **kw)
        e, b = m.solve(Highs(time_limit=20, threads=1)), m.solve(BruteForce())
        assert e.status == "optimal" and b.status == "optimal"
        assert e.objective == pytest.approx(b.objective)
        assert objective(A, w, c0, e.chosen) == pytest.approx(e.objective) and m.is_feasible(e.chosen)


class TestReduction:
    def test_merges_identical_demand(self):
        # Demand 0 and 2 are covered by exactly {0, 1}; demand 3 by nobody; site 2 covers nothing new.
        A = sp.csr_matrix(np.array([[1, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]], dtype=bool))
        w = np.array([1.0, 2.0, 3.0, 4.0])
        red = reduce(MaximalCovering.from_reach_matrix(A, w, 1))
        assert list(red.cand) == [0, 1]
        assert red.n_groups == 2 and sorted(red.w) == [2.0, 4.0]

    def test_forced_sites_leave_the_model(self):
        A = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]], dtype=bool))
        m = MaximalCovering.from_reach_matrix(A, np.array([1.0, 2.0, 3.0, 4.0]), 2, forced=[0],
                                              groups=np.array([0, 0, 1]), max_per_group=1)
        red = reduce(m)
        # site 0 fixes demand 0-1 (weight 3) and fills group 0, so site 1 is out
        assert red.fixed_objective == 3.0 and list(red.cand) == [2] and red.p_free == 1
        assert m.solve(Highs()).chosen.tolist() == [0, 2]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_exact_matches_spopt_mclp(objective):
    pulp = pytest.importorskip("pulp")
    spopt_locate = pytest.importorskip("spopt.locate")
    if not pulp.PULP_CBC_CMD().available():
        pytest.skip("pulp's bundled CBC binary does not run here")
    rng = np.random.default_rng(11)
    n_cand, n_dem, p = 60, 400, 5
    cand = rng.random((n_cand, 2)) * 5000
    dem = rng.random((n_dem, 2)) * 5000
    dist = np.hypot(*(dem[:, None, :] - cand[None, :, :]).transpose(2, 0, 1))  # demand × cand
    radius = 700.0
    w = rng.integers(1, 20, n_dem).astype(float)
    A = sp.csr_matrix((dist <= radius).T)
    ours = MaximalCovering.from_reach_matrix(A, w, p).solve(Highs())
    assert ours.status == "optimal"
    model = spopt_locate.MCLP.from_cost_matrix(dist, w, service_radius=radius, p_facilities=p)
    model = model.solve(pulp.PULP_CBC_CMD(msg=False))
    chosen = [j for j in range(n_cand) if model.fac_vars[j].value() > 0.5]
    spopt_obj = objective(A, w, np.zeros(n_dem, bool), chosen)
    assert spopt_obj == pytest.approx(ours.objective)
    assert pulp.value(model.problem.objective) == pytest.approx(ours.objective)
    g = MaximalCovering.from_reach_matrix(A, w, p).solve(Greedy())
    assert g.objective <= ours.objective + 1e-9

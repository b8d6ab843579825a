"""Solvers (Greedy, Highs, BruteForce): the results of before the redesign, CELF = greedy,
HiGHS optimal = brute force, the reduction, and spopt's MCLP on the same instance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.siting.brute import BruteForce
from carecover.siting.curve import coverage_curve, min_sites_for_target
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering
from carecover.siting.reduction import Reduced, reduce, restrict

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

    def test_solvers_are_objects_with_names(self, recorded_model):
        m = recorded_model(_before_cases()[29])
        with pytest.raises(InputError, match="unknown method"):
            m.solve("exact")  # a name is no solver: pass Highs()
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


class TestLagrangianPath:
    """The exact solver with the Lagrangian bound forced on (``lagrange_min_entries=0``; by
    default it runs on large models only) agrees with brute force under every side constraint."""

    @pytest.mark.parametrize("seed", range(40))
    def test_random_instances(self, make_instance, make_constraints, objective, seed):
        rng, A, w, c0, xy, groups = make_instance(seed, 12, 50, 0.2)
        p = int(rng.integers(1, 5))
        kwargs = make_constraints(seed, rng, xy, groups, 12)
        m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0, **kwargs)
        e, b = m.solve(Highs(lagrange_min_entries=0)), m.solve(BruteForce())
        assert e.status == "optimal" and e.gap == 0.0
        assert e.objective == pytest.approx(b.objective), (seed, kwargs, e.extra)
        assert objective(A, w, c0, e.chosen) == pytest.approx(e.objective) and m.is_feasible(e.chosen)
        assert set(kwargs.get("forced", [])) <= set(e.chosen)
        assert not set(kwargs.get("forbidden", [])) & set(e.chosen)

    def test_every_path_is_taken(self, make_instance, make_constraints):
        # the agreement above means something only if the bound both proves greedy optimal and
        # leaves candidates out of the programme on some of these instances
        proofs = fixing = 0
        for seed in range(40):
            rng, A, w, c0, xy, groups = make_instance(seed, 12, 50, 0.2)
            p = int(rng.integers(1, 5))
            m = MaximalCovering.from_reach_matrix(A, w, p, covered0=c0,
                                                  **make_constraints(seed, rng, xy, groups, 12))
            extra = m.solve(Highs(lagrange_min_entries=0)).extra
            proofs += "proof" in extra
            fixing += extra.get("n_fixed_by_lagrange", 0) > 0
        assert proofs >= 10 and fixing >= 5

    def test_hand_checked_proof_without_programme(self):
        # demand a-d (weights 3, 3, 1, 2); site 0 reaches a, b; site 1 b, c; site 2 d; two sites.
        # Greedy takes 0 (6) then 2 (2): 8, the optimum; its online bound is 9 (8 + site 1's 1).
        # The bound from mu = w / 2 = (1.5, 1.5, 0.5, 1): prices (3, 2, 1), sites {0, 1}, L = 4.5 + 5
        # = 9.5; subgradient (0, 1, 0, -1), step 2 * 1.5 / 2 = 1.5: mu = (1.5, 0, 0.5, 2). Prices
        # (1.5, 0.5, 2), sites {0, 2}, L = 5 + 3.5 = 8.5; subgradient (0, 0, -1, 0), step 2 * 0.5
        # = 1: mu = (1.5, 0, 1, 2). Prices (1.5, 1, 2), L = 4.5 + 3.5 = 8: greedy proven in 3 steps.
        A = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 0, 1]], dtype=bool))
        m = MaximalCovering.from_reach_matrix(A, np.array([3.0, 3.0, 1.0, 2.0]), 2)
        assert m.solve(Greedy()).bound == 9.0
        s = m.solve(Highs(lagrange_min_entries=0))
        assert sorted(s.chosen.tolist()) == [0, 2] and s.objective == 8.0 and s.status == "optimal"
        assert s.extra["proof"] == "greedy meets the Lagrangian bound"
        assert s.extra["lagrangian_iterations"] == 3 and s.extra["lagrangian_bound"] == 8.0
        # with one site greedy's online bound (6) already proves site 0
        one = MaximalCovering.from_reach_matrix(A, np.array([3.0, 3.0, 1.0, 2.0]), 1).solve(
            Highs(lagrange_min_entries=0))
        assert one.chosen.tolist() == [0] and one.extra["proof"] == "greedy meets its online bound"

    def test_greedy_trap_fixes_then_solves(self):
        # demand 0-3 (weights 4, 4, 3, 3); site 0 reaches 0-1 (8), site 1 reaches 0 and 2, site 2
        # reaches 1 and 3 (7 each), site 3 reaches 2 (3). Greedy takes 0 then 1 or 2: 11; the
        # optimum {1, 2} covers all 14.
        A = sp.csr_matrix(np.array([[1, 1, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 0]], dtype=bool))
        m = MaximalCovering.from_reach_matrix(A, np.array([4.0, 4.0, 3.0, 3.0]), 2)
        g, e = m.solve(Greedy()), m.solve(Highs(lagrange_min_entries=0))
        assert g.objective == 11.0 and e.objective == 14.0 and sorted(e.chosen.tolist()) == [1, 2]
        assert e.status == "optimal" and e.bound == 14.0
        assert e.extra["lagrangian_bound"] >= 14.0 - 1e-9


class TestReduction:
    def test_restrict_drops_and_merges_groups(self):
        # groups (rows) over candidates 0-2; dropping candidate 1 leaves group 1 unreached and
        # makes groups 0 and 2 identical ({0}): merged, weights 1 + 3
        B = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool))
        red = Reduced(np.array([5, 6, 7]), B, np.array([1.0, 2.0, 3.0, 4.0]), 1, 0.0, None, 4, 4, 0)
        r = restrict(red, np.array([True, False, True]))
        assert r.cand.tolist() == [5, 7] and r.w.tolist() == [4.0, 4.0]
        assert r.B.toarray().tolist() == [[True, False], [False, True]]
        assert r.n_groups == 2 and r.n_fixed_by_lagrange == 1
        assert restrict(red, np.ones(3, bool)) is red

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


@pytest.fixture(scope="module")
def monaco_reach(monaco_pbf):
    """Reach matrix, weights and existing coverage of the Monaco instance of :class:`TestRealExtract`."""
    from carecover.network import engine, load_network, snap_xy
    from engine_reference import street_points

    net = load_network(monaco_pbf, "walk", cache=False)
    rng = np.random.default_rng(14)
    cand = snap_xy(net, *street_points(net, rng, 400, 0.0), 300.0)
    dem = snap_xy(net, *street_points(net, rng, 6000, 30.0), 300.0)
    existing = snap_xy(net, *street_points(net, rng, 3, 0.0), 300.0)
    w = np.round(rng.gamma(1.2, 3.0, 6000), 1)
    c0 = engine.reach_matrix(net, existing, dem, 600.0).getnnz(axis=0) > 0
    return engine.reach_matrix(net, cand, dem, 600.0), w, np.asarray(c0).ravel()


class TestRealExtract:
    """Monaco's walk network: 400 candidate sites and 6,000 demand points along its streets,
    10 minutes' walk, 3 existing facilities. The exact solver with the Lagrangian bound agrees
    with HiGHS on the whole reduced programme, proves optimality and beats greedy where greedy
    falls short."""

    def test_agrees_with_the_whole_programme(self, monaco_reach, objective):
        R, w, c0 = monaco_reach
        fixed, beats = 0, 0
        for p in (3, 5, 8):
            m = MaximalCovering.from_reach_matrix(R, w, p, covered0=c0)
            g = m.solve(Greedy())
            lag = m.solve(Highs(lagrange_min_entries=0, threads=1))
            whole = m.solve(Highs(lagrange_min_entries=10**12, threads=1))
            assert lag.status == whole.status == "optimal" and lag.gap == 0.0
            assert lag.objective == pytest.approx(whole.objective, rel=1e-12)
            assert objective(R, w, c0, lag.chosen) == pytest.approx(lag.objective)
            assert g.objective <= lag.objective + 1e-9 <= g.bound + 1e-6
            assert lag.extra["lagrangian_bound"] >= lag.objective - 1e-6
            fixed += lag.extra["n_fixed_by_lagrange"]
            beats += lag.objective > g.objective + 1e-6
        assert fixed > 100 and beats >= 1

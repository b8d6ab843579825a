"""Co-location (一老一小): candidates at public facilities of real extracts, snapped and named, and
the covering model asked for at least k co-located sites (exact = brute force)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.inputs.osm_public import read_public_facilities
from carecover.network import engine
from carecover.network import streets as network
from carecover.network.snap import snap_xy
from carecover.notices import CarecoverWarning
from carecover.siting import candidates as cands
from carecover.siting.brute import BruteForce
from carecover.siting.colocation import (
    ANY,
    colocated_with,
    facility_candidates,
    merge,
    min_sites_rows,
)
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering
from carecover.siting.served import MaximalServed

NO_EXISTING = np.zeros((0, 2))


@pytest.fixture(scope="module")
def monaco(tmp_path_factory, monaco_pbf):
    net = network.load_network(monaco_pbf, "walk", cache=tmp_path_factory.mktemp("coloc") / "cache")
    feats = read_public_facilities(monaco_pbf, ("school", "hospital", "library", "kindergarten"))
    return net, feats


def test_candidates_at_facilities_snapped_and_named(monaco):
    net, feats = monaco
    cand, names = facility_candidates(net, feats, None, NO_EXISTING, None, 300.0)
    assert 0 < len(cand) <= len(feats)
    assert all(i.startswith("osm/") for i in cand.ids)
    k = cand.ids.index("osm/node/280489204")
    assert names[k] == "École Saint-Charles旁 / next to École Saint-Charles"
    assert all(" / next to " in n and "旁" in n for n in names)
    # every candidate is on the street within the snap limit, at its facility (0 m away)
    snap = snap_xy(net, cand.x, cand.y, 300.0)
    assert snap.ok.all()
    col = colocated_with(net, cand, feats, 100.0)
    assert col.member[ANY].all()
    assert col.dist_m[k] == 0.0 and col.kind[k] == "school" and col.name[k] == "École Saint-Charles"


def test_facilities_beyond_the_snap_limit_are_reported_not_used(monaco):
    net, feats = monaco
    all_, _ = facility_candidates(net, feats, None, NO_EXISTING, None, 300.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        few, names = facility_candidates(net, feats, None, NO_EXISTING, None, 2.0)
    assert len(few) < len(all_) and len(names) == len(few)
    found = [w.message.notice for w in caught if isinstance(w.message, CarecoverWarning)]
    assert [n.code for n in found] == ["colocation_unsnapped"]
    assert "2 m" in found[0].message and str(len(all_) - len(few)) in found[0].message


def test_xml_network_candidates(xuanwu_osm, tmp_path):
    net = network.load_network(xuanwu_osm, "walk", cache=tmp_path / "cache")
    feats = read_public_facilities(xuanwu_osm, ("school", "clinic", "library"))
    cand, names = facility_candidates(net, feats, None, NO_EXISTING, None, 300.0)
    assert "长江路小学旁 / next to Changjiang Road Primary School" in names
    assert "南京图书馆旁 / next to 南京图书馆" in names
    k = cand.ids.index("osm/way/94327966")  # the library building (a point 南京图书馆 is mapped too)
    assert names[k] == "南京图书馆旁 / next to Nanjing Library"
    # placed at the library's entrance, not at its centroid
    assert (cand.lon[k], cand.lat[k]) == pytest.approx((118.7903516, 32.0434555), abs=1e-6)
    col = colocated_with(net, cand, feats, 100.0)
    assert col.kind[k] == "library" and col.dist_m[k] == pytest.approx(0.0, abs=0.01)


def _real_instance(monaco, n_junctions: int = 8):
    """Facility candidates and a few junctions on Monaco, demand at street nodes (5-minute walk)."""
    net, feats = monaco
    fac, _ = facility_candidates(net, feats, None, NO_EXISTING, None, 300.0)
    fac = cands.Candidates(fac.x[:8], fac.y[:8], fac.lon[:8], fac.lat[:8], fac.node[:8], fac.ids[:8])
    junc = cands.junctions(net, None, n_junctions, NO_EXISTING, None)
    cand = merge(junc, fac)
    rng = np.random.default_rng(3)
    nodes = rng.choice(net.n_nodes, 400, replace=False)
    dem = snap_xy(net, net.node_x[nodes], net.node_y[nodes], 300.0)
    reach = engine.reach_matrix(net, snap_xy(net, cand.x, cand.y, 300.0), dem, 300.0)
    weights = rng.integers(1, 30, len(nodes)).astype(float)
    return cand, colocated_with(net, cand, feats, 100.0), reach, weights


@pytest.mark.filterwarnings("ignore::carecover.notices.CarecoverWarning")
@pytest.mark.parametrize("k", [1, 2, 3])
def test_exact_with_at_least_k_colocated_equals_brute_force_on_monaco(monaco, k):
    cand, col, reach, w = _real_instance(monaco)
    rows = min_sites_rows(col, {ANY: k})
    model = MaximalCovering.from_reach_matrix(reach, w, 3, candidate_ids=list(cand.ids), min_sites_in=rows)
    exact, brute, greedy = model.solve(Highs(time_limit=30)), model.solve(BruteForce()), model.solve(Greedy())
    assert exact.status == "optimal"
    assert exact.objective == pytest.approx(brute.objective, abs=1e-6)
    for sol in (exact, brute, greedy):
        assert col.member[ANY][sol.chosen].sum() >= k  # the rule holds
    assert greedy.objective <= exact.objective + 1e-9
    free = MaximalCovering.from_reach_matrix(reach, w, 3).solve(Highs(time_limit=30))
    assert exact.objective <= free.objective + 1e-9  # the rule can only cost coverage


def test_the_rule_binds_and_costs_coverage():
    # candidate 0 covers most; only candidate 2 (covering little) is co-located
    A = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 1], [1, 0, 0, 0, 0]], dtype=bool))
    w = np.array([5.0, 5, 5, 4, 4])
    member = np.array([False, False, True])
    m = MaximalCovering.from_reach_matrix(A, w, 2, min_sites_in={"school": (member, 1)})
    for solver in (Greedy(), Highs(time_limit=10), BruteForce()):
        sol = m.solve(solver)
        assert sorted(sol.chosen.tolist()) == [0, 2] and sol.objective == 15.0
    assert MaximalCovering.from_reach_matrix(A, w, 2).solve(Highs()).objective == 23.0
    # a co-located site adding nothing is kept when the rule needs it
    w0 = np.array([5.0, 5, 5, 4, 4])
    A0 = sp.csr_matrix(np.array([[1, 1, 1, 0, 0], [0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], dtype=bool))
    m0 = MaximalCovering.from_reach_matrix(A0, w0, 2, min_sites_in={"any": (member, 1)})
    for solver in (Greedy(), Highs(time_limit=10), BruteForce()):
        assert 2 in m0.solve(solver).chosen.tolist()


@pytest.mark.parametrize("seed", range(40))
def test_exact_equals_brute_force_random_small(seed):
    rng = np.random.default_rng(seed)
    nc, nd = int(rng.integers(6, 12)), int(rng.integers(10, 35))
    A = sp.random(nc, nd, density=float(rng.uniform(0.1, 0.4)), random_state=seed, format="csr")
    w = rng.integers(0, 20, nd).astype(float)
    p = int(rng.integers(2, 5))
    m1, m2 = rng.random(nc) < 0.4, rng.random(nc) < 0.3
    m1[0], m2[1] = True, True
    rows = {"school": (m1, int(min(2, p, m1.sum()))), "clinic": (m2, 1)}
    xy = rng.uniform(0, 1000, (nc, 2))
    model = MaximalCovering.from_reach_matrix(A, w, p, min_sites_in=rows, candidate_xy=xy,
                                              min_spacing_m=120.0 if seed % 2 else None,
                                              covered0=rng.random(nd) < 0.2)
    brute = model.solve(BruteForce())
    exact = model.solve(Highs(time_limit=10))
    if brute.status == "infeasible":  # spacing can leave too few co-located candidates
        assert exact.status == "infeasible"
        return
    assert exact.objective == pytest.approx(brute.objective, abs=1e-6)
    assert model.is_feasible(list(exact.chosen))


def test_rule_that_cannot_hold_is_a_clear_error():
    A = sp.csr_matrix(np.eye(3, dtype=bool))
    with pytest.raises(InputError, match="at least 2 sites") as exc:
        MaximalCovering.from_reach_matrix(A, np.ones(3), 2, min_sites_in={"school": (np.array([1, 0, 0], bool), 2)})
    assert exc.value.field == "colocation.min_sites.school"
    with pytest.raises(InputError, match="p = 1"):
        MaximalCovering.from_reach_matrix(A, np.ones(3), 1, min_sites_in={"any": (np.ones(3, bool), 2)})


@pytest.mark.parametrize("seed", range(30))
def test_served_exact_equals_brute_force_with_at_least_rows(seed):
    rng = np.random.default_rng(seed)
    nc, nd, ne = int(rng.integers(5, 10)), int(rng.integers(8, 25)), int(rng.integers(0, 3))
    A = sp.random(nc, nd, density=float(rng.uniform(0.1, 0.4)), random_state=seed, format="csr")
    E = sp.random(ne, nd, density=0.3, random_state=seed + 1000, format="csr")
    p = int(rng.integers(2, 4))
    m1, m2 = rng.random(nc) < 0.4, rng.random(nc) < 0.3
    m1[0], m2[1] = True, True
    rows = {"school": (m1, int(min(2, p, m1.sum()))), "clinic": (m2, 1)}
    model = MaximalServed.from_reach_matrix(
        A, rng.integers(0, 20, nd).astype(float), rng.integers(5, 30, ne).astype(float),
        rng.integers(5, 40, nc).astype(float), p, existing_reach=E, min_sites_in=rows,
        candidate_xy=rng.uniform(0, 1000, (nc, 2)), min_spacing_m=120.0 if seed % 2 else None)
    brute, exact, greedy = model.solve(BruteForce()), model.solve(Highs(time_limit=10)), model.solve(Greedy())
    if brute.status == "infeasible":
        assert exact.status == "infeasible"
        return
    assert exact.objective == pytest.approx(brute.objective, abs=1e-6)
    assert model.is_feasible(list(exact.chosen)) and model.is_feasible(list(brute.chosen))
    if model.is_feasible(list(greedy.chosen)):
        assert greedy.objective <= brute.objective + 1e-6


@pytest.mark.filterwarnings("ignore::carecover.notices.CarecoverWarning")
def test_served_with_at_least_k_colocated_on_monaco(monaco):
    cand, col, reach, w = _real_instance(monaco)
    rows = min_sites_rows(col, {ANY: 2})
    model = MaximalServed.from_reach_matrix(reach, w, None, 150.0, 3, min_sites_in=rows)
    exact, brute = model.solve(Highs(time_limit=30)), model.solve(BruteForce())
    assert exact.objective == pytest.approx(brute.objective, abs=1e-6)
    assert col.member[ANY][exact.chosen].sum() >= 2

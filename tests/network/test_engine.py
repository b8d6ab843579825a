"""Travel times of the engine against an independent networkx reference.

The reference graph (tests/engine_reference.py) is built from the network's segment arrays only
(not from ``StreetNetwork.csr``/``directed`` or the engine's virtual links): every segment is
split at the snapped positions of sources and targets, each split point becomes a node, and
sources/targets hang off those nodes by their access legs. So the reference checks node times,
point times, the along-segment cases (source and target on one segment, one-way segments) and
the limit: on real extracts, on random graphs, and on hand-checked cases.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.network import Snapped, StreetNetwork, engine, load_network, make_profile, snap_xy
from engine_reference import (
    TOL,
    assert_times_equal,
    mixed_points,
    node_array,
    ref_multi,
    ref_single,
    reference_graph,
    street_points,
    target_array,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

# ----------------------------------------------------------------------------- real extracts

EXTRACTS = ["helsinki_pbf", "test_pbf", "monaco_pbf", "andorra_pbf"]
LIMITS = {"walk": 600.0, "drive": 60.0}


@pytest.mark.parametrize("profile", ["walk", "drive"])
@pytest.mark.parametrize("fixture", EXTRACTS)
def test_engine_matches_networkx_reference(real_network, fixture, profile):
    net = real_network(fixture, profile)
    limit = LIMITS[profile]
    rng = np.random.default_rng(7)
    sx, sy = mixed_points(net, rng, n_street=24, n_node=3, n_bbox=3)
    sources = snap_xy(net, sx, sy)
    assert sources.ok.sum() >= 20
    tx, ty = mixed_points(net, rng, n_street=400, n_node=20, n_bbox=30,
                          near_segments=sources.seg[sources.ok], n_near=50)
    targets = snap_xy(net, tx, ty)
    # the along-segment case really occurs
    assert np.isin(targets.seg[targets.ok], sources.seg[sources.ok]).sum() >= 40

    G = reference_graph(net, sources, targets)
    ref = ref_multi(G, sources, limit)

    # node times (multi-source, bounded)
    nt = engine.nearest(net, sources, limit)
    assert_times_equal(nt.time, node_array(ref, net.n_nodes), limit, "node times")
    reached = np.isfinite(nt.time)
    assert reached.any() and not reached.all()  # the bound matters
    assert (nt.source[reached] >= 0).all() and (nt.source[~reached] == -1).all()
    assert sources.ok[nt.source[reached]].all()

    # point times, including targets sharing a segment with a source
    t, s = engine.point_times(net, nt, targets, sources)
    want_t = target_array(ref, len(targets))
    assert_times_equal(t, want_t, limit, "point times")
    assert np.isinf(t[~targets.ok]).all() and (s[~targets.ok] == -1).all()
    assert (s[np.isfinite(t)] >= 0).all() and (s[~np.isfinite(t)] == -1).all()

    # single-source references: assignment, per_source, reach_matrix
    singles = {int(i): ref_single(G, i, limit) for i in np.flatnonzero(sources.ok)}
    for node in np.flatnonzero(reached):
        got = singles[int(nt.source[node])].get(int(node), np.inf)
        assert abs(got - nt.time[node]) <= TOL, f"node {node}: assigned source is not the nearest"
    for j in np.flatnonzero(np.isfinite(t)):
        got = singles[int(s[j])].get(("T", int(j)), np.inf)
        assert abs(got - t[j]) <= TOL, f"target {j}: assigned source is not the nearest"

    seen = []
    for idx, D in engine.per_source(net, sources, limit, chunk=7):
        assert D.shape == (len(idx), net.n_nodes)
        for row, i in enumerate(idx):
            seen.append(int(i))
            assert_times_equal(D[row], node_array(singles[int(i)], net.n_nodes), limit,
                               f"per_source {i}")
    assert seen == sorted(singles)
    # multi-source = minimum over single sources
    best = np.min([node_array(r, net.n_nodes) for r in singles.values()], axis=0)
    assert_times_equal(nt.time, best, limit, "min over singles")

    R = engine.reach_matrix(net, sources, targets, limit).toarray()
    assert R.shape == (len(sources), len(targets))
    assert (R[~sources.ok] == 0).all()
    for i, r in singles.items():
        want = target_array(r, len(targets))
        got = np.where(R[i] > 0, R[i] - 1e-9, np.inf)
        assert_times_equal(got, want, limit, f"reach_matrix row {i}")
    # the nearest source's time per target equals the column minimum of the reach matrix
    col = np.where(R > 0, R - 1e-9, np.inf).min(axis=0)
    assert_times_equal(col, t, limit, "reach_matrix column minimum")


@pytest.mark.parametrize("fixture", ["monaco_pbf", "andorra_pbf"])
def test_reach_matrix_on_junctions_matches_networkx_reference(real_network, fixture):
    """The whole network routed on its junctions (degree-2 chains contracted, ``window=False``)
    against the reference, and against the street windows (same entries up to rounding)."""
    net = real_network(fixture, "drive")
    limit = 240.0
    rng = np.random.default_rng(11)
    sources = snap_xy(net, *mixed_points(net, rng, n_street=16, n_node=4, n_bbox=2))
    tx, ty = mixed_points(net, rng, n_street=500, n_node=40, n_bbox=20,
                          near_segments=sources.seg[sources.ok], n_near=60)
    targets = snap_xy(net, tx, ty)
    G = reference_graph(net, sources, targets)
    assert sources.ok.sum() >= engine._CONTRACT_FROM  # enough sources to route on junctions
    R = engine.reach_matrix(net, sources, targets, limit, window=False).toarray()
    Rt = np.where(R > 0, R - 1e-9, np.inf)
    assert (R[~sources.ok] == 0).all()
    for i in np.flatnonzero(sources.ok):
        want = target_array(ref_single(G, int(i), limit), len(targets))
        assert_times_equal(Rt[i], want, limit, f"reach_matrix (junctions) row {i}")
    assert np.isfinite(Rt).sum() > 200 and np.isinf(Rt[sources.ok]).sum() > 200  # the limit matters
    W = engine.reach_matrix(net, sources, targets, limit)
    M = sp.csr_matrix(R)
    assert np.array_equal(W.indptr, M.indptr) and np.array_equal(W.indices, M.indices)
    assert np.abs(W.data - M.data).max() <= 1e-9


def test_unbounded_times_on_test_extract(test_pbf):
    """No limit: every node of the (connected) network is reached, and matches the reference."""
    net = load_network(test_pbf, "drive", cache=False)
    rng = np.random.default_rng(3)
    sources = snap_xy(net, *street_points(net, rng, 5))
    targets = snap_xy(net, *street_points(net, rng, 200))
    G = reference_graph(net, sources, targets)
    ref = ref_multi(G, sources, np.inf)
    nt = engine.nearest(net, sources)
    assert np.isfinite(nt.time).all()  # strongly connected after keep_largest
    assert_times_equal(nt.time, node_array(ref, net.n_nodes), np.inf, "node times")
    t, _ = engine.point_times(net, nt, targets, sources)
    assert_times_equal(t, target_array(ref, len(targets)), np.inf, "point times")


def test_no_usable_sources_gives_inf(test_pbf):
    net = load_network(test_pbf, "walk", cache=False)
    far = snap_xy(net, [net.node_x.max() + 10_000], [net.node_y.max() + 10_000])
    assert not far.ok.any()
    nt = engine.nearest(net, far, 900)
    assert np.isinf(nt.time).all() and (nt.source == -1).all()
    assert list(engine.per_source(net, far, 900)) == []
    targets = snap_xy(net, *street_points(net, np.random.default_rng(0), 10))
    t, s = engine.point_times(net, nt, targets, far)
    assert np.isinf(t).all() and (s == -1).all()
    assert engine.reach_matrix(net, far, targets, 900).nnz == 0


# ----------------------------------------------------------------------------- random graphs


def random_network(seed: int, n_nodes: int, n_segs: int, oneway_share: float) -> StreetNetwork:
    """A StreetNetwork built directly from random arrays (planar-ish: short segments)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1000, n_nodes)
    y = rng.uniform(0, 1000, n_nodes)
    # join each segment's tail to one of its nearer nodes, so segments are street-like
    a = rng.integers(0, n_nodes, n_segs)
    d = np.hypot(x[a][:, None] - x[None, :], y[a][:, None] - y[None, :])
    d[np.arange(n_segs), a] = np.inf
    k_near = min(4, n_nodes - 1)
    near = np.argsort(d, axis=1)[:, :k_near]
    b = near[np.arange(n_segs), rng.integers(0, k_near, n_segs)]
    one = rng.uniform(0, 1, n_segs) < oneway_share
    flip = rng.uniform(0, 1, n_segs) < 0.5
    fwd = ~one | flip
    rev = ~one | ~flip
    return StreetNetwork(
        crs=CRS.from_epsg(32649), node_x=x, node_y=y, node_id=np.arange(n_nodes, dtype=np.int64),
        seg_a=a.astype(np.int32), seg_b=b.astype(np.int32), seg_len=np.hypot(x[b] - x[a], y[b] - y[a]),
        seg_speed=rng.choice([1.0, 1.3, 5.0, 13.9], n_segs), seg_fwd=fwd, seg_rev=rev,
        seg_highway=np.full(n_segs, "residential"), profile={"name": "drive"})


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_nodes=st.integers(2, 40), n_segs=st.integers(1, 80),
       oneway=st.sampled_from([0.0, 0.3, 1.0]), n_src=st.integers(1, 6),
       limit=st.sampled_from([60.0, 300.0, np.inf]))
def test_random_graphs_match_reference(seed, n_nodes, n_segs, oneway, n_src, limit):
    net = random_network(seed, n_nodes, n_segs, oneway)
    rng = np.random.default_rng(seed + 1)
    sx, sy = street_points(net, rng, n_src, offset_m=30)
    # occasionally a source exactly on a node (frac 0 or 1), and one far away (unsnapped)
    sx[0], sy[0] = net.node_x[net.seg_a[0]], net.node_y[net.seg_a[0]]
    sources = snap_xy(net, np.append(sx, 1e6), np.append(sy, 1e6), max_snap_m=500)
    tx, ty = street_points(net, rng, 60, offset_m=30)
    # targets on the sources' segments and exactly at nodes
    k = rng.choice(sources.seg[sources.ok], 20)
    f = rng.uniform(0, 1, 20)
    tx = np.concatenate([tx, net.node_x[net.seg_a[k]] + f * (net.node_x[net.seg_b[k]] - net.node_x[net.seg_a[k]]),
                         net.node_x[:10]])
    ty = np.concatenate([ty, net.node_y[net.seg_a[k]] + f * (net.node_y[net.seg_b[k]] - net.node_y[net.seg_a[k]]),
                         net.node_y[:10]])
    targets = snap_xy(net, tx, ty, max_snap_m=500)

    G = reference_graph(net, sources, targets)
    ref = ref_multi(G, sources, limit)
    nt = engine.nearest(net, sources, limit)
    assert_times_equal(nt.time, node_array(ref, net.n_nodes), limit, "node times")
    t, s = engine.point_times(net, nt, targets, sources)
    assert_times_equal(t, target_array(ref, len(targets)), limit, "point times")

    # multi-source result = minimum over single-source runs
    rows = {int(i): D[r] for idx, D in engine.per_source(net, sources, limit, chunk=2)
            for r, i in enumerate(idx)}
    assert sorted(rows) == list(np.flatnonzero(sources.ok))
    best = np.min(list(rows.values()), axis=0)
    assert_times_equal(nt.time, best, limit, "min over per_source")
    # the assigned source achieves the minimum
    hit = np.flatnonzero(np.isfinite(nt.time))
    got = np.array([rows[int(nt.source[v])][v] for v in hit])
    assert np.allclose(got, nt.time[hit], atol=TOL, rtol=0)
    # targets: assigned source achieves the minimum (by the single-source reference)
    R = engine.reach_matrix(net, sources, targets, limit).toarray()
    Rt = np.where(R > 0, R - 1e-9, np.inf)
    assert_times_equal(Rt.min(axis=0), t, limit, "reach_matrix column minimum")
    # rows are placed, not sorted: any chunking gives the same matrix, bit for bit
    M = engine.reach_matrix(net, sources, targets, limit)
    for ch in (1, 3):
        Mc = engine.reach_matrix(net, sources, targets, limit, chunk=ch)
        assert np.array_equal(Mc.indptr, M.indptr) and np.array_equal(Mc.indices, M.indices)
        assert np.array_equal(Mc.data, M.data)
    fin = np.flatnonzero(np.isfinite(t))
    assert np.allclose(Rt[s[fin], fin], t[fin], atol=TOL, rtol=0)
    # routed on the junctions (degree-2 chains contracted, as for many sources): the same
    # entries, times equal up to rounding
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "_CONTRACT_FROM", 1)
        J = engine.reach_matrix(net, sources, targets, limit, window=False)
    assert np.array_equal(J.indptr, M.indptr) and np.array_equal(J.indices, M.indices)
    assert_times_equal(np.where(J.toarray() > 0, J.toarray() - 1e-9, np.inf), Rt, limit, "junctions")
    for i in rows:
        want = target_array(ref_single(G, i, limit), len(targets))
        assert_times_equal(Rt[i], want, limit, f"reach_matrix row {i}")


# ----------------------------------------------------------------------------- hand-checked cases

DATA = Path(__file__).resolve().parents[1] / "data"


def _node(net: StreetNetwork, osm_id: int) -> int:
    return int(np.flatnonzero(net.node_id == osm_id)[0])


def _at_nodes(net: StreetNetwork, osm_ids, **kw) -> Snapped:
    k = [_node(net, i) for i in osm_ids]
    return snap_xy(net, net.node_x[k], net.node_y[k], **kw)


def test_oneway_drive_times_by_hand():
    """Square A-B-C-D of 100 m: A->B one-way, D->A one-way (oneway=-1), B-C-D two-way."""
    drive = load_network(DATA / "oneway.osm", "drive", cache=False)
    v = 25 / 3.6  # residential default
    L = drive.seg_len.mean()
    for src, expect in [(1, {1: 0, 2: 1, 3: 2, 4: 3}),   # from A: A->B->C->D
                        (2, {2: 0, 3: 1, 4: 2, 1: 3}),   # from B: back to A only round the square
                        (4, {4: 0, 1: 1, 2: 2, 3: 1})]:  # from D: D->A allowed, D->C
        nt = engine.nearest(drive, _at_nodes(drive, [src]))
        for osm_id, blocks in expect.items():
            assert nt.time[_node(drive, osm_id)] == pytest.approx(blocks * L / v, abs=1e-3), (src, osm_id)
    # walking ignores one-way tags: every neighbour is one block away
    walk = load_network(DATA / "oneway.osm", "walk", cache=False)
    nt = engine.nearest(walk, _at_nodes(walk, [2]))
    assert nt.time[_node(walk, 1)] == pytest.approx(100.0, abs=1e-3)
    assert nt.time[_node(walk, 4)] == pytest.approx(200.0, abs=1e-3)

    # mid-block on the one-way A->B: a target behind the source (towards A) is 3 blocks round
    ax, ay = drive.node_x[_node(drive, 1)], drive.node_y[_node(drive, 1)]
    bx, by = drive.node_x[_node(drive, 2)], drive.node_y[_node(drive, 2)]
    src = snap_xy(drive, [ax + 0.6 * (bx - ax)], [ay + 0.6 * (by - ay)])
    tgt = snap_xy(drive, [ax + 0.4 * (bx - ax), ax + 0.8 * (bx - ax)],
                  [ay + 0.4 * (by - ay), ay + 0.8 * (by - ay)])
    nt = engine.nearest(drive, src)
    t, s = engine.point_times(drive, nt, tgt, src)
    assert t[1] == pytest.approx(0.2 * L / v, abs=1e-6)  # ahead: along the segment
    assert t[0] == pytest.approx((0.4 + 3 + 0.4) * L / v, abs=1e-3)  # behind: B, C, D, A, then on
    assert list(s) == [0, 0]
    R = engine.reach_matrix(drive, src, tgt, 1e6).toarray() - 1e-9
    assert np.allclose(R[0], t, atol=1e-6)


def test_separate_component():
    """Main street (ids 1-5) with two islands: 150 m north (11-12) and far away (21-22)."""
    kept = load_network(DATA / "components.osm", "walk", cache=False)
    allnet = load_network(DATA / "components.osm", make_profile("walk", keep_largest=False), cache=False)
    near_island = _mid(allnet, 11, 12)
    far_island = _mid(allnet, 21, 22)
    pts = snap_xy(kept, near_island[0] + far_island[0], near_island[1] + far_island[1])
    # the near one snaps to the main street 150 m away, but it is flagged as lying on a dropped part
    assert pts.ok.tolist() == [True, False]
    assert pts.dist[0] == pytest.approx(150.0, abs=0.01)
    assert pts.on_dropped.tolist() == [True, True]
    assert pts.status().tolist() == ["ok", "unsnapped_dropped_component"]
    t, s = engine.point_times(kept, engine.nearest(kept, pts), pts, pts)
    # as facility and as demand point: both access legs (150 m each) are walked
    assert t[0] == pytest.approx(300.0, abs=0.01) and s[0] == 0
    assert np.isinf(t[1]) and s[1] == -1

    # without keep_largest the facility stays on its island and reaches nothing else
    src = snap_xy(allnet, *near_island)
    assert src.ok[0] and src.dist[0] < 1e-6 and not src.on_dropped[0]
    nt = engine.nearest(allnet, src)
    ids = allnet.node_id
    reached = set(ids[np.isfinite(nt.time)].tolist())
    assert reached == {11, 12}
    assert nt.time[_node(allnet, 11)] == pytest.approx(50.0, abs=1e-3)
    main = snap_xy(allnet, *_mid(allnet, 2, 3))
    t, s = engine.point_times(allnet, nt, main, src)
    assert np.isinf(t[0]) and s[0] == -1


def _mid(net, id_a, id_b):
    a, b = _node(net, id_a), _node(net, id_b)
    return [(net.node_x[a] + net.node_x[b]) / 2], [(net.node_y[a] + net.node_y[b]) / 2]


def test_beyond_snap_limit_is_unsnapped():
    net = load_network(DATA / "grid.osm", "walk", cache=False)
    x0, y0 = net.node_x.min(), net.node_y.min()
    # 299 m and 301 m west of the grid's west edge (default limit 300 m), and a NaN point
    pts = snap_xy(net, [x0 - 299, x0 - 301, np.nan], [y0 + 50, y0 + 50, y0])
    assert pts.ok.tolist() == [True, False, False]
    assert pts.status().tolist() == ["ok", "unsnapped", "unsnapped"]
    assert pts.dist[1] == pytest.approx(301, abs=1e-3)
    src = _at_nodes(net, [13])
    t, s = engine.point_times(net, engine.nearest(net, src), pts, src)
    # from the centre (200, 200): 200 m west, 150 m south to (0, 50), then the 299 m access leg
    assert t[0] == pytest.approx(200 + 150 + 299, abs=1e-2)
    assert np.isinf(t[1:]).all() and (s[1:] == -1).all()
    # an unsnapped source takes no part
    both = snap_xy(net, [net.node_x[_node(net, 13)], x0 - 400], [net.node_y[_node(net, 13)], y0])
    assert both.ok.tolist() == [True, False]
    R = engine.reach_matrix(net, both, pts, 1e6)
    assert R.shape == (2, 3) and R.getrow(1).nnz == 0 and R.getrow(0).nnz == 1
    # a tighter limit turns the first point away too
    assert not snap_xy(net, [x0 - 299], [y0 + 50], max_snap_m=100).ok[0]


def test_parallel_ways_keep_the_faster():
    """Residential (25 km/h) and primary (50 km/h) both join nodes 1 and 2 (100 m)."""
    net = load_network(DATA / "parallel.osm", "drive", cache=False)
    assert net.n_segments == 3
    n1, n2, n3 = (_node(net, i) for i in (1, 2, 3))
    L12 = net.seg_len[net.seg_highway == "primary"][0]
    assert net.csr()[n1, n2] == pytest.approx(L12 / (50 / 3.6))
    nt = engine.nearest(net, _at_nodes(net, [1]))
    L23 = net.seg_len[(net.node_id[net.seg_a] == 3) | (net.node_id[net.seg_b] == 3)][0]
    assert nt.time[n2] == pytest.approx(100 / (50 / 3.6), abs=1e-3)  # 7.2 s, not 14.4 s
    assert nt.time[n3] == pytest.approx(L12 / (50 / 3.6) + L23 / (25 / 3.6), abs=1e-9)
    # the reference agrees (it keeps both parallel edges and takes the minimum)
    src = _at_nodes(net, [1])
    tgt = _at_nodes(net, [3])
    ref = ref_multi(reference_graph(net, src, tgt), src, np.inf)
    assert_times_equal(nt.time, node_array(ref, net.n_nodes), np.inf, "parallel")

"""Isochrone polygons: hand-checked grid, exact cuts, and fidelity on a real city."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from carecover.network import StreetNetwork, engine, isochrones, load_network, snap_xy

DATA = Path(__file__).resolve().parents[1] / "data"


def _node(net: StreetNetwork, osm_id: int) -> int:
    return int(np.flatnonzero(net.node_id == osm_id)[0])


def _local(net: StreetNetwork, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Grid-local metres (origin at node 1) to the network's projected coordinates (arrays)."""
    k = _node(net, 1)
    return np.atleast_1d(net.node_x[k] + x), np.atleast_1d(net.node_y[k] + y)


def _pt(net: StreetNetwork, x: float, y: float) -> shapely.Point:
    lx, ly = _local(net, x, y)
    return shapely.Point(float(lx[0]), float(ly[0]))


def _centre(net: StreetNetwork):
    c = _node(net, 13)
    return snap_xy(net, [net.node_x[c]], [net.node_y[c]])


def test_grid_node_times_by_hand(grid):
    src = _centre(grid)
    assert src.ok[0] and src.dist[0] == 0
    nt = engine.nearest(grid, src)
    for j in range(5):
        for i in range(5):
            want = 100.0 * (abs(i - 2) + abs(j - 2))
            assert nt.time[_node(grid, 1 + i + 5 * j)] == pytest.approx(want, abs=1e-3), (i, j)
    assert (nt.source == 0).all()
    bounded = engine.nearest(grid, src, 150)
    assert np.isfinite(bounded.time).sum() == 5  # centre and its four neighbours


@pytest.mark.parametrize("method,buffer_m", [("buffer", 5.0), ("field", 5.0), ("field", None)])
def test_grid_two_minute_isochrone(grid, method, buffer_m):
    src = _centre(grid)
    [(band, poly)] = isochrones.tier_isochrones(grid, src, [2.0], buffer_m=buffer_m, method=method)
    assert band == 2.0 and poly.is_valid and not poly.is_empty
    # 110 m from the centre along each of the four streets: inside; 130 m: outside
    for dx, dy in [(1, 0), (-1, 0), (0, 1), (0, -1)]:
        inside = _pt(grid, 200 + 110 * dx, 200 + 110 * dy)
        outside = _pt(grid, 200 + 130 * dx, 200 + 130 * dy)
        assert poly.contains(inside), (method, dx, dy)
        assert not poly.contains(outside), (method, dx, dy)
    # off the streets, in the middle of a block (50 m from any street), nothing is reached
    assert not poly.contains(_pt(grid, 250, 250))
    # the drawn area is a thin cross (4 arms of 120 m), not a disc of radius 120 m
    assert poly.area < 0.5 * np.pi * 120**2


def test_buffer_grows_with_buffer_m(grid):
    src = _centre(grid)
    [(_, narrow)] = isochrones.tier_isochrones(grid, src, [2.0], buffer_m=5, method="buffer")
    [(_, wide)] = isochrones.tier_isochrones(grid, src, [2.0], buffer_m=25, method="buffer")
    assert wide.contains(narrow)
    # the plain buffer reaches buffer_m beyond the cut: 140 m along the street is inside at 25 m
    assert wide.contains(_pt(grid, 340, 200))
    assert not wide.contains(_pt(grid, 350, 200))


def test_field_agrees_with_point_times(grid):
    """Points clearly within the band (time and street distance) are inside the field polygon;
    points clearly beyond it are outside."""
    src = snap_xy(grid, *_local(grid, 230, 200))  # mid-block source: along-segment case
    [(_, poly)] = isochrones.tier_isochrones(grid, src, [3.0], buffer_m=25, method="field", res_m=2)
    rng = np.random.default_rng(5)
    x, y = _local(grid, rng.uniform(-50, 450, 3000), rng.uniform(-50, 450, 3000))  # arrays
    nt = engine.nearest(grid, src)
    # "clearly": the same verdict for the point moved 3 m either way (pixels are 2 m, and near
    # two equidistant streets the raster may pick the other one)
    t_all, d_all = [], []
    for dx, dy in [(0, 0), (3, 0), (-3, 0), (0, 3), (0, -3)]:
        pts = snap_xy(grid, x + dx, y + dy)
        t_all.append(engine.point_times(grid, nt, pts, src)[0])
        d_all.append(pts.dist)
    t_all, d_all = np.array(t_all), np.array(d_all)
    inside = shapely.contains_xy(poly, x, y)
    sure_in = ((t_all < 180 - 4) & (d_all < 25 - 2)).all(axis=0)
    sure_out = ((t_all > 180 + 4) | (d_all > 25 + 2)).all(axis=0)
    assert sure_in.sum() > 100 and sure_out.sum() > 1000
    assert inside[sure_in].all()
    assert not inside[sure_out].any()


def test_reached_pieces_end_exactly_at_the_cut(grid):
    """Budget 150 s from a source 30 m east of the centre: every partly reached segment is cut
    exactly where time runs out."""
    src = snap_xy(grid, *_local(grid, 230, 200))
    assert src.dist[0] == pytest.approx(0, abs=1e-3)
    budget = 150.0
    nt = engine.nearest(grid, src)
    pieces = isochrones.reached_pieces(grid, nt.time, budget, src)
    v = 1.0
    # independent expectation per segment: the reached parts from each end
    expected_cuts = []
    for k in range(grid.n_segments):
        a, b = grid.seg_a[k], grid.seg_b[k]
        pa = np.array([grid.node_x[a], grid.node_y[a]])
        pb = np.array([grid.node_x[b], grid.node_y[b]])
        L = grid.seg_len[k]
        ra = np.clip((budget - nt.time[a]) * v, 0, L)
        rb = np.clip((budget - nt.time[b]) * v, 0, L)
        if ra + rb >= L:  # reached whole (from one end, or from both)
            continue
        for reach, p0, p1 in ((ra, pa, pb), (rb, pb, pa)):
            if reach > 0:
                expected_cuts.append(p0 + (p1 - p0) * reach / L)
    # (the source's own segment: 150 m both ways from the source covers all 100 m of it)
    expected_cuts = np.array(expected_cuts)
    # by hand: T = 30 s at the centre (2,2), 70 s at (3,2); 130 s at (2,1), (2,3), (1,2), which
    # go 20 m on three ways each; (3,2) goes 80 m on three ways; (3,1), (3,3), (4,2) are at 170 s
    hand = [(200, 80), (180, 100), (220, 100), (200, 320), (180, 300), (220, 300),
            (80, 200), (100, 180), (100, 220), (380, 200), (300, 120), (300, 280)]
    assert len(expected_cuts) == len(hand)
    for hx, hy in hand:
        p = _pt(grid, hx, hy)
        d = np.hypot(*(expected_cuts - [p.x, p.y]).T)
        assert d.min() < 1e-3, (hx, hy)
    ends = pieces.reshape(-1, 2)
    node_xy = np.column_stack([grid.node_x, grid.node_y])
    for cut in expected_cuts:
        assert np.hypot(*(ends - cut).T).min() <= 1e-9
    # every piece end is a node, a cut point, or lies on the source's segment
    free = [e for e in ends if np.hypot(*(node_xy - e).T).min() > 1e-9]
    for e in free:
        assert np.hypot(*(expected_cuts - e).T).min() <= 1e-9
    # and the time at each cut point is the budget (exact point_times of the cut)
    cut_pts = snap_xy(grid, expected_cuts[:, 0], expected_cuts[:, 1])
    t, _ = engine.point_times(grid, nt, cut_pts, src)
    assert np.allclose(t, budget, atol=1e-6)
    # total reached length by hand: the source's segment and the centre's three other segments
    # whole, nine 20 m and three 80 m pieces (the source's own segment is drawn twice: once from
    # its end nodes, once from the source position)
    lengths = np.hypot(*(pieces[:, 1] - pieces[:, 0]).T)
    union = shapely.union_all(shapely.linestrings(pieces))
    assert union.length == pytest.approx(4 * 100 + 9 * 20 + 3 * 80, abs=1e-2)
    assert lengths.sum() >= union.length - 1e-6


def test_reached_pieces_respect_oneway():
    """From B on the one-way A->B square, driving: A->B is reached only from A."""
    net = load_network(DATA / "oneway.osm", "drive", cache=False)
    b = _node(net, 2)
    src = snap_xy(net, [net.node_x[b]], [net.node_y[b]])
    nt = engine.nearest(net, src)
    L = net.seg_len.mean()
    v = 25 / 3.6
    ab = int(np.flatnonzero((net.node_id[net.seg_a] == 1) & (net.node_id[net.seg_b] == 2))[0])
    line_ab = net.segment_lines(np.array([ab]))[0]
    # budget 2.5 blocks: A (3 blocks round) is not reached, so nothing of A->B (B is its head)
    pieces = isochrones.reached_pieces(net, nt.time, 2.5 * L / v, src)
    reached = shapely.union_all(shapely.linestrings(pieces))
    assert reached.length == pytest.approx(2.5 * L, abs=1e-6)  # B->C->D and half of D->A
    assert shapely.intersection(reached, line_ab.buffer(1e-6)).length == pytest.approx(0, abs=1e-5)
    # walking, 50 s reaches 50 m of A-B and of B-C from B
    walk = load_network(DATA / "oneway.osm", "walk", cache=False)
    wsrc = snap_xy(walk, [walk.node_x[_node(walk, 2)]], [walk.node_y[_node(walk, 2)]])
    wp = isochrones.reached_pieces(walk, engine.nearest(walk, wsrc).time, 50.0, wsrc)
    wreached = shapely.union_all(shapely.linestrings(wp))
    assert wreached.length == pytest.approx(100.0, abs=1e-6)
    assert shapely.intersection(wreached, line_ab.buffer(1e-6)).length == pytest.approx(50.0, abs=1e-5)


def test_unreached_sources_give_empty_polygons(grid):
    far = snap_xy(grid, *_local(grid, -1000, -1000))
    assert not far.ok[0]
    for method in ("buffer", "field"):
        polys = isochrones.tier_isochrones(grid, far, [5, 10], method=method)
        assert [b for b, _ in polys] == [5, 10] and all(p.is_empty for _, p in polys)


# ----------------------------------------------------------------------------- real city


def _street_sources(net: StreetNetwork, n: int, seed: int):
    rng = np.random.default_rng(seed)
    k = rng.integers(0, net.n_segments, n)
    f = rng.uniform(0, 1, n)
    ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
    x = ax + f * (net.node_x[net.seg_b[k]] - ax)
    y = ay + f * (net.node_y[net.seg_b[k]] - ay)
    return snap_xy(net, x, y)


def test_fidelity_monaco(monaco_pbf):
    net = load_network(monaco_pbf, "walk", cache=False)
    src = _street_sources(net, 20, seed=2025)
    assert src.ok.all()
    nt = engine.nearest(net, src, 15 * 60)
    polys = isochrones.tier_isochrones(net, src, [5, 10, 15], node_times=nt)
    fid = isochrones.fidelity(net, src, polys, seed=1)
    assert list(fid["band_min"]) == [5, 10, 15] and (fid["samples"] == 2000).all()
    row15 = fid.set_index("band_min").loc[15]
    assert row15["false_share"] < 0.05, fid
    assert (fid["false_share"] < 0.05).all(), fid
    assert row15["area_km2"] > 1.0

    # nested bands (up to the half-pixel simplification of each band's outline)
    for (b1, p1), (_b2, p2) in zip(polys[:-1], polys[1:], strict=True):
        assert p1.difference(p2).area < 5e-3 * p1.area, b1

    # each facility's own polygon lies within the tier union (up to the rasters' pixels)
    union15 = polys[-1][1]
    per = isochrones.facility_isochrones(net, src.subset(np.arange(6)), [15])
    assert [i for i, _, _ in per] == list(range(6))
    tol = union15.buffer(10.0)
    for i, _, p in per:
        assert not p.is_empty
        assert p.difference(tol).area < 1e-3 * p.area, i

    # the check has teeth: straight-line 900 m circles (15 min at 1 m/s, as plans draw them) fail it
    circles = shapely.union_all(shapely.buffer(shapely.points(src.x, src.y), 900.0))
    loose = isochrones.fidelity(net, src, [(15, circles)], seed=1, node_times=nt)
    assert loose["false_share"].iloc[0] > 0.2, loose


def test_facility_windows_and_workers_give_identical_polygons():
    """Routing each facility on its street window, and in 2 processes, changes nothing."""
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network import snap as snap_mod

    net = synthetic_city(20_000, seed=7)
    x, y = synthetic_facilities(net, 12, seed=7)
    src = snap_mod.snap_xy(net, x, y)
    a = isochrones.facility_isochrones(net, src, [5, 10], window=False)
    b = isochrones.facility_isochrones(net, src, [5, 10], window=True)
    c = isochrones.facility_isochrones(net, src, [5, 10], window=True, workers=2)
    assert len(a) == len(b) == len(c) == 2 * int(src.ok.sum())
    for ra, rb, rc in zip(a, b, c, strict=True):
        assert ra[:2] == rb[:2] == rc[:2]
        assert shapely.to_wkb(ra[2]) == shapely.to_wkb(rb[2]) == shapely.to_wkb(rc[2])


def test_sources_on_the_whole_network_share_one_graph(monkeypatch):
    """Where each window would be most of a small city, the sources are routed on the whole
    network on one graph built for them all: each row is what routing that source alone gives,
    in the sources' order, with one row a band."""
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities
    from carecover.network import snap as snap_mod

    net = synthetic_city(600, seed=5)
    x, y = synthetic_facilities(net, 6, seed=5)
    src = snap_mod.snap_xy(net, x, y)
    cut = []
    real_window = isochrones._window
    monkeypatch.setattr(isochrones, "_window", lambda *a: cut.append(1) or real_window(*a))
    together = isochrones.facility_isochrones(net, src, [5, 10])
    assert not cut  # every source took the whole network
    alone = [r for i in np.flatnonzero(src.ok)
             for r in isochrones.facility_isochrones(net, src.subset(np.array([i])), [5, 10])]
    assert len(together) == len(alone) == 2 * int(src.ok.sum()) >= 10
    for (i, b, p), (_, b2, q) in zip(together, alone, strict=True):
        assert b == b2 and not p.is_empty
        # a subset renumbers its sources; the polygon is the same, byte for byte
        assert shapely.to_wkb(p) == shapely.to_wkb(q), (i, b)
    assert [i for i, _, _ in together] == [int(i) for i in np.flatnonzero(src.ok) for _ in (5, 10)]


def test_windows_routed_on_the_shared_graph_or_their_own_give_identical_polygons(real_network, monkeypatch):
    """Andorra: each window routed on its own graph, or all of them on the whole network's one
    shared graph (its rows cut to the window's nodes), gives the same polygons byte for byte."""
    net = real_network("andorra_pbf", "walk")
    rng = np.random.default_rng(8)
    k = rng.integers(0, net.n_segments, 8)
    ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
    src = snap_xy(net, ax + 0.4 * (net.node_x[net.seg_b[k]] - ax), ay + 0.4 * (net.node_y[net.seg_b[k]] - ay))
    calls = []
    real = isochrones.per_source
    monkeypatch.setattr(isochrones, "per_source", lambda n, *a: calls.append(n.n_nodes) or real(n, *a))
    drawn = {}
    for share in (0, 10**9):
        calls.clear()
        monkeypatch.setattr(isochrones, "ROUTE_WHOLE_SHARE", share)
        drawn[share] = isochrones.facility_isochrones(net, src, [5, 15])
        if share:  # one graph for all, the whole network's
            assert calls == [net.n_nodes], calls
        else:  # one graph per window, each a small part of the network
            assert len(calls) == 8 and max(calls) < net.n_nodes // 3, calls
    assert len(drawn[0]) == 16
    for (i, b, p), (j, c, q) in zip(drawn[0], drawn[10**9], strict=True):
        assert (i, b) == (j, c) and not p.is_empty
        assert shapely.to_wkb(p) == shapely.to_wkb(q), (i, b)


def test_synthetic_city_is_deterministic():
    from carecover.bench.synthetic import synthetic_city, synthetic_facilities

    n1, n2 = synthetic_city(5_000, seed=3), synthetic_city(5_000, seed=3)
    for f in ("node_x", "node_y", "seg_a", "seg_b", "seg_len", "seg_fwd", "seg_rev"):
        np.testing.assert_array_equal(getattr(n1, f), getattr(n2, f))
    np.testing.assert_array_equal(synthetic_facilities(n1, 20, seed=3)[0], synthetic_facilities(n2, 20, seed=3)[0])
    assert not np.array_equal(synthetic_city(5_000, seed=4).node_x, n1.node_x)


def test_unknown_isochrone_method_is_refused():
    from carecover.bench.synthetic import synthetic_city
    from carecover.errors import InputError

    net = synthetic_city(2_000, seed=1)
    with pytest.raises(InputError, match="method"):
        isochrones.isochrone_polygons(net, np.zeros(net.n_nodes), [5], method="hull")

"""The one snapper: brute force and spatial index give identical results; method choice."""

from __future__ import annotations

import copy

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.network import snap_lonlat, snap_points, snap_xy
from carecover.network.snap import BRUTE_MAX_POINTS
from carecover.network.spatial import has_segment_index

FIELDS = ("seg", "frac", "dist", "ok", "on_dropped", "x", "y")


def _probe_points(net, seed: int = 0, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Anywhere around the network (some beyond the snap limit), exactly at nodes (ties between
    the segments meeting there), at segment midpoints, and one missing point."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, net.n_nodes, 60)
    s = rng.integers(0, net.n_segments, 60)
    mx = (net.node_x[net.seg_a[s]] + net.node_x[net.seg_b[s]]) / 2
    my = (net.node_y[net.seg_a[s]] + net.node_y[net.seg_b[s]]) / 2
    x = np.r_[rng.uniform(net.node_x.min() - 400, net.node_x.max() + 400, n), net.node_x[k], mx, np.nan]
    y = np.r_[rng.uniform(net.node_y.min() - 400, net.node_y.max() + 400, n), net.node_y[k], my, 0.0]
    return x, y


def _assert_identical(a, b) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.max_snap_m == b.max_snap_m


class TestSameResultBothWays:
    @pytest.mark.parametrize("profile", ["walk", "drive"])
    def test_real_city(self, real_network, profile):
        net = real_network("monaco_pbf", profile)
        assert len(net.dropped_segments)  # the dropped-part check is exercised
        x, y = _probe_points(net)
        brute = snap_xy(net, x, y, method="brute")
        index = snap_xy(net, x, y, method="index")
        _assert_identical(brute, index)
        assert brute.on_dropped.any() and (~brute.ok).any() and brute.ok.sum() > 200
        # ties at nodes go to the lowest segment index
        at_node = slice(300, 360)
        seg = brute.seg[at_node]
        node = np.where(brute.frac[at_node] == 0.0, net.seg_a[seg], net.seg_b[seg])
        for j, v in zip(seg, node, strict=True):
            touching = np.flatnonzero((net.seg_a == v) | (net.seg_b == v))
            assert j == touching.min()

    @pytest.mark.parametrize("profile", ["walk", "drive"])
    def test_synthetic_city(self, synthetic_network, profile):
        net = synthetic_network(20_000, seed=7, profile=profile)
        x, y = _probe_points(net, seed=3)
        _assert_identical(snap_xy(net, x, y, 150.0, method="brute"),
                          snap_xy(net, x, y, 150.0, method="index"))

    def test_hand_made_grid(self, grid):
        # the centre node 13 and points exactly between two parallel streets
        k = int(np.flatnonzero(grid.node_id == 13)[0])
        x0, y0 = grid.node_x[k], grid.node_y[k]
        x, y = np.array([x0, x0 + 50, x0 + 50, x0 - 700]), np.array([y0, y0 + 50, y0 + 10, y0])
        a, b = snap_xy(grid, x, y, method="brute"), snap_xy(grid, x, y, method="index")
        _assert_identical(a, b)
        assert a.dist[0] == 0 and a.dist[1] == pytest.approx(50, abs=1e-3)
        assert a.dist[2] == pytest.approx(10, abs=1e-3)
        assert a.ok.tolist() == [True, True, True, False]


def _geos_nearest(lines: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GEOS's own answer: every nearest line of each point from ``STRtree.query_nearest``, the
    lowest index among them, and its distance."""
    (ip, ig), d = shapely.STRtree(lines).query_nearest(shapely.points(x, y), all_matches=True,
                                                       return_distance=True)
    seg = np.full(len(x), -1)
    dist = np.full(len(x), np.inf)
    for i, g, dd in sorted(zip(ip, ig, d, strict=True), reverse=True):  # the lowest index written last
        seg[i], dist[i] = g, dd
    return seg, dist


class TestIndexAgreesWithGeosNearest:
    """The index path bounds the search by the nearest segment end and measures the candidates
    itself: it must pick what GEOS's nearest-neighbour query picks, ties included."""

    @pytest.mark.parametrize(("fixture", "profile"), [("monaco_pbf", "walk"), ("monaco_pbf", "drive"),
                                                      ("andorra_pbf", "drive")])
    def test_real_city(self, real_network, fixture, profile):
        net = real_network(fixture, profile)
        x, y = _probe_points(net, seed=11, n=2000)
        got = snap_xy(net, x, y, method="index")
        ok = np.isfinite(x) & np.isfinite(y)
        seg, _ = _geos_nearest(net.segment_lines(), x[ok], y[ok])
        np.testing.assert_array_equal(got.seg[ok], seg)
        ds = net.dropped_segments
        _, dd = _geos_nearest(shapely.linestrings(ds.reshape(-1, 2, 2)), x[ok], y[ok])
        np.testing.assert_array_equal(got.on_dropped[ok], dd < got.dist[ok])
        assert got.on_dropped.any()

    def test_unused_nodes_do_not_bound_the_search(self, grid):
        # a node no segment ends at, right beside the probe, must not narrow the search
        net = copy.copy(grid)
        net.node_x = np.r_[grid.node_x, grid.node_x[0] + 3000.0]
        net.node_y = np.r_[grid.node_y, grid.node_y[0]]
        net.node_id = np.r_[grid.node_id, 10**9]
        x, y = np.array([grid.node_x[0] + 3000.5]), np.array([grid.node_y[0]])
        got = snap_xy(net, x, y, 1e6, method="index")
        seg, _ = _geos_nearest(grid.segment_lines(), x, y)
        assert got.seg.tolist() == seg.tolist()


class TestMethodChoice:
    def test_auto_uses_brute_force_for_a_few_points_without_index(self, synthetic_network):
        net = copy.copy(synthetic_network(5_000, seed=2))  # a fresh object: no index yet
        x, y = _probe_points(net, n=5)
        few = snap_xy(net, x[:BRUTE_MAX_POINTS], y[:BRUTE_MAX_POINTS])
        assert not has_segment_index(net)
        many = snap_xy(net, x, y)
        assert has_segment_index(net)
        _assert_identical(few, many.subset(np.arange(BRUTE_MAX_POINTS)))
        # with the index built, even one point uses it (and agrees)
        _assert_identical(snap_xy(net, x[:1], y[:1]), snap_xy(net, x[:1], y[:1], method="brute"))

    def test_lonlat_and_points_take_the_method(self, grid):
        lon, lat = grid.to_wgs84().transform(grid.node_x[:3] + 7, grid.node_y[:3] - 4)
        a = snap_lonlat(grid, lon, lat, method="brute")
        _assert_identical(a, snap_lonlat(grid, lon, lat, method="index"))
        gdf = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
        _assert_identical(a, snap_points(grid, gdf, method="brute"))

    def test_unknown_method_is_refused(self, grid):
        with pytest.raises(InputError, match="snapping method"):
            snap_xy(grid, [0.0], [0.0], method="kdtree")


class TestEdgeCases:
    def test_missing_points_and_empty_network(self, grid):
        empty = copy.copy(grid)
        empty.seg_a, empty.seg_b = grid.seg_a[:0], grid.seg_b[:0]
        for method in ("brute", "index"):
            s = snap_xy(grid, [np.nan, grid.node_x[0]], [0.0, np.inf], method=method)
            assert s.seg.tolist() == [-1, -1] and not s.ok.any() and np.isinf(s.dist).all()
            e = snap_xy(empty, grid.node_x[:2], grid.node_y[:2], method=method)
            assert e.seg.tolist() == [-1, -1] and not e.ok.any()
        gdf = gpd.GeoDataFrame(geometry=[None, shapely.Point()], crs=grid.crs)
        assert snap_points(grid, gdf).status().tolist() == ["unsnapped", "unsnapped"]

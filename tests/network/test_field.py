"""The contoured travel-time field: reached streets inside, little false area, valid outlines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely
from carecover.network import StreetNetwork, engine, field, isochrones, snap_xy
from carecover.network import grid as field_grid

DATA = Path(__file__).resolve().parents[1] / "data"


def _street_sources(net: StreetNetwork, n: int, seed: int):
    rng = np.random.default_rng(seed)
    k = rng.integers(0, net.n_segments, n)
    f = rng.uniform(0, 1, n)
    ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
    return snap_xy(net, ax + f * (net.node_x[net.seg_b[k]] - ax), ay + f * (net.node_y[net.seg_b[k]] - ay))


def _reached_street_points(net: StreetNetwork, nt, sources, limit_s: float, step_m: float = 1.0):
    """Points every ``step_m`` along every street piece reached within ``limit_s``, with their
    exact network time (the demand-point rule, from the source positions)."""
    pieces = isochrones.reached_pieces(net, nt.time, limit_s, sources)
    length = np.hypot(*(pieces[:, 1] - pieces[:, 0]).T)
    m = np.maximum(np.ceil(length / step_m).astype(int), 1) + 1
    rep = np.repeat(np.arange(len(pieces)), m)
    u = (np.arange(len(rep)) - np.repeat(np.cumsum(m) - m, m)) / (m[rep] - 1)
    xy = pieces[rep, 0] + u[:, None] * (pieces[rep, 1] - pieces[rep, 0])
    t, _ = engine.point_times(net, nt, snap_xy(net, xy[:, 0], xy[:, 1]), sources)
    return xy, t


def _assert_streets_inside(polys, xy, t):
    for band, poly in polys:
        assert poly.is_valid, band
        within = t <= band * 60 - 1e-6
        assert within.sum() > 100, band
        inside = shapely.contains_xy(poly, xy[within, 0], xy[within, 1])
        assert inside.all(), (band, int((~inside).sum()), float(np.max(band * 60 - t[within][~inside])))


class TestSynthetic:
    def test_grid_street_points_inside_and_block_interiors_out(self, grid):
        """5 × 5 grid of 100 m blocks at 1 m/s, source mid-segment: every street point reached
        within 3 min is inside; 30 m beyond the cut along a street is outside."""
        src = snap_xy(grid, [grid.node_x[12] + 30.0], [grid.node_y[12]])
        nt = engine.nearest(grid, src)
        polys = isochrones.tier_isochrones(grid, src, [2, 3], node_times=nt)
        xy, t = _reached_street_points(grid, nt, src, 180)
        _assert_streets_inside(polys, xy, t)
        # the ends of the pieces reached in 3.5 min that lie 30 s past where 3 min run out: outside
        pieces = isochrones.reached_pieces(grid, nt.time, 210, src)
        ends = pieces.reshape(-1, 2)
        te, _ = engine.point_times(grid, nt, snap_xy(grid, ends[:, 0], ends[:, 1]), src)
        beyond = ends[te >= 210 - 1e-6]
        assert len(beyond) > 4
        assert not shapely.contains_xy(polys[1][1], beyond[:, 0], beyond[:, 1]).any()

    def test_tiles_agree_with_one_piece(self, synthetic_network, monkeypatch):
        """Working a grid in tiles (skipping far ones, contouring touching groups apart) draws
        the same area as working it in one piece."""
        net = synthetic_network(20_000, seed=7)
        src = _street_sources(net, 6, seed=3)
        nt = engine.nearest(net, src, 900)
        whole = field.field_polygons(net, nt.time, [5, 15], src, 25.0, 5.0, 16e6, walk_speed_mps=1.0)
        monkeypatch.setattr(field, "TILED_ABOVE", 0)
        monkeypatch.setattr(field, "TILE", 64)
        tiled = field.field_polygons(net, nt.time, [5, 15], src, 25.0, 5.0, 16e6, walk_speed_mps=1.0)
        for (b1, p1), (b2, p2) in zip(whole, tiled, strict=True):
            assert b1 == b2 and p2.is_valid
            assert p1.symmetric_difference(p2).area < 1e-4 * p1.area, b1

    def test_tiles_in_separate_groups_agree_with_one_piece(self, synthetic_network, monkeypatch):
        """Sources far apart: groups of tiles whose boxes overlap contour only their own tiles
        and draw what the one-piece grid draws."""
        net = synthetic_network(20_000, seed=11)
        xmin, xmax = net.node_x.min(), net.node_x.max()
        ymin, ymax = net.node_y.min(), net.node_y.max()
        xs = [xmin + 0.15 * (xmax - xmin), xmax - 0.15 * (xmax - xmin), xmin + 0.5 * (xmax - xmin)]
        ys = [ymin + 0.15 * (ymax - ymin), ymin + 0.2 * (ymax - ymin), ymax - 0.15 * (ymax - ymin)]
        src = snap_xy(net, xs, ys)
        nt = engine.nearest(net, src, 300)
        whole = field.field_polygons(net, nt.time, [3, 5], src, 25.0, 5.0, 16e6, walk_speed_mps=1.0)
        monkeypatch.setattr(field, "TILED_ABOVE", 0)
        monkeypatch.setattr(field, "TILE", 32)
        tiled = field.field_polygons(net, nt.time, [3, 5], src, 25.0, 5.0, 16e6, walk_speed_mps=1.0)
        for (b1, p1), (b2, p2) in zip(whole, tiled, strict=True):
            assert b1 == b2 and p2.is_valid
            assert len(shapely.get_parts(p2)) >= 3, b1
            assert p1.symmetric_difference(p2).area < 1e-4 * p1.area, b1

    def test_filled_is_contourpys_generator(self):
        """The directly built contour generator traces what ``contour_generator`` traces."""
        import contourpy

        rng = np.random.default_rng(4)
        z = np.cumsum(np.cumsum(rng.normal(size=(90, 70)), axis=0), axis=1).astype(np.float32)
        z -= np.median(z)
        ref = contourpy.contour_generator(z=z, name="serial", fill_type="ChunkCombinedOffsetOffset")
        want, got = ref.filled(-np.inf, 0.0), field._filled(z)
        assert len(want[0][0]) > 100
        for a, b in zip(want, got, strict=True):
            np.testing.assert_array_equal(a[0], b[0])

    def test_faster_network_gets_a_coarser_grid(self):
        """Spacing is the walking one in seconds: ×speed on fast networks, at most half the buffer."""
        def spacing(*args):
            return field_grid.grid_spacing(*args, walk_speed_mps=1.0)

        assert spacing(5.0, 25.0, (1.0, 100.0)) == 5.0
        assert spacing(5.0, 25.0, (1.5, 100.0)) == 7.5
        assert spacing(5.0, 25.0, (25.0, 100.0)) == 12.5
        assert spacing(5.0, 4.0, (25.0, 100.0)) == 5.0
        # a 2-minute band: a 40th of its walk
        assert spacing(5.0, 25.0, (1.0, 100.0), 120.0) == 3.0
        # at the run's slower walking speed, a 40th of that walk
        assert field_grid.grid_spacing(5.0, 25.0, (0.6, 100.0), 300.0, walk_speed_mps=0.6) == pytest.approx(4.5)

    def test_grid_follows_the_runs_walking_speed_not_the_default(self, monkeypatch):
        """A run walking at 0.6 m/s draws its isochrones on a grid sized at 0.6 m/s (its walking
        network's speed), whatever the package default (``settings.walk_speed_mps``) says:
        changing the default changes nothing."""
        from carecover import settings
        from carecover.network import load_network, make_profile

        net = load_network(DATA / "grid.osm", make_profile("walk", walk_speed_mps=0.6), cache=False)
        src = snap_xy(net, [net.node_x[12] + 30.0], [net.node_y[12]])
        nt = engine.nearest(net, src)

        def drawn():
            return [p.wkb for _, p in isochrones.tier_isochrones(net, src, [2, 4], node_times=nt)]

        at_run_speed = drawn()
        monkeypatch.setattr(settings, "walk_speed_mps", 2.0)
        assert drawn() == at_run_speed
        # the run's speed given explicitly: the same grid
        assert [p.wkb for _, p in isochrones.tier_isochrones(net, src, [2, 4], node_times=nt,
                                                             walk_speed_mps=0.6)] == at_run_speed


class TestSimplifiedOutlines:
    """Outlines are simplified within an eighth of the grid spacing: far fewer vertices, every
    reached street point still inside, kept vertices are traced ones."""

    def test_drive_lace_fewer_vertices_streets_inside(self, synthetic_network, monkeypatch):
        net = synthetic_network(20_000, seed=7, profile="drive")
        src = _street_sources(net, 2, seed=5)
        nt = engine.nearest(net, src, 240)
        polys = isochrones.tier_isochrones(net, src, [2, 4], node_times=nt, walk_speed_mps=1.0)
        xy, t = _reached_street_points(net, nt, src, 240, step_m=2.0)
        _assert_streets_inside(polys, xy, t)
        tol = field.SIMPLIFY_SHARE * field_grid.grid_spacing(5.0, 25.0, field_grid.speed_len_max(net), 120, walk_speed_mps=1.0)
        monkeypatch.setattr(field, "SIMPLIFY_SHARE", 0.0)
        traced = isochrones.tier_isochrones(net, src, [2, 4], node_times=nt, walk_speed_mps=1.0)
        for (band, p), (_, q) in zip(polys, traced, strict=True):
            assert shapely.get_num_coordinates(p) < 0.7 * shapely.get_num_coordinates(q), band
            # kept vertices are traced ones; every traced shell vertex is within the tolerance
            kept = shapely.points(shapely.get_coordinates(p))
            assert shapely.distance(kept, q.boundary).max() < 1e-6, band
            shells = shapely.points(shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(q))))
            assert shapely.distance(shells, p.boundary).max() <= tol + 1e-6, band
            assert abs(p.area - q.area) < 0.01 * q.area, band

    def test_rings_that_would_cross_keep_their_traced_outline(self):
        """Simplifying the shell's 0.4 m dent away would cut the hole beside it: that polygon keeps
        its traced rings; the other one is simplified, and its hole smaller than the tolerance
        keeps its traced ring (it would collapse)."""
        shell = shapely.LinearRing([(0, 0), (5, -0.4), (10, 0), (10, 10), (0, 10)])
        hole = shapely.LinearRing([(4, -0.1), (6, -0.1), (5, 1)])
        far_shell = shapely.LinearRing([(20, 0), (25, -0.4), (30, 0), (30, 10), (20, 10)])
        tiny = shapely.LinearRing([(22, 5), (22.3, 5), (22, 5.3)])
        rings = np.array([shell, hole, far_shell, tiny])
        polys = field._simplified(rings, np.array([0, 2, 4]), 0.5)
        assert polys[0].equals(shapely.Polygon(shell, [hole])) and polys[0].is_valid
        assert polys[1].equals(shapely.Polygon(shapely.box(20, 0, 30, 10).exterior, [tiny])) and polys[1].is_valid

    def test_holes_that_would_cross_keep_their_traced_outline(self):
        """Simplifying away a hole's 0.4 m dent would push its edge into the hole beside it:
        that polygon keeps its traced rings (each crossing pair is tested once)."""
        shell = shapely.LinearRing([(0, 0), (10, 0), (10, 10), (0, 10)])
        dent = shapely.LinearRing([(2, 2), (8, 2), (8, 5), (5, 4.6), (2, 5)])
        beside = shapely.LinearRing([(4.5, 4.8), (5.5, 4.8), (5, 8)])
        far_shell = shapely.LinearRing([(20, 0), (30, 0), (30, 10), (20, 10)])
        far_dent = shapely.LinearRing([(22, 2), (28, 2), (28, 5), (25, 4.6), (22, 5)])
        rings = np.array([shell, dent, beside, far_shell, far_dent])
        assert not shapely.Polygon(shell, [dent]).exterior.intersects(beside)
        polys = field._simplified(rings, np.array([0, 3, 5]), 0.5)
        assert polys[0].equals(shapely.Polygon(shell, [dent, beside])) and polys[0].is_valid
        # alone, the same dent is simplified away
        assert shapely.get_num_coordinates(polys[1]) == 10 and polys[1].is_valid

    def test_grid_cross_keeps_its_corners_only(self, grid, monkeypatch):
        """A 2-minute walk along four 100 m streets: the cross's straight sides keep only their
        ends (the traced outline has a vertex on every grid line it crosses)."""
        src = snap_xy(grid, [grid.node_x[12]], [grid.node_y[12]])
        [(_, poly)] = isochrones.tier_isochrones(grid, src, [2.0], buffer_m=5)
        monkeypatch.setattr(field, "SIMPLIFY_SHARE", 0.0)
        [(_, traced)] = isochrones.tier_isochrones(grid, src, [2.0], buffer_m=5)
        assert poly.is_valid and shapely.get_num_coordinates(poly) < 0.5 * shapely.get_num_coordinates(traced)


class TestRealWorld:
    @pytest.mark.parametrize("extract", ["monaco_pbf", "andorra_pbf"])
    def test_tier_streets_inside_and_false_share_small(self, real_network, extract):
        net = real_network(extract, "walk")
        src = _street_sources(net, 12, seed=2025)
        nt = engine.nearest(net, src, 900)
        polys = isochrones.tier_isochrones(net, src, [5, 10, 15], node_times=nt)
        xy, t = _reached_street_points(net, nt, src, 900)
        _assert_streets_inside(polys, xy, t)
        fid = isochrones.fidelity(net, src, polys, seed=1, node_times=nt)
        assert (fid["false_share"] <= 0.05).all(), fid

    def test_facility_polygons_hold_their_streets(self, real_network):
        net = real_network("monaco_pbf", "walk")
        src = _street_sources(net, 4, seed=11)
        rows = isochrones.facility_isochrones(net, src, [5, 15])
        assert [(i, b) for i, b, _ in rows] == [(i, b) for i in range(4) for b in (5, 15)]
        for i in range(4):
            one = src.subset(np.array([i]))
            nt = engine.nearest(net, one, 900)
            xy, t = _reached_street_points(net, nt, one, 900)
            _assert_streets_inside([(b, p) for j, b, p in rows if j == i], xy, t)

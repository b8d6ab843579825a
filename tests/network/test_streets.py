"""The StreetNetwork data class, its segment helpers, and the public import paths."""

from __future__ import annotations

import numpy as np
import pytest
from carecover.network import StreetNetwork
from carecover.network.streets import project_onto_segments
from pyproj import CRS


def _two_ways() -> StreetNetwork:
    """Nodes 0-1 joined twice (10 m at 1 and at 2 m/s), 1-2 one-way (5 m at 1 m/s)."""
    return StreetNetwork(
        crs=CRS.from_epsg(32649), node_x=np.array([0.0, 10.0, 10.0]), node_y=np.array([0.0, 0.0, 5.0]),
        node_id=np.array([1, 2, 3]), seg_a=np.array([0, 1, 1], np.int32), seg_b=np.array([1, 0, 2], np.int32),
        seg_len=np.array([10.0, 10.0, 5.0]), seg_speed=np.array([1.0, 2.0, 1.0]),
        seg_fwd=np.array([True, True, True]), seg_rev=np.array([True, True, False]),
        seg_highway=np.array(["residential", "primary", "service"]), profile={"name": "drive"})


class TestStreetNetwork:
    def test_csr_keeps_the_fastest_parallel_segment(self):
        net = _two_ways()
        M = net.csr(extra_nodes=2)
        assert M.shape == (5, 5)
        assert M[0, 1] == pytest.approx(5.0) and M[1, 0] == pytest.approx(5.0)
        assert M[1, 2] == pytest.approx(5.0) and M[2, 1] == 0
        tail, head, w, seg = net.directed()
        assert len(tail) == 3 + 2 and set(seg.tolist()) == {0, 1, 2}

    def test_networks_compare_by_identity(self):
        a, b = _two_ways(), _two_ways()
        assert a != b and a == a  # equal arrays, still two networks
        assert len({a, b, a}) == 2

    def test_projection_onto_segments(self):
        net = _two_ways()
        frac, dist = project_onto_segments(net, np.array([0, 2, 0]), np.array([4.0, 13.0, -3.0]),
                                           np.array([2.0, 7.0, 4.0]))
        np.testing.assert_allclose(frac, [0.4, 1.0, 0.0])
        np.testing.assert_allclose(dist, [2.0, np.hypot(3, 2), 5.0])
        lines = net.segment_lines(np.array([2]))
        assert lines[0].coords[:] == [(10.0, 0.0), (10.0, 5.0)]


class TestImportPaths:
    def test_public_api_from_the_package(self):
        import carecover.network as network

        for name in ("load_network", "make_profile", "StreetNetwork", "parse_maxspeed",
                     "keep_largest_component", "download_osmnx", "Snapped", "snap_xy",
                     "snap_lonlat", "snap_points"):
            assert name in network.__all__ and callable(getattr(network, name)), name

    def test_names_of_the_single_module_layout_still_resolve(self):
        from carecover.network import build, cache, download, load, profiles, streets
        from carecover.network.readers import osmxml

        assert streets.load_network is load.load_network
        assert streets.make_profile is profiles.make_profile
        assert streets.keep_largest_component is build.keep_largest_component
        assert streets._subset_segments is build.subset_segments
        assert streets._load is cache.load and streets.CACHE_VERSION == cache.CACHE_VERSION
        assert streets.download_osmnx is download.download_osmnx
        assert streets._osmnx_raw is osmxml.osmnx_raw
        assert "load_network" in dir(streets)
        with pytest.raises(AttributeError, match="_read_boundary"):
            streets._read_boundary  # noqa: B018 - removed: boundaries go through inputs.boundaries

"""Building networks: largest component and dropped parts, subsets and routing windows."""

from __future__ import annotations

import numpy as np
import pytest
from carecover.errors import NetworkError
from carecover.network import keep_largest_component, load_network, make_profile
from carecover.network.build import assemble, subset_segments, utm_crs, window_network
from carecover.network.readers import osmxml


class TestComponents:
    def test_keep_largest_records_dropped(self, osm_data):
        net = load_network(osm_data / "components.osm", "walk", cache=False)
        assert sorted(net.node_id.tolist()) == [1, 2, 3, 4, 5]
        assert net.dropped == {"components": 2, "nodes": 4, "segments": 2, "length_km": 0.2}
        assert net.dropped_segments.shape == (2, 4)
        allnet = load_network(osm_data / "components.osm", make_profile("walk", keep_largest=False), cache=False)
        assert allnet.n_nodes == 9 and allnet.n_segments == 6

    def test_keep_largest_of_a_connected_network_is_itself(self, grid):
        net = subset_segments(grid, np.ones(grid.n_segments, bool))
        assert keep_largest_component(net) is net
        assert net.dropped == {"components": 0, "nodes": 0, "segments": 0, "length_km": 0.0}


class TestSubsets:
    def test_subset_keeps_records_window_does_not(self, real_network):
        net = real_network("monaco_pbf", "drive")
        keep = np.zeros(net.n_segments, bool)
        keep[::3] = True
        sub = subset_segments(net, keep)
        win = window_network(net, np.flatnonzero(keep))
        for f in ("node_x", "node_y", "node_id", "seg_a", "seg_b", "seg_len", "seg_speed",
                  "seg_fwd", "seg_rev", "seg_highway"):
            np.testing.assert_array_equal(getattr(sub, f), getattr(win, f), err_msg=f)
        assert sub.seg_a.dtype == win.seg_a.dtype == np.int32
        # nodes renumbered in their original order; segment i is segment keep[i] of the network
        assert (np.diff(sub.node_id) > 0).all() and (np.diff(net.node_id) > 0).all()
        k = np.flatnonzero(keep)
        np.testing.assert_array_equal(sub.node_id[sub.seg_a], net.node_id[net.seg_a[k]])
        np.testing.assert_array_equal(sub.node_id[sub.seg_b], net.node_id[net.seg_b[k]])
        assert sub.source is net.source and sub.dropped == net.dropped
        assert sub.dropped_segments is net.dropped_segments
        assert win.source == {} and win.dropped == {} and len(win.dropped_segments) == 0
        assert win.profile is net.profile

    def test_utm_zones(self):
        assert utm_crs(111.7, 40.8).to_epsg() == 32649  # Hohhot
        assert utm_crs(7.42, 43.74).to_epsg() == 32632  # Monaco
        assert utm_crs(-58.4, -34.6).to_epsg() == 32721  # Buenos Aires


class TestErrors:
    def test_profile_leaving_no_edges(self, tmp_path, load_fails, osm_data):
        # footways only: nothing for the drive profile
        text = (osm_data / "components.osm").read_text().replace('v="residential"', 'v="footway"')
        path = tmp_path / "paths_only.osm"
        path.write_text(text)
        load_fails(path, "paths_only.osm", profile="drive")
        assert load_network(path, "walk", cache=False).n_nodes == 5

    def test_nodes_without_coordinates(self, osm_data):
        data = osmxml.read(osm_data / "grid.osm", None)
        partial = type(data)(data.nodes.iloc[3:], data.segments)
        with pytest.raises(NetworkError, match="3 street nodes have no coordinates"):
            assemble(partial, make_profile("walk"), {"file": "grid.osm"})


def test_sorted_unique_is_numpy_unique():
    from carecover.network.build import sorted_unique

    rng = np.random.default_rng(3)
    for v in (rng.integers(-5, 2**40, 5000), rng.integers(0, 9, 100), np.array([7]), np.zeros(0, np.int64)):
        got, want = sorted_unique(v), np.unique(v)
        assert got.dtype == want.dtype and np.array_equal(got, want)

"""The segment index: memoised per network object, nothing written onto the network."""

from __future__ import annotations

import copy
import gc

import numpy as np
import shapely
from carecover.network import engine, spatial
from carecover.network.snap import snap_xy
from carecover.network.spatial import has_segment_index, segment_index


class TestSegmentIndex:
    def test_memoised_without_touching_the_network(self, synthetic_network):
        net = copy.copy(synthetic_network(5_000, seed=11))  # a fresh object: no index yet
        before = dict(vars(net))
        assert not has_segment_index(net)
        tree = segment_index(net)
        assert segment_index(net) is tree and has_segment_index(net)
        assert vars(net).keys() == before.keys()
        assert all(vars(net)[k] is v for k, v in before.items())
        # tree index i is segment i
        assert shapely.equals(tree.geometries[7], net.segment_lines(np.array([7]))[0])
        # another object with the same arrays has its own index
        twin = copy.copy(net)
        assert segment_index(twin) is not tree

    def test_snapping_and_routing_use_it_and_leave_no_attribute(self, synthetic_network):
        net = copy.copy(synthetic_network(5_000, seed=11))
        names = set(vars(net))
        rng = np.random.default_rng(1)
        x = rng.uniform(net.node_x.min(), net.node_x.max(), 200)
        y = rng.uniform(net.node_y.min(), net.node_y.max(), 200)
        pts = snap_xy(net, x, y)
        assert has_segment_index(net)
        engine.reach_matrix(net, pts.subset(np.arange(5)), pts, 300.0)
        assert set(vars(net)) == names and not any(n.startswith("_") for n in vars(net))

    def test_dropped_with_its_network(self, synthetic_network):
        net = copy.copy(synthetic_network(5_000, seed=11))
        segment_index(net)
        gc.collect()  # networks of earlier tests
        n = len(spatial._SEGMENT_INDEX)
        del net
        gc.collect()
        assert len(spatial._SEGMENT_INDEX) == n - 1

    def test_empty_network(self, grid):
        empty = copy.copy(grid)
        empty.seg_a = empty.seg_a[:0]
        empty.seg_b = empty.seg_b[:0]
        tree = segment_index(empty)
        assert len(tree) == 0 and tree.query(shapely.box(0, 0, 1e7, 1e7)).size == 0

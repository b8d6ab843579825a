"""Degree-2 chains contracted (carecover.network.chains) against plain Dijkstra on every node.

A node's time on the contracted network is the minimum over its entries of the entry's core
time plus the offset; it must equal the time Dijkstra gives that node on the whole network:
on hand-checked chains (one-way segments, a ring, kept nodes) and on real extracts.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.network import StreetNetwork
from carecover.network.chains import contract
from pyproj import CRS
from scipy.sparse.csgraph import dijkstra


def line_network(xy, segs, oneway=(), speed=1.0) -> StreetNetwork:
    """Nodes at ``xy``; segments ``(a, b)`` with their straight length; one-way ``a -> b`` for
    the segment indices in ``oneway``."""
    x, y = np.array(xy, float).T
    a = np.array([s[0] for s in segs], np.int32)
    b = np.array([s[1] for s in segs], np.int32)
    m = len(segs)
    fwd = np.ones(m, bool)
    rev = np.ones(m, bool)
    rev[list(oneway)] = False
    return StreetNetwork(
        crs=CRS.from_epsg(32649), node_x=x, node_y=y, node_id=np.arange(len(x), dtype=np.int64),
        seg_a=a, seg_b=b, seg_len=np.hypot(x[b] - x[a], y[b] - y[a]), seg_speed=np.full(m, speed),
        seg_fwd=fwd, seg_rev=rev, seg_highway=np.full(m, "residential"), profile={"name": "drive"})


def node_times_via_chains(net: StreetNetwork, origins: np.ndarray, limit: float = np.inf) -> np.ndarray:
    """Times from each origin node (kept as a core node) to every node, through the chains."""
    ch = contract(net, origins)
    # csr_matrix would sum parallel chains: keep the fastest
    order = np.lexsort((ch.time_s, ch.head, ch.tail))
    t, h, w = ch.tail[order], ch.head[order], ch.time_s[order]
    first = np.r_[True, (t[1:] != t[:-1]) | (h[1:] != h[:-1])][:len(t)]
    G = sp.csr_matrix((w[first], (t[first], h[first])), shape=(ch.n_core, ch.n_core))
    D = dijkstra(G, directed=True, indices=ch.core[origins], limit=limit)
    T = np.min(D[:, ch.entry_core] + ch.entry_s[None], axis=2)
    T[T > limit] = np.inf
    return T


class TestHandChecked:
    def test_chain_with_a_oneway_segment(self):
        # 0 --100-- 1 --100-- 2 --100-- 3, and 3 joins 4 and 5: 1 and 2 lie inside a chain;
        # segment 1 -> 2 is one-way, so nothing comes from 3 back to 1
        net = line_network([(0, 0), (100, 0), (200, 0), (300, 0), (300, 100), (400, 0)],
                           [(0, 1), (1, 2), (2, 3), (3, 4), (3, 5)], oneway=[1])
        ch = contract(net)
        assert ch.n_core == 4 and (ch.core[[1, 2]] == -1).all() and (ch.core[[0, 3, 4, 5]] >= 0).all()
        c0, c3 = ch.core[0], ch.core[3]
        edges = {(int(t), int(h)): w for t, h, w in zip(ch.tail, ch.head, ch.time_s, strict=True)}
        assert edges[(c0, c3)] == pytest.approx(300.0)
        assert (c3, c0) not in edges  # blocked by the one-way segment
        e1 = dict(zip(ch.entry_core[1].tolist(), ch.entry_s[1].tolist(), strict=True))
        e2 = dict(zip(ch.entry_core[2].tolist(), ch.entry_s[2].tolist(), strict=True))
        assert e1[c0] == pytest.approx(100.0) and np.isinf(e1[c3])
        assert e2[c0] == pytest.approx(200.0) and e2[c3] == pytest.approx(100.0)
        # a core node is its own entry
        assert ch.entry_core[0, 0] == c0 and ch.entry_s[0, 0] == 0.0 and np.isinf(ch.entry_s[0, 1])
        # from 3: node 2 at 100 s, node 1 unreachable, node 0 unreachable
        T = node_times_via_chains(net, np.array([3]))[0]
        assert T[2] == pytest.approx(100.0) and np.isinf(T[[0, 1]]).all()

    def test_kept_node_splits_its_chain(self):
        net = line_network([(0, 0), (100, 0), (200, 0), (300, 0), (300, 100), (400, 0)],
                           [(0, 1), (1, 2), (2, 3), (3, 4), (3, 5)])
        ch = contract(net, np.array([1]))
        assert ch.core[1] >= 0 and ch.core[2] == -1 and ch.n_core == 5
        T = node_times_via_chains(net, np.array([1]))[0]
        assert T.tolist() == pytest.approx([100, 0, 100, 200, 300, 300])

    def test_ring_without_junctions(self):
        # a closed one-way ring of four degree-2 nodes: no node is a junction, so they stay core
        net = line_network([(0, 0), (100, 0), (100, 100), (0, 100)], [(0, 1), (1, 2), (2, 3), (3, 0)],
                           oneway=[0, 1, 2, 3])
        ch = contract(net)
        assert ch.n_core == 4 and len(ch.tail) == 4
        # with node 0 kept the rest is one chain from 0 back to 0: no edge, entries only
        T = node_times_via_chains(net, np.array([0]))[0]
        assert T.tolist() == pytest.approx([0, 100, 200, 300])
        T = node_times_via_chains(net, np.array([2]))[0]
        assert T.tolist() == pytest.approx([200, 300, 0, 100])

    def test_loop_and_parallel_segments_stay_junctions(self):
        # two parallel segments 0-1 (different speeds are not needed: equal lengths) and a
        # self-loop at 2: nodes 1 and 2 have two segment ends each but are not chain nodes
        net = line_network([(0, 0), (100, 0), (200, 0), (300, 0)], [(0, 1), (0, 1), (1, 2), (2, 2), (2, 3)])
        ch = contract(net)
        assert ch.core[1] >= 0
        T = node_times_via_chains(net, np.array([0]))[0]
        assert T.tolist() == pytest.approx([0, 100, 200, 300])


class TestRealExtracts:
    @pytest.mark.parametrize("profile", ["walk", "drive"])
    @pytest.mark.parametrize("fixture", ["monaco_pbf", "andorra_pbf"])
    def test_node_times_equal_whole_network_dijkstra(self, real_network, fixture, profile):
        net = real_network(fixture, profile)
        ch = contract(net)
        # street networks are mostly chain nodes: far fewer nodes to route on
        assert ch.n_core < 0.8 * net.n_nodes
        origins = np.random.default_rng(5).choice(net.n_nodes, 12, replace=False)
        limit = 600.0 if profile == "walk" else 300.0
        want = dijkstra(net.csr(), directed=True, indices=origins, limit=limit)
        got = node_times_via_chains(net, origins, limit)
        assert np.array_equal(np.isfinite(got), np.isfinite(want))
        fin = np.isfinite(want)
        assert np.abs(got[fin] - want[fin]).max() <= 1e-9
        assert fin.sum() > 12 * 50  # the limit leaves many nodes reached


class TestReachMatrixOnJunctions:
    def test_targets_inside_a_chain_by_hand(self):
        # the chain 0-1-2-3 (1 -> 2 one-way) hanging off junction 3 (to 4 and 5), 1 m/s
        from carecover.network import engine, snap_xy

        net = line_network([(0, 0), (100, 0), (200, 0), (300, 0), (300, 100), (400, 0)],
                           [(0, 1), (1, 2), (2, 3), (3, 4), (3, 5)], oneway=[1])
        src = snap_xy(net, [0.0, 300.0], [0.0, 100.0])  # at nodes 0 and 4
        # mid-segment targets 0-1, 1-2, 2-3, and one 10 m off the street beside node 2
        tgt = snap_xy(net, [50.0, 150.0, 250.0, 200.0], [0.0, 0.0, 0.0, 10.0])
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(engine, "_CONTRACT_FROM", 1)  # contract even for two sources
            R = engine.reach_matrix(net, src, tgt, 1000.0, window=False).toarray()
            R200 = engine.reach_matrix(net, src, tgt, 200.0, window=False).toarray()
        got = np.where(R > 0, R - 1e-9, np.inf)
        assert got[0] == pytest.approx([50, 150, 250, 210])
        # from node 4 only the part of the chain after the one-way segment is reached
        assert np.isinf(got[1, :2]).all() and got[1, 2:] == pytest.approx([150, 210])
        # a limit between two targets
        assert (R200[0] > 0).tolist() == [True, True, False, False]
        assert (R200[1] > 0).tolist() == [False, False, True, False]
        # the whole network without contraction (a few sources) agrees
        assert np.allclose(engine.reach_matrix(net, src, tgt, 1000.0, window=False).toarray(), R,
                           rtol=0, atol=1e-9)

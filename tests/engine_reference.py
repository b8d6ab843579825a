"""An independent travel-time reference for the engine, and random points on a network.

The reference graph is built from the network's segment arrays only (not from
``StreetNetwork.csr``/``directed`` or the engine's virtual links): every segment is split at the
snapped positions of sources and targets, each split point becomes a node, and sources/targets
hang off those nodes by their access legs. So the reference checks node times, point times,
the along-segment cases (source and target on one segment, one-way segments) and the limit.
Used by tests/network/test_engine.py and tests/plan/test_end_to_end.py.
"""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
import numpy as np
from carecover.network.snap import Snapped
from carecover.network.streets import StreetNetwork

TOL = 1e-6  # seconds

# ----------------------------------------------------------------------------- reference


def _pos_node(net: StreetNetwork, seg: int, frac: float):
    # a point at a segment end *is* that node (whatever the segment's direction)
    if frac == 0.0:
        return int(net.seg_a[seg])
    if frac == 1.0:
        return int(net.seg_b[seg])
    return ("p", seg, frac)


def reference_graph(net: StreetNetwork, sources: Snapped, targets: Snapped) -> nx.DiGraph:
    """Street graph with every snapped source/target inserted as a node at its position.

    Nodes: ints (network nodes), ``("p", seg, frac)`` split points, ``("S", i)`` sources,
    ``("T", j)`` targets. Edge attribute ``w`` in seconds; parallel edges keep the minimum.
    """
    G = nx.DiGraph()
    G.add_nodes_from(range(net.n_nodes))

    def add(u, v, w):
        if G.has_edge(u, v):
            G[u][v]["w"] = min(G[u][v]["w"], w)
        else:
            G.add_edge(u, v, w=w)

    cuts: dict[int, set[float]] = defaultdict(set)
    for sn in (sources, targets):
        for i in np.flatnonzero(sn.ok):
            cuts[int(sn.seg[i])].add(float(sn.frac[i]))
    for k in range(net.n_segments):
        L, v = float(net.seg_len[k]), float(net.seg_speed[k])
        fr = sorted(cuts.get(k, set()) | {0.0, 1.0})
        chain = [_pos_node(net, k, f) for f in fr]
        for f0, f1, n0, n1 in zip(fr[:-1], fr[1:], chain[:-1], chain[1:], strict=True):
            w = (f1 - f0) * L / v
            if net.seg_fwd[k]:
                add(n0, n1, w)
            if net.seg_rev[k]:
                add(n1, n0, w)
    for tag, sn in (("S", sources), ("T", targets)):
        for i in np.flatnonzero(sn.ok):
            k = int(sn.seg[i])
            p = _pos_node(net, k, float(sn.frac[i]))
            leg = float(sn.dist[i]) / float(net.seg_speed[k])
            if tag == "S":
                add(("S", int(i)), p, leg)
            else:
                add(p, ("T", int(i)), leg)
    return G


def ref_multi(G, sources: Snapped, limit: float) -> dict:
    starts = [("S", int(i)) for i in np.flatnonzero(sources.ok)]
    if not starts:
        return {}
    cutoff = None if np.isinf(limit) else limit
    return nx.multi_source_dijkstra_path_length(G, starts, cutoff=cutoff, weight="w")


def ref_single(G, i: int, limit: float) -> dict:
    cutoff = None if np.isinf(limit) else limit
    return nx.single_source_dijkstra_path_length(G, ("S", int(i)), cutoff=cutoff, weight="w")


def node_array(ref: dict, n: int) -> np.ndarray:
    return np.array([ref.get(k, np.inf) for k in range(n)])


def target_array(ref: dict, m: int) -> np.ndarray:
    return np.array([ref.get(("T", j), np.inf) for j in range(m)])


def assert_times_equal(got: np.ndarray, want: np.ndarray, limit: float, what: str) -> None:
    # a value within TOL of the limit may fall either side of it
    edge = np.abs(np.where(np.isfinite(want), want, -1e9) - limit) < TOL
    edge |= np.abs(np.where(np.isfinite(got), got, -1e9) - limit) < TOL
    g, w = got[~edge], want[~edge]
    fin_g, fin_w = np.isfinite(g), np.isfinite(w)
    assert (fin_g == fin_w).all(), (
        f"{what}: reached sets differ at {np.flatnonzero(fin_g != fin_w)[:10]} "
        f"(got {g[fin_g != fin_w][:5]}, want {w[fin_g != fin_w][:5]})")
    err = np.abs(g[fin_g] - w[fin_g])
    assert err.size == 0 or err.max() <= TOL, f"{what}: max error {err.max()} s"


# ----------------------------------------------------------------------------- random points


def street_points(net: StreetNetwork, rng: np.random.Generator, n: int,
                  offset_m: float = 40.0) -> tuple[np.ndarray, np.ndarray]:
    """Points at random positions along random segments, moved sideways up to ``offset_m``."""
    k = rng.integers(0, net.n_segments, n)
    f = rng.uniform(0, 1, n)
    ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
    dx, dy = net.node_x[net.seg_b[k]] - ax, net.node_y[net.seg_b[k]] - ay
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    off = rng.uniform(-offset_m, offset_m, n)
    return ax + f * dx - off * dy / norm, ay + f * dy + off * dx / norm


def mixed_points(net: StreetNetwork, rng: np.random.Generator, n_street: int, n_node: int,
                 n_bbox: int, near_segments: np.ndarray | None = None,
                 n_near: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Street positions, exact node positions, anywhere in the bbox (some unsnapped), and
    positions on given segments (to force the same-segment case)."""
    xs, ys = [], []
    x, y = street_points(net, rng, n_street)
    xs.append(x)
    ys.append(y)
    nodes = rng.integers(0, net.n_nodes, n_node)
    xs.append(net.node_x[nodes])
    ys.append(net.node_y[nodes])
    xs.append(rng.uniform(net.node_x.min() - 500, net.node_x.max() + 500, n_bbox))
    ys.append(rng.uniform(net.node_y.min() - 500, net.node_y.max() + 500, n_bbox))
    if near_segments is not None and n_near:
        k = rng.choice(near_segments, n_near)
        f = rng.uniform(0, 1, n_near)
        ax, ay = net.node_x[net.seg_a[k]], net.node_y[net.seg_a[k]]
        xs.append(ax + f * (net.node_x[net.seg_b[k]] - ax))
        ys.append(ay + f * (net.node_y[net.seg_b[k]] - ay))
    return np.concatenate(xs), np.concatenate(ys)

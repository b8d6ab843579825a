"""Degree-2 chains of a street network contracted away, for one-to-many routing.

Most nodes of a street network join exactly two segments (bends and shape points): a route
can only pass through them along their chain. Routing needs the *junctions* only — the
"core" nodes: every node of another degree, plus any node the caller keeps (the ends of the
segments its sources lie on). Each chain between two core nodes becomes one directed edge
per direction it can be driven (its segments' seconds summed; blocked by any one-way segment
against it), and every node remembers the (at most two) core nodes a route can come from,
with the seconds from each. A point's time is then the minimum over those entries of the
core node's time plus that offset — the same shortest path as on the whole network, summed
in another order (so equal up to float rounding).

The chains are followed by pointer jumping over the directed segment ends ("darts"), so the
whole contraction is a few vectorised passes (``log2`` of the longest chain) with no loop
over nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carecover.network.streets import StreetNetwork


@dataclass(frozen=True)
class Chains:
    """A network with its degree-2 chains contracted.

    Attributes
    ----------
    core
        Core index per node (``-1`` for a node inside a chain).
    n_core
        Number of core nodes.
    tail, head, time_s
        Directed edges between core nodes (core indices; one per driveable chain direction,
        parallel edges not merged).
    entry_core, entry_s
        ``n_nodes × 2``: the core nodes a route into each node comes from and the seconds
        from each (``inf`` where a direction is blocked). A core node's first entry is itself
        at 0 s, its second is unused (``inf``).
    """

    core: np.ndarray
    n_core: int
    tail: np.ndarray
    head: np.ndarray
    time_s: np.ndarray
    entry_core: np.ndarray
    entry_s: np.ndarray


def _zorder(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of points on a 2**16 grid over their extent."""
    code = np.zeros(len(x), np.int64)
    if len(x) == 0:
        return code
    ix = ((x - x.min()) / max(float(np.ptp(x)), 1e-9) * (2**16 - 1)).astype(np.int64)
    iy = ((y - y.min()) / max(float(np.ptp(y)), 1e-9) * (2**16 - 1)).astype(np.int64)
    for bit in range(16):
        code |= ((ix >> bit) & 1) << (2 * bit) | ((iy >> bit) & 1) << (2 * bit + 1)
    return code


def _interior(net: StreetNetwork, keep: np.ndarray) -> np.ndarray:
    """Nodes with exactly two segment ends, joining two different neighbours, not kept."""
    n = net.n_nodes
    a, b = net.seg_a.astype(np.int64), net.seg_b.astype(np.int64)
    ends = np.concatenate([a, b])
    other = np.concatenate([b, a])
    deg = np.bincount(ends, minlength=n)
    inner = (deg == 2) & ~keep
    # a self-loop or two parallel segments to one neighbour: keep the node as a junction
    lo = np.full(n, np.iinfo(np.int64).max)
    hi = np.full(n, -1)
    np.minimum.at(lo, ends, other)
    np.maximum.at(hi, ends, other)
    inner &= lo != hi
    loops = a == b
    inner[a[loops]] = False
    return inner


def contract(net: StreetNetwork, keep: np.ndarray | None = None) -> Chains:
    """Contract the degree-2 chains of ``net``.

    Parameters
    ----------
    net
        The street network.
    keep
        Node indices that must stay core nodes (e.g. the ends of the sources' segments).

    Returns
    -------
    Chains
    """
    n, m = net.n_nodes, net.n_segments
    keep_mask = np.zeros(n, bool)
    if keep is not None and len(keep):
        keep_mask[np.asarray(keep, np.int64)] = True
    inner = _interior(net, keep_mask)
    a, b = net.seg_a.astype(np.int64), net.seg_b.astype(np.int64)
    # a graded network's directions have their own speeds (equal to seg_speed on the flat)
    t_ab, t_ba = net.seg_len / net.speed_ab(), net.seg_len / net.speed_ba()
    # darts: 2s runs a->b, 2s+1 runs b->a; a dart's cost forward (tail to head) and back
    d_tail = np.empty(2 * m, np.int64)
    d_head = np.empty(2 * m, np.int64)
    d_tail[0::2], d_tail[1::2] = a, b
    d_head[0::2], d_head[1::2] = b, a
    fwd = np.empty(2 * m)
    fwd[0::2] = np.where(net.seg_fwd, t_ab, np.inf)
    fwd[1::2] = np.where(net.seg_rev, t_ba, np.inf)
    back = fwd.reshape(-1, 2)[:, ::-1].ravel()  # a dart's cost is its twin's forward cost
    # the dart leaving an interior node by its other segment
    out_order = np.argsort(d_tail, kind="stable")
    start = np.searchsorted(d_tail[out_order], np.arange(n))
    twin = np.arange(2 * m) ^ 1
    h = d_head
    first_out = out_order[np.minimum(start[h], 2 * m - 1)]
    second_out = out_order[np.minimum(start[h] + 1, 2 * m - 1)]
    nxt = np.where(first_out == twin, second_out, first_out)
    nxt = np.where(inner[h], nxt, -1)
    # pointer jumping: each dart's far core node, forward seconds to it, and seconds from it back
    term = d_head.copy()
    to_end = fwd.copy()
    from_end = back.copy()
    for _ in range(64):
        live = np.flatnonzero(nxt >= 0)
        if len(live) == 0:
            break
        j = nxt[live]
        to_end[live] = to_end[live] + to_end[j]
        from_end[live] = from_end[j] + from_end[live]
        term[live] = term[j]
        nxt[live] = nxt[j]
    else:  # a closed ring of degree-2 nodes with no junction: keep its nodes as core
        ring = np.unique(d_head[nxt >= 0])
        return contract(net, np.concatenate([np.flatnonzero(keep_mask), ring]))
    core_nodes = np.flatnonzero(~inner)
    # numbered along a Z-curve: routes and the targets read off them touch nearby memory
    core_nodes = core_nodes[np.argsort(_zorder(net.node_x[core_nodes], net.node_y[core_nodes]), kind="stable")]
    core = np.full(n, -1, np.int64)
    core[core_nodes] = np.arange(len(core_nodes))
    # edges: every dart leaving a core node, to the core node its chain ends at
    e = np.flatnonzero(~inner[d_tail] & np.isfinite(to_end) & (term != d_tail))
    # entries: a core node is its own entry; an interior node has one per dart leaving it
    entry_core = np.zeros((n, 2), np.int64)
    entry_s = np.full((n, 2), np.inf)
    entry_core[core_nodes, 0] = core[core_nodes]
    entry_s[core_nodes, 0] = 0.0
    leave = np.flatnonzero(inner[d_tail])
    order = leave[np.argsort(d_tail[leave], kind="stable")]
    node = d_tail[order]
    col = np.zeros(len(order), np.int64)
    col[1::2] = 1  # each interior node has exactly two darts leaving it
    entry_core[node, col] = core[term[order]]
    entry_s[node, col] = from_end[order]
    return Chains(core, len(core_nodes), core[d_tail[e]], core[term[e]], to_end[e], entry_core, entry_s)

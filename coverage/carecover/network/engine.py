"""Travel times from many facilities at once on the CSR street graph.

Each snapped facility becomes a virtual node linked to the two ends of its segment with the
exact partial-segment time (plus its access leg). One bounded multi-source Dijkstra
(``scipy.sparse.csgraph.dijkstra(..., min_only=True, limit=...)``) then gives every node its time
to the nearest facility and which facility that is. Point times (population cells, samples)
are read off their segment's two ends, with the along-segment case for a facility on the same
segment handled exactly. Site × demand reach matrices route each site on its street window,
or, for long limits, on the whole network's junctions (:mod:`carecover.network.chains`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from carecover.network._reach_csr import row_major
from carecover.network.augment import augmented, source_links
from carecover.network.build import window_network
from carecover.network.chains import Chains, contract
from carecover.network.snap import Snapped
from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork, csr_min


@dataclass
class NodeTimes:
    """Per node: time to the nearest source and which source that is.

    Attributes
    ----------
    time
        Seconds per node (``inf`` beyond the limit).
    source
        Index of the nearest source per node (-1 beyond the limit).
    limit_s
        The search bound used.
    """

    time: np.ndarray
    source: np.ndarray
    limit_s: float


def nearest(net: StreetNetwork, sources: Snapped, limit_s: float = np.inf) -> NodeTimes:
    """Multi-source bounded Dijkstra: every node's time to its nearest source.

    Parameters
    ----------
    net
        The street network.
    sources
        Snapped sources (facilities); those not ``ok`` take no part.
    limit_s
        Search bound in seconds; nodes beyond it get ``inf`` and source ``-1``.

    Returns
    -------
    NodeTimes
    """
    n = net.n_nodes
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return NodeTimes(np.full(n, np.inf), np.full(n, -1, np.int64), float(limit_s))
    G = augmented(net, sources)
    dist, _, src = dijkstra(G, directed=True, indices=n + ok, min_only=True, limit=limit_s,
                            return_predecessors=True)
    src = np.where(src >= n, src - n, -1).astype(np.int64)
    return NodeTimes(dist[:n], src[:n], float(limit_s))


def per_source(net: StreetNetwork, sources: Snapped, limit_s: float,
               chunk: int = 64) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Bounded single-source times, a chunk of sources at a time.

    Parameters
    ----------
    net
        The street network.
    sources
        Snapped sources; those not ``ok`` are skipped.
    limit_s
        Search bound in seconds.
    chunk
        Sources per Dijkstra call (bounds the memory of the dense rows).

    Yields
    ------
    (source indices, times)
        ``times`` is ``len(indices) × n_nodes`` (seconds, ``inf`` beyond ``limit_s``).
    """
    n = net.n_nodes
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return
    G = augmented(net, sources)
    for start in range(0, len(ok), chunk):
        idx = ok[start:start + chunk]
        d = dijkstra(G, directed=True, indices=n + idx, limit=limit_s)
        yield idx, d[:, :n]


@dataclass
class _CoreRoutes:
    """The whole network with its degree-2 chains contracted, ready for one-to-many runs.

    ``graph`` holds the core nodes, then one virtual node per source (linked to its segment's
    ends, which are kept as core nodes); ``core[k]``/``offset[k]``/``usable[k]`` give each
    target its k-th core node (at most two distinct ones) and the seconds from it to the
    target, access leg included; ``ids`` are the targets' column numbers.
    """

    graph: sp.csr_matrix
    n_core: int
    core: np.ndarray
    offset: np.ndarray
    usable: np.ndarray
    ids: np.ndarray

    @classmethod
    def build(cls, net: StreetNetwork, sources: Snapped, targets: Snapped, ids: np.ndarray) -> _CoreRoutes:
        ok = np.flatnonzero(sources.ok)
        s = sources.seg[ok]
        ch = contract(net, np.concatenate([net.seg_a[s], net.seg_b[s]]))
        i, node, lw = source_links(net, sources)
        graph = csr_min(np.concatenate([ch.tail, ch.n_core + i]), np.concatenate([ch.head, ch.core[node]]),
                         np.concatenate([ch.time_s, lw]), ch.n_core + len(sources))
        core, offset = _target_entries(net, ch, targets)
        core, offset = np.ascontiguousarray(core.T), np.ascontiguousarray(offset.T)
        return cls(graph, ch.n_core, core, offset, np.isfinite(offset), ids)

    def rows(self, idx: np.ndarray, limit_s: float,
             block: int = 16) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """One Dijkstra run from the sources ``idx``; yields, a block of sources at a time,
        their entry counts, then (column, seconds) of every target within ``limit_s``,
        source by source (columns ascending)."""
        D_all = dijkstra(self.graph, directed=True, indices=self.n_core + idx, limit=limit_s)
        for start in range(0, len(idx), block):
            # a few rows at a time: they stay in cache while the targets are read off them
            D = D_all[start:start + block, :self.n_core]
            yield self._block(D, limit_s)

    def _block(self, D: np.ndarray, limit_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        core, off = self.core, self.offset
        if np.isfinite(limit_s):
            # only targets with an entry these sources reach can be within the limit
            reached = np.isfinite(D).any(axis=0)
            hit = reached[core[0]] & self.usable[0]
            for k in range(1, len(core)):
                hit |= reached[core[k]] & self.usable[k]
            near = np.flatnonzero(hit)
        else:  # without a limit every target gets an entry, reached or not, as it always has
            near = np.arange(core.shape[1])
        # (np.take keeps the rows contiguous; D[:, cols] would return a column-major copy)
        tt = np.take(D, core[0][near], axis=1)
        tt += off[0][near]
        for k in range(1, len(core)):
            alt = np.take(D, core[k][near], axis=1)
            alt += off[k][near]
            np.minimum(tt, alt, out=tt)
        within = tt <= limit_s
        flat = np.flatnonzero(within)
        counts = np.count_nonzero(within, axis=1)
        del within
        # row-major: each row's targets ascending
        c = flat - np.repeat(np.arange(len(D), dtype=np.int64) * tt.shape[1], counts)
        return counts, self.ids[near][c], np.take(tt.ravel(), flat)


def _target_entries(net: StreetNetwork, ch: Chains, targets: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Per target the distinct core nodes a route to it comes from and the seconds from each
    (``inf`` and node 0 where unused), its access leg included."""
    s = targets.seg
    L, v = net.seg_len[s], net.seg_speed[s]
    a, b = net.seg_a[s], net.seg_b[s]
    # as in _endpoint_terms: via a segment end only where the segment can be driven from it
    to_a = np.where(net.seg_fwd[s] | (targets.frac == 0.0), targets.frac * L / net.speed_ab(s), np.inf)
    to_b = np.where(net.seg_rev[s] | (targets.frac == 1.0), (1.0 - targets.frac) * L / net.speed_ba(s),
                    np.inf)
    core = np.concatenate([ch.entry_core[a], ch.entry_core[b]], axis=1)
    off = np.concatenate([ch.entry_s[a] + to_a[:, None], ch.entry_s[b] + to_b[:, None]], axis=1)
    off += (targets.dist / v)[:, None]
    off[~targets.ok] = np.inf
    # the same core node twice (a target inside a chain reaches both ends through both of its
    # segment ends): keep the faster
    for k in range(1, 4):
        for j in range(k):
            same = core[:, k] == core[:, j]
            off[same, j] = np.minimum(off[same, j], off[same, k])
            off[same, k] = np.inf
    core = np.where(np.isfinite(off), core, 0)
    order = np.argsort(~np.isfinite(off), axis=1, kind="stable")
    core = np.take_along_axis(core, order, axis=1)
    off = np.take_along_axis(off, order, axis=1)
    k = max(1, int(np.isfinite(off).sum(axis=1).max(initial=0)))
    return np.ascontiguousarray(core[:, :k]), np.ascontiguousarray(off[:, :k])


def _endpoint_terms(net: StreetNetwork, targets: Snapped, Ta: np.ndarray, Tb: np.ndarray) -> np.ndarray:
    """Time at each target from node times at its segment ends (broadcasts over leading axes)."""
    s = targets.seg
    L = net.seg_len[s]
    # a target exactly at a segment end is at that node, whatever the segment's direction
    via_a = np.where(net.seg_fwd[s] | (targets.frac == 0.0), Ta + targets.frac * L / net.speed_ab(s), np.inf)
    via_b = np.where(net.seg_rev[s] | (targets.frac == 1.0), Tb + (1.0 - targets.frac) * L / net.speed_ba(s),
                     np.inf)
    return np.minimum(via_a, via_b)


def _same_segment(net: StreetNetwork, sources: Snapped,
                  targets: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(target idx, source idx, seconds) for sources on the same segment as a target."""
    sidx = np.flatnonzero(sources.ok)
    tidx = np.flatnonzero(targets.ok)
    if len(sidx) == 0 or len(tidx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    order = np.argsort(sources.seg[sidx], kind="stable")
    sidx = sidx[order]
    sseg = sources.seg[sidx]
    lo = np.searchsorted(sseg, targets.seg[tidx], "left")
    hi = np.searchsorted(sseg, targets.seg[tidx], "right")
    has = hi > lo
    ti = np.repeat(tidx[has], (hi - lo)[has])
    si = np.concatenate([sidx[a:b] for a, b in zip(lo[has], hi[has], strict=True)]) if has.any() \
        else np.zeros(0, np.int64)
    if len(ti) == 0:
        return ti, si, np.zeros(0)
    s = targets.seg[ti]
    L, v = net.seg_len[s], net.seg_speed[s]
    delta = (targets.frac[ti] - sources.frac[si]) * L
    allowed = np.where(delta > 0, net.seg_fwd[s], np.where(delta < 0, net.seg_rev[s], True))
    along = np.where(delta > 0, net.speed_ab(s), net.speed_ba(s))
    t = np.where(allowed, np.abs(delta) / along + sources.dist[si] / v, np.inf)
    return ti, si, t


def point_times(net: StreetNetwork, node_times: NodeTimes, targets: Snapped,
                sources: Snapped | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from the nearest source to each snapped target, and that source's index.

    Parameters
    ----------
    net
        The street network.
    node_times
        From :func:`nearest`.
    targets
        Snapped targets (demand points, samples).
    sources
        The set used for ``node_times``; enables the exact along-segment case where a source
        and a target share a segment.

    Returns
    -------
    (time_s, source_idx)
        Per target, including its access leg; targets not snapped, or beyond the limit, get
        ``inf`` and -1.
    """
    T, S = node_times.time, node_times.source
    s = targets.seg
    a, b = net.seg_a[s], net.seg_b[s]
    L, v = net.seg_len[s], net.seg_speed[s]
    via_a = np.where(net.seg_fwd[s] | (targets.frac == 0.0), T[a] + targets.frac * L / net.speed_ab(s), np.inf)
    via_b = np.where(net.seg_rev[s] | (targets.frac == 1.0), T[b] + (1.0 - targets.frac) * L / net.speed_ba(s),
                     np.inf)
    time = np.minimum(via_a, via_b)
    src = np.where(via_a <= via_b, S[a], S[b])
    if sources is not None:
        ti, si, t = _same_segment(net, sources, targets)
        if len(ti):
            order = np.lexsort((si, t, ti))  # per target: fastest, then lowest source index
            ti, si, t = ti[order], si[order], t[order]
            first = np.ones(len(ti), bool)
            first[1:] = ti[1:] != ti[:-1]
            ti, si, t = ti[first], si[first], t[first]
            better = t < time[ti]
            time[ti[better]] = t[better]
            src[ti[better]] = si[better]
    time = time + targets.dist / v
    bad = ~targets.ok | ~np.isfinite(time) | (time > node_times.limit_s)
    time[bad] = np.inf
    src = np.where(bad, -1, src)
    return time, src.astype(np.int64)


def _fastest(net: StreetNetwork) -> float:
    """The fastest speed on the network in either direction (m/s)."""
    if net.seg_slope_ab is None and net.seg_slope_ba is None:
        return float(net.seg_speed.max())
    return float(max(net.speed_ab().max(), net.speed_ba().max()))


def _zorder(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of non-negative integer cell coordinates below 2**16."""
    ix = np.clip(ix, 0, 2**16 - 1).astype(np.int64)
    iy = np.clip(iy, 0, 2**16 - 1).astype(np.int64)
    code = np.zeros(len(ix), np.int64)
    for bit in range(16):
        code |= ((ix >> bit) & 1) << (2 * bit) | ((iy >> bit) & 1) << (2 * bit + 1)
    return code


def _chunks(net: StreetNetwork, sources: Snapped, limit_s: float,
            chunk: int) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """Chunks of nearby sources, each with the street window no route within ``limit_s`` leaves.

    Returns ``(source indices, ascending segment indices of the window)`` per chunk, the window
    ``None`` where it would be most of the network. A route of ``limit_s`` seconds stays within
    ``limit_s × fastest speed`` of its start in a straight line, so every segment it touches
    meets the square around the chunk's source positions grown by that much: routing on that
    window gives the same times as routing on the whole network.
    """
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return []
    s = sources.seg[ok]
    a, b, f = net.seg_a[s], net.seg_b[s], sources.frac[ok]
    px = net.node_x[a] + f * (net.node_x[b] - net.node_x[a])
    py = net.node_y[a] + f * (net.node_y[b] - net.node_y[a])
    reach = float(limit_s) * _fastest(net) + 1.0 if net.n_segments else 0.0
    if not np.isfinite(reach):
        reach = np.inf
    cell = 2.0 * reach if np.isfinite(reach) else 1.0
    if np.isfinite(reach):
        key = (np.floor((px - px.min()) / cell).astype(np.int64) * 1_000_003
               + np.floor((py - py.min()) / cell).astype(np.int64))
        # cell by cell; within a cell along a Z-curve, so that a chunk's sources lie close
        # together and reach few of the same targets' streets (rows do not depend on the chunk)
        fine = _zorder(np.floor((px - px.min()) / (cell / 256)), np.floor((py - py.min()) / (cell / 256)))
        order = np.lexsort((ok, fine, key))
        bounds = np.flatnonzero(np.r_[True, key[order][1:] != key[order][:-1], True])
        groups = [order[bounds[g]:bounds[g + 1]] for g in range(len(bounds) - 1)]
    else:
        groups = [np.arange(len(ok))]
    tree = segment_index(net) if np.isfinite(reach) else None
    out = []
    for grp in groups:
        for start in range(0, len(grp), chunk):
            g = np.sort(grp[start:start + chunk])
            segs = None
            if tree is not None:
                box = shapely.box(px[g].min() - reach, py[g].min() - reach, px[g].max() + reach,
                                  py[g].max() + reach)
                segs = np.sort(tree.query(box))
                if len(segs) > net.n_segments // 3:
                    segs = None  # most of the network: cutting it out costs more than it saves
            out.append((ok[g], segs))
    return out


def _window(net: StreetNetwork, sources: Snapped, targets: Snapped, tok: np.ndarray, idx: np.ndarray,
            segs: np.ndarray) -> tuple[StreetNetwork, Snapped, np.ndarray, Snapped]:
    """The window network of ``segs`` with the sources ``idx`` and the targets on it (their
    indices among ``tok``, the usable targets, and their Snapped on the window)."""
    local = window_network(net, segs)
    src = sources.subset(idx)
    src.seg = np.searchsorted(segs, src.seg)
    pos = np.searchsorted(segs, targets.seg[tok])
    inside = (pos < len(segs)) & (segs[np.minimum(pos, len(segs) - 1)] == targets.seg[tok])
    ti = tok[inside]
    tg = targets.subset(ti)
    tg.seg = pos[inside]
    return local, src, ti, tg


#: Fewest sources for which contracting the whole network pays (its build costs about as much
#: as routing a dozen sources without it).
_CONTRACT_FROM = 16


def reach_matrix(net: StreetNetwork, sources: Snapped, targets: Snapped, limit_s: float,
                 chunk: int = 64, window: bool = True) -> sp.csr_matrix:
    """Sources × targets sparse matrix of travel seconds within ``limit_s``.

    Nearby sources are routed together on the window of streets they can reach (see
    :func:`_chunks`), which gives the same times as the whole network at a fraction of the
    cost on a large city. Where a window would be most of the network (long drives), every
    source is routed on the whole network instead; from 16 sources on, on its junctions only
    (:mod:`carecover.network.chains`: degree-2 chains contracted, about a third of the nodes
    of a street network), with the same times up to float rounding (the seconds along a
    chain are summed before they are added to a route).

    Parameters
    ----------
    net
        The street network.
    sources, targets
        Snapped points; those not ``ok`` have empty rows / columns.
    limit_s
        Travel-time bound in seconds.
    chunk
        Sources per Dijkstra call (and per window). It can change only which of the two routes
        is taken (bit for bit the same rows within a route; across them up to float rounding).
    window
        Route on street windows where they are small; ``False`` routes every source on the
        whole (contracted) network (kept for checking).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``len(sources) × len(targets)``; values are ``seconds + 1e-9`` so that a zero time is
        still an explicit entry (subtract it, or test ``> 0``, when reading).
    """
    nt = len(targets)
    rows, cols, vals = [], [], []
    small = np.int32 if nt < 2**31 and len(sources) < 2**31 else np.int64
    tok = np.flatnonzero(targets.ok)
    chunks = _chunks(net, sources, limit_s if window else np.inf, chunk) if len(tok) else []
    if any(segs is None for _, segs in chunks) and sources.ok.sum() >= _CONTRACT_FROM:
        # a long limit: every source is routed on the whole network's junctions (degree-2
        # chains contracted), built once; fewer nodes to settle than even a small window
        whole = _CoreRoutes.build(net, sources, targets.subset(tok), tok.astype(small))
        for idx, _ in chunks:
            done = 0
            for n, c, v in whole.rows(idx, limit_s):
                rows.append((idx[done:done + len(n)], n))
                cols.append(c)
                vals.append(v)
                done += len(n)
        chunks = []
    for idx, segs in chunks:
        if segs is None:  # a few sources on the whole network
            local, src, ti, tg = net, sources.subset(idx), tok, targets.subset(tok)
        else:
            local, src, ti, tg = _window(net, sources, targets, tok, idx, segs)
        if len(ti) == 0:
            continue
        for j, D in per_source(local, src, limit_s, chunk):
            # only targets on a street with an end the chunk reaches can be within the limit
            # (the same-segment routes are merged in below)
            # (without a limit every target gets an entry, reached or not, as it always has)
            if np.isfinite(limit_s):
                reached = np.isfinite(D).any(axis=0)
                near = np.flatnonzero(reached[local.seg_a[tg.seg]] | reached[local.seg_b[tg.seg]])
            else:
                near = np.arange(len(tg.seg))
            sub = tg.subset(near)
            ss = sub.seg
            tt = _endpoint_terms(local, sub, D[:, local.seg_a[ss]], D[:, local.seg_b[ss]])
            del D
            tt += sub.dist / local.seg_speed[ss]
            r, c = np.nonzero(tt <= limit_s)
            rows.append((idx[j], np.bincount(r, minlength=len(j))))
            cols.append(ti[near[c]].astype(small))
            vals.append(tt[r, c])
    ti, si, t = _same_segment(net, sources, targets)
    t = t + targets.dist[ti] / net.seg_speed[targets.seg[ti]]
    keep = t <= limit_s
    extra = None
    if keep.any():
        # the few same-segment routes: kept where faster than the row's endpoint route, or added
        k2 = si[keep].astype(np.int64) * nt + ti[keep]
        v2 = t[keep]
        order = np.lexsort((v2, k2))
        k2, v2 = k2[order], v2[order]
        first = np.r_[True, k2[1:] != k2[:-1]]
        k2, v2 = k2[first], v2[first]
        extra = (k2 // nt, k2 % nt, v2)
    indptr, C, V = row_major(rows, cols, vals, len(sources), nt, extra)
    V += 1e-9
    return sp.csr_matrix((V, C, indptr), shape=(len(sources), nt))


def catchments(node_times: NodeTimes, n_sources: int) -> np.ndarray:
    """Number of nodes each source reaches first (its catchment size).

    Parameters
    ----------
    node_times
        From :func:`nearest`; ``node_times.source`` holds the per-node assignment itself.
    n_sources
        Number of sources (the length of the result).

    Returns
    -------
    numpy.ndarray
        Node counts per source.
    """
    s = node_times.source
    return np.bincount(s[s >= 0], minlength=n_sources)

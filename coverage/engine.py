"""Travel times from many facilities at once on the CSR street graph.

Each snapped facility becomes a virtual node linked to the two ends of its segment with the
exact partial-segment time (plus its access leg). One bounded multi-source Dijkstra
(``scipy.sparse.csgraph.dijkstra(..., min_only=True, limit=...)``) then gives every node its time
to the nearest facility and which facility that is. Point times (population cells, samples)
are read off their segment's two ends, with the along-segment case for a facility on the same
segment handled exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .network import StreetNetwork, _csr_min
from .snap import Snapped


@dataclass
class NodeTimes:
    """Per node: seconds to the nearest source (``inf`` beyond the limit) and its index (-1)."""

    time: np.ndarray
    source: np.ndarray
    limit_s: float


def _source_links(net: StreetNetwork, src: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Virtual links (source index, node, seconds) from each snapped source to its segment's ends."""
    idx = np.flatnonzero(src.ok)
    s = src.seg[idx]
    L, v = net.seg_len[s], net.seg_speed[s]
    access = src.dist[idx] / v
    # a source exactly at a segment end is at that node, whatever the segment's direction
    fwd = net.seg_fwd[s] | (src.frac[idx] == 1.0)
    rev = net.seg_rev[s] | (src.frac[idx] == 0.0)
    to_b = access + (1.0 - src.frac[idx]) * L / v
    to_a = access + src.frac[idx] * L / v
    i = np.concatenate([idx[fwd], idx[rev]])
    node = np.concatenate([net.seg_b[s][fwd], net.seg_a[s][rev]])
    w = np.concatenate([to_b[fwd], to_a[rev]])
    return i, node, w


def _augmented(net: StreetNetwork, src: Snapped) -> sp.csr_matrix:
    """Street graph plus one virtual node per source (row/col ``n + i``)."""
    tail, head, w, _ = net.directed()
    i, node, lw = _source_links(net, src)
    n = net.n_nodes
    return _csr_min(np.concatenate([tail, n + i]), np.concatenate([head, node]),
                    np.concatenate([w, lw]), n + len(src))


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
    """
    n = net.n_nodes
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return NodeTimes(np.full(n, np.inf), np.full(n, -1, np.int64), float(limit_s))
    G = _augmented(net, sources)
    dist, _, src = dijkstra(G, directed=True, indices=n + ok, min_only=True, limit=limit_s,
                            return_predecessors=True)
    src = np.where(src >= n, src - n, -1).astype(np.int64)
    return NodeTimes(dist[:n], src[:n], float(limit_s))


def per_source(net: StreetNetwork, sources: Snapped, limit_s: float,
               chunk: int = 64) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Bounded single-source times, a chunk of sources at a time.

    Yields
    ------
    (source indices, times)
        ``times`` is ``len(indices) × n_nodes`` (seconds, ``inf`` beyond ``limit_s``).
    """
    n = net.n_nodes
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return
    G = _augmented(net, sources)
    for start in range(0, len(ok), chunk):
        idx = ok[start:start + chunk]
        d = dijkstra(G, directed=True, indices=n + idx, limit=limit_s)
        yield idx, d[:, :n]


def _endpoint_terms(net: StreetNetwork, targets: Snapped, Ta: np.ndarray, Tb: np.ndarray) -> np.ndarray:
    """Time at each target from node times at its segment ends (broadcasts over leading axes)."""
    s = targets.seg
    L, v = net.seg_len[s], net.seg_speed[s]
    # a target exactly at a segment end is at that node, whatever the segment's direction
    via_a = np.where(net.seg_fwd[s] | (targets.frac == 0.0), Ta + targets.frac * L / v, np.inf)
    via_b = np.where(net.seg_rev[s] | (targets.frac == 1.0), Tb + (1.0 - targets.frac) * L / v, np.inf)
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
    t = np.where(allowed, np.abs(delta) / v + sources.dist[si] / v, np.inf)
    return ti, si, t


def point_times(net: StreetNetwork, node_times: NodeTimes, targets: Snapped,
                sources: Snapped | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seconds from the nearest source to each snapped target, and that source's index.

    ``sources`` (the set used for ``node_times``) enables the exact along-segment case where a
    source and a target share a segment. Targets not snapped, or beyond the limit, get ``inf``/-1.
    """
    T, S = node_times.time, node_times.source
    s = targets.seg
    a, b = net.seg_a[s], net.seg_b[s]
    L, v = net.seg_len[s], net.seg_speed[s]
    via_a = np.where(net.seg_fwd[s] | (targets.frac == 0.0), T[a] + targets.frac * L / v, np.inf)
    via_b = np.where(net.seg_rev[s] | (targets.frac == 1.0), T[b] + (1.0 - targets.frac) * L / v,
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


def reach_matrix(net: StreetNetwork, sources: Snapped, targets: Snapped, limit_s: float,
                 chunk: int = 64) -> sp.csr_matrix:
    """Sources × targets sparse matrix of travel seconds within ``limit_s``.

    Values are stored as ``seconds + 1e-9`` so that a zero time is still an explicit entry;
    subtract it (or test ``> 0``) when reading.
    """
    rows, cols, vals = [], [], []
    tok = targets.ok
    ss = targets.seg
    for idx, D in per_source(net, sources, limit_s, chunk):
        tt = _endpoint_terms(net, targets, D[:, net.seg_a[ss]], D[:, net.seg_b[ss]])
        tt = tt + targets.dist / net.seg_speed[ss]
        tt[:, ~tok] = np.inf
        r, c = np.nonzero(tt <= limit_s)
        rows.append(idx[r])
        cols.append(c)
        vals.append(tt[r, c])
    ti, si, t = _same_segment(net, sources, targets)
    t = t + targets.dist[ti] / net.seg_speed[targets.seg[ti]]
    keep = t <= limit_s
    rows.append(si[keep])
    cols.append(ti[keep])
    vals.append(t[keep])
    R = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    C = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    V = np.concatenate(vals) if vals else np.zeros(0)
    # duplicates (endpoint route and same-segment route): keep the faster
    order = np.lexsort((V, C, R))
    R, C, V = R[order], C[order], V[order]
    first = np.ones(len(R), bool)
    first[1:] = (R[1:] != R[:-1]) | (C[1:] != C[:-1])
    return sp.csr_matrix((V[first] + 1e-9, (R[first], C[first])), shape=(len(sources), len(targets)))


def catchments(node_times: NodeTimes, n_sources: int) -> np.ndarray:
    """Number of nodes each source reaches first (its catchment size); ``node_times.source`` holds
    the per-node assignment itself."""
    s = node_times.source
    return np.bincount(s[s >= 0], minlength=n_sources)

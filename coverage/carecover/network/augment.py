"""The street graph with one virtual node per source, without rebuilding the street part.

A multi-source search (:func:`carecover.network.engine.nearest`) adds one virtual node per
snapped facility, linked to the two ends of its segment with the exact partial-segment time
(plus its access leg). Building that graph from the edge list sorts every street edge again
(``csr_min``: about ten times the search itself at Hohhot scale, for each tier). The virtual
nodes come after the street nodes and only have edges *out*, so the augmented CSR is the street
CSR with a few rows appended: the street CSR is built once per network object (kept in a
weak-keyed memo beside it, like :func:`carecover.network.spatial.segment_index`) and each call
only sorts the source edges and concatenates. The result has exactly the arrays ``csr_min`` of
all edges gives (same order, same values), so every search on it is the same bit for bit.
"""

from __future__ import annotations

import weakref

import numpy as np
import scipy.sparse as sp

from carecover.network.snap import Snapped
from carecover.network.spatial import once_per_network
from carecover.network.streets import StreetNetwork

__all__ = ["augmented", "source_links", "street_csr"]

_STREET_CSR: weakref.WeakKeyDictionary[StreetNetwork, sp.csr_matrix] = weakref.WeakKeyDictionary()


def street_csr(net: StreetNetwork) -> sp.csr_matrix:
    """The network's travel-time CSR (:meth:`StreetNetwork.csr`), built once per network object.

    Parameters
    ----------
    net
        The network; its arrays must not change afterwards (no code changes them in place).

    Returns
    -------
    scipy.sparse.csr_matrix
        ``n × n``; the same object for every call on the same network (do not modify it).
    """
    return once_per_network(_STREET_CSR, net, lambda n: n.csr())


def source_links(net: StreetNetwork, src: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Virtual links from each snapped source to its segment's ends.

    Parameters
    ----------
    net
        The network.
    src
        Snapped sources; those not ``ok`` get no links.

    Returns
    -------
    (source index, node, seconds)
        One entry per link: to node ``b`` where the segment can be travelled ``a→b`` from the
        source, to node ``a`` where ``b→a``; the seconds include the access leg.
    """
    idx = np.flatnonzero(src.ok)
    s = src.seg[idx]
    L, v = net.seg_len[s], net.seg_speed[s]
    access = src.dist[idx] / v
    # a source exactly at a segment end is at that node, whatever the segment's direction
    fwd = net.seg_fwd[s] | (src.frac[idx] == 1.0)
    rev = net.seg_rev[s] | (src.frac[idx] == 0.0)
    to_b = access + (1.0 - src.frac[idx]) * L / net.speed_ab(s)
    to_a = access + src.frac[idx] * L / net.speed_ba(s)
    i = np.concatenate([idx[fwd], idx[rev]])
    node = np.concatenate([net.seg_b[s][fwd], net.seg_a[s][rev]])
    w = np.concatenate([to_b[fwd], to_a[rev]])
    return i, node, w


def augmented(net: StreetNetwork, src: Snapped) -> sp.csr_matrix:
    """Street graph plus one virtual node per source (row/column ``n + i``).

    Parameters
    ----------
    net
        The network.
    src
        Snapped sources; every source gets its node, those not ``ok`` without edges.

    Returns
    -------
    scipy.sparse.csr_matrix
        ``(n + len(src))`` square; the arrays of ``csr_min`` over the street and source edges
        (parallel links keep the fastest; each row's columns ascending).
    """
    G = street_csr(net)
    n = net.n_nodes
    i, node, w = source_links(net, src)
    # as csr_min: by row, then column, then seconds; the first of each (row, column) kept
    order = np.lexsort((w, node, i))
    i, node, w = i[order], node[order], w[order]
    keep = np.ones(len(i), bool)
    keep[1:] = (i[1:] != i[:-1]) | (node[1:] != node[:-1])
    i, node, w = i[keep], node[keep], w[keep]
    m = n + len(src)
    index = np.int32 if max(m, G.nnz + len(i)) < 2**31 else np.int64
    counts = np.bincount(i, minlength=len(src))
    indptr = np.empty(m + 1, index)
    indptr[:n + 1] = G.indptr
    np.cumsum(counts, out=indptr[n + 1:])
    indptr[n + 1:] += G.nnz
    indices = np.concatenate([G.indices.astype(index, copy=False), node.astype(index, copy=False)])
    data = np.concatenate([G.data, w.astype(G.data.dtype, copy=False)])
    return sp.csr_matrix((data, indices, indptr), shape=(m, m))

"""The source-augmented street graph: built from the memoised street CSR, equal to sorting every edge.

:func:`carecover.network.augment.augmented` appends the sources' rows to the street CSR built
once per network, instead of sorting the street edges again for each set of sources. The
reference here is the formulation it replaced: ``csr_min`` over the street edges and the source
links together. The arrays must be identical (so every search on them is identical bit for
bit); the times themselves are checked against networkx in test_engine.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.network import engine, snap_xy
from carecover.network.augment import augmented, source_links, street_csr
from carecover.network.streets import csr_min
from engine_reference import mixed_points
from scipy.sparse.csgraph import dijkstra


def _sorted_every_edge(net, src) -> sp.csr_matrix:
    """The street edges and the source links in one ``csr_min`` (the formulation replaced)."""
    tail, head, w, _ = net.directed()
    i, node, lw = source_links(net, src)
    n = net.n_nodes
    return csr_min(np.concatenate([tail, n + i]), np.concatenate([head, node]), np.concatenate([w, lw]),
                   n + len(src))


def _sources(net, seed: int):
    """Street positions, exact node positions (fractions 0 and 1), points far off the streets
    (unsnapped), and one point given twice (two sources on one segment, parallel links)."""
    rng = np.random.default_rng(seed)
    x, y = mixed_points(net, rng, n_street=30, n_node=6, n_bbox=6)
    x, y = np.r_[x, x[:1]], np.r_[y, y[:1]]
    src = snap_xy(net, x, y)
    assert src.ok.sum() >= 25 and (~src.ok).any()
    assert np.isin(src.frac[src.ok], [0.0, 1.0]).any()
    return src


def _assert_same_arrays(got: sp.csr_matrix, want: sp.csr_matrix) -> None:
    assert got.shape == want.shape
    for name in ("indptr", "indices", "data"):
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize("profile", ["walk", "drive"])
def test_augmented_has_the_arrays_of_sorting_every_edge(real_network, profile):
    net = real_network("monaco_pbf", profile)
    for seed in (1, 2):  # two source sets on one memoised street CSR (two tiers)
        src = _sources(net, seed)
        _assert_same_arrays(augmented(net, src), _sorted_every_edge(net, src))


def test_street_csr_is_built_once_and_never_changed(real_network):
    net = real_network("monaco_pbf", "walk")
    G = street_csr(net)
    assert street_csr(net) is G
    before = G.data.copy(), G.indices.copy(), G.indptr.copy()
    A = augmented(net, _sources(net, 3))
    A.data[:] = -1.0  # a caller that writes into its graph leaves the street CSR alone
    for a, b in zip((G.data, G.indices, G.indptr), before, strict=True):
        np.testing.assert_array_equal(a, b)
    _assert_same_arrays(G, net.csr())


def test_nearest_bit_for_bit_as_on_the_sorted_graph(real_network):
    net = real_network("monaco_pbf", "drive")
    n = net.n_nodes
    for seed, limit in ((4, 90.0), (5, np.inf)):
        src = _sources(net, seed)
        ok = np.flatnonzero(src.ok)
        want_t, _, want_s = dijkstra(_sorted_every_edge(net, src), directed=True, indices=n + ok, min_only=True,
                                     limit=limit, return_predecessors=True)
        got = engine.nearest(net, src, limit)
        np.testing.assert_array_equal(got.time, want_t[:n])
        np.testing.assert_array_equal(got.source, np.where(want_s[:n] >= n, want_s[:n] - n, -1))


def test_no_sources_gives_the_street_graph(real_network):
    net = real_network("monaco_pbf", "walk")
    src = snap_xy(net, np.array([np.nan]), np.array([np.nan]))
    A = augmented(net, src)
    assert A.shape == (net.n_nodes + 1, net.n_nodes + 1)
    _assert_same_arrays(A, _sorted_every_edge(net, src))

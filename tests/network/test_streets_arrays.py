"""The street-arrays reader (``.streets.npz``): written from a network, read back by
``load_network`` into the same network; a damaged file is one clear error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from carecover.bench.synthetic import synthetic_city
from carecover.errors import NetworkError
from carecover.network import load_network
from carecover.network.readers import StreetData, reader_for
from carecover.network.readers import streets as arrays


def _write(tmp_path, net):
    lon, lat = (np.asarray(a) for a in net.to_wgs84().transform(net.node_x, net.node_y))
    data = StreetData(pd.DataFrame({"id": net.node_id, "lon": lon, "lat": lat}),
                      pd.DataFrame({"highway": net.seg_highway, "u": net.node_id[net.seg_a],
                                    "v": net.node_id[net.seg_b]}))
    return arrays.write(tmp_path / "city.streets.npz", data)


def test_round_trip_gives_the_same_network(tmp_path):
    net = synthetic_city(3000, seed=3)
    path = _write(tmp_path, net)
    assert reader_for(path) is arrays
    back = load_network(path, "walk", cache=False)
    assert back.n_nodes == net.n_nodes and back.n_segments == net.n_segments
    np.testing.assert_array_equal(np.sort(back.node_id), np.sort(net.node_id))
    assert back.seg_len.sum() == pytest.approx(net.seg_len.sum(), rel=1e-6)


def test_clip_keeps_segments_inside(tmp_path):
    net = synthetic_city(3000, seed=3)
    path = _write(tmp_path, net)
    lon, lat = net.to_wgs84().transform(net.node_x, net.node_y)
    box = (float(np.min(lon)), float(np.min(lat)), float(np.median(lon)), float(np.median(lat)))
    part = load_network(path, "walk", boundary=box, cache=False)
    assert 0 < part.n_nodes < net.n_nodes


def test_damaged_file(tmp_path):
    bad = tmp_path / "x.streets.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(NetworkError, match="streets.npz"):
        load_network(bad, "walk", cache=False)


def test_csr_min_keeps_the_least_seconds_of_each_pair():
    """Duplicate (tail, head) pairs keep their least seconds (not the sum coo→csr would give),
    in the arrays a three-key lexsort keeping the first of each pair gives."""
    import scipy.sparse as sp
    from carecover.network.streets import csr_min

    tail = np.array([2, 0, 2, 0, 1, 2, 0], np.int32)
    head = np.array([1, 1, 1, 1, 0, 0, 2], np.int32)
    w = np.array([5.0, 3.0, 4.0, 7.0, 1.0, 2.0, 6.0])
    g = csr_min(tail, head, w, 3)
    assert g.toarray().tolist() == [[0.0, 3.0, 6.0], [1.0, 0.0, 0.0], [2.0, 4.0, 0.0]]
    rng = np.random.default_rng(7)
    t, h = rng.integers(0, 500, 4000), rng.integers(0, 500, 4000)
    w = rng.integers(1, 50, 4000).astype(float)
    order = np.lexsort((w, h, t))
    keep = np.r_[True, (t[order][1:] != t[order][:-1]) | (h[order][1:] != h[order][:-1])]
    ref = sp.csr_matrix((w[order][keep], (t[order][keep], h[order][keep])), shape=(500, 500))
    got = csr_min(t, h, w, 500)
    for a in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got, a), getattr(ref, a))
        assert getattr(got, a).dtype == getattr(ref, a).dtype
    assert csr_min(t[:0], h[:0], w[:0], 5).nnz == 0

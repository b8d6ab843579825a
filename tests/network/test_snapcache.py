"""Snapped demand points kept beside the cached network: read back bit for bit, keyed exactly."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from carecover import datastore
from carecover.network import load_network, snap_xy
from carecover.network.snapcache import snap_cache_file, snap_xy_cached

FIELDS = ("seg", "frac", "dist", "ok", "on_dropped", "x", "y")


@pytest.fixture(scope="module")
def cached_net(monaco_pbf, tmp_path_factory):
    """Monaco's walking network read through a network cache of its own."""
    return load_network(monaco_pbf, "walk", cache=tmp_path_factory.mktemp("cache"))


def _points(net, seed=0, n=400):
    rng = np.random.default_rng(seed)
    x = rng.uniform(net.node_x.min() - 300, net.node_x.max() + 300, n)
    y = rng.uniform(net.node_y.min() - 300, net.node_y.max() + 300, n)
    return np.r_[x, np.nan], np.r_[y, 0.0]


def _same(a, b) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.max_snap_m == b.max_snap_m


def test_written_then_read_back_identical(cached_net):
    x, y = _points(cached_net)
    path, key = snap_cache_file(cached_net, x, y, 300.0)
    assert path.parent.name == "snaps"
    fresh = snap_xy(cached_net, x, y, 300.0)
    first = snap_xy_cached(cached_net, x, y, 300.0)
    assert path.exists()
    _same(first, fresh)
    _same(snap_xy_cached(cached_net, x, y, 300.0), fresh)
    # the entry is what a second call returns: one written under the key is taken as it is
    marked = dataclasses.replace(fresh, dist=fresh.dist + 1.0)
    datastore.save(path, marked, key)
    _same(snap_xy_cached(cached_net, x, y, 300.0), marked)
    path.unlink()


def test_key_follows_points_limit_and_network(cached_net):
    x, y = _points(cached_net, seed=1)
    path, _ = snap_cache_file(cached_net, x, y, 300.0)
    x2 = x.copy()
    x2[0] = np.nextafter(x2[0], np.inf)  # one point moved by one ulp
    assert snap_cache_file(cached_net, x2, y, 300.0)[0] != path
    assert snap_cache_file(cached_net, x, y, 250.0)[0] != path
    other = dataclasses.replace(cached_net, source={**cached_net.source, "cache": str(path.parent / "other.npz")})
    assert snap_cache_file(other, x, y, 300.0)[0] != path


def test_damaged_or_foreign_entry_is_snapped_again(cached_net):
    x, y = _points(cached_net, seed=2)
    path, _ = snap_cache_file(cached_net, x, y, 300.0)
    fresh = snap_xy(cached_net, x, y, 300.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an entry")
    _same(snap_xy_cached(cached_net, x, y, 300.0), fresh)
    datastore.save(path, fresh, "another key")
    _same(snap_xy_cached(cached_net, x, y, 300.0), fresh)


def test_network_without_cache_has_no_entry(monaco_pbf, tmp_path):
    net = load_network(monaco_pbf, "walk", cache=False)
    x, y = _points(net, seed=3, n=50)
    assert snap_cache_file(net, x, y, 300.0) is None
    _same(snap_xy_cached(net, x, y, 300.0), snap_xy(net, x, y, 300.0))

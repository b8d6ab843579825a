"""The maps' street layer kept beside the cached network: read back geometry for geometry, keyed
by the network entry and the vertex budget, made afresh when the entry is damaged or absent."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from carecover import datastore
from carecover.network import load_network
from carecover.network.streetlines import street_lines, street_lines_cache_file, street_lines_cached


@pytest.fixture(scope="module")
def cached_net(monaco_pbf, tmp_path_factory):
    """Monaco's walking network read through a network cache of its own."""
    return load_network(monaco_pbf, "walk", cache=tmp_path_factory.mktemp("cache"))


def _same(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    assert a["kind"].tolist() == b["kind"].tolist()
    assert a.crs == b.crs
    assert shapely.to_wkb(a.geometry.values).tolist() == shapely.to_wkb(b.geometry.values).tolist()


def test_written_then_read_back_identical(cached_net):
    path, key = street_lines_cache_file(cached_net)
    assert path.parent.name == "streetlines"
    fresh = street_lines(cached_net)
    _same(street_lines_cached(cached_net), fresh)
    assert path.exists()
    _same(street_lines_cached(cached_net), fresh)
    # the entry is what a second call returns: one written under the key is taken as it is
    datastore.save(path, fresh.iloc[:1], key)
    _same(street_lines_cached(cached_net), fresh.iloc[:1])
    path.unlink()


def test_budget_is_part_of_the_key(cached_net):
    assert street_lines_cache_file(cached_net, 3000)[0] != street_lines_cache_file(cached_net)[0]
    small = street_lines_cached(cached_net, max_vertices=3000)
    assert "path" not in set(small["kind"])
    assert "path" in set(street_lines_cached(cached_net)["kind"])
    _same(street_lines_cached(cached_net, max_vertices=3000), street_lines(cached_net, max_vertices=3000))


def test_damaged_or_foreign_entry_is_made_again(cached_net):
    path, _ = street_lines_cache_file(cached_net, 5000)
    fresh = street_lines(cached_net, max_vertices=5000)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an entry")
    _same(street_lines_cached(cached_net, max_vertices=5000), fresh)
    datastore.save(path, fresh.iloc[:1], "another key")
    _same(street_lines_cached(cached_net, max_vertices=5000), fresh)


def test_network_without_cache_has_no_entry(monaco_pbf):
    net = load_network(monaco_pbf, "walk", cache=False)
    assert street_lines_cache_file(net) is None
    _same(street_lines_cached(net), street_lines(net))

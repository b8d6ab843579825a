"""Online downloads through OSMnx, with OSMnx's query functions replaced by a local file."""

from __future__ import annotations

import numpy as np
import osmnx as ox
import pytest
from carecover.errors import NetworkError
from carecover.network import download_osmnx, graph_from_osmnx, load_network


@pytest.fixture
def offline_osmnx(monkeypatch, osm_data):
    """``ox.graph_from_place/polygon/bbox`` answer with the graph of tests/data/oneway.osm."""
    calls = []

    def fake(query, **kw):
        calls.append((query, kw))
        return ox.graph_from_xml(osm_data / "oneway.osm", simplify=False, retain_all=True,
                                 bidirectional=False)

    for name in ("graph_from_place", "graph_from_polygon", "graph_from_bbox"):
        monkeypatch.setattr(ox, name, fake)
    return calls


def test_download_saves_an_osm_file_that_loads_like_the_source(offline_osmnx, tmp_path, osm_data):
    out = download_osmnx("Somewhere", tmp_path / "dl.osm")
    assert out == tmp_path / "dl.osm" and out.exists()
    assert offline_osmnx == [("Somewhere", dict(network_type="all", simplify=False, retain_all=True))]
    a = load_network(out, "drive", cache=False)
    b = load_network(osm_data / "oneway.osm", "drive", cache=False)
    np.testing.assert_array_equal(a.node_id, b.node_id)
    np.testing.assert_array_equal(a.seg_fwd, b.seg_fwd)
    np.testing.assert_array_equal(a.seg_rev, b.seg_rev)


def test_graph_from_osmnx_builds_the_network_directly(offline_osmnx, osm_data):
    net = graph_from_osmnx((0, 0, 1, 1), by="bbox")
    want = load_network(osm_data / "oneway.osm", "walk", cache=False)
    np.testing.assert_array_equal(net.node_id, want.node_id)
    np.testing.assert_array_equal(net.seg_len, want.seg_len)
    assert net.source["online"].startswith("OSMnx bbox")


def test_failed_download_is_a_network_error(monkeypatch, tmp_path):
    def down(query, **kw):
        raise ConnectionError("no route to overpass")

    monkeypatch.setattr(ox, "graph_from_place", down)
    with pytest.raises(NetworkError, match="no route to overpass"):
        download_osmnx("Nowhere", tmp_path / "x.osm")
    assert not (tmp_path / "x.osm").exists()

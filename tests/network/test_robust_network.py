"""Issue 27 in the network readers: an OSM XML extract clipped at its edge is read (class 5),
nodes with impossible coordinates are left out with a word (class 3), and the message of a
graph without valid coordinates names the file, not a boundary nobody gave (class 6)."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from carecover import notices
from carecover.errors import NetworkError
from carecover.network import load_network


def _without_node(src: Path, dst: Path, node: int) -> Path:
    text = src.read_text(encoding="utf-8")
    dst.write_text(re.sub(rf'\s*<node id="{node}" [^>]*/>', "", text), encoding="utf-8")
    return dst


def _segments(net) -> set[tuple[int, int]]:
    a, b = net.node_id[net.seg_a], net.node_id[net.seg_b]
    return {(int(min(x, y)), int(max(x, y))) for x, y in zip(a, b, strict=True)}


class TestClippedXml:
    @pytest.mark.parametrize("gz", [False, True], ids=["osm", "osm.gz"])
    def test_missing_node_refs_are_read_like_the_pbf_reader(self, osm_data, tmp_path, gz):
        full = load_network(osm_data / "grid.osm", "walk", cache=False)
        clipped = _without_node(osm_data / "grid.osm", tmp_path / "clipped.osm", 13)  # the centre node
        if gz:
            gz_path = tmp_path / "clipped.osm.gz"
            gz_path.write_bytes(gzip.compress(clipped.read_bytes()))
            clipped = gz_path
        with notices.collect() as found:
            net = load_network(clipped, "walk", cache=False)
        # every segment but those touching the missing node, nothing joined across the gap
        assert _segments(net) == {s for s in _segments(full) if 13 not in s}
        assert 13 not in set(net.node_id.tolist())
        msg = next(n.message for n in found if n.code == "osm_xml_clipped")
        assert str(clipped) in msg and "2 way node references" in msg  # a row and a column of the grid


class TestCoordinates:
    def test_latitude_91_is_left_out_with_a_word(self, osm_data, tmp_path):
        text = (osm_data / "grid.osm").read_text(encoding="utf-8")
        bad = tmp_path / "lat91.osm"
        bad.write_text(re.sub(r'(<node id="13" [^>]*lat=")[^"]*"', r'\g<1>91.0"', text), encoding="utf-8")
        with notices.collect() as found:
            net = load_network(bad, "walk", cache=False)
        assert 13 not in set(net.node_id.tolist()) and np.isfinite(net.node_x).all()
        msg = next(n.message for n in found if n.code == "network_bad_coordinates")
        assert "node 13: " in msg and "91.0" in msg and "4 segments" in msg and str(bad) in msg

    def test_graphml_with_infinite_coordinates_names_the_file(self, osm_data, tmp_path):
        import osmnx as ox
        from carecover.network.readers.osmxml import osmnx_raw

        with osmnx_raw():
            G = ox.graph_from_xml(osm_data / "grid.osm", simplify=False, retain_all=True, bidirectional=False)
        for _, d in G.nodes(data=True):
            d["x"] = float("inf")
        path = tmp_path / "inf.graphml"
        ox.save_graphml(G, path)
        with pytest.raises(NetworkError) as err:
            load_network(path, "walk", cache=False)
        text = str(err.value)
        assert str(path) in text and "no street node has valid WGS-84 coordinates" in text
        assert "boundary" not in text and "clip" not in text

"""OSMnx graphs as networks: GraphML (``ox.save_graphml``) and GeoPackage
(``ox.save_graph_geopackage``), each edge's geometry giving its length (issue 11 item 17)."""

from __future__ import annotations

import gzip
import shutil

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover.errors import NetworkError
from carecover.network import load_network
from carecover.network.engine import nearest
from carecover.network.profiles import TAG_COLUMNS, make_profile, speeds, usable
from carecover.network.readers import gpkg, graphml, reader_for
from carecover.network.readers._edges import _first
from carecover.network.snap import snap_xy
from pyproj import Transformer

LIMIT_S = 900.0


def _reference(G, net, profile: str) -> tuple[nx.Graph, float]:
    """Independent reference on the GraphML graph itself: one undirected edge per usable OSMnx
    edge, weighted by its geometry's length (in the network's CRS) over the profile's speed; and
    OSMnx's own (great-circle) length of the usable streets, each two-way street once."""
    to_utm = Transformer.from_crs(G.graph["crs"], net.crs, always_xy=True)
    prof = make_profile(profile)
    rows, lens = [], []
    for u, v, d in G.edges(data=True):
        geom = d.get("geometry") or shapely.LineString(
            [(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])])
        lens.append(shapely.transform(geom, lambda xy: np.column_stack(to_utm.transform(xy[:, 0], xy[:, 1]))).length)
        rows.append({c: _first(d.get(c)) for c in TAG_COLUMNS} | {"u": u, "v": v, "length": d["length"],
                                                                     "osmid": str(d.get("osmid"))})
    tags = pd.DataFrame(rows)
    tags["oneway"] = None
    ok = usable(tags[TAG_COLUMNS], prof)
    sp = speeds(tags[TAG_COLUMNS], prof)
    R = nx.Graph()
    once = {}
    for k in np.flatnonzero(ok):
        u, v, w = tags["u"][k], tags["v"][k], lens[k] / sp[k]
        if not R.has_edge(u, v) or R[u][v]["w"] > w:
            R.add_edge(u, v, w=w)
        once.setdefault((min(u, v), max(u, v), tags["osmid"][k], round(tags["length"][k], 1)), tags["length"][k])
    return R, float(sum(once.values()))


@pytest.fixture(scope="module")
def futian(futian_graphml):
    import osmnx as ox

    return ox.load_graphml(futian_graphml), load_network(futian_graphml, "walk", cache=False)


class TestRealWorld:
    def test_graphml_times_equal_networkx_on_the_same_graph(self, futian):
        G, net = futian
        R, _ = _reference(G, net, "walk")
        idx = {int(i): k for k, i in enumerate(net.node_id)}
        graph_nodes = [n for n in G.nodes if n in idx and n in R]
        rng = np.random.default_rng(17)
        src = rng.choice(graph_nodes, 5, replace=False)
        sources = snap_xy(net, net.node_x[[idx[s] for s in src]], net.node_y[[idx[s] for s in src]])
        assert np.all(sources.dist < 1e-9)
        got = nearest(net, sources, LIMIT_S).time
        want = nx.multi_source_dijkstra_path_length(R, set(src.tolist()), cutoff=LIMIT_S, weight="w")
        compared = 0
        for n in graph_nodes:
            t = got[idx[n]]
            if n in want:
                assert t == pytest.approx(want[n], abs=1e-6), n
                compared += 1
            else:
                assert not np.isfinite(t) or t > LIMIT_S - 1e-6
        assert compared > 300

    def test_simplified_edges_follow_their_geometry(self, futian):
        G, net = futian
        curved = 0
        for u, v, d in G.edges(data=True):
            if "geometry" in d and d["geometry"].length > 1.0001 * shapely.distance(
                    shapely.Point(G.nodes[u]["x"], G.nodes[u]["y"]), shapely.Point(G.nodes[v]["x"], G.nodes[v]["y"])):
                curved += 1
        assert curved > 100  # the file really holds bent edges
        # the network is longer than the straight lines between the graph's junctions would be
        ends = np.isin(net.node_id, list(G.nodes))
        assert (net.node_id < 0).sum() > 1000 and ends.sum() > 1500
        # our lengths add up to OSMnx's own great-circle lengths of the same streets (within 0.5 %)
        _, total = _reference(G, net, "walk")
        dropped = net.dropped["length_km"] * 1000 if net.dropped else 0.0
        assert float(net.seg_len.sum()) + dropped == pytest.approx(total, rel=5e-3)

    def test_geopackage_and_projected_graphml_give_the_same_times(self, futian, tmp_path):
        import osmnx as ox

        G, net = futian
        ox.save_graph_geopackage(G, tmp_path / "undirected.gpkg")  # OSMnx's default: one edge per street
        ox.save_graph_geopackage(G, tmp_path / "directed.gpkg", directed=True)
        ox.save_graphml(ox.project_graph(G), tmp_path / "utm.graphml")
        rng = np.random.default_rng(3)
        graph_ids = net.node_id[net.node_id > 0]
        src = rng.choice(graph_ids, 5, replace=False)

        def times(n):
            at = {int(i): k for k, i in enumerate(n.node_id)}
            k = [at[s] for s in src]
            t = nearest(n, snap_xy(n, n.node_x[k], n.node_y[k]), LIMIT_S).time
            return np.array([t[at[i]] if i in at else np.inf for i in graph_ids])

        want = times(net)
        assert np.isfinite(want).sum() > 300
        for name in ("undirected.gpkg", "directed.gpkg", "utm.graphml"):
            other = load_network(tmp_path / name, "walk", cache=False)
            np.testing.assert_allclose(times(other), want, atol=1e-3, err_msg=name)
            if name != "undirected.gpkg":
                assert other.n_segments == net.n_segments and other.n_nodes == net.n_nodes
        drive = load_network(tmp_path / "undirected.gpkg", "drive", cache=False)
        ref = load_network(tmp_path / "directed.gpkg", "drive", cache=False)
        assert (drive.seg_fwd & ~drive.seg_rev).sum() == (ref.seg_fwd & ~ref.seg_rev).sum()

    def test_drive_profile_keeps_one_way_edges_one_way(self, futian_graphml):
        drive = load_network(futian_graphml, "drive", cache=False)
        assert (drive.seg_fwd & ~drive.seg_rev).sum() > 500
        assert (drive.seg_fwd & drive.seg_rev).sum() > 500


class TestSynthetic:
    def test_two_way_street_read_once_and_bent_edge_split(self, tmp_path):
        import osmnx as ox

        G = nx.MultiDiGraph(crs="epsg:4326")
        G.add_node(1, x=116.0, y=40.0)
        G.add_node(2, x=116.002, y=40.0)
        bend = shapely.LineString([(116.0, 40.0), (116.001, 40.001), (116.002, 40.0)])
        G.add_edge(1, 2, osmid=7, highway="residential", oneway=False, reversed=False, length=1.0, geometry=bend)
        G.add_edge(2, 1, osmid=7, highway="residential", oneway=False, reversed=True, length=1.0,
                   geometry=shapely.reverse(bend))
        ox.save_graphml(G, tmp_path / "bend.graphml")
        net = load_network(tmp_path / "bend.graphml", "walk", cache=False)
        assert net.n_segments == 2 and net.n_nodes == 3
        # the length is the bent line's (≈ 280 m on the ellipsoid), not the 170 m chord
        from pyproj import Geod

        bent = Geod(ellps="WGS84").line_length(*bend.xy)
        assert bent > 275 and float(net.seg_len.sum()) == pytest.approx(bent, rel=1e-3)


class TestErrors:
    def test_readers_chosen_by_name(self):
        assert reader_for("a.graphml") is graphml and reader_for("a.GPKG") is gpkg

    def test_not_graphml_empty_and_directory(self, tmp_path, load_fails):
        (tmp_path / "empty.graphml").write_text("")
        load_fails(tmp_path / "empty.graphml", "empty.graphml")
        (tmp_path / "notes.graphml").write_text("<html>not a graph</html>")
        load_fails(tmp_path / "notes.graphml", "notes.graphml")
        (tmp_path / "dir.graphml").mkdir()
        load_fails(tmp_path / "dir.graphml", "dir.graphml")
        (tmp_path / "nocoords.graphml").write_text(
            '<?xml version="1.0"?><graphml xmlns="http://graphml.graphdrawing.org/xmlns">'
            '<graph edgedefault="directed"><node id="1"/><node id="2"/><edge source="1" target="2"/>'
            '</graph></graphml>')
        load_fails(tmp_path / "nocoords.graphml", "nocoords.graphml")

    def test_geopackage_that_is_not_a_graph(self, tmp_path, load_fails, hohhot_admin):
        import geopandas as gpd

        gpd.read_file(hohhot_admin).to_file(tmp_path / "counties.gpkg", layer="counties")
        e = load_fails(tmp_path / "counties.gpkg", "counties.gpkg")
        assert isinstance(e, NetworkError) and "edges" in str(e)
        (tmp_path / "text.gpkg").write_text("not sqlite")
        load_fails(tmp_path / "text.gpkg", "text.gpkg")


class TestCompressedXml:
    def test_gz_and_bz2_read_like_the_plain_file(self, osm_data, tmp_path):
        import bz2

        plain = load_network(osm_data / "grid.osm", "walk", cache=False)
        gz = tmp_path / "grid.osm.gz"
        with open(osm_data / "grid.osm", "rb") as src, gzip.open(gz, "wb") as dst:
            shutil.copyfileobj(src, dst)
        bz = tmp_path / "grid.osm.bz2"
        bz.write_bytes(bz2.compress((osm_data / "grid.osm").read_bytes()))
        for path in (gz, bz):
            net = load_network(path, "walk", cache=False)
            assert net.n_segments == plain.n_segments
            np.testing.assert_allclose(np.sort(net.seg_len), np.sort(plain.seg_len))

    def test_damaged_gz(self, tmp_path, load_fails):
        (tmp_path / "cut.osm.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
        load_fails(tmp_path / "cut.osm.gz", "cut.osm.gz")

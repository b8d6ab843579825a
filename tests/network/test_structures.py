"""Bridges and tunnels in the slope profile: graded from the ground heights at the ends of their
run, not from the DEM under or over them; the tags kept through readers and the network cache."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from carecover.mobility import tobler
from carecover.network import cache, load_network
from carecover.network.build import subset_segments
from carecover.network.dem import slopes
from carecover.network.readers import StreetData, osmxml
from carecover.network.readers import streets as arrays
from carecover.network.readers.osmxml import osmnx_raw
from carecover.network.structures import run_heights, structure_mask
from conftest import shared_file
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: The hand-made grid's node lines (tests/data/grid.osm), by node id.
NODE_LINES = {m.group(1): m.group(0) for m in re.finditer(
    r'  <node id="(\d+)"[^>]*/>', (Path(__file__).resolve().parents[1] / "data" / "grid.osm").read_text())}


def _osm(tmp_path, ways: list[tuple[list[int], dict]]):
    """An OSM XML file on the grid's nodes (node i + 1 at (100 i, 0) m for i < 5)."""
    used = sorted({n for nodes, _ in ways for n in nodes})
    body = [NODE_LINES[str(n)] for n in used]
    for k, (nodes, tags) in enumerate(ways):
        body.append(f'  <way id="{900 + k}" version="1">')
        body += [f'    <nd ref="{n}"/>' for n in nodes]
        body += [f'    <tag k="{a}" v="{b}"/>' for a, b in {"highway": "residential", **tags}.items()]
        body.append("  </way>")
    path = tmp_path / "bridge.osm"
    path.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n' + "\n".join(body)
                    + "\n</osm>\n")
    return path


def _valley_dem(tmp_path, net, res: float = 10.0):
    """A GeoTIFF in the network's CRS: the plane z = 100 + 0.05 x (x in metres east of the
    westernmost node) with a V-shaped valley 50 m deep between x = 140 and 260."""
    import rasterio
    from rasterio.transform import Affine

    x0, y0 = net.node_x.min(), net.node_y.min()
    left, top = x0 - 100.0, net.node_y.max() + 100.0
    w, h = int(600 / res), int((top - (y0 - 100.0)) / res) + 1
    cx = left + (np.arange(w) + 0.5) * res - x0
    z = 100 + 0.05 * cx - 50 * np.maximum(0.0, 1 - np.abs(cx - 200) / 60)
    grid = np.repeat(z[None, :], h, axis=0).astype("float64")
    path = tmp_path / "valley.tif"
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float64",
                       crs=net.crs.to_wkt(), transform=Affine(res, 0.0, left, 0.0, -res, top)) as ds:
        ds.write(grid, 1)
    return path


def test_bridge_over_a_valley_by_hand(tmp_path):
    """Nodes 1–5 at x = 0, 100, …, 400 m; the way 2–3–4 is a bridge over a valley 50 m deep at
    x = 200. The ground: z = 100 + 0.05 x, so the bridge's ends stand at 105 and 115 m and node 3
    at 110 m (the valley floor under it is at 60 m): both bridge segments climb 5 % eastwards, as
    the ground ways do. Tobler by hand: 5 % up, exp(-3.5·0.10) / exp(-3.5·0.05) = exp(-0.175)
    (100 m in 119.1 s at 1 m/s); 5 % down, exp(0) / exp(-0.175) = 1.19, capped at 1."""
    path = _osm(tmp_path, [([1, 2], {}), ([2, 3, 4], {"bridge": "yes", "layer": "1"}),
                           ([4, 5], {"tunnel": "no"})])
    net = load_network(path, "walk", cache=False)
    assert net.n_segments == 4
    on, unknown = structure_mask(net.seg_tags, net.n_segments)
    assert unknown == [] and on.sum() == 2
    # kept as yes / no / "" (three characters a segment)
    assert sorted(net.seg_tags["bridge"]) == ["", "", "yes", "yes"]
    assert sorted(net.seg_tags["tunnel"]) == ["", "", "", "no"]
    dem = _valley_dem(tmp_path, net)
    sl = slopes(net, dem)
    x = net.node_x - net.node_x.min()
    np.testing.assert_allclose(sl.node_z, 100 + 0.05 * x, atol=1e-6)
    east = np.sign(x[net.seg_b] - x[net.seg_a])  # +1 where a→b runs east (uphill)
    up, down = tobler(np.array([0.05]))[0], tobler(np.array([-0.05]))[0]
    assert up == pytest.approx(np.exp(-0.175)) and down == 1.0
    # every segment, bridge or ground: 5 % up eastwards
    np.testing.assert_allclose(sl.ab, np.where(east > 0, up, down), rtol=1e-9)
    np.testing.assert_allclose(sl.ba, np.where(east > 0, down, up), rtol=1e-9)
    assert sl.info["max_grade"] == pytest.approx(0.05, abs=1e-4)
    assert sl.info["structure_segments"] == 2 and sl.info["structure_km"] == pytest.approx(0.2, abs=1e-3)
    assert sl.info["structure_runs"] == 1 and sl.info["structure_runs_without_ground_end"] == 0
    assert "two ends" in sl.info["structure_grade"] and sl.info["structure_tags_unknown"] == []
    # the same street sampled on the DEM (no bridge tag: the code before): the valley's 83 % sides
    flat_tags = replace(net, seg_tags={k: v for k, v in net.seg_tags.items() if k != "bridge"})
    dem_only = slopes(flat_tags, dem)
    assert dem_only.info["max_grade"] > 0.8 and dem_only.ab[on].min() < 0.1
    assert dem_only.info["structure_tags_unknown"] == ["bridge"]


def test_tunnel_junction_heights_by_hand(grid):
    """A T inside a tunnel: the junction takes the length-weighted mean of its three ground ends
    (all 100 m away), not the hill's height above it; a run with no ground end is flat."""
    x, y = np.round(grid.node_x - grid.node_x.min()), np.round(grid.node_y - grid.node_y.min())
    a, b = grid.seg_a, grid.seg_b
    row = (y[a] == 100) & (y[b] == 100)
    col = (x[a] == 200) & (x[b] == 200) & (np.maximum(y[a], y[b]) <= 300) & (np.minimum(y[a], y[b]) >= 100)
    net = subset_segments(grid, row | col)
    x, y = np.round(net.node_x - grid.node_x.min()), np.round(net.node_y - grid.node_y.min())
    a, b = net.seg_a, net.seg_b
    mid = lambda s: ((x[a[s]] + x[b[s]]) / 2, (y[a[s]] + y[b[s]]) / 2)  # noqa: E731
    on = np.array([mid(s) in {(150, 100), (250, 100), (200, 150)} for s in range(net.n_segments)])
    assert net.n_segments == 6 and on.sum() == 3
    ground = 100 + 0.05 * x + 0.1 * y + np.where((x == 200) & (y == 100), 80.0, 0.0)  # a hill on the centre
    z, info = run_heights(net, ground, on)
    centre = np.flatnonzero((x == 200) & (y == 100))[0]
    assert z[centre] == pytest.approx((115 + 125 + 130) / 3, abs=1e-3)
    keep = np.flatnonzero((x != 200) | (y != 100))
    np.testing.assert_array_equal(z[keep], ground[keep])
    assert info == {"runs": 1, "runs_without_ground_end": 0}
    alone = subset_segments(net, on)
    xa, ya = np.round(alone.node_x - grid.node_x.min()), np.round(alone.node_y - grid.node_y.min())
    za, ia = run_heights(alone, 100 + 0.05 * xa + 0.1 * ya, np.ones(3, bool))
    assert ia == {"runs": 1, "runs_without_ground_end": 1} and np.ptp(za) == 0


@pytest.fixture(scope="module")
def monaco_graded(real_network):
    net = real_network("monaco_pbf", "walk")
    dem = shared_file("dem", "N43E007.hgt.zip")
    ground = replace(net, seg_tags={k: v for k, v in net.seg_tags.items() if k not in ("bridge", "tunnel")})
    return net, slopes(net, dem), slopes(ground, dem)


def test_monaco_tunnels_graded_from_their_ends(monaco_graded):
    """Every Monaco tunnel segment whose two ends meet streets on the ground: its grade is
    (z_end − z_start) / length of the DEM heights at those ends, whatever the rock above."""
    net, sl, dem_only = monaco_graded
    tags = net.seg_tags
    assert sl.info["structure_tags_unknown"] == [] and dem_only.info["structure_tags_unknown"] == ["bridge", "tunnel"]
    # 279 tunnel and 152 bridge walk segments: 431, 9.55 km, in 109 runs
    assert sl.info["structure_segments"] == int(sl.structure.sum()) == 431
    assert sl.info["structure_km"] == pytest.approx(9.55, abs=0.01) and sl.info["structure_runs"] == 109
    on = sl.structure
    ground = np.zeros(net.n_nodes, bool)
    ground[net.seg_a[~on]] = ground[net.seg_b[~on]] = True
    a, b, L = net.seg_a, net.seg_b, net.seg_len
    tunnel = (tags["tunnel"] == "yes") & ground[a] & ground[b] & (L > 1)
    assert tunnel.sum() == 41  # building passages included
    np.testing.assert_array_equal(sl.node_z[ground], dem_only.node_z[ground])
    g = (dem_only.node_z[b] - dem_only.node_z[a])[tunnel] / L[tunnel]
    np.testing.assert_allclose(sl.ab[tunnel], tobler(g), rtol=1e-9)
    np.testing.assert_allclose(sl.ba[tunnel], tobler(-g), rtol=1e-9)
    # the Tunnel Rocher Antoine 1er runs under the Rocher: 40 % on the DEM, under 1 % from its ends
    rocher = (net.segment_names() == "Tunnel Rocher Antoine 1er") & on & (L > 10)
    assert rocher.any()
    assert np.minimum(dem_only.ab, dem_only.ba)[rocher].min() < tobler(np.array([0.3]))[0]
    assert np.minimum(sl.ab, sl.ba)[rocher].min() > tobler(np.array([0.02]))[0]


def test_monaco_bridge_run_interpolated_along_it(monaco_graded):
    """The longest simple bridge/tunnel run of three or more segments: its inner nodes lie on the
    straight line between its two ground ends, by distance along it (Monaco: the Liaison Marquet
    tunnel, 15 segments, 358 m, ends at 22.2 and 14.1 m; the DEM at its inner nodes 12–21 m)."""
    net, sl, dem_only = monaco_graded
    on = sl.structure
    a, b, L = net.seg_a[on], net.seg_b[on], net.seg_len[on]
    n = net.n_nodes
    adj = coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    deg = np.bincount(np.r_[a, b], minlength=n)
    ground = np.zeros(n, bool)
    ground[net.seg_a[~on]] = ground[net.seg_b[~on]] = True
    best = None
    for lab in np.unique(label[a]):
        nodes = np.flatnonzero((label == lab) & (deg > 0))
        ends = nodes[deg[nodes] == 1]
        if len(nodes) >= 4 and (deg[nodes] <= 2).all() and len(ends) == 2 and \
                ground[ends].all() and not ground[np.setdiff1d(nodes, ends)].any():
            if best is None or len(nodes) > len(best[0]):
                best = (nodes, ends)
    assert best is not None
    nodes, ends = best
    # walk the path from one end, adding up the lengths
    nxt = {}
    for u, v, w in zip(a, b, L, strict=True):
        if label[u] == label[ends[0]]:
            nxt.setdefault(u, []).append((v, w))
            nxt.setdefault(v, []).append((u, w))
    path, dist, prev = [ends[0]], [0.0], -1
    while path[-1] != ends[1]:
        v, w = next((v, w) for v, w in nxt[path[-1]] if v != prev)
        prev = path[-1]
        path.append(v)
        dist.append(dist[-1] + w)
    z0, z1 = dem_only.node_z[ends[0]], dem_only.node_z[ends[1]]
    expect = z0 + (z1 - z0) * np.array(dist) / dist[-1]
    np.testing.assert_allclose(sl.node_z[path], expect, atol=1e-6)
    assert np.abs(dem_only.node_z[path[1:-1]] - expect[1:-1]).max() > 1.0  # the DEM said otherwise


def test_fewer_steep_pieces_on_monaco_bridges_and_tunnels(monaco_graded):
    """On the bridge/tunnel segments the slowest direction's factor rises (the DEM's rock and
    valley slopes gone); the ground segments keep their factors exactly."""
    net, sl, dem_only = monaco_graded
    on = sl.structure
    np.testing.assert_array_equal(sl.ab[~on], dem_only.ab[~on])
    steep = tobler(np.array([0.2]))[0]
    before = int((np.minimum(dem_only.ab, dem_only.ba)[on] < steep).sum())
    after = int((np.minimum(sl.ab, sl.ba)[on] < steep).sum())
    assert after < 0.6 * before
    time = lambda s: float((net.seg_len[on] / s.ab[on] + net.seg_len[on] / s.ba[on]).sum())  # noqa: E731
    assert time(sl) < time(dem_only)


def test_tags_kept_or_unknown(tmp_path, futian_graphml):
    """The network cache keeps the tags; a cache entry or a street-arrays file without them
    loads with the tags stated unknown; a GraphML graph carries them when OSMnx wrote them."""
    import osmnx as ox

    path = _osm(tmp_path, [([1, 2], {}), ([2, 3, 4], {"bridge": "viaduct"}), ([4, 5], {})])
    net = load_network(path, "walk", cache=False)
    cache.save(net, tmp_path / "n.npz")
    back = cache.load(tmp_path / "n.npz")
    np.testing.assert_array_equal(back.seg_tags["bridge"], net.seg_tags["bridge"])
    assert set(back.seg_tags["bridge"]) == {"", "yes"}  # viaduct: on a bridge
    assert structure_mask(back.seg_tags, back.n_segments)[0].sum() == 2
    old = replace(net, seg_tags={k: v for k, v in net.seg_tags.items() if k not in ("bridge", "tunnel")})
    cache.save(old, tmp_path / "old.npz")  # as a version-6 entry was written
    old_back = cache.load(tmp_path / "old.npz")
    mask, unknown = structure_mask(old_back.seg_tags, old_back.n_segments)
    assert not mask.any() and unknown == ["bridge", "tunnel"]
    # street arrays: bridge/tunnel written whenever known (here "no tunnel" is known too)
    data = osmxml.read(path, None)
    back = load_network(arrays.write(tmp_path / "s.streets.npz", data), "walk", cache=False)
    assert list(back.seg_tags["bridge"]) == list(net.seg_tags["bridge"]) and "tunnel" in back.seg_tags
    bare = StreetData(data.nodes, data.segments.drop(columns=["bridge", "tunnel"]))
    back = load_network(arrays.write(tmp_path / "bare.streets.npz", bare), "walk", cache=False)
    assert structure_mask(back.seg_tags, back.n_segments)[1] == ["bridge", "tunnel"]
    # GraphML: OSMnx keeps bridge/tunnel (Futian has both columns); a graph without them: unknown
    fut = load_network(futian_graphml, "walk", cache=False)
    assert {"bridge", "tunnel"} <= set(fut.seg_tags) and (fut.seg_tags["bridge"] != "").any()
    with osmnx_raw():
        G = ox.graph_from_xml(path, simplify=False, retain_all=True)
    for _, _, d in G.edges(data=True):
        d.pop("bridge", None)
    ox.save_graphml(G, tmp_path / "g.graphml")
    g = load_network(tmp_path / "g.graphml", "walk", cache=False)
    assert "bridge" not in g.seg_tags and "surface" in g.seg_tags

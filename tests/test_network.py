"""Network loading: profiles and tags, cache, clipping, and bad inputs."""

from __future__ import annotations

import json
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover.errors import InputError, NetworkError
from carecover.network import streets as network
from carecover.network.streets import load_network, make_profile, parse_maxspeed

DATA = Path(__file__).parent / "data"


def _case(net) -> np.ndarray:
    """tags.osm: way k has nodes 100k+1, 100k+2, so the case of each segment is node_id // 100."""
    return np.asarray(net.node_id[net.seg_a] // 100)


# ----------------------------------------------------------------------------- profiles and tags

def test_walk_profile_tags():
    net = load_network(DATA / "tags.osm", make_profile("walk", keep_largest=False), cache=False)
    # footway, steps, living_street, primary, secondary, residential access=private foot=yes,
    # residential, pedestrian; not: foot=no, service access=private, motorway (x2), cycleway
    assert sorted(_case(net)) == [0, 1, 2, 6, 7, 9, 11, 12]
    assert np.all(net.seg_speed == 1.0)
    assert net.seg_fwd.all() and net.seg_rev.all()
    assert np.allclose(net.seg_len, 100.0, atol=1e-3)
    assert "motorway" not in set(net.seg_highway)


def test_drive_profile_tags_and_maxspeed():
    net = load_network(DATA / "tags.osm", make_profile("drive", keep_largest=False), cache=False)
    case = _case(net)
    # living_street, residential foot=no, motorway, primary, secondary, motorway, residential
    assert sorted(case) == [2, 3, 5, 6, 7, 8, 11]
    kph = dict(zip(case.tolist(), (net.seg_speed * 3.6).tolist(), strict=True))
    assert kph[6] == pytest.approx(50.0)  # maxspeed=50
    assert kph[7] == pytest.approx(30 * 1.609344)  # maxspeed=30 mph
    assert kph[8] == pytest.approx(90.0)  # maxspeed=none: motorway class default
    assert kph[5] == pytest.approx(90.0)
    assert kph[11] == pytest.approx(25.0)  # residential class default
    assert kph[2] == pytest.approx(10.0)  # living_street


def test_parse_maxspeed():
    got = parse_maxspeed(pd.Series(["50", "30 mph", "none", "50;40", "walk", None, "", "0", "RU:urban"]))
    assert got[0] == 50 and got[1] == pytest.approx(48.28032) and got[3] == 50 and got[4] == 5
    assert np.isnan(got[[2, 5, 6, 7, 8]]).all()


def test_oneway_respected_by_drive_only():
    drive = load_network(DATA / "oneway.osm", "drive", cache=False)
    walk = load_network(DATA / "oneway.osm", "walk", cache=False)
    for net in (drive, walk):
        assert net.n_nodes == 4 and net.n_segments == 4  # strongly connected: nothing dropped
    ida = {int(i): k for k, i in enumerate(drive.node_id)}
    fwd = {(int(drive.node_id[a]), int(drive.node_id[b])) for a, b in
           zip(drive.seg_a[drive.seg_fwd & ~drive.seg_rev], drive.seg_b[drive.seg_fwd & ~drive.seg_rev],
               strict=True)}
    rev = {(int(drive.node_id[b]), int(drive.node_id[a])) for a, b in
           zip(drive.seg_a[drive.seg_rev & ~drive.seg_fwd], drive.seg_b[drive.seg_rev & ~drive.seg_fwd],
               strict=True)}
    assert fwd | rev == {(1, 2), (4, 1)}  # A->B (oneway=yes), D->A (oneway=-1)
    M = drive.csr().toarray()
    assert M[ida[1], ida[2]] > 0 and M[ida[2], ida[1]] == 0
    assert M[ida[4], ida[1]] > 0 and M[ida[1], ida[4]] == 0
    assert walk.seg_fwd.all() and walk.seg_rev.all()


def test_profiles_bad_values():
    with pytest.raises(InputError):
        make_profile("cycle")
    with pytest.raises(InputError):
        make_profile("walk", walk_speed_mps=0)
    assert make_profile("walk", walk_speed_mps=0.8)["speed_mps"] == 0.8


def test_keep_largest_records_dropped():
    net = load_network(DATA / "components.osm", "walk", cache=False)
    assert sorted(net.node_id.tolist()) == [1, 2, 3, 4, 5]
    assert net.dropped == {"components": 2, "nodes": 4, "segments": 2, "length_km": 0.2}
    assert net.dropped_segments.shape == (2, 4)
    allnet = load_network(DATA / "components.osm", make_profile("walk", keep_largest=False), cache=False)
    assert allnet.n_nodes == 9 and allnet.n_segments == 6


# ----------------------------------------------------------------------------- real extracts

def test_real_extract_summary(helsinki_pbf):
    net = load_network(helsinki_pbf, "walk", cache=False)
    s = net.summary()
    json.dumps(s)  # serialisable for summary.json
    assert s["nodes"] > 1000 and s["length_km"] > 50
    assert net.crs.to_epsg() == 32635  # UTM 35N for Helsinki
    assert net.source["sha256"] and net.source["file"].endswith("Helsinki.osm.pbf")
    assert (net.seg_len > 0).all() and (net.seg_a != net.seg_b).all()
    # segment lengths agree with the node coordinates
    L = np.hypot(net.node_x[net.seg_b] - net.node_x[net.seg_a], net.node_y[net.seg_b] - net.node_y[net.seg_a])
    assert np.allclose(L, net.seg_len)
    drive = load_network(helsinki_pbf, "drive", cache=False)
    assert drive.n_nodes < net.n_nodes
    assert (~drive.seg_rev).any()  # one-ways present
    assert not np.isin(drive.seg_highway, ["footway", "steps", "path", "pedestrian"]).any()
    assert not np.isin(net.seg_highway, ["motorway", "motorway_link"]).any()


# ----------------------------------------------------------------------------- cache

def _same(a, b):
    for name in ["node_x", "node_y", "node_id", "seg_a", "seg_b", "seg_len", "seg_speed",
                 "seg_fwd", "seg_rev", "seg_highway", "dropped_segments"]:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype.kind == y.dtype.kind and np.array_equal(x, y), name
    assert a.crs == b.crs and a.profile == b.profile and a.dropped == b.dropped


def test_cache_round_trip(helsinki_pbf, tmp_path, monkeypatch):
    t0 = time.perf_counter()
    first = load_network(helsinki_pbf, "walk", cache=tmp_path)
    t_build = time.perf_counter() - t0
    assert first.source["from_cache"] is False
    files = list((tmp_path / "networks").glob("*.npz"))
    assert len(files) == 1 and first.source["cache"] == str(files[0])

    # the second load must not parse OSM at all
    def no_parse(*a, **k):
        raise AssertionError("parsed the OSM file despite the cache")

    monkeypatch.setattr(network, "_read_pbf", no_parse)
    t0 = time.perf_counter()
    second = load_network(helsinki_pbf, "walk", cache=tmp_path)
    t_cache = time.perf_counter() - t0
    assert second.source["from_cache"] is True
    _same(first, second)
    assert t_cache < max(t_build / 2, 0.25)

    # a different profile or clip is a different cache entry
    monkeypatch.undo()
    other = load_network(helsinki_pbf, make_profile("walk", walk_speed_mps=0.8), cache=tmp_path)
    assert other.source["from_cache"] is False
    assert np.allclose(other.seg_speed, 0.8)
    assert len(list((tmp_path / "networks").glob("*.npz"))) == 2


def test_corrupt_cache_is_rebuilt(test_pbf, tmp_path):
    first = load_network(test_pbf, "drive", cache=tmp_path)
    Path(first.source["cache"]).write_bytes(b"garbage")
    again = load_network(test_pbf, "drive", cache=tmp_path)
    assert again.source["from_cache"] is False
    _same(first, again)
    assert load_network(test_pbf, "drive", cache=tmp_path).source["from_cache"] is True


def test_cache_never_half_written(test_pbf, tmp_path, monkeypatch):
    def boom(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")  # something was written before the failure
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        load_network(test_pbf, "walk", cache=tmp_path)
    left = list((tmp_path / "networks").iterdir()) if (tmp_path / "networks").exists() else []
    assert left == []  # neither the final file nor a temporary one
    monkeypatch.undo()
    net = load_network(test_pbf, "walk", cache=tmp_path)
    assert net.source["from_cache"] is False


# ----------------------------------------------------------------------------- clipping

def _lonlat(net):
    return net.to_wgs84().transform(net.node_x, net.node_y)


def test_clip_bbox_and_polygon(helsinki_pbf, tmp_path):
    full = load_network(helsinki_pbf, "walk", cache=False)
    lon, lat = _lonlat(full)
    # central quarter of the extract
    qx, qy = np.quantile(lon, [0.25, 0.75]), np.quantile(lat, [0.25, 0.75])
    bbox = (qx[0], qy[0], qx[1], qy[1])
    net = load_network(helsinki_pbf, "walk", boundary=bbox, cache=False)
    assert 0 < net.n_nodes < full.n_nodes
    blon, blat = _lonlat(net)
    eps = 1e-7
    assert ((blon >= bbox[0] - eps) & (blon <= bbox[2] + eps)
            & (blat >= bbox[1] - eps) & (blat <= bbox[3] + eps)).all()
    assert net.source["clip"] == [round(v, 6) for v in bbox]

    # a polygon (circle) given as a GeoJSON file in a projected CRS: reprojected, then clipped
    centre = shapely.Point(np.median(full.node_x), np.median(full.node_y))
    circle = centre.buffer(600)
    path = tmp_path / "area.geojson"
    gpd.GeoDataFrame(geometry=[circle], crs=full.crs).to_file(path)
    poly_net = load_network(helsinki_pbf, "walk", boundary=path, cache=False)
    assert 0 < poly_net.n_nodes < full.n_nodes
    inside = shapely.contains_xy(circle.buffer(1.0), poly_net.node_x, poly_net.node_y)
    assert inside.all()
    # the same circle as a WGS-84 shapely geometry gives the same network
    circle_ll = gpd.GeoSeries([circle], crs=full.crs).to_crs(4326).iloc[0]
    same = load_network(helsinki_pbf, "walk", boundary=circle_ll, cache=False)
    assert np.array_equal(np.sort(same.node_id), np.sort(poly_net.node_id))


def test_clip_xml():
    full = load_network(DATA / "grid.osm", "walk", cache=False)
    x0, y0 = full.node_x.min(), full.node_y.min()
    # the western three columns of the 5 x 5 grid (drawn in UTM, given to load_network in WGS-84)
    area = gpd.GeoSeries([shapely.box(x0 - 10, y0 - 10, x0 + 250, y0 + 410)], crs=full.crs)
    net = load_network(DATA / "grid.osm", "walk", boundary=area.to_crs(4326).iloc[0], cache=False)
    assert net.n_nodes == 15 and net.n_segments == 3 * 4 + 5 * 2
    assert (net.node_x < x0 + 250).all()
    # the same area as a GeoDataFrame in UTM
    same = load_network(DATA / "grid.osm", "walk", boundary=gpd.GeoDataFrame(geometry=area), cache=False)
    assert np.array_equal(same.node_id, net.node_id)


# ----------------------------------------------------------------------------- bad inputs

def _raises(path, match_name: str, **kw):
    with pytest.raises(InputError) as info:
        load_network(path, kw.pop("profile", "walk"), cache=False, **kw)
    assert match_name in str(info.value), str(info.value)
    return info.value


def test_missing_and_empty_files(tmp_path):
    e = _raises(tmp_path / "nowhere.osm.pbf", "nowhere.osm.pbf")
    assert isinstance(e, NetworkError)
    (tmp_path / "empty.osm.pbf").write_bytes(b"")
    _raises(tmp_path / "empty.osm.pbf", "empty.osm.pbf")
    (tmp_path / "empty.osm").write_text("   \n")
    _raises(tmp_path / "empty.osm", "empty.osm")
    (tmp_path / "roads.shp").write_bytes(b"x")
    _raises(tmp_path / "roads.shp", "roads.shp")


def test_truncated_and_foreign_pbf(helsinki_pbf, tmp_path):
    data = helsinki_pbf.read_bytes()
    for n in (3, 100, len(data) // 2, len(data) - 1):
        p = tmp_path / f"cut{n}.osm.pbf"
        p.write_bytes(data[:n])
        e = _raises(p, p.name)
        assert isinstance(e, NetworkError)
    text = tmp_path / "notes.osm.pbf"
    text.write_text("this is not a protobuf file\n" * 20)
    _raises(text, "notes.osm.pbf")
    xml = tmp_path / "streets.osm.pbf"
    xml.write_bytes((DATA / "grid.osm").read_bytes())
    _raises(xml, "streets.osm.pbf")


def test_xml_without_streets_or_not_osm(tmp_path):
    _raises(DATA / "no_highways.osm", "no_highways.osm")
    bad = tmp_path / "page.osm"
    bad.write_text("<html><body>Not found</body></html>")
    _raises(bad, "page.osm")
    broken = tmp_path / "broken.osm"
    broken.write_text((DATA / "grid.osm").read_text()[:900])
    _raises(broken, "broken.osm")


def test_profile_leaving_no_edges(tmp_path):
    # footways only: nothing for the drive profile
    text = (DATA / "components.osm").read_text().replace('v="residential"', 'v="footway"')
    path = tmp_path / "paths_only.osm"
    path.write_text(text)
    _raises(path, "paths_only.osm", profile="drive")
    assert load_network(path, "walk", cache=False).n_nodes == 5


@pytest.mark.filterwarnings("ignore:Could not find any edges")
def test_empty_clip_area(test_pbf):
    _raises(test_pbf, "test.osm.pbf", boundary=(0.0, 0.0, 0.01, 0.01))
    _raises(DATA / "grid.osm", "grid.osm", boundary=(0.0, 0.0, 0.01, 0.01))


def test_boundary_projected_without_crs(test_pbf, tmp_path):
    net = load_network(test_pbf, "walk", cache=False)
    box = shapely.box(net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max())
    path = tmp_path / "district.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)}]}))
    e = _raises(test_pbf, "district.geojson", boundary=path)
    assert "CRS" in str(e)
    _raises(test_pbf, "missing_boundary.geojson", boundary=tmp_path / "missing_boundary.geojson")


def test_osmnx_graph_saved_as_osm_reloads_identically(tmp_path):
    """The online path (OSMnx graph → .osm file → load_network) minus the download itself."""
    from carecover.network.streets import _osmnx_raw, save_osmnx_xml

    src = Path(__file__).parent / "data" / "oneway.osm"
    with _osmnx_raw() as ox:
        G = ox.graph_from_xml(src, simplify=False, retain_all=True, bidirectional=False)
    out = save_osmnx_xml(G, tmp_path / "saved.osm")
    for prof in ("walk", "drive"):
        a = load_network(src, prof, cache=False)
        b = load_network(out, prof, cache=False)
        assert a.n_segments == b.n_segments and a.n_nodes == b.n_nodes
        np.testing.assert_array_equal(np.sort(a.node_id), np.sort(b.node_id))
        ka = sorted(zip(a.node_id[a.seg_a], a.node_id[a.seg_b], a.seg_fwd, a.seg_rev, strict=True))
        kb = sorted(zip(b.node_id[b.seg_a], b.node_id[b.seg_b], b.seg_fwd, b.seg_rev, strict=True))
        assert ka == kb

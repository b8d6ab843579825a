"""load_network end to end: real extracts, clipping to a boundary, bad boundaries."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.network import load_network


def _lonlat(net):
    return net.to_wgs84().transform(net.node_x, net.node_y)


class TestRealExtracts:
    def test_real_extract_summary(self, helsinki_pbf):
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

    def test_source_record(self, monaco_pbf, real_network):
        net = real_network("monaco_pbf", "walk")
        src = net.source
        assert src["file"] == str(monaco_pbf) and src["bytes"] == monaco_pbf.stat().st_size
        assert src["clip"] is None and len(src["sha256"]) == 64
        assert src["replication_timestamp"] is None or src["replication_timestamp"][:2] == "20"


class TestClipping:
    def test_clip_bbox_and_polygon(self, helsinki_pbf, tmp_path):
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

    def test_clip_xml(self, osm_data):
        full = load_network(osm_data / "grid.osm", "walk", cache=False)
        x0, y0 = full.node_x.min(), full.node_y.min()
        # the western three columns of the 5 x 5 grid (drawn in UTM, given to load_network in WGS-84)
        area = gpd.GeoSeries([shapely.box(x0 - 10, y0 - 10, x0 + 250, y0 + 410)], crs=full.crs)
        net = load_network(osm_data / "grid.osm", "walk", boundary=area.to_crs(4326).iloc[0], cache=False)
        assert net.n_nodes == 15 and net.n_segments == 3 * 4 + 5 * 2
        assert (net.node_x < x0 + 250).all()
        # the same area as a GeoDataFrame in UTM
        same = load_network(osm_data / "grid.osm", "walk", boundary=gpd.GeoDataFrame(geometry=area), cache=False)
        assert np.array_equal(same.node_id, net.node_id)

    def test_boundary_goes_through_the_one_boundary_reader(self, osm_data, monkeypatch):
        from carecover.network import load as load_mod

        seen = []

        def spy(boundary):
            seen.append(boundary)
            return None

        monkeypatch.setattr(load_mod, "boundary_geometry", spy)
        load_network(osm_data / "grid.osm", "walk", boundary="anything", cache=False)
        assert seen == ["anything"]


class TestErrors:
    @pytest.mark.filterwarnings("ignore:Could not find any edges")
    def test_empty_clip_area(self, test_pbf, load_fails, osm_data):
        load_fails(test_pbf, "test.osm.pbf", boundary=(0.0, 0.0, 0.01, 0.01))
        load_fails(osm_data / "grid.osm", "grid.osm", boundary=(0.0, 0.0, 0.01, 0.01))

    def test_boundary_projected_without_crs(self, test_pbf, tmp_path, load_fails):
        net = load_network(test_pbf, "walk", cache=False)
        box = shapely.box(net.node_x.min(), net.node_y.min(), net.node_x.max(), net.node_y.max())
        path = tmp_path / "district.geojson"
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(box)}]}))
        e = load_fails(test_pbf, "district.geojson", boundary=path)
        assert "CRS" in str(e)
        load_fails(test_pbf, "missing_boundary.geojson", boundary=tmp_path / "missing_boundary.geojson")


class TestReadReuse:
    """The walking and the driving network of a run come from one read of the file."""

    FIELDS = ("node_x", "node_y", "node_id", "seg_a", "seg_b", "seg_len", "seg_speed", "seg_fwd", "seg_rev",
              "seg_highway", "seg_name", "name_table", "dropped_segments")

    def test_second_profile_reuses_the_read_and_builds_the_same(self, monaco_pbf):
        from carecover.network.load import forget_read, read_streets
        from carecover.network.readers import reader_for
        from carecover.utils import file_sha256

        reader, digest = reader_for(monaco_pbf), file_sha256(monaco_pbf)
        forget_read()
        # kept only when asked (a long-lived process that builds one network keeps nothing)
        assert read_streets(reader, monaco_pbf, None, digest) is not read_streets(reader, monaco_pbf, None, digest)
        first = read_streets(reader, monaco_pbf, None, digest, keep=True)
        assert read_streets(reader, monaco_pbf, None, digest) is first
        # another clip, or other file content, is read afresh
        box = shapely.box(7.41, 43.72, 7.43, 43.74)
        assert read_streets(reader, monaco_pbf, box, digest) is not first
        assert read_streets(reader, monaco_pbf, None, "0" * 64) is not first
        forget_read()
        assert read_streets(reader, monaco_pbf, None, digest) is not first
        # a network built from the kept read is the one built from a fresh read
        load_network(monaco_pbf, "walk", cache=False, keep_read=True)
        assert read_streets(reader, monaco_pbf, None, digest) is read_streets(reader, monaco_pbf, None, digest)
        reused = load_network(monaco_pbf, "drive", cache=False)
        forget_read()
        fresh = load_network(monaco_pbf, "drive", cache=False)
        forget_read()
        for f in self.FIELDS:
            np.testing.assert_array_equal(getattr(reused, f), getattr(fresh, f), err_msg=f)
        assert reused.seg_tags.keys() == fresh.seg_tags.keys()
        for k in reused.seg_tags:
            np.testing.assert_array_equal(reused.seg_tags[k], fresh.seg_tags[k], err_msg=k)
        assert reused.dropped == fresh.dropped and reused.source == fresh.source

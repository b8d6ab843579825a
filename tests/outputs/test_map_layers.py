"""The map's derived layers on small hand-checked cases and real data: zones from labelled
demand points (catchments), the streets layer from a real network, the gaps' drawing rule, the
facility popups' "nearest for" counts, and GCJ-02 coordinates in the Gaode map's popups."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover.crs import wgs84_to_gcj02
from carecover.network import load_network
from carecover.network.streetlines import street_kinds, street_lines
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.maps import build_map
from carecover.outputs.maps.facilities import nearest_served
from carecover.outputs.maps.gaps import drawn_mask
from carecover.outputs.maps.zones import DisplayGrid, label_zones, neighbour_colours

DATA = Path(__file__).resolve().parents[1] / "data"
HOHHOT = (111.670801, 40.818311)


def _points(xy_m: list[tuple[float, float]], elderly: list[float], origin=HOHHOT) -> gpd.GeoDataFrame:
    """Demand points at metre offsets east/north of ``origin`` (through its UTM zone)."""
    o = gpd.GeoSeries([shapely.Point(*origin)], crs=4326)
    utm = o.estimate_utm_crs()
    ox, oy = o.to_crs(utm).iloc[0].coords[0]
    pts = gpd.GeoSeries([shapely.Point(ox + x, oy + y) for x, y in xy_m], crs=utm).to_crs(4326)
    return gpd.GeoDataFrame({"elderly": elderly, "area_m2": 10_000.0}, geometry=pts.values, crs=4326)


class TestZones:
    """Zones of labelled points: 100 m cells (area_m2 = 1 ha), majority of elderly per cell."""

    def test_cells_go_to_the_label_with_most_elderly(self) -> None:
        # cell A holds a (5 elderly) and b (2); cell B, 300 m east, only b (1); one unlabelled point
        d = _points([(10, 10), (20, 20), (310, 10), (600, 10)], [5.0, 2.0, 1.0, 9.0])
        z = label_zones(DisplayGrid.of(d), np.array(["a", "b", "b", ""]))
        assert z.labels == ["a", "b"] and z.cell_m == pytest.approx(100.0)
        assert z.elderly.tolist() == [5.0, 3.0]  # every labelled point counts, "" none
        utm = d.estimate_utm_crs()
        areas = gpd.GeoSeries(z.geoms, crs=4326).to_crs(utm).area.to_numpy()
        assert areas == pytest.approx([10_000.0, 10_000.0], rel=1e-3)  # one 100 m cell each
        a, b = gpd.GeoSeries(z.geoms, crs=4326).to_crs(utm)
        assert a.contains(gpd.GeoSeries([d.geometry.iloc[0]], crs=4326).to_crs(utm).iloc[0])
        assert not a.intersection(b).area > 0  # a partition: no overlap

    def test_no_labels_no_zones(self) -> None:
        d = _points([(0, 0)], [1.0])
        assert label_zones(DisplayGrid.of(d), np.array([""])).labels == []

    def test_zones_made_once_per_labelling(self) -> None:
        # both maps of a run draw the same zones: the second asks for them and gets the first's
        d = _points([(10, 10), (20, 20), (310, 10), (600, 10)], [5.0, 2.0, 1.0, 9.0])
        grid = DisplayGrid.of(d)
        z = label_zones(grid, np.array(["a", "b", "b", ""]))
        assert label_zones(grid, np.array(["a", "b", "b", ""])) is z
        # another labelling is not taken for it
        other = label_zones(grid, np.array(["a", "a", "b", ""]))
        assert other is not z and other.elderly.tolist() == [7.0, 1.0]
        assert label_zones(grid, np.array(["a", "b", "b", "c"])).labels == ["a", "b", "c"]

    def test_maps_of_a_bundle_share_its_grid(self, hohhot_bundle) -> None:
        from carecover.outputs.maps.base import MapContext

        b = hohhot_bundle()
        osm, gaode = MapContext.of(b, "osm"), MapContext.of(b, "gaode")
        assert gaode.grid() is osm.grid() and gaode.local_xy() is osm.local_xy()
        # a copy of the table (a bundle of other results) has its own
        copy = MapContext.of(dataclasses.replace(b, demand=b.demand.copy()), "osm")
        assert copy.grid() is not osm.grid()

    def test_touching_zones_get_different_colours(self) -> None:
        boxes = np.array([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1), shapely.box(2, 0, 3, 1),
                          shapely.box(10, 10, 11, 11)], dtype=object)
        c = neighbour_colours(boxes, 8)
        assert c[0] != c[1] and c[1] != c[2] and c[3] == 0


class TestNearestServed:
    def test_elderly_per_nearest_facility(self) -> None:
        d = pd.DataFrame({"elderly": [5.0, 2.0, 1.0, 4.0],
                          "nearest_fid__street_centre": ["F1", "F1", "F2", ""],
                          "covered__street_centre": [True, False, True, False]})
        assert nearest_served(d, ["street_centre", "meal_point"]) == {
            ("street_centre", "F1"): (7.0, 5.0), ("street_centre", "F2"): (1.0, 1.0)}


class TestGapsDrawn:
    def test_least_share_and_kept_ids(self) -> None:
        g = pd.DataFrame({"gap_id": ["1", "2", "3", "4"], "elderly": [80.0, 15.0, 4.0, 1.0]})
        assert drawn_mask(g, 0.05, set()).tolist() == [True, True, False, False]
        assert drawn_mask(g, 0.05, {"4"}).tolist() == [True, True, False, True]
        assert drawn_mask(g, 0.0, set()).all()


class TestStreets:
    def test_grid_length_is_kept(self) -> None:
        net = load_network(DATA / "grid.osm", "walk", cache=False)
        s = street_lines(net)
        assert s.crs.to_epsg() == 4326 and s["kind"].tolist() == ["minor"]
        # 5 × 5 nodes, 100 m blocks: 40 segments of 100 m, merged but not shortened
        assert s.to_crs(net.crs).length.sum() == pytest.approx(4000.0, rel=1e-6)

    def test_kinds(self) -> None:
        assert street_kinds(np.array(["primary", "residential", "footway", "steps", "tertiary_link"])).tolist() == [
            "major", "minor", "path", "path", "major"]

    def test_city_fits_the_vertex_budget(self, monaco_pbf: Path) -> None:
        net = load_network(monaco_pbf, "walk", cache=False)
        full = street_lines(net)
        assert set(full["kind"]) == {"major", "minor", "path"}
        small = street_lines(net, max_vertices=3000)
        assert "path" not in set(small["kind"])  # footpaths go first
        assert int(shapely.get_num_coordinates(small.geometry.values).sum()) <= 3000
        # simplified, never moved: every drawn vertex lies near the network's segments
        b = net.crs and gpd.GeoSeries(full.geometry.values, crs=4326).to_crs(net.crs).total_bounds
        assert b[0] >= net.node_x.min() - 1 and b[2] <= net.node_x.max() + 1


def test_gaode_popups_show_gcj02(hohhot_bundle, tmp_path: Path) -> None:
    b = hohhot_bundle()
    site = (HOHHOT[0] + 0.003, HOHHOT[1] + 0.002)
    sites = pd.DataFrame([{"rank": 1, "tier": "street_centre", "method": "exact", "gain_elderly": 20.0,
                           "gain_pop": 100.0, "lon": site[0], "lat": site[1], "county": "新城区", "gap_id": "1"}])
    b = PlanBundle(facilities=b.facilities, isochrones=b.isochrones, demand=b.demand, sites=sites,
                   summary={}, params=b.params)
    osm = build_map(b, tmp_path / "osm.html").read_text(encoding="utf-8")
    gd = build_map(b, tmp_path / "gaode.html", basemap="gaode").read_text(encoding="utf-8")
    for lon, lat in (HOHHOT, site):
        glon, glat = (float(v) for v in wgs84_to_gcj02(lon, lat))
        wgs_txt, gcj_txt = f"{lon:.6f}, {lat:.6f}", f"{glon:.6f}, {glat:.6f}"
        assert wgs_txt in osm and gcj_txt not in osm
        assert gcj_txt in gd and wgs_txt not in gd  # no WGS-84 coordinate is shown on the Gaode map
    assert "GCJ-02" in gd and "坐标（WGS-84）" not in gd


def test_vendored_assets_match_their_manifest() -> None:
    """Every file the offline map inlines is the npm package's file (sha256 in MANIFEST.json),
    with its licence beside it."""
    import hashlib
    import json

    from carecover.outputs.maps import ASSETS

    manifest = json.loads((ASSETS / "MANIFEST.json").read_text(encoding="utf-8"))
    on_disk = {p.name for p in ASSETS.iterdir() if p.name != "MANIFEST.json"}
    assert on_disk == set(manifest)
    for name, rec in manifest.items():
        assert hashlib.sha256((ASSETS / name).read_bytes()).hexdigest() == rec["sha256"], name
    assert {rec["package"] for rec in manifest.values()} == {"leaflet", "jquery"}
    assert {"LICENSE-leaflet.txt", "LICENSE-jquery.txt"} <= on_disk


def test_tooltips_escape_input_text(hohhot_bundle, tmp_path: Path) -> None:
    """Popups and tooltips are set as innerHTML: register and boundary names reach the map's
    data arrays HTML-escaped, and the JSON escapes ``&`` and ``<`` again (no ``</script>``)."""
    hostile = "<img src=x onerror=alert(1)>`${x}`"
    b = hohhot_bundle()
    fac = b.facilities.assign(name=hostile)
    dem = b.demand.assign(nearest_fid__street_centre="F2")
    bnd = gpd.GeoDataFrame({"name": [hostile], "level": ["county"]},
                           geometry=[shapely.Point(*HOHHOT).buffer(0.01)], crs=4326)
    b = PlanBundle(facilities=fac, isochrones=b.isochrones, demand=dem, boundaries=bnd, summary={},
                   params=b.params)
    text = build_map(b, tmp_path / "m.html").read_text(encoding="utf-8")
    assert "<img src=x" not in text and "\\u003cimg src=x" not in text
    escaped = "&lt;img src=x onerror=alert(1)&gt;&#96;&#36;{x}&#96;"
    assert escaped not in text  # "&" itself is escaped in the JSON
    # the facility's popup and tooltip, its catchment's tooltip and the boundary's
    assert text.count(escaped.replace("&", "\\u0026")) == 4


def test_input_text_is_not_a_template(hohhot_bundle, tmp_path: Path) -> None:
    """Text from the inputs never goes through Jinja: folium compiled every rendered script as
    a template again, so a name holding ``{{ … }}`` was evaluated when the map was built."""
    b = hohhot_bundle()
    jinja = "{{ 7 * 7 }}{% if 1 %}站{% endif %}"
    fac = b.facilities.assign(name=jinja)
    bnd = gpd.GeoDataFrame({"name": [jinja], "level": ["county"]},
                           geometry=[shapely.Point(*HOHHOT).buffer(0.01)], crs=4326)
    b = PlanBundle(facilities=fac, isochrones=b.isochrones, demand=b.demand.assign(nearest_fid__street_centre="F2"),
                   boundaries=bnd, summary={}, params=b.params, title=jinja)
    text = build_map(b, tmp_path / "m.html").read_text(encoding="utf-8")
    # popup, tooltip, catchment, boundary, page title and title block: all as written
    assert text.count(jinja) >= 6 and "49站" not in text

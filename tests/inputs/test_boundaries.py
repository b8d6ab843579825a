"""The one boundary reader (``carecover.inputs.boundaries``) and its CRS policy.

A file without a CRS is accepted only when its coordinates are plausible lon/lat; a declared
CRS is reprojected to WGS-84; only polygons are accepted (an error names the row); invalid
polygons are repaired; ``boundary_geometry`` takes paths, frames, geometries and boxes;
``buffered`` grows a geometry by metres on the ground.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs.boundaries import (
    boundary_geometry,
    buffered,
    is_lonlat_bounds,
    read_boundaries,
)
from pyproj import Geod
from shapely.geometry import Point, Polygon, box

GEOD = Geod(ellps="WGS84")
#: about 1 km × 1.1 km in Hohhot
SQUARE = box(111.60, 40.80, 111.612, 40.81)


@pytest.fixture
def write_boundary(tmp_path):
    """``write_boundary(filename, geoms, crs=4326, **columns)`` writes a vector file (driver by
    suffix); ``crs=None`` writes no CRS (a Shapefile without its .prj)."""

    def write(filename, geoms, crs=4326, **columns) -> Path:
        path = tmp_path / filename
        gpd.GeoDataFrame(columns or None, geometry=list(geoms), crs=crs).to_file(path)
        if crs is None:
            assert not path.with_suffix(".prj").exists()
        return path

    return write


class TestCrsPolicy:
    """What a file's CRS (or its absence) means."""

    def test_no_crs_with_lonlat_coordinates_is_wgs84(self, write_boundary):
        path = write_boundary("lonlat.shp", [SQUARE], crs=None)
        gdf = read_boundaries(path)
        assert gdf.crs.to_epsg() == 4326
        assert gdf.geometry.iloc[0].equals(SQUARE)

    def test_no_crs_with_other_coordinates_is_an_error_naming_the_file(self, write_boundary):
        path = write_boundary("metres.shp", [box(600000, 4500000, 601000, 4501000)], crs=None)
        with pytest.raises(InputError, match="not lon/lat and no CRS is declared") as exc:
            read_boundaries(path)
        assert exc.value.file == str(path) and exc.value.field == "crs"
        assert "metres.shp" in str(exc.value)

    def test_declared_projected_crs_is_reprojected(self, write_boundary):
        utm = gpd.GeoSeries([SQUARE], crs=4326).to_crs(32649)
        path = write_boundary("utm.gpkg", utm, crs=32649)
        gdf = read_boundaries(path)
        assert gdf.crs.to_epsg() == 4326
        np.testing.assert_allclose(gdf.total_bounds, SQUARE.bounds, atol=1e-6)
        geom = boundary_geometry(path)
        assert geom.symmetric_difference(SQUARE).area < 1e-9 * SQUARE.area + 1e-12

    def test_declared_crs_that_does_not_fit_is_an_error(self, write_boundary):
        path = write_boundary("wrong.gpkg", [box(600000, 4500000, 601000, 4501000)], crs=4326)
        with pytest.raises(InputError, match="declared CRS") as exc:
            read_boundaries(path)
        assert exc.value.file == str(path) and exc.value.field == "crs"

    def test_frames_follow_the_same_policy(self):
        utm = gpd.GeoDataFrame(geometry=[SQUARE], crs=4326).to_crs(32649)
        got = boundary_geometry(utm)
        np.testing.assert_allclose(got.bounds, SQUARE.bounds, atol=1e-6)
        no_crs = gpd.GeoSeries([box(600000, 4500000, 601000, 4501000)])
        with pytest.raises(InputError, match="no CRS"):
            boundary_geometry(no_crs, role="units")
        assert boundary_geometry(gpd.GeoSeries([SQUARE])).equals_exact(SQUARE, 0)

    def test_is_lonlat_bounds(self):
        assert is_lonlat_bounds((111.6, 40.8, 111.7, 40.9))
        assert is_lonlat_bounds((-180, -90, 180, 90))
        assert not is_lonlat_bounds((600000, 4500000, 601000, 4501000))
        assert not is_lonlat_bounds((111.7, 40.8, 111.6, 40.9))  # min > max
        assert not is_lonlat_bounds((np.nan, 40.8, 111.7, 40.9))


class TestPolygons:
    """Only polygons are areas; broken ones are repaired."""

    def test_non_polygon_feature_is_refused_naming_the_row(self, write_boundary):
        path = write_boundary("mixed.geojson", [SQUARE, Point(111.6, 40.8), SQUARE.buffer(0.01)])
        with pytest.raises(InputError, match="feature 2 is Point") as exc:
            read_boundaries(path)
        assert exc.value.row == 2 and exc.value.field == "geometry" and exc.value.file == str(path)
        assert "1 of 3 features" in str(exc.value)
        with pytest.raises(InputError, match="feature 1 is LineString") as exc:
            boundary_geometry(shapely.LineString([(111.6, 40.8), (111.7, 40.9)]))
        assert exc.value.row == 1

    def test_empty_geometry_is_refused(self):
        with pytest.raises(InputError, match="feature 2 is empty") as exc:
            boundary_geometry(gpd.GeoDataFrame(geometry=[SQUARE, Polygon()], crs=4326))
        assert exc.value.row == 2
        with pytest.raises(InputError, match="not longitude/latitude"):
            boundary_geometry(Polygon())  # no coordinates to be lon/lat

    def test_invalid_polygons_are_repaired(self, write_boundary):
        bowtie = Polygon([(111.60, 40.80), (111.62, 40.82), (111.62, 40.80), (111.60, 40.82)])
        assert not bowtie.is_valid
        path = write_boundary("bowtie.geojson", [bowtie, SQUARE.buffer(0.05)], name=["tie", "big"])
        gdf = read_boundaries(path)
        assert gdf.geometry.is_valid.all()
        assert gdf.geometry.iloc[0].area == pytest.approx(2 * 0.5 * 0.02 * 0.01, rel=1e-9)
        assert boundary_geometry(bowtie).is_valid

    def test_repair_keeps_only_polygonal_parts(self):
        # a square with a spike: make_valid gives a polygon and a line; the area is the polygon
        spiked = Polygon([(111.60, 40.80), (111.61, 40.80), (111.61, 40.81), (111.61, 40.83),
                          (111.61, 40.81), (111.60, 40.81)])
        assert shapely.make_valid(spiked).geom_type == "GeometryCollection"
        geom = boundary_geometry(gpd.GeoDataFrame(geometry=[spiked], crs=4326))
        assert geom.geom_type in ("Polygon", "MultiPolygon") and geom.is_valid
        assert geom.area == pytest.approx(0.01 * 0.01, rel=1e-9)


class TestBoundaryGeometry:
    """Every kind of source gives one WGS-84 (multi)polygon."""

    def test_paths_frames_geometries_and_boxes(self, write_boundary):
        path = write_boundary("two.gpkg", [SQUARE, box(111.612, 40.80, 111.62, 40.81)],
                              name=["a", "b"])
        union = box(111.60, 40.80, 111.62, 40.81)
        for source in (path, str(path), read_boundaries(path),
                       read_boundaries(path).geometry, union):
            geom = boundary_geometry(source)
            assert geom.symmetric_difference(union).area == pytest.approx(0, abs=1e-12)
        for bbox in ((111.60, 40.80, 111.62, 40.81), [111.60, 40.80, 111.62, 40.81]):
            assert boundary_geometry(bbox).equals(union)
        assert boundary_geometry(None) is None

    def test_bad_sources(self):
        with pytest.raises(InputError, match="not west,south,east,north"):
            boundary_geometry((111.62, 40.80, 111.60, 40.81))  # west > east
        with pytest.raises(InputError, match="not west,south,east,north"):
            boundary_geometry((600000, 4500000, 601000, 4501000))
        with pytest.raises(InputError, match="not longitude/latitude") as exc:
            boundary_geometry(box(600000, 4500000, 601000, 4501000), role="polygon")
        assert exc.value.field == "polygon"
        with pytest.raises(InputError, match="unsupported boundary type int"):
            boundary_geometry(42)


class TestReadBoundaries:
    def test_names_and_levels_default(self, write_boundary):
        gdf = read_boundaries(write_boundary("plain.geojson", [SQUARE, SQUARE.buffer(0.01)]))
        assert gdf["name"].tolist() == ["unit 1", "unit 2"]
        assert (gdf["level"] == "county").all()
        named = read_boundaries(write_boundary("named.geojson", [SQUARE], name=[None]))
        assert named["name"].tolist() == [""]

    def test_file_errors_name_the_file_and_role(self, tmp_path):
        with pytest.raises(InputError, match="units file not found") as exc:
            read_boundaries(tmp_path / "none.geojson", role="units")
        assert exc.value.file == str(tmp_path / "none.geojson")
        with pytest.raises(InputError, match="is a folder"):
            read_boundaries(tmp_path)
        empty = tmp_path / "empty.geojson"
        empty.write_text('{"type": "FeatureCollection", "features": []}')
        with pytest.raises(InputError, match="no features"):
            read_boundaries(empty)
        junk = tmp_path / "junk.geojson"
        junk.write_text("{not json")
        with pytest.raises(InputError, match="cannot read boundary file"):
            read_boundaries(junk)


class TestBuffered:
    """``buffered`` grows by the given metres on the ground, in every direction."""

    def test_grows_by_metres_on_the_ground(self):
        grown = buffered(SQUARE, 100.0)
        assert grown.contains(SQUARE)
        cx, cy = SQUARE.centroid.x, SQUARE.centroid.y
        edges = {90: (SQUARE.bounds[2], cy), 270: (SQUARE.bounds[0], cy),
                 0: (cx, SQUARE.bounds[3]), 180: (cx, SQUARE.bounds[1])}
        for azimuth, (x, y) in edges.items():
            for dist, expected in ((98.0, True), (102.0, False)):
                lon, lat, _ = GEOD.fwd(x, y, azimuth, dist)
                assert grown.contains(Point(lon, lat)) is expected, (azimuth, dist)

    def test_shrinks_with_negative_metres(self):
        shrunk = buffered(SQUARE, -100.0)
        assert SQUARE.contains(shrunk)
        lon, _, _ = GEOD.fwd(SQUARE.bounds[2], SQUARE.centroid.y, 270, 102.0)
        assert shrunk.contains(Point(lon, SQUARE.centroid.y))


class TestRealWorld:
    def test_hohhot_admin(self, hohhot_admin):
        gdf = read_boundaries(hohhot_admin)
        assert gdf.crs.to_epsg() == 4326 and gdf.geometry.is_valid.all()
        assert set(gdf["level"]) == {"city", "county"}
        assert "新城区" in set(gdf["name"])
        city = boundary_geometry(hohhot_admin)
        assert city.contains(Point(111.67, 40.82))  # the city centre
        assert 110.0 < city.bounds[0] < city.bounds[2] < 113.0

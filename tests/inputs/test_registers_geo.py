"""Geographic registers (``carecover.inputs.registers.geo``): points, polygons, CRSs."""

from __future__ import annotations

import warnings

import geopandas as gpd
import pytest
import shapely
from carecover import crs
from carecover.errors import InputError
from carecover.inputs.registers import read_facilities, read_register


@pytest.fixture
def geo_frame():
    """Four records: a point, a polygon, an unknown tier and one without geometry."""
    return gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "tier": ["助餐点", "社区养老服务站", "未知", "助餐点"],
         "id": ["g1", "g2", "g3", "g4"]},
        geometry=[shapely.Point(111.67, 40.82), shapely.box(111.68, 40.83, 111.69, 40.84),
                  shapely.Point(111.70, 40.85), None],
        crs="EPSG:4326")


class TestSynthetic:
    @pytest.mark.parametrize("suffix", ["geojson", "gpkg"])
    def test_formats(self, tmp_path, geo_frame, suffix):
        p = tmp_path / f"r.{suffix}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            geo_frame.to_file(p, engine="pyogrio")
        g = read_facilities(p, crs="gcj02")
        assert list(g["row"]) == [1, 2, 3, 4]
        assert list(g["fid"]) == ["g1", "g2", "g3", "g4"]
        assert list(g["status"]) == ["ok", "ok", "unknown_tier", "missing_coords"]
        assert (g["crs_in"] == "gcj02").all()
        ex, ey = crs.gcj02_to_wgs84(111.67, 40.82)
        assert g.geometry.iloc[0].x == pytest.approx(float(ex), abs=1e-9)
        # polygon → a point inside it (before conversion)
        assert shapely.box(111.68, 40.83, 111.69, 40.84).contains(
            shapely.Point(g.loc[1, "lon_in"], g.loc[1, "lat_in"]))

    def test_projected_crs_is_reprojected(self, tmp_path, geo_frame):
        p = tmp_path / "r.gpkg"
        geo_frame.iloc[:1].to_crs("EPSG:32649").to_file(p, engine="pyogrio")
        g = read_facilities(p)
        assert g.geometry.iloc[0].x == pytest.approx(111.67, abs=1e-7)
        assert read_register(p).info["reprojected_from"].endswith("32649")


class TestErrors:
    def test_bad_file_and_no_coordinates(self, tmp_path):
        p = tmp_path / "r.geojson"
        p.write_text("{not json")
        with pytest.raises(InputError, match="cannot read the file"):
            read_facilities(p)
        none = tmp_path / "none.geojson"
        gpd.GeoDataFrame({"name": ["a"], "tier": ["助餐点"]}, geometry=[None], crs=4326).to_file(none)
        with pytest.raises(InputError, match="missing required column") as e:
            read_facilities(none)
        assert e.value.field == "lon"

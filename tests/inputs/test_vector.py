"""Census polygons and vector grids (``carecover.inputs.population.vector``): areal weighting."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs import population as P
from shapely.geometry import box


class TestSynthetic:
    """100 m squares in UTM 49N written by ``utm_squares``."""

    def test_prorates_partial_overlap(self, utm_squares, check_contract):
        path = utm_squares([100.0, 50.0, 80.0], extra={"old": [20.0, 10.0, 16.0]})
        # boundary: all of square 0, 30 % of square 1, none of square 2
        bnd = gpd.GeoDataFrame(geometry=[box(599950, 4499950, 600130, 4500150)], crs=32649)
        gdf_d = P.from_vector(path, "pop", elderly_field="old", boundary=bnd.to_crs(4326))
        gdf = gdf_d.points
        check_contract(gdf_d)
        assert gdf["cell_id"].tolist() == [0, 1]
        np.testing.assert_allclose(gdf["pop"], [100.0, 15.0], rtol=1e-6)
        np.testing.assert_allclose(gdf["elderly"], [20.0, 3.0], rtol=1e-6)
        np.testing.assert_allclose(gdf["area_m2"], [10000.0, 3000.0], rtol=1e-6)
        src = gdf_d.source
        assert src["total_file"] == pytest.approx(230.0)
        assert src["total_in"] == pytest.approx(115.0, rel=1e-6)
        assert src["clipped_away_pop"] == pytest.approx(115.0, rel=1e-6)
        assert src["features_partly_inside"] == 1 and src["features_outside"] == 1
        # the partial square's point lies in the part inside the boundary
        pt = gpd.GeoSeries([gdf.geometry.iloc[1]], crs=4326).to_crs(32649).iloc[0]
        assert 600100 <= pt.x <= 600130

    def test_no_boundary_keeps_all(self, utm_squares):
        path = utm_squares([100.0, 0.0, 80.0])
        gdf_d = P.from_vector(path, "pop")
        gdf = gdf_d.points
        assert gdf["cell_id"].tolist() == [0, 2]  # the empty square adds no point
        assert gdf["pop"].sum() == pytest.approx(180.0)
        assert gdf_d.source["features_zero_pop"] == 1

    def test_points_kept_when_inside_and_county_field(self, utm_squares):
        pts = [shapely.Point(600050, 4500050), shapely.Point(600150, 4500050),
               shapely.Point(600250, 4500050)]
        path = utm_squares([5.0, 7.0, 9.0], name="pts.gpkg", extra={"cty": ["a", "b", None]},
                           geoms=pts)
        bnd = gpd.GeoDataFrame(geometry=[box(600000, 4500000, 600200, 4500100)], crs=32649)
        dem = P.from_vector(path, "pop", boundary=bnd, county_field="cty")
        assert dem.points["cell_id"].tolist() == [0, 1]
        assert dem.points["county"].tolist() == ["a", "b"]
        assert (dem.points["area_m2"] == 0).all()  # a point's area is unknown


class TestErrors:
    """Bad fields, values and geometries name the file, the row and the field."""

    def test_missing_field_lists_fields(self, utm_squares):
        path = utm_squares([1.0, 2.0])
        with pytest.raises(InputError) as exc:
            P.from_vector(path, "population")
        assert "pop" in str(exc.value) and exc.value.field == "population"
        with pytest.raises(InputError, match="county field"):
            P.from_vector(path, "pop", county_field="district")

    def test_bad_values(self, utm_squares):
        path = utm_squares(["10", "abc", "3"], name="txt.gpkg")
        with pytest.raises(InputError) as exc:
            P.from_vector(path, "pop")
        assert exc.value.row == 2 and "abc" in str(exc.value)
        path = utm_squares([10.0, 2.0, -3.0], name="neg.gpkg")
        with pytest.raises(InputError) as exc:
            P.from_vector(path, "pop")
        assert exc.value.row == 3 and "negative" in str(exc.value)

    def test_elderly_above_pop_and_lines(self, utm_squares):
        path = utm_squares([10.0, 2.0], name="old.gpkg", extra={"old": [1.0, 5.0]})
        with pytest.raises(InputError, match="elderly") as exc:
            P.from_vector(path, "pop", elderly_field="old")
        assert exc.value.row == 2
        line = shapely.LineString([(600000, 4500000), (600100, 4500100)])
        path = utm_squares([1.0, 2.0], name="line.gpkg",
                           geoms=[box(600000, 4500000, 600100, 4500100), line])
        with pytest.raises(InputError, match="LineString") as exc:
            P.from_vector(path, "pop")
        assert exc.value.row == 2

    def test_file_without_crs_or_missing(self, tmp_path):
        shp = tmp_path / "a.shp"
        gpd.GeoDataFrame({"pop": [1.0]}, geometry=[box(0, 0, 1, 1)]).to_file(shp)
        with pytest.raises(InputError, match="no CRS") as exc:
            P.from_vector(shp, "pop")
        assert exc.value.file == str(shp)
        with pytest.raises(InputError, match="not found"):
            P.from_vector(tmp_path / "none.gpkg", "pop")

"""Population rasters (``carecover.inputs.population.raster``): pixels, areas, windows, elderly."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs import population as P
from pyproj import Geod, Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

GEOD = Geod(ellps="WGS84")
ND = -9999.0


def geod_area(lon0, lat0, lon1, lat1):
    area, _ = GEOD.polygon_area_perimeter([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
    return abs(area)


class TestSynthetic:
    """The 4 × 4 grid of ``grid_tif`` and other small rasters written by ``make_tif``."""

    def test_whole(self, grid_tif, check_contract):
        gdf_d = P.from_raster(grid_tif)
        gdf = gdf_d.points
        check_contract(gdf_d)
        # 14 valid pixels, one of them 0 -> 13 points; total 111
        assert len(gdf) == 13
        assert gdf["pop"].sum() == pytest.approx(111.0)
        src = gdf_d.source
        assert src["total_in"] == pytest.approx(111.0) and src["clipped_away_pop"] == 0
        assert src["sha256"] and src["method"] == "raster"
        # row-major cell ids: value 14 sits at row 3, col 1 -> 3 * 4 + 1
        row = gdf.loc[gdf["pop"] == 14].iloc[0]
        assert row["cell_id"] == 13
        assert row.geometry.x == pytest.approx(110.015) and row.geometry.y == pytest.approx(40.965)
        assert gdf["elderly"].isna().all()
        assert (gdf["county"] == "").all()

    def test_pixel_areas_vary_with_latitude(self, grid_tif):
        gdf_d = P.from_raster(grid_tif)
        gdf = gdf_d.points
        for _, r in gdf.iterrows():
            lat_top = 41.0 - (r["cell_id"] // 4) * 0.01
            expected = geod_area(110.0, lat_top, 110.01, lat_top - 0.01)
            assert r["area_m2"] == pytest.approx(expected, rel=1e-9)
        # ~ 0.01 deg x 0.01 deg at 41 N: 1,110 m x 840 m
        assert 9.2e5 < gdf["area_m2"].min() < gdf["area_m2"].max() < 9.5e5
        top = gdf.loc[gdf["cell_id"] == 0, "area_m2"].item()
        bottom = gdf.loc[gdf["cell_id"] == 12, "area_m2"].item()
        assert bottom > top  # further south -> larger

    def test_boundary_cuts_cells(self, grid_tif, check_contract):
        # Boundary covers columns 0-1 fully and 40 % of column 2 (whose centres at 110.025 are
        # outside): all_touched=False keeps columns 0-1 only.
        bnd = box(110.0, 40.96, 110.024, 41.0)
        gdf_d = P.from_raster(grid_tif, bnd)
        gdf = gdf_d.points
        check_contract(gdf_d)
        assert sorted(gdf["pop"]) == [1, 2, 5, 9, 10, 13, 14]  # the 0 pixel is not a point
        src = gdf_d.source
        assert src["total_in"] == pytest.approx(54.0)
        assert src["total_window"] == pytest.approx(54.0 + 7 + 11 + 15)
        assert src["clipped_away_pop"] == pytest.approx(33.0)
        assert src["window"] == {"row_off": 0, "col_off": 0, "height": 4, "width": 3}
        # same boundary given in Web Mercator is reprojected to the raster CRS
        bnd_3857 = gpd.GeoDataFrame(geometry=[bnd], crs=4326).to_crs(3857)
        g2_d = P.from_raster(grid_tif, bnd_3857)
        g2 = g2_d.points
        assert g2["cell_id"].tolist() == gdf["cell_id"].tolist()
        assert g2["pop"].sum() == pytest.approx(54.0)

    def test_named_boundary_assigns_county(self, grid_tif):
        bnd = gpd.GeoDataFrame({"name": ["city", "west", "east"]},
                               geometry=[box(110.0, 40.96, 110.04, 41.0),
                                         box(110.0, 40.96, 110.02, 41.0),
                                         box(110.02, 40.96, 110.04, 41.0)], crs=4326)
        gdf_d = P.from_raster(grid_tif, bnd)
        gdf = gdf_d.points
        west = gdf.loc[gdf.geometry.x < 110.02, "county"]
        east = gdf.loc[gdf.geometry.x > 110.02, "county"]
        assert (west == "west").all() and (east == "east").all()  # smallest polygon wins

    def test_projected(self, make_tif, check_contract):
        # UTM 49N near Hohhot, 100 m pixels
        t = from_origin(600000.0, 4520000.0, 100.0, 100.0)
        data = np.array([[10, 20, 30], [40, ND, 60]], dtype="float32")
        path = make_tif("utm.tif", data, t, crs="EPSG:32649")
        gdf_d = P.from_raster(path)
        gdf = gdf_d.points
        check_contract(gdf_d)
        assert gdf["pop"].sum() == pytest.approx(160.0)
        assert len(gdf) == 5
        to_ll = Transformer.from_crs(32649, 4326, always_xy=True)
        for _, r in gdf.iterrows():
            row, col = divmod(int(r["cell_id"]), 3)
            x0, y0 = 600000.0 + col * 100, 4520000.0 - row * 100
            xs = [x0, x0 + 100, x0 + 100, x0]
            ys = [y0, y0, y0 - 100, y0 - 100]
            lon, lat = to_ll.transform(xs, ys)
            true_area = abs(GEOD.polygon_area_perimeter(lon, lat)[0])
            assert r["area_m2"] == pytest.approx(true_area, rel=1e-5)
            cx, cy = to_ll.transform(x0 + 50, y0 - 50)
            assert r.geometry.x == pytest.approx(cx) and r.geometry.y == pytest.approx(cy)
        assert gdf["area_m2"].iloc[0] != pytest.approx(10000.0, rel=1e-5)  # not just map area

    def test_cell_polygons_are_the_pixels_or_skipped(self, grid_tif):
        dem = P.from_raster(grid_tif)
        first = dem.cell_polygons.iloc[0]
        assert first.equals_exact(box(110.0, 40.99, 110.01, 41.0), 1e-12)
        assert P.from_raster(grid_tif, cell_polygons=False).cell_polygons is None

    def test_elderly_same_grid(self, make_tif, grid_tif, grid_values):
        eld = np.where(grid_values == ND, ND, grid_values * 0.25)
        epath = make_tif("eld.tif", eld, from_origin(110.0, 41.0, 0.01, 0.01))
        gdf_d = P.from_raster(grid_tif, elderly_raster=epath)
        gdf = gdf_d.points
        np.testing.assert_allclose(gdf["elderly"], gdf["pop"] * 0.25)
        assert gdf_d.source["elderly"]["method"] == "same grid"

    def test_elderly_resampled(self, make_tif):
        pop = make_tif("p.tif", np.ones((4, 4)), from_origin(110.0, 41.0, 0.01, 0.01))
        coarse = np.array([[4, 8], [12, 16]], dtype="float32")
        epath = make_tif("e.tif", coarse, from_origin(110.0, 41.0, 0.02, 0.02))
        gdf_d = P.from_raster(pop, elderly_raster=epath)
        gdf = gdf_d.points
        # each coarse count is spread over its 4 fine pixels in proportion to their area
        assert gdf["elderly"].sum() == pytest.approx(40.0, rel=1e-6)
        e = gdf.set_index("cell_id")["elderly"]
        assert e[0] + e[1] + e[4] + e[5] == pytest.approx(4.0, rel=1e-6)
        assert e[15] == pytest.approx(4.0, rel=1e-3)
        assert gdf_d.source["elderly"]["method"].startswith("resampled")


class TestCellArea:
    """``geographic_cell_area``: the exact ellipsoidal area of lat/lon cells."""

    def test_matches_geod(self):
        # wide cells: densify the parallels (Geod joins vertices with geodesics, not parallels)
        lons = np.linspace(0.0, 1.0, 2001)
        for lat in (0.0, 40.5, 53.0, 80.0):
            got = P.geographic_cell_area(lat, lat + 0.5, 1.0)
            ring_lon = np.concatenate([lons, lons[::-1]])
            ring_lat = np.concatenate([np.full_like(lons, lat), np.full_like(lons, lat + 0.5)])
            expected = abs(GEOD.polygon_area_perimeter(ring_lon, ring_lat)[0])
            assert got == pytest.approx(expected, rel=1e-7)

    def test_worldpop_pixel_area_at_hohhot(self):
        d = 1 / 1200  # 3 arc-seconds
        assert P.geographic_cell_area(41.0, 41.0 + d, d) == pytest.approx(6488.5, abs=1)
        assert P.geographic_cell_area(0.0, d, d) == pytest.approx(8548.0, abs=1)


class TestRealWorld:
    """The Hohhot admin file of ../shared as the boundary."""

    def test_over_hohhot_districts(self, make_tif, hohhot_admin, check_contract):
        # a coarse 0.05 degree grid of ones over Hohhot, clipped to the city outline
        t = from_origin(110.3, 41.9, 0.05, 0.05)
        path = make_tif("hh.tif", np.ones((50, 50)), t)
        admin = gpd.read_file(hohhot_admin)
        gdf_d = P.from_raster(path, admin)
        gdf = gdf_d.points
        check_contract(gdf_d)
        counties = set(admin.loc[admin["level"] == "county", "name"])
        assert set(gdf["county"]) <= counties | {""}
        assert set(gdf["county"]) - {""}  # names found
        city = admin.loc[admin["level"] == "city"].geometry.union_all()
        inside = shapely.contains_xy(city, gdf.geometry.x, gdf.geometry.y)
        assert inside.all()
        # every pixel whose centre is in the outline is there, and nothing else
        xs = 110.3 + 0.025 + 0.05 * np.arange(50)
        ys = 41.9 - 0.025 - 0.05 * np.arange(50)
        gx, gy = np.meshgrid(xs, ys)
        assert len(gdf) == int(shapely.contains_xy(city, gx.ravel(), gy.ravel()).sum())


class TestErrors:
    """Every bad raster is an InputError naming the file (and band, pixel, value)."""

    def test_negative_value(self, make_tif, grid_values):
        data = grid_values
        data[1, 2] = -3
        path = make_tif("neg.tif", data, from_origin(110.0, 41.0, 0.01, 0.01))
        with pytest.raises(InputError) as exc:
            P.from_raster(path)
        msg = str(exc.value)
        assert "neg.tif" in msg and "band 1" in msg and "row 1, col 2" in msg and "-3" in msg
        # indices are the raster's own even when only a window is read
        with pytest.raises(InputError, match="row 1, col 2"):
            P.from_raster(path, box(110.02, 40.96, 110.04, 40.99))
        # a negative pixel outside the area read is not our business
        assert P.from_raster(path, box(110.0, 40.96, 110.02, 41.0)).points["pop"].sum() == pytest.approx(54)

    def test_all_nodata(self, make_tif):
        path = make_tif("nd.tif", np.full((3, 3), ND), from_origin(110.0, 41.0, 0.01, 0.01))
        with pytest.raises(InputError, match="nodata"):
            P.from_raster(path)

    def test_all_nodata_within_boundary(self, grid_tif):
        # only the pixel at row 0, col 2 (nodata) has its centre inside
        with pytest.raises(InputError, match="nodata"):
            P.from_raster(grid_tif, box(110.021, 40.991, 110.029, 40.999))

    def test_missing_crs(self, make_tif, grid_values):
        path = make_tif("nocrs.tif", grid_values, from_origin(110.0, 41.0, 0.01, 0.01), crs=None)
        with pytest.raises(InputError, match="no CRS"):
            P.from_raster(path)

    def test_bad_band_and_outside(self, grid_tif):
        with pytest.raises(InputError, match="band 2"):
            P.from_raster(grid_tif, band=2)
        with pytest.raises(InputError, match="overlap"):
            P.from_raster(grid_tif, box(120, 30, 121, 31))

    def test_missing_and_unreadable_files(self, tmp_path, grid_tif):
        with pytest.raises(InputError, match="not found") as exc:
            P.from_raster(tmp_path / "none.tif")
        assert exc.value.file == str(tmp_path / "none.tif")
        bad = tmp_path / "bad.tif"
        bad.write_bytes(b"not a tif")
        with pytest.raises(InputError, match="cannot read raster"):
            P.from_raster(bad)
        with pytest.raises(InputError, match="elderly raster not found"):
            P.from_raster(grid_tif, elderly_raster=tmp_path / "e.tif")

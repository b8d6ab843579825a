"""Demand points: rasters, vector grids, OSM buildings, elderly shares, aggregation."""

from __future__ import annotations

import json
import time

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from carecover.errors import InputError
from carecover.inputs import population as P
from carecover.inputs.demand import Demand
from pyproj import Geod, Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

GEOD = Geod(ellps="WGS84")
ND = -9999.0
# 4 x 4 grid, 0.01 degree pixels, top-left corner at (110.00 E, 41.00 N)
VALUES = np.array([
    [1, 2, ND, 4],
    [5, 0, 7, 8],
    [9, 10, 11, 12],
    [13, 14, 15, ND],
], dtype="float32")


def write_tif(path, data, transform, crs="EPSG:4326", nodata=ND):
    data = np.asarray(data, dtype="float32")
    kw = dict(driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
              dtype="float32", transform=transform, nodata=nodata)
    if crs is not None:
        kw["crs"] = crs
    with rasterio.open(path, "w", **kw) as dst:
        dst.write(data, 1)
    return path


@pytest.fixture
def grid_tif(tmp_path):
    return write_tif(tmp_path / "pop.tif", VALUES, from_origin(110.0, 41.0, 0.01, 0.01))


def geod_area(lon0, lat0, lon1, lat1):
    area, _ = GEOD.polygon_area_perimeter([lon0, lon1, lon1, lon0], [lat0, lat0, lat1, lat1])
    return abs(area)


def check_contract(dem):
    gdf = dem.points
    for col in P.DEMAND_COLUMNS:
        assert col in gdf.columns
    assert gdf.crs.to_epsg() == 4326
    assert (gdf.geometry.geom_type == "Point").all()
    assert gdf["cell_id"].dtype == "int64"
    assert gdf["cell_id"].is_unique
    json.dumps(dem.source)  # JSON-serialisable
    if dem.cell_polygons is not None:
        polys = dem.cell_polygons
        assert len(polys) == len(gdf) and polys.crs.to_epsg() == 4326
        ok = polys.values.is_empty | shapely.intersects(polys.values, gdf.geometry.values)
        assert ok.all()


# ------------------------------------------------------------------------------ rasters


def test_raster_whole(grid_tif):
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


def test_raster_pixel_areas_vary_with_latitude(grid_tif):
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


def test_geographic_cell_area_matches_geod():
    # wide cells: densify the parallels (Geod joins vertices with geodesics, not parallels)
    lons = np.linspace(0.0, 1.0, 2001)
    for lat in (0.0, 40.5, 53.0, 80.0):
        got = P.geographic_cell_area(lat, lat + 0.5, 1.0)
        ring_lon = np.concatenate([lons, lons[::-1]])
        ring_lat = np.concatenate([np.full_like(lons, lat), np.full_like(lons, lat + 0.5)])
        expected = abs(GEOD.polygon_area_perimeter(ring_lon, ring_lat)[0])
        assert got == pytest.approx(expected, rel=1e-7)


def test_worldpop_pixel_area_at_hohhot():
    d = 1 / 1200  # 3 arc-seconds
    assert P.geographic_cell_area(41.0, 41.0 + d, d) == pytest.approx(6488.5, abs=1)
    assert P.geographic_cell_area(0.0, d, d) == pytest.approx(8548.0, abs=1)


def test_raster_boundary_cuts_cells(grid_tif):
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


def test_raster_named_boundary_assigns_county(grid_tif):
    bnd = gpd.GeoDataFrame({"name": ["city", "west", "east"]},
                           geometry=[box(110.0, 40.96, 110.04, 41.0),
                                     box(110.0, 40.96, 110.02, 41.0),
                                     box(110.02, 40.96, 110.04, 41.0)], crs=4326)
    gdf_d = P.from_raster(grid_tif, bnd)
    gdf = gdf_d.points
    west = gdf.loc[gdf.geometry.x < 110.02, "county"]
    east = gdf.loc[gdf.geometry.x > 110.02, "county"]
    assert (west == "west").all() and (east == "east").all()  # smallest polygon wins


def test_raster_projected(tmp_path):
    # UTM 49N near Hohhot, 100 m pixels
    t = from_origin(600000.0, 4520000.0, 100.0, 100.0)
    data = np.array([[10, 20, 30], [40, ND, 60]], dtype="float32")
    path = write_tif(tmp_path / "utm.tif", data, t, crs="EPSG:32649")
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


def test_raster_negative_value(tmp_path):
    data = VALUES.copy()
    data[1, 2] = -3
    path = write_tif(tmp_path / "neg.tif", data, from_origin(110.0, 41.0, 0.01, 0.01))
    with pytest.raises(InputError) as exc:
        P.from_raster(path)
    msg = str(exc.value)
    assert "neg.tif" in msg and "band 1" in msg and "row 1, col 2" in msg and "-3" in msg
    # indices are the raster's own even when only a window is read
    with pytest.raises(InputError, match="row 1, col 2"):
        P.from_raster(path, box(110.02, 40.96, 110.04, 40.99))
    # a negative pixel outside the area read is not our business
    assert P.from_raster(path, box(110.0, 40.96, 110.02, 41.0)).points["pop"].sum() == pytest.approx(54)


def test_raster_all_nodata(tmp_path):
    path = write_tif(tmp_path / "nd.tif", np.full((3, 3), ND), from_origin(110.0, 41.0, 0.01, 0.01))
    with pytest.raises(InputError, match="nodata"):
        P.from_raster(path)


def test_raster_all_nodata_within_boundary(grid_tif):
    # only the pixel at row 0, col 2 (nodata) has its centre inside
    with pytest.raises(InputError, match="nodata"):
        P.from_raster(grid_tif, box(110.021, 40.991, 110.029, 40.999))


def test_raster_missing_crs(tmp_path):
    path = write_tif(tmp_path / "nocrs.tif", VALUES, from_origin(110.0, 41.0, 0.01, 0.01), crs=None)
    with pytest.raises(InputError, match="no CRS"):
        P.from_raster(path)


def test_raster_bad_band_and_outside(grid_tif):
    with pytest.raises(InputError, match="band 2"):
        P.from_raster(grid_tif, band=2)
    with pytest.raises(InputError, match="overlap"):
        P.from_raster(grid_tif, box(120, 30, 121, 31))


def test_raster_elderly_same_grid(tmp_path, grid_tif):
    eld = np.where(VALUES == ND, ND, VALUES * 0.25)
    epath = write_tif(tmp_path / "eld.tif", eld, from_origin(110.0, 41.0, 0.01, 0.01))
    gdf_d = P.from_raster(grid_tif, elderly_raster=epath)
    gdf = gdf_d.points
    np.testing.assert_allclose(gdf["elderly"], gdf["pop"] * 0.25)
    assert gdf_d.source["elderly"]["method"] == "same grid"


def test_raster_elderly_resampled(tmp_path):
    pop = write_tif(tmp_path / "p.tif", np.ones((4, 4)), from_origin(110.0, 41.0, 0.01, 0.01))
    coarse = np.array([[4, 8], [12, 16]], dtype="float32")
    epath = write_tif(tmp_path / "e.tif", coarse, from_origin(110.0, 41.0, 0.02, 0.02))
    gdf_d = P.from_raster(pop, elderly_raster=epath)
    gdf = gdf_d.points
    # each coarse count is spread over its 4 fine pixels in proportion to their area
    assert gdf["elderly"].sum() == pytest.approx(40.0, rel=1e-6)
    e = gdf.set_index("cell_id")["elderly"]
    assert e[0] + e[1] + e[4] + e[5] == pytest.approx(4.0, rel=1e-6)
    assert e[15] == pytest.approx(4.0, rel=1e-3)
    assert gdf_d.source["elderly"]["method"].startswith("resampled")


def test_raster_over_hohhot_districts(tmp_path, hohhot_admin):
    # a coarse 0.05 degree grid of ones over Hohhot, clipped to the city outline
    t = from_origin(110.3, 41.9, 0.05, 0.05)
    path = write_tif(tmp_path / "hh.tif", np.ones((50, 50)), t)
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


# ------------------------------------------------------------------------------ vectors


def utm_squares(tmp_path, pops, name="grid.gpkg", extra=None):
    # 100 m squares side by side in UTM 49N (so areas are exact in the CRS used for pro-rating)
    geoms = [box(600000 + 100 * i, 4500000, 600100 + 100 * i, 4500100) for i in range(len(pops))]
    data = {"pop": pops, **(extra or {})}
    gdf = gpd.GeoDataFrame(data, geometry=geoms, crs=32649)
    path = tmp_path / name
    gdf.to_file(path)
    return path


def test_vector_prorates_partial_overlap(tmp_path):
    path = utm_squares(tmp_path, [100.0, 50.0, 80.0], extra={"old": [20.0, 10.0, 16.0]})
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


def test_vector_no_boundary_keeps_all(tmp_path):
    path = utm_squares(tmp_path, [100.0, 0.0, 80.0])
    gdf_d = P.from_vector(path, "pop")
    gdf = gdf_d.points
    assert gdf["cell_id"].tolist() == [0, 2]  # the empty square adds no point
    assert gdf["pop"].sum() == pytest.approx(180.0)
    assert gdf_d.source["features_zero_pop"] == 1


def test_vector_missing_field_lists_fields(tmp_path):
    path = utm_squares(tmp_path, [1.0, 2.0])
    with pytest.raises(InputError) as exc:
        P.from_vector(path, "population")
    assert "pop" in str(exc.value) and exc.value.field == "population"
    with pytest.raises(InputError, match="county field"):
        P.from_vector(path, "pop", county_field="district")


def test_vector_bad_values(tmp_path):
    path = utm_squares(tmp_path, ["10", "abc", "3"], name="txt.gpkg")
    with pytest.raises(InputError) as exc:
        P.from_vector(path, "pop")
    assert exc.value.row == 2 and "abc" in str(exc.value)
    path = utm_squares(tmp_path, [10.0, 2.0, -3.0], name="neg.gpkg")
    with pytest.raises(InputError) as exc:
        P.from_vector(path, "pop")
    assert exc.value.row == 3 and "negative" in str(exc.value)


# ------------------------------------------------------------------------------ buildings


def test_buildings_monaco(monaco_pbf):
    t0 = time.perf_counter()
    gdf_d = P.from_buildings(monaco_pbf, 38_000)
    gdf = gdf_d.points
    elapsed = time.perf_counter() - t0
    assert elapsed < 20, f"from_buildings on Monaco took {elapsed:.1f} s"
    check_contract(gdf_d)
    src = gdf_d.source
    assert src["buildings_in"] > 20_000
    assert gdf["pop"].sum() == pytest.approx(38_000, rel=1e-12)
    assert (gdf["pop"] > 0).all() and (gdf["weight"] > 0).all()
    # every building is accounted for: output, zero weight, not a polygon, degenerate outline
    assert (src["buildings_out"] + src["buildings_zero_weight"] + src["buildings_not_polygon"]
            + src["buildings_zero_area"] == src["buildings_in"])
    assert src["buildings_not_polygon"] == 25 and src["buildings_zero_area"] == 7
    assert not gdf["building"].isin(["church", "commercial", "school"]).any()
    # points fall on their footprints
    polys = gdf_d.cell_polygons
    assert shapely.intersects(polys.values, gdf.geometry.values).all()


def test_buildings_monaco_districts(monaco_pbf):
    west = box(7.0, 43.0, 7.41, 44.0)
    east = box(7.41, 43.0, 8.0, 44.0)
    districts = gpd.GeoDataFrame({"name": ["W", "E"]}, geometry=[west, east], crs=4326)
    gdf = P.from_buildings(monaco_pbf, 30_000, districts=districts,
                           district_totals={"W": 10_000, "E": 20_000}).points
    sums = gdf.groupby("county")["pop"].sum()
    assert sums["W"] == pytest.approx(10_000, rel=1e-12)
    assert sums["E"] == pytest.approx(20_000, rel=1e-12)
    assert (gdf.loc[gdf["county"] == "W"].geometry.x < 7.41).all()
    with pytest.raises(InputError, match="district"):
        P.from_buildings(monaco_pbf, 999, districts=districts,
                         district_totals={"W": 10_000, "E": 20_000})
    with pytest.raises(InputError, match="nowhere"):
        P.from_buildings(monaco_pbf, None, districts=districts, district_totals={"nowhere": 1})


def test_buildings_district_without_housing(helsinki_pbf):
    # a district with people but no residential floor area cannot be placed
    town = box(24.93, 60.16, 24.96, 60.18)
    sea = box(24.90, 60.10, 24.91, 60.11)
    d = gpd.GeoDataFrame({"name": ["town", "sea"]}, geometry=[town, sea], crs=4326)
    with pytest.raises(InputError, match="sea"):
        P.from_buildings(helsinki_pbf, None, districts=d, district_totals={"town": 5, "sea": 100})
    gdf_d = P.from_buildings(helsinki_pbf, None, districts=d, district_totals={"town": 5})
    gdf = gdf_d.points
    assert gdf["pop"].sum() == pytest.approx(5)
    assert gdf_d.source["warnings"]  # 'sea' has no total: recorded


def test_buildings_helsinki_weights(helsinki_pbf):
    gdf_d = P.from_buildings(helsinki_pbf, 10_000, keep_zero=True)
    gdf = gdf_d.points
    check_contract(gdf_d)
    assert gdf["pop"].sum() == pytest.approx(10_000, rel=1e-12)
    per_floor = gdf["pop"] / (gdf["area_m2"] * gdf["levels"])
    by_type = per_floor.groupby(gdf["building"]).mean()
    # residential types get exactly twice the per-floor-m2 share of `yes`
    assert by_type["apartments"] == pytest.approx(2 * by_type["yes"], rel=1e-9)
    assert by_type["apartments"] > by_type["yes"] > 0
    for kind in ("commercial", "office", "retail", "church", "school"):
        assert (gdf.loc[gdf["building"] == kind, "pop"] == 0).all()
        assert (gdf["building"] == kind).any()
    # tagged storeys are used; untagged apartments default to 6
    src = gdf_d.source
    assert src["levels_tagged"] > 100
    assert set(gdf["levels"]) > {6.0}


def test_buildings_boundary(helsinki_pbf):
    bnd = box(24.935, 60.164, 24.944, 60.171)
    gdf_d = P.from_buildings(helsinki_pbf, 1_000, boundary=bnd)
    gdf = gdf_d.points
    assert gdf["pop"].sum() == pytest.approx(1_000)
    assert shapely.contains_xy(bnd, gdf.geometry.x, gdf.geometry.y).all()
    assert gdf_d.source["buildings_inside"] < gdf_d.source["buildings_in"]


def test_building_weights_table():
    import pandas as pd

    df = pd.DataFrame({"building": ["apartments", "yes", "commercial", None, "house", "weird"],
                       "building:levels": [None, "3", "10", None, "2;3", "x"]})
    info = P.building_weights(df, area_m2=np.full(6, 100.0))
    assert info["levels"].tolist() == [6, 3, 10, 2, 2, 1]
    assert info["weight"].tolist() == [1.0, 0.5, 0.0, 0.5, 1.0, 0.5]
    assert info["weighted_m2"].tolist() == [600, 150, 0, 100, 200, 50]


# ------------------------------------------------------------------------------ elderly, grid


def small_demand():
    pts = gpd.points_from_xy([111.60, 111.61, 111.70, 111.71], [40.80, 40.80, 40.85, 40.85])
    return Demand(gpd.GeoDataFrame({"cell_id": np.arange(4), "pop": [100.0, 50.0, 200.0, 10.0],
                             "elderly": np.nan, "county": ["新城区", "新城区", "赛罕区", ""],
                             "area_m2": 1e4}, geometry=pts, crs=4326))


def test_elderly_share_default_and_districts():
    d = small_demand()
    out_d = P.apply_elderly_share(d, 0.198, district_shares={"新城区": 0.25})
    out = out_d.points
    np.testing.assert_allclose(out["elderly"], [25.0, 12.5, 200 * 0.198, 10 * 0.198])
    used = out_d.source["elderly"]["used"]
    assert used["新城区"]["source"] == "district" and used["新城区"]["share"] == 0.25
    assert used["赛罕区"]["source"] == "default" and used["(unknown)"]["points"] == 1
    assert d.points["elderly"].isna().all()  # input untouched
    json.dumps(out_d.source)
    with pytest.raises(InputError, match="赛罕区"):
        P.apply_elderly_share(d, district_shares={"新城区": 0.25})
    with pytest.raises(InputError):
        P.apply_elderly_share(d, 1.5)


def test_elderly_share_by_district_polygons():
    d = small_demand()
    d = d.with_points(d.points.assign(county=""))
    districts = gpd.GeoDataFrame({"name": ["A", "B"]},
                                 geometry=[box(111.5, 40.7, 111.65, 40.9), box(111.65, 40.7, 111.8, 40.9)],
                                 crs=4326)
    out_d = P.apply_elderly_share(d, 0.2, district_shares={"A": 0.1, "B": 0.3}, districts=districts)
    out = out_d.points
    np.testing.assert_allclose(out["elderly"], [10.0, 5.0, 60.0, 3.0])
    assert out["county"].tolist() == ["A", "A", "B", "B"]


def test_aggregate_grid_conserves():
    d = small_demand()
    d = d.with_points(d.points.assign(elderly=d.points["pop"] * 0.2))
    g_d = P.aggregate_grid(d, 1000.0)
    g = g_d.points
    check_contract(g_d)
    assert g["pop"].sum() == pytest.approx(360.0)
    assert g["elderly"].sum() == pytest.approx(72.0)
    assert (g["area_m2"] == 1e6).all()
    # points 0.01 deg apart (~850 m) fall in 1 or 2 cells; far pairs never share a cell
    assert 2 <= len(g) <= 4
    big = g.loc[g["pop"].idxmax()]
    assert big["county"] == "赛罕区"
    assert g_d.source["aggregated"]["cells_out"] == len(g)
    polys = g_d.cell_polygons
    assert shapely.contains(polys.values, g.geometry.values).all()


def test_aggregate_grid_monaco(monaco_pbf):
    b_d = P.from_buildings(monaco_pbf, 38_000, boundary=box(7.40, 43.72, 7.44, 43.76))
    b = b_d.points
    assert b["pop"].sum() == pytest.approx(38_000)
    g_d = P.aggregate_grid(b_d, 200.0)
    g = g_d.points
    assert g["pop"].sum() == pytest.approx(38_000)
    assert len(g) < len(b) / 10
    assert g["cell_id"].is_unique


def test_check_conservation():
    P.check_conservation(1000.0, 1000.9)
    with pytest.raises(P.ConservationError):
        P.check_conservation(1000.0, 1001.1)
    P.check_conservation(0.0, 0.0)
    with pytest.raises(P.ConservationError):
        P.check_conservation(0.0, 1.0)
    with pytest.raises(P.ConservationError):
        P.check_conservation(1.0, float("nan"))

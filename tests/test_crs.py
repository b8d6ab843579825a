"""Coordinate transforms WGS-84 ⇄ GCJ-02 ⇄ BD-09."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover import crs
from hypothesis import given, settings
from hypothesis import strategies as st

CHINA_LON = st.floats(73.5, 135.0)
CHINA_LAT = st.floats(18.0, 53.5)


def metres(lon1, lat1, lon2, lat2):
    """Equirectangular distance in metres (exact enough below a few km)."""
    lat_m = np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2)
    dx = (np.asarray(lon1) - np.asarray(lon2)) * 111320.0 * np.cos(lat_m)
    dy = (np.asarray(lat1) - np.asarray(lat2)) * 110574.0
    return np.hypot(dx, dy)


# Published outputs of the standard algorithm (wandergis/coordtransform test/app.js) at
# (116.404, 39.915), beside Tiananmen.
def test_reference_values_beijing():
    lon, lat = crs.wgs84_to_gcj02(116.404, 39.915)
    assert lon == pytest.approx(116.41024449916938, abs=1e-12)
    assert lat == pytest.approx(39.91640428150164, abs=1e-12)
    lon, lat = crs.gcj02_to_bd09(116.404, 39.915)
    assert lon == pytest.approx(116.41036949371029, abs=1e-12)
    assert lat == pytest.approx(39.92133699351021, abs=1e-12)
    # The published inverses are the one-step approximations (good to ~1 m); ours iterate,
    # so agree with them to within their error, and invert the forward map exactly.
    lon, lat = crs.gcj02_to_wgs84(116.404, 39.915)
    assert metres(lon, lat, 116.39775550083061, 39.91359571849836) < 1.0
    back = crs.wgs84_to_gcj02(lon, lat)
    assert metres(*back, 116.404, 39.915) < 1e-4
    lon, lat = crs.bd09_to_gcj02(116.404, 39.915)
    assert metres(lon, lat, 116.39762729119315, 39.90865673957631) < 1.0
    assert metres(*crs.gcj02_to_bd09(lon, lat), 116.404, 39.915) < 1e-4


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT)
def test_gcj_round_trip(lon, lat):
    g = crs.wgs84_to_gcj02(lon, lat)
    w = crs.gcj02_to_wgs84(*g)
    assert metres(*w, lon, lat) < 0.5


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT)
def test_bd_round_trip(lon, lat):
    b = crs.wgs84_to_bd09(lon, lat)
    assert metres(*crs.bd09_to_wgs84(*b), lon, lat) < 0.5
    g = crs.gcj02_to_bd09(lon, lat)
    assert metres(*crs.bd09_to_gcj02(*g), lon, lat) < 0.5


def test_round_trip_vectorised_and_shapes():
    rng = np.random.default_rng(0)
    lon = rng.uniform(73.5, 135.0, (50, 4))
    lat = rng.uniform(18.0, 53.5, (50, 4))
    g = crs.wgs84_to_gcj02(lon, lat)
    assert g[0].shape == (50, 4)
    w = crs.gcj02_to_wgs84(*g)
    assert np.max(metres(*w, lon, lat)) < 1e-3  # in practice ~1e-9 degrees
    s = crs.wgs84_to_gcj02(111.67, 40.82)
    assert np.ndim(s[0]) == 0 and isinstance(float(s[0]), float)
    out = crs.to_wgs84([111.67, 111.68], [40.82, 40.83], "高德")
    assert out[0].shape == (2,)


def test_identity_outside_china():
    lon = np.array([7.42, -0.1276, 151.2, 24.94])  # Monaco, London, Sydney, Helsinki
    lat = np.array([43.73, 51.507, -33.87, 60.17])
    for f in (crs.wgs84_to_gcj02, crs.gcj02_to_wgs84):
        x, y = f(lon, lat)
        np.testing.assert_array_equal(x, lon)
        np.testing.assert_array_equal(y, lat)
    assert crs.out_of_china(lon, lat).all()
    assert not crs.out_of_china(111.67, 40.82)
    # force applies the China formula anywhere (tests and synthetic data only)
    x, _ = crs.wgs84_to_gcj02(7.42, 43.73, force=True)
    assert x != 7.42
    assert metres(*crs.gcj02_to_wgs84(*crs.wgs84_to_gcj02(7.42, 43.73, force=True), force=True),
                  7.42, 43.73) < 0.01


def test_hohhot_offset_magnitude():
    # Hohhot city centre: GCJ-02 moves points a few hundred metres (here ~590 m); BD-09 more.
    lon, lat = 111.67, 40.82
    d_gcj = metres(*crs.wgs84_to_gcj02(lon, lat), lon, lat)
    d_bd = metres(*crs.wgs84_to_bd09(lon, lat), lon, lat)
    assert 300 < d_gcj < 900
    assert d_bd > d_gcj and d_bd < 2000


def test_normalize_crs_name():
    for text, canon in [("WGS-84", "wgs84"), ("epsg:4326", "wgs84"), (" wgs84 ", "wgs84"),
                        ("GCJ-02", "gcj02"), ("火星坐标", "gcj02"), ("高德", "gcj02"),
                        ("腾讯", "gcj02"), ("高德坐标系", "gcj02"), ("BD-09", "bd09"),
                        ("百度", "bd09"), ("bd09", "bd09"), ("Baidu", "bd09")]:
        assert crs.normalize_crs_name(text) == canon
    with pytest.raises(ValueError, match="unknown coordinate system"):
        crs.normalize_crs_name("UTM 49N")
    with pytest.raises(ValueError):
        crs.to_wgs84(1.0, 2.0, "mars")


def test_transform_geometry_shapes_and_geoseries():
    poly = shapely.box(111.6, 40.8, 111.7, 40.9)
    out = crs.transform_geometry(poly, crs.gcj02_to_wgs84)
    assert out.geom_type == "Polygon"
    src = shapely.get_coordinates(poly)
    ex, ey = crs.gcj02_to_wgs84(src[:, 0], src[:, 1])
    np.testing.assert_allclose(shapely.get_coordinates(out), np.column_stack([ex, ey]), atol=1e-12)
    assert metres(ex, ey, src[:, 0], src[:, 1]).min() > 300  # really moved
    gs = gpd.GeoSeries([poly, shapely.Point(111.65, 40.85)], index=[5, 7], crs="EPSG:4326")
    t = crs.transform_geometry(gs, crs.gcj02_to_wgs84)
    assert list(t.index) == [5, 7] and t.crs == gs.crs
    back = crs.transform_geometry(t, crs.wgs84_to_gcj02)
    assert back.geom_equals_exact(gs, tolerance=1e-8).all()
    gdf = gpd.GeoDataFrame({"a": [1, 2]}, index=gs.index, geometry=gs)
    tg = crs.transform_geometry(gdf, crs.gcj02_to_wgs84)
    assert list(tg["a"]) == [1, 2] and tg.geometry.geom_equals_exact(t, 1e-12).all()


def test_real_hohhot_boundary_gcj02_to_wgs84(hohhot_admin):
    """The shipped county boundaries come from Amap (GCJ-02): converting them moves every
    vertex a few hundred metres, keeps them valid, and a round trip restores them."""
    admin = gpd.read_file(hohhot_admin)
    city = admin[admin["level"] == "city"]
    wgs = crs.transform_geometry(city, crs.gcj02_to_wgs84)
    a = shapely.get_coordinates(city.geometry.values)
    b = shapely.get_coordinates(wgs.geometry.values)
    d = metres(b[:, 0], b[:, 1], a[:, 0], a[:, 1])
    assert len(d) > 100 and 200 < np.median(d) < 900 and d.max() < 1000
    assert wgs.geometry.is_valid.all() and wgs.crs == city.crs
    back = crs.transform_geometry(wgs, crs.wgs84_to_gcj02)
    c = shapely.get_coordinates(back.geometry.values)
    assert metres(c[:, 0], c[:, 1], a[:, 0], a[:, 1]).max() < 0.01

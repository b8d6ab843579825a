"""Coordinate-system plausibility (``carecover.inputs.registers.crscheck``)."""

from __future__ import annotations

import warnings

import numpy as np
import shapely
from carecover import crs
from carecover.inputs.registers import crs_plausibility, read_facilities


class TestSynthetic:
    def test_streets_at_true_positions(self, write_register):
        """Streets at the true (WGS-84) positions of facilities typed in from Amap."""
        rng = np.random.default_rng(3)
        lon, lat = rng.uniform(111.6, 111.7, 40), rng.uniform(40.8, 40.9, 40)
        glon, glat = crs.wgs84_to_gcj02(lon, lat)
        lines = ["名称,层级,经度,纬度"] + [f"f{i},助餐点,{a:.7f},{b:.7f}" for i, (a, b)
                                           in enumerate(zip(glon, glat, strict=True))]
        fac = read_facilities(write_register("r.csv", lines))

        def snap(x, y):  # metres to the nearest true position
            d = np.hypot((x[:, None] - lon) * 84_000, (y[:, None] - lat) * 111_000)
            return d.min(axis=1)

        r = crs_plausibility(fac, snap)
        assert r["declared"] == "wgs84" and r["best"] == "gcj02" and r["warning"]
        assert r["medians"]["gcj02"] < 1 < 100 < r["medians"]["wgs84"]


class TestRealWorld:
    def test_crs_plausibility_on_real_monaco_streets(self, monaco_pbf, write_register):
        """Monaco buildings written into a register as if picked on a GCJ-02 web map.

        Monaco is outside China, where GCJ-02 is the identity, so ``force=True`` applies the China
        formula (it moves Monaco ~1.2 km, more than it moves Hohhot; the test only needs the
        displacement to be the GCJ-02 one).
        """
        import pyrosm
        from pyproj import Transformer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(monaco_pbf))
            edges = osm.get_network(network_type="walking")
            buildings = osm.get_buildings()
        to_utm = Transformer.from_crs(4326, 32632, always_xy=True)
        proj = shapely.transform(np.asarray(edges.geometry.values),
                                 lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1])))
        tree = shapely.STRtree(proj)

        def snap_distance(lon, lat):
            pts = shapely.points(*to_utm.transform(lon, lat))
            idx, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
            out = np.full(len(pts), np.nan)
            out[idx[0]] = dist
            return out

        rng = np.random.default_rng(7)
        pts = buildings.geometry.representative_point().iloc[rng.choice(len(buildings), 200, replace=False)]
        lon, lat = pts.x.to_numpy(), pts.y.to_numpy()
        glon, glat = crs.wgs84_to_gcj02(lon, lat, force=True)
        area = shapely.box(6.9, 43.5, 8.0, 44.0)

        def register(x, y, name):
            lines = ["名称,层级,经度,纬度"] + [f"设施{i},助餐点,{a:.7f},{b:.7f}" for i, (a, b) in enumerate(zip(x, y, strict=True))]
            return write_register(name, lines)

        wrong = read_facilities(register(glon, glat, "gcj.csv"), boundary=area)  # declared wgs84
        r = crs_plausibility(wrong, snap_distance, force=True)
        assert r["declared"] == "wgs84" and r["best"] == "gcj02" and r["n"] == 200
        assert r["medians"]["gcj02"] < 0.5 * r["medians"]["wgs84"]
        assert r["warning"] and "GCJ-02" in r["warning_zh"] and "GCJ-02" in r["warning_en"]
        assert "坐标系" in r["warning"]
        # declared correctly: no warning
        right = read_facilities(register(glon, glat, "gcj2.csv"), boundary=area, crs="gcj02")
        r2 = crs_plausibility(right, snap_distance, force=True)
        assert r2["declared"] == "gcj02" and r2["best"] == "gcj02" and r2["warning"] is None
        # true WGS-84 positions declared WGS-84: no warning either
        true = read_facilities(register(lon, lat, "wgs.csv"), boundary=area)
        r3 = crs_plausibility(true, snap_distance, force=True)
        assert r3["best"] == "wgs84" and r3["warning"] is None
        assert r3["medians"]["wgs84"] < 40  # buildings sit near streets
        # too few facilities: no verdict
        r4 = crs_plausibility(true.iloc[:3], snap_distance, force=True)
        assert r4["warning"] is None and "too few" in r4["reason"]


def test_remembered_distance_asks_each_question_once():
    from carecover.plan.crs_evidence import remembered

    calls = []

    def fn(lon, lat):
        calls.append(len(lon))
        return np.hypot(lon, lat)

    f = remembered(fn)
    lon, lat = np.array([3.0, 6.0]), np.array([4.0, 8.0])
    first = f(lon, lat)
    first[:] = -1.0  # a caller changing its answer changes nothing remembered
    assert f(lon.copy(), lat.copy()).tolist() == [5.0, 10.0] and calls == [2]
    assert f(lat, lon).tolist() == [5.0, 10.0] and calls == [2, 2]  # other coordinates: asked

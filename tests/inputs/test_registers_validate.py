"""Register validation (``carecover.inputs.registers.validate``): coordinate systems, swaps,
the study area, duplicates, tiers, ids and strict mode."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover import crs
from carecover.errors import InputError
from carecover.inputs.registers import read_facilities, read_register


class TestCoordinateSystems:
    def test_crs_per_file_header_hint_and_per_row(self, write_register, metres):
        p = write_register("r.csv", ["名称,层级,经度,纬度,坐标系", "甲,助餐点,111.67,40.82,",
                                     "乙,助餐点,111.67,40.82,WGS-84", "丙,助餐点,111.67,40.82,百度"])
        g = read_facilities(p, crs="GCJ-02")
        assert list(g["crs_in"]) == ["gcj02", "wgs84", "bd09"]
        x = g.geometry.x.to_numpy()
        gx, _ = crs.gcj02_to_wgs84(111.67, 40.82)
        bx, _ = crs.bd09_to_wgs84(111.67, 40.82)
        np.testing.assert_allclose(x, [gx, 111.67, bx], atol=1e-9)
        d = metres(g.geometry.x, g.geometry.y, 111.67, 40.82)
        assert d[0] > 300 and d[1] == 0 and d[2] > d[0]
        # the system named in the coordinate header is used when no argument is given
        p2 = write_register("r2.csv", ["名称,层级,经度（高德）,纬度（高德）", "甲,助餐点,111.67,40.82"])
        g2 = read_facilities(p2)
        assert g2.loc[0, "crs_in"] == "gcj02" and read_register(p2).info["crs_source"] == "header"
        assert read_facilities(p2, crs="wgs84").loc[0, "crs_in"] == "wgs84"
        with pytest.raises(InputError, match="unknown coordinate system"):
            read_facilities(p2, crs="UTM")

    def test_unknown_row_crs_is_flagged_not_guessed(self, write_register):
        p = write_register("r.csv", ["名称,层级,经度,纬度,坐标系", "甲,助餐点,111.67,40.82,火星人"])
        g = read_facilities(p)
        assert g.loc[0, "status"] == "missing_coords" and "火星人" in g.loc[0, "note"]

    def test_coordinates_out_of_range_are_invalid_not_elsewhere(self, tmp_path):
        p = tmp_path / "r.csv"
        p.write_text("名称,层级,经度,纬度\nA,社区养老服务站,111.7,95\nB,社区养老服务站,200,40.8\n"
                     "C,社区养老服务站,40.8,111.7\n", encoding="utf-8")
        fac = read_facilities(p)
        assert list(fac["status"]) == ["missing_coords", "missing_coords", "swapped_fixed"]
        assert "not a longitude/latitude" in fac["note"].iloc[0]

    def test_full_width_digits_and_degree_signs(self, write_register):
        p = write_register("r.csv", ["名称,层级,经度,纬度", "甲,助餐点,１１１．６７°,40.82N"])
        g = read_facilities(p)
        assert g.loc[0, "status"] == "ok" and g.geometry.iloc[0].x == pytest.approx(111.67)


class TestStudyArea:
    def test_boundary_polygon_and_swap_against_it(self, write_register):
        area = shapely.box(111.5, 40.7, 111.9, 41.0)
        p = write_register("r.csv", ["名称,层级,经度,纬度", "内,助餐点,111.67,40.82",
                                     "外但在中国,助餐点,116.40,39.90", "颠倒,助餐点,40.82,111.67"])
        g = read_facilities(p, boundary=gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326"))
        assert list(g["status"]) == ["ok", "outside_area", "swapped_fixed"]
        assert "study area" in g.loc[1, "note"]
        assert read_facilities(p).loc[1, "status"] == "ok"  # inside China without a boundary
        # a boundary given in a projected CRS is reprojected
        proj = gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:32649")
        assert list(read_facilities(p, boundary=proj)["status"]) == ["ok", "outside_area", "swapped_fixed"]
        # and a (west, south, east, north) box is a boundary too
        assert list(read_facilities(p, boundary=(111.5, 40.7, 111.9, 41.0))["status"]) == [
            "ok", "outside_area", "swapped_fixed"]

    def test_real_hohhot_boundary(self, hohhot_admin, write_register):
        admin = gpd.read_file(hohhot_admin)
        city = crs.transform_geometry(admin[admin["level"] == "city"], crs.gcj02_to_wgs84)
        p = write_register("r.csv", ["名称,层级,经度,纬度", "呼市中心,助餐点,111.6708,40.8183",
                                     "包头,助餐点,109.84,40.65", "颠倒,助餐点,40.8183,111.6708"])
        g = read_facilities(p, boundary=city, crs="高德")
        assert list(g["status"]) == ["ok", "outside_area", "swapped_fixed"]
        assert g.loc[0, "geometry"].equals_exact(g.loc[2, "geometry"], 1e-12)


class TestDuplicatesAndIds:
    def test_same_name_and_tier_within_radius(self, write_register):
        p = write_register("r.csv", ["名称,层级,经度,纬度", "甲,助餐点,111.67,40.82",
                                     "甲,助餐点,111.67005,40.82",  # ~4 m: duplicate
                                     "甲,meal point,111.67008,40.82",  # same tier in English
                                     "甲,社区养老服务站,111.67,40.82",  # another tier
                                     "甲,助餐点,111.6705,40.82"])  # ~42 m away
        g = read_facilities(p)
        assert list(g["status"]) == ["ok", "duplicate", "duplicate", "ok", "ok"]
        assert "row 2" in g.loc[1, "note"] and "row 2" in g.loc[2, "note"]

    def test_repeated_ids_stay_unique(self, write_register):
        p = write_register("r.csv", ["编号,名称,层级,经度,纬度", "A,甲,助餐点,111.67,40.82",
                                     "A,乙,助餐点,111.68,40.82", ",丙,助餐点,111.69,40.82"])
        g = read_facilities(p)
        assert list(g["fid"]) == ["A", "A#r3", "F4"]
        assert list(g["status"]) == ["ok", "duplicate", "ok"]


class TestStrictMode:
    def test_strict_mode_raises_at_first_problem_row(self, hand, write_register):
        with pytest.raises(InputError) as e:
            read_facilities(hand.path, strict=True)
        assert e.value.row == 3 and e.value.field == "经度" and e.value.file == str(hand.path)
        p = write_register("r.csv", [hand.header, hand.rows[0], hand.rows[7]])
        with pytest.raises(InputError) as e:
            read_facilities(p, strict=True)
        assert e.value.row == 3 and e.value.field == "层级" and "棋牌室" in str(e.value)
        clean = write_register("c.csv", [hand.header, hand.rows[0], hand.rows[8]])
        assert list(read_facilities(clean, strict=True)["status"]) == ["ok", "ok"]

    def test_strict_duplicates_name_their_column(self, hand, write_register):
        by_id = write_register("i.csv", [hand.header, hand.rows[0], hand.rows[5]])
        with pytest.raises(InputError, match="duplicate") as e:
            read_facilities(by_id, strict=True)
        assert e.value.field == "编号"
        by_name = write_register("n.csv", [hand.header, hand.rows[0], hand.rows[6]])
        with pytest.raises(InputError, match="duplicate") as e:
            read_facilities(by_name, strict=True)
        assert e.value.field == "名称"

"""Facility registers: formats, encodings, column mapping, statuses, strict mode, reports."""

from __future__ import annotations

import time
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover import crs
from carecover.errors import InputError
from carecover.inputs.registers import (
    COLUMNS,
    STATUSES,
    crs_plausibility,
    read_facilities,
    read_register,
    validation_table,
    write_validation_report,
)

HEADER = "编号,名称,层级,经度,纬度,地址,街道,坐标系"
# Hand-checked register: one record per status (row numbers as Excel shows them).
ROWS = [
    "1,新华街道养老服务中心,街道级养老服务中心,111.6701,40.8203,新华大街1号,新华街道,",  # 2 ok
    "2,颠倒社区站,社区养老服务站,40.8101,111.6602,,,",  # 3 swapped_fixed
    "3,无坐标,社区养老服务站,,,,,",  # 4 missing_coords (empty)
    "4,文字坐标,社区养老服务站,东经111度,40.8,,,",  # 5 missing_coords (text)
    "5,在国外,社区养老服务站,7.42,43.73,,,",  # 6 outside_area (Monaco)
    "1,重复编号,社区养老服务站,111.68,40.83,,,",  # 7 duplicate (id 1)
    "7,新华街道养老服务中心,街道级养老服务中心,111.67012,40.82031,,,",  # 8 duplicate (~3 m from row 2)
    "8,奇怪层级,养老院,111.69,40.84,,,",  # 9 unknown_tier
    "9,高德行,助餐点,111.70,40.85,,,高德",  # 10 ok, per-row GCJ-02
    "10,无穷,助餐点,inf,40.85,,,",  # 11 missing_coords (inf)
    "11,非数,助餐点,NaN,40.85,,,",  # 12 missing_coords (NaN)
    "12,同名但远,街道级养老服务中心,111.6801,40.8203,,,",  # 13 ok: different name
    "13,新华街道养老服务中心,街道级养老服务中心,111.6901,40.8203,,,",  # 14 ok: same name, 1.7 km away
]
EXPECTED = ["ok", "swapped_fixed", "missing_coords", "missing_coords", "outside_area",
            "duplicate", "duplicate", "unknown_tier", "ok", "missing_coords", "missing_coords",
            "ok", "ok"]


def write(path, lines, encoding="utf-8"):
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def metres(lon1, lat1, lon2, lat2):
    dx = (np.asarray(lon1) - lon2) * 111320.0 * np.cos(np.radians(lat2))
    return np.hypot(dx, (np.asarray(lat1) - lat2) * 110574.0)


@pytest.fixture
def hand_csv(tmp_path):
    return write(tmp_path / "reg.csv", [HEADER, *ROWS])


def test_every_status_hand_checked(hand_csv):
    g = read_facilities(hand_csv)
    assert list(g.columns) == list(COLUMNS)
    assert g.crs.to_epsg() == 4326
    assert len(g) == len(ROWS)  # one row per record
    assert list(g["status"]) == EXPECTED
    assert list(g["row"]) == list(range(2, 2 + len(ROWS)))
    assert set(g["source"]) == {"register"} and set(g["source_file"]) == {"reg.csv"}
    by = g.set_index("row")
    # swapped: fixed geometry, coordinates as given kept
    assert by.loc[3, "lon_in"] == 40.8101
    assert by.loc[3, "geometry"].x == pytest.approx(111.6602)
    assert "swapped" in by.loc[3, "note"]
    # missing: no geometry, note quotes the bad text
    assert by.loc[4, "geometry"] is None and by.loc[5, "geometry"] is None
    assert "东经111度" in by.loc[5, "note"]
    assert np.isinf(by.loc[11, "lon_in"]) and by.loc[11, "geometry"] is None
    # duplicates: first kept, later flagged with the first's row; ids stay unique
    assert "row 2" in by.loc[7, "note"] and "row 2" in by.loc[8, "note"]
    assert g["fid"].is_unique and by.loc[2, "fid"] == "1" and by.loc[7, "fid"] != "1"
    # unknown tier kept with tier None and the raw text
    assert by.loc[9, "tier"] is None and by.loc[9, "tier_raw"] == "养老院"
    assert by.loc[2, "tier"] == "street_centre" and by.loc[10, "tier"] == "meal_point"
    # per-row GCJ-02 converted to WGS-84 (a few hundred metres)
    assert by.loc[10, "crs_in"] == "gcj02" and by.loc[2, "crs_in"] == "wgs84"
    p = by.loc[10, "geometry"]
    assert 300 < metres(p.x, p.y, 111.70, 40.85) < 900
    ex, ey = crs.gcj02_to_wgs84(111.70, 40.85)
    assert p.x == pytest.approx(float(ex), abs=1e-9) and p.y == pytest.approx(float(ey), abs=1e-9)
    assert by.loc[2, "address"] == "新华大街1号" and by.loc[2, "street"] == "新华街道"
    assert by.loc[2, "note"] == ""


def test_validation_table_and_report(hand_csv, tmp_path):
    g = read_facilities(hand_csv)
    t = validation_table(g).set_index("status")
    assert list(t.index) == [*STATUSES, "total"]
    assert t.loc["ok", "count"] == 4 and t.loc["missing_coords", "count"] == 4
    assert t.loc["duplicate", "count"] == 2 and t.loc["unsnapped", "count"] == 0
    assert t.loc["total", "count"] == len(ROWS)
    out = write_validation_report(g, tmp_path / "out" / "facilities.csv")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Excel shows Chinese
    back = pd.read_csv(out, encoding="utf-8-sig", dtype={"fid": str})
    assert len(back) == len(ROWS) and list(back["status"]) == EXPECTED
    assert back.loc[0, "status_zh"] == "正常" and back.loc[0, "name"] == "新华街道养老服务中心"
    assert not list((tmp_path / "out").glob(".*part*"))  # atomic: no temporary left


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_encodings(tmp_path, encoding):
    p = write(tmp_path / "r.csv", [HEADER, *ROWS], encoding=encoding)
    g = read_facilities(p)
    assert list(g["status"]) == EXPECTED
    assert g.loc[0, "name"] == "新华街道养老服务中心"
    if encoding == "utf-8-sig":
        assert read_register(p).info["columns"]["fid"] == "编号"  # BOM not glued to the header


def test_tab_delimited_utf16_as_excel_unicode_text(tmp_path):
    p = tmp_path / "r.txt"
    p.write_text("\n".join(line.replace(",", "\t") for line in [HEADER, *ROWS]) + "\n",
                 encoding="utf-16")
    assert list(read_facilities(p)["status"]) == EXPECTED


def test_undecodable_and_empty_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"name,tier,lon,lat\n\xff\xfe\xfa\xff,x,1,2\n\x81")
    with pytest.raises(InputError, match="decode|编码|文本"):
        read_facilities(bad)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty") as e:
        read_facilities(empty)
    assert e.value.file == str(empty)
    header_only = write(tmp_path / "h.csv", [HEADER])
    with pytest.raises(InputError, match="no data records"):
        read_facilities(header_only)
    with pytest.raises(InputError, match="not found"):
        read_facilities(tmp_path / "nope.csv")


def test_missing_required_column_names_field_and_accepted_headers(tmp_path):
    p = write(tmp_path / "r.csv", ["编号,名称,经度,纬度", "1,甲,111.67,40.82"])
    with pytest.raises(InputError) as e:
        read_facilities(p)
    assert e.value.field == "tier_raw" and e.value.file == str(p)
    assert "层级" in str(e.value) and "tier" in str(e.value) and "类型" in str(e.value)
    p = write(tmp_path / "r2.csv", ["name,tier", "甲,助餐点"])
    with pytest.raises(InputError, match="lon") as e:
        read_facilities(p)
    assert "经度" in str(e.value)


def test_english_headers_title_row_and_comments(tmp_path):
    p = write(tmp_path / "r.csv", [
        "呼和浩特市养老服务设施名录（2025年）,,,,",
        " ID , Facility Name ,TYPE,Longitude,Latitude",
        "# example row,示例,助餐点,111.6,40.8",
        "a1,甲,Meal point,111.67,40.82",
        ",,,,",
        "a2,乙,street-level centre,111.68,40.83",
    ])
    reg = read_register(p)
    g = reg.frame
    assert list(g["fid"]) == ["a1", "a2"]
    assert list(g["row"]) == [4, 6]  # rows as Excel numbers them
    assert list(g["tier"]) == ["meal_point", "street_centre"]
    info = reg.info
    assert info["header_row"] == 2 and info["skipped_comment"] == 1 and info["skipped_blank"] == 1


def test_missing_id_column_gives_row_ids_and_combined_coordinates(tmp_path):
    p = write(tmp_path / "r.csv", ['名称,类型,经纬度', '甲,助餐点,"111.67,40.82"', '乙,助餐点,111.68 40.83'])
    g = read_facilities(p)
    assert list(g["fid"]) == ["F2", "F3"]
    assert list(g["status"]) == ["ok", "ok"]
    assert g.geometry.iloc[1].x == pytest.approx(111.68)


def test_crs_per_file_header_hint_and_per_row(tmp_path):
    p = write(tmp_path / "r.csv", ["名称,层级,经度,纬度,坐标系", "甲,助餐点,111.67,40.82,",
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
    p2 = write(tmp_path / "r2.csv", ["名称,层级,经度（高德）,纬度（高德）", "甲,助餐点,111.67,40.82"])
    g2 = read_facilities(p2)
    assert g2.loc[0, "crs_in"] == "gcj02" and read_register(p2).info["crs_source"] == "header"
    assert read_facilities(p2, crs="wgs84").loc[0, "crs_in"] == "wgs84"
    with pytest.raises(InputError, match="unknown coordinate system"):
        read_facilities(p2, crs="UTM")


def test_unknown_row_crs_is_flagged_not_guessed(tmp_path):
    p = write(tmp_path / "r.csv", ["名称,层级,经度,纬度,坐标系", "甲,助餐点,111.67,40.82,火星人"])
    g = read_facilities(p)
    assert g.loc[0, "status"] == "missing_coords" and "火星人" in g.loc[0, "note"]


def test_boundary_polygon_and_swap_against_it(tmp_path):
    area = shapely.box(111.5, 40.7, 111.9, 41.0)
    p = write(tmp_path / "r.csv", ["名称,层级,经度,纬度", "内,助餐点,111.67,40.82",
                                   "外但在中国,助餐点,116.40,39.90", "颠倒,助餐点,40.82,111.67"])
    g = read_facilities(p, boundary=gpd.GeoDataFrame(geometry=[area], crs="EPSG:4326"))
    assert list(g["status"]) == ["ok", "outside_area", "swapped_fixed"]
    assert "study area" in g.loc[1, "note"]
    assert read_facilities(p).loc[1, "status"] == "ok"  # inside China without a boundary
    # a boundary given in a projected CRS is reprojected
    proj = gpd.GeoSeries([area], crs="EPSG:4326").to_crs("EPSG:32649")
    assert list(read_facilities(p, boundary=proj)["status"]) == ["ok", "outside_area", "swapped_fixed"]


def test_strict_mode_raises_at_first_problem_row(hand_csv, tmp_path):
    with pytest.raises(InputError) as e:
        read_facilities(hand_csv, strict=True)
    assert e.value.row == 3 and e.value.field == "经度" and e.value.file == str(hand_csv)
    p = write(tmp_path / "r.csv", [HEADER, ROWS[0], ROWS[7]])
    with pytest.raises(InputError) as e:
        read_facilities(p, strict=True)
    assert e.value.row == 3 and e.value.field == "层级" and "养老院" in str(e.value)
    clean = write(tmp_path / "c.csv", [HEADER, ROWS[0], ROWS[8]])
    assert list(read_facilities(clean, strict=True)["status"]) == ["ok", "ok"]


def test_xlsx_chinese_headers_numbers_and_sheet(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "说明"
    ws.append(["本工作簿第二张表为设施名录"])
    ws2 = wb.create_sheet("设施")
    ws2.append(["养老服务设施登记表"])  # title row above the header
    ws2.append(["序号", "机构名称", "设施类型", "经度", "纬度", "旗县区", "乡镇（苏木）"])
    ws2.append([1, "甲中心", "乡镇区域养老服务中心", 111.5012345678, 40.61, "土默特左旗", "察素齐镇"])
    ws2.append([2, "乙站", "幸福院", "111.52", "40.62", "土默特左旗", ""])  # numbers as text
    ws2.append([3, "丙站", "幸福院", "abc", 40.62, "", ""])
    p = tmp_path / "r.xlsx"
    wb.save(p)
    g = read_facilities(p, sheet="设施")
    assert list(g["fid"]) == ["1", "2", "3"]  # integer ids, not "1.0"
    assert list(g["row"]) == [3, 4, 5]
    assert list(g["status"]) == ["ok", "ok", "missing_coords"]
    assert g.loc[0, "lon_in"] == 111.5012345678  # full precision kept
    assert list(g["tier"]) == ["township_centre", "happiness_home", "happiness_home"]
    assert g.loc[0, "county"] == "土默特左旗" and g.loc[0, "township"] == "察素齐镇"
    with pytest.raises(InputError, match="no data records.*设施"):
        read_facilities(p)  # first sheet has no register: the message lists the sheets
    with pytest.raises(InputError, match="no sheet"):
        read_facilities(p, sheet="不存在")


def _geo_frame():
    return gpd.GeoDataFrame(
        {"name": ["甲", "乙", "丙", "丁"], "tier": ["助餐点", "社区养老服务站", "未知", "助餐点"],
         "id": ["g1", "g2", "g3", "g4"]},
        geometry=[shapely.Point(111.67, 40.82), shapely.box(111.68, 40.83, 111.69, 40.84),
                  shapely.Point(111.70, 40.85), None],
        crs="EPSG:4326")


@pytest.mark.parametrize("suffix", ["geojson", "gpkg"])
def test_geo_formats(tmp_path, suffix):
    p = tmp_path / f"r.{suffix}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _geo_frame().to_file(p, engine="pyogrio")
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


def test_geo_projected_crs_is_reprojected(tmp_path):
    p = tmp_path / "r.gpkg"
    _geo_frame().iloc[:1].to_crs("EPSG:32649").to_file(p, engine="pyogrio")
    g = read_facilities(p)
    assert g.geometry.iloc[0].x == pytest.approx(111.67, abs=1e-7)
    assert read_register(p).info["reprojected_from"].endswith("32649")


def test_crs_plausibility_on_real_monaco_streets(monaco_pbf, tmp_path):
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
        return write(tmp_path / name, lines)

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


@pytest.mark.slow
def test_million_row_register_is_fast(tmp_path):
    n = 1_000_000
    rng = np.random.default_rng(1)
    tiers = np.array(["社区养老服务站", "助餐点", "街道级养老服务中心", "村级养老服务站"])
    df = pd.DataFrame({
        "编号": np.arange(n).astype(str),
        "名称": np.char.add("设施", np.arange(n).astype(str)),
        "层级": tiers[rng.integers(0, 4, n)],
        "经度": np.round(rng.uniform(110.5, 112.5, n), 6),
        "纬度": np.round(rng.uniform(40.0, 41.5, n), 6),
        "坐标系": np.where(rng.random(n) < 0.5, "高德", ""),
    })
    df.loc[::1000, "经度"] = np.nan  # some missing
    p = tmp_path / "big.csv"
    df.to_csv(p, index=False, encoding="gbk")
    t0 = time.perf_counter()
    g = read_facilities(p)
    elapsed = time.perf_counter() - t0
    assert len(g) == n
    assert (g["status"] == "missing_coords").sum() == 1000
    assert (g["status"] == "ok").sum() == n - 1000
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_schema_doc_and_template_match_the_code(tmp_path):
    from pathlib import Path

    from carecover.inputs.registers import FIELD_ALIASES

    root = Path(__file__).resolve().parents[1]
    doc = (root / "docs" / "register_schema.md").read_text(encoding="utf-8")
    for names in FIELD_ALIASES.values():
        for name in names:
            assert f"`{name}`" in doc, name
    for status in STATUSES:
        assert f"`{status}`" in doc
    template = root / "data" / "templates" / "facility_register_template.csv"
    raw = template.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with pytest.raises(InputError, match="examples"):
        read_facilities(template)  # only example rows
    filled = tmp_path / "filled.csv"
    filled.write_bytes(raw.replace(b"#\xe7\xa4\xba\xe4\xbe\x8b", b"EX"))  # "#示例" → "EX"
    g = read_facilities(filled)
    assert len(g) == 3 and list(g["status"]) == ["ok", "ok", "ok"]
    assert list(g["crs_in"]) == ["gcj02", "gcj02", "wgs84"]
    assert list(g["tier"]) == ["street_centre", "community_centre", "happiness_home"]


def test_real_hohhot_boundary(hohhot_admin, tmp_path):
    admin = gpd.read_file(hohhot_admin)
    city = crs.transform_geometry(admin[admin["level"] == "city"], crs.gcj02_to_wgs84)
    p = write(tmp_path / "r.csv", ["名称,层级,经度,纬度", "呼市中心,助餐点,111.6708,40.8183",
                                   "包头,助餐点,109.84,40.65", "颠倒,助餐点,40.8183,111.6708"])
    g = read_facilities(p, boundary=city, crs="高德")
    assert list(g["status"]) == ["ok", "outside_area", "swapped_fixed"]
    assert g.loc[0, "geometry"].equals_exact(g.loc[2, "geometry"], 1e-12)


def test_coordinates_out_of_range_are_invalid_not_elsewhere(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("名称,层级,经度,纬度\nA,社区养老服务站,111.7,95\nB,社区养老服务站,200,40.8\n"
                 "C,社区养老服务站,40.8,111.7\n", encoding="utf-8")
    fac = read_facilities(p)
    assert list(fac["status"]) == ["missing_coords", "missing_coords", "swapped_fixed"]
    assert "not a longitude/latitude" in fac["note"].iloc[0]

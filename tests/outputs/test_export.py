"""Exports: GeoPackage 1.2 with QGIS styles, GeoJSON, CSV (UTF-8 BOM) and a formatted XLSX,
deterministic and complete (issue 12 items 3, 5, 6; issue 14 exports).

Synthetic: a hand-made bundle in Hohhot whose every cell is known. Real world: the Monaco
bundle (real POIs, buildings and streets) and the demo plan's outputs (real Helsinki streets).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sqlite3
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.columns import header, header_en, header_zh, kind, label_value
from carecover.outputs.export import export_all, layers
from carecover.outputs.textfiles import _geometry_json
from carecover.outputs.workbook import display_width

HOHHOT_XY = (111.670801, 40.818311)
#: The GeoPackage's layers (the demand points are in demand.parquet)
LAYERS = {"facilities", "isochrones", "facility_isochrones", "gaps", "gap_zones", "sites", "boundaries"}


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def small(hohhot_bundle) -> PlanBundle:
    """Two facilities, three demand points (one beyond the search), one gap, one site, figures
    and a claim: every exported value known."""
    b = hohhot_bundle("zh")
    lon, lat = 111.670801, 40.818311
    fac = gpd.GeoDataFrame({"fid": ["F2", "F1"], "name": ["新华街道养老服务中心", "=HYPERLINK(\"x\")"],
                            "tier": ["street_centre", "street_centre"], "status": ["ok", "missing_coords"],
                            "address": ["新华大街", ""], "reached_elderly": [20.4, 0.0]},
                           geometry=[shapely.Point(lon, lat), None], crs=4326)
    dem = gpd.GeoDataFrame({"cell_id": [2, 0, 1], "pop": [100.4, 2713.0986657, 7.0],
                            "elderly": [20.4, 542.6, 1.4], "county": ["新城区"] * 3,
                            "area_m2": [10000.0, 10000.0, 10000.0],
                            "time_s__street_centre": [200.0, 1200.5, np.inf],
                            "nearest_fid__street_centre": ["F2", "F2", ""],
                            "covered__street_centre": [True, False, False]},
                           geometry=[shapely.Point(lon + 0.002 * i, lat) for i in range(3)], crs=4326)
    iso = gpd.GeoDataFrame({"tier": ["street_centre"] * 2, "band_min": [15.0, 15.0], "fid": ["", "F2"]},
                           geometry=[shapely.Point(lon, lat).buffer(0.005), shapely.Point(lon, lat).buffer(0.004)],
                           crs=4326)
    gaps = gpd.GeoDataFrame({"gap_id": [1], "pop": [2713.0986657], "elderly": [542.6], "area_m2": [10000.0],
                             "county": ["新城区"], "time_to_nearest_s": [1200.5], "tier": ["street_centre"]},
                            geometry=[shapely.Point(lon + 0.002, lat)], crs=4326)
    sites = pd.DataFrame({"rank": [1], "tier": ["street_centre"], "method": ["exact"], "gain_elderly": [357.5],
                          "gain_pop": [1800.25], "lon": [lon + 0.002], "lat": [lat], "county": ["新城区"],
                          "gap_id": [1], "gap": [0.0012], "status": ["optimal"], "objective": [900.5]})
    figures = [{"kind": "population", "tiers": ["street_centre"], "population": "elderly", "area": "all",
                "threshold_min": 5.0, "speed_mps": 1.0, "mode": "walk", "scenario": "current",
                "value": 0.058167, "covered": 20.4, "total": 564.4}]
    claims = [{"id": "c1", "claim_zh": "+100%覆盖", "kind": "population", "tiers": "street_centre",
               "target": 1.0, "computed": 0.058167, "result": "FAIL"}]
    return dataclasses.replace(b, facilities=fac, demand=dem, isochrones=iso, gaps=gaps, sites=sites,
                               gap_hulls=gpd.GeoSeries([shapely.Point(lon + 0.002, lat).buffer(0.001)], crs=4326),
                               summary={"figures": figures, "claims": claims})


@pytest.fixture(scope="module")
def small_out(small: PlanBundle, tmp_path_factory) -> dict[str, Path]:
    return export_all(small, tmp_path_factory.mktemp("small"))


class TestSynthetic:
    def test_headers_and_kinds(self) -> None:
        assert header_zh("time_s__street_centre") == "出行时间(秒)·街道级养老服务中心"
        assert header_zh("nearest_fid__meal_point") == "最近设施编号·老年助餐点"
        assert header_en("elderly") == "Elderly (60+)"
        # the solver's optimality gap is never confused with the id of a coverage gap
        assert header("gap", "zh", "sites") == "求解差距(最优性)" and header_zh("gap_id") == "缺口编号"
        assert header("share_within_5min", "zh") == "5分钟内比例"
        assert kind("elderly") == "people" and kind("value") == "share" and kind("covered__x") == "bool"
        assert kind("gap", "sites") == "share" and kind("share_within_10min") == "share"
        assert label_value("tier", "street_centre") == "街道级养老服务中心"
        assert label_value("tiers", '["street_centre", "meal_point"]') == "街道级养老服务中心、老年助餐点"
        assert label_value("result", "FAIL") == "未通过" and label_value("name", "FAIL") == "FAIL"
        assert display_width("街道ab") == 6

    def test_workbook_formats_labels_and_layout(self, small_out) -> None:
        from openpyxl import load_workbook

        wb = load_workbook(small_out["xlsx"])
        ws = wb["人口单元 demand"]
        rows = _rows(ws)
        head_zh = rows[0]
        assert head_zh[:3] == ("人口单元编号", "总人口", "老年人口(60岁以上)")
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}4"
        # English headers on the headers sheet
        heads = [r[:3] for r in _rows(wb["表头对照 Headers"])]
        assert ("人口单元 demand", "老年人口(60岁以上)", "Elderly (60+)") in heads
        col = {h: i + 1 for i, h in enumerate(head_zh)}
        # sorted by cell id; people whole, full value kept; booleans 是/否; inf an empty cell
        pop = ws.cell(2, col["总人口"])
        assert pop.value == pytest.approx(2713.0986657) and pop.number_format == "#,##0"
        assert [ws.cell(r, col["是否覆盖·街道级养老服务中心"]).value for r in (2, 3, 4)] == ["否", "否", "是"]
        t = [ws.cell(r, col["出行时间(秒)·街道级养老服务中心"]) for r in (2, 3, 4)]
        assert [c.value for c in t] == [1200.5, None, 200.0] and t[0].number_format == "#,##0.0"
        assert [ws.cell(r, col["最近设施编号·街道级养老服务中心"]).value for r in (2, 3, 4)] == ["F2", None, "F2"]
        # CJK headers fit: width >= display width (CJK counted twice)
        w = ws.column_dimensions[ws.cell(1, col["老年人口(60岁以上)"]).column_letter].width
        assert w >= display_width("老年人口(60岁以上)")
        cov = wb["覆盖率 coverage"]
        crow = _rows(cov)
        ccol = {h: i + 1 for i, h in enumerate(crow[0])}
        assert cov.cell(2, ccol["覆盖率"]).value == pytest.approx(0.058167)
        assert cov.cell(2, ccol["覆盖率"]).number_format == "0.0%"
        assert cov.cell(2, ccol["层级"]).value == "街道级养老服务中心"
        assert cov.cell(2, ccol["人口口径"]).value == "老年人口"
        sites = wb["建议站点 sites"]
        srow = _rows(sites)
        assert "求解差距(最优性)" in srow[0] and "所在缺口编号" in srow[0] and "求解状态" in srow[0]
        scol = {h: i + 1 for i, h in enumerate(srow[0])}
        assert sites.cell(2, scol["求解差距(最优性)"]).number_format == "0.0%"
        assert sites.cell(2, scol["方法"]).value == "精确(HiGHS)"
        assert sites.cell(2, scol["新增覆盖老年人口"]).number_format == "#,##0"
        fac = wb["设施 facilities"]
        frow = _rows(fac)
        # the hostile name stays a string, never a formula
        name = [fac.cell(r, 2) for r in range(2, fac.max_row + 1)]
        assert all(c.data_type == "s" for c in name) and name[0].value == '=HYPERLINK("x")'
        assert frow[1][frow[0].index("状态")] == "缺少坐标"
        assert "表头对照 Headers" in wb.sheetnames and "说明 Notes" in wb.sheetnames

    def test_english_workbook(self, small: PlanBundle, tmp_path: Path) -> None:
        from openpyxl import load_workbook

        got = export_all(dataclasses.replace(small, lang="en"), tmp_path)
        wb = load_workbook(got["xlsx"])
        ws = wb["demand"]
        assert _rows(ws)[0][:2] == ("Cell id", "Residents") and ws.freeze_panes == "A2"
        col = _rows(ws)[0].index("Covered · Street-level centre") + 1
        assert [ws.cell(r, col).value for r in (2, 3, 4)] == ["no", "no", "yes"]

    def test_layers_and_points(self, small: PlanBundle, small_out) -> None:
        lays = layers(small)
        # per-facility isochrones apart from the tier unions
        assert lays["isochrones"]["fid"].tolist() == [""]
        assert lays["facility_isochrones"]["fid"].tolist() == ["F2"]
        # the demand points: one GeoParquet file, values as in memory (inf beyond the search)
        dem = gpd.read_parquet(small_out["parquet:demand"])
        assert dem.crs.to_epsg() == 4326 and (dem.geom_type == "Point").all()
        assert dem["cell_id"].tolist() == [0, 1, 2] and dem["area_m2"].tolist() == [10000.0] * 3
        assert dem["nearest_fid__street_centre"].tolist() == ["F2", "", "F2"]
        assert dem["time_s__street_centre"].tolist() == [1200.5, np.inf, 200.0]
        assert dem["covered__street_centre"].tolist() == [False, False, True]
        assert dem["lon"].tolist() == [round(g.x, 7) for g in dem.geometry]
        # written once: not as a GeoPackage layer, a CSV file or GeoJSON besides
        assert "demand" not in {n for n, _ in pyogrio.list_layers(small_out["gpkg"])}
        assert not {"csv:demand", "geojson:demand"} & set(small_out)
        assert not (small_out["gpkg"].parent / "demand.csv").exists()
        # styled for QGIS by the .qml of its own name: squares of the cell's size
        qml = small_out["qml:demand"]
        assert qml.name == "demand.qml" and 'sqrt("area_m2")' in qml.read_text(encoding="utf-8")
        claims = list(csv.DictReader(small_out["csv:claims"].open(encoding="utf-8-sig")))
        assert claims[0]["claim_zh"] == "'+100%覆盖"  # OWASP: a leading + is not run

    def test_geojson_exact_and_finite(self, small_out) -> None:
        doc = json.loads(small_out["geojson:facilities"].read_text(encoding="utf-8"))
        feats = {f["properties"]["fid"]: f for f in doc["features"]}
        assert feats["F1"]["geometry"] is None
        assert feats["F2"]["geometry"] == {"type": "Point", "coordinates": [111.670801, 40.818311]}
        # polygons in a layer of multipolygons stay Polygons; coordinates rounded to 7 decimals
        poly = shapely.Point(HOHHOT_XY).buffer(0.001)
        multi = shapely.MultiPolygon([poly, shapely.Point(112.0, 41.0).buffer(0.001)])
        got = [json.loads(g) if g else None for g in _geometry_json(np.array([poly, None, multi], dtype=object))]
        assert got[1] is None and got[0]["type"] == "Polygon" and got[2]["type"] == "MultiPolygon"
        want = json.loads(json.dumps(shapely.geometry.mapping(poly)))["coordinates"]
        assert [[[round(v, 7) for v in xy] for xy in ring] for ring in want] == got[0]["coordinates"]
        assert all(len(repr(v).split(".")[1]) <= 7 for xy in got[2]["coordinates"][1][0] for v in xy)
        # the polygon layers and the demand points are in the GeoPackage only
        assert {k for k in small_out if k.startswith("geojson:")} == {"geojson:facilities", "geojson:gaps",
                                                                     "geojson:sites"}


class TestGeoPackage:
    def test_version_and_contents(self, small_out) -> None:
        con = sqlite3.connect(small_out["gpkg"])
        try:
            assert con.execute("pragma application_id").fetchone()[0] == 0x47504B47  # "GPKG"
            assert con.execute("pragma user_version").fetchone()[0] == 10200  # GeoPackage 1.2
            contents = dict(con.execute("select table_name, data_type from gpkg_contents").fetchall())
            assert contents["layer_styles"] == "attributes" and contents["facilities"] == "features"
            assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
            styles = con.execute("select f_table_name, f_geometry_column, useAsDefault, styleQML, f_table_schema "
                                 "from layer_styles").fetchall()
        finally:
            con.close()
        assert {s[0] for s in styles} == set(LAYERS) - {"boundaries"}  # no boundaries in this bundle
        for name, geom, default, qml, schema in styles:
            assert geom == "geom" and default == 1 and schema == ""
            root = ET.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
            renderer = root.find("renderer-v2")
            assert renderer is not None and len(renderer.find("symbols")) >= 1, name
        qml = dict((s[0], s[3]) for s in styles)
        assert 'attr="tier"' in qml["facilities"]
        assert "213,94,0,255" in qml["facilities"]  # the map's street-centre colour

    def test_read_back_without_warnings(self, small_out) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for name, _ in pyogrio.list_layers(small_out["gpkg"]):
                info = pyogrio.read_info(small_out["gpkg"], layer=name)
                df = pyogrio.read_dataframe(small_out["gpkg"], layer=name)
                assert info["features"] == len(df)
        fac = pyogrio.read_dataframe(small_out["gpkg"], layer="facilities")
        assert fac["fid"].tolist() == ["F1", "F2"]  # the string id keeps its name


@pytest.fixture(scope="module")
def bundle(monaco_bundle: PlanBundle) -> PlanBundle:
    return dataclasses.replace(monaco_bundle, demand=monaco_bundle.demand.iloc[:3000])  # keep the test fast


@pytest.fixture(scope="module")
def two_runs(bundle: PlanBundle, tmp_path_factory) -> tuple[dict, dict]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", "1750809600")  # the files' own dates are the run's
        a = export_all(bundle, tmp_path_factory.mktemp("a"))
        b = export_all(bundle, tmp_path_factory.mktemp("b"))
    return a, b


class TestRealWorld:

    def test_gpkg_layers_complete_and_attributes_identical(self, bundle: PlanBundle, two_runs) -> None:
        a, b = two_runs
        names = {n for n, _ in pyogrio.list_layers(a["gpkg"])}
        assert names == LAYERS | {"layer_styles"}
        for layer in sorted(names):
            da = pyogrio.read_dataframe(a["gpkg"], layer=layer)
            db = pyogrio.read_dataframe(b["gpkg"], layer=layer)
            pd.testing.assert_frame_equal(pd.DataFrame(da.drop(columns="geometry", errors="ignore")),
                                          pd.DataFrame(db.drop(columns="geometry", errors="ignore")))
        fac = pyogrio.read_dataframe(a["gpkg"], layer="facilities")
        # every input record, including the one without coordinates, with its status
        assert len(fac) == len(bundle.facilities)
        assert fac["fid"].tolist() == sorted(bundle.facilities["fid"])
        assert fac.set_index("fid").loc["X1", "status"] == "missing_coords"
        assert fac.set_index("fid").loc["X1", "geometry"] is None
        dem = gpd.read_parquet(a["parquet:demand"])
        t = dem["time_s__meal_point"].to_numpy()
        assert np.isinf(t).sum() == np.isinf(bundle.demand["time_s__meal_point"]).sum() > 0
        # every isochrone, unions and per facility, with its exact geometry
        iso = pd.concat([pyogrio.read_dataframe(a["gpkg"], layer=n) for n in ("isochrones", "facility_isochrones")])
        assert len(iso) == len(bundle.isochrones)
        src = bundle.isochrones.set_index(["tier", "band_min", "fid"]).sort_index()
        got = iso.set_index(["tier", "band_min", "fid"]).sort_index()
        # exact coordinates; a Polygon comes back as a one-part MultiPolygon (the layer's type)
        for g, w in zip(got.geometry.values, src.geometry.values, strict=True):
            assert shapely.equals_exact(shapely.get_parts(g), shapely.get_parts(w), tolerance=1e-12).all()

    def test_csv_bom_sorted_and_byte_identical(self, bundle: PlanBundle, two_runs) -> None:
        a, b = two_runs
        for key in a:  # with SOURCE_DATE_EPOCH, every file (GeoPackage and workbook too)
            assert a[key].read_bytes() == b[key].read_bytes(), key
        raw = a["csv:facilities"].read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(a["csv:facilities"].open(encoding="utf-8-sig")))
        assert [r["fid"] for r in rows] == sorted(bundle.facilities["fid"])
        x1 = next(r for r in rows if r["fid"] == "X1")
        assert x1["status"] == "missing_coords" and x1["lon"] == "" and x1["name"] == "无坐标站点"
        # the demand points: every column of the bundle's, exact, in cell order, and lon/lat
        dem = gpd.read_parquet(a["parquet:demand"])
        src = bundle.demand.sort_values("cell_id").reset_index(drop=True)
        assert dem["cell_id"].tolist() == src["cell_id"].tolist()
        cols = [c for c in src.columns if c != src.geometry.name]
        pd.testing.assert_frame_equal(pd.DataFrame(dem[cols]), pd.DataFrame(src[cols]), check_like=True,
                                      check_dtype=False)
        assert shapely.equals_exact(dem.geometry.values, src.geometry.values, tolerance=0).all()
        assert np.array_equal(dem["lat"].to_numpy(), np.round(src.geometry.y.to_numpy(), 7))
        claims = list(csv.DictReader(a["csv:claims"].open(encoding="utf-8-sig")))
        assert {c["result"] for c in claims} <= {"PASS", "FAIL"}

    def test_geojson_matches_the_layers(self, bundle: PlanBundle, two_runs) -> None:
        a, _ = two_runs
        for name in ("gaps", "boundaries", "facilities", "sites"):
            text = a[f"geojson:{name}"].read_text(encoding="utf-8")
            assert "Infinity" not in text and "NaN" not in text
            doc = json.loads(text)
            got = gpd.GeoDataFrame.from_features(doc["features"], crs=4326)
            want = layers(bundle)[name]
            assert len(got) == len(want)
            ok = want.geometry.notna().to_numpy()
            # coordinates rounded to 1e-7 degrees (about 1 cm), nothing else changed
            assert shapely.equals_exact(got.geometry.values[ok], want.geometry.values[ok], tolerance=1.01e-7).all()

    def test_workbook_sheets(self, bundle: PlanBundle, two_runs) -> None:
        from openpyxl import load_workbook

        a, _ = two_runs
        wb = load_workbook(a["xlsx"], read_only=True)
        assert {"设施 facilities", "人口单元 demand", "覆盖缺口 gaps", "建议站点 sites", "覆盖率 coverage",
                "声明核验 claims", "表头对照 Headers"} <= set(wb.sheetnames)
        rows = list(wb["设施 facilities"].iter_rows(values_only=True))
        assert rows[0][:3] == ("设施编号", "名称", "层级")
        assert len(rows) == len(bundle.facilities) + 1
        tiers = {r[2] for r in rows[1:]}
        assert "街道级养老服务中心" in tiers and "street_centre" not in tiers

    def test_exports_need_no_parameters(self, bundle: PlanBundle, two_runs, tmp_path: Path) -> None:
        # the exports are results only: no RunParams, no summary["parameters"], same files
        a, _ = two_runs
        bare = dataclasses.replace(bundle, params=None,
                                   summary={k: v for k, v in bundle.summary.items() if k != "parameters"})
        got = export_all(bare, tmp_path)
        assert sorted(got) == sorted(a)
        for key in [k for k in a if k.startswith("csv:") or k.startswith("geojson:")]:
            assert got[key].read_bytes() == a[key].read_bytes(), key


def test_who_serves_whom_in_the_demo(demo_out: Path) -> None:
    """Each demand point's nearest facility (demand.parquet) agrees with the elderly each
    facility serves first (facilities.csv, computed separately in the travel stage)."""
    dem = pd.read_parquet(demo_out / "demand.parquet")
    fac = pd.read_csv(demo_out / "facilities.csv", encoding="utf-8-sig", keep_default_na=False)
    tiers = [c.split("__", 1)[1] for c in dem.columns if c.startswith("nearest_fid__")]
    assert "street_centre" in tiers
    for t in tiers:
        covered = dem[f"covered__{t}"].astype(bool)
        assert (dem.loc[covered, f"nearest_fid__{t}"] != "").all()
        assert (dem.loc[~np.isfinite(dem[f"time_s__{t}"]), f"nearest_fid__{t}"] == "").all()
        served = dem[covered].groupby(f"nearest_fid__{t}")["elderly"].sum()
        mine = fac[(fac["tier"] == t) & fac["fid"].isin(served.index)].set_index("fid")["reached_elderly"]
        assert np.allclose(served.loc[mine.index].to_numpy(), mine.astype(float).to_numpy(), atol=0.051)
        assert set(served.index) <= set(fac.loc[fac["tier"] == t, "fid"])
    # one demand table: not in the GeoPackage, no demand.csv
    assert "demand" not in {n for n, _ in pyogrio.list_layers(demo_out / "carecover.gpkg")}
    assert not (demo_out / "demand.csv").exists()

"""Exports: GeoPackage, GeoJSON, CSV (UTF-8 BOM) and XLSX, deterministic and complete."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.export import export_all, header_zh


@pytest.fixture(scope="module")
def bundle(monaco_bundle: PlanBundle) -> PlanBundle:
    return dataclasses.replace(monaco_bundle, demand=monaco_bundle.demand.iloc[:3000])  # keep the test fast


@pytest.fixture(scope="module")
def two_runs(bundle: PlanBundle, tmp_path_factory) -> tuple[dict, dict]:
    a = export_all(bundle, tmp_path_factory.mktemp("a"))
    b = export_all(bundle, tmp_path_factory.mktemp("b"))
    return a, b


def test_gpkg_layers_complete_and_attributes_identical(bundle: PlanBundle, two_runs) -> None:
    a, b = two_runs
    names = {n for n, _ in pyogrio.list_layers(a["gpkg"])}
    assert names == {"facilities", "isochrones", "demand", "gaps", "gap_zones", "sites", "boundaries"}
    for layer in sorted(names):
        da = pyogrio.read_dataframe(a["gpkg"], layer=layer)
        db = pyogrio.read_dataframe(b["gpkg"], layer=layer)
        pd.testing.assert_frame_equal(da.drop(columns="geometry"), db.drop(columns="geometry"))
        assert da.geometry.equals(db.geometry)
    fac = pyogrio.read_dataframe(a["gpkg"], layer="facilities")
    # every input record, including the one without coordinates, with its status
    assert len(fac) == len(bundle.facilities)
    assert fac["fid"].tolist() == sorted(bundle.facilities["fid"])
    assert fac.set_index("fid").loc["X1", "status"] == "missing_coords"
    assert fac.set_index("fid").loc["X1", "geometry"] is None
    dem = pyogrio.read_dataframe(a["gpkg"], layer="demand")
    t = dem["time_s__meal_point"].to_numpy()
    assert np.isinf(t).sum() == np.isinf(bundle.demand["time_s__meal_point"]).sum() > 0


def test_csv_bom_sorted_and_byte_identical(bundle: PlanBundle, two_runs) -> None:
    a, b = two_runs
    for key in [k for k in a if k.startswith("csv:") or k.startswith("geojson:")]:
        assert a[key].read_bytes() == b[key].read_bytes(), key
    raw = a["csv:facilities"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(a["csv:facilities"].open(encoding="utf-8-sig")))
    assert [r["fid"] for r in rows] == sorted(bundle.facilities["fid"])
    x1 = next(r for r in rows if r["fid"] == "X1")
    assert x1["status"] == "missing_coords" and x1["lon"] == "" and x1["name"] == "无坐标站点"
    dem = list(csv.DictReader(a["csv:demand"].open(encoding="utf-8-sig")))
    assert len(dem) == len(bundle.demand)
    src = bundle.demand.set_index("cell_id")
    for r in dem[:200]:
        t = src.loc[int(r["cell_id"]), "time_s__meal_point"]
        # unreachable (inf) is an empty cell, with covered False beside it
        assert (r["time_s__meal_point"] == "") == (not math.isfinite(t))
        if r["time_s__meal_point"]:
            assert float(r["time_s__meal_point"]) == t
        assert r["covered__meal_point"] == str(bool(src.loc[int(r["cell_id"]), "covered__meal_point"]))
    claims = list(csv.DictReader(a["csv:claims"].open(encoding="utf-8-sig")))
    assert {c["result"] for c in claims} <= {"PASS", "FAIL"}


def test_geojson_valid_and_no_infinity(two_runs) -> None:
    a, _ = two_runs
    doc = json.loads(a["geojson:demand"].read_text(encoding="utf-8"))  # strict: no Infinity token
    assert "Infinity" not in a["geojson:demand"].read_text(encoding="utf-8")
    assert doc["type"] == "FeatureCollection" and len(doc["features"]) == 3000
    fac = json.loads(a["geojson:facilities"].read_text(encoding="utf-8"))
    nulls = [f for f in fac["features"] if f["geometry"] is None]
    assert [f["properties"]["fid"] for f in nulls] == ["X1"]


def test_xlsx_chinese_headers(bundle: PlanBundle, two_runs, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    a, _ = two_runs
    wb = load_workbook(a["xlsx"], read_only=True)
    assert "设施 facilities" in wb.sheetnames and "表头对照 Headers" in wb.sheetnames
    ws = wb["设施 facilities"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:3] == ("设施编号", "名称", "层级")
    assert len(rows) == len(bundle.facilities) + 1
    dem = list(wb["人口单元 demand"].iter_rows(max_row=1, values_only=True))[0]
    assert header_zh("time_s__street_centre") in dem
    assert header_zh("time_s__street_centre") == "出行时间(秒)·街道级养老服务中心"
    en = export_all(dataclasses.replace(bundle, demand=bundle.demand.iloc[:50]), tmp_path,
                    xlsx_chinese_headers=False)
    wb2 = load_workbook(en["xlsx"], read_only=True)
    assert list(wb2["facilities"].iter_rows(max_row=1, values_only=True))[0][:2] == ("fid", "name")


def test_exports_need_no_parameters(bundle: PlanBundle, two_runs, tmp_path: Path) -> None:
    # the exports are results only: no RunParams, no summary["parameters"], same files
    a, _ = two_runs
    bare = dataclasses.replace(bundle, params=None,
                               summary={k: v for k, v in bundle.summary.items() if k != "parameters"})
    got = export_all(bare, tmp_path)
    assert sorted(got) == sorted(a)
    for key in [k for k in a if k.startswith("csv:") or k.startswith("geojson:")]:
        assert got[key].read_bytes() == a[key].read_bytes(), key

"""GeoPackage, GeoJSON, CSV and XLSX exports of a :class:`~carecover.outputs.bundle.PlanBundle`.

Every table is written with sorted rows and a fixed column order, so equal inputs give equal
attribute tables. The timestamps that GeoPackage and XLSX files carry (``gpkg_contents``
``last_change``, the workbook's document dates, its zip entries' dates) are the run's timestamp
(:func:`carecover.utils.run_datetime`: ``SOURCE_DATE_EPOCH`` when set), so with it set two runs
write byte-identical files.

Travel times beyond the search limit are ``inf`` in memory. GeoPackage keeps them as ``inf``
(SQLite REAL); CSV, XLSX and GeoJSON, which have no portable infinity, leave the cell empty
and the ``covered__<tier>`` column says ``False``.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover import notices
from carecover.cells import as_text_cells, csv_safe, xlsx_text
from carecover.outputs.bundle import PlanBundle, sites_frame
from carecover.tiers import TIERS
from carecover.utils import atomic_path, atomic_write, run_datetime

#: Fixed leading column order per layer (other columns follow in sorted order).
COLUMNS: dict[str, list[str]] = {
    "facilities": ["fid", "name", "tier", "tier_raw", "address", "street", "township", "county",
                   "source", "source_file", "row", "crs_in", "lon_in", "lat_in", "status", "note",
                   "reached_elderly", "reached_pop", "capacity", "capacity_source", "catchment_elderly",
                   "assigned_elderly", "load"],
    "isochrones": ["tier", "band_min", "fid"],
    "demand": ["cell_id", "pop", "elderly", "county", "area_m2"],
    "gaps": ["rank", "gap_id", "pop", "elderly", "area_m2", "county", "time_to_nearest_s"],
    "gap_zones": ["rank", "gap_id", "pop", "elderly", "area_m2", "county"],
    "sites": ["method", "tier", "rank", "gain_elderly", "gain_pop", "lon", "lat", "county", "gap_id"],
    "boundaries": ["level", "name"],
}
#: Sort keys per layer.
SORT: dict[str, list[str]] = {
    "facilities": ["fid"], "isochrones": ["tier", "band_min", "fid"], "demand": ["cell_id"],
    "gaps": ["rank", "gap_id"], "gap_zones": ["rank", "gap_id"], "sites": ["method", "tier", "rank"],
    "boundaries": ["level", "name"],
}

#: Chinese headers for the XLSX workbook (the "表头对照 Headers" sheet lists them all).
HEADERS_ZH: dict[str, str] = {
    "fid": "设施编号", "name": "名称", "tier": "层级", "tier_raw": "原始层级", "address": "地址",
    "street": "街道", "township": "乡镇", "county": "旗县区", "source": "来源", "source_file": "来源文件",
    "row": "原始行号", "crs_in": "原始坐标系", "lon_in": "原始经度", "lat_in": "原始纬度", "status": "状态",
    "note": "说明", "reached_elderly": "可达老年人口", "reached_pop": "可达总人口", "band_min": "等时圈(分钟)",
    "cell_id": "人口单元编号", "pop": "总人口", "elderly": "老年人口(60岁以上)", "area_m2": "面积(平方米)",
    "rank": "排序", "gap_id": "缺口编号", "time_to_nearest_s": "到最近设施时间(秒)", "method": "方法",
    "gain_elderly": "新增覆盖老年人口", "gain_pop": "新增覆盖总人口", "lon": "经度(WGS-84)",
    "lat": "纬度(WGS-84)", "level": "级别", "kind": "指标类型", "tiers": "层级", "population": "人口口径",
    "area": "范围", "threshold_min": "阈值(分钟)", "speed_mps": "速度(米/秒)", "mode": "出行方式",
    "value": "覆盖率", "covered": "覆盖人数", "total": "总数", "claim": "声明", "target": "目标",
    "computed": "计算值", "status_claim": "结论",
    # capacity and accessibility (issue 13)
    "capacity": "容量(名额)", "capacity_source": "容量来源", "catchment_elderly": "服务范围内加权老年人口",
    "assigned_elderly": "分配老年人口", "load": "负荷(人/名额)", "capacity_persons": "服务能力(人)",
    "beds": "床位", "floor_area_m2": "建筑面积(平方米)", "meal_seats": "助餐座位", "measure": "指标",
    "access_value": "数值(每千老人名额/比例/基尼)", "capacity_rule": "容量规则", "standard_per_1000": "标准(每千老人名额)",
    "decay": "距离衰减",
}
_PREFIX_ZH = {"time_s": "出行时间(秒)", "covered": "是否覆盖", "covered_after": "新增站点后是否覆盖",
              "access_2sfca": "每千老人名额(2SFCA)", "access_e2sfca": "每千老人名额(E2SFCA)"}


def header_zh(col: str) -> str:
    """Chinese header for a column (per-tier columns get the tier's Chinese name).

    Parameters
    ----------
    col
        Column name, e.g. ``"elderly"`` or ``"time_s__street_centre"``.

    Returns
    -------
    str
        E.g. ``"老年人口(60岁以上)"`` or ``"出行时间(秒)·街道级养老服务中心"`` (the name itself
        when unknown).
    """
    if "__" in col:
        prefix, key = col.split("__", 1)
        t = TIERS.get(key)
        return f"{_PREFIX_ZH.get(prefix, prefix)}·{t.name_zh if t else key}"
    return HEADERS_ZH.get(col, col)


def _order(df: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Fixed column order and sorted rows."""
    geom = df.geometry.name if isinstance(df, gpd.GeoDataFrame) else None
    lead = [c for c in COLUMNS.get(layer, []) if c in df.columns]
    rest = sorted(c for c in df.columns if c not in lead and c != geom)
    cols = lead + rest + ([geom] if geom else [])
    out = df[cols]
    keys = [k for k in SORT.get(layer, []) if k in out.columns]
    if keys:
        out = out.sort_values(keys, kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _plain(v: Any) -> Any:
    """A value for CSV/XLSX/GeoJSON: no inf/NaN, lists as JSON text, numpy scalars as Python."""
    if isinstance(v, (list, tuple, dict)):
        return json.dumps(v, ensure_ascii=False, sort_keys=True)
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def layers(bundle: PlanBundle) -> dict[str, gpd.GeoDataFrame]:
    """The bundle's spatial layers, ordered and sorted as they are exported.

    Parameters
    ----------
    bundle
        Results to export (tables only: the exports read no parameters).

    Returns
    -------
    dict of str to GeoDataFrame
        ``facilities``, ``isochrones``, ``demand`` and, when present, ``gaps``, ``gap_zones``,
        ``sites``, ``boundaries``.
    """
    out: dict[str, gpd.GeoDataFrame] = {"facilities": _order(bundle.facilities, "facilities"),
                                        "isochrones": _order(bundle.isochrones.assign(
                                            fid=bundle.isochrones["fid"].fillna("").astype(str)), "isochrones"),
                                        "demand": _order(bundle.demand, "demand")}
    if bundle.gaps is not None:
        g = bundle.gaps.copy()
        if "rank" not in g:
            order = g.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True], kind="stable").index
            g.loc[order, "rank"] = np.arange(1, len(g) + 1)
            g["rank"] = g["rank"].astype(int)
        hulls = bundle.gap_hulls
        out["gaps"] = _order(g, "gaps")
        if hulls is not None and len(hulls) == len(g):
            hs = gpd.GeoSeries(hulls)
            hs = hs.set_crs(4326) if hs.crs is None else hs.to_crs(4326)
            zones = gpd.GeoDataFrame(g.drop(columns=[g.geometry.name, "time_to_nearest_s"], errors="ignore"),
                                     geometry=list(hs.values), crs=4326)
            out["gap_zones"] = _order(zones, "gap_zones")
    s = sites_frame(bundle.sites)
    if s is not None:
        out["sites"] = _order(s, "sites")
    if bundle.boundaries is not None:
        out["boundaries"] = _order(bundle.boundaries, "boundaries")
    return out


def tables(bundle: PlanBundle) -> dict[str, pd.DataFrame]:
    """Non-spatial tables: every point layer without geometry (points get lon/lat), plus the
    figures (``coverage``) and ``claims`` of the summary.

    Parameters
    ----------
    bundle
        Results to export.

    Returns
    -------
    dict of str to DataFrame
        Table name -> table, as written to ``<name>.csv``.
    """
    out: dict[str, pd.DataFrame] = {}
    for name, gdf in layers(bundle).items():
        if name in ("isochrones", "gap_zones", "boundaries"):
            continue
        df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        if name in ("demand", "gaps", "facilities"):  # points: lon/lat columns (sites have them)
            pts = gdf.geometry
            df["lon"] = [round(p.x, 7) if p is not None and not p.is_empty else None for p in pts]
            df["lat"] = [round(p.y, 7) if p is not None and not p.is_empty else None for p in pts]
        out[name] = df
    figs = bundle.summary.get("figures") or []
    coverage = [f for f in figs if f.get("kind") != "access"]
    if coverage:
        out["coverage"] = pd.DataFrame(coverage)
    # capacity-aware accessibility (issue 13): its own table, the value named for its measure
    access = [f for f in figs if f.get("kind") == "access"]
    if access:
        out["access"] = _access_table(access)
    claims = bundle.summary.get("claims") or []
    if claims:
        out["claims"] = pd.DataFrame(claims)
    return out


#: Column order of the access table (``access.csv`` and its sheet).
ACCESS_COLUMNS = ["kind", "tiers", "method", "measure", "area", "population", "threshold_min", "speed_mps", "mode",
                  "scenario", "access_value", "covered", "total", "standard_per_1000", "capacity_rule", "decay", "data"]


def _access_table(figs: list[dict]) -> pd.DataFrame:
    """Access figures as a table: ``access_value`` is places per 1,000 elderly, a share of the
    elderly below the standard, or a Gini coefficient, as ``measure`` says."""
    df = pd.DataFrame(figs).rename(columns={"value": "access_value", "capacity": "capacity_rule"})
    return df[[c for c in ACCESS_COLUMNS if c in df.columns] + sorted(c for c in df.columns if c not in ACCESS_COLUMNS)]


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    # UTF-8 with BOM so that Excel opens Chinese text correctly
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(list(df.columns))
        for row in df.itertuples(index=False, name=None):
            w.writerow(["" if (v := _plain(x)) is None else csv_safe(v) for x in row])


def _write_geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    feats = []
    geom_col = gdf.geometry.name
    props_cols = [c for c in gdf.columns if c != geom_col]
    for row in gdf.itertuples(index=False, name=None):
        d = dict(zip(gdf.columns, row, strict=True))
        g = d.pop(geom_col)
        props = {c: _plain(d[c]) for c in props_cols}
        feats.append({"type": "Feature", "properties": props,
                      "geometry": None if g is None or g.is_empty else _round_geojson(g.__geo_interface__)})
    text = json.dumps({"type": "FeatureCollection", "features": feats}, ensure_ascii=False,
                      separators=(",", ":"))
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def _round_geojson(obj: Any, nd: int = 7) -> Any:
    if isinstance(obj, dict):
        return {k: _round_geojson(v, nd) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round_geojson(v, nd) for v in obj]
    if isinstance(obj, float):
        return round(obj, nd)
    return obj


def _write_gpkg(lays: dict[str, gpd.GeoDataFrame], path: Path) -> None:
    import pyogrio

    # GDAL stamps gpkg_contents.last_change with the time of writing unless told the date
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": run_datetime().strftime("%Y-%m-%dT%H:%M:%S.000Z")})
    try:
        with atomic_path(path) as tmp:
            for name, gdf in lays.items():
                g = gdf.copy()
                for c in g.columns:
                    if c != g.geometry.name and g[c].map(lambda v: isinstance(v, (list, tuple, dict))).any():
                        g[c] = g[c].map(_plain)
                # GeoPackage reserves "fid" for its integer key: name that key gpkg_fid so that
                # our string facility id keeps its column name
                g.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", layer_options={"FID": "gpkg_fid"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


#: Tables longer than this go to CSV/GeoPackage only, not into the workbook.
XLSX_MAX_ROWS = 10000


def _write_xlsx(tabs: dict[str, pd.DataFrame], path: Path, chinese: bool) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    sheet_zh = {"facilities": "设施", "demand": "人口单元", "gaps": "覆盖缺口", "sites": "建议站点",
                "coverage": "覆盖率", "claims": "声明核验", "access": "可达性"}
    skipped = []
    for name, df in tabs.items():
        if len(df) > XLSX_MAX_ROWS:  # workbooks are for reading; the full table is in CSV/GPKG
            skipped.append((name, len(df)))
            notices.warn("reduced_output", f"表 {name} 有 {len(df):,} 行，超过工作簿上限 {XLSX_MAX_ROWS:,}，"
                         f"完整内容见 {name}.csv 与 carecover.gpkg / table {name} has {len(df):,} rows, over the "
                         f"workbook's {XLSX_MAX_ROWS:,}: it is in {name}.csv and carecover.gpkg only",
                         kind="reduction", file="carecover.xlsx", field=name, value=len(df))
            continue
        ws = wb.create_sheet(f"{sheet_zh.get(name, name)} {name}"[:31] if chinese else name)
        ws.append([xlsx_text(header_zh(c) if chinese else c) for c in df.columns])
        as_text_cells(ws[ws.max_row])
        for row in df.itertuples(index=False, name=None):
            ws.append([xlsx_text(_plain(v)) for v in row])
            as_text_cells(ws[ws.max_row])
        ws.freeze_panes = "A2"
        for i, c in enumerate(df.columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(str(header_zh(c))) * 2 + 2))
    if skipped:
        ws = wb.create_sheet("说明 Notes")
        ws.append(["表 table", "行数 rows", "说明 note"])
        for name, n in skipped:
            ws.append([name, n, f"超过 {XLSX_MAX_ROWS} 行，见 {name}.csv / carecover.gpkg; "
                                f"over {XLSX_MAX_ROWS} rows, see {name}.csv / carecover.gpkg"])
    ws = wb.create_sheet("表头对照 Headers")
    ws.append(["表 table", "列 column", "中文表头 Chinese header"])
    for name, df in tabs.items():
        for c in df.columns:
            ws.append([name, c, header_zh(c)])
    _save_workbook(wb, path)


def _save_workbook(wb, path: Path) -> None:
    """Save with the run's date as the document dates and as every zip entry's date
    (``Workbook.save`` stamps both with the time of writing)."""
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    stamp = run_datetime().replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = stamp
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    date_time = max(stamp, _ZIP_EPOCH).timetuple()[:6]
    with atomic_path(path) as tmp, zipfile.ZipFile(buf) as src, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))


#: Zip dates cannot be earlier than 1980.
_ZIP_EPOCH = datetime.datetime(1980, 1, 1)


def export_all(bundle: PlanBundle, out_dir: str | Path, *, xlsx_chinese_headers: bool = True
               ) -> dict[str, Path]:
    """Write ``carecover.gpkg``, one GeoJSON per layer, one CSV per table and ``carecover.xlsx``.

    Parameters
    ----------
    bundle
        Results to export.
    out_dir
        Output directory (created). CSV files go in ``out_dir``, GeoJSON in ``out_dir/geojson``.
    xlsx_chinese_headers
        Chinese column headers in the workbook (English column names otherwise).

    Returns
    -------
    dict
        Output name (``gpkg``, ``xlsx``, ``csv:<table>``, ``geojson:<layer>``) -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lays = layers(bundle)
    tabs = tables(bundle)
    written: dict[str, Path] = {}
    gpkg = out_dir / "carecover.gpkg"
    _write_gpkg(lays, gpkg)
    written["gpkg"] = gpkg
    for name, gdf in lays.items():
        p = out_dir / "geojson" / f"{name}.geojson"
        _write_geojson(gdf, p)
        written[f"geojson:{name}"] = p
    for name, df in tabs.items():
        p = out_dir / f"{name}.csv"
        _write_csv(df, p)
        written[f"csv:{name}"] = p
    xlsx = out_dir / "carecover.xlsx"
    _write_xlsx(tabs, xlsx, xlsx_chinese_headers)
    written["xlsx"] = xlsx
    return written

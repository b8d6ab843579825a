"""GeoPackage, GeoJSON, CSV and XLSX exports of a :class:`~carecover.outputs.bundle.PlanBundle`.

This module decides *what* is exported (layers, tables, their column order and sorting); the
formats are written by :mod:`carecover.outputs.gpkg` (GeoPackage 1.2 through Arrow, with QGIS
styles), :mod:`carecover.outputs.workbook` (the formatted workbook) and the CSV/GeoJSON writers
here. Every table is written with sorted rows and a fixed column order, so equal inputs give
equal attribute tables. The timestamps that GeoPackage and XLSX files carry are the run's
timestamp (:func:`carecover.utils.run_datetime`: ``SOURCE_DATE_EPOCH`` when set), so with it
set two runs write byte-identical files.

Layers: ``facilities``; ``isochrones`` (each tier's union per band) and
``facility_isochrones`` (one facility's polygons, when the run made them) apart; ``demand``
(points, with ``area_m2``: the cell each point stands for, and per tier the time to and id of
the nearest facility); ``gaps`` and ``gap_zones``; ``sites``; ``boundaries``. Every layer but
``demand`` is in ``carecover.gpkg``; the demand points, the largest table by far, are written
once, as GeoParquet (``demand.parquet`` with its QGIS style ``demand.qml``,
:mod:`carecover.outputs.parquet`), not as a GeoPackage layer and a CSV file besides.

Travel times beyond the search limit are ``inf`` in memory. GeoPackage and Parquet keep them as
``inf``; CSV, XLSX and GeoJSON, which have no portable infinity, leave the cell empty and the
``covered__<tier>`` column says ``False``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover import memory, notices
from carecover.outputs.bundle import PlanBundle, sites_frame
from carecover.outputs.columns import HEADERS_ZH, header_en, header_zh
from carecover.outputs.gpkg import GpkgWriter
from carecover.outputs.parquet import write_geoparquet
from carecover.outputs.textfiles import write_csv, write_geojson
from carecover.outputs.workbook import XLSX_MAX_ROWS, write_workbook

__all__ = ["COLUMNS", "HEADERS_ZH", "SORT", "XLSX_MAX_ROWS", "export_all", "header_en", "header_zh",
           "iter_layers", "layer_table", "layers", "summary_tables", "tables"]

#: Fixed leading column order per layer (other columns follow in sorted order).
COLUMNS: dict[str, list[str]] = {
    "facilities": ["fid", "name", "tier", "tier_raw", "address", "street", "township", "county",
                   "source", "source_file", "row", "crs_in", "lon_in", "lat_in", "status", "note",
                   "reached_elderly", "reached_pop", "capacity", "capacity_source", "catchment_elderly",
                   "assigned_elderly", "load"],
    "isochrones": ["tier", "band_min", "fid"],
    "facility_isochrones": ["tier", "band_min", "fid"],
    "demand": ["cell_id", "pop", "elderly", "county", "area_m2"],
    "gaps": ["rank", "gap_id", "pop", "elderly", "area_m2", "county", "time_to_nearest_s"],
    "gap_zones": ["rank", "gap_id", "pop", "elderly", "area_m2", "county"],
    "sites": ["method", "tier", "rank", "site_label", "site_name", "gain_elderly", "gain_pop", "lon", "lat", "county", "gap_id",
              "colocated_kind", "colocated_name", "colocated_m"],
    "boundaries": ["level", "name"],
}
#: Sort keys per layer.
SORT: dict[str, list[str]] = {
    "facilities": ["fid"], "isochrones": ["tier", "band_min", "fid"],
    "facility_isochrones": ["tier", "band_min", "fid"], "demand": ["cell_id"],
    "gaps": ["rank", "gap_id"], "gap_zones": ["rank", "gap_id"], "sites": ["method", "tier", "rank"],
    "boundaries": ["level", "name"],
}
#: Layers written as GeoParquet (``<name>.parquet``), not into the GeoPackage, and tables written
#: as Parquet, not as CSV: the demand points (see the module docstring).
PARQUET_LAYERS = ("demand",)
#: Layers written as GeoJSON too: the points and boundaries a web page or a colleague loads.
#: The demand points (demand.parquet), isochrones and gap zones (the GeoPackage) are not: at city
#: scale they are 100,000+ points and millions of polygon vertices, GeoJSON files of 40-80 MB
#: each that took most of the export's time and repeated the GeoPackage.
GEOJSON_LAYERS = ("facilities", "gaps", "sites", "boundaries")


def ordered_layer(df: pd.DataFrame, layer: str) -> pd.DataFrame:
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


def layers(bundle: PlanBundle) -> dict[str, gpd.GeoDataFrame]:
    """The bundle's spatial layers, ordered and sorted as they are exported.

    Parameters
    ----------
    bundle
        Results to export (tables only: the exports read no parameters).

    Returns
    -------
    dict of str to GeoDataFrame
        ``facilities``, ``isochrones`` (tier unions), ``demand`` and, when present,
        ``facility_isochrones``, ``gaps``, ``gap_zones``, ``sites``, ``boundaries``.
    """
    return dict(iter_layers(bundle))


def iter_layers(bundle: PlanBundle) -> Iterator[tuple[str, gpd.GeoDataFrame]]:
    """:func:`layers` one at a time, in their order: each layer is made only when the one
    before it has been taken (the export writes it and lets it go before the next is made).

    Parameters
    ----------
    bundle
        Results to export.

    Yields
    ------
    tuple of (str, GeoDataFrame)
        Layer name and layer.
    """
    yield "facilities", ordered_layer(bundle.facilities, "facilities")
    fids = bundle.isochrones["fid"].fillna("").astype(str)
    per_facility = (fids != "").to_numpy()
    yield "isochrones", ordered_layer(bundle.isochrones[~per_facility].assign(fid=fids[~per_facility].to_numpy()), "isochrones")
    if per_facility.any():
        yield "facility_isochrones", ordered_layer(bundle.isochrones[per_facility].assign(fid=fids[per_facility].to_numpy()),
                                                   "facility_isochrones")
    del fids
    yield "demand", ordered_layer(bundle.demand, "demand")
    if bundle.gaps is not None:
        yield from _gap_layers(bundle)
    s = sites_frame(bundle.sites)
    if s is not None:
        yield "sites", ordered_layer(s, "sites")
    if bundle.boundaries is not None:
        yield "boundaries", ordered_layer(bundle.boundaries, "boundaries")


def _gap_layers(bundle: PlanBundle) -> Iterator[tuple[str, gpd.GeoDataFrame]]:
    """The ``gaps`` points and, when the bundle has their hulls, the ``gap_zones``."""
    g = bundle.gaps.copy()
    if "rank" not in g:
        order = g.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True], kind="stable").index
        g.loc[order, "rank"] = np.arange(1, len(g) + 1)
        g["rank"] = g["rank"].astype(int)
    hulls = bundle.gap_hulls
    yield "gaps", ordered_layer(g, "gaps")
    if hulls is not None and len(hulls) == len(g):
        hs = gpd.GeoSeries(hulls)
        hs = hs.set_crs(4326) if hs.crs is None else hs.to_crs(4326)
        zones = gpd.GeoDataFrame(g.drop(columns=[g.geometry.name, "time_to_nearest_s"], errors="ignore"),
                                 geometry=list(hs.values), crs=4326)
        yield "gap_zones", ordered_layer(zones, "gap_zones")


def _lonlat(geoms: gpd.GeoSeries) -> tuple[np.ndarray, np.ndarray]:
    """Rounded lon/lat of point geometries (NaN where missing or empty)."""
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    if ok.any():
        g = geoms[ok]
        x[ok] = np.round(g.x.to_numpy(), 7)
        y[ok] = np.round(g.y.to_numpy(), 7)
    return x, y


def tables(bundle: PlanBundle, lays: dict[str, gpd.GeoDataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Non-spatial tables: every point layer without geometry (points get lon/lat), plus the
    figures (``coverage``) and ``claims`` of the summary.

    Parameters
    ----------
    bundle
        Results to export.
    lays
        :func:`layers` of ``bundle`` when already made (else made here, one at a time).

    Returns
    -------
    dict of str to DataFrame
        Table name -> table, as written to ``<name>.csv`` (``demand``: in ``demand.parquet`` with
        its geometry, and in the workbook when it fits).
    """
    out: dict[str, pd.DataFrame] = {}
    for name, gdf in (iter_layers(bundle) if lays is None else lays.items()):
        df = layer_table(name, gdf)
        if df is not None:
            out[name] = df
    return out | summary_tables(bundle)


def layer_table(name: str, gdf: gpd.GeoDataFrame) -> pd.DataFrame | None:
    """A layer's table (:func:`tables`): its attributes, points with lon/lat; ``None`` for the
    polygon layers, which have no table.

    Parameters
    ----------
    name
        Layer name.
    gdf
        The layer (:func:`iter_layers`).

    Returns
    -------
    DataFrame or None
    """
    if name in ("isochrones", "facility_isochrones", "gap_zones", "boundaries"):
        return None
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    if name in ("demand", "gaps", "facilities"):  # points: lon/lat columns (sites have them)
        df["lon"], df["lat"] = _lonlat(gdf.geometry)
    return df


def summary_tables(bundle: PlanBundle) -> dict[str, pd.DataFrame]:
    """The tables of the summary (:func:`tables`): ``coverage``, ``access``, ``claims``,
    ``profiles`` and ``projection``, those the run has.

    Parameters
    ----------
    bundle
        Results to export.

    Returns
    -------
    dict of str to DataFrame
    """
    out: dict[str, pd.DataFrame] = {}
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
    # coverage per mobility profile (only with --profiles)
    by_profile = (bundle.summary.get("profiles") or {}).get("figures") or []
    if by_profile:
        out["profiles"] = pd.DataFrame(by_profile)
    # today vs the projected year (only with --year): every row says it is a projection, and its source
    projected = bundle.summary.get("projection") or {}
    if projected.get("figures"):
        out["projection"] = pd.DataFrame(projected["figures"]).assign(source=projected["record"]["source"])
    return out


#: Column order of the access table (``access.csv`` and its sheet).
ACCESS_COLUMNS = ["kind", "tiers", "method", "measure", "area", "population", "threshold_min", "speed_mps", "mode",
                  "scenario", "access_value", "covered", "total", "standard_per_1000", "capacity_rule", "decay", "data"]


def _access_table(figs: list[dict]) -> pd.DataFrame:
    """Access figures as a table: ``access_value`` is places per 1,000 elderly, a share of the
    elderly below the standard, or a Gini coefficient, as ``measure`` says."""
    df = pd.DataFrame(figs).rename(columns={"value": "access_value", "capacity": "capacity_rule"})
    return df[[c for c in ACCESS_COLUMNS if c in df.columns] + sorted(c for c in df.columns if c not in ACCESS_COLUMNS)]


def export_all(bundle: PlanBundle, out_dir: str | Path, *, xlsx_chinese_headers: bool | None = None
               ) -> dict[str, Path]:
    """Write ``carecover.gpkg``, ``demand.parquet`` (and ``demand.qml``), GeoJSON layers, one CSV per
    table but the demand and ``carecover.xlsx``.

    Parameters
    ----------
    bundle
        Results to export.
    out_dir
        Output directory (created). CSV files go in ``out_dir``, GeoJSON in ``out_dir/geojson``.
    xlsx_chinese_headers
        Chinese workbook (Chinese headers and labels, English headers on its headers sheet) or English
        workbook; ``None``: as the bundle's language.

    Returns
    -------
    dict
        Output name (``gpkg``, ``xlsx``, ``parquet:<layer>``, ``qml:<layer>``, ``csv:<table>``,
        ``geojson:<layer>``) -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # one layer at a time: made, written (GeoPackage or GeoParquet, GeoJSON, CSV) and let go
    # before the next is made; only the tables (no geometry) are kept, for the workbook
    tabs: dict[str, pd.DataFrame] = {}
    files: dict[str, dict[str, Path]] = {"gpkg": {"gpkg": out_dir / "carecover.gpkg"}, "parquet": {},
                                         "geojson": {}, "csv": {}}
    with GpkgWriter(files["gpkg"]["gpkg"]) as gpkg:
        for name, gdf in iter_layers(bundle):
            table = layer_table(name, gdf)
            if name in PARQUET_LAYERS:
                files["parquet"].update(_write_parquet(name, gdf, table, out_dir))
            else:  # the GeoPackage: every layer but the demand points, styled for QGIS
                gpkg.add(name, gdf)
            if name in GEOJSON_LAYERS:  # the layers a web map needs
                files["geojson"][f"geojson:{name}"] = out_dir / "geojson" / f"{name}.geojson"
                write_geojson(gdf, files["geojson"][f"geojson:{name}"])
            del gdf
            if table is not None:
                tabs[name] = table
            memory.release_freed()  # the layer's transients (WKB, Arrow buffers), before the next's
    tabs |= summary_tables(bundle)
    # CSV: every table (the demand points are in their Parquet file)
    for name, df in [(n, d) for n, d in tabs.items() if n not in PARQUET_LAYERS]:
        files["csv"][f"csv:{name}"] = out_dir / f"{name}.csv"
        write_csv(df, files["csv"][f"csv:{name}"])
    written = {k: v for group in files.values() for k, v in group.items()}
    # the workbook: the tables people read
    chinese = bundle.lang == "zh" if xlsx_chinese_headers is None else xlsx_chinese_headers
    written["xlsx"] = out_dir / "carecover.xlsx"
    from carecover.outputs.workbook_plain import summary_frame

    skipped = write_workbook(tabs, written["xlsx"], "zh" if chinese else "en", _workbook_notes(bundle),
                             summary=summary_frame(bundle))
    _warn_skipped(skipped)
    return written


def _write_parquet(name: str, gdf: gpd.GeoDataFrame, table: pd.DataFrame | None, out_dir: Path) -> dict[str, Path]:
    """A GeoParquet layer (:data:`PARQUET_LAYERS`) with its table's columns (lon/lat) and its
    ``.qml`` style: no copy of either."""
    paths = write_geoparquet(gdf, out_dir / f"{name}.parquet", style_name=name, table=table)
    return {f"parquet:{name}": paths[0], **({f"qml:{name}": paths[1]} if len(paths) > 1 else {})}


def _workbook_notes(bundle: PlanBundle) -> list[str]:
    notes = []
    if bundle.summary.get("sample_data"):
        notes.append(str(bundle.summary["sample_data"]))
    notes.append("人数取整显示、比例按百分比显示，单元格保留完整数值；空白的出行时间 = 超出搜索范围 / people shown "
                 "whole and shares as percentages, cells keep full values; an empty travel time = beyond the search limit")
    return notes


def _warn_skipped(skipped: list[tuple[str, int]]) -> None:
    for name, n in skipped:
        notices.warn("reduced_output", f"表 {name} 有 {n:,} 行，超过工作簿上限 {XLSX_MAX_ROWS:,}，"
                     f"完整内容见 {_full_file(name, ' 与 ')} / table {name} has {n:,} rows, over the "
                     f"workbook's {XLSX_MAX_ROWS:,}: it is in {_full_file(name, ' and ')} only",
                     kind="reduction", file="carecover.xlsx", field=name, value=n)


def _full_file(name: str, joiner: str) -> str:
    """The file(s) holding a whole table that the workbook leaves out."""
    return f"{name}.parquet" if name in PARQUET_LAYERS else f"{name}.csv{joiner}carecover.gpkg"

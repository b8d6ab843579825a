"""Region outputs, built once at the end: per-area table, choropleth map, report, workbook,
and one folder per area.

区域输出（最后一次生成）：分区域表、按区域着色的覆盖率地图、报告、工作簿，以及每个区域的文件夹。

Region figures are sums of the areas' exact counts (``covered`` and ``total`` add up; the
share is their ratio). Every file is written into a staging folder beside ``out`` and moved in
only when all are written; text from inputs reaches HTML escaped and spreadsheets as text.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.analysis.figures import figures_table
from carecover.outputs import outfolder
from carecover.outputs.maps import deterministic_ids
from carecover.outputs.textfiles import write_csv as _write_csv
from carecover.outputs.workbook import write_workbook
from carecover.plan.publish import move_into_place
from carecover.region.merge import AreaResult
from carecover.summary_file import SummaryFile
from carecover.utils import atomic_write, json_ready

__all__ = ["area_table", "region_rows", "write_outputs", "write_area_files", "render_area_files", "AREA_COLUMNS",
           "AREA_FILES"]

#: What a region run writes at the top of its output folder (besides ``areas/``).
RESERVED = frozenset({"areas.csv", "region.csv", "sites.csv", "region_summary.json", "region_map.html",
                      "region_report.html", "region.xlsx", outfolder.MANIFEST})
RESERVED_DIRS = ("areas",)

#: The files of an area's folder that need only the area (a worker renders them).
AREA_FILES = ("coverage.csv", "demand.csv", "gaps.csv", "summary.json")

AREA_COLUMNS = ["area", "tier", "mode", "threshold_min", "speed_mps", "population", "covered", "total", "value",
                "median_min", "p90_min"]


def area_table(results: Sequence[AreaResult], walk_speed_mps: float) -> pd.DataFrame:
    """One row per area, tier and population (elderly, total): the area's headline figures
    (walking tiers at the run's speed)."""
    rows = []
    for r in results:
        for f in r.figures:
            if f["kind"] == "population" and f["area"] == "all" and f["scenario"] == "current" and \
                    (f["mode"] != "walk" or f["speed_mps"] == walk_speed_mps):
                rows.append({"area": r.area, "tier": f["tiers"][0], "mode": f["mode"],
                             "threshold_min": f["threshold_min"], "speed_mps": f["speed_mps"],
                             "population": f["population"], "covered": f["covered"], "total": f["total"],
                             "value": f["value"], "median_min": f["median_min"], "p90_min": f["p90_min"]})
    return pd.DataFrame(rows, columns=AREA_COLUMNS)


def region_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Region totals per tier and population: sums of the areas' covered and total counts."""
    if not len(table):
        return table.assign(areas=[])
    g = table.groupby(["tier", "mode", "threshold_min", "population"], sort=False, dropna=False)
    out = g.agg(covered=("covered", "sum"), total=("total", "sum"), areas=("area", "count")).reset_index()
    out["value"] = np.where(out["total"] > 0, out["covered"] / out["total"].where(out["total"] > 0, 1), np.nan)
    return out


def _choropleth(results: Sequence[AreaResult], geoms: Mapping[str, Any], table: pd.DataFrame, path: Path,
                title: str) -> None:
    """Areas coloured by elderly coverage of their first tier (names escaped)."""

    first = table[(table["population"] == "elderly")]
    tier = first["tier"].iloc[0] if len(first) else ""
    value = dict(zip(first.loc[first["tier"] == tier, "area"], first.loc[first["tier"] == tier, "value"],
                     strict=True))
    frame = gpd.GeoDataFrame({"name": [f"<bdi>{html.escape(r.area)}</bdi>" for r in results],
                              "coverage": [f"{value.get(r.area, float('nan')):.1%}" for r in results],
                              "v": [float(value.get(r.area, float("nan"))) for r in results]},
                             geometry=[geoms[r.area] for r in results], crs=4326)
    minx, miny, maxx, maxy = frame.total_bounds
    with deterministic_ids():
        _draw(frame, tier, title, path, (minx, miny, maxx, maxy))


def _draw(frame: gpd.GeoDataFrame, tier: str, title: str, path: Path, bounds) -> None:
    import folium

    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=9, tiles="OpenStreetMap")

    def style(feat):
        v = feat["properties"]["v"]
        shade = "#cccccc" if v is None or not np.isfinite(v) else \
            ["#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"][min(4, int(v * 5))]
        return {"fillColor": shade, "color": "#333333", "weight": 1, "fillOpacity": 0.6}

    folium.GeoJson(json.loads(frame.to_json()), style_function=style,
                   tooltip=folium.GeoJsonTooltip(fields=["name", "coverage"],
                                                 aliases=["区域 area", f"老年人覆盖率 elderly coverage ({html.escape(tier)})"]),
                   name=html.escape(title)).add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(m.get_root().render())


def _report(summary: dict, table: pd.DataFrame, region: pd.DataFrame, sites: pd.DataFrame, path: Path) -> None:
    """A short bilingual HTML report: region totals, the per-area table, the sites."""
    def tab(df: pd.DataFrame) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        body = "".join("<tr>" + "".join(f"<td><bdi>{html.escape(_fmt(v))}</bdi></td>" for v in row) + "</tr>"
                       for row in df.itertuples(index=False, name=None))
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    run = SummaryFile.of(summary)
    p = run.parameters
    parts = [f"<h1>{html.escape(run.title)}</h1>",
             f"<p>区域数 areas: {len(summary['areas'])}; 任务数 tasks: {summary['tasks']}; "
             f"步行速度 walking speed {p['speed_mps']} m/s; 吸附上限 snap limit {p['max_snap_m']:.0f} m. "
             "区域数字为各区域精确计数之和 / region figures are sums of the areas' exact counts.</p>",
             "<h2>区域合计 Region totals</h2>", tab(region),
             "<h2>分区域 By area</h2>", tab(table)]
    if len(sites):
        parts += ["<h2>建议站点 Suggested sites</h2>", tab(sites)]
    doc = ("<!doctype html><html lang='zh'><head><meta charset='utf-8'><title>"
           f"{html.escape(summary['title'])}</title><style>body{{font-family:sans-serif;margin:2em}}"
           "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:right}"
           "</style></head><body>" + "".join(parts) + "</body></html>")
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(doc)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        if not np.isfinite(v):
            return "–"
        return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.1f}"
    return "" if v is None else str(v)


def write_area_files(r: AreaResult, folder: Path) -> None:
    """The files of an area's folder that need nothing but the area itself: ``coverage.csv``,
    ``demand.csv``, ``gaps.csv``, ``summary.json`` (:data:`AREA_FILES`)."""
    folder.mkdir(parents=True, exist_ok=True)
    _write_csv(figures_table(r.figures), folder / "coverage.csv")
    pts = pd.DataFrame(r.points.drop(columns="geometry"))
    pts.insert(len(pts.columns), "lon", r.points.geometry.x.round(7))
    pts.insert(len(pts.columns), "lat", r.points.geometry.y.round(7))
    _write_csv(pts, folder / "demand.csv")
    gaps = pd.DataFrame(r.gaps.drop(columns="geometry").assign(lon=r.gaps.geometry.x, lat=r.gaps.geometry.y)) \
        if r.gaps is not None else pd.DataFrame(columns=["tier", "gap_id"])
    _write_csv(gaps, folder / "gaps.csv")
    with atomic_write(folder / "summary.json", "w", encoding="utf-8") as fh:
        json.dump(json_ready({"area": r.area, "tiers": list(r.tiers), "residents": len(r.points),
                              "figures": r.figures}), fh, ensure_ascii=False, indent=1, sort_keys=True)


def render_area_files(r: AreaResult) -> dict[str, bytes]:
    """The bytes of :func:`write_area_files` (written in a temporary folder and read back, so
    they are the files byte for byte): a worker renders them as soon as the area is merged,
    and the client only writes them."""
    with tempfile.TemporaryDirectory(prefix="carecover-area-") as tmp:
        write_area_files(r, Path(tmp))
        return {name: (Path(tmp) / name).read_bytes() for name in AREA_FILES}


def _area_folder(r: AreaResult, reached: pd.DataFrame, sites: pd.DataFrame, folder: Path) -> None:
    if set(r.files) == set(AREA_FILES):  # rendered on a worker
        folder.mkdir(parents=True, exist_ok=True)
        for name in AREA_FILES:
            with atomic_write(folder / name, "wb") as fh:
                fh.write(r.files[name])
    else:
        write_area_files(r, folder)
    fac = r.facilities.merge(reached, on="fid", how="left") if len(r.facilities) else r.facilities
    _write_csv(fac, folder / "facilities.csv")
    _write_csv(sites[sites["area"] == r.area] if len(sites) else sites, folder / "sites.csv")


def reached_by_facility(results: Sequence[AreaResult]) -> pd.DataFrame:
    """Residents each facility reaches first, summed over every area it serves (across borders)."""
    frames = [r.reached for r in results if len(r.reached)]
    if not frames:
        return pd.DataFrame(columns=["fid", "reached_pop", "reached_elderly"])
    return pd.concat(frames).groupby("fid", sort=True)[["reached_pop", "reached_elderly"]].sum().round(1).reset_index()


def write_outputs(out: Path, results: Sequence[AreaResult], geoms: Mapping[str, Any], summary: dict,
                  sites: pd.DataFrame, folder_names: Mapping[str, str],
                  inputs: Mapping[Path, Path] | None = None) -> dict[str, Path]:
    """Write every region output into a staging folder, then move it into ``out``.

    ``inputs`` (resolved path → given path, :func:`carecover.outputs.outfolder.input_files`) are
    never replaced or removed (exit 2 naming both paths).

    Returns
    -------
    dict
        Relative name → final path of every file written.
    """
    out = Path(out)
    staging = out.parent / f".{out.name}.region-staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        table = area_table(results, SummaryFile.of(summary).speed_mps)
        region = region_rows(table)
        reached = reached_by_facility(results)
        _write_csv(table, staging / "areas.csv")
        _write_csv(region, staging / "region.csv")
        _write_csv(sites, staging / "sites.csv")
        gaps = [r.gaps.assign(area=r.area) for r in results if r.gaps is not None]
        gap_table = pd.DataFrame(pd.concat(gaps, ignore_index=True).drop(columns="geometry")) if gaps else \
            pd.DataFrame(columns=["area", "tier", "gap_id"])
        summary = {**summary, "region_figures": region.to_dict("records"), "areas_table": table.to_dict("records")}
        with atomic_write(staging / "region_summary.json", "w", encoding="utf-8") as fh:
            json.dump(json_ready(summary), fh, ensure_ascii=False, indent=1, sort_keys=True)
        _choropleth(results, geoms, table, staging / "region_map.html", summary["title"])
        _report(summary, table, region, sites, staging / "region_report.html")
        write_workbook({"areas": table, "region": region, "sites": sites, "gaps": gap_table}, staging / "region.xlsx",
                       lang="zh")
        for r in results:
            _area_folder(r, reached, sites, staging / "areas" / folder_names[r.area])
        files = [str(p.relative_to(staging)) for p in sorted(staging.rglob("*")) if p.is_file()]
        outfolder.write_manifest(staging, [*files, outfolder.MANIFEST])
        outfolder.refuse_inputs([out / f for f in files], dict(inputs or {}))
        # the plan's move: no link followed, no input replaced or removed, the previous run's
        # files (area folders of areas no longer in the file) removed when still as written
        return move_into_place(staging, out, dict(inputs or {}))
    finally:
        shutil.rmtree(staging, ignore_errors=True)

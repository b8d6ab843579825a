"""Elderly population choropleth: demand summed into display cells, five quantile classes."""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep, total_bounds
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.popups import esc
from carecover.outputs.maps.style import CHORO_COLORS, CHORO_OPACITY
from carecover.outputs.maps.zones import LocalXY


def aggregate_population(demand: gpd.GeoDataFrame, max_cells: int, polys: gpd.GeoSeries | None = None,
                         xy: LocalXY | None = None) -> tuple[gpd.GeoDataFrame, float | None]:
    """Elderly/pop per display cell, at most ``max_cells`` non-empty cells.

    Uses the demand's own cell polygons when there are few enough; otherwise sums demand
    points into square cells (in the local UTM CRS) whose size doubles until they fit. The
    aggregation depends only on the population, never on coverage.

    Parameters
    ----------
    demand
        Demand points (``elderly``, ``pop``, optionally ``area_m2``).
    max_cells
        Most cells.
    polys
        The polygons the demand points stand for, aligned with ``demand``, or ``None``.
    xy
        The demand's local coordinates (:class:`~carecover.outputs.maps.zones.LocalXY`), when
        already computed.

    Returns
    -------
    GeoDataFrame, float or None
        The cells (EPSG:4326, ``elderly``, ``pop``) and their size in metres when the points
        were summed into squares (``None`` otherwise).
    """
    d = demand[demand.geometry.notna() & ~demand.geometry.is_empty]
    cols = ["elderly", "pop"]
    if polys is not None and len(d) <= max_cells and len(polys) == len(demand):
        out = gpd.GeoDataFrame(demand[cols].copy(), geometry=gpd.GeoSeries(polys).values,
                               crs=getattr(polys, "crs", None) or 4326)
        return out.to_crs(4326).loc[d.index], None
    if len(d) == 0:
        return gpd.GeoDataFrame({"elderly": [], "pop": []}, geometry=[], crs=4326), None
    xy = xy if xy is not None else LocalXY.of(demand)
    utm, x, y = xy.utm, xy.x[xy.ok], xy.y[xy.ok]
    med = float(np.median(d["area_m2"])) if "area_m2" in d and d["area_m2"].notna().any() else 0.0
    size = max(100.0, math.sqrt(med) if med > 0 else 100.0)
    while True:
        ix, iy = np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
        if len(np.unique(((ix - ix.min()) << 32) + (iy - iy.min()))) <= max_cells:
            break
        size *= 2
    g = pd.DataFrame({"ix": ix, "iy": iy, "elderly": d["elderly"].to_numpy(float),
                      "pop": d["pop"].to_numpy(float)}).groupby(["ix", "iy"], sort=True).sum()
    g = g.reset_index()
    boxes = shapely.box(g["ix"] * size, g["iy"] * size, (g["ix"] + 1) * size, (g["iy"] + 1) * size)
    return gpd.GeoDataFrame(g[cols], geometry=boxes, crs=utm).to_crs(4326), size


def class_breaks(values: np.ndarray, k: int = 5) -> list[float]:
    """Up to ``k`` class upper bounds: quantiles, rounded to 2 significant figures, unique.

    Parameters
    ----------
    values
        Values per cell (only finite positive ones count).
    k
        Most classes.

    Returns
    -------
    list of float
        Ascending upper bounds, the last one at least the largest value (``[0.0]`` when
        nothing is positive).
    """
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) == 0:
        return [0.0]
    qs = np.quantile(v, np.linspace(0, 1, k + 1)[1:])
    out: list[float] = []
    for q in qs:
        r = float(f"{q:.2g}") if q > 0 else 0.0
        if not out or r > out[-1]:
            out.append(r)
    out[-1] = max(out[-1], float(v.max()))
    return out


def add_population(m: folium.Map, ctx: MapContext, max_cells: int) -> list[float]:
    """Draw the elderly population per cell.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context (a note when cells were summed into squares).
    max_cells
        Most cells drawn (:func:`aggregate_population`).

    Returns
    -------
    list of float
        The class upper bounds, for the legend (empty when nobody is elderly).
    """
    lang = ctx.lang
    cells, cell_size = aggregate_population(ctx.bundle.demand, max_cells, ctx.bundle.cell_polygons,
                                            ctx.local_xy())
    cells = cells[cells["elderly"] > 0]
    if not len(cells):
        return []
    breaks = class_breaks(cells["elderly"].to_numpy(float))
    cls = np.searchsorted(np.array(breaks), cells["elderly"].to_numpy(float), side="left")
    cls = np.minimum(cls, len(breaks) - 1)
    geoms = prep(cells.geometry.values, ctx.fn)
    props = [{"elderly": round(float(e), 1), "pop": round(float(p), 1), "c": CHORO_COLORS[int(c)]}
             for e, p, c in zip(cells["elderly"], cells["pop"], cls, strict=True)]
    name = ctx.names["population"]
    fg = folium.FeatureGroup(name=name, show=True)
    GeoLayer(feature_collection_json(geoms, props),
             style={"fillOpacity": CHORO_OPACITY, "weight": 0, "stroke": False}, style_props={"fillColor": "c"},
             tooltip=["elderly", "pop"],
             aliases=[tr("老年人口", "Elderly", lang), tr("总人口", "Population", lang)]).add_to(fg)
    fg.add_to(m)
    if cell_size is not None:
        ctx.notes.append(tr(f"人口格网已汇总为 {cell_size:.0f} 米方格",
                            f"population summed into {cell_size:.0f} m cells", lang))
    ctx.bounds.append(total_bounds(geoms))
    ctx.legend.append((name, population_legend(breaks, ctx.lang, cell_size)))
    return breaks


def population_legend(breaks: list[float], lang: str, cell_size: float | None) -> str:
    """Legend entry of the population layer: the sequential ramp with each class's range.

    Parameters
    ----------
    breaks
        Class upper bounds (:func:`class_breaks`).
    lang
        ``"zh"`` or ``"en"``.
    cell_size
        Size (m) of the square cells the population was summed into, or ``None``.

    Returns
    -------
    str
        HTML.
    """
    lo, cells = 0.0, []
    for c, hi in zip(CHORO_COLORS, breaks, strict=False):
        text_color = "#fff" if c in CHORO_COLORS[3:] else "#222"
        cells.append(f"<span style='background:{c};color:{text_color}' title='{_people(lo)}–{_people(hi)}'>"
                     f"{_people(hi)}</span>")
        lo = hi
    per = (tr(f"每 {cell_size:.0f} 米方格老年人口", f"Elderly per {cell_size:.0f} m cell", lang)
           if cell_size is not None else tr("每格老年人口", "Elderly per cell", lang))
    return (f"<div class='cc-lg-row'><span class='cc-sw' style='background:{CHORO_COLORS[2]}'></span>"
            f"<span>{esc(per + tr('（各级上限）', ' (class upper limits)', lang))}</span></div><div class='cc-ramp'>{''.join(cells)}</div>")


def _people(x: float) -> str:
    """A class bound as people: whole numbers from 100 on, never scientific notation."""
    return f"{x:,.0f}" if x >= 100 else f"{x:.3g}"

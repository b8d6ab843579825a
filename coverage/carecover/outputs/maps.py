"""Interactive coverage map (folium/Leaflet) in one HTML file.

Layers: base maps, administrative boundaries, the elderly population as a choropleth,
isochrone bands per tier, facilities per tier, uncovered gap zones numbered by rank and
suggested new sites numbered by rank with their marginal gain; a legend, a layer control, a
scale bar and a title block with the parameters.

Coordinates. All bundle layers are WGS-84. Gaode/Amap tiles are drawn in GCJ-02, shifted by
several hundred metres from WGS-84 inside China. Leaflet cannot switch the coordinates of the
overlays when the user switches base layer, so a map is built for one family of base maps:
``basemap="osm"``/``"light"`` (OpenStreetMap and CartoDB Positron, overlays in WGS-84) or
``basemap="gaode"`` (Gaode tiles only, every overlay converted WGS-84 -> GCJ-02 with
:mod:`carecover.crs`). The pipeline writes the Gaode variant as a separate file.

Determinism. folium/branca give every element a random id; :func:`build_map` replaces the id
generator with a counter while it builds, so equal bundles give byte-identical HTML (the only
date in it is ``summary["generated_at"]``, shown in the title block).
"""

from __future__ import annotations

import base64
import contextlib
import html
import itertools
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import branca.element
import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.errors import InputError
from carecover.outputs.bundle import USED_STATUSES, PlanBundle, sites_frame, tier_name, tr
from carecover.tiers import TIERS
from carecover.utils import atomic_write

ASSETS = Path(__file__).resolve().parent / "assets"

#: Most demand points drawn in a "inside the circle but not reachable" layer.
MAX_CIRCLE_POINTS = 5000
#: Isochrone display: holes smaller than this (m²) are filled — in a street grid every block
#: interior is a hole of the street-following polygon; their residents reach the streets around
#: them. The exact polygons are in ``isochrones.geojson``/``carecover.gpkg``.
ISO_MIN_HOLE_M2 = 10_000.0
#: Isochrone display: most vertices over all isochrone layers; the simplification tolerance
#: (from ``ISO_SIMPLIFY_DEG``, about 4 m) doubles until they fit, so a city-scale map stays small.
ISO_MAX_VERTICES = 200_000
#: Gap zones: most vertices per layer (same doubling rule, holes under 1 ha filled).
GAP_MAX_VERTICES = 30_000
ISO_SIMPLIFY_DEG = 5e-5

GAODE_URL = ("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8"
             "&x={x}&y={y}&z={z}")
GAODE_ATTR = "高德地图 &copy; AutoNavi"
POSITRON_URL = "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png"
POSITRON_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
                 'contributors &copy; <a href="https://carto.com/attributions">CARTO</a>')
OSM_ATTR = ('&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> '
            'contributors')

#: One colour per tier (colour-blind-friendly qualitative palette, Okabe-Ito + extras).
TIER_COLORS: dict[str, str] = {
    "city_centre": "#000000",
    "county_institution": "#7f3b08",
    "district_centre": "#CC79A7",
    "street_centre": "#D55E00",
    "township_centre": "#0072B2",
    "community_centre": "#009E73",
    "village_station": "#56B4E9",
    "happiness_home": "#E69F00",
    "meal_point": "#8E44AD",
}
UNKNOWN_COLOR = "#777777"
#: Marker radius (px) by tier level: bigger for higher tiers.
LEVEL_RADIUS = {1: 9, 2: 7, 3: 5, 4: 4}
#: Elderly-per-cell choropleth (YlOrRd, 5 classes).
CHORO_COLORS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
GAP_COLOR = "#c0392b"
SITE_COLOR = "#1a5fb4"
#: Most gap labels drawn; all gap zones are drawn, and the legend states the cut.
MAX_GAP_LABELS = 200


# ---------------------------------------------------------------------------------------
# Layer names: tests and users find layers by these exact strings.
# ---------------------------------------------------------------------------------------

def layer_names(bundle: PlanBundle) -> dict[str, str]:
    """Names of the overlay layers a map of ``bundle`` shows in its layer control.

    Keys: ``boundaries``, ``population``, ``gaps``, ``sites_<method>``, ``unused``,
    ``facilities__<tier>``, ``isochrones__<tier>``.
    """
    lang = bundle.lang
    names = {
        "boundaries": tr("行政区划", "Boundaries", lang),
        "population": tr("老年人口分布", "Elderly population", lang),
        "gaps": tr("未覆盖区域", "Uncovered gaps", lang),
        "unused": tr("未纳入计算的设施", "Facilities not used", lang),
    }
    for method in ("greedy", "exact"):
        zh = {"greedy": "贪心", "exact": "精确"}[method]
        names[f"sites_{method}"] = tr(f"建议新增站点（{zh}）", f"Suggested sites ({method})", lang)
    if bundle.gaps is not None and "tier" in bundle.gaps:
        for key in sorted(bundle.gaps["tier"].dropna().unique(), key=_tier_order):
            names[f"gaps__{key}"] = names["gaps"] + " · " + tier_name(key, lang, both=False)
    for key in _tiers_in(bundle):
        if f"circle_not_reached__{key}" in bundle.demand:
            names[f"circle__{key}"] = tr("直线圆内但路网不可达", "Inside straight-line circle, not reachable",
                                         lang) + " · " + tier_name(key, lang, both=False)
        names[f"facilities__{key}"] = tier_name(key, lang)
        names[f"isochrones__{key}"] = tr("等时圈", "Isochrones", lang) + " · " + tier_name(key, lang, both=False)
    return names


def _tiers_in(bundle: PlanBundle) -> list[str]:
    keys = set(bundle.tiers_present())
    if len(bundle.isochrones):
        keys |= set(bundle.isochrones["tier"].dropna().astype(str))
    order = list(TIERS)
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


# ---------------------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------------------

@contextlib.contextmanager
def deterministic_ids(seed: int = 0) -> Iterator[None]:
    """Make branca/folium element ids a counter instead of random hex while inside."""
    counter = itertools.count(seed)
    original = branca.element.Element.__dict__["_generate_id"]
    branca.element.Element._generate_id = classmethod(lambda cls: f"{next(counter):08x}")
    try:
        yield
    finally:
        branca.element.Element._generate_id = original


# ---------------------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------------------

def _display_transform(basemap: str):
    """``func(lon, lat) -> (lon, lat)`` into the basemap's coordinates (None: WGS-84 as is)."""
    if basemap != "gaode":
        return None
    from carecover.crs import wgs84_to_gcj02  # identity outside China, as Gaode's own offset is

    return wgs84_to_gcj02


def _prep(geoms: Any, fn, *, simplify_deg: float = 0.0) -> np.ndarray:
    """Shapely geometries -> simplified, basemap-transformed, rounded to 1e-6 degrees."""
    arr = np.asarray(gpd.GeoSeries(geoms).values, dtype=object)
    if simplify_deg:
        arr = shapely.simplify(arr, simplify_deg, preserve_topology=True)
    if fn is not None:
        from carecover.crs import transform_geometry

        arr = transform_geometry(arr, fn)
    # round to 6 decimals (~0.1 m): smaller files, and identical text for identical inputs
    return shapely.transform(arr, lambda xy: np.round(xy, 6))


def _fill_small_holes(geoms: np.ndarray, min_area_m2: float) -> np.ndarray:
    """Polygons (WGS-84) without interior rings smaller than ``min_area_m2`` (vectorised)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    poly = shapely.get_type_id(parts) == 3
    solid = ~shapely.is_empty(parts)  # an empty part has no rings: it would shift the indices
    parts, pidx = parts[solid], pidx[solid]
    if not poly.all() or len(parts) == 0:
        return out  # only plain (multi)polygons are handled; anything else is drawn as it is
    rings, ridx = shapely.get_rings(parts, return_index=True)
    first = np.r_[True, ridx[1:] != ridx[:-1]]  # the exterior comes first
    lat = shapely.get_y(shapely.centroid(rings))
    area = shapely.area(shapely.polygons(rings)) * 111_320.0 ** 2 * np.cos(np.radians(lat))
    keep = first | (area >= min_area_m2)
    polys = shapely.polygons(rings[keep], indices=ridx[keep])
    res = shapely.multipolygons(polys, indices=pidx)
    has = np.unique(pidx)
    out[has] = res[has]
    return out


def _iso_display(geoms_by_layer: list[np.ndarray],
                 max_vertices: int = ISO_MAX_VERTICES) -> tuple[list[np.ndarray], float]:
    """Polygons for display: small holes filled, then simplified with the smallest tolerance
    (``ISO_SIMPLIFY_DEG`` × 2^k) that keeps all layers within ``max_vertices``."""
    filled = [_fill_small_holes(g, ISO_MIN_HOLE_M2) for g in geoms_by_layer]
    tol = ISO_SIMPLIFY_DEG
    while True:
        out = [shapely.simplify(g, tol, preserve_topology=True) for g in filled]
        n = sum(int(shapely.get_num_coordinates(g).sum()) for g in out)
        if n <= max_vertices or tol > 0.01:
            return out, tol
        tol *= 2


def _total_bounds(geoms: np.ndarray) -> np.ndarray:
    """``[minx, miny, maxx, maxy]`` of all geometries: the bounds of their union, without
    computing the union (costly for city-scale isochrones)."""
    b = shapely.bounds(np.asarray(geoms, dtype=object))
    b = b[np.isfinite(b).all(axis=1)]
    if not len(b):
        return np.full(4, np.nan)
    return np.array([b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()])


def _feature_collection(geoms: np.ndarray, props: list[dict]) -> dict:
    feats = []
    for g, p in zip(geoms, props, strict=True):
        if g is None or g.is_empty:
            continue
        feats.append({"type": "Feature", "properties": p, "geometry": shapely.geometry.mapping(g)})
    return {"type": "FeatureCollection", "features": feats}


def _point_xy(geom, fn) -> tuple[float, float]:
    """(lat, lon) of a point geometry in the basemap's coordinates, rounded to 1e-6 degrees."""
    x, y = geom.x, geom.y
    if fn is not None:
        x, y = fn(x, y)
    return round(float(y), 6), round(float(x), 6)


def _fmt(x: Any, digits: int = 0) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    try:
        return f"{float(x):,.{digits}f}"
    except (TypeError, ValueError):
        return html.escape(str(x))


def _aggregate_population(demand: gpd.GeoDataFrame, max_cells: int,
                          polys: gpd.GeoSeries | None = None) -> tuple[gpd.GeoDataFrame, float | None]:
    """Elderly/pop per display cell, at most ``max_cells`` non-empty cells.

    Uses the demand's own cell polygons when there are few enough; otherwise sums demand
    points into square cells (in the local UTM CRS) whose size doubles until they fit. The
    aggregation depends only on the population, never on coverage. Returns the cells and
    their size in metres when the points were summed into squares (``None`` otherwise).
    """
    d = demand[demand.geometry.notna() & ~demand.geometry.is_empty]
    cols = ["elderly", "pop"]
    if polys is not None and len(d) <= max_cells and len(polys) == len(demand):
        out = gpd.GeoDataFrame(demand[cols].copy(), geometry=gpd.GeoSeries(polys).values,
                               crs=getattr(polys, "crs", None) or 4326)
        return out.to_crs(4326).loc[d.index], None
    if len(d) == 0:
        return gpd.GeoDataFrame({"elderly": [], "pop": []}, geometry=[], crs=4326), None
    utm = d.estimate_utm_crs()
    p = d.to_crs(utm)
    x, y = p.geometry.x.to_numpy(), p.geometry.y.to_numpy()
    med = float(np.median(p["area_m2"])) if "area_m2" in p and p["area_m2"].notna().any() else 0.0
    size = max(100.0, math.sqrt(med) if med > 0 else 100.0)
    while True:
        ix, iy = np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
        keys = pd.MultiIndex.from_arrays([ix, iy])
        if keys.nunique() <= max_cells:
            break
        size *= 2
    g = pd.DataFrame({"ix": ix, "iy": iy, "elderly": p["elderly"].to_numpy(float),
                      "pop": p["pop"].to_numpy(float)}).groupby(["ix", "iy"], sort=True).sum()
    g = g.reset_index()
    boxes = shapely.box(g["ix"] * size, g["iy"] * size, (g["ix"] + 1) * size, (g["iy"] + 1) * size)
    return gpd.GeoDataFrame(g[cols], geometry=boxes, crs=utm).to_crs(4326), size


def _breaks(values: np.ndarray, k: int = 5) -> list[float]:
    """Up to ``k`` class upper bounds (quantiles, rounded to 2 significant figures, unique)."""
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


# ---------------------------------------------------------------------------------------
# HTML blocks
# ---------------------------------------------------------------------------------------

class _HtmlBlock(branca.element.MacroElement):
    """Fixed-position HTML (title block, legend) added to the map's page."""

    _template = branca.element.Template(
        "{% macro html(this, kwargs) %}{{ this.content }}{% endmacro %}")

    def __init__(self, content: str, name: str) -> None:
        super().__init__()
        self._name = name
        self.content = content


_BOX_CSS = ("position:fixed;z-index:9999;background:rgba(255,255,255,0.92);padding:8px 10px;"
            "border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;max-width:340px;")


def _title_block(bundle: PlanBundle, basemap: str, notes: list[str]) -> str:
    lang, s = bundle.lang, bundle.summary
    params = s.get("parameters", {}) or {}
    rows: list[tuple[str, str]] = []
    speed = params.get("speed_mps", params.get("walk_speed_mps"))
    if speed is not None:
        rows.append((tr("步行速度", "Walking speed", lang), f"{speed} m/s"))
    sens = params.get("sensitivity_speeds_mps")
    if sens:
        rows.append((tr("敏感性", "Sensitivity", lang), ", ".join(f"{v} m/s" for v in sens)))
    thresholds = []
    tier_params = params.get("tiers", {}) or {}
    for key in _tiers_in(bundle):
        tp = tier_params.get(key, {}) if isinstance(tier_params, dict) else {}
        t = TIERS.get(key)
        thr = tp.get("threshold_min", t.threshold_min if t else None)
        mode = tp.get("mode", t.mode if t else "")
        mode_txt = {"walk": tr("步行", "walk", lang), "drive": tr("车行", "drive", lang)}.get(mode, mode)
        thresholds.append(f"{tier_name(key, lang, both=False)}: {thr} min {mode_txt}")
    if thresholds:
        rows.append((tr("阈值", "Thresholds", lang), "<br>".join(html.escape(t) for t in thresholds)))
    srcs = []
    for inp in s.get("inputs", []) or []:
        if not isinstance(inp, dict):
            continue
        name = Path(str(inp.get("path", ""))).name
        date = inp.get("osm_replication_timestamp") or inp.get("date") or ""
        srcs.append(html.escape(f"{name} {date}".strip()))
    if srcs:
        rows.append((tr("数据来源", "Data", lang), "<br>".join(srcs)))
    base = {"osm": "OpenStreetMap (WGS-84)", "light": "CartoDB Positron (WGS-84)",
            "gaode": tr("高德地图（GCJ-02，图层已由WGS-84转换）",
                        "Gaode/Amap (GCJ-02; overlays converted from WGS-84)", lang)}[basemap]
    rows.append((tr("底图", "Basemap", lang), html.escape(base)))
    if s.get("generated_at"):
        rows.append((tr("生成时间", "Generated", lang), html.escape(str(s["generated_at"]))))
    body = "".join(f"<tr><td style='padding-right:6px;color:#555;vertical-align:top'>{html.escape(k)}</td>"
                   f"<td>{v}</td></tr>" for k, v in rows)
    note_html = "".join(f"<div style='color:#555;margin-top:3px'>{html.escape(n)}</div>" for n in notes)
    return (f"<div id='cc-title' style='{_BOX_CSS}top:10px;left:50px;'>"
            f"<div style='font-weight:bold;font-size:14px;margin-bottom:4px'>{html.escape(bundle.display_title())}</div>"
            f"<table>{body}</table>{note_html}</div>")


def _legend(bundle: PlanBundle, tiers: list[str], breaks: list[float], bands: list[float],
            gap_note: str) -> str:
    lang = bundle.lang
    parts = [f"<div style='font-weight:bold'>{html.escape(tr('图例', 'Legend', lang))}</div>"]
    for key in tiers:
        c = TIER_COLORS.get(key, UNKNOWN_COLOR)
        parts.append(f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
                     f"background:{c};border:1px solid #333;margin-right:5px'></span>"
                     f"{html.escape(tier_name(key, lang))}</div>")
    if bands:
        cells = "".join(f"<span style='display:inline-block;padding:0 4px;margin-right:2px;"
                        f"background:rgba(213,94,0,{op:.2f})'>{b:g}</span>"
                        for b, op in zip(bands, _band_opacity(bands), strict=True))
        parts.append(f"<div style='margin-top:4px'>{html.escape(tr('等时圈（分钟）', 'Isochrones (min)', lang))}: {cells}</div>")
    if breaks:
        lo = 0.0
        cells = []
        for c, hi in zip(CHORO_COLORS, breaks, strict=False):
            cells.append(f"<div><span style='display:inline-block;width:14px;height:10px;background:{c};"
                         f"margin-right:5px'></span>{lo:,.4g}–{hi:,.4g}</div>")
            lo = hi
        parts.append(f"<div style='margin-top:4px'>{html.escape(tr('每格老年人口', 'Elderly per cell', lang))}</div>"
                     + "".join(cells))
    parts.append(f"<div style='margin-top:4px'><span style='color:{GAP_COLOR};font-weight:bold'>①</span> "
                 f"{html.escape(tr('未覆盖区域（按老年人口排序）', 'Uncovered gap (rank by elderly)', lang))}</div>")
    if gap_note:
        parts.append(f"<div style='color:#555'>{html.escape(gap_note)}</div>")
    parts.append(f"<div><span style='color:{SITE_COLOR};font-weight:bold'>★</span> "
                 f"{html.escape(tr('建议新增站点（按序号，含新增覆盖老年人口）', 'Suggested site (rank, elderly gained)', lang))}</div>")
    return f"<div id='cc-legend' style='{_BOX_CSS}bottom:30px;left:10px;'>" + "".join(parts) + "</div>"


def _band_opacity(bands: list[float]) -> list[float]:
    """Fill opacity per band: the nearest band darkest (bands are drawn on top of each other)."""
    n = len(bands)
    return [round(0.35 - 0.2 * i / max(n - 1, 1), 2) for i in range(n)]


# ---------------------------------------------------------------------------------------
# The map
# ---------------------------------------------------------------------------------------

def build_map(bundle: PlanBundle, path: str | Path, *, basemap: str = "osm",
              inline_assets: bool = False, max_cells: int = 20000) -> Path:
    """Write the coverage map of ``bundle`` to ``path`` (one self-contained HTML file).

    Parameters
    ----------
    bundle
        Results to draw.
    path
        Output HTML file (written atomically).
    basemap
        ``"osm"`` (OpenStreetMap first, Positron as alternative), ``"light"`` (Positron first,
        OpenStreetMap as alternative) or ``"gaode"`` (Gaode tiles only; all overlays converted
        to GCJ-02, see the module docstring).
    inline_assets
        Embed Leaflet and jQuery from ``coverage/assets`` instead of linking CDNs, so the map
        (all but the background tiles) works offline.
    max_cells
        Most population cells drawn; finer data is summed into coarser square cells.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if basemap not in ("osm", "light", "gaode"):
        raise InputError(f"unknown basemap {basemap!r}", field="basemap", expected="osm, light or gaode")
    path = Path(path)
    with deterministic_ids():
        m = _make_map(bundle, basemap, inline_assets, max_cells)
        text = m.get_root().render()
    if inline_assets:
        text = _check_offline(text)
    with atomic_write(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    return path


def _make_map(bundle: PlanBundle, basemap: str, inline_assets: bool, max_cells: int) -> folium.Map:
    lang = bundle.lang
    fn = _display_transform(basemap)
    names = layer_names(bundle)
    tiers = _tiers_in(bundle)
    notes: list[str] = []

    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=True, prefer_canvas=False)
    if inline_assets:
        m.default_js, m.default_css = [], []
        _inline_into(m)
    osm = dict(tiles="OpenStreetMap", name="OpenStreetMap", attr=OSM_ATTR)
    light = dict(tiles=POSITRON_URL, attr=POSITRON_ATTR, subdomains="abcd", max_zoom=20,
                 name=tr("浅色底图", "Light (CartoDB Positron)", lang))
    if basemap == "gaode":
        folium.TileLayer(tiles=GAODE_URL, attr=GAODE_ATTR, name=tr("高德地图", "Gaode/Amap", lang),
                         subdomains="1234", max_zoom=18).add_to(m)
    else:
        for i, spec in enumerate([osm, light] if basemap == "osm" else [light, osm]):
            folium.TileLayer(**spec, show=i == 0).add_to(m)  # the first one is shown

    bounds: list[np.ndarray] = []

    # boundaries
    b = bundle.boundaries
    if b is not None and len(b):
        b = b[b.geometry.notna()].sort_values(["level", "name"], kind="stable") if "level" in b else b
        geoms = _prep(b.geometry.values, fn, simplify_deg=1e-5)
        props = [{"name": str(r.get("name", "")), "level": str(r.get("level", ""))} for _, r in b.iterrows()]
        fg = folium.FeatureGroup(name=names["boundaries"], show=True)
        folium.GeoJson(_feature_collection(geoms, props), name=names["boundaries"],
                       style_function=lambda f: {"color": "#444" if f["properties"]["level"] != "county" else "#888",
                                                 "weight": 2 if f["properties"]["level"] != "county" else 1,
                                                 "dashArray": "6 4", "fill": False},
                       tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False)).add_to(fg)
        fg.add_to(m)
        bounds.append(_total_bounds(geoms))

    # population choropleth
    breaks: list[float] = []
    cells, cell_size = _aggregate_population(bundle.demand, max_cells, bundle.cell_polygons)
    cells = cells[cells["elderly"] > 0]
    if len(cells):
        breaks = _breaks(cells["elderly"].to_numpy(float))
        cls = np.searchsorted(np.array(breaks), cells["elderly"].to_numpy(float), side="left")
        cls = np.minimum(cls, len(breaks) - 1)
        geoms = _prep(cells.geometry.values, fn)
        props = [{"elderly": round(float(e), 1), "pop": round(float(p), 1), "c": CHORO_COLORS[int(c)]}
                 for e, p, c in zip(cells["elderly"], cells["pop"], cls, strict=True)]
        fg = folium.FeatureGroup(name=names["population"], show=True)
        folium.GeoJson(_feature_collection(geoms, props), name=names["population"],
                       style_function=lambda f: {"fillColor": f["properties"]["c"], "fillOpacity": 0.55,
                                                 "weight": 0, "stroke": False},
                       tooltip=folium.GeoJsonTooltip(
                           fields=["elderly", "pop"],
                           aliases=[tr("老年人口", "Elderly", lang), tr("总人口", "Population", lang)])).add_to(fg)
        fg.add_to(m)
        if cell_size is not None:
            notes.append(tr(f"人口格网已汇总为 {cell_size:.0f} 米方格",
                            f"population summed into {cell_size:.0f} m cells", lang))
        bounds.append(_total_bounds(geoms))

    # isochrones: per-tier unions (fid == ""), else dissolved per tier and band
    iso = bundle.isochrones
    bands_all: list[float] = sorted({float(v) for v in iso["band_min"].dropna()}) if len(iso) else []
    iso_tiers = [k for k in tiers if len(iso) and (iso["tier"] == k).any()]
    iso_focus = _focus_tier(bundle, iso_tiers)  # others start hidden: overlapping tiers are unreadable
    iso_layers = {}
    for key in tiers:
        sub = iso[iso["tier"] == key] if len(iso) else iso
        if not len(sub):
            continue
        fids = sub["fid"].fillna("").astype(str) if "fid" in sub else pd.Series("", index=sub.index)
        union = sub[fids == ""]
        if not len(union):
            union = sub.dissolve(by="band_min", as_index=False)
        iso_layers[key] = union.sort_values("band_min", ascending=False, kind="stable")  # widest below
    shown, tol = _iso_display([u.geometry.values for u in iso_layers.values()])
    if tol > ISO_SIMPLIFY_DEG:
        notes.append(tr(f"等时圈已简化（容差约 {tol * 111_000:.0f} 米，小于 1 公顷的空洞已填充）",
                        f"isochrones simplified for display (about {tol * 111_000:.0f} m; holes under 1 ha filled)",
                        lang))
    for (key, union), display in zip(iso_layers.items(), shown, strict=True):
        bands = sorted({float(v) for v in union["band_min"]})
        ops = dict(zip(bands, _band_opacity(bands), strict=True))
        color = TIER_COLORS.get(key, UNKNOWN_COLOR)
        fg = folium.FeatureGroup(name=names[f"isochrones__{key}"], show=key == iso_focus)
        geoms = _prep(display, fn)
        props = [{"band": f"{float(bm):g}", "op": ops[float(bm)], "tier": tier_name(key, lang, both=False)}
                 for bm in union["band_min"]]
        if not _feature_collection(geoms, props)["features"]:
            continue  # nothing reached (e.g. every facility of the tier unsnapped): no layer
        folium.GeoJson(_feature_collection(geoms, props), name=names[f"isochrones__{key}"],
                       style_function=lambda f, c=color: {"color": c, "weight": 1, "opacity": 0.6,
                                                          "fillColor": c, "fillOpacity": f["properties"]["op"]},
                       tooltip=folium.GeoJsonTooltip(fields=["tier", "band"],
                                                     aliases=[tr("层级", "Tier", lang), tr("分钟", "Minutes", lang)])
                       ).add_to(fg)
        fg.add_to(m)
        bounds.append(_total_bounds(geoms))

    # facilities
    fac = bundle.facilities
    has_geom = fac.geometry.notna() & ~fac.geometry.is_empty
    used = fac["status"].isin(USED_STATUSES) if "status" in fac else pd.Series(True, index=fac.index)
    n_missing = int((~has_geom).sum())
    if n_missing:
        notes.append(tr(f"{n_missing} 个设施无坐标，未绘制（见 facilities.csv）",
                        f"{n_missing} facilities without coordinates are not drawn (see facilities.csv)", lang))
    drawn = fac[has_geom].sort_values("fid", kind="stable") if "fid" in fac else fac[has_geom]
    groups: dict[str, folium.FeatureGroup] = {}
    for idx, r in drawn.iterrows():
        key = r.get("tier")
        ok = bool(used.loc[idx]) and key in tiers
        gname = f"facilities__{key}" if ok else "unused"
        if gname not in groups:
            groups[gname] = folium.FeatureGroup(name=names[gname], show=True)
        level = TIERS[key].level if key in TIERS else 3
        color = TIER_COLORS.get(key, UNKNOWN_COLOR) if ok else UNKNOWN_COLOR
        lat, lon = _point_xy(r.geometry, fn)
        folium.CircleMarker(
            location=[lat, lon], radius=LEVEL_RADIUS.get(level, 5), color="#222" if ok else "#777",
            weight=1, fill=True, fill_color=color, fill_opacity=0.9 if ok else 0.4,
            class_name=f"cc-facility cc-tier-{key if ok else 'unused'}",
            tooltip=html.escape(str(r.get("name", "") or r.get("fid", ""))),
            popup=folium.Popup(_facility_popup(r, lang, ok), max_width=320),
        ).add_to(groups[gname])
        bounds.append(np.array([lon, lat, lon, lat]))
    order = [f"facilities__{k}" for k in tiers] + ["unused"]
    for g in order:
        if g in groups:
            groups[g].add_to(m)

    # straight-line circles that promise what the network does not deliver (hidden at start)
    for key in tiers:
        col = f"circle_not_reached__{key}"
        if col not in bundle.demand or not bundle.demand[col].any():
            continue
        pts = bundle.demand[bundle.demand[col].astype(bool)]
        pts = pts.sort_values("elderly", ascending=False, kind="stable").head(MAX_CIRCLE_POINTS)
        geoms = _prep(pts.geometry.values, fn)
        props = [{"e": round(float(e), 1)} for e in pts["elderly"].fillna(0)]
        fg = folium.FeatureGroup(name=names[f"circle__{key}"], show=False)
        folium.GeoJson(_feature_collection(geoms, props),
                       marker=folium.CircleMarker(radius=3, color="#6a3d9a", fill=True, fill_opacity=0.8,
                                                  weight=0),
                       tooltip=folium.GeoJsonTooltip(["e"], aliases=[tr("老年人口", "Elderly", lang)])
                       ).add_to(fg)
        fg.add_to(m)

    # gaps
    gap_note = ""
    gaps = bundle.gaps
    if gaps is not None and len(gaps):
        # one layer per tier (ranks restart per tier); only the first is shown at start
        hulls_all = bundle.gap_hulls
        if "tier" in gaps:
            tier_keys = sorted(gaps["tier"].dropna().unique(), key=_tier_order)
            focus = _focus_tier(bundle, tier_keys)
            parts = [(names[f"gaps__{k}"], (gaps["tier"] == k).to_numpy(), k == focus) for k in tier_keys]
        else:
            parts = [(names["gaps"], np.ones(len(gaps), bool), True)]
        for name, sel, show in parts:
            hulls = None
            if hulls_all is not None and len(hulls_all) == len(gaps):
                hulls = gpd.GeoSeries(hulls_all).iloc[np.flatnonzero(sel)]
            gap_note = _gap_layer(m, gaps[sel], hulls, name, show, fn, lang) or gap_note

    # suggested sites, one layer per method (exact shown, greedy hidden when both exist)
    sites = sites_frame(bundle.sites)
    if sites is not None and len(sites):
        methods = sorted(sites["method"].astype(str).unique()) if "method" in sites else ["greedy"]
        for method in methods:
            sub = sites[sites["method"].astype(str) == method] if "method" in sites else sites
            sub = sub.sort_values(["tier", "rank"], kind="stable")
            key = f"sites_{method}"
            name = names.get(key, tr(f"建议新增站点（{method}）", f"Suggested sites ({method})", lang))
            show = method == "exact" or "exact" not in methods
            fg = folium.FeatureGroup(name=name, show=show)
            for _, r in sub.iterrows():
                lat, lon = _point_xy(r.geometry, fn)
                rank = int(r["rank"])
                folium.Marker(
                    [lat, lon],
                    icon=folium.DivIcon(html=f"<div class='cc-site'>★{rank}</div>", icon_size=(30, 20),
                                        icon_anchor=(15, 10), class_name="cc-site-icon"),
                    tooltip=tr(f"建议站点 {rank}：新增老年人口 {_fmt(r.get('gain_elderly'))}",
                               f"Site {rank}: +{_fmt(r.get('gain_elderly'))} elderly", lang),
                    popup=folium.Popup(_site_popup(r, lang), max_width=300),
                ).add_to(fg)
                bounds.append(np.array([lon, lat, lon, lat]))
            fg.add_to(m)

    m.get_root().header.add_child(branca.element.Element(
        "<style>.cc-gap{background:#fff;border:2px solid " + GAP_COLOR + ";border-radius:50%;color:"
        + GAP_COLOR + ";font:bold 11px/18px sans-serif;text-align:center;width:18px;height:18px}"
        ".cc-site{background:" + SITE_COLOR + ";color:#fff;border-radius:4px;font:bold 11px/18px sans-serif;"
        "text-align:center;white-space:nowrap;padding:0 2px}"
        ".leaflet-control-layers-list{font:12px/1.4 sans-serif}</style>"), name="cc_style")
    _HtmlBlock(_title_block(bundle, basemap, notes), "title_block").add_to(m)
    _HtmlBlock(_legend(bundle, [t for t in tiers if f"facilities__{t}" in groups], breaks, bands_all,
                       gap_note), "legend").add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if bounds:
        bb = np.vstack(bounds)
        m.fit_bounds([[float(bb[:, 1].min()), float(bb[:, 0].min())],
                      [float(bb[:, 3].max()), float(bb[:, 2].max())]])
    return m


def _tier_order(key: str) -> int:
    keys = list(TIERS)
    return keys.index(key) if key in keys else len(keys)


def _focus_tier(bundle: PlanBundle, tier_keys: list[str]) -> str | None:
    """The tier whose gaps are shown first: one with suggested sites, else the first."""
    sites = sites_frame(bundle.sites)
    if sites is not None and len(sites) and "tier" in sites:
        for k in sorted(sites["tier"].astype(str).unique(), key=_tier_order):
            if k in tier_keys:
                return k
    return tier_keys[0] if tier_keys else None


def _gap_layer(m: folium.Map, gaps: gpd.GeoDataFrame, hulls: gpd.GeoSeries | None, name: str, show: bool,
               fn, lang: str) -> str:
    """Draw one layer of ranked gap zones; returns a legend note when labels were capped."""
    g = _ranked_gaps(gaps)
    fg = folium.FeatureGroup(name=name, show=show)
    if hulls is not None and len(hulls):
        hs = gpd.GeoSeries(hulls)
        hs = hs.set_crs(4326) if hs.crs is None else hs.to_crs(4326)
        (shown,), _ = _iso_display([hs.values], GAP_MAX_VERTICES)
        hull_geoms = _prep(shown, fn)
        folium.GeoJson(_feature_collection(hull_geoms, [{} for _ in hull_geoms]),
                       style_function=lambda f: {"color": GAP_COLOR, "weight": 1.5, "dashArray": "4 3",
                                                 "fillColor": GAP_COLOR, "fillOpacity": 0.08}).add_to(fg)
    for _, r in g.head(MAX_GAP_LABELS).iterrows():
        if r.geometry is None or r.geometry.is_empty:
            continue
        lat, lon = _point_xy(r.geometry.representative_point(), fn)
        rank = int(r["rank"])
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(html=f"<div class='cc-gap'>{rank}</div>", icon_size=(22, 22),
                                icon_anchor=(11, 11), class_name="cc-gap-icon"),
            tooltip=tr(f"缺口 {rank}", f"Gap {rank}", lang),
            popup=folium.Popup(_gap_popup(r, lang), max_width=300),
        ).add_to(fg)
    fg.add_to(m)
    if len(g) > MAX_GAP_LABELS:
        return tr(f"仅标注前 {MAX_GAP_LABELS} 个（共 {len(g)} 个）",
                  f"top {MAX_GAP_LABELS} of {len(g)} labelled", lang)
    return ""


def _ranked_gaps(gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Gaps with a ``rank`` column (given, else by elderly, population, id)."""
    g = gaps.copy()
    if "rank" not in g:
        g = g.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True], kind="stable")
        g["rank"] = np.arange(1, len(g) + 1)
    return g.sort_values("rank", kind="stable")


def _kv_table(rows: list[tuple[str, str]]) -> str:
    return "<table>" + "".join(
        f"<tr><td style='color:#555;padding-right:6px'>{html.escape(k)}</td><td>{v}</td></tr>"
        for k, v in rows) + "</table>"


def _facility_popup(r: pd.Series, lang: str, used: bool) -> str:
    rows = [(tr("名称", "Name", lang), html.escape(str(r.get("name", "") or ""))),
            (tr("层级", "Tier", lang), html.escape(tier_name(r.get("tier"), lang))),
            (tr("地址", "Address", lang), html.escape(str(r.get("address", "") or "")))]
    if "reached_elderly" in r and pd.notna(r.get("reached_elderly")):
        rows.append((tr("可达老年人口", "Elderly reached", lang), _fmt(r["reached_elderly"])))
    if "reached_pop" in r and pd.notna(r.get("reached_pop")):
        rows.append((tr("可达总人口", "Population reached", lang), _fmt(r["reached_pop"])))
    rows.append((tr("编号", "ID", lang), html.escape(str(r.get("fid", "")))))
    if not used:
        rows.append((tr("状态", "Status", lang),
                     html.escape(f"{r.get('status', '')}: {r.get('note', '') or ''}")))
    return _kv_table(rows)


def _gap_popup(r: pd.Series, lang: str) -> str:
    t = r.get("time_to_nearest_s")
    t_txt = _fmt(float(t) / 60, 1) + " min" if t is not None and pd.notna(t) and math.isfinite(float(t)) else "–"
    return _kv_table([(tr("排序", "Rank", lang), str(int(r["rank"]))),
                      (tr("编号", "ID", lang), html.escape(str(r.get("gap_id", "")))),
                      (tr("老年人口", "Elderly", lang), _fmt(r.get("elderly"))),
                      (tr("总人口", "Population", lang), _fmt(r.get("pop"))),
                      (tr("面积(公顷)", "Area (ha)", lang), _fmt(float(r.get("area_m2", 0) or 0) / 1e4, 1)),
                      (tr("旗县区", "County", lang), html.escape(str(r.get("county", "") or ""))),
                      (tr("到最近设施", "To nearest facility", lang), t_txt)])


def _site_popup(r: pd.Series, lang: str) -> str:
    return _kv_table([(tr("序号", "Rank", lang), str(int(r["rank"]))),
                      (tr("层级", "Tier", lang), html.escape(tier_name(r.get("tier"), lang))),
                      (tr("方法", "Method", lang), html.escape(str(r.get("method", "")))),
                      (tr("新增覆盖老年人口", "Elderly gained", lang), _fmt(r.get("gain_elderly"))),
                      (tr("新增覆盖总人口", "Population gained", lang), _fmt(r.get("gain_pop"))),
                      (tr("旗县区", "County", lang), html.escape(str(r.get("county", "") or ""))),
                      (tr("坐标(WGS-84)", "Lon/lat (WGS-84)", lang),
                       f"{float(r.get('lon', r.geometry.x)):.6f}, {float(r.get('lat', r.geometry.y)):.6f}")])


# ---------------------------------------------------------------------------------------
# Offline assets
# ---------------------------------------------------------------------------------------

def _inline_into(m: folium.Map) -> None:
    """Add Leaflet and jQuery inline to the page header (the map uses no other library)."""
    css = (ASSETS / "leaflet.css").read_text(encoding="utf-8")

    def data_uri(match: re.Match) -> str:
        png = (ASSETS / match.group(1)).read_bytes()
        return "url(data:image/png;base64," + base64.b64encode(png).decode() + ")"

    css = re.sub(r"url\(images/([\w-]+\.png)\)", data_uri, css)
    header = m.get_root().header
    header.add_child(branca.element.Element(f"<style>{css}</style>"), name="leaflet_css_inline")
    for name in ("leaflet.js", "jquery.min.js"):
        js = (ASSETS / name).read_text(encoding="utf-8").replace("</script", "<\\/script")
        header.add_child(branca.element.Element(f"<script>{js}</script>"), name=f"{name}_inline")


def _check_offline(text: str) -> str:
    """Refuse to write an "offline" map that still loads scripts or styles from the web."""
    remote = re.findall(r"<(?:script[^>]*\ssrc|link[^>]*\shref)=\"?(https?://[^\"\s>]+)", text)
    if remote:
        raise RuntimeError(f"inline_assets map still references {remote}")
    if "L.AwesomeMarkers" in text:
        raise RuntimeError("inline_assets map uses Leaflet.awesome-markers, which is not vendored")
    return text


def map_stats(path: str | Path) -> dict[str, Any]:
    """Small facts about a written map (size in bytes, number of facility markers)."""
    text = Path(path).read_text(encoding="utf-8")
    return {"bytes": len(text.encode("utf-8")), "facility_markers": text.count('"cc-facility cc-tier-')}

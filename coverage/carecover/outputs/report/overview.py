"""The report's static overview map of one tier (matplotlib, no basemap tiles): the study area's
streets and boundaries, the tier's coverage at its own threshold (the isochrone of that band),
its facilities, the uncovered gaps (outlined, the three largest labelled) and the suggested
sites (★ and their rank), with a legend of exactly what is drawn, a scale bar and a north arrow.

Drawn in the study area's UTM zone, so distances on the map are true; the picture is PNG bytes
(:func:`~carecover.outputs.report.charts.png_bytes`). The heavy polygon layers (coverage, gap
zones) are drawn as pictures at the map's resolution (:mod:`.mappaths`), and what every tier's
map shares (projection, demand points, streets) is computed once per report (:func:`map_base`);
the streets are drawn once per extent, as a picture under each map (:mod:`.streetpic`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from carecover.outputs.bundle import USED_STATUSES, PlanBundle, ranked_gaps, sites_frame, tier_name
from carecover.outputs.report.charts import label, plain, tier_threshold
from carecover.outputs.report.document import threshold_text
from carecover.outputs.report.mappaths import (
    composite,
    pixel_grid,
    polygon_path,
    polygon_raster,
    raster_alpha,
)
from carecover.outputs.report.streetpic import Layout, layout, new_figure, set_limits, street_layer

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from carecover.params import RunParams

#: The colour of each tier's coverage and facilities: blues, greens, purples and browns, never
#: the red of the gaps or the gold of the suggested sites.
TIER_COLOURS = {"city_centre": "#393b79", "county_institution": "#5254a3", "district_centre": "#6b6ecf",
                "street_centre": "#1f77b4", "township_centre": "#17becf", "community_centre": "#2ca02c",
                "village_station": "#637939", "happiness_home": "#9467bd", "meal_point": "#8c564b"}
OTHER_COLOUR = "#7f7f7f"
GAP_COLOUR = "#d62728"
SITE_COLOUR = "#ffbf00"


def tier_colour(key: str) -> str:
    """The colour of a tier's coverage and facilities (grey for a tier not in :data:`TIER_COLOURS`)."""
    return TIER_COLOURS.get(key, OTHER_COLOUR)


def chosen_sites(b: PlanBundle, key: str) -> gpd.GeoDataFrame | None:
    """The suggested sites of a tier the report presents: the exact solution where there is
    one, else the greedy one; ``None`` when the tier has none.

    Parameters
    ----------
    b
        The results.
    key
        Tier key.

    Returns
    -------
    GeoDataFrame or None
        In rank order.
    """
    s = sites_frame(b.sites)
    if s is None or not len(s) or "tier" not in s:
        return None
    s = s[s["tier"] == key]
    if "method" in s and (s["method"] == "exact").any():
        s = s[s["method"] == "exact"]
    elif "method" in s and (s["method"] == "greedy").any():
        s = s[s["method"] == "greedy"]
    return s.sort_values("rank", kind="stable") if len(s) else None


def coverage_polygon(b: PlanBundle, key: str, threshold_min: float) -> gpd.GeoSeries | None:
    """The tier's isochrone (per-tier union) of the band equal to its threshold, or ``None``
    when no band equals it (the map then shows covered population points instead)."""
    iso = b.isochrones
    if iso is None or not len(iso) or not {"tier", "band_min"} <= set(iso.columns):
        return None
    union = iso["fid"].fillna("").astype(str) == "" if "fid" in iso else pd.Series(True, index=iso.index)
    sel = iso[(iso["tier"] == key) & union & np.isclose(iso["band_min"].astype(float), threshold_min)]
    return sel.geometry if len(sel) else None


def map_crs(b: PlanBundle) -> CRS:
    """The UTM zone the maps of a bundle are drawn in (of its demand, else its facilities)."""
    return utm_of(*(b.demand if len(b.demand) else b.facilities).total_bounds)


@functools.lru_cache(maxsize=8)
def utm_of(west: float, south: float, east: float, north: float) -> CRS:
    """The UTM zone of an area of interest (looked up once per area: one lookup takes
    a quarter of a second)."""
    return gpd.GeoSeries([shapely.box(west, south, east, north)], crs=4326).estimate_utm_crs()


#: Street classes drawn darker and wider.
MAJOR_STREETS = ("motorway", "trunk", "primary", "secondary", "tertiary")


def street_segments(streets: gpd.GeoDataFrame | None, crs: CRS) -> tuple[np.ndarray, np.ndarray]:
    """The street lines as ``(n, k, 2)`` coordinates in ``crs`` and whether each is a major street
    (computed once per report: the maps of every tier share them).

    Parameters
    ----------
    streets
        :attr:`PlanBundle.streets` (the map's street lines, ``kind`` major/minor/path), or ``None``.
    crs
        The maps' projected CRS.

    Returns
    -------
    tuple of numpy.ndarray
        Coordinates and the major-street mask (both empty without streets).
    """
    if streets is None or not len(streets):
        return np.zeros((0, 2, 2)), np.zeros(0, bool)
    st = streets.to_crs(crs)
    # merged lines (the map's street layer) → their consecutive vertex pairs
    parts = shapely.get_parts(st.geometry.values)
    owner = np.repeat(np.arange(len(st)), shapely.get_num_geometries(st.geometry.values))
    coords, idx = shapely.get_coordinates(parts, return_index=True)
    pair = np.flatnonzero(idx[:-1] == idx[1:])
    xy = np.stack([coords[pair], coords[pair + 1]], axis=1)
    major = (st["kind"].astype(str).to_numpy() == "major")[owner[idx[pair]]]
    return xy, major


@dataclass(frozen=True)
class MapBase:
    """What the overview maps of every tier share, computed once per report.

    Attributes
    ----------
    crs
        The maps' UTM zone (:func:`map_crs`).
    demand_xy
        The demand points in ``crs``, ``(n, 2)``.
    streets
        :func:`street_segments` of the bundle's streets in ``crs``.
    pictures
        The streets drawn as a picture per extent and layout: the maps of tiers with the same
        extent share one (:func:`~carecover.outputs.report.streetpic.street_layer`).
    """

    crs: CRS
    demand_xy: np.ndarray
    streets: tuple[np.ndarray, np.ndarray]
    #: The streets drawn as a picture per extent and layout (:func:`.streetpic.street_layer`).
    pictures: dict = field(default_factory=dict, compare=False, repr=False)


def map_base(b: PlanBundle) -> MapBase:
    """The projection, demand points and streets of a bundle's overview maps.

    Parameters
    ----------
    b
        The results.

    Returns
    -------
    MapBase
    """
    crs = map_crs(b)
    pts = b.demand.geometry.values
    xy = shapely.get_coordinates(pts[~shapely.is_missing(pts) & ~shapely.is_empty(pts)])
    if len(xy):
        x, y = Transformer.from_crs(b.demand.crs, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([x, y])
    return MapBase(crs, xy.reshape(-1, 2), street_segments(b.streets, crs))


def _nice_length(span_m: float) -> float:
    """A round scale-bar length of about a fifth of the map's width."""
    steps = [m * 10 ** e for e in range(0, 6) for m in (1, 2, 5)]
    target = span_m / 5
    return max([s for s in steps if s <= target] or [steps[0]])


def _scale_bar(ax: Axes, x0: float, y0: float, span: float) -> None:
    length = _nice_length(span)
    height = span * 0.008
    for i in range(2):  # two alternating halves, as on a printed map
        ax.add_patch(_rect(x0 + i * length / 2, y0, length / 2, height, "#222" if i == 0 else "white"))
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(x0 + length / 2, y0 + height * 1.8, text, ha="center", va="bottom", fontsize=8, zorder=11,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})


def _rect(x: float, y: float, w: float, h: float, fc: str):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), w, h, facecolor=fc, edgecolor="#222", lw=0.8, zorder=11)


class _Drawn:
    """The axes being drawn on, the map's extent, its CRS, its width in pixels and the legend
    entries of what was drawn."""

    def __init__(self, ax, extent: tuple[float, float, float, float], zh: bool, crs: CRS, columns: int) -> None:
        self.ax, self.extent, self.zh, self.crs, self.columns = ax, extent, zh, crs, columns
        self.handles: list = []
        self.areas: list[tuple[object, np.ndarray]] = []  # the heavy layers: (colour, alpha), bottom first
        self.areas_z = 0.0

    def outlines(self, geoms, src, **style) -> bool:
        """The outlines of the polygons among ``geoms`` (CRS ``src``) as one path; whether any were drawn."""
        from matplotlib.patches import PathPatch

        path = polygon_path(geoms, CRS.from_user_input(src), self.crs)
        if path is not None:  # added as an artist: the extent is set, never computed from the vertices
            self.ax.add_artist(PathPatch(path, facecolor="none", **style))
        return path is not None

    def area(self, geoms, src, colour, fill_alpha: float, edge_alpha: float, zorder: float) -> bool:
        """The polygons among ``geoms`` (CRS ``src``) as a picture of the map's pixels, filled and
        outlined in ``colour``, over the areas drawn before; whether any were drawn.

        The areas are one picture (:meth:`show`): areas must be drawn one after the other, with
        no other layer between their ``zorder``.
        """
        grid = pixel_grid(tuple(map(float, self.extent)), self.columns, self.crs, CRS.from_user_input(src))
        cover = polygon_raster(geoms, grid)
        if cover is None:
            return False
        if not self.areas:
            self.areas_z = zorder
        self.areas.append((colour, raster_alpha(cover, fill_alpha, edge_alpha)))
        return True

    def show(self) -> None:
        """The areas as one picture on the map (at the first area's ``zorder``)."""
        if self.areas:
            self.ax.imshow(composite(self.areas), extent=self.extent, origin="upper", interpolation="nearest",
                           zorder=self.areas_z, aspect="auto")

    def add(self, handle, zh_text: str, en_text: str) -> None:
        handle.set_label(label(zh_text, en_text, self.zh))
        self.handles.append(handle)


def _extent(demand_xy: np.ndarray, fac: gpd.GeoDataFrame, sites) -> tuple[float, float, float, float]:
    xy = np.concatenate([demand_xy, *(shapely.get_coordinates(g.geometry.values) for g in (fac, sites)
                                      if g is not None and len(g))])
    (xmin, ymin), (xmax, ymax) = xy.min(axis=0), xy.max(axis=0)
    pad = 0.06 * max(xmax - xmin, ymax - ymin, 200.0)
    return xmin - pad, xmax + pad, ymin - pad, ymax + pad


def _streets(d: _Drawn, base: MapBase, lay: Layout) -> None:
    from matplotlib.lines import Line2D

    if street_layer(d.ax, base.streets, d.extent, lay, base.pictures):
        d.add(Line2D([], [], color="#b5b5b5", lw=0.9), "街道（OSM）", "Streets (OSM)")


def _boundaries(d: _Drawn, b: PlanBundle) -> None:
    from matplotlib.lines import Line2D

    if b.boundaries is not None and len(b.boundaries):
        if d.outlines(b.boundaries.geometry.values, b.boundaries.crs, edgecolor="#444", lw=1.0, zorder=2):
            d.add(Line2D([], [], color="#444", lw=1.0), "行政边界", "Boundaries")


def _coverage(d: _Drawn, b: PlanBundle, demand_xy: np.ndarray, key: str, thr: float, mode, rule: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    colour = tier_colour(key)
    cover = coverage_polygon(b, key, thr)
    if cover is not None and d.area(cover.values, cover.crs, colour, 0.35, 0.6, zorder=3):
        d.add(Patch(facecolor=colour, alpha=0.35, edgecolor=colour),
              f"覆盖范围（{rule}）", f"Reached within {threshold_text(thr, mode, None, 'en')}")
    elif f"covered__{key}" in b.demand:
        pts = b.demand.geometry.values
        drawn = ~shapely.is_missing(pts) & ~shapely.is_empty(pts)  # the rows of demand_xy
        cov = demand_xy[b.demand[f"covered__{key}"].to_numpy(bool)[drawn]]
        d.ax.scatter(cov[:, 0], cov[:, 1], s=4, color=colour, alpha=0.6, lw=0, zorder=3)
        d.add(Line2D([], [], ls="", marker="o", ms=4, color=colour),
              f"已覆盖人口点（{rule}）", f"Population reached within {threshold_text(thr, mode, None, 'en')}")


def _gaps(d: _Drawn, b: PlanBundle, key: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    gaps = b.gaps
    if gaps is None or not len(gaps):
        return
    mask = (gaps["tier"] == key).to_numpy() if "tier" in gaps else np.ones(len(gaps), bool)
    if not mask.any():
        return
    g = ranked_gaps(gaps[mask]).sort_values("rank", kind="stable")
    text = (f"未覆盖缺口（{len(g)} 个）", f"Uncovered gaps ({len(g)})")
    gp = g.to_crs(d.crs)
    hulls = b.gap_hulls
    if (hulls is not None and len(hulls) == len(gaps)
            and d.area(np.asarray(hulls)[mask], hulls.crs or 4326, GAP_COLOUR, 0.10, 1.0, zorder=4)):
        d.add(Patch(facecolor=(0.84, 0.15, 0.16, 0.10), edgecolor=GAP_COLOUR, lw=0.8), *text)
    else:
        d.ax.scatter(gp.geometry.x, gp.geometry.y, marker="x", s=25, color=GAP_COLOUR, zorder=4)
        d.add(Line2D([], [], ls="", marker="x", color=GAP_COLOUR), *text)
    for _, r in gp.head(3).iterrows():
        d.ax.annotate(plain(f"缺口{r['gap_id']}" if d.zh else f"gap {r['gap_id']}"),
                      (r.geometry.x, r.geometry.y), fontsize=8, color=GAP_COLOUR, weight="bold",
                      ha="center", va="center", zorder=9,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": GAP_COLOUR, "lw": 0.6,
                            "alpha": 0.85})


def _facilities(d: _Drawn, fac: gpd.GeoDataFrame, key: str) -> None:
    from matplotlib.lines import Line2D

    if not len(fac):
        return
    colour = tier_colour(key)
    d.ax.scatter(fac.geometry.x, fac.geometry.y, s=30, color=colour, edgecolor="white", lw=0.8, zorder=6)
    d.add(Line2D([], [], ls="", marker="o", ms=6, color=colour, markeredgecolor="white"),
          f"现有{tier_name(key, 'zh', both=False)}（{len(fac)} 处）",
          f"Existing {tier_name(key, 'en', both=False).lower()} ({len(fac)})")


def _sites(d: _Drawn, sites) -> None:
    from matplotlib.lines import Line2D

    if sites is None:
        return
    d.ax.scatter(sites.geometry.x, sites.geometry.y, marker="*", s=260, color=SITE_COLOUR, edgecolor="#222",
                 lw=0.9, zorder=8)
    for _, r in sites.iterrows():
        d.ax.annotate(f"★{int(r['rank'])}", (r.geometry.x, r.geometry.y), xytext=(8, 6),
                      textcoords="offset points", fontsize=9, weight="bold", zorder=10,
                      bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#222", "lw": 0.5, "alpha": 0.9})
    d.add(Line2D([], [], ls="", marker="*", ms=13, color=SITE_COLOUR, markeredgecolor="#222"),
          f"建议新增站点（{len(sites)} 处）", f"Suggested sites ({len(sites)})")


def _frame(d: _Drawn, title: str) -> None:
    """Extent, no ticks, scale bar, north arrow, attribution, title and the legend below."""
    ax = d.ax
    xmin, xmax, ymin, ymax = d.extent
    set_limits(ax, d.extent)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    for side in ax.spines.values():
        side.set_color("#888")
    span = xmax - xmin
    _scale_bar(ax, xmin + 0.04 * span, ymin + 0.04 * (ymax - ymin), span)
    ax.annotate("N", xy=(0.965, 0.95), xytext=(0.965, 0.87), xycoords="axes fraction", ha="center",
                va="center", fontsize=10, weight="bold", zorder=11,
                arrowprops={"arrowstyle": "-|>", "color": "#222", "lw": 1.2})
    ax.text(0.995, 0.005, label("街道 © OpenStreetMap 贡献者", "Streets © OpenStreetMap contributors", d.zh),
            transform=ax.transAxes, ha="right", va="bottom", fontsize=6.5, color="#555", zorder=11)
    ax.set_title(title, fontsize=10.5)
    ax.legend(handles=d.handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=min(2, len(d.handles)),
              fontsize=8, frameon=False)


def overview_figure(b: PlanBundle, params: RunParams, key: str, zh: bool,
                    base: MapBase | None = None) -> tuple[Figure, list[str]]:
    """The overview map of one tier.

    Parameters
    ----------
    b
        The results (``streets`` and ``boundaries`` drawn when present).
    params
        The run's parameters (the tier's threshold and mode, the walking speed).
    key
        Tier key.
    zh
        Chinese and English labels (else English).
    base
        :func:`map_base` of ``b``, when already computed (the maps of all tiers share it).

    Returns
    -------
    tuple
        The figure and the legend's entries (exactly the layers drawn).
    """
    lang = "zh" if zh else "en"
    thr, mode = tier_threshold(params, key)
    rule = threshold_text(thr, mode, params.walk_speed_mps, lang)
    base = map_base(b) if base is None else base
    utm = base.crs
    fac = b.facilities
    if "tier" in fac:
        fac = fac[fac["tier"] == key]
    if "status" in fac:
        fac = fac[fac["status"].isin(USED_STATUSES)]
    fac = fac[~fac.geometry.is_empty & fac.geometry.notna()].to_crs(utm)
    sites = chosen_sites(b, key)
    sites = sites.to_crs(utm) if sites is not None else None
    extent = _extent(base.demand_xy, fac, sites)
    lay = layout(extent)
    fig, ax = new_figure(lay)
    # heavy layers are pictures as wide as the whole figure in pixels (the axes are a little narrower)
    d = _Drawn(ax, extent, zh, utm, lay.columns)
    # the layers from the bottom up, each adding its legend entry when drawn
    _streets(d, base, lay)
    _boundaries(d, b)
    _coverage(d, b, base.demand_xy, key, thr, mode, rule)
    _gaps(d, b, key)
    d.show()
    _facilities(d, fac, key)
    _sites(d, sites)
    _frame(d, f"{tier_name(key, lang, both=False)} · {rule}")
    return fig, [h.get_label() for h in d.handles]

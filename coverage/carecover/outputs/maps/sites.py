"""Suggested new sites, numbered by rank, one layer per siting method (the exact solution
shown, the greedy one hidden when both exist)."""

from __future__ import annotations


import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import sites_frame, tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import point_xy
from carecover.outputs.maps.jsdata import PointLayer
from carecover.outputs.maps.popups import bdi, coord_row, esc, fmt
from carecover.vocab import site_label

METHOD_ZH = {"exact": "精确", "greedy": "贪心"}
#: A site's badge: ★rank in a black box (:class:`~carecover.outputs.maps.jsdata.PointLayer`).
SITE_ICON = {"cls": "cc-site-icon", "pre": "<div class='cc-site'>", "post": "</div>", "size": [30, 20],
             "anchor": [15, 10]}


def site_rows(r: pd.Series, lang: str, coords: tuple[str, str]) -> list[tuple[str, str]]:
    """Popup rows of one suggested site: its label (``★1 碑亭巷``), tier, method, gains, county and coordinates.

    Parameters
    ----------
    r
        A row of the sites table (with a WGS-84 point geometry).
    lang
        ``"zh"`` or ``"en"``.
    coords
        The coordinates row in the map's coordinates
        (:func:`~carecover.outputs.maps.popups.coord_row`).

    Returns
    -------
    list of tuple
        ``(label, value HTML)`` pairs.
    """
    return [(tr("站点", "Site", lang), bdi(label(r))),
                     *colocation_rows(r, lang),
                     (tr("层级", "Tier", lang), esc(tier_name(r.get("tier"), lang))),
                     (tr("方法", "Method", lang), esc(str(r.get("method", "")))),
                     (tr("新增覆盖老年人口", "Elderly gained", lang), fmt(r.get("gain_elderly"))),
                     (tr("新增覆盖总人口", "Population gained", lang), fmt(r.get("gain_pop"))),
                     (tr("旗县区", "County", lang), bdi(str(r.get("county", "") or ""))),
                     coords]


def label(r: pd.Series) -> str:
    """The site's one name, ``★1 碑亭巷`` (its ``site_label``, else :func:`carecover.vocab.site_label`)."""
    v = r.get("site_label")
    return v if isinstance(v, str) and v else site_label(r["rank"], r.get("place"), r.get("site_name"))


def colocation_rows(r: pd.Series, lang: str) -> list[tuple[str, str]]:
    """Popup rows of a site's name and what it is co-located with (kind, name, distance), with
    ``--candidates-from-osm`` (none otherwise)."""
    if "colocated_kind" not in r.index:
        return []
    from carecover.inputs.osm_public import KINDS

    out = []
    name = r.get("site_name")
    if isinstance(name, str) and name:
        out.append((tr("站点名称", "Site name", lang), esc(name)))
    k = KINDS.get(str(r.get("colocated_kind") or ""))
    d = r.get("colocated_m")
    if k is None or d is None or pd.isna(d):
        out.append((tr("同址设施", "Co-located with", lang), tr("无", "none", lang)))
    else:
        what = f"{tr(k.zh, k.en, lang)} · {r.get('colocated_name') or tr('（无名）', '(unnamed)', lang)} · {float(d):.0f} m"
        out.append((tr("同址设施", "Co-located with", lang), esc(what)))
    return out


def add_sites(m: folium.Map, ctx: MapContext) -> None:
    """Draw the suggested sites of every method, by tier and rank.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    sites = sites_frame(ctx.bundle.sites)
    if sites is None or not len(sites):
        return
    lang = ctx.lang
    methods = sorted(sites["method"].astype(str).unique()) if "method" in sites else ["greedy"]
    for method in methods:
        sub = sites[sites["method"].astype(str) == method] if "method" in sites else sites
        sub = sub.sort_values(["tier", "rank"], kind="stable")
        name = ctx.names.get(f"sites_{method}", tr(f"建议新增站点（{method}）", f"Suggested sites ({method})", lang))
        show = method == "exact" or "exact" not in methods
        fg = folium.FeatureGroup(name=name, show=show)
        pts = []
        for _, r in sub.iterrows():
            lat, lon = point_xy(r.geometry, ctx.fn)
            rank = int(r["rank"])
            tip = tr(f"{bdi(label(r))}：新增老年人口 {fmt(r.get('gain_elderly'))}",
                     f"{bdi(label(r))}: +{fmt(r.get('gain_elderly'))} elderly", lang)
            pts.append((lat, lon, tip, site_rows(r, lang, coord_row(lon, lat, ctx.basemap, lang)), f"★{rank}"))
            ctx.bounds.append(np.array([lon, lat, lon, lat]))
        PointLayer(pts, icon=SITE_ICON).add_to(fg)
        fg.add_to(m)
        ctx.add_legend(name, "<span class='cc-site-sw'>★1</span>",
                       tr(f"建议新增站点（{METHOD_ZH.get(method, method)}解，按序号）",
                          f"Suggested site ({method} solution, by rank)", lang),
                       tr("弹窗：新增覆盖老年人口", "popup: elderly newly covered", lang))

"""Isochrone bands, one layer per tier (only the focus tier shown at start: overlapping tiers
are unreadable)."""

from __future__ import annotations

import math
import weakref

import folium
import geopandas as gpd
import pandas as pd
import shapely

from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import ISO_SIMPLIFY_DEG, iso_display, prep, total_bounds
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.names import focus_tier
from carecover.outputs.maps.popups import esc
from carecover.outputs.maps.style import rgba, band_opacity, tier_color


def tier_unions(iso: gpd.GeoDataFrame, tiers: list[str]) -> dict[str, gpd.GeoDataFrame]:
    """One polygon per tier and band: the per-tier unions (``fid == ""``), else the
    per-facility polygons dissolved.

    Parameters
    ----------
    iso
        The bundle's isochrones.
    tiers
        Tiers drawn, in order.

    Returns
    -------
    dict of str to GeoDataFrame
        Tier key -> its bands, widest first (drawn below the nearer ones).
    """
    layers = {}
    for key in tiers:
        sub = iso[iso["tier"] == key] if len(iso) else iso
        if not len(sub):
            continue
        fids = sub["fid"].fillna("").astype(str) if "fid" in sub else pd.Series("", index=sub.index)
        union = sub[fids == ""]
        if not len(union):
            union = sub.dissolve(by="band_min", as_index=False)
        layers[key] = union.sort_values("band_min", ascending=False, kind="stable")  # widest below
    return layers


#: The display polygons of an isochrone table (:func:`display_layers`), by the table's identity
#: and the tiers drawn; an entry goes when its table does.
_SHOWN: dict[tuple[int, tuple[str, ...]], tuple[dict[str, gpd.GeoDataFrame], list, float]] = {}


def display_layers(iso: gpd.GeoDataFrame, tiers: list[str]) -> tuple[dict[str, gpd.GeoDataFrame], list, float]:
    """The tier unions of ``iso`` (:func:`tier_unions`) and their display polygons with the
    tolerance used (:func:`~carecover.outputs.maps.geometry.iso_display`), computed once per
    table and tiers: both maps of a run draw them (the second map's worker process inherits
    them when they were computed before it started).

    Parameters
    ----------
    iso
        The bundle's isochrones (not changed afterwards: the result is kept while it lives).
    tiers
        Tiers drawn, in order.

    Returns
    -------
    tuple
        Tier key -> its bands, the display polygons per tier (WGS-84), the tolerance (degrees).
    """
    key = (id(iso), tuple(tiers))
    if key not in _SHOWN:
        unions = tier_unions(iso, tiers)
        shown, tol = iso_display([u.geometry.values for u in unions.values()])
        _SHOWN[key] = (unions, shown, tol)
        weakref.finalize(iso, _SHOWN.pop, key, None)
    return _SHOWN[key]


def add_isochrones(m: folium.Map, ctx: MapContext) -> list[float]:
    """Draw the isochrone bands of every tier (simplified for display, see
    :func:`~carecover.outputs.maps.geometry.iso_display`).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context (a note when the polygons were simplified beyond the default).

    Returns
    -------
    list of float
        Every band (minutes) in the bundle, ascending, for the legend.
    """
    lang, iso = ctx.lang, ctx.bundle.isochrones
    bands_all: list[float] = sorted({float(v) for v in iso["band_min"].dropna()}) if len(iso) else []
    iso_tiers = [k for k in ctx.tiers if len(iso) and (iso["tier"] == k).any()]
    focus = focus_tier(ctx.bundle, iso_tiers)
    unions, shown, tol = display_layers(iso, ctx.tiers)
    if tol > ISO_SIMPLIFY_DEG:
        ctx.notes.append(tr(f"等时圈已简化（容差约 {tol * 111_000:.0f} 米，小于 1 公顷的空洞已填充）",
                            f"isochrones simplified for display (about {tol * 111_000:.0f} m; holes under 1 ha filled)",
                            lang))
    for (key, union), display in zip(unions.items(), shown, strict=True):
        bands = sorted({float(v) for v in union["band_min"]})
        ops = dict(zip(bands, band_opacity(bands), strict=True))
        color = tier_color(key)
        name = ctx.names[f"isochrones__{key}"]
        fg = folium.FeatureGroup(name=name, show=key == focus)
        geoms = prep(display, ctx.fn)
        props = [{"band": f"{float(bm):g}", "op": ops[float(bm)], "tier": tier_name(key, lang, both=False)}
                 for bm in union["band_min"]]
        if (shapely.is_missing(geoms) | shapely.is_empty(geoms)).all():
            continue  # nothing reached (e.g. every facility of the tier unsnapped): no layer
        GeoLayer(feature_collection_json(geoms, props),
                 style={"color": color, "weight": 1, "opacity": 0.6, "fillColor": color},
                 style_props={"fillOpacity": "op"}, tooltip=["tier", "band"],
                 aliases=[tr("层级", "Tier", lang), tr("分钟", "Minutes", lang)]).add_to(fg)
        fg.add_to(m)
        ctx.bounds.append(total_bounds(geoms))
        ctx.legend.append((name, band_legend(key, bands, ctx.lang)))
    return bands_all


def band_legend(key: str, bands: list[float], lang: str) -> str:
    """Legend entry of one tier's isochrones: a swatch per band in the tier's colour, as
    dark as the band is drawn where the bands overlap.

    Parameters
    ----------
    key
        Tier key.
    bands
        The tier's bands (minutes), ascending.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        HTML.
    """
    color = tier_color(key)
    ops = band_opacity(bands)
    # a band's own area is covered by its polygon and every wider one: the opacities add up
    shown = [1 - math.prod(1 - o for o in ops[i:]) for i in range(len(bands))]
    cells = "".join(f"<span style='background:{rgba(color, op)};padding:0 4px;margin-right:2px'>{b:g}</span>"
                    for b, op in zip(bands, shown, strict=True))
    label = tr("等时圈", "Isochrones", lang) + " · " + tier_name(key, lang, both=False)
    return (f"<div class='cc-lg-row'><span class='cc-sw' style='background:{rgba(color, shown[-1])};"
            f"border:1px solid {color}'></span><span>{esc(label)}</span></div>"
            f"<div class='cc-lg-note'>{cells} {esc(tr('分钟', 'min', lang))}</div>")

"""Facility markers: one layer per tier, and one for the facilities not used in routing."""

from __future__ import annotations


import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import USED_STATUSES, tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import point_xy
from carecover.outputs.maps.popups import esc, fmt, kv_table
from carecover.outputs.maps.style import LEVEL_RADIUS, UNKNOWN_COLOR, tier_color
from carecover.tiers import TIERS


def facility_popup(r: pd.Series, lang: str, used: bool) -> str:
    """Popup of one facility: name, tier, address, what it reaches, id (and status if unused).

    Parameters
    ----------
    r
        A row of the facilities table.
    lang
        ``"zh"`` or ``"en"``.
    used
        Whether the facility takes part in routing.

    Returns
    -------
    str
        HTML.
    """
    rows = [(tr("名称", "Name", lang), esc(str(r.get("name", "") or ""))),
            (tr("层级", "Tier", lang), esc(tier_name(r.get("tier"), lang))),
            (tr("地址", "Address", lang), esc(str(r.get("address", "") or "")))]
    if "reached_elderly" in r and pd.notna(r.get("reached_elderly")):
        rows.append((tr("可达老年人口", "Elderly reached", lang), fmt(r["reached_elderly"])))
    if "reached_pop" in r and pd.notna(r.get("reached_pop")):
        rows.append((tr("可达总人口", "Population reached", lang), fmt(r["reached_pop"])))
    rows.append((tr("编号", "ID", lang), esc(str(r.get("fid", "")))))
    if not used:
        rows.append((tr("状态", "Status", lang),
                     esc(f"{r.get('status', '')}: {r.get('note', '') or ''}")))
    return kv_table(rows)


def _marker(r: pd.Series, key: str | None, ok: bool, ctx: MapContext) -> folium.CircleMarker:
    """The circle marker of one facility (sized by tier level, grey when not used)."""
    level = TIERS[key].level if key in TIERS else 3
    color = tier_color(key) if ok else UNKNOWN_COLOR
    lat, lon = point_xy(r.geometry, ctx.fn)
    ctx.bounds.append(np.array([lon, lat, lon, lat]))
    return folium.CircleMarker(
        location=[lat, lon], radius=LEVEL_RADIUS.get(level, 5), color="#222" if ok else "#777",
        weight=1, fill=True, fill_color=color, fill_opacity=0.9 if ok else 0.4,
        class_name=f"cc-facility cc-tier-{key if ok else 'unused'}",
        tooltip=esc(str(r.get("name", "") or r.get("fid", ""))),
        popup=folium.Popup(facility_popup(r, ctx.lang, ok), max_width=320),
    )


def add_facilities(m: folium.Map, ctx: MapContext) -> list[str]:
    """Draw every facility with coordinates, sorted by id.

    Facilities not used in routing (their status, or a tier without results) go to the
    "not used" layer; the number without coordinates is noted in the title block.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.

    Returns
    -------
    list of str
        The tiers that got a facility layer, in order (for the legend).
    """
    fac = ctx.bundle.facilities
    has_geom = fac.geometry.notna() & ~fac.geometry.is_empty
    used = fac["status"].isin(USED_STATUSES) if "status" in fac else pd.Series(True, index=fac.index)
    n_missing = int((~has_geom).sum())
    if n_missing:
        ctx.notes.append(tr(f"{n_missing} 个设施无坐标，未绘制（见 facilities.csv）",
                            f"{n_missing} facilities without coordinates are not drawn (see facilities.csv)",
                            ctx.lang))
    drawn = fac[has_geom].sort_values("fid", kind="stable") if "fid" in fac else fac[has_geom]
    groups: dict[str, folium.FeatureGroup] = {}
    for idx, r in drawn.iterrows():
        key = r.get("tier")
        ok = bool(used.loc[idx]) and key in ctx.tiers
        gname = f"facilities__{key}" if ok else "unused"
        if gname not in groups:
            groups[gname] = folium.FeatureGroup(name=ctx.names[gname], show=True)
        _marker(r, key, ok, ctx).add_to(groups[gname])
    for g in [f"facilities__{k}" for k in ctx.tiers] + ["unused"]:
        if g in groups:
            groups[g].add_to(m)
    return [t for t in ctx.tiers if f"facilities__{t}" in groups]

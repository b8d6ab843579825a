"""Facility markers: one layer per tier, and one for the facilities not used in routing."""

from __future__ import annotations


import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import USED_STATUSES, tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import point_xy
from carecover.outputs.maps.jsdata import PointLayer
from carecover.outputs.maps.popups import bdi, coord_row, esc, fmt
from carecover.outputs.maps.style import LEVEL_RADIUS, UNKNOWN_COLOR, dot_swatch, tier_color
from carecover.outputs.maps.zones import shared
from carecover.tiers import TIERS


def nearest_served(demand: pd.DataFrame, tiers: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    """Elderly for whom each facility is the nearest of its tier: all of them, and those
    within the tier's threshold.

    Parameters
    ----------
    demand
        Demand points with ``nearest_fid__<tier>`` (the nearest facility's id, "" when none
        was reached) and ``covered__<tier>``.
    tiers
        Tier keys.

    Returns
    -------
    dict
        ``(tier, fid) -> (elderly nearest, elderly nearest and within the threshold)``; tiers
        without a ``nearest_fid__`` column are left out.
    """
    out: dict[tuple[str, str], tuple[float, float]] = {}
    for key in tiers:
        col = f"nearest_fid__{key}"
        if col not in demand:
            continue
        fid = demand[col].fillna("").astype(str)
        e = demand["elderly"].fillna(0).astype(float)
        cov = demand[f"covered__{key}"].fillna(False).astype(bool) if f"covered__{key}" in demand else False
        g = pd.DataFrame({"fid": fid, "all": e, "within": e.where(cov, 0.0)})
        for f, row in g[g["fid"] != ""].groupby("fid", sort=True)[["all", "within"]].sum().iterrows():
            out[(key, str(f))] = (float(row["all"]), float(row["within"]))
    return out


def facility_rows(r: pd.Series, lang: str, used: bool, served: tuple[float, float] | None = None,
                  threshold_min: float | None = None,
                  coords: tuple[str, str] | None = None) -> list[tuple[str, str]]:
    """Popup rows of one facility: name, tier, address, what it reaches, the elderly for whom it
    is the nearest, id (and status if unused).

    Parameters
    ----------
    r
        A row of the facilities table (a Series or a dict).
    lang
        ``"zh"`` or ``"en"``.
    used
        Whether the facility takes part in routing.
    served
        Elderly for whom it is the nearest facility of its tier, all and within the
        threshold (:func:`nearest_served`), or ``None``.
    threshold_min
        The tier's threshold (for the label).
    coords
        The coordinates row (:func:`~carecover.outputs.maps.popups.coord_row`), or ``None``.

    Returns
    -------
    list of tuple
        ``(label, value HTML)`` pairs (input text escaped).
    """
    rows = [(tr("名称", "Name", lang), bdi(str(r.get("name", "") or ""))),
            (tr("层级", "Tier", lang), esc(tier_name(r.get("tier"), lang))),
            (tr("地址", "Address", lang), bdi(str(r.get("address", "") or "")))]
    # reached_* count the residents within the threshold for whom this facility is the nearest
    thr = f"{threshold_min:g}" if threshold_min is not None else "?"
    if "reached_elderly" in r and pd.notna(r.get("reached_elderly")):
        rows.append((tr(f"{thr} 分钟内以其为最近设施的老年人口", f"Elderly within {thr} min for whom it is the nearest",
                        lang), fmt(r["reached_elderly"])))
    if "reached_pop" in r and pd.notna(r.get("reached_pop")):
        rows.append((tr(f"{thr} 分钟内以其为最近设施的总人口", f"Population within {thr} min for whom it is the nearest",
                        lang), fmt(r["reached_pop"])))
    if served is not None:
        rows.append((tr("以其为最近设施的老年人口（不限时间）", "Elderly for whom it is the nearest (any time)", lang),
                     fmt(served[0])))
    rows.append((tr("编号", "ID", lang), bdi(str(r.get("fid", "")))))
    if coords is not None:
        rows.append(coords)
    if not used:
        rows.append((tr("状态", "Status", lang),
                     bdi(f"{r.get('status', '')}: {r.get('note', '') or ''}")))
    return rows


def _marker(r: dict, key: str | None, ok: bool, ctx: MapContext,
            served: dict[tuple[str, str], tuple[float, float]]) -> tuple:
    """The marker of one facility for :class:`~carecover.outputs.maps.jsdata.PointLayer`:
    position, tooltip, popup rows, and its radius (by tier level) where it differs from the
    layer's."""
    level = TIERS[key].level if key in TIERS else 3
    lat, lon = point_xy(r["geometry"], ctx.fn)
    ctx.bounds.append(np.array([lon, lat, lon, lat]))
    tier = ctx.params.tiers.get(key) if key is not None else None
    srv = served.get((str(key), str(r.get("fid", "")))) if ok else None
    if ok and srv is None and f"nearest_fid__{key}" in ctx.bundle.demand:
        srv = (0.0, 0.0)  # nearest to nobody (another facility of the tier is nearer to everyone)
    rows = facility_rows(r, ctx.lang, ok, srv, tier.threshold_min if tier is not None else None,
                         coords=coord_row(lon, lat, ctx.basemap, ctx.lang))
    radius = LEVEL_RADIUS.get(level, 5)
    return lat, lon, bdi(str(r.get("name", "") or r.get("fid", ""))), rows, \
        None if ok else {"radius": radius}


def _layer_style(key: str | None, ok: bool) -> dict:
    """Circle-marker options shared by a facility layer (grey when not used)."""
    level = TIERS[key].level if key in TIERS else 3
    return {"radius": LEVEL_RADIUS.get(level, 5), "color": "#222" if ok else "#777", "weight": 1,
            "fillColor": tier_color(key) if ok else UNKNOWN_COLOR, "fillOpacity": 0.9 if ok else 0.4,
            "className": f"cc-facility cc-tier-{key if ok else 'unused'}"}


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
    markers: dict[str, list[tuple]] = {}
    memo = shared(ctx.bundle.demand)  # the same for both maps of a run
    if ("served", tuple(ctx.tiers)) not in memo:
        memo["served", tuple(ctx.tiers)] = nearest_served(ctx.bundle.demand, ctx.tiers)
    served = memo["served", tuple(ctx.tiers)]
    # rows as dicts: a pandas row per facility costs more than everything else here
    for ok_used, r in zip(used.loc[drawn.index].to_numpy(bool), drawn.to_dict("records"), strict=True):
        key = r.get("tier")
        ok = bool(ok_used) and key in ctx.tiers
        markers.setdefault(f"facilities__{key}" if ok else "unused", []).append(_marker(r, key, ok, ctx, served))
    groups: dict[str, folium.FeatureGroup] = {}
    for gname, pts in markers.items():
        groups[gname] = folium.FeatureGroup(name=ctx.names[gname], show=True)
        key = gname.removeprefix("facilities__") if gname != "unused" else None
        PointLayer(pts, style=_layer_style(key, gname != "unused"), max_width=320).add_to(groups[gname])
    for key in ctx.tiers:
        g = f"facilities__{key}"
        if g in groups:
            groups[g].add_to(m)
            ctx.add_legend(ctx.names[g], dot_swatch(tier_color(key)), tier_name(key, ctx.lang))
    if "unused" in groups:
        groups["unused"].add_to(m)
        ctx.add_legend(ctx.names["unused"], dot_swatch(UNKNOWN_COLOR, "#777", 0.5),
                       tr("未纳入计算的设施（见弹窗中的状态）", "Facility not used (status in its popup)", ctx.lang))
    return [t for t in ctx.tiers if f"facilities__{t}" in groups]

"""Nearest-facility catchments: per tier, the area whose residents have each facility as their
nearest (from the demand's ``nearest_fid__<tier>``), one non-overlapping zone per facility
(:mod:`carecover.outputs.maps.zones`); hidden at start."""

from __future__ import annotations

import folium

from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json
from carecover.outputs.maps.popups import bdi, esc
from carecover.outputs.maps.style import CATCHMENT_FILLS, box_swatch, tier_color
from carecover.outputs.maps.zones import label_zones, neighbour_colours


def add_catchments(m: folium.Map, ctx: MapContext) -> None:
    """Draw the nearest-facility catchments of every tier whose demand has
    ``nearest_fid__<tier>``.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    demand, lang = ctx.bundle.demand, ctx.lang
    fac = ctx.bundle.facilities
    names = dict(zip(fac["fid"].astype(str), fac["name"].fillna("").astype(str), strict=False)) \
        if "fid" in fac and "name" in fac else {}
    for key in ctx.tiers:
        col = f"nearest_fid__{key}"
        if col not in demand:
            continue
        zones = label_zones(ctx.grid(), demand[col].to_numpy())
        if not zones.labels:
            continue
        colours = neighbour_colours(zones.geoms, len(CATCHMENT_FILLS))
        geoms = prep(zones.geoms, ctx.fn)
        # tooltips set innerHTML: text from the register is escaped here
        props = [{"fid": bdi(fid), "name": bdi(names.get(fid, fid)), "e": f"{e:,.0f}", "c": CATCHMENT_FILLS[c]}
                 for fid, e, c in zip(zones.labels, zones.elderly, colours, strict=True)]
        name = ctx.names[f"catchments__{key}"]
        color = tier_color(key)
        fg = folium.FeatureGroup(name=name, show=False)
        GeoLayer(feature_collection_json(geoms, props),
                 style={"color": color, "weight": 1.5, "opacity": 0.9, "fillOpacity": 0.45},
                 style_props={"fillColor": "c"}, tooltip=["name", "fid", "e"],
                 aliases=[tr("最近设施", "Nearest facility", lang), tr("编号", "ID", lang),
                          tr("以其为最近的老年人口", "Elderly for whom it is nearest", lang)]).add_to(fg)
        fg.add_to(m)
        ctx.add_legend(name, box_swatch(CATCHMENT_FILLS[1], 0.8, color), name,
                       tr(f"每个设施一区，互不重叠（{zones.cell_m:.0f} 米方格）",
                          f"one zone per facility, no overlaps ({zones.cell_m:.0f} m cells)", lang))


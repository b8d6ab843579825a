"""A hidden layer of flagged demand points, the most elderly first (shared by the map's
"inside the circle but not reached" and per-profile layers)."""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from carecover.outputs.bundle import tr
from carecover.outputs.maps.base import MapContext
from carecover.outputs.maps.geometry import prep
from carecover.outputs.maps.jsdata import GeoLayer, feature_collection_json

__all__ = ["flagged_points"]


def flagged_points(m: folium.Map, ctx: MapContext, flags: pd.Series, name: str, point: dict,
                   limit: int) -> tuple[pd.DataFrame, str]:
    """Draw the demand points where ``flags`` is true as the hidden layer ``name`` (at most
    ``limit``, the most elderly first; each with its elderly count as tooltip).

    Returns
    -------
    (DataFrame, str)
        Every flagged point (drawn or not), and the legend note saying how many were drawn when
        some were left out ("" otherwise).
    """
    flagged = ctx.bundle.demand[flags.astype(bool)]
    pts = flagged.sort_values("elderly", ascending=False, kind="stable").head(limit)
    props = [{"e": e} for e in np.round(pts["elderly"].fillna(0).to_numpy(float), 1).tolist()]
    fg = folium.FeatureGroup(name=name, show=False)
    GeoLayer(feature_collection_json(prep(pts.geometry.values, ctx.fn), props), point=point,
             tooltip=["e"], aliases=[tr("老年人口", "Elderly", ctx.lang)]).add_to(fg)
    fg.add_to(m)
    note = "" if len(flagged) <= limit else tr(
        f"绘制老年人口最多的 {limit:,} 个（共 {len(flagged):,} 个）",
        f"the {limit:,} with the most elderly drawn (of {len(flagged):,})", ctx.lang)
    return flagged, note

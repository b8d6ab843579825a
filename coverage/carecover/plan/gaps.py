"""Stage 7 — gaps: uncovered residents grouped into ranked zones, per tier."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.analysis.gaps import find_gaps
from carecover.inputs.demand import Demand
from carecover.params import RunParams
from carecover.plan.area import Boundaries
from carecover.plan.travel import Travel

#: Linkage distance (m) for demand that is not a raster grid (building points, polygons).
POINT_LINK_M = 100.0


@dataclass(frozen=True)
class Gaps:
    """Gap zones of every tier.

    Attributes
    ----------
    zones
        All tiers' zones (``tier`` first, then the gap columns; representative point as
        geometry), EPSG:4326, ranked within each tier; ``None`` when nothing is uncovered.
    hulls
        The zone polygons, aligned with ``zones``.
    members
        Per tier: the zone of every demand point (0 outside gaps).
    link_m
        The linkage distance used.
    """

    zones: gpd.GeoDataFrame | None
    hulls: gpd.GeoSeries | None
    members: Mapping[str, np.ndarray] = field(default_factory=dict)
    link_m: float = POINT_LINK_M


def link_distance(params: RunParams, demand: Demand) -> float:
    """Gap linkage: the parameter if set, else 1.5 × the cell size for rasters (so the 8
    neighbours of a cell join), else 100 m."""
    if params.gap_link_m is not None:
        return float(params.gap_link_m)
    pts = demand.points
    if not str(demand.source.get("method", "")).startswith("raster") or not len(pts):
        return POINT_LINK_M
    return 1.5 * float(np.sqrt(np.nanmedian(pts["area_m2"])))


def pixel_size(demand: Demand) -> tuple[float, float] | None:
    """Cell size of a population raster read as is (its pixel centres in the demand's CRS), so
    that a gap zone is drawn as the union of its pixels; ``None`` for any other demand."""
    src = demand.source
    if src.get("method") != "raster" or not src.get("pixel_size") or demand.points.crs is None:
        return None
    from pyproj import CRS

    same = CRS.from_user_input(src.get("crs") or "EPSG:4326") == CRS.from_user_input(demand.points.crs)
    return (float(src["pixel_size"][0]), float(src["pixel_size"][1])) if same else None


def find(params: RunParams, demand: Demand, travel: Travel, bounds: Boundaries) -> Gaps:
    """Gap zones of every routed tier.

    Parameters
    ----------
    params
        Gap linkage parameter.
    demand
        Demand points.
    travel
        Travel times per tier.
    bounds
        Counties (a zone's county is the one holding its representative point).
    """
    link_m = link_distance(params, demand)
    base = demand.points[["cell_id", "pop", "elderly", "county", "area_m2", "geometry"]]
    pixel, work = pixel_size(demand), (base.estimate_utm_crs() if len(base) and not base.crs.is_projected
                                       else base.crs)
    zones, members = [], {}
    for key, tt in travel.tiers.items():
        res = find_gaps(base.assign(time_s=tt.time_s, covered=tt.covered), link_m=link_m, admin=bounds.counties,
                        pixel_size=pixel, work_crs=work)
        members[key] = res.member
        if len(res):
            zones.append(res.zones.assign(tier=key)[["tier", *res.zones.columns]])
    if not zones:
        return Gaps(None, None, members, link_m)
    hulls = pd.concat([gpd.GeoSeries(z["hull"]).to_crs(4326) for z in zones], ignore_index=True)
    plain = [pd.DataFrame(z.drop(columns=["hull"]).to_crs(4326)) for z in zones]
    frame = gpd.GeoDataFrame(pd.concat(plain, ignore_index=True), geometry="geometry", crs=4326)
    return Gaps(frame, gpd.GeoSeries(hulls.values, crs=4326), members, link_m)

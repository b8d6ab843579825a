"""Stage 5 — isochrones: band polygons per tier (and per facility when asked), with their
measured fidelity (the share of polygon area that no street reaches in time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover import memory, timing
from carecover.network import StreetNetwork, engine, isochrones
from carecover.params import RunParams
from carecover.plan.travel import TierTravel, Travel

COLUMNS = ["tier", "band_min", "fid"]
METHOD = ("field (contoured travel-time grid: 5 m at walking speed, coarser for faster networks and city-wide tiers; "
          "outlines simplified within 1/8 of the grid spacing)")


@dataclass(frozen=True)
class Isochrones:
    """Isochrone polygons of a run.

    Attributes
    ----------
    frame
        ``tier``, ``band_min``, ``fid`` (facility id, "" for the tier's union), geometry
        (EPSG:4326).
    fidelity
        Per tier: buffer, method and the false-inclusion share per band.
    """

    frame: gpd.GeoDataFrame
    fidelity: Mapping[str, dict] = field(default_factory=dict)


def band_node_times(net: StreetNetwork, tt: TierTravel, limit_s: float) -> engine.NodeTimes:
    """The tier's routed node times cut at ``limit_s`` (the largest band): the same times a
    search bounded there gives, without routing the tier again (searched anew only when the
    tier was routed less far than its bands)."""
    nt = tt.node_times
    if nt.limit_s < limit_s:
        return engine.nearest(net, tt.sources, limit_s)
    beyond = ~(nt.time <= limit_s)
    return engine.NodeTimes(np.where(beyond, np.inf, nt.time), np.where(beyond, -1, nt.source), float(limit_s))


def tier_isochrones(params: RunParams, net: StreetNetwork, tt, fids) -> tuple[list[gpd.GeoDataFrame], dict]:
    """One tier's union polygons (and facility polygons when asked) and their fidelity."""
    bands, buffer_m = list(params.bands_min), params.isochrone_buffer_m
    nt = band_node_times(net, tt, max(bands) * 60)
    polys = isochrones.tier_isochrones(net, tt.sources, bands, buffer_m=buffer_m, node_times=nt,
                                       walk_speed_mps=params.walk_speed_mps)
    fid = isochrones.fidelity(net, tt.sources, polys, n_samples=1000, node_times=nt)
    key = tt.tier.key
    frames = [isochrones.to_geodataframe([(key, b, "", p) for b, p in polys], net, COLUMNS)]
    if params.facility_isochrones:
        items = isochrones.facility_isochrones(net, tt.sources, bands, buffer_m=buffer_m,
                                               walk_speed_mps=params.walk_speed_mps)
        frames.append(isochrones.to_geodataframe([(key, b, fids[i], p) for i, b, p in items], net, COLUMNS))
    return frames, {"buffer_m": buffer_m, "method": METHOD, "bands": fid.round(4).to_dict("records")}


def build(params: RunParams, nets: Mapping[str, StreetNetwork], travel: Travel) -> Isochrones:
    """Isochrones of every routed tier.

    Parameters
    ----------
    params
        Bands, buffer, whether per-facility polygons are wanted.
    nets
        Networks by mode.
    travel
        The routed tiers.
    """
    frames, fidelity = [], {}
    fid_all = travel.facilities["fid"].to_numpy()
    for key, tt in travel.tiers.items():
        with timing.step(f"isochrones {key}"):
            parts, fidelity[key] = tier_isochrones(params, nets[params.net_of(key)], tt, fid_all[tt.rows])
        frames += parts
    frame = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326) if frames else
             gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs=4326))
    # the grids and traced outlines (hundreds of MB) go back to the system before the next stage
    memory.release_freed()
    return Isochrones(frame, fidelity)

"""Stage 5 — isochrones: band polygons per tier (and per facility when asked), with their
measured fidelity (the share of polygon area that no street reaches in time)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover import memory, timing
from carecover.network import StreetNetwork, engine, grid, isochrones
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


#: Share of the isochrone work (estimated grid points) the main process takes itself once its
#: own stages are done, while the worker draws the rest (about a quarter balances the two on
#: two cores at Hohhot scale: the analysis and siting take ~12 s of the ~30 s of CPU meanwhile).
MAIN_SHARE = 0.25


def _cost(params: RunParams, net: StreetNetwork, tt: TierTravel) -> float:
    """Estimated grid points of a tier's field: the area its streets reach within the largest
    band (reached nodes × the network's area per node) over the squared grid spacing."""
    limit = max(params.bands_min) * 60
    reached = int(np.count_nonzero(tt.node_times.time <= limit))
    x0, x1, y0, y1 = net.node_x.min(), net.node_x.max(), net.node_y.min(), net.node_y.max()
    per_node = max((x1 - x0) * (y1 - y0), 1.0) / max(len(net.node_x), 1)
    spacing = grid.grid_spacing(5.0, params.isochrone_buffer_m, grid.speed_len_max(net),
                                walk_speed_mps=params.walk_speed_mps)
    return min(reached * per_node / spacing**2, 16e6)


def shares(params: RunParams, nets: Mapping[str, StreetNetwork], travel: Travel) -> tuple[list[str], list[str]]:
    """The tiers the worker draws and those the main process draws (the cheapest, up to
    :data:`MAIN_SHARE` of the estimated work): a function of the inputs only, so a run gives the
    same split, and the same polygons, with one process or two."""
    keys = list(travel.tiers)
    cost = {k: _cost(params, nets[params.net_of(k)], travel.tiers[k]) for k in keys}
    here, budget = [], MAIN_SHARE * sum(cost.values())
    for k in sorted(keys, key=lambda k: (cost[k], keys.index(k))):
        if cost[k] > budget:
            break
        here.append(k)
        budget -= cost[k]
    return [k for k in keys if k not in here], [k for k in keys if k in here]


def worker_share(params: RunParams, nets: Mapping[str, StreetNetwork], travel: Travel) -> Isochrones:
    """The worker's share of the isochrones (:func:`shares`)."""
    return build(params, nets, travel, shares(params, nets, travel)[0])


def main_share(params: RunParams, nets: Mapping[str, StreetNetwork], travel: Travel) -> Isochrones:
    """The main process's share of the isochrones (:func:`shares`)."""
    return build(params, nets, travel, shares(params, nets, travel)[1])


def combine(travel: Travel, *parts: Isochrones) -> Isochrones:
    """The isochrones of every tier from the shares, in the order of the routed tiers (the rows
    of each tier as its share drew them)."""
    rank = {k: i for i, k in enumerate(travel.tiers)}
    frames = [p.frame for p in parts if len(p.frame)]
    if frames:
        frame = pd.concat(frames, ignore_index=True)
        frame = frame.iloc[np.argsort(frame["tier"].map(rank).to_numpy(), kind="stable")].reset_index(drop=True)
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=4326)
    else:
        frame = parts[0].frame
    fidelity = {k: p.fidelity[k] for k in travel.tiers for p in parts if k in p.fidelity}
    return Isochrones(frame, fidelity)


def build(params: RunParams, nets: Mapping[str, StreetNetwork], travel: Travel,
                keys: list[str] | None = None) -> Isochrones:
    """Isochrones of the routed tiers (``keys``: only those).

    Parameters
    ----------
    params
        Bands, buffer, whether per-facility polygons are wanted.
    nets
        Networks by mode.
    travel
        The routed tiers.
    keys
        The tiers to draw (default: all).
    """
    frames, fidelity = [], {}
    fid_all = travel.facilities["fid"].to_numpy()
    for key, tt in travel.tiers.items():
        if keys is not None and key not in keys:
            continue
        with timing.step(f"isochrones {key}"):
            parts, fidelity[key] = tier_isochrones(params, nets[params.net_of(key)], tt, fid_all[tt.rows])
        frames += parts
    frame = (gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=4326) if frames else
             gpd.GeoDataFrame({c: [] for c in COLUMNS}, geometry=[], crs=4326))
    # the grids and traced outlines (hundreds of MB) go back to the system before the next stage
    memory.release_freed()
    return Isochrones(frame, fidelity)

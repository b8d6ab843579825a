"""Stage 4 — travel: snap demand and facilities, route each tier (one multi-source search).

Each tier with usable facilities gets one bounded multi-source Dijkstra on its mode's network;
walking tiers are searched up to the slowest sensitivity speed so that the figures at other
speeds are exact rescalings of the same times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from carecover import timing
from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.inputs.facilities import USABLE
from carecover.network import StreetNetwork, engine
from carecover.network.covered import covered as within_threshold
from carecover.network.snap import Snapped, points_xy, snap_points
from carecover.network.snapcache import snap_xy_cached
from carecover.params import RunParams
from carecover.plan.inputs import Facilities
from carecover.tiers import Tier
from carecover.utils import log

DROPPED_NOTE = ("最近道路属于被剔除的孤立路段，已连到主路网 / nearest street is on a disconnected part "
                "dropped from the network; routed from the main network")


@dataclass(frozen=True)
class TierTravel:
    """Travel times of one tier.

    Attributes
    ----------
    tier
        The tier (mode and threshold as used).
    rows
        Rows of the facilities frame that are this tier's usable facilities.
    sources
        Those facilities snapped to the tier's network.
    node_times
        Every node's time to its nearest facility (``inf`` beyond the search).
    time_s
        Per demand point: seconds to the nearest facility at the main speed (``inf`` beyond).
    source
        Per demand point: index into ``rows`` of that facility (-1 when none).
    """

    tier: Tier
    rows: np.ndarray
    sources: Snapped
    node_times: engine.NodeTimes
    time_s: np.ndarray
    source: np.ndarray

    @property
    def threshold_s(self) -> float:
        return self.tier.threshold_min * 60

    @property
    def covered(self) -> np.ndarray:
        """Per demand point: reached within the tier's threshold."""
        return within_threshold(self.time_s, self.tier.threshold_min)


@dataclass(frozen=True)
class Travel:
    """Travel results of a run.

    Attributes
    ----------
    demand_snaps
        Demand points snapped to each mode's network.
    tiers
        :class:`TierTravel` per tier key, in tier order.
    facilities
        The facilities frame with ``snap_m``, ``reached_pop``/``reached_elderly`` and the
        ``unsnapped`` status where a facility is beyond the snap limit.
    """

    demand_snaps: Mapping[str, Snapped]
    tiers: Mapping[str, TierTravel]
    facilities: gpd.GeoDataFrame


def snap_demand(params: RunParams, nets: Mapping[str, StreetNetwork], demand: Demand) -> dict[str, Snapped]:
    """Demand points on every network; none of them near a street is an input error."""
    # (kept beside the cached network: the same cells on the same network snap the same)
    snaps = {m: snap_xy_cached(n, *points_xy(n, demand.points), params.max_snap_m) for m, n in nets.items()}
    if len(demand) and not snaps["walk"].ok.any():
        raise InputError(f"none of the {len(demand)} population points lies within {params.max_snap_m:.0f} m "
                         "of a street: population and network do not overlap (wrong place or CRS?) / "
                         "人口数据与路网不重叠", file=params.population or params.network, field="population")
    return snaps


def route_tier(params: RunParams, tier: Tier, net: StreetNetwork, frame: gpd.GeoDataFrame,
               rows: np.ndarray, dem_snap: Snapped) -> TierTravel:
    """One tier: snap its facilities, one bounded multi-source search, demand point times."""
    src = snap_points(net, frame.iloc[rows], params.max_snap_m)
    limit = tier.threshold_min * 60 * params.search_factor(tier) * 1.0001
    nt = engine.nearest(net, src, limit)
    t, s = engine.point_times(net, nt, dem_snap, src)
    return TierTravel(tier, rows, src, nt, t, s)


def _mark_facilities(frame: gpd.GeoDataFrame, tt: TierTravel, demand: Demand, max_snap_m: float) -> None:
    """Snap distance, notes and status of a tier's facilities, and the people each reaches first."""
    idx = frame.index[tt.rows]
    src = tt.sources
    frame.loc[idx, "snap_m"] = np.round(src.dist, 2)
    near_dropped = src.ok & src.on_dropped
    if near_dropped.any():
        r = idx[near_dropped]
        frame.loc[r, "note"] = (frame.loc[r, "note"].fillna("").astype(str) + "; " + DROPPED_NOTE).str.lstrip("; ")
    st = src.status()
    bad = st != "ok"
    if bad.any():
        frame.loc[idx[bad], "status"] = "unsnapped"
        frame.loc[idx[bad], "note"] = [f"{s}: {d:.0f} m from the {tt.tier.mode} network (limit {max_snap_m:.0f} m)"
                                       for s, d in zip(st[bad], src.dist[bad], strict=True)]
    reach = (tt.source >= 0) & tt.covered
    for col, values in (("reached_pop", demand.points["pop"]), ("reached_elderly", demand.points["elderly"].fillna(0))):
        frame.loc[idx, col] = np.bincount(tt.source[reach], weights=values.to_numpy(float)[reach],
                                          minlength=len(tt.rows)).round(1)


def route(params: RunParams, nets: Mapping[str, StreetNetwork], facilities: Facilities,
          demand: Demand) -> Travel:
    """Travel times of every tier that has usable facilities.

    Parameters
    ----------
    params
        Tiers, speeds, snap limit.
    nets
        Networks by mode.
    facilities
        Every facility record.
    demand
        Demand points.
    """
    with timing.step(f"snap {len(demand):,} points ({', '.join(nets)})"):
        snaps = snap_demand(params, nets, demand)
    frame = facilities.frame.copy()
    for col in ("reached_pop", "reached_elderly", "snap_m"):
        frame[col] = np.nan
    used = frame["status"].isin(USABLE) & frame["tier"].notna()
    present = set(frame.loc[used, "tier"])
    tiers = {}
    for key in [k for k in params.tiers if k in present]:
        tier = params.tiers[key]
        rows = np.flatnonzero((used & (frame["tier"] == key)).to_numpy())
        mode = "步行" if tier.mode == "walk" else "驾车"
        log(f"出行时间 / travel times: {tier.name_zh} {len(rows)} 处设施（{mode} {tier.threshold_min:g} 分钟）/ "
            f"{tier.name_en}: {len(rows)} facilities ({tier.threshold_min:g}-min {tier.mode}) …")
        with timing.step(f"routing {key} ({tier.mode})"):
            tiers[key] = route_tier(params, tier, nets[params.net_of(key)], frame, rows, snaps[params.net_of(key)])
        _mark_facilities(frame, tiers[key], demand, params.max_snap_m)
    return Travel(snaps, tiers, frame)

"""One task of a region run: an area (or one tile of it) routed on its streets plus the halo.

区域任务：一个区域（或其一个瓦片）在其外延范围内的路网上计算可达时间。

The task runs the plan's own stages (:mod:`carecover.plan`): the networks clipped to the tile
plus each mode's halo (:mod:`carecover.region.halo`), the registers of every area the halo
meets (facilities across the border serve residents inside), the population of the area's
group read whole (so a total spread over buildings is spread as one plan spreads it) and
then cut to the residents this task owns (:mod:`carecover.region.tiles`), and one bounded
multi-source search per tier. It returns only what the area needs: its residents' times,
the facilities it owns, what each facility reached, and for planned tiers the reach of
candidate sites on its residents.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from carecover import notices
from carecover.errors import InputError, NetworkError
from carecover.inputs.demand import Demand
from carecover.network import StreetNetwork, engine, snap_xy
from carecover.params import RunParams
from carecover.plan import inputs, networks, travel
from carecover.plan.area import Boundaries, StudyArea
from carecover.plan.cache import StageCache
from carecover.region import halo as halo_mod
from carecover.region.sources import local_path
from carecover.region.tiles import Grid, Tile, owner_index, tile_index

__all__ = ["TaskSpec", "TaskResult", "CandidateReach", "run_task", "FACILITY_COLUMNS"]

#: Facility columns a task returns (the facilities contract, plus routing results).
FACILITY_COLUMNS = ["fid", "name", "tier", "tier_raw", "address", "source", "source_file", "row", "crs_in",
                    "lon_in", "lat_in", "status", "note", "snap_m", "lon", "lat"]


@dataclass(frozen=True)
class TaskSpec:
    """Everything one task needs (small: paths, polygons and parameters, never data).

    Attributes
    ----------
    key
        Cache key (:func:`carecover.region.cache.task_key`).
    area, area_index
        The area's name and position in the areas file.
    params
        The area's parameters; ``facilities`` are the registers of every area the halo meets.
    group
        The areas whose population is read together with this one (``name``, ``level``,
        geometry; WGS-84) and ``group_registers`` their own registers.
    clips
        WGS-84 clip polygon per travel mode (tile or area + the mode's halo).
    neighbours
        ``(area index, polygon)`` of every area that may share residents with this one.
    grid, tile, tiles
        The area's tile grid, this task's tile and every tile label of the area (``None``,
        ``None``, ``()`` for an untiled area).
    register_first
        File names of the registers whose records without a position, or outside every area,
        this task lists (the first task of the first area naming the register).
    region_union
        WGS-84 union of every area (set when ``register_first`` is not empty).
    siting_tiers
        Tiers with planned sites: the task returns candidate reach for them.
    candidate_grid
        Grid thinning the junction candidates region-wide (one per cell, smallest OSM id).
    candidate_region
        WGS-84 polygon where candidate sites may lie (the areas' union near this task).
    streets
        The area's street arrays (:mod:`carecover.region.streets`) the networks are built
        from; ``None``: the network file itself.
    """

    key: str
    area: str
    area_index: int
    params: RunParams
    group: gpd.GeoDataFrame
    group_registers: tuple[Path, ...]
    clips: Mapping[str, Any]
    neighbours: tuple[tuple[int, Any], ...]
    grid: Grid | None = None
    tile: Tile | None = None
    tiles: tuple[str, ...] = ()
    register_first: tuple[str, ...] = ()
    region_union: Any = None
    siting_tiers: tuple[str, ...] = ()
    candidate_grid: Grid | None = None
    candidate_region: Any = None
    streets: str | None = None

    @property
    def label(self) -> str:
        return self.area if self.tile is None else f"{self.area}#{self.tile.label}"


@dataclass(frozen=True)
class CandidateReach:
    """Candidate sites of one tier seen by a task and their reach on its residents.

    Attributes
    ----------
    ids
        Region-wide candidate ids (``node/<OSM id>``).
    lon, lat
        WGS-84 positions.
    reach
        ``len(ids) × residents`` CSR of seconds + 1e-9 within the tier's threshold.
    """

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    reach: sp.csr_matrix


@dataclass(frozen=True)
class TaskResult:
    """What a task returns (compact: no networks, no polygons).

    Attributes
    ----------
    key, area, label
        The task's cache key, area and label (``area#i_j`` for a tile).
    rows
        Each resident's position in its group's demand (orders the area's residents as one
        plan orders them).
    points
        The residents: ``cell_id``, ``pop``, ``elderly``, ``county``, ``area_m2``, ``lon``,
        ``lat``, ``snapped`` (within the snap limit of the walking network).
    times
        Per routed tier (one with usable facilities within the halo): seconds to the nearest
        facility (``inf`` beyond the search).
    nearest
        Per tier: ``fid`` of that facility (``""`` when none).
    facilities
        The facility records this task owns (:data:`FACILITY_COLUMNS`).
    reached
        ``fid``, ``tier``, ``reached_pop``, ``reached_elderly``: residents of this task each
        facility reaches first within its threshold.
    candidates
        Per planned tier: :class:`CandidateReach`.
    notices
        Warnings raised while the task ran.
    demand_source
        The population source record (method, file, totals) of the area's group.
    stats
        ``seconds``, ``cpu_s`` (CPU seconds of the worker process), ``rss_mb`` (resident memory
        at the end), ``peak_rss_mb`` (the worker process's peak), ``nodes`` (walk network nodes;
        0 without streets), ``pid``.
    """

    key: str
    area: str
    label: str
    rows: np.ndarray
    points: pd.DataFrame
    times: Mapping[str, np.ndarray]
    nearest: Mapping[str, np.ndarray]
    facilities: pd.DataFrame
    reached: pd.DataFrame
    candidates: Mapping[str, CandidateReach] = field(default_factory=dict)
    notices: tuple = ()
    demand_source: Mapping[str, Any] = field(default_factory=dict)
    stats: Mapping[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- stages

def localized(params: RunParams, cache_dir: Path) -> RunParams:
    """The parameters with every URL input replaced by its local copy."""
    def loc(p):
        return None if p is None else local_path(p, cache_dir, revalidate=False)

    return replace(params, network=loc(params.network), facilities=tuple(loc(p) for p in params.facilities),
                   population=loc(params.population))


def boundaries_of(spec: TaskSpec, clip: Any) -> Boundaries:
    """The plan's :class:`Boundaries` of a task: its group's areas as counties, its clip."""
    frame = spec.group
    return Boundaries(frame, frame[["name", "geometry"]].reset_index(drop=True), clip, {},
                      "region:" + ",".join(frame["name"].astype(str)) + ":" + "|".join(
                          shapely.to_wkb(g, hex=True) for g in frame.geometry))


def owned_mask(spec: TaskSpec, lon: np.ndarray, lat: np.ndarray, group_index: list[tuple[int, Any]]) -> np.ndarray:
    """Which points this task owns: its area's (tie rule on borders) and, when tiled, its tile."""
    mine = owner_index(lon, lat, spec.neighbours, group_index) == spec.area_index
    if spec.tile is not None:
        i, j = tile_index(spec.grid, lon, lat)
        mine &= (i == spec.tile.i) & (j == spec.tile.j)
    return mine


def _facility_tile(spec: TaskSpec, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Tile label of each facility: its grid cell, else the nearest tile of the area."""
    i, j = tile_index(spec.grid, lon, lat)
    labels = np.array([f"{a}_{b}" for a, b in zip(i, j, strict=True)], dtype=object)
    known = np.isin(labels, list(spec.tiles))
    if (~known).any():
        ti = np.array([[int(v) for v in t.split("_")] for t in spec.tiles])
        d = (i[~known, None] - ti[None, :, 0]) ** 2 + (j[~known, None] - ti[None, :, 1]) ** 2
        labels[~known] = np.asarray(spec.tiles, dtype=object)[np.argmin(d, axis=1)]
    return labels


def owned_facilities(spec: TaskSpec, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The facility records this task lists, so that every record is listed exactly once:
    a record inside an area is listed by the first area covering it (the tie rule) and the
    tile holding it (else the area's nearest tile); a record without a position or outside
    every area by the first task of the first area naming its register."""
    geom = frame.geometry
    has = (geom.notna() & ~geom.is_empty).to_numpy()
    lon = np.where(has, geom.x.where(has, 0.0), 0.0)
    lat = np.where(has, geom.y.where(has, 0.0), 0.0)
    owner = np.full(len(frame), -1, np.int64)
    for idx, poly in sorted(spec.neighbours, key=lambda p: p[0]):
        free = has & (owner < 0)
        if free.any():
            hit = np.zeros(len(frame), bool)
            hit[free] = shapely.intersects_xy(poly, lon[free], lat[free])
            owner[hit] = idx
    keep = owner == spec.area_index
    if spec.tile is not None and keep.any():
        k = np.flatnonzero(keep)
        keep[k] = _facility_tile(spec, lon[k], lat[k]) == spec.tile.label
    if spec.register_first:
        mine = frame["source_file"].astype(str).isin(spec.register_first).to_numpy()
        outside = ~has.copy()
        if has.any():
            outside[has] = ~shapely.intersects_xy(spec.region_union, lon[has], lat[has])
        keep |= mine & outside
    out = frame.loc[keep].copy()
    out["lon"] = np.where(has[keep], lon[keep], np.nan)
    out["lat"] = np.where(has[keep], lat[keep], np.nan)
    for col in FACILITY_COLUMNS:
        if col not in out.columns:
            out[col] = None
    return pd.DataFrame(out[FACILITY_COLUMNS]).reset_index(drop=True)


def subset_demand(demand: Demand, mask: np.ndarray) -> Demand:
    """The residents of ``mask`` (their order kept; cell polygons dropped: the region map
    draws areas)."""
    return Demand(demand.points.loc[mask].reset_index(drop=True), dict(demand.source), None)


def route_or_unreached(params: RunParams, nets, fac, demand: Demand) -> travel.Travel | None:
    """The plan's travel stage; ``None`` when none of the task's residents is near a street
    (a tile of water or fields: they count as not reached, and the area checks its whole)."""
    try:
        return travel.route(params, nets, fac, demand)
    except InputError as exc:
        if exc.field == "population" and len(demand):
            return None
        raise


def walk_or_none(params: RunParams, bounds: Boundaries) -> StreetNetwork | None:
    """The walking network within the task's clip, or ``None`` when the clip holds no street
    (an area or tile of water, fields or forest: its residents are counted, as not reached)."""
    try:
        return networks.load_mode(params, bounds, "walk")
    except NetworkError as exc:
        if "no streets" in exc.message:
            return None
        raise


def warn_unreached(spec: TaskSpec, demand: Demand, no_streets: bool) -> None:
    """Say that the task's residents are counted as unsnapped and not reached (they stay in
    every figure's total)."""
    if not len(demand):
        return
    pop, n = float(demand.points["pop"].sum()), len(demand)
    zh, en = ("范围内（含外延）没有道路", "has no street within it and its halo") if no_streets else \
        ("的居民均不在道路吸附距离内", "has no resident within the snap limit of a street")
    notices.warn("region_unreached", f"{spec.label}{zh}：其 {n:,} 个居民点（{pop:,.0f} 人）计为未吸附、不可达，仍计入"
                 f"总数 / {spec.label} {en}: its {n:,} resident points ({pop:,.0f} people) are counted as "
                 "unsnapped and not reached, and stay in every total", field="network", value=spec.label)


def reached_table(trav: travel.Travel | None) -> pd.DataFrame:
    """Residents of this task each facility reaches first within its tier's threshold."""
    rows = []
    if trav is not None:
        fids = trav.facilities["fid"].astype(str).to_numpy()
        for key, tt in trav.tiers.items():
            f = trav.facilities.iloc[tt.rows]
            rows.append(pd.DataFrame({"fid": fids[tt.rows], "tier": key,
                                      "reached_pop": f["reached_pop"].to_numpy(float),
                                      "reached_elderly": f["reached_elderly"].to_numpy(float)}))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["fid", "tier", "reached_pop", "reached_elderly"])


def candidate_reach(spec: TaskSpec, net: StreetNetwork, dem_snap, threshold_s: float,
                    max_snap_m: float) -> CandidateReach:
    """Junction candidates in the candidate region, one per region-wide grid cell (smallest
    OSM id, so every task picks the same one), with their reach on this task's residents."""
    deg = np.bincount(np.concatenate([net.seg_a, net.seg_b]), minlength=net.n_nodes)
    idx = np.flatnonzero(deg >= 3)
    lon, lat = (np.asarray(v) for v in net.to_wgs84().transform(net.node_x[idx], net.node_y[idx]))
    inside = shapely.contains_xy(spec.candidate_region, lon, lat) if spec.candidate_region is not None \
        else np.ones(len(idx), bool)
    idx, lon, lat = idx[inside], lon[inside], lat[inside]
    ci, cj = tile_index(spec.candidate_grid, lon, lat)
    order = np.lexsort((net.node_id[idx], cj, ci))
    cell = np.column_stack([ci[order], cj[order]])
    first = np.ones(len(order), bool)
    first[1:] = np.any(cell[1:] != cell[:-1], axis=1)
    pick = order[first]
    idx, lon, lat = idx[pick], lon[pick], lat[pick]
    snap = snap_xy(net, net.node_x[idx], net.node_y[idx], max_snap_m)
    reach = engine.reach_matrix(net, snap, dem_snap, threshold_s).tocsr()
    useful = np.diff(reach.indptr) > 0
    ids = np.array([f"node/{int(v)}" for v in net.node_id[idx[useful]]], dtype=object)
    return CandidateReach(ids, lon[useful], lat[useful], reach[useful])


def _rss_mb() -> tuple[float, float]:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    try:
        with open("/proc/self/statm") as fh:
            now = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux
        now = float("nan")
    return now, peak


def _speed_check(params: RunParams, nets: Mapping[str, StreetNetwork]) -> None:
    for mode, net in nets.items():
        fastest = float(net.seg_speed.max()) if net.n_segments else 0.0
        if fastest > halo_mod.fastest_mps(params, mode) * 1.0001:
            notices.warn("halo_speed", f"{mode} 路网有路段限速 {fastest * 3.6:.0f} km/h，高于外延所用速度 / "
                         f"a {mode} street is faster ({fastest * 3.6:.0f} km/h) than the halo assumes: "
                         "reach across the border may be cut short", field="maxspeed")


def group_demand(spec: TaskSpec, group_params: RunParams, bounds: Boundaries, cache: StageCache) -> Demand:
    """The residents of the task's group, through the plan's demand stage and its cache (the
    same key for every task of the group)."""
    union = shapely.union_all(spec.group.geometry.values)
    return cache.run("demand", inputs.read_demand, group_params, StudyArea(bounds, union, union))


def read_group_demand(spec: TaskSpec) -> int:
    """Read a group's residents once into the stage cache before its tasks start (a Dask
    task of its own); returns their number."""
    cache_dir = Path(spec.params.cache)
    params = localized(spec.params, cache_dir)
    group_params = replace(params, facilities=tuple(local_path(p, cache_dir, revalidate=False) for p in spec.group_registers))
    with notices.collect(echo=False):
        return len(group_demand(spec, group_params, boundaries_of(spec, spec.clips["walk"]), StageCache.of(params)))


# ----------------------------------------------------------------------------- the task

def run_task(spec: TaskSpec) -> TaskResult:
    """Route one task (an area or a tile) with the plan's stages.

    Parameters
    ----------
    spec
        The task (:class:`TaskSpec`).

    Returns
    -------
    TaskResult
    """
    t0 = time.perf_counter(), time.process_time()
    cache_dir = Path(spec.params.cache)
    params = localized(spec.params, cache_dir)
    group_params = replace(params, facilities=tuple(local_path(p, cache_dir, revalidate=False) for p in spec.group_registers))
    group_index = [(int(i), g) for i, g in zip(spec.group["index"], spec.group.geometry, strict=True)]
    with notices.collect(echo=False) as found:
        cache = StageCache.of(params)
        widest = max(spec.clips, key=lambda m: spec.clips[m].area)
        bounds = boundaries_of(spec, spec.clips["walk"])
        # networks from the area's street arrays (the file is parsed once per area)
        route_params = replace(params, network=Path(spec.streets)) if spec.streets else params
        # the walking network of the tile plus its halo (None: no street within it)
        walk = walk_or_none(route_params, bounds)
        # facilities from every register the halo meets; residents from the area's group
        study = StudyArea(bounds, spec.clips[widest], shapely.union_all(spec.group.geometry.values))
        fac = inputs.read_facilities(params, study, walk)  # without streets its CRS checks say "not run"
        # the other modes, each clipped to its own halo
        nets = {} if walk is None else {"walk": walk} | {
            m: networks.load_mode(route_params, replace(bounds, clip=spec.clips[m]), m)
            for m in networks.modes_needed(params, fac) if m != "walk"}
        _speed_check(params, nets)
        # the group's residents, read once for all its tasks (stage cache), cut to this task's
        demand_all = group_demand(spec, group_params, bounds, cache)
        pts = demand_all.points
        mine = owned_mask(spec, pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), group_index)
        demand = subset_demand(demand_all, mine)
        # one bounded multi-source search per tier
        trav = route_or_unreached(params, nets, fac, demand) if walk is not None else None
        if trav is None:
            warn_unreached(spec, demand, walk is None)
        cands = {}
        for key in spec.siting_tiers:
            tier = params.tiers[key]
            snaps = trav.demand_snaps[tier.mode] if trav is not None else None
            if snaps is not None:
                cands[key] = candidate_reach(spec, nets[tier.mode], snaps, tier.threshold_min * 60,
                                             params.max_snap_m)
    return _result(spec, params, fac, demand, np.flatnonzero(mine), trav, cands, tuple(found), walk, t0)


def _result(spec, params, fac, demand, rows, trav, cands, found, walk, t0) -> TaskResult:
    p = demand.points
    times, nearest = {}, {}
    frame = trav.facilities if trav is not None else fac.frame
    fids = frame["fid"].astype(str).to_numpy()
    for key, tt in (trav.tiers.items() if trav is not None else ()):
        times[key] = np.asarray(tt.time_s, float)
        nearest[key] = np.where(tt.source >= 0, fids[tt.rows][np.maximum(tt.source, 0)], "").astype(object)
    snapped = trav.demand_snaps["walk"].ok if trav is not None else np.zeros(len(p), bool)
    nodes = int(walk.n_nodes) if walk is not None else 0
    points = pd.DataFrame({"cell_id": p["cell_id"].to_numpy(), "pop": p["pop"].to_numpy(float),
                           "elderly": p["elderly"].to_numpy(float), "county": p["county"].astype(str).to_numpy(),
                           "area_m2": p["area_m2"].to_numpy(float), "lon": p.geometry.x.to_numpy(),
                           "lat": p.geometry.y.to_numpy(), "snapped": np.asarray(snapped, bool)})
    now, peak = _rss_mb()
    stats = {"seconds": time.perf_counter() - t0[0], "cpu_s": time.process_time() - t0[1], "rss_mb": now,
             "peak_rss_mb": peak, "nodes": nodes, "residents": len(p), "pid": os.getpid()}
    return TaskResult(spec.key, spec.area, spec.label, np.asarray(rows, np.int64), points, times, nearest,
                      owned_facilities(spec, frame), reached_table(trav), cands, found,
                      dict(demand.source), stats)

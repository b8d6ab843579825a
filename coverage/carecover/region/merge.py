"""One area from its tasks: its residents in one plan's order, figures and gaps over the whole area.

合并一个区域的任务结果：按单次规划的顺序排列居民，在整个区域上计算覆盖指标与空白区。

Figures and gaps are computed here, over all the area's residents at once, with the same
functions the plan uses (:mod:`carecover.analysis.figures`, :func:`carecover.analysis.gaps.find_gaps`):
a gap that crosses a tile border is one gap, exactly as in one plan over the area. Gaps are
defined per area: a gap crossing the border between two areas is two gaps, one in each.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from carecover.analysis import figures as cf
from carecover.analysis.gaps import find_gaps
from carecover.inputs.demand import Demand
from carecover.network.covered import covered
from carecover.params import RunParams
from carecover.plan import gaps as plan_gaps
from carecover.plan.figures import data_record
from carecover.region.task import CandidateReach, TaskResult

__all__ = ["AreaResult", "AreaParts", "AreaView", "merge_area", "assemble", "area_view", "finish", "figures_of",
           "tier_gaps", "join_gaps", "clock", "since", "POINT_COLUMNS", "VIEW_COLUMNS"]

#: Resident columns of an area result (then ``time_<tier>`` and ``nearest_<tier>`` per tier).
POINT_COLUMNS = ["cell_id", "pop", "elderly", "county", "area_m2", "snapped"]
#: Resident columns the figures and gaps read (then ``time_<tier>``; the position as ``lon``, ``lat``).
VIEW_COLUMNS = ["cell_id", "pop", "elderly", "county", "area_m2"]


@dataclass(frozen=True)
class AreaResult:
    """One area's results.

    Attributes
    ----------
    area, index
        Name and position in the areas file.
    points
        The area's residents (EPSG:4326) in its group's order: :data:`POINT_COLUMNS`,
        ``time_<tier>`` (seconds, ``inf`` beyond the search) and ``nearest_<tier>`` (fid).
    tiers
        Routed tiers (those with usable facilities within some task's halo), in tier order.
    figures
        The plan's figure dicts (population per tier, walking-speed sensitivity, all-of).
    gaps
        Gap zones of every tier (``tier`` first; EPSG:4326), or ``None``; ``gap_hulls``
        their polygons.
    facilities
        The facility records the area holds.
    reached
        Per facility and tier, residents of this area it reaches first.
    candidates
        Per planned tier: the candidates seen by the area's tasks and their reach on its
        residents (rows: candidates, columns: ``points``).
    stats
        Per task: label, seconds, memory, nodes, residents, pid.
    notices
        Warnings of the area's tasks.
    merge_seconds
        Wall and CPU seconds of the merge steps (put together, figures, gaps, files; summed
        over the workers).
    files
        The area folder's files rendered on a worker (name → bytes,
        :func:`carecover.region.outputs.render_area_files`); empty: the client writes them.
    """

    area: str
    index: int
    points: gpd.GeoDataFrame
    tiers: tuple[str, ...]
    figures: list[dict]
    gaps: gpd.GeoDataFrame | None
    gap_hulls: gpd.GeoSeries | None
    facilities: pd.DataFrame
    reached: pd.DataFrame
    candidates: Mapping[str, CandidateReach] = field(default_factory=dict)
    stats: tuple[dict, ...] = ()
    notices: tuple = ()
    merge_seconds: tuple[float, float] = (0.0, 0.0)
    files: Mapping[str, bytes] = field(default_factory=dict)


def _points(params: RunParams, results: Sequence[TaskResult], tiers: list[str]) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    rows = np.concatenate([r.rows for r in results]) if results else np.zeros(0, np.int64)
    order = np.argsort(rows, kind="stable")
    frame = pd.concat([r.points for r in results], ignore_index=True).iloc[order].reset_index(drop=True)
    for key in tiers:
        t = np.concatenate([r.times.get(key, np.full(len(r.points), np.inf)) for r in results])
        n = np.concatenate([r.nearest.get(key, np.full(len(r.points), "", dtype=object)) for r in results])
        frame[f"time_{key}"] = t[order]
        frame[f"nearest_{key}"] = n[order]
    pts = gpd.GeoDataFrame(frame.drop(columns=["lon", "lat"]),
                           geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)
    return pts, order


def _candidates(results: Sequence[TaskResult], order: np.ndarray, key: str) -> CandidateReach | None:
    """Stack the tasks' candidate reach into one candidates × residents matrix (area order)."""
    parts = [(r.candidates.get(key), len(r.points)) for r in results]
    if all(c is None for c, _ in parts):
        return None
    ids = sorted({i for c, _ in parts if c is not None for i in c.ids})
    pos = {v: k for k, v in enumerate(ids)}
    lon = np.zeros(len(ids))
    lat = np.zeros(len(ids))
    blocks = []
    for c, n in parts:
        if c is None:
            blocks.append(sp.csr_matrix((len(ids), n)))
            continue
        rows = np.array([pos[i] for i in c.ids], np.int64)
        lon[rows], lat[rows] = c.lon, c.lat
        coo = c.reach.tocoo()
        blocks.append(sp.csr_matrix((coo.data, (rows[coo.row], coo.col)), shape=(len(ids), n)))
    m = sp.hstack(blocks).tocsc()[:, order].tocsr() if len(order) else sp.csr_matrix((len(ids), 0))
    return CandidateReach(np.asarray(ids, dtype=object), lon, lat, m)


def figures_of(params: RunParams, pts: gpd.GeoDataFrame, demand: Demand, tiers: list[str]) -> list[dict]:
    """The plan's population figures over the area's residents (see
    :func:`carecover.plan.figures.compute`; straight-line circles and administrative
    coverage are left to the per-area plan)."""
    areas, data = cf.area_masks(pts, params.county_kinds), data_record(params, demand)
    items = []
    for key in tiers:
        tier = params.tiers[key]
        t = pts[f"time_{key}"].to_numpy(float)
        items += cf.population_figures(pts, t, tiers=[key], threshold_min=tier.threshold_min,
                                       speed_mps=params.speed_of(tier), mode=tier.mode, areas=areas,
                                       data=data, bands_min=params.bands_min)
        if tier.mode == "walk":
            figs, _ = cf.sensitivity_figures(pts, t, tier=key, threshold_min=tier.threshold_min,
                                             speed_mps=params.walk_speed_mps, speeds_mps=params.sensitivity_speeds_mps,
                                             all_mask=areas["all"], data=data, bands_min=params.bands_min)
            items += figs
    walk_keys = cf.all_of_tiers(params.tiers[k] for k in tiers)
    if walk_keys:
        cov = {k: covered(pts[f"time_{k}"], params.tiers[k].threshold_min) for k in walk_keys}
        items += cf.all_of_figures(pts, cov, {k: params.tiers[k].threshold_min for k in walk_keys},
                                   speed_mps=params.walk_speed_mps, areas=areas, data=data)
    return items


def gaps_of(params: RunParams, pts: gpd.GeoDataFrame, demand: Demand, tiers: list[str],
            admin: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """Gap zones of every tier over the whole area (as :func:`carecover.plan.gaps.find`)."""
    return join_gaps([tier_gaps(params, pts, demand, key, admin) for key in tiers])


def tier_gaps(params: RunParams, pts: gpd.GeoDataFrame, demand: Demand, key: str,
              admin: gpd.GeoDataFrame) -> gpd.GeoDataFrame | None:
    """Gap zones of one tier over the whole area (``tier`` first, ``hull`` kept), or ``None``."""
    base = pts[["cell_id", "pop", "elderly", "county", "area_m2", "geometry"]]
    t = pts[f"time_{key}"].to_numpy(float)
    res = find_gaps(base.assign(time_s=t, covered=covered(t, params.tiers[key].threshold_min)),
                    link_m=plan_gaps.link_distance(params, demand), admin=admin,
                    split_m=plan_gaps.split_distance(params, key))
    return res.zones.assign(tier=key)[["tier", *res.zones.columns]] if len(res) else None


def join_gaps(parts: Sequence[gpd.GeoDataFrame | None]) -> tuple[gpd.GeoDataFrame | None, gpd.GeoSeries | None]:
    """The tiers' gap zones (:func:`tier_gaps`, tier order) as one frame and their hulls
    (EPSG:4326), or ``(None, None)``."""
    zones = [z for z in parts if z is not None]
    if not zones:
        return None, None
    hulls = pd.concat([gpd.GeoSeries(z["hull"]).to_crs(4326) for z in zones], ignore_index=True)
    plain = [pd.DataFrame(z.drop(columns=["hull"]).to_crs(4326)) for z in zones]
    frame = gpd.GeoDataFrame(pd.concat(plain, ignore_index=True), geometry="geometry", crs=4326)
    return frame, gpd.GeoSeries(hulls.values, crs=4326)


@dataclass(frozen=True)
class AreaParts:
    """An area's task results put together, before its figures and gaps (the first step of
    the merge; :func:`finish` makes the :class:`AreaResult`).

    Attributes
    ----------
    area, index, points, tiers, facilities, reached, candidates, stats, notices
        As in :class:`AreaResult`.
    demand
        The area's residents as the plan's :class:`Demand` (figures and gaps read it).
    seconds
        Wall and CPU seconds it took to put together.
    """

    area: str
    index: int
    points: gpd.GeoDataFrame
    tiers: tuple[str, ...]
    demand: Demand
    facilities: pd.DataFrame
    reached: pd.DataFrame
    candidates: Mapping[str, CandidateReach]
    stats: tuple[dict, ...]
    notices: tuple
    seconds: tuple[float, float] = (0.0, 0.0)


def assemble(params: RunParams, area: str, index: int, results: Sequence[TaskResult],
             tiers: Sequence[str] = ()) -> AreaParts:
    """Put an area's task results (any order) together in one plan's resident order.

    ``tiers``: tiers to state even when none of the area's tasks routed them (tiers routed
    elsewhere in the region: the area's residents count in their totals, not reached).
    """
    t0 = clock()
    tier_set = {k for r in results for k in r.times} | set(tiers)
    tiers = [k for k in params.tiers if k in tier_set]
    pts, order = _points(params, results, tiers)
    source = dict(results[0].demand_source) if results else {}
    demand = Demand(pts[["cell_id", "pop", "elderly", "county", "area_m2", "geometry"]], source, None)
    keys = sorted({k for r in results for k in r.candidates})
    cands = {k: c for k in keys if (c := _candidates(results, order, k)) is not None}
    fac = pd.concat([r.facilities for r in results], ignore_index=True) if results else pd.DataFrame()
    reached = pd.concat([r.reached for r in results], ignore_index=True) if results else pd.DataFrame()
    stats = tuple({"task": r.label, **dict(r.stats)} for r in results)
    found = tuple(n for r in results for n in r.notices)
    return AreaParts(area, index, pts, tuple(tiers), demand, fac, reached, cands, stats, found, since(t0))


@dataclass(frozen=True)
class AreaView:
    """What an area's figures, or one tier's gaps, read of its residents: small and cheap to
    send to another worker (no shapely objects, no facility ids, no other tier's times).

    Attributes
    ----------
    frame
        :data:`VIEW_COLUMNS` and ``time_<tier>`` of ``tiers``, in the area's resident order.
    lon, lat
        The residents' positions (EPSG:4326), the same floats as the area's point geometries.
    source
        The population source record (:attr:`carecover.inputs.demand.Demand.source`).
    tiers
        The tiers whose times ``frame`` holds (routed tiers only, in tier order).
    """

    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    source: Mapping[str, Any]
    tiers: tuple[str, ...]

    def points(self) -> gpd.GeoDataFrame:
        """The residents as the area's points: :data:`VIEW_COLUMNS`, the times, ``geometry``."""
        return gpd.GeoDataFrame(self.frame, geometry=gpd.points_from_xy(self.lon, self.lat), crs=4326)

    def demand(self, pts: gpd.GeoDataFrame) -> Demand:
        """The plan's :class:`Demand` of ``pts`` (:meth:`points`), as :func:`assemble` makes it."""
        return Demand(pts[[*VIEW_COLUMNS, "geometry"]], dict(self.source), None)


def area_view(parts: AreaParts, tiers: Sequence[str]) -> AreaView:
    """The :class:`AreaView` of ``parts`` for ``tiers`` (those it did not route are left out)."""
    keys = tuple(k for k in tiers if k in parts.tiers)
    xy = shapely.get_coordinates(parts.points.geometry.to_numpy())
    frame = pd.DataFrame(parts.points[[*VIEW_COLUMNS, *(f"time_{k}" for k in keys)]])
    return AreaView(frame, xy[:, 0].copy(), xy[:, 1].copy(), dict(parts.demand.source), keys)


def finish(parts: AreaParts, figs: list[dict], zones: Sequence[gpd.GeoDataFrame | None],
           seconds: Sequence[tuple[float, float]] = ()) -> AreaResult:
    """The :class:`AreaResult` from its parts, figures and the gap zones of every tier (tier
    order); ``seconds``: the wall and CPU seconds the figures and gaps took."""
    t0 = clock()
    gaps, hulls = join_gaps(zones)
    parts_s = [parts.seconds, *seconds, since(t0)]
    spent = (sum(w for w, _ in parts_s), sum(c for _, c in parts_s))
    return AreaResult(parts.area, parts.index, parts.points, parts.tiers, figs, gaps, hulls, parts.facilities,
                      parts.reached, parts.candidates, parts.stats, parts.notices, spent)


def merge_area(params: RunParams, area: str, index: int, admin: gpd.GeoDataFrame,
               results: Sequence[TaskResult]) -> AreaResult:
    """Merge an area's task results and compute its figures and gaps in one process (a region
    run does the same steps as separate tasks on the workers: :mod:`carecover.region.reduce`).

    Parameters
    ----------
    params
        The area's parameters.
    area, index
        The area's name and position.
    admin
        The area's polygon with its ``name`` (gap zones are named by it).
    results
        The area's task results, any order.
    """
    parts = assemble(params, area, index, results)
    t0 = clock()
    tiers = list(parts.tiers)
    figs = figures_of(params, parts.points, parts.demand, tiers)
    zones = [tier_gaps(params, parts.points, parts.demand, k, admin) for k in tiers]
    return finish(parts, figs, zones, [since(t0)])


def clock() -> tuple[float, float]:
    """Wall and CPU clocks now (:func:`since` gives the seconds spent from them)."""
    return time.perf_counter(), time.process_time()


def since(t0: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds since :func:`clock` gave ``t0``."""
    return time.perf_counter() - t0[0], time.process_time() - t0[1]

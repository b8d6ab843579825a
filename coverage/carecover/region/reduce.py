"""The area merges as a tree of Dask tasks on the workers, started as soon as an area's tasks end.

区域合并在工作进程上以任务树运行：某区域的任务一结束即开始合并（无需等待全部任务）。

Per area: one task puts its task results together (:func:`carecover.region.merge.assemble`,
on the worker that holds most of them), then its figures and the gaps of each tier run as
separate tasks (any worker: an area's gap tiers run side by side), and a last small task joins
them into the :class:`~carecover.region.merge.AreaResult`, the only thing that comes back to
the client. Merge tasks take precedence over routing tasks still queued: an area's merge runs
while other areas are still being routed, so the long merges do not all wait for the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd

from carecover.params import RunParams
from carecover.region import merge
from carecover.region.merge import AreaParts, AreaResult

__all__ = ["submit_merges", "assemble_task", "figures_task", "gaps_task", "finish_task", "complete_tiers",
           "MERGE_PRIORITY"]

#: Dask priority of the merge tasks (routing tasks have 0): a merge that is ready runs first.
MERGE_PRIORITY = 10


def assemble_task(params: RunParams, area: str, index: int, cache_root: Path | None, tiers: tuple[str, ...],
                  *items: Any) -> AreaParts:
    """An area's task results put together (futures resolved by Dask; cache keys read from
    the cache, for tasks finished in an earlier run); ``tiers`` as in
    :func:`carecover.region.merge.assemble`."""
    from carecover.region.schedule import load_cached

    return merge.assemble(params, area, index, load_cached(items, cache_root), tiers)


def figures_task(params: RunParams, parts: AreaParts) -> tuple[list[dict], tuple[float, float]]:
    """The area's figures (:func:`carecover.region.merge.figures_of`) and their wall and CPU
    seconds."""
    t0 = merge.clock()
    figs = merge.figures_of(params, parts.points, parts.demand, list(parts.tiers))
    return figs, merge.since(t0)


def gaps_task(params: RunParams, parts: AreaParts, key: str, name: str, geometry: Any
              ) -> tuple[gpd.GeoDataFrame | None, tuple[float, float]]:
    """One tier's gap zones over the whole area (:func:`carecover.region.merge.tier_gaps`;
    ``None`` for a tier none of the area's tasks routed) and their wall and CPU seconds."""
    if key not in parts.tiers:
        return None, (0.0, 0.0)
    t0 = merge.clock()
    admin = gpd.GeoDataFrame({"name": [name]}, geometry=[geometry], crs=4326)
    zones = merge.tier_gaps(params, parts.points, parts.demand, key, admin)
    return zones, merge.since(t0)


def finish_task(parts: AreaParts, figs: tuple[list[dict], Any], *zones: tuple[Any, Any]) -> AreaResult:
    """The area's result from its parts, figures and every tier's gap zones (tier order)."""
    return merge.finish(parts, figs[0], [z for z, _ in zones], [figs[1], *(s for _, s in zones)])


def submit_merges(client: Any, plans: Sequence[Any], tasks: Sequence[Any], futures: dict[str, Any],
                  cache_root: Path | None, tiers: Sequence[str] = ()) -> list[Any]:
    """Submit every area's merge tree; returns one future per area (its
    :class:`~carecover.region.merge.AreaResult`), in the plans' order.

    Parameters
    ----------
    client
        The ``distributed.Client``.
    plans
        The areas (:class:`carecover.region.specs.AreaPlan`).
    tasks
        Every task spec (:class:`carecover.region.task.TaskSpec`).
    futures
        Futures of the tasks submitted, by task key; a task not in it is read from the cache.
    cache_root
        The task cache folder.
    tiers
        Tiers every area states (the region's routed tiers), see
        :func:`carecover.region.merge.assemble`.
    """
    out = []
    kw = {"pure": False, "priority": MERGE_PRIORITY}
    for plan in plans:
        a, params = plan.spec, plan.params
        tag = f"carecover-area-{a.index}" + ("-all-tiers" if tiers else "")
        items = [futures.get(t.key, t.key) for t in tasks if t.area == a.name]
        parts = client.submit(assemble_task, params, a.name, a.index, cache_root, tuple(tiers), *items, key=f"{tag}-assemble", **kw)
        figs = client.submit(figures_task, params, parts, key=f"{tag}-figures", **kw)
        # every tier of the area's parameters, in their order: a tier no task routed gives none
        zones = [client.submit(gaps_task, params, parts, k, a.name, a.geometry, key=f"{tag}-gaps-{i}", **kw)
                 for i, k in enumerate(params.tiers)]
        out.append(client.submit(finish_task, parts, figs, *zones, key=tag, **kw))
    return out


def complete_tiers(client: Any, plans: Sequence[Any], tasks: Sequence[Any], futures: dict[str, Any],
                   cache_root: Path | None, areas: list[AreaResult]) -> list[AreaResult]:
    """Merge again, on the workers, each area that lacks a tier another area routed (no
    facility of that tier within its halo, or no street at all): its residents then count in
    that tier's totals as not reached, so that no resident leaves a region denominator."""
    routed = list(dict.fromkeys(k for a in areas for k in a.tiers))
    redo = [i for i, a in enumerate(areas) if (set(routed) & set(plans[i].params.tiers)) - set(a.tiers)]
    if not redo:
        return areas
    again = submit_merges(client, [plans[i] for i in redo], tasks, futures, cache_root, tiers=routed)
    out = list(areas)
    for i, result in zip(redo, client.gather(again), strict=True):
        out[i] = result
    return out

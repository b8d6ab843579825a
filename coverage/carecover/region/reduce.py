"""The area merges as a tree of Dask tasks on the workers, started as soon as an area's tasks end.

区域合并在工作进程上以任务树运行：某区域的任务一结束即开始合并（无需等待全部任务）。

Per area: one task puts its task results together (:func:`carecover.region.merge.assemble`,
on the worker that holds most of them), then its figures and the gaps of each tier run as
separate tasks (any worker: an area's gap tiers run side by side), and a last small task joins
them into the :class:`~carecover.region.merge.AreaResult`, the only thing that comes back to
the client. The figures and each gap tier read an :class:`~carecover.region.merge.AreaView`
cut from the assembled parts where they lie (a task of its own, milliseconds): when the other
worker takes a gap tier, only the columns that tier reads travel, not the whole area. Dask is
told the real size of these results (:mod:`carecover.region._sizes`), so it leaves a step
beside its data unless moving it pays. Merge tasks take precedence over routing tasks still
queued: an area's merge runs while other areas are still being routed, so the long merges do
not all wait for the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import geopandas as gpd

from carecover.params import RunParams
from carecover.region import merge
from carecover.region._sizes import register as register_sizes
from carecover.region.merge import AreaParts, AreaResult, AreaView

__all__ = ["submit_merges", "merge_key", "assemble_task", "view_task", "figures_task", "gaps_task", "finish_task",
           "complete_tiers", "MERGE_PRIORITY"]

#: Dask priority of the merge tasks (routing tasks have 0): a merge that is ready runs first.
MERGE_PRIORITY = 10


def assemble_task(params: RunParams, area: str, index: int, cache_root: Path | None, tiers: tuple[str, ...],
                  *items: Any) -> AreaParts:
    """An area's task results put together (futures resolved by Dask; cache keys read from
    the cache, for tasks finished in an earlier run); ``tiers`` as in
    :func:`carecover.region.merge.assemble`."""
    from carecover.region.schedule import load_cached

    register_sizes()
    return merge.assemble(params, area, index, load_cached(items, cache_root), tiers)


def view_task(parts: AreaParts, tiers: tuple[str, ...]) -> AreaView:
    """What the figures (every tier) or one tier's gaps read of the area
    (:func:`carecover.region.merge.area_view`), cut where ``parts`` lies."""
    register_sizes()
    return merge.area_view(parts, tiers)


def figures_task(params: RunParams, view: AreaView) -> tuple[list[dict], tuple[float, float]]:
    """The area's figures (:func:`carecover.region.merge.figures_of`) and their wall and CPU
    seconds."""
    t0 = merge.clock()
    pts = view.points()
    figs = merge.figures_of(params, pts, view.demand(pts), list(view.tiers))
    return figs, merge.since(t0)


def gaps_task(params: RunParams, view: AreaView, key: str, name: str, geometry: Any
              ) -> tuple[gpd.GeoDataFrame | None, tuple[float, float]]:
    """One tier's gap zones over the whole area (:func:`carecover.region.merge.tier_gaps`;
    ``None`` for a tier none of the area's tasks routed) and their wall and CPU seconds."""
    if key not in view.tiers:
        return None, (0.0, 0.0)
    t0 = merge.clock()
    admin = gpd.GeoDataFrame({"name": [name]}, geometry=[geometry], crs=4326)
    pts = view.points()
    zones = merge.tier_gaps(params, pts, view.demand(pts), key, admin)
    return zones, merge.since(t0)


def finish_task(parts: AreaParts, figs: tuple[list[dict], Any], *zones: tuple[Any, Any]) -> AreaResult:
    """The area's result from its parts, figures and every tier's gap zones (tier order), with
    the files of its folder that need only the area rendered here, on the worker
    (:func:`carecover.region.outputs.render_area_files`): the client then only writes them."""
    from carecover.region.outputs import render_area_files

    register_sizes()
    result = merge.finish(parts, figs[0], [z for z, _ in zones], [figs[1], *(s for _, s in zones)])
    t0 = merge.clock()
    files = render_area_files(result)
    wall, cpu = merge.since(t0)
    spent = (result.merge_seconds[0] + wall, result.merge_seconds[1] + cpu)
    return replace(result, files=files, merge_seconds=spent)


#: Expected duration of a view (:func:`view_task`) before the scheduler has timed one.
VIEW_SECONDS = "5ms"


def _hint_durations() -> None:
    """Tell a scheduler in this process (a local cluster's) that a view takes milliseconds.

    Without it the scheduler takes an untimed step for ``unknown-task-duration`` (0.5 s) and
    may hand the first areas' views to an idle worker, moving the whole assembled area there;
    known to be short, a view stays beside its data. A remote scheduler keeps its own
    configuration (it learns the duration after the first view).
    """
    import dask

    key = "distributed.scheduler.default-task-durations"
    known = dict(dask.config.get(key, default={}) or {})
    missing = {p: VIEW_SECONDS for p in ("carecover-view", "carecover-view-all") if p not in known}
    if missing:
        dask.config.set({key: {**known, **missing}})


def merge_key(step: str, index: int, tiers: Sequence[str] = (), tier: int | None = None) -> str:
    """The Dask key of a merge step of area ``index``: ``carecover-<step>[-all]-<index>[-<tier>]``
    (``-all``: merged again with every tier of the region). Each step has its own key prefix,
    so the scheduler learns each step's duration apart (a cut of milliseconds is not taken
    for a gap tier of seconds when it decides whether moving a step to another worker pays)."""
    return f"carecover-{step}{'-all' if tiers else ''}-{index}" + ("" if tier is None else f"-{tier}")


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
    _hint_durations()
    out = []
    kw = {"pure": False, "priority": MERGE_PRIORITY}
    for plan in plans:
        a, params = plan.spec, plan.params
        items = [futures.get(t.key, t.key) for t in tasks if t.area == a.name]
        parts = client.submit(assemble_task, params, a.name, a.index, cache_root, tuple(tiers), *items,
                              key=merge_key("parts", a.index, tiers), **kw)
        view = client.submit(view_task, parts, tuple(params.tiers), key=merge_key("view", a.index, tiers), **kw)
        figs = client.submit(figures_task, params, view, key=merge_key("figures", a.index, tiers), **kw)
        # every tier of the area's parameters, in their order: a tier no task routed gives none
        zones = []
        for i, k in enumerate(params.tiers):
            one = client.submit(view_task, parts, (k,), key=merge_key("view", a.index, tiers, i), **kw)
            zones.append(client.submit(gaps_task, params, one, k, a.name, a.geometry,
                                       key=merge_key("gaps", a.index, tiers, i), **kw))
        out.append(client.submit(finish_task, parts, figs, *zones, key=merge_key("area", a.index, tiers), **kw))
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

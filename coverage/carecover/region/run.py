"""``carecover region``: many areas on a Dask cluster, exact across their borders.

区域运行：多个区县/城市在 Dask 集群上计算，跨边界精确。
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carecover import notices, settings
from carecover.outputs import outfolder
from carecover.plan.resolve import suggest_counts
from carecover.region import cluster, outputs, reduce, schedule, specs
from carecover.region import siting as region_siting
from carecover.region.areas import read_areas
from carecover.region.cache import TaskCache
from carecover.region.merge import AreaResult
from carecover.region.options import RegionOptions
from carecover.region.summary import region_summary
from carecover.utils import log

__all__ = ["RegionRun", "run_region"]


@dataclass
class RegionRun:
    """What a region run did.

    Attributes
    ----------
    written
        Output files (relative name → path).
    areas
        The merged areas, in file order.
    computed, cached
        Task keys computed in this run and found in the cache.
    seconds
        Wall times: ``tasks`` (submission to the last task), ``merge`` (last task to the last
        merged area), ``cluster`` (submission to the last merged area), ``total`` (the whole
        run), ``outputs`` (sites, summary and files, on the client); ``merge_busy`` and
        ``merge_cpu``: wall and CPU seconds of the merge steps, summed over the workers;
        ``cluster_cpu``, ``submit_cpu`` and ``outputs_cpu``: the client process's CPU seconds in
        the cluster part (with a local cluster, the scheduler's too), in submitting the tasks
        and merges, and in the outputs.
    dashboard
        The dashboard line printed.
    """

    written: dict[str, Path]
    areas: list[AreaResult]
    computed: list[str]
    cached: list[str]
    seconds: dict[str, float] = field(default_factory=dict)
    dashboard: str = ""


def _cache_dir(opts: RegionOptions) -> Path:
    if isinstance(opts.cache, (str, Path)):
        return Path(opts.cache)
    return settings.cache_dir


def run_region(opts: RegionOptions, client: Any = None) -> RegionRun:
    """Run every area of the areas file on a Dask cluster and write the region outputs.

    Parameters
    ----------
    opts
        The options (:class:`RegionOptions`).
    client
        A ``distributed.Client`` to use (tests, notebooks); by default one is made from
        ``opts.workers`` / ``opts.scheduler`` and closed afterwards.
    """
    t0 = time.perf_counter()
    out = Path(opts.out or "out_region")
    cache_dir = _cache_dir(opts)
    cluster.check_workers(opts.workers)
    with notices.collect():
        # the areas and their inputs
        areas = read_areas(opts.areas)
        # the output folder, refused before any work when it cannot be written or is an input
        outfolder.check_folder(out)
        # every area's parameters, resolved once by the plan's resolver
        plans = specs.resolve_areas(areas, out, cache_dir, walk_speed_mps=opts.walk_speed_mps, lang=opts.lang,
                                    command=opts.command or "")
        inputs = region_inputs(areas, plans)
        outfolder.refuse_inputs_early(out, inputs, outputs.RESERVED, outputs.RESERVED_DIRS)
        _check_registers(plans)
        # tasks: areas split into tiles, each with its halo
        suggest = suggest_counts(opts.suggest or (), plans[0].params.tiers)
        tasks, prepares = specs.task_specs(plans, areas, cache_dir, suggest=suggest,
                                           candidate_cell_m=opts.candidate_cell_m)
        log(f"区域 / areas: {len(plans)}, 任务 / tasks: {len(tasks)}")
        # the cluster: tasks the cache lacks, then one merge per area on the workers
        task_cache = TaskCache(None if opts.cache is False else cache_dir / "region" / "tasks")
        run = _on_cluster(opts, client, plans, tasks, task_cache, prepares, cache_dir)
        t_out, c_out = time.perf_counter(), time.process_time()
        # sites: each area's planned counts, or one region-wide budget solved once
        polygons = [(p.spec.index, p.spec.geometry) for p in plans]
        sites, site_info = region_siting.region_sites(
            run.areas, plans[0].params.tiers, polygons, suggest=suggest,
            planned={p.spec.index: p.spec.planned for p in plans},
            time_limit=opts.exact_time_limit_s or settings.exact_time_limit_s)
        # region outputs, built once
        summary = region_summary(plans, tasks, run.areas, site_info, opts)
        run.written = outputs.write_outputs(out, run.areas, {p.spec.name: p.spec.geometry for p in plans}, summary,
                                            sites, {p.spec.name: specs.safe_name(p.spec.name) for p in plans},
                                            inputs)
        run.seconds.update(outputs=time.perf_counter() - t_out, outputs_cpu=time.process_time() - c_out)
    run.seconds["total"] = time.perf_counter() - t0
    log(f"完成 / done in {run.seconds['total']:.1f} s → {out}")
    return run


def _check_registers(plans) -> None:
    """Read every local register once here, before any task starts: a bad register stops the
    run with one line naming it, instead of failing on the workers (never retried there)."""
    from carecover.inputs.registers import read_register
    from carecover.region.sources import is_url

    seen = set()
    for plan in plans:
        p = plan.params
        for path in p.facilities:
            if is_url(str(path)) or str(path) in seen:
                continue
            seen.add(str(path))
            read_register(path, crs=p.crs_in, sheet=p.sheet, strict=p.strict)


def region_inputs(areas, plans) -> dict[Path, Path]:
    """Every local input file of a region run (``file://`` URLs included): the areas file,
    every file it names (boundaries, registers, configs …) and every area's resolved inputs."""
    named: list[str | Path] = [areas.path]
    try:
        import tomllib

        doc = tomllib.loads(Path(areas.path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}

    def strings(v):
        if isinstance(v, str):
            yield v
        elif isinstance(v, dict):
            for x in v.values():
                yield from strings(x)
        elif isinstance(v, list):
            for x in v:
                yield from strings(x)

    base = Path(areas.path).parent
    for text in strings(doc):
        if "\n" not in text and len(text) < 4096:
            named.append(text if "://" in text else base / text)
    for a in areas.areas:
        named += [a.network, *a.facilities, a.population, a.config]
    named += [p for plan in plans for p in plan.params.input_paths()]
    return outfolder.input_files(p for p in named if p)


def _on_cluster(opts: RegionOptions, client: Any, plans, tasks, task_cache: TaskCache, prepares: dict,
                cache_dir: Path) -> RegionRun:
    own = client is None
    ctx = cluster.connect(opts.workers, opts.scheduler, dashboard=bool(opts.dashboard)) if own else None
    client = ctx.__enter__() if own else client
    try:
        line = cluster.dashboard_text(client)
        log(line)
        t0, c0 = time.perf_counter(), time.process_time()
        sched = schedule.submit_tasks(client, tasks, task_cache, prepares, cache_dir)
        # each area's merge tree, on the workers, starting as soon as the area's tasks end
        merges = reduce.submit_merges(client, plans, tasks, sched.futures, task_cache.root)
        submit_cpu = time.process_time() - c0
        schedule.wait_tasks(sched)
        t1 = time.perf_counter()
        areas = reduce.complete_tiers(client, plans, tasks, sched.futures, task_cache.root, client.gather(merges))
        t2 = time.perf_counter()
        # the warnings the tasks raised, once each (they are also in region_summary.json)
        notices.replay(dict.fromkeys(n for a in areas for n in a.notices))
        log(f"区域合并 / areas merged {t2 - t1:.1f} s after the last task")
        return RegionRun({}, list(areas), list(sched.futures), sched.cached,
                         {"tasks": sched.seconds, "merge": t2 - t1, "cluster": t2 - t0,
                          "cluster_cpu": time.process_time() - c0, "submit_cpu": submit_cpu,
                          "merge_busy": sum(a.merge_seconds[0] for a in areas),
                          "merge_cpu": sum(a.merge_seconds[1] for a in areas)}, line)
    finally:
        if own:
            ctx.__exit__(None, None, None)

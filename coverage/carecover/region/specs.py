"""From the areas file to tasks: each area's parameters resolved once, split into tiles.

从区域文件到任务：逐区域解析参数，大区域切分为瓦片，每个任务带外延。
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely

from carecover.config import load_config
from carecover.errors import InputError
from carecover.inputs.boundaries import buffered
from carecover.network.readers import reader_for
from carecover.params import RunParams
from carecover.plan.options import PlanOptions
from carecover.plan.resolve import resolve
from carecover.region.areas import Areas, AreaSpec
from carecover.region.cache import task_key
from carecover.region.halo import mode_halos_m
from carecover.region.sources import is_url, local_path
from carecover.region.streets import prepared_path
from carecover.region.task import TaskSpec
from carecover.region.tiles import Grid, clip_polygon, grid_of, tiles_of

__all__ = ["AreaPlan", "resolve_areas", "task_specs", "DEFAULT_CANDIDATE_CELL_M"]

#: Grid cell (m) thinning junction candidates region-wide.
DEFAULT_CANDIDATE_CELL_M = 250.0


@dataclass(frozen=True)
class AreaPlan:
    """An area with its resolved parameters.

    Attributes
    ----------
    spec
        The area as the areas file gives it.
    params
        Its :class:`RunParams` (local input files; ``facilities`` its own registers;
        ``suggest`` its planned counts).
    sources
        Its inputs as given (paths or URLs), to hand to workers.
    """

    spec: AreaSpec
    params: RunParams
    sources: dict[str, Any]


def resolve_areas(areas: Areas, out: Path, cache_dir: Path, *, walk_speed_mps: float | None = None,
                  lang: str | None = None, command: str = "") -> list[AreaPlan]:
    """Resolve every area's parameters once, through the plan's own resolver.

    URL inputs are copied once into the cache (their content is hashed for the task keys);
    the workers read them by URL again (:func:`carecover.region.sources.local_path`).
    """
    plans = []
    for a in areas.areas:
        def loc(p):
            return None if p is None else local_path(p, cache_dir)

        cfg = load_config(loc(a.config)) if a.config else None
        opts = PlanOptions(network=loc(a.network), facilities=tuple(loc(f) for f in a.facilities),
                           out=out / "areas" / safe_name(a.name), config=cfg, population=loc(a.population),
                           population_field=a.population_field, total_population=a.total_population,
                           suggest=tuple(a.planned.items()), walk_speed_mps=walk_speed_mps, cache=cache_dir,
                           lang=lang, command=command, gaode_map=False)
        params = resolve(opts)
        if params.tier_profiles or params.site_profiles:  # not routed per profile in region tasks yet
            key = next(iter(params.tier_profiles or params.site_profiles))
            raise InputError(f"a tier measured or sited with a mobility profile ('{key}') is not supported in region "
                             "runs yet; run `carecover plan` for that area / 区域运行暂不支持按出行能力档案的层级",
                             file=cfg.path if cfg is not None else None, field=f"tiers.{key}.profile")
        # the network's file type is checked here, once, in one line (not by every worker)
        reader_for(params.network)
        sources = {"network": a.network, "facilities": a.facilities, "population": a.population}
        plans.append(AreaPlan(a, params, sources))
    return plans


#: Longest folder name kept as it is (characters; a longer name is cut and marked).
MAX_FOLDER_CHARS = 60


def safe_name(name: str) -> str:
    """The folder name of an area: one safe, injective rule.

    A name made only of letters, digits (any script), ``_``, ``-``, spaces and inner dots, of at
    most :data:`MAX_FOLDER_CHARS` characters, is its own folder name. Any other name has its
    other characters replaced by ``_``, is cut to that length, and ends with ``~`` and 10 hex
    digits of its SHA-256 (``a/b`` → ``a_b~…``, while ``a_b`` stays ``a_b``): kept names never
    contain ``~``, so two names never share a folder (up to a SHA-256 collision), and no name can
    leave ``areas/`` or be too long for a file system.
    """
    import hashlib

    def ok(c: str) -> bool:
        return c.isalnum() or c in "_- ."

    text = str(name)
    clean = "".join(c if ok(c) else "_" for c in text)
    if clean == text and text and text.strip(" .") == text and len(text) <= MAX_FOLDER_CHARS:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{clean.strip(' .')[:MAX_FOLDER_CHARS] or 'area'}~{digest}"


def _as_given(params: RunParams, sources: dict[str, Any], registers: tuple[str, ...]) -> RunParams:
    """Parameters that name URL inputs by their URL (workers fetch them)."""
    network = sources["network"] if is_url(sources["network"]) else params.network
    population = sources["population"] if sources["population"] and is_url(sources["population"]) \
        else params.population
    return replace(params, network=network, population=population, facilities=tuple(registers))


def _group_frame(plans: list[AreaPlan], members: list[int]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": [plans[i].spec.name for i in members], "level": "county",
                             "index": members}, geometry=[plans[i].spec.geometry for i in members], crs=4326)


def _siting_tiers(plan: AreaPlan, suggest: dict[str, int]) -> tuple[str, ...]:
    if suggest:
        return tuple(k for k, n in suggest.items() if n > 0)
    return tuple(k for k, n in plan.spec.planned.items() if n > 0)


def _register_firsts(plans: list[AreaPlan]) -> dict[tuple[int, str], tuple[str, ...]]:
    """Per (area index, first tile label): the registers whose records without a position or
    outside every area it lists (each register by the first area naming it)."""
    first: dict[str, int] = {}
    for i, p in enumerate(plans):
        for f in p.params.facilities:
            first.setdefault(Path(f).name, i)
    out: dict[tuple[int, str], list[str]] = {}
    for name, i in first.items():
        a = plans[i].spec
        label = tiles_of(a.geometry, grid_of(a.geometry, a.tile_m))[0].label if a.tile_m else ""
        out.setdefault((i, label), []).append(name)
    return {k: tuple(v) for k, v in out.items()}


def candidate_grid(areas: Areas, cell_m: float) -> Grid:
    """The region-wide grid thinning junction candidates (the same in every task)."""
    union = shapely.union_all([a.geometry for a in areas.areas])
    g = grid_of(union, cell_m)
    return Grid(g.crs_wkt, 0.0, 0.0, float(cell_m))


def task_specs(plans: list[AreaPlan], areas: Areas, cache_dir: Path, *, suggest: dict[str, int] | None = None,
               candidate_cell_m: float | None = None) -> tuple[list[TaskSpec], dict[str, tuple]]:
    """Every task of the region run: one per area, or one per tile of a tiled area.

    Parameters
    ----------
    plans
        The areas with their parameters (:func:`resolve_areas`).
    areas
        The areas file.
    cache_dir
        Cache folder (task results, stage cache, copies of URL inputs).
    suggest
        Region-wide budgets (``{tier key: count}``, checked by
        :func:`carecover.plan.resolve.suggest_counts`), or ``None`` for each area's planned counts.
    candidate_cell_m
        Candidate thinning cell (m).

    Returns
    -------
    (tasks, prepares)
        The tasks, and per street-arrays file the ``(network as given, clip)`` to read it from
        (:func:`carecover.region.streets.prepare`).
    """
    suggest = dict(suggest or {})
    cgrid = candidate_grid(areas, candidate_cell_m or DEFAULT_CANDIDATE_CELL_M)
    geoms = [p.spec.geometry for p in plans]
    groups: dict[str, list[int]] = {}
    for i, p in enumerate(plans):
        groups.setdefault(p.spec.population_group, []).append(i)
    out, prepares = [], {}
    union_all = shapely.union_all(geoms)
    firsts = _register_firsts(plans)
    for i, plan in enumerate(plans):
        a, params = plan.spec, plan.params
        members = groups[a.population_group]
        group = _group_frame(plans, members)
        union = shapely.union_all(group.geometry.values)
        neighbours = tuple((j, g) for j, g in enumerate(geoms) if g.intersects(union))
        halos = mode_halos_m(params)
        grid = grid_of(a.geometry, a.tile_m) if a.tile_m else None
        tiles = tiles_of(a.geometry, grid) if grid is not None else [None]
        labels = tuple(t.label for t in tiles if t is not None)
        area_clip = buffered(a.geometry, max(halos.values()))
        streets = prepared_path(params.network, area_clip, cache_dir)
        group_regs = tuple(dict.fromkeys(f for m in members for f in plans[m].params.facilities))
        group_src = tuple(dict.fromkeys(s for m in members for s in plans[m].sources["facilities"]))
        for tile in tiles:
            clips = {m: clip_polygon(a.geometry, h, grid, tile) for m, h in sorted(halos.items())}
            widest = max(clips.values(), key=lambda g: g.area)
            near = [j for j, g in enumerate(geoms) if g.intersects(widest)]
            regs = tuple(dict.fromkeys([*params.facilities, *[f for j in near for f in plans[j].params.facilities]]))
            srcs = tuple(dict.fromkeys([*plan.sources["facilities"],
                                        *[f for j in near for f in plans[j].sources["facilities"]]]))
            region = shapely.union_all([geoms[j] for j in near])
            local = replace(params, facilities=regs)
            parts = {"area": a.name, "index": i, "tile": tile.label if tile else "", "tiles": list(labels),
                     "grid": grid, "clips": {m: shapely.to_wkb(c, hex=True) for m, c in clips.items()},
                     "neighbours": [(j, shapely.to_wkb(g, hex=True)) for j, g in neighbours],
                     "group": [(int(m), plans[m].spec.name, shapely.to_wkb(plans[m].spec.geometry, hex=True))
                               for m in members],
                     "siting": list(_siting_tiers(plan, suggest)), "cgrid": cgrid, "region": region}
            key = task_key(local, parts, group_regs)
            out.append(TaskSpec(
                key=key, area=a.name, area_index=i, params=_as_given(local, plan.sources, srcs), group=group,
                group_registers=group_src, clips=clips, neighbours=neighbours, grid=grid, tile=tile,
                tiles=labels, register_first=firsts.get((i, tile.label if tile else ""), ()),
                region_union=union_all if firsts.get((i, tile.label if tile else "")) else None,
                siting_tiers=_siting_tiers(plan, suggest), candidate_grid=cgrid, candidate_region=region,
                streets=str(streets)))
            prepares[str(streets)] = (plan.sources["network"], area_clip)
    return out, prepares

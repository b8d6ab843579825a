"""The Python front door: :func:`run_plan` and :func:`read_plan` (``carecover.run_plan`` …).

``run_plan`` takes what ``carecover plan`` takes — paths, or in-memory objects (a GeoDataFrame
register, boundary, population or candidate sites; ``city="hohhot"``; ``suggest={"street_centre":
8}``) — resolves the parameters once through :func:`carecover.plan.resolve.resolve` (the same
validation and one-line errors as the command line) and computes the plan in memory
(:func:`carecover.plan.run.compute`): a :class:`~carecover.plan.result.Plan`. ``read_plan``
reads a published folder back into the same type.

A GeoDataFrame input is written once as GeoJSON (WGS-84) under ``<cache>/inputs/``, named by
the hash of its content, and read from there like any file: the stage cache, the summary's
input hashes and the outputs are those of a run on that file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carecover.errors import InputError

if TYPE_CHECKING:
    from carecover.config import CityConfig
    from carecover.plan.result import Plan

__all__ = ["read_plan", "run_plan"]

#: Options of :func:`run_plan` passed to :class:`~carecover.plan.options.PlanOptions` as they are.
_AS_GIVEN = ("population_field", "elderly_field", "min_distance_existing_m", "total_population",
             "walk_speed_mps", "crs_in", "sheet", "strict", "osm_facilities", "facility_isochrones",
             "exact_time_limit_s", "max_candidates", "max_candidates_drive", "min_spacing_m", "target_share",
             "objective", "map_min_gap_share", "gaode_map", "pdf", "workers", "sample_note", "lang", "inline_assets",
             "profiles", "year", "site_profile")


def _input_folder(cache: bool | str | Path | None) -> Path:
    from carecover import settings

    return (Path(cache) if isinstance(cache, (str, Path)) else settings.cache_dir) / "inputs"


def as_file(value: Any, role: str, cache: bool | str | Path | None = None) -> Path | None:
    """A path as given, or a GeoDataFrame written once as GeoJSON (WGS-84) named by its content.

    Parameters
    ----------
    value
        ``None``, a path, or a :class:`geopandas.GeoDataFrame`.
    role
        What it is (``facilities``, ``population`` …): the start of the file name.
    cache
        The run's ``cache`` option (the folder the file is written under).
    """
    if value is None:
        return None
    if isinstance(value, (str, Path)):
        return Path(value)
    import geopandas as gpd

    if not isinstance(value, gpd.GeoDataFrame):
        raise InputError(f"{role}: expected a file path or a GeoDataFrame, got {type(value).__name__} / "
                         "须为文件路径或 GeoDataFrame", field=role, expected="a path or a GeoDataFrame")
    if value.crs is None:
        raise InputError(f"{role}: the GeoDataFrame has no CRS / 未设置坐标系", field=role,
                         expected="a GeoDataFrame with a CRS (e.g. EPSG:4326)")
    text = value.to_crs(4326).to_json(drop_id=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    path = _input_folder(cache) / f"{role}-{digest}.geojson"
    if not path.is_file():
        from carecover.utils import atomic_write

        with atomic_write(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    return path


def _config(city: str | None, config: CityConfig | str | Path | None) -> CityConfig | None:
    from carecover.config import CityConfig, find_city_config, load_config

    if city is not None and config is not None:
        raise InputError("give city= or config=, not both / city 与 config 只能给一个", field="city")
    if isinstance(config, CityConfig) or config is None and city is None:
        return config
    return load_config(config if config is not None else find_city_config(city))


def _suggest(suggest: Mapping[str, int] | None) -> tuple[tuple[str, int], ...] | None:
    if suggest is None:
        return None
    if not isinstance(suggest, Mapping):
        raise InputError("suggest must map tiers to counts, e.g. {'street_centre': 8} / suggest 须为 {层级: 数量}",
                         field="suggest", expected="{'street_centre': 8}")
    return tuple((str(k), v) for k, v in suggest.items())


def run_plan(network: str | Path | None = None, facilities: Any = None, *, city: str | None = None,
             config: Any = None, boundary: Any = None, population: Any = None, elderly_raster: Any = None,
             candidates: Any = None, units: Mapping[str, Any] | None = None,
             suggest: Mapping[str, int] | None = None, cache: bool | str | Path | None = None,
             dem: str | Path | None = None,
             out: str | Path | None = None, command: str | None = None, **options: Any) -> Plan:
    """Compute a plan from Python: the options of ``carecover plan``, paths or in-memory objects.

    Parameters
    ----------
    network
        The OSM extract (``.osm.pbf``, ``.osm``, GraphML …); from the city config when not given.
    facilities
        A register file, a GeoDataFrame (points, columns such as ``name``/``名称`` and
        ``tier``/``层级``), or a list of them.
    city, config
        A shipped city (``"hohhot"``) or a config TOML (path or :class:`~carecover.config.CityConfig`).
    boundary, population, elderly_raster, candidates
        Files or GeoDataFrames (a raster as a path).
    units
        ``{"township": file or GeoDataFrame}``: unit boundaries for administrative coverage.
    suggest
        New sites per tier, e.g. ``{"street_centre": 8}``.
    cache
        ``False`` for no caches, a folder, or the default folder (``None``).
    out
        The folder :meth:`Plan.publish` writes by default (checked now as the command line does;
        nothing is written by this function).
    command
        The command stated in the outputs (default: this call).
    **options
        Any other option of :class:`~carecover.plan.options.PlanOptions` by name:
        ``walk_speed_mps``, ``total_population``, ``population_field``, ``crs_in``, ``sheet``,
        ``objective``, ``exact_time_limit_s``, ``max_candidates``, ``min_spacing_m``,
        ``target_share``, ``workers``, ``lang``, ``profiles`` (mobility profiles side by side:
        ``["elderly", "step_free", "winter", "slope"]`` or ``"step_free+winter"``), ``year``
        (the projected elderly of that year beside today's, from the config's ``[projection]``:
        :attr:`Plan.projection`), ``site_profile`` (site the planned walk tiers for a mobility
        profile, e.g. ``"step_free"``) …
    dem
        DEM file for the ``slope`` profile (``.hgt``, ``.hgt.zip``, GeoTIFF).

    Returns
    -------
    Plan
        The results in memory (:class:`carecover.plan.result.Plan`).

    Raises
    ------
    InputError
        What ``carecover plan`` refuses with exit status 2, with the same message.
    """
    from carecover.plan import PlanOptions, resolve
    from carecover.plan.run import compute

    unknown = sorted(set(options) - set(_AS_GIVEN))
    if unknown:
        raise InputError(f"unknown option(s) {', '.join(unknown)} / 未知参数", field=unknown[0],
                         expected=", ".join(sorted(_AS_GIVEN)))
    regs = facilities if isinstance(facilities, (list, tuple)) else ([] if facilities is None else [facilities])
    opts = PlanOptions(
        network=as_file(network, "network", cache),
        facilities=tuple(as_file(f, "facilities", cache) for f in regs) or None,
        out=Path(out) if out is not None else None, config=_config(city, config),
        boundary=as_file(boundary, "boundary", cache), population=as_file(population, "population", cache),
        elderly_raster=as_file(elderly_raster, "elderly_raster", cache),
        candidates=as_file(candidates, "candidates", cache),
        units=tuple((k, as_file(v, f"units-{k}", cache)) for k, v in (units or {}).items()) or None,
        suggest=_suggest(suggest), cache=cache, dem=Path(dem) if dem is not None else None, command=command if command is not None else _call(locals()),
        **options)
    return compute(resolve(opts))


def _call(given: dict[str, Any]) -> str:
    """This call as the outputs state it: ``carecover.run_plan(network='…', …)``."""
    parts = []
    for name in ("network", "facilities", "city", "config", "boundary", "population", "suggest"):
        value = given.get(name)
        if isinstance(value, Path):
            value = str(value)
        if value is not None:
            parts.append(f"{name}={value!r}" if isinstance(value, (str, dict, int, float)) else
                         f"{name}=<{type(value).__name__}>")
    parts += [f"{k}={v!r}" for k, v in sorted(given.get("options", {}).items())]
    return f"carecover.run_plan({', '.join(parts)})"


def read_plan(out: str | Path) -> Plan:
    """Read a published folder back into a :class:`~carecover.plan.result.Plan`.

    Figures and siting come from ``summary.json``, the tables from ``carecover.gpkg``, the
    parameters from the summary (``params.out`` is the folder), the what-if states from
    ``state/``. ``read_plan(out).figures`` equals the computed plan's.

    Raises
    ------
    InputError
        No ``summary.json`` (or not a carecover one) in ``out``.
    """
    from carecover.plan.readback import read_plan as read

    return read(Path(out))

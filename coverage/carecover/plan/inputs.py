"""Stage 3 — inputs: the facility registers and the population, each read once.

Every register record is kept with its status (nothing silently dropped); the population
becomes demand points with their elderly share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from carecover.config.capacity import CapacityRule
from carecover.errors import InputError
from carecover.inputs import population, registers
from carecover.inputs.capacity import facility_capacity
from carecover.inputs.demand import Demand
from carecover.inputs.facilities import Register
from carecover.inputs.osm_facilities import facilities_from_osm
from carecover.network import StreetNetwork
from carecover.params import RunParams
from carecover.plan import crs_evidence
from carecover.plan.area import StudyArea
from carecover.tiers import INSTITUTION_MEASURE


@dataclass(frozen=True)
class Facilities:
    """Every facility record of the run.

    Attributes
    ----------
    frame
        Facilities contract (EPSG:4326), one row per record of every source, ``fid`` unique.
    registers
        How each source was read (one :class:`~carecover.inputs.facilities.Register` info
        per file, OSM included).
    crs_check
        Whether the declared coordinate system puts the facilities on the streets
        (:func:`carecover.inputs.registers.crs_plausibility`), all registers together.
    crs_checks
        The same per register file (``file``, ``verdict``, ``evidence`` …:
        :func:`carecover.plan.crs_evidence.check_registers`).
    """

    frame: gpd.GeoDataFrame
    registers: tuple[dict, ...] = ()
    crs_check: dict | None = None
    crs_checks: tuple[dict, ...] = ()


def _read_sources(params: RunParams, area: StudyArea) -> list[Register]:
    vocab = params.config.vocabulary() if params.config is not None else None
    regs = [registers.read_register(p, crs=params.crs_in, boundary=area.polygon, sheet=params.sheet,
                                    strict=params.strict, vocabulary=vocab)
            for p in params.facilities]
    if params.osm_facilities:
        regs.append(facilities_from_osm(params.network, boundary=area.polygon))
    return regs


def _unique_ids(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Ids repeated across files are prefixed with their file name, so ids key joins downstream."""
    dup = frame["fid"].duplicated(keep=False)
    if dup.any():
        frame = frame.copy()
        frame.loc[dup, "fid"] = frame.loc[dup, "source_file"].astype(str) + ":" + frame.loc[dup, "fid"].astype(str)
    return frame


def crs_check(frame: gpd.GeoDataFrame, net: StreetNetwork, max_snap_m: float,
              streets: crs_evidence.Distance | None = None) -> dict:
    """Does the declared coordinate system put facilities on the streets? A check, never a
    reason to stop the run. ``streets``: the distance to the streets of ``net``
    (:func:`carecover.plan.crs_evidence.street_distance` when not given)."""
    try:
        return registers.crs_plausibility(
            frame, crs_evidence.street_distance(net, max_snap_m) if streets is None else streets)
    except Exception as exc:  # noqa: BLE001 - a check only
        return {"warning": None, "reason": f"check not run: {exc}"}


def capacity_rules(params: RunParams) -> dict[str, CapacityRule]:
    """The run's capacity rules, and an institution's beds as its places where the config states
    no rule for the institutional tier (养老机构床位即服务能力)."""
    rules = dict(params.capacity)
    rules.setdefault("institution", CapacityRule(
        "institution", INSTITUTION_MEASURE, 1.0, source="carecover: 养老机构床位即服务能力 / an institution's beds are its places"))
    return rules


def read_facilities(params: RunParams, area: StudyArea, walk: StreetNetwork) -> Facilities:
    """Read every register (and OSM facilities when asked) into one Facilities frame.

    Parameters
    ----------
    params
        The run's parameters (registers, coordinate system, strict mode).
    area
        The study area: records outside it get ``outside_area``.
    walk
        The walking network, for the coordinate-system check.
    """
    regs = _read_sources(params, area)
    frames = [r.frame for r in regs]
    frame = pd.concat(frames, ignore_index=True) if frames else registers.empty_facilities()
    frame = _unique_ids(gpd.GeoDataFrame(frame, geometry="geometry", crs=4326))
    frame["tier_mode"] = frame["tier"].map(lambda k: params.tiers[k].mode if k in params.tiers else None)
    # supply in places: the register's measure of the tier, else the config's stated assumption
    frame["capacity"], frame["capacity_source"] = facility_capacity(frame, capacity_rules(params))
    # both checks ask the same street distances: each asked once
    streets = crs_evidence.remembered(crs_evidence.street_distance(walk, params.max_snap_m))
    return Facilities(frame, tuple(r.info for r in regs), crs_check(frame, walk, params.max_snap_m, streets),
                      crs_evidence.check_registers(frame, walk, params.max_snap_m, params.network, streets))


# ----------------------------------------------------------------------------- population

def _population_file(params: RunParams, area: StudyArea, counties) -> Demand:
    p = params.population
    if Path(p).suffix.lower() in (".tif", ".tiff"):
        return population.from_raster(p, counties if counties is not None else area.demand_polygon,
                                      bands=params.population_bands, elderly_raster=params.elderly_rasters or None,
                                      elderly_bands=params.elderly_bands, cell_polygons=True)
    return population.from_vector(p, params.population_field, elderly_field=params.elderly_field,
                                  boundary=area.demand_polygon)


def _elderly_only(params: RunParams, area: StudyArea, counties) -> Demand:
    """Elderly rasters without a total raster: the residents are the elderly (every figure then
    counts the elderly only; the ledger says so). Points are the populated pixels of the first
    elderly raster (WorldPop's age-sex groups share one grid), each with all groups summed."""
    import rasterio

    first = params.elderly_rasters[0]
    with rasterio.open(first) as src:
        bands = params.elderly_bands or tuple(range(1, src.count + 1))
    demand = population.from_raster(first, counties if counties is not None else area.demand_polygon,
                                    bands=bands, elderly_raster=params.elderly_rasters,
                                    elderly_bands=params.elderly_bands, cell_polygons=True)
    pts = demand.points.copy()
    pts["pop"] = pts["elderly"]
    return demand.with_points(pts, total_unknown=True, total_out=float(pts["pop"].sum()))


def _population_buildings(params: RunParams, area: StudyArea, counties) -> Demand:
    if params.total_population is None:
        raise InputError("no population: give --population FILE (raster or vector) or "
                         "--total-population N to spread over OSM buildings / 缺少人口数据",
                         field="population")
    return population.from_buildings(params.network, params.total_population,
                                     boundary=area.demand_polygon, districts=counties)


def _with_elderly(params: RunParams, demand: Demand) -> Demand:
    """Elderly from ``--elderly-share`` (everywhere), else the config's shares (per county where
    known) and default, else the built-in default (the ledger says so), unless the source gave them."""
    given = params.elderly_field is not None and params.population is not None \
        and Path(params.population).suffix.lower() not in (".tif", ".tiff")
    if given or not demand.points["elderly"].isna().any():
        return demand
    cfg = params.config
    share = params.elderly_share
    shares = ({c.name: c.elderly_share for c in cfg.counties if c.elderly_share is not None}
              if cfg and params.elderly_share_origin != "option" else {})
    try:
        return population.apply_elderly_share(demand, share, district_shares=shares or None)
    except InputError as exc:
        if cfg is None or exc.file is not None:
            raise
        raise InputError(exc.message, file=cfg.path, field="default_elderly_share",
                         expected=exc.expected) from exc


def read_demand(params: RunParams, area: StudyArea) -> Demand:
    """Demand points from the population raster/vector, else a total over OSM buildings.

    Residents are taken from inside the boundary only (the network alone keeps a routing
    margin beyond it); without a boundary, from the extract's extent, so a grid in the wrong
    place or CRS is an error rather than unreachable people.
    """
    counties = area.boundaries.counties
    if params.population is not None:
        demand = _population_file(params, area, counties)
    elif params.elderly_rasters:
        demand = _elderly_only(params, area, counties)
    else:
        demand = _population_buildings(params, area, counties)
    return _with_elderly(params, demand)

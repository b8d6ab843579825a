"""OSM building footprints → demand points, when no population grid exists.

由 OSM 建筑轮廓估算人口：按（轮廓面积 × 层数 × 居住权重）比例分配已知的总人口。

Steps of :func:`from_buildings`: check the totals and districts (before the slow read), read
the buildings over the study area's bounding box, measure footprints in the local UTM CRS,
weight them (:func:`building_weights`), share each district's total in proportion, and
record the source. Method notes and the tables: ``docs/population.md`` §3.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.inputs.population.common import (
    ELDERLY_UNKNOWN,
    WGS84,
    ConservationError,
    assign_names,
    boundary_frame,
    boundary_union,
    check_conservation,
    demand_frame,
    utm_for,
)
from carecover.inputs.population.footprints import read_footprints
from carecover.utils import file_sha256, log

__all__ = ["DEFAULT_LEVELS", "FALLBACK_LEVELS", "MAX_LEVELS", "BUILDING_WEIGHTS",
           "UNKNOWN_BUILDING_WEIGHT", "building_weights", "from_buildings"]

#: Storeys assumed when ``building:levels`` is absent, by ``building`` value (others: 1).
DEFAULT_LEVELS: dict[str, float] = {
    "apartments": 6, "dormitory": 5, "residential": 2, "house": 2, "detached": 2,
    "semidetached_house": 2, "terrace": 2, "farm": 2, "yes": 2, "bungalow": 1, "hut": 1,
    "cabin": 1, "static_caravan": 1, "ger": 1, "houseboat": 1,
}
#: Fallback storeys for building types not in :data:`DEFAULT_LEVELS`.
FALLBACK_LEVELS: float = 1.0
#: Largest credible ``building:levels`` (higher tags are treated as typos and capped).
MAX_LEVELS: float = 120.0

_RESIDENTIAL = ["apartments", "residential", "house", "detached", "semidetached_house",
                "terrace", "dormitory", "bungalow", "farm", "hut", "cabin", "static_caravan",
                "ger", "houseboat", "presbytery"]
_NON_RESIDENTIAL = [
    "commercial", "industrial", "retail", "office", "warehouse", "supermarket", "kiosk",
    "hotel", "school", "university", "college", "kindergarten", "hospital", "public", "civic",
    "government", "fire_station", "train_station", "transportation", "church", "chapel",
    "cathedral", "mosque", "temple", "shrine", "synagogue", "religious", "monastery",
    "garage", "garages", "carport", "parking", "shed", "roof", "hangar", "barn", "cowshed",
    "stable", "sty", "greenhouse", "glasshouse", "farm_auxiliary", "service", "utility",
    "transformer_tower", "water_tower", "tower", "bunker", "pavilion", "grandstand",
    "sports_hall", "sports_centre", "stadium", "museum", "toilets", "bridge", "construction",
    "ruins", "container", "storage_tank", "silo", "boathouse", "ship", "entrance",
    "underpass_entrance", "atrium", "digester", "power", "manufacture", "gatehouse",
    "slurry_tank", "tent", "railway", "data_center", "factory", "library", "post_office", "bank",
    "police", "prison", "military", "gasometer", "castle",
]
#: Weight per m² of floor by ``building`` value: residential 1, non-residential 0.
BUILDING_WEIGHTS: dict[str, float] = {**dict.fromkeys(_RESIDENTIAL, 1.0),
                                      **dict.fromkeys(_NON_RESIDENTIAL, 0.0), "yes": 0.5}
#: Weight for ``building=yes`` is 0.5 (above); values in neither list also get this.
UNKNOWN_BUILDING_WEIGHT: float = 0.5

_NUM = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def _parse_levels(values: pd.Series) -> np.ndarray:
    """First number in each ``building:levels`` value ("5", "3.5", "4;5", "2-3"), NaN if none."""
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values.to_numpy(dtype=object)):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        m = _NUM.search(str(v))
        if m:
            out[i] = float(m.group(0).replace(",", "."))
    return out


def building_weights(buildings: pd.DataFrame, *, default_levels: Mapping[str, float] | None = None,
                     weights: Mapping[str, float] | None = None,
                     area_m2: np.ndarray) -> pd.DataFrame:
    """Levels, weight and weighted floor area for each building row.

    Parameters
    ----------
    buildings
        Needs a ``building`` column and optionally ``building:levels``.
    default_levels, weights
        Overrides of :data:`DEFAULT_LEVELS` and :data:`BUILDING_WEIGHTS` by ``building`` value.
    area_m2
        Footprint area of each row (m²).

    Returns
    -------
    pandas.DataFrame
        ``building``, ``levels``, ``levels_tagged``, ``weight``, ``floor_m2``,
        ``weighted_m2``, in the order (and with the index) of ``buildings``.
    """
    levels_table = {**DEFAULT_LEVELS, **(default_levels or {})}
    weight_table = {**BUILDING_WEIGHTS, **(weights or {})}
    btype = buildings["building"].fillna("yes").astype(str).str.strip().str.lower()
    btype = btype.where(btype != "", "yes")
    tagged = (_parse_levels(buildings["building:levels"]) if "building:levels" in buildings
              else np.full(len(buildings), np.nan))
    tagged = np.where(tagged > 0, np.minimum(tagged, MAX_LEVELS), np.nan)
    default = btype.map(levels_table).fillna(FALLBACK_LEVELS).to_numpy(dtype="float64")
    levels = np.where(np.isfinite(tagged), tagged, default)
    weight = btype.map(weight_table).fillna(UNKNOWN_BUILDING_WEIGHT).to_numpy(dtype="float64")
    floor = area_m2 * levels
    return pd.DataFrame({"building": btype.to_numpy(), "levels": levels,
                         "levels_tagged": np.isfinite(tagged), "weight": weight,
                         "floor_m2": floor, "weighted_m2": floor * weight},
                        index=buildings.index)


# --------------------------------------------------------------------------------------------
# totals and districts (checked before the slow read of the extract)


def _check_arguments(path: Path, total_population: float | None, districts,
                     district_totals) -> None:
    if not path.exists():
        raise InputError("OSM 文件不存在 / OSM file not found", file=path)
    if total_population is None and district_totals is None:
        raise InputError("需要总人口或分区人口 / need total_population or district_totals",
                         expected="a number of residents")
    if district_totals is not None and districts is None:
        raise InputError("分区人口需要分区边界 / district_totals needs districts polygons",
                         field="districts")
    if total_population is not None and (not math.isfinite(total_population) or total_population < 0):
        raise InputError(f"总人口无效 / invalid total_population {total_population!r}",
                         expected="a number >= 0")


def _district_frame(districts) -> gpd.GeoDataFrame | None:
    if districts is None:
        return None
    dframe = boundary_frame(districts)
    if "name" not in dframe.columns:
        raise InputError("分区边界缺少 name 字段 / districts need a 'name' column", field="name")
    return dframe


def _population_groups(dframe, district_totals: Mapping[str, float] | None,
                       total_population: float | None) -> tuple[dict, float, list[str]]:
    """(residents per district name — ``None`` = the whole area —, total, warnings)."""
    if district_totals is None:
        return {None: float(total_population)}, float(total_population), []
    names = set(dframe["name"].astype(str))
    unknown = sorted(set(map(str, district_totals)) - names)
    if unknown:
        raise InputError(f"分区名称不在分区边界中 / district names not in districts: {unknown}",
                         field="district_totals", expected=f"one of {sorted(names)}")
    dsum = float(sum(float(v) for v in district_totals.values()))
    if total_population is not None:
        try:
            check_conservation(total_population, dsum, what="district totals")
        except ConservationError as exc:
            raise InputError(f"分区人口之和与总人口不符 / sum of district_totals {dsum:.6g} "
                             f"!= total_population {total_population:.6g}",
                             field="district_totals") from exc
    groups = {str(k): float(v) for k, v in district_totals.items()}
    for name, total in groups.items():
        if total < 0 or not math.isfinite(total):
            raise InputError(f"分区人口无效 / invalid total {total!r} for {name}",
                             field="district_totals", expected="a number >= 0")
    without = sorted(names - set(groups))
    warnings = [f"districts without a total get no population: {without}"] if without else []
    return groups, dsum, warnings


# --------------------------------------------------------------------------------------------
# footprints


def _read_buildings(path: Path, frame) -> gpd.GeoDataFrame:
    """Buildings of the OSM file (only the area's bbox when there is an area, where the format
    allows), WGS-84, by OSM element type then id (see :mod:`.footprints`)."""
    bbox = list(boundary_union(frame, WGS84).bounds) if frame is not None else None
    return read_footprints(path, bbox)


@dataclass(frozen=True)
class _Footprints:
    """Footprints in the local UTM CRS: which are polygons, the repaired outlines (None for
    the others), their areas and a representative point of each."""

    utm: CRS
    polygonal: np.ndarray
    outline: np.ndarray
    area: np.ndarray
    rep: gpd.GeoSeries


def _footprints(raw: gpd.GeoDataFrame) -> _Footprints:
    n_raw = len(raw)
    geom = raw.geometry
    polygonal = (geom.notna() & geom.geom_type.isin(["Polygon", "MultiPolygon"])
                 & ~geom.is_empty).to_numpy()
    utm = utm_for(geom[polygonal] if polygonal.any() else geom)
    g_utm = np.empty(n_raw, dtype=object)
    g_utm[:] = None
    g_utm[polygonal] = shapely.make_valid(geom[polygonal].to_crs(utm).values)
    area = np.zeros(n_raw)
    area[polygonal] = shapely.area(g_utm[polygonal])
    rep = np.empty(n_raw, dtype=object)
    rep[polygonal] = shapely.point_on_surface(g_utm[polygonal])
    # Non-polygon ways (broken or unclosed outlines) keep a point for the record but no area.
    if (~polygonal).any():
        rep[~polygonal] = shapely.point_on_surface(geom[~polygonal].to_crs(utm).values)
    return _Footprints(utm, polygonal, g_utm, area, gpd.GeoSeries(rep, crs=utm))


def _inside_area(fp: _Footprints, frame) -> np.ndarray:
    """A building is in the area when its representative point is."""
    if frame is None:
        return np.ones(len(fp.area), dtype=bool)
    bgeom = boundary_union(frame, fp.utm)
    shapely.prepare(bgeom)
    return shapely.within(fp.rep.values, bgeom)


def _distribute(groups: dict, county: np.ndarray, inside: np.ndarray, wm2: np.ndarray,
                path: Path) -> tuple[np.ndarray, dict[str, dict]]:
    """Each district's total over its buildings in proportion to weighted floor area."""
    pop = np.zeros(len(wm2))
    per_district: dict[str, dict] = {}
    for name, total in groups.items():
        members = np.ones(len(wm2), dtype=bool) if name is None else (county == name)
        members &= inside
        w = wm2[members]
        W = float(w.sum())
        label = name if name is not None else "(all)"
        per_district[label] = {"total": total, "buildings": int(members.sum()),
                               "buildings_with_pop": int((w > 0).sum()),
                               "weighted_floor_m2": W}
        # people who cannot be placed may not be dropped: that would break conservation
        if total > 0 and W <= 0:
            raise InputError(
                f"区域内没有居住建筑面积，无法分配人口 / no residential floor area to place "
                f"{total:.6g} residents in {label} ({int(members.sum())} buildings, none with "
                f"weight > 0)", file=path, field=name,
                expected="buildings tagged residential/apartments/house/yes in the area")
        if W > 0:
            pop[members] = total * w / W
        per_district[label]["pop_out"] = float(pop[members].sum())
    return pop, per_district


def _buildings_source(path: Path, fp: _Footprints, info: pd.DataFrame, *, inside, pop, wm2,
                      idx, total_population, total_in, total_out, per_district, warnings,
                      default_levels, weights) -> dict:
    """``Demand.source`` of a buildings estimate: every building counted somewhere."""
    polygonal, area = fp.polygonal, fp.area
    btypes = info["building"].to_numpy()
    weight = info["weight"].to_numpy()
    unplaced = inside & polygonal & (wm2 > 0) & ~(pop > 0)
    unknown_types = sorted(set(btypes[(inside) & ~np.isin(btypes, list(BUILDING_WEIGHTS))]))
    return {
        "method": "buildings",
        "file": str(path),
        "sha256": file_sha256(path),
        "area_crs": fp.utm.to_string(),
        "buildings_in": len(area),
        "buildings_inside": int(inside.sum()),
        "buildings_out": len(idx),
        "buildings_not_polygon": int((~polygonal).sum()),
        "buildings_zero_area": int((polygonal & (area <= 0)).sum()),
        "buildings_zero_weight": int((inside & polygonal & (area > 0) & (weight == 0)).sum()),
        "buildings_unplaced": int(unplaced.sum()),
        "levels_tagged": int(info["levels_tagged"].to_numpy()[inside].sum()),
        "building_types": {str(k): int(v) for k, v in
                           pd.Series(btypes[inside]).value_counts().sort_index().items()},
        "unlisted_types_weighted_as_unknown": unknown_types,
        "weights": {"residential": 1.0, "yes_or_unknown": UNKNOWN_BUILDING_WEIGHT,
                    "non_residential": 0.0, "overrides": dict(weights or {})},
        "default_levels": {**DEFAULT_LEVELS, **(default_levels or {})},
        "fallback_levels": FALLBACK_LEVELS,
        "total_population": total_population,
        "districts": per_district,
        "total_in": total_in,
        "total_out": total_out,
        "warnings": warnings,
        "elderly": ELDERLY_UNKNOWN,
    }


def from_buildings(pbf_path: str | Path, total_population: float | None, *,
                   boundary: Any = None, districts: gpd.GeoDataFrame | None = None,
                   district_totals: Mapping[str, float] | None = None,
                   default_levels: Mapping[str, float] | None = None,
                   weights: Mapping[str, float] | None = None,
                   keep_zero: bool = False) -> Demand:
    """Estimate demand points from OSM building footprints (when no population grid exists).

    由 OSM 建筑轮廓估算人口：按（轮廓面积 × 层数 × 居住权重）比例分配给定的总人口。

    Each building's weighted floor area = footprint area (local UTM) × storeys
    (``building:levels`` when tagged, else :data:`DEFAULT_LEVELS` by type) × weight
    (:data:`BUILDING_WEIGHTS`: residential 1.0, ``yes``/unknown 0.5, non-residential 0). The
    population total (or each district's total) is shared in proportion; one point per building
    (its representative point, always inside the footprint), ``area_m2`` = footprint area.

    Parameters
    ----------
    pbf_path
        OSM PBF extract.
    total_population
        Residents to distribute over the whole area. May be None when ``district_totals`` is
        given; when both are given they must agree within 0.1 %.
    boundary
        Study area; buildings whose representative point is inside are used.
    districts
        GeoDataFrame of polygons with a ``name`` column: names ``county`` and, with
        ``district_totals``, says which total each building shares.
    district_totals
        Residents per district name.
    default_levels, weights
        Overrides for the storey and weight tables (by ``building`` value).
    keep_zero
        Also output buildings that receive no population (weight 0, or outside every district
        that has a total). They are always counted in ``source`` either way.

    Returns
    -------
    Demand
        Demand contract (EPSG:4326) with extra columns ``osm_id``, ``building``, ``levels``,
        ``weight``; ``cell_polygons`` the footprints; ``elderly`` NaN.

    Raises
    ------
    InputError
        Missing file, no buildings, a district (or the whole area) with population but no
        residential floor area, district names not found, totals that disagree.
    """
    # totals → read → footprints → weights → share per district → points
    path = Path(pbf_path)
    _check_arguments(path, total_population, districts, district_totals)
    dframe = _district_frame(districts)
    groups, total_in, warnings = _population_groups(dframe, district_totals, total_population)
    frame = boundary_frame(boundary)
    raw = _read_buildings(path, frame)
    fp = _footprints(raw)
    inside = _inside_area(fp, frame)
    info = building_weights(raw, default_levels=default_levels, weights=weights, area_m2=fp.area)
    wm2 = np.where(inside & fp.polygonal, info["weighted_m2"].to_numpy(), 0.0)
    rep_wgs = fp.rep.to_crs(WGS84)
    county = (assign_names(rep_wgs, dframe) if dframe is not None
              else np.full(len(raw), "", dtype=object))
    pop, per_district = _distribute(groups, county, inside, wm2, path)
    idx = np.flatnonzero((inside | (pop > 0)) if keep_zero else (pop > 0))
    total_out = float(pop[idx].sum())
    check_conservation(total_in, total_out)
    source = _buildings_source(path, fp, info, inside=inside, pop=pop, wm2=wm2, idx=idx,
                               total_population=total_population, total_in=total_in,
                               total_out=total_out, per_district=per_district,
                               warnings=warnings, default_levels=default_levels, weights=weights)
    for w in warnings:
        log(f"population: {w}")
    polys = np.array([g if g is not None else shapely.Point() for g in fp.outline[idx]], dtype=object)
    extra = {"osm_id": raw["id"].to_numpy()[idx] if "id" in raw else idx,
             "building": info["building"].to_numpy()[idx], "levels": info["levels"].to_numpy()[idx],
             "weight": info["weight"].to_numpy()[idx]}
    return demand_frame(idx, pop[idx], np.full(len(idx), np.nan), county[idx], fp.area[idx],
                         rep_wgs.values[idx], WGS84, source,
                         gpd.GeoSeries(polys, crs=fp.utm).to_crs(WGS84).values, extra=extra)

"""Census polygons, vector grids or points carrying a population → demand points.

普查单元面 / 矢量格网 / 带人口的点 → 需求点：跨越研究区边界的面按面积比例分配人口。

Steps of :func:`from_vector`: read the file (it must declare a CRS), read and check the
population fields and geometries, cut each polygon to the study area in the local UTM CRS
(uniform density within a polygon), one point per feature with people inside, and the source.
Method notes: ``docs/population.md`` §2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.inputs.demand import Demand
from carecover.inputs.population.common import (
    ELDERLY_UNKNOWN,
    WGS84,
    assign_names,
    boundary_frame,
    boundary_union,
    check_conservation,
    demand_frame,
    utm_for,
)
from carecover.utils import file_sha256

__all__ = ["from_vector"]

_PRORATING = "pop × area(inside)/area(feature), uniform density, local UTM areas"


def _read_vector(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    """The file as a GeoDataFrame that declares its CRS."""
    path = Path(path)
    if not path.exists():
        raise InputError("文件不存在 / file not found", file=path)
    not_special(path, "population file / 人口文件", folder_suffixes=(".gdb",))
    try:
        gdf = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; report them all the same way
        raise InputError(f"无法读取矢量文件 / cannot read vector file: {exc}", file=path) from exc
    if gdf.crs is None:
        raise InputError("矢量文件没有坐标参考系 / vector file has no CRS", file=path,
                         expected="a CRS (e.g. EPSG:4326) in the file")
    return gdf


def _fields_of(gdf: gpd.GeoDataFrame) -> list:
    return [c for c in gdf.columns if c != gdf.geometry.name]


def _numeric_field(gdf: gpd.GeoDataFrame, field: str, path: Path) -> np.ndarray:
    """The field as numbers >= 0; the first bad value is an error naming its row."""
    if field not in gdf.columns or field == gdf.geometry.name:
        raise InputError(f"字段不存在 / field not found; available fields: {_fields_of(gdf)}",
                         file=path, field=field)
    raw = gdf[field]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() | ~np.isfinite(values.astype("float64"))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        v = raw.iloc[i]
        shown = "empty / 空" if v is None or (isinstance(v, float) and np.isnan(v)) else repr(str(v))
        raise InputError(f"不是数值 / not a number: {shown}", file=path, row=i + 1,
                         field=field, expected="a number >= 0")
    values = values.to_numpy(dtype="float64")
    if (values < 0).any():
        i = int(np.flatnonzero(values < 0)[0])
        raise InputError(f"负值 / negative value {values[i]:.6g}", file=path, row=i + 1,
                         field=field, expected="a number >= 0")
    return values


def _counts(gdf: gpd.GeoDataFrame, pop_field: str, elderly_field: str | None,
            path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(pop, elderly) per feature; elderly NaN without a field, and never above pop."""
    pop = _numeric_field(gdf, pop_field, path)
    elderly = _numeric_field(gdf, elderly_field, path) if elderly_field else np.full(len(gdf), np.nan)
    if elderly_field and (elderly > pop + 1e-9).any():
        i = int(np.flatnonzero(elderly > pop + 1e-9)[0])
        raise InputError(f"老年人口多于总人口 / elderly {elderly[i]:.6g} > pop {pop[i]:.6g}",
                         file=path, row=i + 1, field=elderly_field)
    return pop, elderly


def _geometry_kinds(geom: gpd.GeoSeries, path: Path) -> np.ndarray:
    """Which features are polygons (the others are points); anything else is an error."""
    missing = geom.isna() | geom.is_empty
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        raise InputError("缺少几何 / missing geometry", file=path, row=i + 1)
    kinds = geom.geom_type.to_numpy()
    is_poly = np.isin(kinds, ["Polygon", "MultiPolygon"])
    is_point = kinds == "Point"
    if not (is_poly | is_point).all():
        i = int(np.flatnonzero(~(is_poly | is_point))[0])
        raise InputError(f"不支持的几何类型 / unsupported geometry {kinds[i]}", file=path,
                         row=i + 1, expected="Polygon, MultiPolygon or Point")
    return is_poly


def _county_values(gdf: gpd.GeoDataFrame, county_field: str | None, path: Path) -> np.ndarray | None:
    if not county_field:
        return None
    if county_field not in gdf.columns:
        raise InputError(f"字段不存在 / county field not found; available fields: {_fields_of(gdf)}",
                         file=path, field=county_field)
    return gdf[county_field].fillna("").astype(str).to_numpy(dtype=object)


@dataclass(frozen=True)
class _Parts:
    """Each feature cut to the study area (local UTM): the part inside, its area and the share
    of the feature's population it keeps."""

    part: np.ndarray
    part_area: np.ndarray
    frac: np.ndarray


def _cut_to_area(g_utm: gpd.GeoSeries, is_poly: np.ndarray, frame, utm: CRS) -> _Parts:
    """Areal weighting: a polygon keeps area(inside)/area(polygon) of its people (the UTM scale
    error cancels in the ratio); a point is in or out."""
    full_area = np.where(is_poly, g_utm.area.to_numpy(), 0.0)
    if frame is None:
        return _Parts(g_utm.values, full_area, np.ones(len(g_utm)))
    bgeom = boundary_union(frame, utm)
    shapely.prepare(bgeom)
    part = g_utm.values.copy()
    part[is_poly] = shapely.intersection(g_utm.values[is_poly], bgeom)
    part_area = np.where(is_poly, shapely.area(part), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(is_poly, np.where(full_area > 0, part_area / full_area, 0.0),
                        shapely.within(g_utm.values, bgeom).astype(float))
    return _Parts(part, part_area, np.clip(frac, 0.0, 1.0))


def _vector_source(path: Path, gdf: gpd.GeoDataFrame, utm: CRS, *, layer, pop_field,
                   elderly_field, pop, frac, idx, pop_in, eld_in) -> dict:
    """``Demand.source`` of a vector read (copied into summary.json)."""
    total_file = float(pop.sum())
    total_in = float(pop_in.sum())
    return {
        "method": "vector",
        "file": str(path),
        "sha256": file_sha256(path),
        "layer": layer,
        "pop_field": pop_field,
        "elderly_field": elderly_field,
        "crs_in": CRS(gdf.crs).to_string(),
        "area_crs": utm.to_string(),
        "features_in": len(gdf),
        "features_out": len(idx),
        "features_partly_inside": int(((frac > 0) & (frac < 1 - 1e-12)).sum()),
        "features_outside": int((frac == 0).sum()),
        "features_zero_pop": int(((pop == 0) & (frac > 0)).sum()),
        "total_file": total_file,
        "total_in": total_in,
        "total_out": float(pop_in[idx].sum()),
        "clipped_away_pop": total_file - total_in,
        "prorating": _PRORATING,
        "elderly": ({"field": elderly_field, "total": float(eld_in[idx].sum())}
                    if elderly_field else ELDERLY_UNKNOWN),
    }


def from_vector(path: str | Path, pop_field: str, *, elderly_field: str | None = None,
                boundary: Any = None, layer: str | None = None,
                county_field: str | None = None) -> Demand:
    """Demand points from census polygons, a vector grid or points carrying a population.

    从普查单元面或矢量格网生成需求点：每个要素一个代表点，跨越边界的面按面积比例分配人口。

    Parameters
    ----------
    path
        Any file geopandas reads (GeoJSON, GeoPackage, Shapefile, ...); must have a CRS.
    pop_field
        Field with residents per feature.
    elderly_field
        Optional field with residents aged 60+ (pro-rated like ``pop``).
    boundary
        Study area (see :func:`~carecover.inputs.population.from_raster`). A polygon partly
        inside keeps ``pop × area(inside)/area(polygon)`` — density assumed uniform within the
        polygon, areas computed in a local UTM CRS; its point is the representative point of
        the part inside. Point features are kept when inside.
    layer
        Layer name for multi-layer files.
    county_field
        Field naming the county of each feature; else county comes from a named boundary.

    Returns
    -------
    Demand
        Demand contract (EPSG:4326), ``cell_id`` = 0-based feature index; features with no
        population inside the area are counted in ``source`` rather than output.

    Raises
    ------
    InputError
        Missing field (lists the available fields), non-numeric or negative value (row =
        feature index + 1), missing geometry, elderly > pop.
    """
    # read → fields → geometries → cut to the area → one point per feature with people
    path = Path(path)
    gdf = _read_vector(path, layer)
    pop, elderly = _counts(gdf, pop_field, elderly_field, path)
    is_poly = _geometry_kinds(gdf.geometry, path)
    county = _county_values(gdf, county_field, path)
    utm = utm_for(gdf.geometry.to_crs(WGS84))
    g_utm = gpd.GeoSeries(shapely.make_valid(gdf.geometry.to_crs(utm).values), crs=utm)
    frame = boundary_frame(boundary)
    parts = _cut_to_area(g_utm, is_poly, frame, utm)
    pop_in, eld_in = pop * parts.frac, elderly * parts.frac
    idx = np.flatnonzero(pop_in > 0)
    kept_parts = parts.part[idx]
    # point_on_surface, not the centroid: always inside the (possibly concave) part
    pts_wgs = gpd.GeoSeries(shapely.point_on_surface(kept_parts), crs=utm).to_crs(WGS84)
    county_out = assign_names(pts_wgs, frame) if county is None else county[idx]
    check_conservation(float(pop_in.sum()), float(pop_in[idx].sum()))
    source = _vector_source(path, gdf, utm, layer=layer, pop_field=pop_field,
                            elderly_field=elderly_field, pop=pop, frac=parts.frac, idx=idx,
                            pop_in=pop_in, eld_in=eld_in)
    return demand_frame(idx, pop_in[idx], eld_in[idx], county_out, parts.part_area[idx],
                         pts_wgs.values, WGS84, source,
                         polygons=gpd.GeoSeries(kept_parts, crs=utm).to_crs(WGS84).values)

"""What every population reader shares: conservation, the :class:`Demand` assembly, areas.

人口读取器的公共部分：总量守恒检查、需求点结果组装、研究区与分区名称。
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from carecover.errors import CarecoverError, InputError
from carecover.inputs.demand import Demand

__all__ = ["ConservationError", "check_conservation", "WGS84", "ELDERLY_UNKNOWN"]

WGS84 = "EPSG:4326"
#: ``source["elderly"]`` of a reader that got no elderly figures.
ELDERLY_UNKNOWN = "unknown (NaN): set with apply_elderly_share"


class ConservationError(CarecoverError):
    """Population was created or lost between input and output (beyond the tolerance)."""


def check_conservation(total_in: float, total_out: float, tol: float = 0.001, *,
                       what: str = "population") -> None:
    """Raise :class:`ConservationError` when ``total_out`` differs from ``total_in`` by > ``tol``.

    Parameters
    ----------
    total_in, total_out
        The population the method says is in the area, and the sum over its output.
    tol
        Relative tolerance (0.001 = 0.1 %). A zero input total must give a zero output total.
    what
        What is counted, for the message (``population``, ``elderly``, ``district totals``).

    Raises
    ------
    ConservationError
        A total is not finite, or the two differ by more than ``tol``.
    """
    total_in = float(total_in)
    total_out = float(total_out)
    if not (math.isfinite(total_in) and math.isfinite(total_out)):
        raise ConservationError(f"人口总量不是有限数 / {what} total is not finite: "
                                f"in={total_in!r}, out={total_out!r}")
    diff = abs(total_out - total_in)
    scale = abs(total_in)
    if (scale == 0 and diff > 1e-9) or (scale > 0 and diff > tol * scale):
        rel = diff / scale if scale else float("inf")
        raise ConservationError(
            f"人口总量不守恒 / {what} not conserved: in={total_in:.6g}, out={total_out:.6g} "
            f"(difference {diff:.6g}, {rel:.4%} > {tol:.2%})"
        )


def jsonable(obj: Any) -> Any:
    """Plain Python types only (numpy scalars → float/int) so summary.json can dump the source."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def demand_frame(cell_id, pop, elderly, county, area_m2, geometry, crs,
                  source: dict, polygons=None, extra: dict | None = None) -> Demand:
    """Assemble the contract frame in EPSG:4326 with its provenance."""
    data = {
        "cell_id": np.asarray(cell_id, dtype="int64"),
        "pop": np.asarray(pop, dtype="float64"),
        "elderly": np.asarray(elderly, dtype="float64"),
        "county": pd.Series(np.asarray(county, dtype=object), dtype=object).fillna("").astype(str).to_numpy(dtype=object),
        "area_m2": np.asarray(area_m2, dtype="float64"),
    }
    if extra:
        data.update(extra)
    gdf = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geometry, crs=crs).values, crs=crs)
    if gdf.crs is not None and not is_wgs84(gdf.crs):
        gdf = gdf.to_crs(WGS84)
    gdf = gdf.reset_index(drop=True)
    cells = None
    if polygons is not None:
        cells = gpd.GeoSeries(polygons, crs=crs)
        if not is_wgs84(cells.crs):
            cells = cells.to_crs(WGS84)
        cells.index = gdf.index
    source = jsonable(source)
    json.dumps(source)  # fail here, not in summary.json
    return Demand(points=gdf, source=source, cell_polygons=cells)


def boundary_frame(boundary: Any) -> gpd.GeoDataFrame | None:
    """``boundary`` (path, GeoDataFrame, GeoSeries or shapely geometry) as WGS-84 polygons.

    Files follow the one boundary policy of :mod:`carecover.inputs.boundaries`; a bare shapely
    geometry is taken to be WGS-84, like every input of this package.
    """
    from carecover.inputs.boundaries import check_polygons, read_boundaries, to_wgs84

    if boundary is None:
        return None
    if isinstance(boundary, (str, Path)):
        return read_boundaries(boundary)
    if isinstance(boundary, gpd.GeoSeries):
        frame = gpd.GeoDataFrame(geometry=boundary)
    elif isinstance(boundary, gpd.GeoDataFrame):
        frame = boundary
    elif isinstance(boundary, shapely.Geometry):
        frame = gpd.GeoDataFrame(geometry=[boundary], crs=WGS84)
    else:
        raise InputError(f"无法识别的边界类型 / unsupported boundary type {type(boundary).__name__}",
                         expected="path, GeoDataFrame, GeoSeries or shapely polygon")
    return check_polygons(to_wgs84(frame, "boundary"), "boundary")


def boundary_union(frame: gpd.GeoDataFrame, crs) -> shapely.Geometry:
    """The study area as one geometry in ``crs``."""
    return shapely.union_all(frame.to_crs(crs).geometry.values)


def assign_names(points: gpd.GeoSeries, frame: gpd.GeoDataFrame | None,
                  name_col: str = "name") -> np.ndarray:
    """Name of the smallest polygon of ``frame`` containing each point ("" when none).

    The smallest wins so a file holding a city outline *and* its districts (like the admin
    files in ../shared) names points by district.
    """
    out = np.full(len(points), "", dtype=object)
    if frame is None or name_col not in frame.columns or len(points) == 0:
        return out
    polys = frame.to_crs(points.crs)
    area = polys.to_crs(polys.estimate_utm_crs()).area.to_numpy()
    names = polys[name_col].fillna("").astype(str).to_numpy()
    x, y = shapely.get_x(points.values), shapely.get_y(points.values)
    # Largest first so smaller polygons overwrite; on equal areas the first row is done last.
    for i in np.lexsort((-np.arange(len(area)), -area)):
        geom = polys.geometry.values[i]
        minx, miny, maxx, maxy = geom.bounds
        cand = np.flatnonzero((x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if cand.size == 0:
            continue
        shapely.prepare(geom)
        hit = cand[shapely.contains_xy(geom, x[cand], y[cand])]
        out[hit] = names[i]
    return out


def is_wgs84(crs) -> bool:
    crs = CRS(crs)
    return crs.to_epsg() == 4326 or crs.equals(CRS(WGS84), ignore_axis_order=True)


def utm_for(geoms: gpd.GeoSeries) -> CRS:
    """Local UTM CRS (``estimate_utm_crs`` uses only the total bounds, so pass just those)."""
    bbox = gpd.GeoDataFrame(geometry=[shapely.box(*geoms.total_bounds)], crs=geoms.crs)
    return CRS(bbox.estimate_utm_crs())

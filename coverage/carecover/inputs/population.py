"""Demand points (population) from rasters, vector grids / census polygons or OSM buildings.

人口需求点：来自人口栅格（WorldPop / GHS-POP）、矢量格网或普查单元面、或 OSM 建筑物估算。

Every function returns the *Demand GeoDataFrame* of ``docs/ARCHITECTURE.md`` (EPSG:4326):

==========  =====  ==============================================================
column      type   meaning
==========  =====  ==============================================================
cell_id     int    stable id (row-major pixel index for rasters, feature index
                   for vector files, building index sorted by OSM id)
pop         float  total residents
elderly     float  residents aged 60+ (NaN until known: see :func:`apply_elderly_share`)
county      str    county-level unit name if known, else ""
area_m2     float  area represented by the point (true ground area, m²)
geometry    Point  demand point
==========  =====  ==============================================================

Each returns a :class:`~carecover.inputs.demand.Demand`: ``points`` (the frame above),
``source`` (a JSON-serialisable dict: file, sha256, method, totals in and out, what was clipped
away, warnings) and ``cell_polygons`` (the polygons the points stand for, EPSG:4326, aligned
with the points, or ``None``).

Method notes for reviewers: ``docs/population.md``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Proj, Transformer

from carecover.errors import CarecoverError, InputError
from carecover.inputs.demand import DEMAND_COLUMNS, Demand
from carecover.utils import file_sha256, log

__all__ = [
    "ConservationError",
    "DEMAND_COLUMNS",
    "Demand",
    "DEFAULT_LEVELS",
    "BUILDING_WEIGHTS",
    "UNKNOWN_BUILDING_WEIGHT",
    "building_weights",
    "from_raster",
    "from_vector",
    "from_buildings",
    "apply_elderly_share",
    "aggregate_grid",
    "check_conservation",
    "geographic_cell_area",
]

WGS84 = "EPSG:4326"


class ConservationError(CarecoverError):
    """Population was created or lost between input and output (beyond the tolerance)."""


# --------------------------------------------------------------------------------------------
# small shared helpers
# --------------------------------------------------------------------------------------------


def check_conservation(total_in: float, total_out: float, tol: float = 0.001, *,
                       what: str = "population") -> None:
    """Raise :class:`ConservationError` when ``total_out`` differs from ``total_in`` by > ``tol``.

    ``tol`` is relative (0.001 = 0.1 %). A zero input total must give a zero output total.
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


def _jsonable(obj: Any) -> Any:
    """Plain Python types only (numpy scalars → float/int) so summary.json can dump the source."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    return obj


def _demand_frame(cell_id, pop, elderly, county, area_m2, geometry, crs,
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
    if gdf.crs is not None and not _is_wgs84(gdf.crs):
        gdf = gdf.to_crs(WGS84)
    gdf = gdf.reset_index(drop=True)
    cells = None
    if polygons is not None:
        cells = gpd.GeoSeries(polygons, crs=crs)
        if not _is_wgs84(cells.crs):
            cells = cells.to_crs(WGS84)
        cells.index = gdf.index
    source = _jsonable(source)
    json.dumps(source)  # fail here, not in summary.json
    return Demand(points=gdf, source=source, cell_polygons=cells)


def _read_vector(path: str | Path, layer: str | None = None) -> gpd.GeoDataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError("文件不存在 / file not found", file=path)
    try:
        gdf = gpd.read_file(path, layer=layer) if layer is not None else gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; report them all the same way
        raise InputError(f"无法读取矢量文件 / cannot read vector file: {exc}", file=path) from exc
    if gdf.crs is None:
        raise InputError("矢量文件没有坐标参考系 / vector file has no CRS", file=path,
                         expected="a CRS (e.g. EPSG:4326) in the file")
    return gdf


def _boundary_frame(boundary: Any) -> gpd.GeoDataFrame | None:
    """``boundary`` (path, GeoDataFrame, GeoSeries or shapely geometry) as WGS-84 polygons.

    Files follow the one boundary policy of :mod:`carecover.inputs.boundaries`; a bare shapely
    geometry is taken to be WGS-84, like every input of this package.
    """
    from carecover.inputs.boundaries import _check_polygons, _to_wgs84, read_boundaries

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
    return _check_polygons(_to_wgs84(frame, "boundary"), "boundary")


def _boundary_union(frame: gpd.GeoDataFrame, crs) -> shapely.Geometry:
    return shapely.union_all(frame.to_crs(crs).geometry.values)


def _assign_names(points: gpd.GeoSeries, frame: gpd.GeoDataFrame | None,
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


def _is_wgs84(crs) -> bool:
    crs = CRS(crs)
    return crs.to_epsg() == 4326 or crs.equals(CRS(WGS84), ignore_axis_order=True)


def _utm_for(geoms: gpd.GeoSeries) -> CRS:
    """Local UTM CRS (``estimate_utm_crs`` uses only the total bounds, so pass just those)."""
    bbox = gpd.GeoDataFrame(geometry=[shapely.box(*geoms.total_bounds)], crs=geoms.crs)
    return CRS(bbox.estimate_utm_crs())


# --------------------------------------------------------------------------------------------
# rasters
# --------------------------------------------------------------------------------------------


def geographic_cell_area(lat1, lat2, dlon_deg, semi_major: float = 6378137.0,
                         inverse_flattening: float = 298.257223563) -> np.ndarray:
    """Exact ellipsoidal area (m²) of lat/lon cells between ``lat1`` and ``lat2`` (degrees).

    Uses the authalic-latitude formula: the area of a zone from the equator to latitude φ
    over Δλ is ``½·Δλ·a²·q(φ)`` with
    ``q(φ) = (1−e²)·[sinφ/(1−e²sin²φ) + artanh(e·sinφ)/e]``. Agrees with
    ``pyproj.Geod.polygon_area_perimeter`` to ~1e-9 relative.
    """
    f = 1.0 / inverse_flattening if inverse_flattening else 0.0
    e2 = f * (2.0 - f)
    a = semi_major
    dlon = np.radians(np.abs(np.asarray(dlon_deg, dtype="float64")))
    s1 = np.sin(np.radians(np.asarray(lat1, dtype="float64")))
    s2 = np.sin(np.radians(np.asarray(lat2, dtype="float64")))
    if e2 == 0.0:
        return a * a * dlon * np.abs(s2 - s1)
    e = math.sqrt(e2)

    def q(s):
        return (1.0 - e2) * (s / (1.0 - e2 * s * s) + np.arctanh(e * s) / e)

    return 0.5 * dlon * a * a * np.abs(q(s2) - q(s1))


def _pixel_areas(crs: CRS, transform, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """True ground area (m²) of the pixels at (rows, cols) of a north-up raster."""
    if crs.is_geographic:
        ell = crs.ellipsoid
        top = transform.f + rows * transform.e
        bottom = top + transform.e
        return geographic_cell_area(top, bottom, transform.a, ell.semi_major_metre,
                                    ell.inverse_flattening)
    # Projected: map area × unit² ÷ areal scale factor at the pixel centre (UTM k² ≈ 0.9992,
    # Web Mercator ≈ cos²φ … so pixels are given their ground area, not their map area).
    unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
    map_area = abs(transform.a * transform.e - transform.b * transform.d) * unit * unit
    xs = transform.c + (cols + 0.5) * transform.a
    ys = transform.f + (rows + 0.5) * transform.e
    lon, lat = Transformer.from_crs(crs, WGS84, always_xy=True).transform(xs, ys)
    try:
        scale = np.asarray(Proj(crs).get_factors(lon, lat).areal_scale, dtype="float64")
    except Exception:  # some projections expose no factors: fall back to map area
        scale = np.ones(len(rows))
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    return map_area / scale


def _window_for(src, geom_bounds) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1) of the pixels touching ``geom_bounds``, clamped to the raster."""
    from rasterio.windows import from_bounds

    win = from_bounds(*geom_bounds, transform=src.transform)
    col0 = max(0, math.floor(win.col_off + 1e-9))
    row0 = max(0, math.floor(win.row_off + 1e-9))
    col1 = min(src.width, math.ceil(win.col_off + win.width - 1e-9))
    row1 = min(src.height, math.ceil(win.row_off + win.height - 1e-9))
    return row0, row1, col0, col1


def _read_elderly(elderly_raster, src, band: int, window, win_transform, shape,
                  pop_areas_grid) -> tuple[np.ndarray, dict]:
    """Elderly counts on the population raster's window (same grid, or resampled)."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    path = Path(elderly_raster)
    if not path.exists():
        raise InputError("老年人口栅格不存在 / elderly raster not found", file=path)
    with rasterio.open(path) as esrc:
        if esrc.crs is None:
            raise InputError("老年人口栅格没有坐标参考系 / elderly raster has no CRS", file=path)
        same = (CRS(esrc.crs).equals(CRS(src.crs)) and esrc.transform == src.transform
                and esrc.width == src.width and esrc.height == src.height)
        info = {"file": str(path), "sha256": file_sha256(path), "band": band,
                "method": "same grid" if same else "resampled (density, average)"}
        if same:
            data = esrc.read(band, window=window).astype("float64")
            nod = esrc.nodata
            bad = ~np.isfinite(data) | ((data == nod) if nod is not None else False)
            data = np.where(bad, 0.0, data)
        else:
            # Resample the *density* (people per m²) with an average so counts are not
            # duplicated when upsampling nor lost when downsampling, then × our pixel area.
            src_data = esrc.read(band).astype("float64")
            nod = esrc.nodata
            bad = ~np.isfinite(src_data) | ((src_data == nod) if nod is not None else False)
            ecrs = CRS(esrc.crs)
            rr, cc = np.indices(src_data.shape)
            e_area = _pixel_areas(ecrs, esrc.transform, rr.ravel(), cc.ravel()).reshape(src_data.shape)
            dens = np.where(bad, np.nan, src_data / e_area)
            out = np.full(shape, np.nan, dtype="float64")
            reproject(dens, out, src_transform=esrc.transform, src_crs=esrc.crs,
                      src_nodata=np.nan, dst_transform=win_transform, dst_crs=src.crs,
                      dst_nodata=np.nan, resampling=Resampling.average)
            data = np.where(np.isfinite(out), out, 0.0) * pop_areas_grid
        if (data < 0).any():
            r, c = np.argwhere(data < 0)[0]
            raise InputError(
                f"老年人口栅格含负值 / negative value {data[r, c]:.6g} in band {band} at "
                f"row {r + window.row_off}, col {c + window.col_off} (0-based pixel indices)",
                file=path, expected="counts >= 0")
    return data, info


def from_raster(path: str | Path, boundary: Any = None, *, band: int = 1,
                elderly_raster: str | Path | None = None,
                cell_polygons: bool = True) -> Demand:
    """Demand points at the centres of populated pixels of a people-per-pixel GeoTIFF.

    从人口栅格（每像元人数，如 WorldPop 100 m）生成需求点：每个人口 > 0 的像元一个点。

    Parameters
    ----------
    path
        GeoTIFF of residents per pixel (geographic, e.g. WorldPop EPSG:4326, or projected).
    boundary
        Study area: path, GeoDataFrame, GeoSeries or shapely polygon (bare geometry =
        EPSG:4326). Reprojected to the raster CRS. Only the bbox window is read; a pixel belongs
        to the area when its *centre* is inside (``all_touched=False``). With a ``name`` column
        and several polygons, each point's ``county`` is the smallest polygon containing it.
    band
        Raster band (1-based).
    elderly_raster
        Optional raster of residents aged 60+; same grid (read window-for-window) or any other
        grid (density resampled by area average onto the population grid).
    cell_polygons
        Keep the pixel squares as ``cell_polygons`` (skip for very large areas).

    Returns
    -------
    GeoDataFrame
        The demand contract (EPSG:4326); ``elderly`` is NaN without ``elderly_raster``.

    Raises
    ------
    InputError
        Missing file or CRS, bad band, rotated raster, boundary outside the raster, negative
        values (file, band, row/col and value named), or nothing but nodata in the area.
    """
    import rasterio
    from rasterio.features import geometry_mask
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    path = Path(path)
    if not path.exists():
        raise InputError("人口栅格不存在 / population raster not found", file=path)
    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise InputError(f"无法读取栅格 / cannot read raster: {exc}", file=path) from exc
    with src:
        if src.crs is None:
            raise InputError("栅格没有坐标参考系 / raster has no CRS", file=path,
                             expected="a GeoTIFF with a CRS (e.g. EPSG:4326)")
        if not 1 <= band <= src.count:
            raise InputError(f"波段不存在 / band {band} not in raster ({src.count} band(s))",
                             file=path, field=f"band {band}", expected=f"1..{src.count}")
        t = src.transform
        if t.b != 0 or t.d != 0:
            raise InputError("不支持旋转栅格 / rotated rasters are not supported", file=path,
                             expected="a north-up raster")
        crs = CRS(src.crs)
        frame = _boundary_frame(boundary)
        geom = None
        if frame is not None:
            geom = _boundary_union(frame, crs)
            row0, row1, col0, col1 = _window_for(src, geom.bounds)
            if row1 <= row0 or col1 <= col0:
                raise InputError("研究区与人口栅格不重叠 / boundary does not overlap the raster",
                                 file=path)
        else:
            row0, row1, col0, col1 = 0, src.height, 0, src.width
        window = Window(col0, row0, col1 - col0, row1 - row0)
        wt = window_transform(window, t)
        data = src.read(band, window=window).astype("float64")
        nodata = src.nodata
        valid = np.isfinite(data)
        if nodata is not None:
            valid &= data != nodata
        neg = valid & (data < 0)
        if neg.any():
            r, c = np.argwhere(neg)[0]
            raise InputError(
                f"人口栅格含负值 / negative population {data[r, c]:.6g} in band {band} at row "
                f"{r + row0}, col {c + col0} (0-based pixel indices; {int(neg.sum())} negative "
                f"pixel(s) in the area read)", file=path, field=f"band {band}",
                expected="people per pixel >= 0 (or the nodata value)")
        if geom is not None:
            inside = geometry_mask([geom], out_shape=data.shape, transform=wt,
                                   all_touched=False, invert=True)
        else:
            inside = np.ones(data.shape, dtype=bool)
        use = valid & inside
        if not use.any():
            raise InputError("研究区内全部为无数据像元 / only nodata pixels within the area",
                             file=path, field=f"band {band}")
        total_window = float(data[valid].sum())
        total_in = float(data[use].sum())
        keep = use & (data > 0)
        rr, cc = np.nonzero(keep)  # row-major order
        pop = data[rr, cc]
        grow, gcol = rr + row0, cc + col0
        areas = _pixel_areas(crs, t, grow.astype("float64"), gcol.astype("float64"))
        xs = t.c + (gcol + 0.5) * t.a
        ys = t.f + (grow + 0.5) * t.e
        points = gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=crs)
        elderly = np.full(len(pop), np.nan)
        elderly_info: dict | str = "unknown (NaN): set with apply_elderly_share"
        if elderly_raster is not None:
            area_grid = np.zeros(data.shape)
            r_all, c_all = np.indices(data.shape)
            area_grid[:] = _pixel_areas(crs, t, (r_all + row0).ravel().astype("float64"),
                                        (c_all + col0).ravel().astype("float64")).reshape(data.shape)
            edata, elderly_info = _read_elderly(elderly_raster, src, band, window, wt,
                                                data.shape, area_grid)
            elderly = edata[rr, cc]
            elderly_info["total"] = float(elderly.sum())
            elderly_info["cells_elderly_gt_pop"] = int((elderly > pop + 1e-9).sum())
            elderly_info["elderly_on_zero_pop_cells"] = float(edata[use & (data <= 0)].sum())
        polygons = None
        if cell_polygons:
            x0, y0 = t.c + gcol * t.a, t.f + grow * t.e
            polygons = shapely.box(np.minimum(x0, x0 + t.a), np.minimum(y0, y0 + t.e),
                                   np.maximum(x0, x0 + t.a), np.maximum(y0, y0 + t.e))
        width = src.width
        nodata_inside = int((inside & ~valid).sum())
    county = (_assign_names(points if _is_wgs84(crs) else points.to_crs(WGS84), frame)
              if frame is not None
              else np.full(len(pop), "", dtype=object))
    total_out = float(pop.sum())
    check_conservation(total_in, total_out)
    source = {
        "method": "raster",
        "file": str(path),
        "sha256": file_sha256(path),
        "band": band,
        "crs": crs.to_string(),
        "pixel_size": [abs(t.a), abs(t.e)],
        "mask": "pixel centre inside boundary (rasterio geometry_mask, all_touched=False)",
        "window": {"row_off": row0, "col_off": col0, "height": row1 - row0, "width": col1 - col0},
        "cells_out": len(pop),
        "nodata_cells_in_area": nodata_inside,
        "total_in": total_in,
        "total_out": total_out,
        "total_window": total_window,
        "clipped_away_pop": total_window - total_in if geom is not None else 0.0,
        "boundary": geom is not None,
        "elderly": elderly_info,
    }
    return _demand_frame(grow * width + gcol, pop, elderly, county, areas, points.values, crs,
                         source, polygons)


# --------------------------------------------------------------------------------------------
# vector grids / census polygons
# --------------------------------------------------------------------------------------------


def _numeric_field(gdf: gpd.GeoDataFrame, field: str, path: Path) -> np.ndarray:
    if field not in gdf.columns or field == gdf.geometry.name:
        fields = [c for c in gdf.columns if c != gdf.geometry.name]
        raise InputError(f"字段不存在 / field not found; available fields: {fields}",
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
        Study area (see :func:`from_raster`). A polygon partly inside keeps
        ``pop × area(inside)/area(polygon)`` — density assumed uniform within the polygon,
        areas computed in a local UTM CRS; its point is the representative point of the part
        inside. Point features are kept when inside.
    layer
        Layer name for multi-layer files.
    county_field
        Field naming the county of each feature; else county comes from a named boundary.

    Returns
    -------
    GeoDataFrame
        Demand contract (EPSG:4326), ``cell_id`` = 0-based feature index; features with no
        population inside the area are counted in ``source`` rather than output.

    Raises
    ------
    InputError
        Missing field (lists the available fields), non-numeric or negative value (row =
        feature index + 1), missing geometry, elderly > pop.
    """
    path = Path(path)
    gdf = _read_vector(path, layer)
    pop = _numeric_field(gdf, pop_field, path)
    elderly = _numeric_field(gdf, elderly_field, path) if elderly_field else np.full(len(gdf), np.nan)
    if elderly_field and (elderly > pop + 1e-9).any():
        i = int(np.flatnonzero(elderly > pop + 1e-9)[0])
        raise InputError(f"老年人口多于总人口 / elderly {elderly[i]:.6g} > pop {pop[i]:.6g}",
                         file=path, row=i + 1, field=elderly_field)
    geom = gdf.geometry
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
    if county_field and county_field not in gdf.columns:
        fields = [c for c in gdf.columns if c != gdf.geometry.name]
        raise InputError(f"字段不存在 / county field not found; available fields: {fields}",
                         file=path, field=county_field)
    county = (gdf[county_field].fillna("").astype(str).to_numpy(dtype=object)
              if county_field else None)

    utm = _utm_for(geom.to_crs(WGS84))
    g_utm = gpd.GeoSeries(shapely.make_valid(geom.to_crs(utm).values), crs=utm)
    full_area = np.where(is_poly, g_utm.area.to_numpy(), 0.0)
    frame = _boundary_frame(boundary)
    if frame is not None:
        bgeom = _boundary_union(frame, utm)
        shapely.prepare(bgeom)
        part = g_utm.values.copy()
        part[is_poly] = shapely.intersection(g_utm.values[is_poly], bgeom)
        part_area = np.where(is_poly, shapely.area(part), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.where(is_poly, np.where(full_area > 0, part_area / full_area, 0.0),
                            shapely.within(g_utm.values, bgeom).astype(float))
        frac = np.clip(frac, 0.0, 1.0)
    else:
        part, part_area, frac = g_utm.values, full_area, np.ones(len(gdf))
    pop_in = pop * frac
    eld_in = elderly * frac
    keep = pop_in > 0
    idx = np.flatnonzero(keep)
    kept_parts = part[idx]
    pts = shapely.point_on_surface(kept_parts)
    pts_wgs = gpd.GeoSeries(pts, crs=utm).to_crs(WGS84)
    if county is None:
        county_out = _assign_names(pts_wgs, frame)
    else:
        county_out = county[idx]
    total_file = float(pop.sum())
    total_in = float(pop_in.sum())
    total_out = float(pop_in[idx].sum())
    check_conservation(total_in, total_out)
    source = {
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
        "total_out": total_out,
        "clipped_away_pop": total_file - total_in,
        "prorating": "pop × area(inside)/area(feature), uniform density, local UTM areas",
        "elderly": ({"field": elderly_field, "total": float(eld_in[idx].sum())}
                    if elderly_field else "unknown (NaN): set with apply_elderly_share"),
    }
    return _demand_frame(idx, pop_in[idx], eld_in[idx], county_out, part_area[idx],
                         pts_wgs.values, WGS84, source,
                         polygons=gpd.GeoSeries(kept_parts, crs=utm).to_crs(WGS84).values)


# --------------------------------------------------------------------------------------------
# OSM buildings
# --------------------------------------------------------------------------------------------

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

    ``buildings`` needs a ``building`` column and optionally ``building:levels``. Returns a
    frame with ``building``, ``levels``, ``levels_tagged``, ``weight``, ``floor_m2``,
    ``weighted_m2`` in the same order.
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

    Raises
    ------
    InputError
        Missing file, no buildings, a district (or the whole area) with population but no
        residential floor area, district names not found, totals that disagree.
    """
    import pyrosm

    path = Path(pbf_path)
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
    # Check districts and totals before the (slow) read of the extract.
    warnings: list[str] = []
    dframe = None
    if districts is not None:
        dframe = _boundary_frame(districts)
        if "name" not in dframe.columns:
            raise InputError("分区边界缺少 name 字段 / districts need a 'name' column",
                             field="name")
    if district_totals is not None:
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
        if without:
            warnings.append(f"districts without a total get no population: {without}")
        total_in = dsum
    else:
        groups = {None: float(total_population)}
        total_in = float(total_population)

    frame = _boundary_frame(boundary)
    bbox = None
    if frame is not None:
        bbox = list(_boundary_union(frame, WGS84).bounds)
    try:
        # complete_relations: multipolygon buildings crossing the bbox keep their whole outline
        osm = pyrosm.OSM(str(path), bounding_box=bbox, complete_relations=bbox is not None)
        raw = osm.get_buildings()
    except Exception as exc:
        raise InputError(f"无法读取 OSM 建筑 / cannot read OSM buildings: {exc}", file=path) from exc
    if raw is None or len(raw) == 0:
        raise InputError("OSM 文件中没有建筑 / no buildings in the OSM extract", file=path)
    raw = raw.set_crs(WGS84, allow_override=False) if raw.crs is None else raw.to_crs(WGS84)
    # Deterministic order whatever the reader does: by OSM element type then id.
    order_cols = [c for c in ("osm_type", "id") if c in raw.columns]
    raw = raw.sort_values(order_cols, kind="stable").reset_index(drop=True) if order_cols else raw
    n_raw = len(raw)
    geom = raw.geometry
    polygonal = (geom.notna() & geom.geom_type.isin(["Polygon", "MultiPolygon"])
                 & ~geom.is_empty).to_numpy()
    utm = _utm_for(geom[polygonal] if polygonal.any() else geom)
    g_utm = np.empty(n_raw, dtype=object)
    g_utm[:] = None
    g_utm[polygonal] = shapely.make_valid(geom[polygonal].to_crs(utm).values)
    area = np.zeros(n_raw)
    area[polygonal] = shapely.area(g_utm[polygonal])
    rep = np.empty(n_raw, dtype=object)
    rep[polygonal] = shapely.point_on_surface(g_utm[polygonal])
    # Non-polygon ways (broken or unclosed outlines) keep a point for the record but no area.
    if (~polygonal).any():
        other = geom[~polygonal].to_crs(utm).values
        rep[~polygonal] = shapely.point_on_surface(other)
    rep_s = gpd.GeoSeries(rep, crs=utm)
    inside = np.ones(n_raw, dtype=bool)
    if frame is not None:
        bgeom = _boundary_union(frame, utm)
        shapely.prepare(bgeom)
        inside = shapely.within(rep_s.values, bgeom)
    info = building_weights(raw, default_levels=default_levels, weights=weights, area_m2=area)
    wm2 = np.where(inside & polygonal, info["weighted_m2"].to_numpy(), 0.0)
    rep_wgs = rep_s.to_crs(WGS84)

    county = (_assign_names(rep_wgs, dframe) if dframe is not None
              else np.full(n_raw, "", dtype=object))
    pop = np.zeros(n_raw)
    per_district: dict[str, dict] = {}

    for name, total in groups.items():
        members = np.ones(n_raw, dtype=bool) if name is None else (county == name)
        members &= inside
        w = wm2[members]
        W = float(w.sum())
        label = name if name is not None else "(all)"
        per_district[label] = {"total": total, "buildings": int(members.sum()),
                               "buildings_with_pop": int((w > 0).sum()),
                               "weighted_floor_m2": W}
        if total > 0 and W <= 0:
            raise InputError(
                f"区域内没有居住建筑面积，无法分配人口 / no residential floor area to place "
                f"{total:.6g} residents in {label} ({int(members.sum())} buildings, none with "
                f"weight > 0)", file=path, field=name,
                expected="buildings tagged residential/apartments/house/yes in the area")
        if W > 0:
            pop[members] = total * w / W
        per_district[label]["pop_out"] = float(pop[members].sum())

    assigned = pop > 0
    unplaced = inside & polygonal & (wm2 > 0) & ~assigned
    keep = (inside | assigned) if keep_zero else assigned
    idx = np.flatnonzero(keep)
    total_out = float(pop[idx].sum())
    check_conservation(total_in, total_out)
    btypes = info["building"].to_numpy()
    weight = info["weight"].to_numpy()
    unknown_types = sorted(set(btypes[(inside) & ~np.isin(btypes, list(BUILDING_WEIGHTS))]))
    source = {
        "method": "buildings",
        "file": str(path),
        "sha256": file_sha256(path),
        "area_crs": utm.to_string(),
        "buildings_in": n_raw,
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
        "elderly": "unknown (NaN): set with apply_elderly_share",
    }
    for w in warnings:
        log(f"population: {w}")
    polys = np.array([g if g is not None else shapely.Point() for g in g_utm[idx]], dtype=object)
    polys_wgs = gpd.GeoSeries(polys, crs=utm).to_crs(WGS84).values
    extra = {"osm_id": raw["id"].to_numpy()[idx] if "id" in raw else idx,
             "building": btypes[idx], "levels": info["levels"].to_numpy()[idx],
             "weight": weight[idx]}
    return _demand_frame(idx, pop[idx], np.full(len(idx), np.nan), county[idx], area[idx],
                         rep_wgs.values[idx], WGS84, source, polys_wgs, extra=extra)


# --------------------------------------------------------------------------------------------
# elderly shares and aggregation
# --------------------------------------------------------------------------------------------


def apply_elderly_share(demand: Demand, share: float | None = None, *,
                        district_shares: Mapping[str, float] | None = None,
                        districts: gpd.GeoDataFrame | None = None) -> Demand:
    """Set ``elderly = pop × share`` (per district where known, else the default ``share``).

    设置老年人口 = 总人口 × 老龄化比例（有分区比例时按分区，否则用默认比例）。

    Parameters
    ----------
    demand
        Demand points and their source.
    share
        Default share of residents aged 60+ (e.g. 0.198 for Inner Mongolia, 7th census).
    district_shares
        Shares by district name, matched to ``county`` (or to ``districts`` when given).
    districts
        Polygons with a ``name`` column; each point's district is the smallest polygon
        containing it (fills ``county`` where it was empty).

    Returns
    -------
    Demand
        A copy; ``source["elderly"]`` records which share was used where.
    """
    shares = {str(k): float(v) for k, v in (district_shares or {}).items()}
    for name, v in [("share", share), *shares.items()]:
        if v is not None and not (0.0 <= float(v) <= 1.0):
            raise InputError(f"老龄化比例须在 0 到 1 之间 / share {v!r} out of range for {name}",
                             field=name, expected="0 <= share <= 1")
    if share is None and not shares:
        raise InputError("未给出老龄化比例 / no elderly share given", field="elderly_share",
                         expected="a share such as 0.198")
    out = demand.points.copy()
    county = out["county"].fillna("").astype(str).to_numpy(dtype=object)
    if districts is not None:
        dframe = _boundary_frame(districts)
        names = _assign_names(out.geometry, dframe)
        county = np.where(county == "", names, county)
        out["county"] = county
        key = names
    else:
        key = county
    s = pd.Series(key).map(shares).to_numpy(dtype="float64")
    need_default = np.isnan(s)
    if need_default.any():
        if share is None:
            missing = sorted(set(key[need_default]))
            raise InputError(f"以下区域没有老龄化比例且无默认值 / no share for districts "
                             f"{missing} and no default share", field="district_shares")
        s = np.where(need_default, float(share), s)
    pop = out["pop"].to_numpy(dtype="float64")
    out["elderly"] = pop * s
    used: dict[str, dict] = {}
    for name in sorted(set(key)):
        m = key == name
        src = "district" if name in shares else "default"
        used[name if name else "(unknown)"] = {
            "share": float(s[m][0]), "source": src, "points": int(m.sum()),
            "pop": float(pop[m].sum()), "elderly": float((pop * s)[m].sum())}
    elderly = {"method": "share", "default_share": share, "district_shares": shares,
               "used": used, "total": float(out["elderly"].sum())}
    return demand.with_points(out, elderly=_jsonable(elderly))


def aggregate_grid(demand: Demand, cell_m: float) -> Demand:
    """Aggregate demand points to a regular square grid in the local UTM CRS.

    将需求点汇总到规则格网（UTM 投影，边长 cell_m 米），总人口守恒。

    Cells are aligned to multiples of ``cell_m`` in UTM metres (so the same inputs always give
    the same cells). Each cell's point is the population-weighted mean of its members
    (stays near where people are; the cell centre would put it in a river as readily as in a
    block); ``area_m2`` = ``cell_m²``; ``county`` = the county holding most of the cell's
    population; ``elderly`` is summed (NaN only when all members are NaN). ``cell_id`` is the
    row-major index in the grid spanning the points (row 0 = north).
    """
    if not (cell_m > 0 and math.isfinite(cell_m)):
        raise InputError(f"格网边长无效 / invalid cell size {cell_m!r}", expected="metres > 0")
    source = demand.source
    demand = demand.points
    if len(demand) == 0:
        raise InputError("没有需求点可汇总 / no demand points to aggregate")
    pts = demand.geometry if _is_wgs84(demand.crs) else demand.geometry.to_crs(WGS84)
    utm = _utm_for(pts)
    # transform coordinates, not geometries (several times faster at a million points)
    to_utm = Transformer.from_crs(WGS84, utm, always_xy=True)
    x, y = to_utm.transform(shapely.get_x(pts.values), shapely.get_y(pts.values))
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    ix = np.floor(x / cell_m).astype("int64")
    iy = np.floor(y / cell_m).astype("int64")
    ncols = int(ix.max() - ix.min() + 1)
    cid = (iy.max() - iy) * ncols + (ix - ix.min())
    pop = demand["pop"].to_numpy(dtype="float64")
    eld = demand["elderly"].to_numpy(dtype="float64")
    w = np.where(pop > 0, pop, 0.0)
    # numpy group sums (bincount) rather than pandas groupby: ~1.5 M points in about a second
    cells, inv = np.unique(cid, return_inverse=True)
    k = len(cells)

    def gsum(v):
        return np.bincount(inv, weights=v, minlength=k)

    cpop = gsum(pop)
    n_eld = np.bincount(inv, weights=np.isfinite(eld).astype(float), minlength=k)
    celd = np.where(n_eld > 0, gsum(np.where(np.isfinite(eld), eld, 0.0)), np.nan)
    sw = gsum(w)
    n = np.bincount(inv, minlength=k)
    has_w = sw > 0
    safe = np.where(has_w, sw, 1.0)
    px = np.where(has_w, gsum(w * x) / safe, gsum(x) / n)
    py = np.where(has_w, gsum(w * y) / safe, gsum(y) / n)
    # county holding most of the cell's population (ties: first name in sorted order)
    codes, uniq = pd.factorize(demand["county"].fillna("").astype(str).to_numpy(), sort=True)
    nc = max(len(uniq), 1)
    by = np.bincount(inv * nc + codes, weights=np.where(pop > 0, pop, 0.0),
                     minlength=k * nc).reshape(k, nc)
    county = np.asarray(uniq, dtype=object)[by.argmax(axis=1)] if len(uniq) else np.full(k, "", dtype=object)
    first = np.zeros(k, dtype="int64")
    first[inv] = np.arange(len(inv))  # any member: all share the cell's ix, iy
    x0 = ix[first] * cell_m
    y0 = iy[first] * cell_m
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    total_in = float(pop.sum())
    total_out = float(cpop.sum())
    check_conservation(total_in, total_out)
    eld_in = float(np.nansum(eld))
    eld_out = float(np.nansum(celd))
    check_conservation(eld_in, eld_out, what="elderly")
    ps = dict(source)
    ps["aggregated"] = {"cell_m": float(cell_m), "crs": utm.to_string(),
                        "points_in": len(demand), "cells_out": k,
                        "total_in": total_in, "total_out": total_out,
                        "point": "population-weighted mean of members"}
    lon, lat = Transformer.from_crs(utm, WGS84, always_xy=True).transform(px, py)
    polys = gpd.GeoSeries(boxes, crs=utm).to_crs(WGS84).values
    return _demand_frame(cells, cpop, celd, county, np.full(k, float(cell_m) ** 2),
                         gpd.points_from_xy(lon, lat), WGS84, ps, polys)

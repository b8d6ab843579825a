"""Population rasters (GeoTIFF, people per pixel: WorldPop, GHS-POP) → demand points.

人口栅格（每像元人数）→ 需求点：每个人口 > 0 且中心位于研究区内的像元一个点。

Steps of :func:`from_raster`: open and check the raster, read only the window over the study
area, mask pixels whose centre is inside, make one point per populated pixel with its true
ground area, read the elderly raster onto the same pixels, and record the source.
Method notes: ``docs/population.md`` §1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Proj, Transformer

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.inputs.demand import Demand
from carecover.inputs.population.bands import band_list, choose_bands, describe_bands, read_band_sum
from carecover.inputs.population.common import (
    ELDERLY_UNKNOWN,
    WGS84,
    assign_names,
    boundary_frame,
    boundary_union,
    check_conservation,
    demand_frame,
    is_wgs84,
)
from carecover.utils import file_sha256

__all__ = ["from_raster", "geographic_cell_area", "check_read_size", "MAX_READ_PIXELS", "MAX_PEOPLE_PER_PIXEL"]

_MASK_RULE = "pixel centre inside boundary (rasterio geometry_mask, all_touched=False)"
#: Most pixels read at once (the window over the study area, or a whole raster without one):
#: 100 million (800 MB as float64). A larger read is refused naming the limit; a national
#: raster with a boundary reads only the city's window.
MAX_READ_PIXELS = 100_000_000
#: Most people one pixel may hold: more is an undeclared nodata value (1e30, 3.4e38), refused.
MAX_PEOPLE_PER_PIXEL = 1_000_000


def geographic_cell_area(lat1, lat2, dlon_deg, semi_major: float = 6378137.0,
                         inverse_flattening: float = 298.257223563) -> np.ndarray:
    """Exact ellipsoidal area (m²) of lat/lon cells between ``lat1`` and ``lat2`` (degrees).

    Uses the authalic-latitude formula: the area of a zone from the equator to latitude φ
    over Δλ is ``½·Δλ·a²·q(φ)`` with
    ``q(φ) = (1−e²)·[sinφ/(1−e²sin²φ) + artanh(e·sinφ)/e]``. Agrees with
    ``pyproj.Geod.polygon_area_perimeter`` to ~1e-9 relative.

    Parameters
    ----------
    lat1, lat2
        Latitudes of the cell edges (degrees; arrays broadcast).
    dlon_deg
        Width of the cells in longitude (degrees).
    semi_major, inverse_flattening
        The ellipsoid (default WGS-84); ``inverse_flattening=0`` means a sphere.

    Returns
    -------
    numpy.ndarray
        Areas in square metres.
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


# --------------------------------------------------------------------------------------------
# the window read


@dataclass(frozen=True)
class _Window:
    """The pixels read: rows ``row0:row1`` and columns ``col0:col1`` of the full raster."""

    row0: int
    row1: int
    col0: int
    col1: int

    @property
    def window(self):
        from rasterio.windows import Window

        return Window(self.col0, self.row0, self.col1 - self.col0, self.row1 - self.row0)

    def transform(self, raster_transform):
        """The affine transform of the window's pixels."""
        from rasterio.windows import transform

        return transform(self.window, raster_transform)

    def record(self) -> dict:
        return {"row_off": self.row0, "col_off": self.col0, "height": self.row1 - self.row0,
                "width": self.col1 - self.col0}


def _window_for(src, geom_bounds) -> tuple[int, int, int, int]:
    """(row0, row1, col0, col1) of the pixels touching ``geom_bounds``, clamped to the raster."""
    from rasterio.windows import from_bounds

    win = from_bounds(*geom_bounds, transform=src.transform)
    col0 = max(0, math.floor(win.col_off + 1e-9))
    row0 = max(0, math.floor(win.row_off + 1e-9))
    col1 = min(src.width, math.ceil(win.col_off + win.width - 1e-9))
    row1 = min(src.height, math.ceil(win.row_off + win.height - 1e-9))
    return row0, row1, col0, col1


def _open_raster(path: Path):
    """The open dataset (the caller closes it)."""
    import rasterio

    if not path.exists():
        raise InputError("人口栅格不存在 / population raster not found", file=path)
    not_special(path, "population raster / 人口栅格")
    try:
        return rasterio.open(path)
    except Exception as exc:
        raise InputError(f"无法读取栅格 / cannot read raster: {exc}", file=path) from exc


def _check_raster(src, path: Path) -> CRS:
    """The raster's CRS, once it is known to have one and no rotation."""
    if src.crs is None:
        raise InputError("栅格没有坐标参考系 / raster has no CRS", file=path,
                         expected="a GeoTIFF with a CRS (e.g. EPSG:4326)")
    t = src.transform
    if t.b != 0 or t.d != 0:
        raise InputError("不支持旋转栅格 / rotated rasters are not supported", file=path,
                         expected="a north-up raster")
    return CRS(src.crs)


def _area_window(src, frame, crs: CRS, path: Path) -> tuple[shapely.Geometry | None, _Window]:
    """The study area in the raster CRS and the window over its bounding box (whole raster
    without an area): a national raster costs only the city's pixels."""
    if frame is None:
        return None, _Window(0, src.height, 0, src.width)
    geom = boundary_union(frame, crs)
    win = _Window(*_window_for(src, geom.bounds))
    if win.row1 <= win.row0 or win.col1 <= win.col0:
        raise InputError("研究区与人口栅格不重叠 / boundary does not overlap the raster",
                         file=path)
    return geom, win


def check_read_size(n_pixels: int, path: Path, what: str = "the window over the study area") -> None:
    """Refuse reading more than :data:`MAX_READ_PIXELS` pixels at once (naming the limit).

    Parameters
    ----------
    n_pixels
        Pixels the read would allocate.
    path
        The raster.
    what
        What would be read, for the message.

    Raises
    ------
    InputError
    """
    if n_pixels > MAX_READ_PIXELS:
        raise InputError(f"栅格读取范围过大 / the raster read is too large: {what} has {n_pixels:,} pixels, more than "
                         f"the limit of {MAX_READ_PIXELS:,}", file=path,
                         expected="a --boundary (only its window is read), or a raster clipped to the study area")


def _warn_partial_cover(src, geom, path: Path) -> None:
    """Say (a notice) when the raster covers only part of the study area: the residents of the
    rest are not counted."""
    if geom is None:
        return
    area = float(geom.area)
    covered = float(shapely.intersection(geom, shapely.box(*src.bounds)).area)
    if area > 0 and covered < 0.99 * area:
        from carecover import notices

        share = covered / area
        notices.warn("raster_partial_cover",
                     f"{path}: 人口栅格只覆盖研究区的 {share:.0%}，其余部分的居民未计入 / the population raster covers "
                     f"only {share:.0%} of the study area; residents of the rest are not counted")


def _read_counts(src, bands: tuple[int, ...], win: _Window, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(counts, valid) of the window, the bands summed; a negative head-count is an error, not a guess."""
    check_read_size((win.row1 - win.row0) * (win.col1 - win.col0), path,
                    "the window over the study area" if win.row0 or win.col0 or win.row1 < src.height
                    or win.col1 < src.width else "the whole raster (no --boundary)")
    data, valid = read_band_sum(src, bands, win.window)
    band = band_list(bands)
    neg = valid & (data < 0)
    if neg.any():
        r, c = np.argwhere(neg)[0]
        raise InputError(
            f"人口栅格含负值 / negative population {data[r, c]:.6g} in band {band} at row "
            f"{r + win.row0}, col {c + win.col0} (0-based pixel indices; {int(neg.sum())} negative "
            f"pixel(s) in the area read)", file=path, field=f"band {band}",
            expected="people per pixel >= 0 (or the nodata value)")
    huge = valid & (data > MAX_PEOPLE_PER_PIXEL)
    if huge.any():
        r, c = np.argwhere(huge)[0]
        raise InputError(
            f"人口栅格数值过大 / {data[r, c]:.6g} people in one pixel of band {band} at row {r + win.row0}, col "
            f"{c + win.col0} (0-based; {int(huge.sum())} such pixel(s)): more than {MAX_PEOPLE_PER_PIXEL:,}, an "
            "undeclared nodata value?", file=path, field=f"band {band}",
            expected="people per pixel, with the nodata value declared (gdal_edit.py -a_nodata VALUE)")
    return data, valid


def _centres_inside(geom, shape, win_transform) -> np.ndarray:
    """Pixels whose centre is inside ``geom`` (all of them without one).

    Centres, not ``all_touched``: that would count every edge pixel in full and pixels on a
    shared border in both districts.
    """
    from rasterio.features import geometry_mask

    if geom is None:
        return np.ones(shape, dtype=bool)
    return geometry_mask([geom], out_shape=shape, transform=win_transform,
                         all_touched=False, invert=True)


@dataclass(frozen=True)
class _Pixels:
    """Populated pixels inside the area: window indices ``rr, cc``, raster indices ``grow,
    gcol`` (row-major order) and their counts."""

    rr: np.ndarray
    cc: np.ndarray
    grow: np.ndarray
    gcol: np.ndarray
    pop: np.ndarray


def _populated(data: np.ndarray, use: np.ndarray, win: _Window) -> _Pixels:
    """Pixels with people: a 0 carries no demand, so it is no point."""
    rr, cc = np.nonzero(use & (data > 0))  # row-major order
    return _Pixels(rr, cc, rr + win.row0, cc + win.col0, data[rr, cc])


def _centre_points(t, px: _Pixels, crs: CRS) -> gpd.GeoSeries:
    xs = t.c + (px.gcol + 0.5) * t.a
    ys = t.f + (px.grow + 0.5) * t.e
    return gpd.GeoSeries(gpd.points_from_xy(xs, ys), crs=crs)


def _pixel_boxes(t, px: _Pixels) -> np.ndarray:
    x0, y0 = t.c + px.gcol * t.a, t.f + px.grow * t.e
    return shapely.box(np.minimum(x0, x0 + t.a), np.minimum(y0, y0 + t.e),
                       np.maximum(x0, x0 + t.a), np.maximum(y0, y0 + t.e))


# --------------------------------------------------------------------------------------------
# the elderly raster


def _elderly_same_grid(esrc, bands: tuple[int, ...], window) -> np.ndarray:
    data, valid = read_band_sum(esrc, bands, window)
    return np.where(valid, data, 0.0)


def _elderly_resampled(esrc, bands: tuple[int, ...], dst_crs, win_transform, shape,
                       pop_areas_grid) -> np.ndarray:
    """Resample the *density* (people per m²) with an average so counts are not duplicated
    when upsampling nor lost when downsampling, then × the population pixel area."""
    from rasterio.enums import Resampling
    from rasterio.warp import reproject

    check_read_size(esrc.width * esrc.height, Path(esrc.name), "the elderly raster (read whole to resample)")
    src_data, valid = read_band_sum(esrc, bands)
    bad = ~valid
    rr, cc = np.indices(src_data.shape)
    e_area = _pixel_areas(CRS(esrc.crs), esrc.transform, rr.ravel(), cc.ravel()).reshape(src_data.shape)
    dens = np.where(bad, np.nan, src_data / e_area)
    out = np.full(shape, np.nan, dtype="float64")
    reproject(dens, out, src_transform=esrc.transform, src_crs=esrc.crs,
              src_nodata=np.nan, dst_transform=win_transform, dst_crs=dst_crs,
              dst_nodata=np.nan, resampling=Resampling.average)
    return np.where(np.isfinite(out), out, 0.0) * pop_areas_grid


def _read_elderly(elderly_raster, src, bands: tuple[int, ...] | None, window, win_transform, shape,
                  pop_areas_grid) -> tuple[np.ndarray, dict]:
    """Elderly counts of one elderly raster on the population raster's window (same grid, or
    resampled); its bands as asked, else all of them, summed."""
    import rasterio

    path = Path(elderly_raster)
    if not path.exists():
        raise InputError("老年人口栅格不存在 / elderly raster not found", file=path)
    not_special(path, "elderly raster / 老年人口栅格")
    with rasterio.open(path) as esrc:
        if esrc.crs is None:
            raise InputError("老年人口栅格没有坐标参考系 / elderly raster has no CRS", file=path)
        use = choose_bands(esrc, path, bands, role="elderly", option="--elderly-bands")
        same = (CRS(esrc.crs).equals(CRS(src.crs)) and esrc.transform == src.transform
                and esrc.width == src.width and esrc.height == src.height)
        info = {"file": str(path), "sha256": file_sha256(path), "band": use[0],
                "method": "same grid" if same else "resampled (density, average)"}
        if len(use) > 1 or esrc.count > 1:
            info.update(bands=list(use), band_count=esrc.count, band_descriptions=describe_bands(esrc))
        if same:
            data = _elderly_same_grid(esrc, use, window)
        else:
            data = _elderly_resampled(esrc, use, src.crs, win_transform, shape, pop_areas_grid)
        band = band_list(use)
        if (data < 0).any():
            r, c = np.argwhere(data < 0)[0]
            raise InputError(
                f"老年人口栅格含负值 / negative value {data[r, c]:.6g} in band {band} at "
                f"row {r + window.row_off}, col {c + window.col_off} (0-based pixel indices)",
                file=path, expected="counts >= 0")
    return data, info


def _pixel_elderly(elderly_raster, src, bands: tuple[int, ...] | None, win: _Window, data: np.ndarray,
                   use: np.ndarray, px: _Pixels, crs: CRS) -> tuple[np.ndarray, dict | str]:
    """Elderly per populated pixel and how they were read (NaN without an elderly raster); several
    elderly rasters (WorldPop's age-sex groups) are summed."""
    files = [elderly_raster] if isinstance(elderly_raster, (str, Path)) else list(elderly_raster or [])
    if not files:
        return np.full(len(px.pop), np.nan), ELDERLY_UNKNOWN
    t = src.transform
    area_grid = np.zeros(data.shape)
    r_all, c_all = np.indices(data.shape)
    area_grid[:] = _pixel_areas(crs, t, (r_all + win.row0).ravel().astype("float64"),
                                (c_all + win.col0).ravel().astype("float64")).reshape(data.shape)
    edata, info = None, {}
    for f in files:
        one, one_info = _read_elderly(f, src, bands, win.window, win.transform(t), data.shape, area_grid)
        edata = one if edata is None else edata + one
        info = one_info if not info else info
        if len(files) > 1:
            info.setdefault("files", []).append(
                {k: one_info.get(k) for k in ("file", "sha256", "band", "bands", "band_descriptions", "method")})
    elderly = edata[px.rr, px.cc]
    info["total"] = float(elderly.sum())
    info["cells_elderly_gt_pop"] = int((elderly > px.pop + 1e-9).sum())
    if info["cells_elderly_gt_pop"]:
        from carecover import notices

        notices.warn("elderly_above_total",
                     f"{elderly_raster}: {info['cells_elderly_gt_pop']:,} 个像元的老年人口多于总人口（老年合计 "
                     f"{info['total']:,.0f}，总人口 {float(px.pop.sum()):,.0f}）/ {info['cells_elderly_gt_pop']:,} pixels "
                     f"hold more elderly than residents (elderly {info['total']:,.0f}, total {float(px.pop.sum()):,.0f}): "
                     "are the two rasters of the same year and unit?")
    info["elderly_on_zero_pop_cells"] = float(edata[use & (data <= 0)].sum())
    return elderly, info


# --------------------------------------------------------------------------------------------
# the reader


def _band_record(src, bands: tuple[int, ...]) -> dict:
    """The bands read, stated when the raster has more than one (``band`` alone otherwise)."""
    if src.count == 1 and bands == (1,):
        return {}
    return {"bands": list(bands), "band_count": src.count, "band_descriptions": describe_bands(src)}


def _raster_source(path: Path, band: int, crs: CRS, t, win: _Window, *, cells_out: int,
                   nodata_inside: int, total_in: float, total_out: float, total_window: float,
                   clipped: bool, elderly: dict | str) -> dict:
    """``Demand.source`` of a raster read (copied into summary.json)."""
    return {
        "method": "raster",
        "file": str(path),
        "sha256": file_sha256(path),
        "band": band,
        "crs": crs.to_string(),
        "pixel_size": [abs(t.a), abs(t.e)],
        "mask": _MASK_RULE,
        "window": win.record(),
        "cells_out": cells_out,
        "nodata_cells_in_area": nodata_inside,
        "total_in": total_in,
        "total_out": total_out,
        "total_window": total_window,
        "clipped_away_pop": total_window - total_in if clipped else 0.0,
        "boundary": clipped,
        "elderly": elderly,
    }


def from_raster(path: str | Path, boundary: Any = None, *, band: int | None = None,
                bands: Sequence[int] | None = None,
                elderly_raster: str | Path | Sequence[str | Path] | None = None,
                elderly_bands: Sequence[int] | None = None,
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
    band, bands
        Raster band (1-based), or several bands summed (e.g. WorldPop's age-sex groups). A
        single-band raster needs neither; a multi-band raster without either is refused (the
        message lists the bands and their descriptions).
    elderly_raster
        Optional raster(s) of residents aged 60+, summed (WorldPop publishes each age-sex group
        as its own file); each on the same grid (read window-for-window) or any other grid
        (density resampled by area average onto the population grid).
    elderly_bands
        Bands of the elderly raster(s) to sum; default all of them.
    cell_polygons
        Keep the pixel squares as ``cell_polygons`` (skip for very large areas).

    Returns
    -------
    Demand
        The demand contract (EPSG:4326); ``elderly`` is NaN without ``elderly_raster``;
        ``cell_id`` = row × width + col in the full raster.

    Raises
    ------
    InputError
        Missing file or CRS, bad band, rotated raster, boundary outside the raster, negative
        values (file, band, row/col and value named), or nothing but nodata in the area.
    """
    path = Path(path)
    src = _open_raster(path)
    with src:
        # check → window over the area → counts → centres inside → points → elderly → cells
        crs = _check_raster(src, path)
        chosen = choose_bands(src, path, tuple(bands) if bands else ((band,) if band else None))
        band = chosen[0]
        frame = boundary_frame(boundary)
        geom, win = _area_window(src, frame, crs, path)
        _warn_partial_cover(src, geom, path)
        data, valid = _read_counts(src, chosen, win, path)
        inside = _centres_inside(geom, data.shape, win.transform(src.transform))
        use = valid & inside
        if not use.any():
            raise InputError("研究区内全部为无数据像元 / only nodata pixels within the area",
                             file=path, field=f"band {band_list(chosen)}")
        t = src.transform
        px = _populated(data, use, win)
        areas = _pixel_areas(crs, t, px.grow.astype("float64"), px.gcol.astype("float64"))
        points = _centre_points(t, px, crs)
        elderly, elderly_info = _pixel_elderly(elderly_raster, src, elderly_bands, win, data, use, px, crs)
        band_info = _band_record(src, chosen)
        polygons = _pixel_boxes(t, px) if cell_polygons else None
        width = src.width
    county = (assign_names(points if is_wgs84(crs) else points.to_crs(WGS84), frame)
              if frame is not None else np.full(len(px.pop), "", dtype=object))
    total_in, total_out = float(data[use].sum()), float(px.pop.sum())
    check_conservation(total_in, total_out)
    source = _raster_source(path, band, crs, t, win, cells_out=len(px.pop),
                            nodata_inside=int((inside & ~valid).sum()), total_in=total_in,
                            total_out=total_out, total_window=float(data[valid].sum()),
                            clipped=geom is not None, elderly=elderly_info)
    source.update(band_info)
    return demand_frame(px.grow * width + px.gcol, px.pop, elderly, county, areas, points.values,
                         crs, source, polygons)

"""Elevation (DEM) under the street network: directional Tobler slope factors per segment.

The DEM is read with rasterio: SRTM ``.hgt`` or ``.hgt.zip`` (read inside the zip through
GDAL's ``/vsizip/``), GeoTIFF, in any CRS. Each segment is sampled every
:data:`SAMPLE_M` metres (its two ends and evenly spaced points between them, bilinear between
pixel centres); each piece between two samples has its own grade, so a segment that climbs and
descends is not taken as flat. Nodata pixels (sea, voids) are filled from the nearest valid
pixel and the number of samples that needed it is reported. A DEM that covers less than
:data:`MIN_COVERED` of the samples is refused with the covered share.

Bridges and tunnels (:mod:`carecover.network.structures`) are not sampled on the DEM: their
grade is the straight one between the ground heights at the ends of their run.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyproj import CRS, Transformer
from scipy import ndimage

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.mobility import DOWNHILL_CAP, tobler
from carecover.network.streets import StreetNetwork
from carecover.network.structures import GRADE_RULE, run_heights, structure_mask

SAMPLE_M = 20.0
MIN_COVERED = 0.995


@dataclass(frozen=True)
class Slopes:
    """Slope factors of a network's segments and what the DEM said.

    Attributes
    ----------
    ab, ba
        Speed factors for travel ``a→b`` and ``b→a`` (1 on the flat).
    info
        ``dem`` (file), ``covered_share``, ``samples``, ``nodata_filled_samples``,
        ``max_grade`` (steepest piece, rise/run), ``downhill_cap``; bridges and tunnels:
        ``structure_segments``, ``structure_km``, ``structure_runs``,
        ``structure_runs_without_ground_end``, ``structure_grade`` (how they are graded),
        ``structure_tags_unknown`` (tags the network's source could not carry).
    node_z
        Height of every node as graded (the DEM's, interpolated inside bridge/tunnel runs).
    structure
        Which segments are on a bridge or in a tunnel.
    """

    ab: np.ndarray
    ba: np.ndarray
    info: dict
    node_z: np.ndarray
    structure: np.ndarray


def gdal_path(path: Path) -> str:
    """The path GDAL opens: ``/vsizip/…/N43E007.hgt`` for a zipped tile.

    Raises
    ------
    InputError
        When the file is missing or a zip holds no raster.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("DEM file not found / 找不到高程文件", file=path, field="dem")
    not_special(path, "DEM / 高程数据")
    if path.suffix.lower() != ".zip":
        return str(path)
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if n.lower().endswith((".hgt", ".tif", ".tiff"))]
    if not names:
        raise InputError("the zip holds no .hgt or .tif raster / 压缩包内没有高程栅格", file=path, field="dem")
    return f"/vsizip/{path.resolve()}/{names[0]}"


def _read(path: Path, x: np.ndarray, y: np.ndarray, crs: CRS):
    """Window of the DEM around the points: (elevation with NaN nodata, col, row, inside)."""
    import rasterio
    from rasterio.windows import Window

    not_special(path, "DEM / 高程数据")
    try:
        ds = rasterio.open(gdal_path(path))
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"cannot read the DEM: {exc}", file=path, field="dem") from exc
    with ds:
        if ds.crs is None:
            raise InputError("the DEM has no coordinate system / 高程数据缺少坐标系", file=path, field="dem")
        dx, dy = Transformer.from_crs(crs, ds.crs, always_xy=True).transform(x, y)
        col, row = ~ds.transform @ (np.asarray(dx), np.asarray(dy))
        inside = (col >= 0) & (col <= ds.width) & (row >= 0) & (row <= ds.height)
        if not inside.any():
            return None, col, row, inside
        c0 = max(int(np.floor(col[inside].min())) - 2, 0)
        r0 = max(int(np.floor(row[inside].min())) - 2, 0)
        c1 = min(int(np.ceil(col[inside].max())) + 2, ds.width)
        r1 = min(int(np.ceil(row[inside].max())) + 2, ds.height)
        z = ds.read(1, window=Window(c0, r0, c1 - c0, r1 - r0), masked=True)
        z = np.ma.filled(z.astype(float), np.nan)
    return z, col - c0, row - r0, inside


def _fill(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nodata pixels filled from the nearest valid pixel; the mask of filled pixels."""
    hole = ~np.isfinite(z)
    if not hole.any():
        return z, hole
    idx = ndimage.distance_transform_edt(hole, return_distances=False, return_indices=True)
    return z[tuple(idx)], hole


def _bilinear(z: np.ndarray, col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values at fractional pixel positions (pixel-is-area: centres at +0.5), and the four
    pixels' indices (flat) used."""
    h, w = z.shape
    c = np.clip(col - 0.5, 0, w - 1)
    r = np.clip(row - 0.5, 0, h - 1)
    c0 = np.minimum(np.floor(c).astype(np.int64), max(w - 2, 0))
    r0 = np.minimum(np.floor(r).astype(np.int64), max(h - 2, 0))
    c1, r1 = np.minimum(c0 + 1, w - 1), np.minimum(r0 + 1, h - 1)
    fc, fr = c - c0, r - r0
    val = (z[r0, c0] * (1 - fc) * (1 - fr) + z[r0, c1] * fc * (1 - fr)
           + z[r1, c0] * (1 - fc) * fr + z[r1, c1] * fc * fr)
    return val, np.stack([r0 * w + c0, r0 * w + c1, r1 * w + c0, r1 * w + c1])


def slopes(net: StreetNetwork, dem: Path, cap: float = DOWNHILL_CAP) -> Slopes:
    """Directional Tobler factors of every segment from a DEM.

    Parameters
    ----------
    net
        The (projected) street network.
    dem
        DEM file (``.hgt``, ``.hgt.zip``, GeoTIFF; any CRS).
    cap
        Cap on the downhill gain.

    Returns
    -------
    Slopes

    Raises
    ------
    InputError
        When the DEM cannot be read or covers less than :data:`MIN_COVERED` of the network.
    """
    L = net.seg_len
    k = np.maximum(np.ceil(L / SAMPLE_M).astype(np.int64), 1)
    seg = np.repeat(np.arange(net.n_segments), k + 1)
    start = np.concatenate([[0], np.cumsum(k + 1)[:-1]])
    t = (np.arange(len(seg)) - start[seg]) / k[seg]
    a, b = net.seg_a[seg], net.seg_b[seg]
    x = net.node_x[a] + t * (net.node_x[b] - net.node_x[a])
    y = net.node_y[a] + t * (net.node_y[b] - net.node_y[a])
    z, col, row, inside = _read(dem, x, y, net.crs)
    share = float(inside.mean()) if len(inside) else 0.0
    if z is None or share < MIN_COVERED:
        raise InputError(f"the DEM covers only {share:.1%} of the street network (needs "
                         f"{MIN_COVERED:.1%}) / 高程数据仅覆盖路网的 {share:.1%}", file=dem, field="dem")
    z, hole = _fill(z)
    if not np.isfinite(z).all():
        raise InputError("the DEM holds no valid elevation under the network / 路网范围内无有效高程",
                         file=dem, field="dem")
    elev, used = _bilinear(z, col, row)
    filled = hole.ravel()[used].any(axis=0)
    elev, node_z, on, sinfo = _off_the_ground(net, elev, start, k, t)
    # pieces: consecutive samples of the same segment
    nxt = np.ones(len(seg), bool)
    nxt[start] = False
    g = np.diff(elev)[nxt[1:]] / np.repeat(np.where(L > 0, L, 1.0) / k, k)
    pseg = np.repeat(np.arange(net.n_segments), k)
    inv_ab = np.bincount(pseg, 1.0 / tobler(g, cap), net.n_segments)
    inv_ba = np.bincount(pseg, 1.0 / tobler(-g, cap), net.n_segments)
    info = {"dem": str(dem), "covered_share": round(share, 4), "samples": int(len(seg)),
            "nodata_filled_samples": int(filled.sum()),
            "nodata": "filled from the nearest valid pixel",
            "max_grade": round(float(np.abs(g).max(initial=0.0)), 4), "downhill_cap": cap, **sinfo}
    return Slopes(k / inv_ab, k / inv_ba, info, node_z, on)


def _off_the_ground(net: StreetNetwork, elev: np.ndarray, start: np.ndarray, k: np.ndarray,
                    t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """The samples of bridge/tunnel segments put on the straight line between their run's end
    heights; the node heights, the bridge/tunnel mask and the record of them."""
    ground_z = np.zeros(net.n_nodes)
    ground_z[net.seg_b] = elev[start + k]
    ground_z[net.seg_a] = elev[start]
    on, unknown = structure_mask(net.seg_tags or {}, net.n_segments)
    node_z, runs = run_heights(net, ground_z, on)
    seg = np.repeat(np.arange(net.n_segments), k + 1)
    off = on[seg]
    za, zb = node_z[net.seg_a[seg[off]]], node_z[net.seg_b[seg[off]]]
    elev = elev.copy()
    elev[off] = za + t[off] * (zb - za)
    info = {"structure_segments": int(on.sum()), "structure_km": round(float(net.seg_len[on].sum()) / 1000, 3),
            "structure_runs": runs["runs"], "structure_runs_without_ground_end": runs["runs_without_ground_end"],
            "structure_grade": GRADE_RULE, "structure_tags_unknown": unknown}
    return elev, node_z, on, info

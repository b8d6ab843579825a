"""Polygon layers of the report's static maps, drawn at the picture's resolution.

An isochrone union of a Hohhot-scale run has up to 1.7 million vertices in 80,000 rings (a
street buffer with a hole per block); drawn polygon by polygon (GeoPandas' ``plot``) one map
took seconds, and even as one path its outline alone has more vertices than the picture has
pixels. Such a layer is drawn as a picture instead (:func:`polygon_raster`): its rings become
ONE path in longitude/latitude that Agg fills (anti-aliased) on a grid of the map's pixel size
(:data:`OVERSAMPLE`); each pixel of the map then takes the value at its own centre, projected
exactly back to longitude/latitude, so the layer lies where the UTM map puts it to within a pixel. Light layers
(boundaries) stay vectors (:func:`polygon_path`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import shapely
from pyproj import CRS, Transformer

#: The fill is computed on a grid this many times finer than the map's pixels (2 looked the
#: same at Hohhot scale and took 10 % more of the report's time).
OVERSAMPLE = 1

@functools.lru_cache(maxsize=16)
def transformer(src: CRS, dst: CRS) -> Transformer:
    """A cached :class:`~pyproj.Transformer` (lon, lat order) from ``src`` to ``dst``."""
    return Transformer.from_crs(src, dst, always_xy=True)


def rings_of(geoms) -> tuple[np.ndarray, np.ndarray]:
    """The rings of the polygons (and multipolygons) among ``geoms``, exteriors counter-clockwise
    and holes clockwise (so a non-zero fill leaves the holes open).

    Parameters
    ----------
    geoms
        Shapely geometries (others than polygons, missing and empty ones are skipped).

    Returns
    -------
    tuple of numpy.ndarray
        The vertices ``(n, 2)``, ring after ring, and the number of vertices of each ring.
    """
    geoms = np.asarray(geoms, dtype=object).ravel()
    parts = shapely.get_parts(geoms[~shapely.is_missing(geoms)])
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    if not len(parts):
        return np.zeros((0, 2)), np.zeros(0, np.int64)
    rings = shapely.get_rings(shapely.orient_polygons(parts))
    return shapely.get_coordinates(rings), shapely.get_num_coordinates(rings).astype(np.int64)


def _path(xy: np.ndarray, length: np.ndarray):
    from matplotlib.path import Path

    codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
    codes[np.cumsum(length) - length] = Path.MOVETO
    return Path(xy, codes)


def polygon_path(geoms, src: CRS, dst: CRS):
    """The polygons among ``geoms`` as one path in ``dst`` (a light layer: every vertex kept).

    Parameters
    ----------
    geoms
        Shapely geometries in ``src``.
    src, dst
        Their CRS and the map's.

    Returns
    -------
    matplotlib.path.Path or None
        ``None`` when there is no polygon.
    """
    xy, length = rings_of(geoms)
    if not len(xy):
        return None
    x, y = transformer(src, dst).transform(xy[:, 0], xy[:, 1])
    return _path(np.column_stack([x, y]), length)


@dataclass(frozen=True)
class PixelGrid:
    """The map's pixels and the fill grid they are sampled from.

    Attributes
    ----------
    extent
        ``(xmin, xmax, ymin, ymax)`` in the map's CRS.
    shape
        Rows and columns of the map's pixels (row 0 at the top).
    fill_shape
        Rows and columns of the fill grid (row 0 at the bottom), in the layers' CRS.
    to_fill
        The :class:`~matplotlib.transforms.Affine2D` from the layers' CRS to the fill grid's pixels.
    sample
        For each map pixel, the flat index of the fill grid's pixel under its centre.
    """

    extent: tuple[float, float, float, float]
    shape: tuple[int, int]
    fill_shape: tuple[int, int]
    to_fill: object
    sample: np.ndarray


@functools.lru_cache(maxsize=4)
def pixel_grid(extent: tuple[float, float, float, float], columns: int, dst: CRS, src: CRS) -> PixelGrid:
    """The pixel centres of a map of ``extent`` (in ``dst``), ``columns`` wide, square pixels,
    projected into ``src`` (computed once per extent: the maps of all tiers usually share it).

    Parameters
    ----------
    extent
        ``(xmin, xmax, ymin, ymax)`` in ``dst``.
    columns
        Pixels across.
    dst, src
        The map's CRS and the layers' CRS.

    Returns
    -------
    PixelGrid
    """
    xmin, xmax, ymin, ymax = extent
    size = (xmax - xmin) / columns
    rows = max(1, int(np.ceil((ymax - ymin) / size)))
    cx = xmin + (np.arange(columns) + 0.5) * size
    cy = ymax - (np.arange(rows) + 0.5) * (ymax - ymin) / rows
    gx, gy = np.meshgrid(cx, cy)
    x, y = (np.asarray(v) for v in transformer(dst, src).transform(gx.ravel(), gy.ravel()))
    # the fill grid: the bounds of the pixel centres in src, OVERSAMPLE × finer, a pixel of margin
    from matplotlib.transforms import Affine2D

    x0, y0 = x.min(), y.min()
    w, h = OVERSAMPLE * columns + 2, OVERSAMPLE * rows + 2
    sx, sy = (x.max() - x0) / (w - 2) or 1.0, (y.max() - y0) / (h - 2) or 1.0
    col = np.clip(((x - x0) / sx + 1).astype(np.int64), 0, w - 1)
    row = np.clip(((y - y0) / sy + 1).astype(np.int64), 0, h - 1)
    to_fill = Affine2D().translate(-x0, -y0).scale(1 / sx, 1 / sy).translate(1, 1)
    return PixelGrid(extent, (rows, columns), (h, w), to_fill, ((h - 1 - row) * w + col).reshape(rows, columns))


def polygon_raster(geoms, grid: PixelGrid) -> np.ndarray | None:
    """How much of each map pixel the polygons among ``geoms`` cover (0..1), or ``None`` when
    there is no polygon.

    Parameters
    ----------
    geoms
        Shapely geometries in the grid's ``src`` CRS.
    grid
        The map's pixels (:func:`pixel_grid`).

    Returns
    -------
    numpy.ndarray or None
        ``grid.shape`` floats, row 0 at the top.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    xy, length = rings_of(geoms)
    if not len(xy):
        return None
    h, w = grid.fill_shape
    renderer = RendererAgg(w, h, 72)
    gc = renderer.new_gc()
    gc.set_linewidth(0)
    renderer.draw_path(gc, _path(xy, length), grid.to_fill, (1.0, 1.0, 1.0, 1.0))
    gc.restore()
    # the buffer's row 0 is the top (the fill grid's last row): sample indexes it that way
    fill = np.asarray(renderer.buffer_rgba())[:, :, 3].ravel()
    return fill[grid.sample] / np.float32(255.0)


def raster_alpha(cover: np.ndarray, fill_alpha: float, edge_alpha: float) -> np.ndarray:
    """A layer's opacity per pixel: ``fill_alpha`` times the covered share of the pixel, and
    ``edge_alpha`` on its outline. The outline is that of the layer with holes of a pixel closed
    (a street buffer's block-sized holes stay light specks, not rings).

    Parameters
    ----------
    cover
        :func:`polygon_raster`.
    fill_alpha, edge_alpha
        Opacity inside and on the outline.

    Returns
    -------
    numpy.ndarray
        ``cover.shape`` float32 in 0..1.
    """
    from scipy import ndimage

    # closing (3 × 3 square, outside the picture empty) fills the holes of a pixel
    mask = np.pad((cover >= 0.5).view(np.uint8), 1)
    inside = ndimage.minimum_filter(ndimage.maximum_filter(mask, 3, mode="constant"), 3, mode="nearest")[1:-1, 1:-1]
    # the outline: inside, next to outside (none along the picture's border)
    edge = inside > ndimage.minimum_filter(inside, 3, mode="nearest")
    alpha = np.float32(fill_alpha) * np.clip(cover, 0, 1, dtype=np.float32)
    alpha[edge] = edge_alpha
    return alpha


def composite(layers: list[tuple[object, np.ndarray]]) -> np.ndarray:
    """Layers of one colour each, the later over the earlier, as one RGBA picture.

    Parameters
    ----------
    layers
        ``(colour, alpha)`` pairs, bottom first (alpha from :func:`raster_alpha`).

    Returns
    -------
    numpy.ndarray
        ``(rows, columns, 4)`` bytes (straight, not premultiplied, alpha).
    """
    from matplotlib.colors import to_rgb

    # each layer's weight in the result: its alpha, times what the layers above let through
    weights = []
    through = np.ones(layers[0][1].shape, np.float32)
    for _, a in reversed(layers):
        weights.append(a * through)
        through *= 1 - a
    weights.reverse()
    alpha = 1 - through
    rgba = np.empty((*alpha.shape, 4), np.uint8)
    for k in range(3):
        channel = sum(w * np.float32(to_rgb(c)[k]) for (c, _), w in zip(layers, weights, strict=True))
        rgba[..., k] = np.rint(255 * channel / np.maximum(alpha, np.float32(1e-6)))
    rgba[..., 3] = np.rint(255 * alpha)
    return rgba

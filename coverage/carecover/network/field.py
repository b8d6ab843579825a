"""The travel-time field: travel time on a raster, and band outlines traced from it.

The raster form of the demand-point rule ("snap to the nearest street, walk the rest"), so that
a drawn isochrone agrees with the coverage figures; :mod:`carecover.network.isochrones` uses it
for its default ``"field"`` method.
"""

from __future__ import annotations

from itertools import chain

import numpy as np
import shapely

from carecover.network.snap import Snapped
from carecover.network.streets import StreetNetwork


def field_polygons(net: StreetNetwork, node_time: np.ndarray, bands, sources: Snapped | None,
                   buffer_m: float, res_m: float, max_pixels: float,
                   whole_speed_len: tuple[float, float] | None = None) -> list[tuple[float, shapely.Geometry]]:
    """Band polygons from the travel-time field: pixels within the band and ``buffer_m`` of a street.

    Parameters
    ----------
    net, node_time
        The street network and seconds to each node.
    bands
        Ascending bands in minutes.
    sources
        The snapped sources behind ``node_time``.
    buffer_m
        Distance from the street drawn (metres).
    res_m, max_pixels
        Pixel size, grown so that the raster has at most ``max_pixels``.
    whole_speed_len
        The whole network's :func:`speed_len_max` when ``net`` is a window of it, so that the
        raster's extent, hence its pixels, are exactly those of the whole-network computation.

    Returns
    -------
    list of (band_min, polygon)
        Projected CRS; empty polygons when nothing is reached.
    """
    bbox = _reach_bbox(net, node_time, max(bands) * 60, buffer_m + 2 * res_m, sources, whole_speed_len)
    if bbox is None:
        return [(b, shapely.Polygon()) for b in bands]
    res = _resolution(bbox, res_m, max_pixels)
    time, dist, transform = time_field(net, node_time, bbox, res, sources)
    near = dist <= buffer_m
    return [(b, _polygonize(near & (time <= b * 60), transform, res)) for b in bands]


def time_field(net: StreetNetwork, node_time: np.ndarray, bbox: tuple[float, float, float, float],
               res_m: float, sources: Snapped | None = None) -> tuple[np.ndarray, np.ndarray, object]:
    """Travel time on a raster, by the same rule as demand points.

    Every street segment in ``bbox`` is sampled every ``res_m / 2``; each sample gets its exact
    time ``min(T[a] + s/v, T[b] + (L - s)/v)`` (direction permitting; plus the along-segment
    term from a source on that segment). Each pixel then takes the time of its nearest street
    pixel plus the straight access leg at that street's speed: the raster form of "snap to the
    nearest street, walk the rest". Unreached streets are burned too (as ``inf``) so a pixel
    nearest to an unreached street is not borrowed by a reached one behind it.

    Parameters
    ----------
    net
        The street network.
    node_time
        Seconds to each node.
    bbox
        ``(minx, miny, maxx, maxy)`` of the raster, projected.
    res_m
        Pixel size in metres.
    sources
        The snapped sources behind ``node_time`` (for the along-segment term).

    Returns
    -------
    (time, dist, transform)
        ``time`` seconds per pixel (``inf`` unreached), ``dist`` metres to the nearest street,
        and the affine transform (north-up, projected CRS).
    """
    from rasterio.transform import from_origin
    from scipy import ndimage

    minx, miny, maxx, maxy = bbox
    W = max(int(np.ceil((maxx - minx) / res_m)), 1)
    H = max(int(np.ceil((maxy - miny) / res_m)), 1)
    transform = from_origin(minx, maxy, res_m, res_m)
    ax, ay = net.node_x[net.seg_a], net.node_y[net.seg_a]
    bx, by = net.node_x[net.seg_b], net.node_y[net.seg_b]
    inside = ~((np.maximum(ax, bx) < minx) | (np.minimum(ax, bx) > maxx)
               | (np.maximum(ay, by) < miny) | (np.minimum(ay, by) > maxy))
    seg = np.flatnonzero(inside)
    L = net.seg_len[seg]
    v = net.seg_speed[seg]
    n = np.maximum(np.ceil(L / (res_m / 2)).astype(np.int64), 1) + 1
    rep = np.repeat(np.arange(len(seg)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    f = (np.arange(len(rep)) - start) / (n[rep] - 1)
    s = seg[rep]
    Ls, vs = L[rep], v[rep]
    Ta, Tb = node_time[net.seg_a[s]], node_time[net.seg_b[s]]
    # a sample exactly at a segment end is that node, whatever the segment's direction
    t = np.minimum(np.where(net.seg_fwd[s] | (f == 0), Ta + f * Ls / vs, np.inf),
                   np.where(net.seg_rev[s] | (f == 1), Tb + (1 - f) * Ls / vs, np.inf))
    if sources is not None and sources.ok.any():
        ok = np.flatnonzero(sources.ok)
        order = np.argsort(sources.seg[ok], kind="stable")
        ok = ok[order]
        sseg = sources.seg[ok]
        lo = np.searchsorted(sseg, s, "left")
        hi = np.searchsorted(sseg, s, "right")
        for k in np.flatnonzero(hi > lo):
            for j in ok[lo[k]:hi[k]]:
                delta = (f[k] - sources.frac[j]) * Ls[k]
                allowed = delta == 0 or (net.seg_fwd[s[k]] if delta > 0 else net.seg_rev[s[k]])
                if allowed:
                    t[k] = min(t[k], abs(delta) / vs[k] + sources.dist[j] / vs[k])
    px = ax[s] + f * (bx[s] - ax[s])
    py = ay[s] + f * (by[s] - ay[s])
    col = np.clip(((px - minx) / res_m).astype(np.int64), 0, W - 1)
    row = np.clip(((maxy - py) / res_m).astype(np.int64), 0, H - 1)
    flat = row * W + col
    street_t = np.full(H * W, np.inf)
    np.minimum.at(street_t, flat, t)
    street_v = np.zeros(H * W)
    street_v[flat] = vs
    is_street = np.zeros(H * W, bool)
    is_street[flat] = True
    dist, (ir, ic) = ndimage.distance_transform_edt(~is_street.reshape(H, W), sampling=res_m,
                                                    return_indices=True)
    near = ir * W + ic
    # half a pixel diagonal more: a pixel is drawn whole, so judge it by its far side
    time = street_t[near] + (dist + 0.7071 * res_m) / street_v[near]
    return time, dist, transform


def _polygonize(mask: np.ndarray, transform, res_m: float) -> shapely.Geometry:
    from rasterio import features

    if not mask.any():
        return shapely.Polygon()
    # Trace only the rows/columns holding the band (a 5-min band fills a ninth of the 15-min
    # window), in pixel coordinates, then map corners to metres as GDAL does with the full
    # transform (x = c + col·a, y = f + row·e, integers exact): the same coordinates, bit for bit.
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    r0, c0 = int(rows[0]), int(cols[0])
    m = mask[r0:int(rows[-1]) + 1, c0:int(cols[-1]) + 1]
    # Build all rings in two vectorised calls: per-ring shapely.geometry.shape() was a third of
    # the time of an isochrone. Same ring order (shell first) → same polygons.
    rings: list = []
    ring_poly: list[int] = []
    for k, (g, _) in enumerate(features.shapes(m.astype(np.uint8), mask=m)):
        rings.extend(g["coordinates"])
        ring_poly.extend([k] * len(g["coordinates"]))
    lens = np.fromiter((len(r) for r in rings), np.int64, count=len(rings))
    px = np.fromiter(chain.from_iterable(chain.from_iterable(rings)), float,
                     count=2 * int(lens.sum())).reshape(-1, 2)
    xy = np.column_stack([transform.c + (px[:, 0] + c0) * transform.a,
                          transform.f + (px[:, 1] + r0) * transform.e])
    lr = shapely.linearrings(xy, indices=np.repeat(np.arange(len(rings)), lens))
    polys = shapely.polygons(lr, indices=np.asarray(ring_poly))
    geom = shapely.union_all(polys) if len(polys) > 1 else polys[0]
    # staircase edges from the pixels: simplify within half a pixel
    return shapely.simplify(geom, res_m / 2, preserve_topology=True)


def _reach_bbox(net: StreetNetwork, node_time: np.ndarray, limit_s: float, margin: float,
                sources: Snapped | None,
                whole_speed_len: tuple[float, float] | None = None) -> tuple[float, float, float, float] | None:
    hit = node_time <= limit_s
    xs = [net.node_x[hit]]
    ys = [net.node_y[hit]]
    if sources is not None and sources.ok.any():
        xs.append(sources.x[sources.ok])
        ys.append(sources.y[sources.ok])
    x, y = np.concatenate(xs), np.concatenate(ys)
    if len(x) == 0:
        return None
    # a reached node may lead part-way along segments: widen by the furthest one can go on
    vmax, lmax = whole_speed_len or speed_len_max(net)
    extra = min(limit_s * vmax, lmax) + margin
    return (x.min() - extra, y.min() - extra, x.max() + extra, y.max() + extra)


def speed_len_max(net: StreetNetwork) -> tuple[float, float]:
    """Fastest speed and longest segment of a network.

    Parameters
    ----------
    net
        The network.

    Returns
    -------
    (m/s, m)
        Both 0 for a network without segments.
    """
    if not len(net.seg_speed):
        return 0.0, 0.0
    return float(net.seg_speed.max()), float(net.seg_len.max())


def _resolution(bbox, res_m: float, max_pixels: float) -> float:
    area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])
    return max(res_m, float(np.sqrt(area / max_pixels)))

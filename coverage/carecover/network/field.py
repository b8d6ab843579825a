"""The travel-time field: travel time on a grid, and band outlines contoured from it.

The grid form of the demand-point rule ("snap to the nearest street, walk the rest"), so that
a drawn isochrone agrees with the coverage figures; :mod:`carecover.network.isochrones` uses it
for its default ``"field"`` method. Outlines are traced with contourpy (marching squares, linear
interpolation between grid points) instead of polygonising pixels: no staircase to union and
simplify, and the cut falls between grid points where the time actually runs out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from carecover.network._outline import filled as _filled
from carecover.network._outline import simplified as _simplified
from carecover.network.grid import grid_spacing, speed_len_max
from carecover.network.snap import Snapped
from carecover.network.streets import StreetNetwork


@dataclass(frozen=True)
class TimeField:
    """Travel time on a grid of points (pixel centres), by the demand-point rule.

    Attributes
    ----------
    time
        ``(H, W)`` seconds: time of the nearest street sample plus the straight access leg at
        that street's speed (``inf`` where the nearest street is not reached).
    dist
        ``(H, W)`` metres from the point to its nearest street sample.
    speed
        ``(H, W)`` m/s of that street.
    street
        ``(H, W)`` seconds: the least time of any street sample in the four grid cells the point
        is a corner of (``inf`` where there is none); keeps every reached street point inside
        its band.
    x0, y0, res
        Projected centre of grid point ``[0, 0]`` (the north-west one) and the spacing: point
        ``[r, c]`` is at ``(x0 + c·res, y0 − r·res)``.
    """

    time: np.ndarray
    dist: np.ndarray
    speed: np.ndarray
    street: np.ndarray
    x0: float
    y0: float
    res: float


#: Outlines are simplified (Douglas–Peucker, ring by ring) within this share of the grid spacing.
#: A contoured outline has a vertex on every grid line it crosses; straight runs along streets
#: keep only their ends. An eighth of a spacing is well inside the cell that the field keeps
#: between a reached street and the outline (the corners of every cell a reached street crosses
#: are within the band): the tests walk every reached street metre by metre (Monaco, Andorra,
#: the hand grid, a synthetic drive lace) and find every point inside, and the false inclusion
#: stays as before (a larger tolerance, or tracing the outline further out to make room for it,
#: raised Monaco's 5-minute band above 5 %).
SIMPLIFY_SHARE = 1 / 8

#: Grid points per side of a tile: grids of more than :data:`TILED_ABOVE` points are worked tile
#: by tile, skipping tiles no reached street comes near (a city-wide walking tier reaches a
#: fifth of its square); smaller ones (one facility's) in one piece.
TILE = 128
TILED_ABOVE = 1_000_000


def field_polygons(net: StreetNetwork, node_time: np.ndarray, bands, sources: Snapped | None,
                   buffer_m: float, res_m: float, max_pixels: float,
                   whole_speed_len: tuple[float, float] | None = None, *,
                   walk_speed_mps: float) -> list[tuple[float, shapely.Geometry]]:
    """Band polygons from the travel-time field: points within the band and ``buffer_m`` of a street.

    Each band's outline is the zero contour of ``max((time − band)·speed, dist − buffer_m)``
    (metres beyond the band or the buffer, whichever is more), lowered to the street term at
    the corners of every grid cell a reached street crosses, so that every street point reached
    within the band is inside. Large grids are worked out in tiles of :data:`TILE` points,
    skipping tiles with no reached street within ``buffer_m``; each group of touching tiles is
    contoured on its own. Outlines are simplified within an eighth of the spacing (see
    :data:`SIMPLIFY_SHARE`).

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
        Grid spacing at walking speed (coarser on faster networks, see :func:`grid_spacing`),
        grown so that the grid has at most ``max_pixels`` points.
    whole_speed_len
        The whole network's :func:`speed_len_max` when ``net`` is a window of it, so that the
        grid's extent, hence its points, are exactly those of the whole-network computation.
    walk_speed_mps
        The run's walking speed, which ``res_m`` is stated at.

    Returns
    -------
    list of (band_min, polygon)
        Projected CRS; empty polygons when nothing is reached.
    """
    limit = max(bands) * 60
    bbox = _reach_bbox(net, node_time, limit, buffer_m + 2 * res_m, sources, whole_speed_len)
    if bbox is None:
        return [(b, shapely.Polygon()) for b in bands]
    spacing = grid_spacing(res_m, buffer_m, whole_speed_len or speed_len_max(net), min(bands) * 60,
                           walk_speed_mps=walk_speed_mps)
    res = _resolution(bbox, spacing, max_pixels)
    minx, miny, maxx, maxy = bbox
    W = max(int(np.ceil((maxx - minx) / res)), 1)
    H = max(int(np.ceil((maxy - miny) / res)), 1)
    x0, y0 = minx + 0.5 * res, maxy - 0.5 * res
    margin = int(np.ceil((buffer_m + 2 * res) / res)) + 1
    limits = np.array([b * 60 for b in bands], float)
    if H * W <= TILED_ABOVE:
        # one piece (one facility's grid): no tiles to find, sort or skip
        samples = _street_samples(net, node_time, bbox, res, sources)
        f = _field_block(samples, x0, y0, res, 0, H, 0, W)
        values = _band_values(f, (slice(None), slice(None)), limits, buffer_m)
        return [(b, _contour(values[k], 0, 0, x0, y0, res)) for k, b in enumerate(bands)]
    tile = TILE
    nti, ntj = -(-H // tile), -(-W // tile)
    # only streets near the tiles a reached street can come near are sampled
    near_tiles = _candidate_tiles(net, node_time, limit, sources, whole_speed_len, margin,
                                  H, W, x0, y0, res, tile)
    samples = _street_samples(net, node_time, bbox, res, sources, near_tiles)
    # tiles a reached street sample comes within the buffer (plus a cell) of
    px, py, t = samples[0], samples[1], samples[2]
    r = np.floor((y0 - py) / res + 0.5).astype(np.int64)
    c = np.floor((px - x0) / res + 0.5).astype(np.int64)
    reached = np.flatnonzero(t <= limit)
    active = np.zeros((nti, ntj), bool)
    for dr in (-margin, margin):
        for dc in (-margin, margin):
            active[np.clip(r[reached] + dr, 0, H - 1) // tile, np.clip(c[reached] + dc, 0, W - 1) // tile] = True
    # samples by the tile of their pixel; a tile widened by the margin draws on its 3 × 3 tiles
    tile_of = np.clip(r, -1, H) // tile * (ntj + 2) + np.clip(c, -1, W) // tile
    order = np.argsort(tile_of, kind="stable")
    sorted_keys = tile_of[order]
    # contour values of every band, tile by tile (float32); skipped tiles are "outside"
    values = {}
    for ti, tj in zip(*np.nonzero(active), strict=True):
        r0, c0 = int(ti) * tile, int(tj) * tile
        r1, c1 = min(r0 + tile, H), min(c0 + tile, W)
        er0, ec0 = max(r0 - margin, 0), max(c0 - margin, 0)
        er1, ec1 = min(r1 + margin, H), min(c1 + margin, W)
        cand = [order[np.searchsorted(sorted_keys, (ti + di) * (ntj + 2) + tj - 1):
                      np.searchsorted(sorted_keys, (ti + di) * (ntj + 2) + tj + 2)] for di in (-1, 0, 1)]
        cand = np.concatenate(cand)
        # in segment order (ties between samples of one pixel are broken by it)
        near = np.sort(cand[(r[cand] >= er0 - 1) & (r[cand] < er1 + 1) & (c[cand] >= ec0 - 1)
                            & (c[cand] < ec1 + 1)])
        f = _field_block([a[near] for a in samples], x0, y0, res, er0, er1, ec0, ec1)
        core = (slice(r0 - er0, r1 - er0), slice(c0 - ec0, c1 - ec0))
        values[int(ti), int(tj)] = _band_values(f, core, limits, buffer_m)
    # the street samples (hundreds of MB for a city) are not needed for contouring
    del samples, px, py, t, r, c, reached, tile_of, order, sorted_keys
    return _contour_groups(values, active, bands, tile, H, W, x0, y0, res)


def _contour_groups(values: dict, active: np.ndarray, bands, tile: int, H: int, W: int, x0: float,
                    y0: float, res: float) -> list[tuple[float, shapely.Geometry]]:
    """Band polygons of a tiled grid: each group of touching active tiles (``values``: their
    ``(bands, h, w)`` contour values) is contoured on its own (their outlines cannot meet: a
    skipped tile lies between), so a spread-out tier does not contour the empty city between."""
    from scipy import ndimage

    label, _ = ndimage.label(active, np.ones((3, 3), bool))
    out = [[] for _ in bands]
    for k, (tr, tc) in enumerate(ndimage.find_objects(label), start=1):
        r0, c0 = tr.start * tile, tc.start * tile
        shape = (min(tr.stop * tile, H) - r0, min(tc.stop * tile, W) - c0)
        own = [(int(i), int(j)) for i, j in zip(*np.nonzero(label == k), strict=True)]
        for b in range(len(bands)):
            box = _inside_box(values, own, b, tile)
            if box is None:
                continue
            # the box and a point around it, within the group's
            ra, rb = max(box[0] - 1, r0), min(box[1] + 2, r0 + shape[0])
            ca, cb = max(box[2] - 1, c0), min(box[3] + 2, c0 + shape[1])
            # the group's own tiles there; the rest (skipped tiles, or another group's) is "outside"
            g = np.full((rb - ra, cb - ca), np.float32(2 * res), np.float64)
            for i, j in own:
                v = values[i, j][b]
                ti, tj = i * tile, j * tile
                si, sj = slice(max(ti, ra), min(ti + v.shape[0], rb)), slice(max(tj, ca), min(tj + v.shape[1], cb))
                if si.start < si.stop and sj.start < sj.stop:
                    g[si.start - ra:si.stop - ra, sj.start - ca:sj.stop - ca] = v[si.start - ti:si.stop - ti,
                                                                                  sj.start - tj:sj.stop - tj]
            out[b].append(_contour(g, ra, ca, x0, y0, res))
    return [(band, _join(parts)) for band, parts in zip(bands, out, strict=True)]


def _inside_box(values: dict, tiles: list[tuple[int, int]], b: int,
                tile: int) -> tuple[int, int, int, int] | None:
    """First and last grid row, first and last column of band ``b``'s inside points (value ≤ 0)
    in ``tiles``; None when there are none."""
    rows, cols = [], []
    for i, j in tiles:
        ins = values[i, j][b] <= 0
        if ins.any():
            rr, cc = np.flatnonzero(ins.any(axis=1)), np.flatnonzero(ins.any(axis=0))
            rows += [i * tile + int(rr[0]), i * tile + int(rr[-1])]
            cols += [j * tile + int(cc[0]), j * tile + int(cc[-1])]
    return (min(rows), max(rows), min(cols), max(cols)) if rows else None


def _join(parts: list[shapely.Geometry]) -> shapely.Geometry:
    """Disjoint polygons as one geometry."""
    polys = shapely.get_parts([p for p in parts if not p.is_empty])
    if len(polys) == 0:
        return shapely.Polygon()
    return polys[0] if len(polys) == 1 else shapely.multipolygons(polys)


def _candidate_tiles(net: StreetNetwork, node_time: np.ndarray, limit: float, sources: Snapped | None,
                     whole_speed_len, margin: int, H: int, W: int, x0: float, y0: float,
                     res: float, tile: int) -> tuple[np.ndarray, float, int]:
    """Tiles a street reached within ``limit`` may come within ``margin`` points of, widened by
    one tile (where the streets that can lie nearest to their points start or end), and the
    segment length above which a street is sampled wherever it is."""
    from scipy import ndimage

    hit = node_time <= limit
    xs, ys = [net.node_x[hit]], [net.node_y[hit]]
    if sources is not None and sources.ok.any():
        ok = np.flatnonzero(sources.ok)
        a, b, g = net.seg_a[sources.seg[ok]], net.seg_b[sources.seg[ok]], sources.frac[ok]
        xs.append(net.node_x[a] + g * (net.node_x[b] - net.node_x[a]))
        ys.append(net.node_y[a] + g * (net.node_y[b] - net.node_y[a]))
    x, y = np.concatenate(xs), np.concatenate(ys)
    nti = -(-H // tile)
    ntj = -(-W // tile)
    tiles = np.zeros((nti, ntj), bool)
    vmax, lmax = whole_speed_len or speed_len_max(net)
    # a reached street piece runs at most this far from a reached node or a source
    e = int(np.ceil(min(limit * vmax, lmax) / res)) + margin
    r = np.floor((y0 - y) / res + 0.5).astype(np.int64)
    c = np.floor((x - x0) / res + 0.5).astype(np.int64)
    offs = sorted(set(range(-e, e, tile)) | {e})
    for dr in offs:
        for dc in offs:
            tiles[np.clip(r + dr, 0, H - 1) // tile, np.clip(c + dc, 0, W - 1) // tile] = True
    return ndimage.binary_dilation(tiles, np.ones((3, 3), bool)), tile * res / 2, tile


def time_field(net: StreetNetwork, node_time: np.ndarray, bbox: tuple[float, float, float, float],
               res_m: float, sources: Snapped | None = None) -> TimeField:
    """Travel time on a grid, by the same rule as demand points.

    Every street segment in ``bbox`` is sampled every ``res_m / 2`` (ends included, and each
    source's own position); each sample gets its exact time ``min(T[a] + s/v, T[b] + (L − s)/v)``
    (direction permitting; plus the along-segment term from a source on that segment). Samples
    are burned into pixels (the least time per pixel); each grid point then takes its nearest
    street pixel's sample (Euclidean distance transform) and adds the straight access leg to
    that sample at that street's speed: the grid form of "snap to the nearest street, walk the
    rest". Unreached streets are burned too (as ``inf``) so a point nearest to an unreached
    street is not borrowed by a reached one behind it.

    Parameters
    ----------
    net
        The street network.
    node_time
        Seconds to each node.
    bbox
        ``(minx, miny, maxx, maxy)`` of the grid, projected; grid points are the centres of
        ``res_m`` pixels from its north-west corner.
    res_m
        Grid spacing in metres.
    sources
        The snapped sources behind ``node_time`` (for the along-segment term).

    Returns
    -------
    TimeField
    """
    minx, miny, maxx, maxy = bbox
    W = max(int(np.ceil((maxx - minx) / res_m)), 1)
    H = max(int(np.ceil((maxy - miny) / res_m)), 1)
    samples = _street_samples(net, node_time, bbox, res_m, sources)
    return _field_block(samples, minx + 0.5 * res_m, maxy - 0.5 * res_m, res_m, 0, H, 0, W)


def _field_block(samples, x0: float, y0: float, res: float, r0: int, r1: int, c0: int,
                 c1: int) -> TimeField:
    """The field at grid points ``[r0, r1) × [c0, c1)`` of the grid with point ``[0, 0]`` at
    ``(x0, y0)``, from the street samples that may lie nearest to them."""
    from scipy import ndimage

    px, py, t, v = samples
    H, W = r1 - r0, c1 - c0
    gx = x0 + (c0 + np.arange(W)) * res
    gy = y0 - (r0 + np.arange(H)) * res
    # pixel of each sample (the grid point it is nearest to)
    row = np.floor((y0 - py) / res + 0.5).astype(np.int64) - r0
    col = np.floor((px - x0) / res + 0.5).astype(np.int64) - c0
    inb = np.flatnonzero((row >= 0) & (row < H) & (col >= 0) & (col < W))
    flat = row[inb] * W + col[inb]
    ti = t[inb]
    street_t = np.full(H * W, np.inf)
    np.minimum.at(street_t, flat, ti)
    is_street = np.zeros(H * W, bool)
    is_street[flat] = True
    # street pixels, ascending; ``slot`` numbers them, so that the gathers over the grid below
    # read short arrays
    pix = np.flatnonzero(is_street)
    slot = np.zeros(H * W, np.int32)
    slot[pix] = np.arange(len(pix), dtype=np.int32)
    # the sample holding each pixel's least time (the last such sample in segment order)
    win = np.flatnonzero(ti == street_t[flat])
    sx, sy, sv = np.zeros(max(len(pix), 1)), np.zeros(max(len(pix), 1)), np.ones(max(len(pix), 1))
    k = slot[flat[win]]
    sx[k], sy[k], sv[k] = px[inb[win]], py[inb[win]], v[inb[win]]
    st = street_t[pix] if len(pix) else np.full(1, np.inf)
    if len(pix):
        ir, ic = ndimage.distance_transform_edt(~is_street.reshape(H, W), return_distances=False,
                                                return_indices=True)
        near = slot[ir * W + ic]
        del ir, ic
    else:
        near = np.zeros((H, W), np.int32)
    # gathers by ``take`` on the flat index and arithmetic in place (the same values as
    # ``np.hypot(gx - sx[near], gy - sy[near])``, ``st[near] + dist / speed``; fewer temporaries)
    nf = near.ravel()
    dist = np.take(sx, nf).reshape(H, W)
    np.subtract(gx[None, :], dist, out=dist)
    dy = np.take(sy, nf).reshape(H, W)
    np.subtract(gy[:, None], dy, out=dy)
    np.hypot(dist, dy, out=dist)
    del dy
    speed = np.take(sv, nf).reshape(H, W)
    time = np.take(st, nf).reshape(H, W)
    time += dist / speed
    # each grid point: the least time of the street samples in the four cells it is a corner of
    # (cells between grid points), so every reached street point lies in a cell whose corners
    # are all within its band
    ci = np.floor((y0 - py) / res).astype(np.int64) - r0
    cj = np.floor((px - x0) / res).astype(np.int64) - c0
    street = np.full(H * W, np.inf)
    for di, dj in ((0, 0), (0, 1), (1, 0), (1, 1)):
        i, j = ci + di, cj + dj
        k = np.flatnonzero((i >= 0) & (i < H) & (j >= 0) & (j < W))
        np.minimum.at(street, i[k] * W + j[k], t[k])
    return TimeField(time, dist, speed, street.reshape(H, W), float(gx[0]), float(gy[0]), float(res))


def _street_samples(net: StreetNetwork, node_time: np.ndarray, bbox, res_m: float,
                    sources: Snapped | None,
                    near_tiles: tuple[np.ndarray, float, int] | None = None) -> tuple[np.ndarray, ...]:
    """Points every ``res_m / 2`` along the segments in ``bbox``: x, y, exact time, speed.

    ``near_tiles`` (from :func:`_candidate_tiles`) keeps only segments that start or end in
    one of its tiles, or are longer than its length."""
    minx, miny, maxx, maxy = bbox
    ax, ay = net.node_x[net.seg_a], net.node_y[net.seg_a]
    bx, by = net.node_x[net.seg_b], net.node_y[net.seg_b]
    inside = ~((np.maximum(ax, bx) < minx) | (np.minimum(ax, bx) > maxx)
               | (np.maximum(ay, by) < miny) | (np.minimum(ay, by) > maxy))
    if near_tiles is not None:
        tiles, long_m, tile = near_tiles
        H, W = tiles.shape[0] * tile, tiles.shape[1] * tile
        x0, y0 = minx + 0.5 * res_m, maxy - 0.5 * res_m

        def tile_hit(x, y):
            r = np.clip(np.floor((y0 - y) / res_m + 0.5).astype(np.int64), 0, H - 1) // tile
            c = np.clip(np.floor((x - x0) / res_m + 0.5).astype(np.int64), 0, W - 1) // tile
            return tiles[r, c]

        inside &= tile_hit(ax, ay) | tile_hit(bx, by) | (net.seg_len > long_m)
    seg = np.flatnonzero(inside)
    L = net.seg_len[seg]
    n = np.maximum(np.ceil(L / (res_m / 2)).astype(np.int64), 1) + 1
    rep = np.repeat(np.arange(len(seg)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    f = (np.arange(len(rep)) - start) / (n[rep] - 1)
    s = seg[rep]
    Ls, vs = L[rep], net.seg_speed[s]
    Ta, Tb = node_time[net.seg_a[s]], node_time[net.seg_b[s]]
    # a sample exactly at a segment end is that node, whatever the segment's direction
    t = np.minimum(np.where(net.seg_fwd[s] | (f == 0), Ta + f * Ls / vs, np.inf),
                   np.where(net.seg_rev[s] | (f == 1), Tb + (1 - f) * Ls / vs, np.inf))
    px = ax[s] + f * (bx[s] - ax[s])
    py = ay[s] + f * (by[s] - ay[s])
    if sources is None or not sources.ok.any():
        return px, py, t, vs
    ok = np.flatnonzero(sources.ok)
    order = np.argsort(sources.seg[ok], kind="stable")
    ok = ok[order]
    sseg = sources.seg[ok]
    lo = np.searchsorted(sseg, s, "left")
    hi = np.searchsorted(sseg, s, "right")
    # samples on a source's own segment: reached along it from the source position
    for k in np.flatnonzero(hi > lo):
        for j in ok[lo[k]:hi[k]]:
            delta = (f[k] - sources.frac[j]) * Ls[k]
            allowed = delta == 0 or (net.seg_fwd[s[k]] if delta > 0 else net.seg_rev[s[k]])
            if allowed:
                t[k] = min(t[k], abs(delta) / vs[k] + sources.dist[j] / vs[k])
    # and the source positions themselves (on the street, reached after the access leg)
    on = ok[inside[sources.seg[ok]]]
    g = sources.frac[on]
    a, b = net.seg_a[sources.seg[on]], net.seg_b[sources.seg[on]]
    sv = net.seg_speed[sources.seg[on]]
    return (np.concatenate([px, net.node_x[a] + g * (net.node_x[b] - net.node_x[a])]),
            np.concatenate([py, net.node_y[a] + g * (net.node_y[b] - net.node_y[a])]),
            np.concatenate([t, sources.dist[on] / sv]), np.concatenate([vs, sv]))


def band_polygon(field: TimeField, limit_s: float, buffer_m: float) -> shapely.Geometry:
    """The outline of the points within ``limit_s`` and ``buffer_m`` of a street.

    Parameters
    ----------
    field
        From :func:`time_field`.
    limit_s
        The band in seconds.
    buffer_m
        Distance from the street drawn (metres).

    Returns
    -------
    shapely.Geometry
        Polygon or MultiPolygon (projected); empty when no point is within the band.
    """
    g = _band_values(field, (slice(None), slice(None)), np.array([limit_s], float), buffer_m)[0]
    return _contour(g, 0, 0, field.x0, field.y0, field.res)


def _band_values(field: TimeField, core, limits: np.ndarray, buffer_m: float) -> np.ndarray:
    """``(bands, h, w)`` contour values at the ``core`` slice of ``field``: metres beyond the
    band (at the street's speed) or the buffer, whichever is more; ≤ 0 inside."""
    time, dist, speed, street = (a[core] for a in (field.time, field.dist, field.speed, field.street))
    cap = 2 * field.res
    out = np.empty((len(limits), *time.shape), np.float32)
    with np.errstate(invalid="ignore"):
        off_street = dist - buffer_m
        for k, lim in enumerate(limits):
            g = np.maximum((time - lim) * speed, off_street)
            np.minimum(g, (street - lim) * speed, out=g)
            # unreached points: a bounded value keeps the interpolated cut within one spacing;
            # no value exactly on the level, so that no two rings touch
            np.minimum(g, cap, out=g)
            out[k] = g
    out[out == 0] = 1e-9
    return out


def _contour(g: np.ndarray, r0: int, c0: int, x0: float, y0: float, res: float) -> shapely.Geometry:
    """Polygons where ``g ≤ 0`` (grid point ``[0, 0]`` of ``g`` is point ``[r0, c0]`` of the grid)."""

    inside = g <= 0
    if not inside.any():
        return shapely.Polygon()
    rows = np.flatnonzero(inside.any(axis=1))
    cols = np.flatnonzero(inside.any(axis=0))
    a, b = max(int(rows[0]) - 1, 0), max(int(cols[0]) - 1, 0)
    sub = g[a:int(rows[-1]) + 2, b:int(cols[-1]) + 2]
    if sub.shape[0] < 2 or sub.shape[1] < 2:
        sub = np.pad(sub, ((0, int(sub.shape[0] < 2)), (0, int(sub.shape[1] < 2))), constant_values=2 * res)
    (pts,), (offsets,), (outer,) = _filled(sub)
    if pts is None or len(pts) == 0:
        return shapely.Polygon()
    # grid coordinates first (whole numbers on grid lines, so tiles sharing a line agree exactly)
    gc = pts[:, 0] + (b + c0)
    gr = pts[:, 1] + (a + r0)
    xy = np.column_stack([x0 + gc * res, y0 - gr * res])
    n_rings = len(offsets) - 1
    rings = shapely.linearrings(xy, indices=np.repeat(np.arange(n_rings), np.diff(offsets)))
    polys = _simplified(rings, outer, SIMPLIFY_SHARE * res)
    return polys[0] if len(polys) == 1 else shapely.multipolygons(polys)


def _reach_bbox(net: StreetNetwork, node_time: np.ndarray, limit_s: float, margin: float,
                sources: Snapped | None,
                whole_speed_len: tuple[float, float] | None = None) -> tuple[float, float, float, float] | None:
    """Bounds of the street reached within ``limit_s`` (reached nodes, the exact points where
    partly reached segments are cut, the sources' own pieces), widened by ``margin``.

    ``whole_speed_len`` is not needed (the bounds are exact, so a window of the network gives
    the same ones); kept for callers."""
    Ta, Tb = node_time[net.seg_a], node_time[net.seg_b]
    cand = np.flatnonzero((Ta <= limit_s) | (Tb <= limit_s))
    L = net.seg_len[cand]
    Ls = np.where(L > 0, L, 1.0)
    v = net.seg_speed[cand]
    ta, tb = Ta[cand], Tb[cand]
    from_a = net.seg_fwd[cand] & (ta <= limit_s)
    from_b = net.seg_rev[cand] & (tb <= limit_s)
    fa = np.minimum((limit_s - ta[from_a]) * v[from_a], L[from_a]) / Ls[from_a]
    fb = 1.0 - np.minimum((limit_s - tb[from_b]) * v[from_b], L[from_b]) / Ls[from_b]
    segs = [cand[from_a], cand[from_b], cand[ta <= limit_s], cand[tb <= limit_s]]
    fracs = [fa, fb, np.zeros(int((ta <= limit_s).sum())), np.ones(int((tb <= limit_s).sum()))]
    if sources is not None and sources.ok.any():
        ok = np.flatnonzero(sources.ok)
        s = sources.seg[ok]
        left = np.maximum(limit_s - sources.dist[ok] / net.seg_speed[s], 0.0)
        span = left * net.seg_speed[s] / np.where(net.seg_len[s] > 0, net.seg_len[s], 1.0)
        g = sources.frac[ok]
        segs += [s, s, s]
        fracs += [g, np.where(net.seg_rev[s], np.maximum(0.0, g - span), g),
                  np.where(net.seg_fwd[s], np.minimum(1.0, g + span), g)]
    seg, f = np.concatenate(segs), np.concatenate(fracs)
    if len(seg) == 0:
        return None
    ax, ay = net.node_x[net.seg_a[seg]], net.node_y[net.seg_a[seg]]
    x = ax + f * (net.node_x[net.seg_b[seg]] - ax)
    y = ay + f * (net.node_y[net.seg_b[seg]] - ay)
    return (x.min() - margin, y.min() - margin, x.max() + margin, y.max() + margin)


def _resolution(bbox, res_m: float, max_pixels: float) -> float:
    area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])
    return max(res_m, float(np.sqrt(area / max_pixels)))

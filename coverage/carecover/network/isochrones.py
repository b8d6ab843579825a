"""Isochrone polygons from reached street segments, and how far to trust them.

A polygon is the union of small buffers around the parts of streets reachable within the band:
segments reached whole, and segments reached partly cut at the exact point where time runs out.
No convex or concave hulls: blocks nobody can enter stay holes, and a river with no bridge stays a
gap. :func:`fidelity` samples points inside the polygons and checks their true network time.
"""

from __future__ import annotations

from itertools import chain

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover import settings
from carecover.errors import InputError
from carecover.network.build import window_network
from carecover.network.engine import NodeTimes, nearest, per_source, point_times
from carecover.network.snap import Snapped, snap_xy
from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork
from carecover.utils import progress


def reached_pieces(net: StreetNetwork, node_time: np.ndarray, budget_s: float,
                   sources: Snapped | None = None) -> np.ndarray:
    """Straight pieces of street reachable within ``budget_s``, as an ``(k, 2, 2)`` coordinate array.

    Parameters
    ----------
    node_time
        Seconds to each node (from one source or the nearest of many).
    budget_s
        The band, in seconds.
    sources
        The snapped sources behind ``node_time``; their own segments are added from the exact
        source position (a source mid-segment reaches part of that segment without any node).
    """
    a_all, b_all = net.seg_a, net.seg_b
    Ta, Tb = node_time[a_all], node_time[b_all]
    cand = np.flatnonzero((Ta < budget_s) | (Tb < budget_s))
    L = net.seg_len[cand]
    v = net.seg_speed[cand]
    ra = np.where(net.seg_fwd[cand] & (Ta[cand] < budget_s), np.minimum((budget_s - Ta[cand]) * v, L), 0.0)
    rb = np.where(net.seg_rev[cand] & (Tb[cand] < budget_s), np.minimum((budget_s - Tb[cand]) * v, L), 0.0)
    whole = ra + rb >= L
    # pieces as fractions [f0, f1] along a→b
    f0 = [np.zeros(whole.sum()), np.zeros((~whole).sum()), 1.0 - rb[~whole] / np.where(L[~whole] > 0, L[~whole], 1)]
    f1 = [np.ones(whole.sum()), ra[~whole] / np.where(L[~whole] > 0, L[~whole], 1), np.ones((~whole).sum())]
    segs = [cand[whole], cand[~whole], cand[~whole]]
    if sources is not None:
        ok = np.flatnonzero(sources.ok)
        s = sources.seg[ok]
        Ls, vs = net.seg_len[s], net.seg_speed[s]
        left = budget_s - sources.dist[ok] / vs
        has = left > 0
        ok, s, Ls, vs, left = ok[has], s[has], Ls[has], vs[has], left[has]
        g = sources.frac[ok]
        span = left * vs / np.where(Ls > 0, Ls, 1)
        lo = np.where(net.seg_rev[s], np.maximum(0.0, g - span), g)
        hi = np.where(net.seg_fwd[s], np.minimum(1.0, g + span), g)
        f0.append(lo)
        f1.append(hi)
        segs.append(s)
    f0, f1, seg = np.concatenate(f0), np.concatenate(f1), np.concatenate(segs)
    keep = f1 > f0 + 1e-12
    f0, f1, seg = f0[keep], f1[keep], seg[keep]
    ax, ay = net.node_x[net.seg_a[seg]], net.node_y[net.seg_a[seg]]
    dx, dy = net.node_x[net.seg_b[seg]] - ax, net.node_y[net.seg_b[seg]] - ay
    start = np.column_stack([ax + f0 * dx, ay + f0 * dy])
    end = np.column_stack([ax + f1 * dx, ay + f1 * dy])
    return np.stack([start, end], axis=1)


def pieces_polygon(pieces: np.ndarray, buffer_m: float) -> shapely.Geometry:
    """Union of buffers around line pieces (projected CRS)."""
    if len(pieces) == 0:
        return shapely.Polygon()
    lines = shapely.multilinestrings(shapely.linestrings(pieces))
    # one buffer of a multi-line unions as it goes, far cheaper than buffering then union_all
    return shapely.buffer(lines, buffer_m, quad_segs=2)


def time_field(net: StreetNetwork, node_time: np.ndarray, bbox: tuple[float, float, float, float],
               res_m: float, sources: Snapped | None = None) -> tuple[np.ndarray, np.ndarray, object]:
    """Travel time on a raster, by the same rule as demand points.

    Every street segment in ``bbox`` is sampled every ``res_m / 2``; each sample gets its exact
    time ``min(T[a] + s/v, T[b] + (L - s)/v)`` (direction permitting; plus the along-segment
    term from a source on that segment). Each pixel then takes the time of its nearest street
    pixel plus the straight access leg at that street's speed: the raster form of "snap to the
    nearest street, walk the rest". Unreached streets are burned too (as ``inf``) so a pixel
    nearest to an unreached street is not borrowed by a reached one behind it.

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


def _bands_from_field(time: np.ndarray, dist: np.ndarray, transform, res_m: float, bands,
                      buffer_m: float) -> list[tuple[float, shapely.Geometry]]:
    near = dist <= buffer_m
    return [(b, _polygonize(near & (time <= b * 60), transform, res_m)) for b in bands]


def _reach_bbox(net: StreetNetwork, node_time: np.ndarray, limit_s: float, margin: float,
                sources: Snapped | None,
                speed_len_max: tuple[float, float] | None = None) -> tuple[float, float, float, float] | None:
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
    vmax, lmax = speed_len_max or _speed_len_max(net)
    extra = min(limit_s * vmax, lmax) + margin
    return (x.min() - extra, y.min() - extra, x.max() + extra, y.max() + extra)


def _speed_len_max(net: StreetNetwork) -> tuple[float, float]:
    """Fastest speed and longest segment of a network (0 when empty)."""
    if not len(net.seg_speed):
        return 0.0, 0.0
    return float(net.seg_speed.max()), float(net.seg_len.max())


def _resolution(bbox, res_m: float, max_pixels: float) -> float:
    area = (bbox[2] - bbox[0]) * (bbox[3] - bbox[1])
    return max(res_m, float(np.sqrt(area / max_pixels)))


def isochrone_polygons(net: StreetNetwork, node_time: np.ndarray, bands_min, *,
                       sources: Snapped | None = None, buffer_m: float | None = None,
                       res_m: float = 5.0, max_pixels: float = 16e6,
                       method: str = "field") -> list[tuple[float, shapely.Geometry]]:
    """Polygons per band for one node-time array (one source, or the nearest of a set).

    Parameters
    ----------
    method
        ``"field"`` (default): the raster travel-time field of :func:`time_field`, cut at each
        band and at ``buffer_m`` from the street: the buffer narrows where time runs out, so the
        drawn area agrees with the demand-point rule. ``"buffer"``: the plain union of
        ``buffer_m`` buffers around the reached street pieces (exact cuts, vector).
    """
    return _polygons(net, node_time, bands_min, sources, buffer_m, res_m, max_pixels, method, None)


def _polygons(net, node_time, bands_min, sources, buffer_m, res_m, max_pixels, method,
              speed_len_max) -> list[tuple[float, shapely.Geometry]]:
    # ``speed_len_max``: the whole network's (when ``net`` is a window of it) so the raster's
    # extent, hence its pixels, are exactly those of the whole-network computation
    if method not in ("field", "buffer"):
        raise InputError(f"unknown isochrone method {method!r}", field="method", expected="field or buffer")
    bands = sorted(bands_min)
    buf = settings.isochrone_buffer_m if buffer_m is None else buffer_m
    if method == "buffer":
        return [(b, pieces_polygon(reached_pieces(net, node_time, b * 60, sources), buf)) for b in bands]
    bbox = _reach_bbox(net, node_time, max(bands) * 60, buf + 2 * res_m, sources, speed_len_max)
    if bbox is None:
        return [(b, shapely.Polygon()) for b in bands]
    res = _resolution(bbox, res_m, max_pixels)
    time, dist, transform = time_field(net, node_time, bbox, res, sources)
    return _bands_from_field(time, dist, transform, res, bands, buf)


def tier_isochrones(net: StreetNetwork, sources: Snapped, bands_min=None, *,
                    buffer_m: float | None = None, node_times: NodeTimes | None = None,
                    res_m: float = 5.0, method: str = "field",
                    max_pixels: float = 4e6) -> list[tuple[float, shapely.Geometry]]:
    """Union isochrone per band for a set of sources (what a tier covers), projected CRS.

    A city-wide tier raster is capped at ``max_pixels`` (pixels grow beyond ``res_m`` for large
    areas: ~10 m for a 20 km square); the fidelity check measures what that costs.
    """
    bands = sorted(bands_min or settings.bands_min)
    nt = node_times or nearest(net, sources, max(bands) * 60)
    return isochrone_polygons(net, nt.time, bands, sources=sources, buffer_m=buffer_m,
                              res_m=res_m, method=method, max_pixels=max_pixels)


def facility_isochrones(net: StreetNetwork, sources: Snapped, bands_min=None, *,
                        buffer_m: float | None = None, chunk: int = 64, res_m: float = 5.0,
                        method: str = "field", max_pixels: float = 1e6, workers: int = 1,
                        window: bool = True) -> list[tuple[int, float, shapely.Geometry]]:
    """Isochrone per source and band: ``[(source index, band_min, polygon)]`` (projected CRS).

    Sources not snapped (``ok`` False) have no rows. Rows are ordered by source, then band.

    Parameters
    ----------
    workers
        Processes to spread the sources over (``fork`` where available). Results do not depend
        on it.
    window
        Route each source on the window of streets it can possibly reach (a square of half-side
        ``band × fastest speed`` plus margins, from a spatial index) instead of the whole
        network. No street route within the band leaves that square, so times, rasters and
        polygons are those of the whole-network computation (``window=False``, kept for
        checking); the cost no longer grows with the size of the city.
    """
    bands = sorted(bands_min or settings.bands_min)
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return []
    kw = dict(bands=bands, buffer_m=buffer_m, chunk=chunk, res_m=res_m, method=method,
              max_pixels=max_pixels, window=window)
    workers = max(1, min(int(workers), len(ok)))
    if workers == 1:
        return _facility_rows(net, sources, ok, progress_bar=True, **kw)
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    fork = "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")
    # interleaved shares balance dense centre and sparse edge; rows are re-sorted afterwards
    shares = [ok[w::workers] for w in range(workers)]
    if fork:
        # forked workers inherit the network and its spatial index; nothing big is pickled
        segment_index(net)
        _SHARED["job"] = (net, sources, kw)
    try:
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            if fork:
                futures = [pool.submit(_shared_rows, share) for share in shares]
            else:
                futures = [pool.submit(_facility_rows, net, sources, share, **kw) for share in shares]
            rows = [r for f in futures for r in f.result()]
    finally:
        _SHARED.pop("job", None)
    order = {int(i): k for k, i in enumerate(ok)}
    rows.sort(key=lambda r: (order[r[0]], r[1]))
    return rows


_SHARED: dict = {}


def _shared_rows(idx: np.ndarray) -> list[tuple[int, float, shapely.Geometry]]:
    net, sources, kw = _SHARED["job"]
    return _facility_rows(net, sources, idx, **kw)


def _facility_rows(net: StreetNetwork, sources: Snapped, idx: np.ndarray,
                   **kw) -> list[tuple[int, float, shapely.Geometry]]:
    """Isochrone rows for the sources ``idx`` (all ``ok``), in that order."""
    from rasterio import Env

    # one GDAL environment for all sources: otherwise every polygonize call sets one up (~6 %)
    with Env():
        return _rows(net, sources, idx, **kw)


def _rows(net: StreetNetwork, sources: Snapped, idx: np.ndarray, *, bands, buffer_m, chunk, res_m,
          method, max_pixels, window, progress_bar: bool = False) -> list[tuple[int, float, shapely.Geometry]]:
    limit = max(bands) * 60
    out = []
    bar = iter(progress(range(len(idx)), "等时圈 / isochrones")) if progress_bar else iter(())
    if not window:
        sub = sources.subset(idx)
        for j, D in per_source(net, sub, limit, chunk):
            for k, i in enumerate(idx[j]):
                one = sources.subset(np.array([i]))
                for band, poly in _polygons(net, D[k], bands, one, buffer_m, res_m, max_pixels,
                                            method, None):
                    out.append((int(i), band, poly))
                next(bar, None)
        return out
    tree = segment_index(net)
    vmax, lmax = _speed_len_max(net)
    buf = settings.isochrone_buffer_m if buffer_m is None else buffer_m
    # farthest any street piece, pixel or bbox corner of one source's isochrone can lie from its
    # position on the street: the reach (no route in ``limit`` s goes farther than limit × vmax
    # in a straight line), or the source's own access point, plus the bbox margins; +1 m slack
    extra = min(limit * vmax, lmax) + buf + 2 * res_m + 1.0
    for i in idx:
        s = int(sources.seg[i])
        a, b = net.seg_a[s], net.seg_b[s]
        f = sources.frac[i]
        px = net.node_x[a] + f * (net.node_x[b] - net.node_x[a])
        py = net.node_y[a] + f * (net.node_y[b] - net.node_y[a])
        half = max(limit * vmax, float(sources.dist[i])) + extra
        segs = np.sort(tree.query(shapely.box(px - half, py - half, px + half, py + half)))
        if len(segs) > net.n_segments // 3:
            # fast profile or small city: the window is most of the network, cutting it costs more
            local, one = net, sources.subset(np.array([i]))
        else:
            local, one = _window(net, segs, sources, int(i))
        for _, D in per_source(local, one, limit, 1):
            for band, poly in _polygons(local, D[0], bands, one, buffer_m, res_m, max_pixels, method,
                                        (vmax, lmax)):
                out.append((int(i), band, poly))
        next(bar, None)
    return out


def _window(net: StreetNetwork, segs: np.ndarray, sources: Snapped,
            i: int) -> tuple[StreetNetwork, Snapped]:
    """The sub-network of segments ``segs`` (ascending global indices, so every order-dependent
    step sees them in the same order) and source ``i`` re-indexed onto it."""
    local = window_network(net, segs)
    one = sources.subset(np.array([i]))
    one.seg = np.searchsorted(segs, one.seg)
    return local, one


def sample_in_polygon(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``poly`` (rejection sampling), as an ``(n, 2)`` array."""
    if poly.is_empty or n <= 0:
        return np.zeros((0, 2))
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    got: list[np.ndarray] = []
    count = 0
    ratio = max(poly.area / max((maxx - minx) * (maxy - miny), 1e-9), 1e-3)
    while count < n:
        m = int((n - count) / ratio * 1.3) + 16
        xy = np.column_stack([rng.uniform(minx, maxx, m), rng.uniform(miny, maxy, m)])
        xy = xy[shapely.contains_xy(poly, xy[:, 0], xy[:, 1])]
        got.append(xy)
        count += len(xy)
    return np.concatenate(got)[:n]


def fidelity(net: StreetNetwork, sources: Snapped, polygons: list[tuple[float, shapely.Geometry]],
             *, n_samples: int = 2000, seed: int | None = None,
             node_times: NodeTimes | None = None) -> pd.DataFrame:
    """Share of isochrone area falsely included.

    Points are sampled uniformly inside each band's polygon, snapped like any demand point
    (projection onto the nearest street, access leg at the street's speed) and routed exactly.
    A sample whose true time exceeds the band, or that cannot be snapped or reached, is *falsely
    included*; with uniform sampling the share of samples is the share of area.

    Returns
    -------
    DataFrame
        ``band_min``, ``area_km2``, ``samples``, ``false_share`` (0..1), ``unsnapped_share``.
    """
    rng = np.random.default_rng(settings.random_seed if seed is None else seed)
    limit = max(b for b, _ in polygons) * 60 if polygons else 0
    nt = node_times or nearest(net, sources, limit * 1.5 + 60)
    rows = []
    for band, poly in polygons:
        xy = sample_in_polygon(poly, n_samples, rng)
        if len(xy) == 0:
            rows.append({"band_min": band, "area_km2": 0.0, "samples": 0, "false_share": 0.0,
                         "unsnapped_share": 0.0})
            continue
        snapped = snap_xy(net, xy[:, 0], xy[:, 1])
        t, _ = point_times(net, nt, snapped, sources)
        false = ~(t <= band * 60 + 1e-6)
        rows.append({"band_min": band, "area_km2": poly.area / 1e6, "samples": len(xy),
                     "false_share": float(false.mean()),
                     "unsnapped_share": float((~snapped.ok).mean())})
    return pd.DataFrame(rows)


def to_geodataframe(items: list[tuple], net: StreetNetwork, columns: list[str]) -> gpd.GeoDataFrame:
    """Rows of ``(..., polygon)`` (projected) as a WGS-84 GeoDataFrame with ``columns`` + geometry."""
    data = [r[:-1] for r in items]
    geoms = [r[-1] for r in items]
    gdf = gpd.GeoDataFrame(pd.DataFrame(data, columns=columns), geometry=geoms, crs=net.crs)
    return gdf.to_crs(4326)

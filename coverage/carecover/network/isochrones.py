"""Isochrone polygons from reached street segments, and how far to trust them.

A polygon is the union of small buffers around the parts of streets reachable within the band:
segments reached whole, and segments reached partly cut at the exact point where time runs out.
No convex or concave hulls: blocks nobody can enter stay holes, and a river with no bridge stays a
gap. The default ``"field"`` method contours the travel-time grid of
:mod:`carecover.network.field` (contourpy); :func:`fidelity` (:mod:`carecover.network.fidelity`)
samples points inside the polygons and checks their true network time.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover import settings
from carecover.errors import InputError
from carecover.network.engine import NodeTimes, nearest, per_source
from carecover.network.fidelity import fidelity, sample_in_polygon
from carecover.network.field import field_polygons, time_field
from carecover.network.grid import speed_len_max
from carecover.network.snap import Snapped
from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork
from carecover.utils import progress

# fidelity, sample_in_polygon and time_field live in their own modules; kept importable here
__all__ = ["reached_pieces", "pieces_polygon", "isochrone_polygons", "tier_isochrones",
           "facility_isochrones", "to_geodataframe", "fidelity", "sample_in_polygon", "time_field"]


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

    Returns
    -------
    numpy.ndarray
        ``(k, 2, 2)``: start and end (x, y) of each reached piece, projected.
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
    """Union of buffers around line pieces (projected CRS).

    Parameters
    ----------
    pieces
        ``(k, 2, 2)`` from :func:`reached_pieces`.
    buffer_m
        Buffer distance in metres.

    Returns
    -------
    shapely.Geometry
        An empty polygon when there are no pieces.
    """
    if len(pieces) == 0:
        return shapely.Polygon()
    lines = shapely.multilinestrings(shapely.linestrings(pieces))
    # one buffer of a multi-line unions as it goes, far cheaper than buffering then union_all
    return shapely.buffer(lines, buffer_m, quad_segs=2)


def isochrone_polygons(net: StreetNetwork, node_time: np.ndarray, bands_min, *,
                       sources: Snapped | None = None, buffer_m: float | None = None,
                       res_m: float = 5.0, max_pixels: float = 16e6,
                       method: str = "field", walk_speed_mps: float | None = None,
                       ) -> list[tuple[float, shapely.Geometry]]:
    """Polygons per band for one node-time array (one source, or the nearest of a set).

    Parameters
    ----------
    net, node_time
        The street network and seconds to each node.
    bands_min
        Bands in minutes.
    sources
        The snapped sources behind ``node_time`` (their own segments' pieces).
    buffer_m
        Distance from the street drawn; default ``settings.isochrone_buffer_m``.
    res_m, max_pixels
        Grid spacing of the field at walking speed (coarser on faster networks), grown so that
        the grid has at most ``max_pixels`` points.
    method
        ``"field"`` (default): the travel-time grid of :func:`time_field`, contoured at each
        band and at ``buffer_m`` from the street: the buffer narrows where time runs out, so the
        drawn area agrees with the demand-point rule, and every street point reached within the
        band is inside. ``"buffer"``: the plain union of ``buffer_m`` buffers around the reached
        street pieces (exact cuts, vector).
    walk_speed_mps
        The run's walking speed, which ``res_m`` is stated at (:func:`walk_speed_of`).

    Returns
    -------
    list of (band_min, polygon)
        Ascending bands; projected CRS.
    """
    return _polygons(net, node_time, bands_min, sources, buffer_m, res_m, max_pixels, method, None,
                     walk_speed_of(net, walk_speed_mps))


def walk_speed_of(net: StreetNetwork, walk_speed_mps: float | None) -> float:
    """The walking speed the isochrone grid is sized at: the run's, else the network's own
    (a walking network is built at the run's speed).

    Raises
    ------
    InputError
        No speed given for a network that is not a walking network.
    """
    if walk_speed_mps is not None:
        return float(walk_speed_mps)
    if net.profile.get("name") == "walk" and net.profile.get("speed_mps"):
        return float(net.profile["speed_mps"])
    raise InputError("the isochrone grid of a non-walking network needs the run's walking speed",
                     field="walk_speed_mps", expected="a speed in m/s")


def _polygons(net, node_time, bands_min, sources, buffer_m, res_m, max_pixels, method,
              whole_speed_len, walk_speed_mps: float) -> list[tuple[float, shapely.Geometry]]:
    # ``whole_speed_len``: the whole network's (when ``net`` is a window of it) so the grid's
    # spacing, hence its points, are exactly those of the whole-network computation
    if method not in ("field", "buffer"):
        raise InputError(f"unknown isochrone method {method!r}", field="method", expected="field or buffer")
    bands = sorted(bands_min)
    buf = settings.isochrone_buffer_m if buffer_m is None else buffer_m
    if method == "buffer":
        return [(b, pieces_polygon(reached_pieces(net, node_time, b * 60, sources), buf)) for b in bands]
    return field_polygons(net, node_time, bands, sources, buf, res_m, max_pixels, whole_speed_len,
                          walk_speed_mps=walk_speed_mps)


def tier_isochrones(net: StreetNetwork, sources: Snapped, bands_min=None, *,
                    buffer_m: float | None = None, node_times: NodeTimes | None = None,
                    res_m: float = 5.0, method: str = "field", max_pixels: float = 16e6,
                    walk_speed_mps: float | None = None) -> list[tuple[float, shapely.Geometry]]:
    """Union isochrone per band for a set of sources (what a tier covers), projected CRS.

    A city-wide tier grid is capped at ``max_pixels`` (the spacing grows beyond ``res_m`` for
    large areas: 7.5 m for a 30 km square); the fidelity check measures what that costs.

    Parameters
    ----------
    net
        The street network.
    sources
        Snapped sources (a tier's facilities).
    bands_min
        Bands in minutes; default ``settings.bands_min``.
    buffer_m, res_m, method, max_pixels, walk_speed_mps
        As for :func:`isochrone_polygons`.
    node_times
        From :func:`~carecover.network.engine.nearest` when already computed (bound at least
        the largest band).

    Returns
    -------
    list of (band_min, polygon)
    """
    bands = sorted(bands_min or settings.bands_min)
    nt = node_times or nearest(net, sources, max(bands) * 60)
    return isochrone_polygons(net, nt.time, bands, sources=sources, buffer_m=buffer_m,
                              res_m=res_m, method=method, max_pixels=max_pixels,
                              walk_speed_mps=walk_speed_mps)


def facility_isochrones(net: StreetNetwork, sources: Snapped, bands_min=None, *,
                        buffer_m: float | None = None, chunk: int = 64, res_m: float = 5.0,
                        method: str = "field", max_pixels: float = 1e6, workers: int = 1,
                        window: bool = True, walk_speed_mps: float | None = None,
                        ) -> list[tuple[int, float, shapely.Geometry]]:
    """Isochrone per source and band (projected CRS).

    Parameters
    ----------
    net
        The street network.
    sources
        Snapped sources; those not ``ok`` have no rows.
    bands_min
        Bands in minutes; default ``settings.bands_min``.
    buffer_m, res_m, method, max_pixels, walk_speed_mps
        As for :func:`isochrone_polygons`.
    chunk
        Sources per Dijkstra call when ``window=False``.
    workers
        Processes to spread the sources over (``fork`` where available). Results do not depend
        on it.
    window
        Route each source on the window of streets it can possibly reach (a square of half-side
        ``band × fastest speed`` plus margins, from a spatial index) instead of the whole
        network. No street route within the band leaves that square, so times, grids and
        polygons are those of the whole-network computation (``window=False``, kept for
        checking); the cost no longer grows with the size of the city. A window that is large
        against the network is routed on the whole network's graph shared by all sources
        (:data:`ROUTE_WHOLE_SHARE`), which gives its nodes the same times.

    Returns
    -------
    list of (source index, band_min, polygon)
        Ordered by source, then band.
    """
    bands = sorted(bands_min or settings.bands_min)
    ok = np.flatnonzero(sources.ok)
    if len(ok) == 0:
        return []
    kw = dict(bands=bands, buffer_m=buffer_m, chunk=chunk, res_m=res_m, method=method,
              max_pixels=max_pixels, window=window, walk_speed_mps=walk_speed_of(net, walk_speed_mps))
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
    return _rows(net, sources, idx, **kw)


def _rows(net: StreetNetwork, sources: Snapped, idx: np.ndarray, *, bands, buffer_m, chunk, res_m,
          method, max_pixels, window, walk_speed_mps, progress_bar: bool = False) -> list[tuple[int, float, shapely.Geometry]]:
    limit = max(bands) * 60
    out = []
    bar = iter(progress(range(len(idx)), "等时圈 / isochrones")) if progress_bar else iter(())
    if not window:
        sub = sources.subset(idx)
        for j, D in per_source(net, sub, limit, chunk):
            for k, i in enumerate(idx[j]):
                one = sources.subset(np.array([i]))
                for band, poly in _polygons(net, D[k], bands, one, buffer_m, res_m, max_pixels,
                                            method, None, walk_speed_mps):
                    out.append((int(i), band, poly))
                next(bar, None)
        return out
    tree = segment_index(net)
    vmax, lmax = speed_len_max(net)
    buf = settings.isochrone_buffer_m if buffer_m is None else buffer_m
    # farthest any street piece, pixel or bbox corner of one source's isochrone can lie from its
    # position on the street: the reach (no route in ``limit`` s goes farther than limit × vmax
    # in a straight line), or the source's own access point, plus the bbox margins; +1 m slack
    extra = min(limit * vmax, lmax) + buf + 2 * res_m + 1.0
    windows = [_window_segments(net, tree, sources, int(i), limit * vmax, extra) for i in idx]
    # fast profile or small city: a window that is most of the network costs more to cut than
    # it saves; those sources are drawn on the whole network. They, and the sources whose
    # window is large against the network, are routed on the whole network, on one graph built
    # for them all (its rows are those of a graph built for each alone; no route within the band
    # leaves a window, so a window's nodes get the times its own graph gives them)
    shared = np.array([int(i) for i, w in zip(idx, windows, strict=True) if _route_whole(net, w)], np.int64)
    shared_rows = per_source(net, sources.subset(shared), limit, 1) if len(shared) else iter(())
    for i, segs in zip(idx, windows, strict=True):
        D = next(shared_rows)[1][0] if _route_whole(net, segs) else None
        one = sources.subset(np.array([i]))
        if segs is None:
            local = net
        else:
            local, nodes = _window(net, segs)
            one.seg = np.searchsorted(segs, one.seg)
            D = next(per_source(local, one, limit, 1))[1][0] if D is None else D[nodes]
        for band, poly in _polygons(local, D, bands, one, buffer_m, res_m, max_pixels, method,
                                    (vmax, lmax), walk_speed_mps):
            out.append((int(i), band, poly))
        next(bar, None)
    return out


#: A source whose window has at least one segment per ROUTE_WHOLE_SHARE nodes of the network
#: is routed on the whole network's shared graph: a bounded search there costs about 1.5–6 ns
#: per node of the network (its dense row of times), building a window's own graph about
#: 0.4 µs per segment of the window (measured on four real extracts and a 248k-node city), so
#: the shared graph is cheaper up to ~70 nodes a window segment; 50 leaves a margin.
ROUTE_WHOLE_SHARE = 50


def _route_whole(net: StreetNetwork, segs: np.ndarray | None) -> bool:
    """Whether a source with window ``segs`` (None: the whole network) is routed on the whole
    network's shared graph rather than on a graph of its window (:data:`ROUTE_WHOLE_SHARE`)."""
    return segs is None or len(segs) * ROUTE_WHOLE_SHARE >= net.n_nodes


def _window_segments(net: StreetNetwork, tree, sources: Snapped, i: int, reach: float,
                     extra: float) -> np.ndarray | None:
    """Ascending indices of the segments source ``i`` can reach (its square of half-side
    ``max(reach, access) + extra``), or None when they are more than a third of the network."""
    s = int(sources.seg[i])
    a, b = net.seg_a[s], net.seg_b[s]
    f = sources.frac[i]
    px = net.node_x[a] + f * (net.node_x[b] - net.node_x[a])
    py = net.node_y[a] + f * (net.node_y[b] - net.node_y[a])
    half = max(reach, float(sources.dist[i])) + extra
    segs = tree.query(shapely.box(px - half, py - half, px + half, py + half))
    return None if len(segs) > net.n_segments // 3 else np.sort(segs)


def street_window(net: StreetNetwork, segs: np.ndarray, sources: Snapped,
                  i: int) -> tuple[StreetNetwork, Snapped]:
    """The sub-network of segments ``segs`` (ascending global indices, so every order-dependent
    step sees them in the same order; what routing and the field read, without names, tags or
    records) and source ``i`` re-indexed onto it."""
    local, _ = _window(net, segs)
    one = sources.subset(np.array([i]))
    one.seg = np.searchsorted(segs, one.seg)
    return local, one


def _window(net: StreetNetwork, segs: np.ndarray) -> tuple[StreetNetwork, np.ndarray]:
    """The network of segments ``segs`` (ascending) as routing and the field read it (nodes
    numbered as :func:`~carecover.network.build.window_network` numbers them; no names, tags
    or records, which neither reads), and the whole network's node of each of its nodes."""
    k = len(segs)
    nodes, inv = np.unique(np.concatenate([net.seg_a[segs], net.seg_b[segs]]), return_inverse=True)
    local = StreetNetwork(
        crs=net.crs, node_x=net.node_x[nodes], node_y=net.node_y[nodes], node_id=net.node_id[nodes],
        seg_a=inv[:k].astype(np.int32), seg_b=inv[k:].astype(np.int32), seg_len=net.seg_len[segs],
        seg_speed=net.seg_speed[segs], seg_fwd=net.seg_fwd[segs], seg_rev=net.seg_rev[segs],
        seg_highway=net.seg_highway[segs], profile=net.profile,
        seg_slope_ab=None if net.seg_slope_ab is None else net.seg_slope_ab[segs],
        seg_slope_ba=None if net.seg_slope_ba is None else net.seg_slope_ba[segs])
    return local, nodes


def to_geodataframe(items: list[tuple], net: StreetNetwork, columns: list[str]) -> gpd.GeoDataFrame:
    """Isochrone rows as a WGS-84 GeoDataFrame.

    Parameters
    ----------
    items
        Rows of ``(..., polygon)`` with the polygon in ``net.crs``.
    net
        The network (for its CRS).
    columns
        Names of the row values before the polygon.

    Returns
    -------
    geopandas.GeoDataFrame
        ``columns`` + geometry, EPSG:4326.
    """
    data = [r[:-1] for r in items]
    geoms = [r[-1] for r in items]
    gdf = gpd.GeoDataFrame(pd.DataFrame(data, columns=columns), geometry=geoms, crs=net.crs)
    return gdf.to_crs(4326)

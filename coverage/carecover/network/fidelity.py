"""How far to trust an isochrone: the share of its area falsely included.

Points are sampled uniformly inside each band's polygon and routed exactly, like demand points;
the share of samples beyond the band is the share of area drawn but not reachable.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from carecover import settings
from carecover.network.engine import NodeTimes, nearest, point_times
from carecover.network.snap import Snapped, snap_xy
from carecover.network.streets import StreetNetwork


def sample_in_polygon(poly: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """Uniform random points inside a polygon (rejection sampling).

    Parameters
    ----------
    poly
        The polygon.
    n
        Number of points.
    rng
        Random generator.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` coordinates; ``(0, 2)`` for an empty polygon.
    """
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

    Parameters
    ----------
    net
        The street network.
    sources
        The snapped sources the polygons were drawn for.
    polygons
        ``[(band_min, polygon)]`` (projected), e.g. from :func:`tier_isochrones`.
    n_samples
        Points sampled per band.
    seed
        Random seed; default ``settings.random_seed``.
    node_times
        From :func:`~carecover.network.engine.nearest` when already computed.

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

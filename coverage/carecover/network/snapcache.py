"""Snapped demand points kept beside the cached network they were snapped to.

Snapping a city's population cells (over a hundred thousand points on two networks) takes about
as long as routing every tier. The cells and the network rarely change between runs (a new
facility register, other thresholds or speeds leave both as they were), so the result is kept
in the network cache (:mod:`carecover.network._beside`): ``<cache dir>/networks/snaps/<network
entry>-<key>.npz``, where the key covers the points' exact coordinates, the snap limit and the
source of the snapping code. A network built without the cache has no entry, and its points are
always snapped afresh.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from carecover.network import snap as snap_module
from carecover.network import spatial, streets
from carecover.network._beside import entry_file, read_or_compute
from carecover.network.snap import Snapped, snap_xy
from carecover.network.streets import StreetNetwork

__all__ = ["snap_xy_cached", "snap_cache_file"]

#: Bump when the stored form changes in a way the code hash misses.
SNAP_CACHE_VERSION = 1


def snap_cache_file(net: StreetNetwork, x: np.ndarray, y: np.ndarray, max_snap_m: float) -> tuple[Path, str] | None:
    """Where the snap of these points on ``net`` is kept, and its key.

    Parameters
    ----------
    net
        The network; only one read from or written to the network cache has an entry.
    x, y
        Projected coordinates (float64) of the points.
    max_snap_m
        The snap limit.

    Returns
    -------
    (path, key) or None
        ``None`` when the network has no cache entry.
    """
    parts = (str(SNAP_CACHE_VERSION), repr(float(max_snap_m)),
             np.ascontiguousarray(x, np.float64).tobytes(), np.ascontiguousarray(y, np.float64).tobytes())
    return entry_file(net, "snaps", (snap_module, streets, spatial), parts)


def snap_xy_cached(net: StreetNetwork, x, y, max_snap_m: float) -> Snapped:
    """:func:`carecover.network.snap.snap_xy`, read from the network cache when these points
    were snapped to this network before (the same arrays, bit for bit).

    Parameters
    ----------
    net
        The network.
    x, y
        Projected coordinates in ``net.crs``.
    max_snap_m
        The snap limit in metres.

    Returns
    -------
    Snapped
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    return read_or_compute(snap_cache_file(net, x, y, max_snap_m), lambda: snap_xy(net, x, y, max_snap_m),
                                   lambda v: isinstance(v, Snapped) and len(v) == len(x))

"""Snapped demand points kept beside the cached network they were snapped to.

Snapping a city's population cells (over a hundred thousand points on two networks) takes about
as long as routing every tier. The cells and the network rarely change between runs (a new
facility register, other thresholds or speeds leave both as they were), so the result is kept
in the network cache: ``<cache dir>/networks/snaps/<network entry>-<key>.npz``, where the key is
the SHA-256 of the network's cache entry name (file content, profile, clip), the points' exact
coordinates, the snap limit and the source of the snapping code. Entries are data only
(:mod:`carecover.datastore`: no pickles), written atomically; an unreadable or foreign entry is
recomputed. A network built without the cache (``--no-cache``, networks made by code) has no
entry, and its points are always snapped afresh.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from carecover import datastore
from carecover.network import snap as snap_module
from carecover.network import spatial, streets
from carecover.network.snap import Snapped, snap_xy
from carecover.network.streets import StreetNetwork

__all__ = ["snap_xy_cached", "snap_cache_file"]

#: Bump when the stored form changes in a way the code hash misses.
SNAP_CACHE_VERSION = 1


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """SHA-256 of the modules whose code decides a snap."""
    h = hashlib.sha256()
    for mod in (snap_module, streets, spatial):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()


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
    entry = net.source.get("cache") if isinstance(net.source, dict) else None
    if not entry:
        return None
    h = hashlib.sha256()
    for part in (str(SNAP_CACHE_VERSION), Path(entry).name, _code_digest(), repr(float(max_snap_m))):
        h.update(part.encode())
        h.update(b"\0")
    h.update(np.ascontiguousarray(x, np.float64).tobytes())
    h.update(np.ascontiguousarray(y, np.float64).tobytes())
    key = h.hexdigest()
    return Path(entry).parent / "snaps" / f"{Path(entry).stem}-{key[:24]}.npz", key


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
    where = snap_cache_file(net, x, y, max_snap_m)
    if where is not None and where[0].exists():
        try:
            found = datastore.load(where[0], where[1])
        except (OSError, ValueError):  # unreadable or another key's entry: snapped again
            found = None
        if isinstance(found, Snapped) and len(found) == len(x):
            return found
    out = snap_xy(net, x, y, max_snap_m)
    if where is not None:
        try:
            datastore.save(where[0], out, where[1])
        except OSError:  # a read-only cache folder: the run goes on without the entry
            pass
    return out

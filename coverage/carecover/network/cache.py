"""Disk cache of built networks: one ``.npz`` per (file content, profile, clip).

The key is the SHA-256 of the OSM file, the profile and the clip polygon, so the second run on
the same city reads arrays from disk instead of parsing OSM. Files are written atomically
(temporary file + rename): an interrupted run leaves the old entry or none, never half of one,
and an unreadable entry is removed and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS

from carecover import settings
from carecover.filelimits import not_special
from carecover.network.streets import StreetNetwork
from carecover.utils import atomic_write

CACHE_VERSION = 7  # 7: bridge/tunnel tags kept per segment; 6: mobility tags kept per segment; 5: OSM XML read with raw oneway tags; 4: PBF clip keeps only segments with both ends inside


def cache_key(digest: str, profile: dict, clip_geom: shapely.Geometry | None) -> str:
    """Key of a network in the cache.

    Parameters
    ----------
    digest
        SHA-256 of the network file.
    profile
        The profile dict.
    clip_geom
        WGS-84 clip area or ``None`` (normalised, so equal areas give equal keys).

    Returns
    -------
    str
        24 hex digits.
    """
    clip = shapely.to_wkb(shapely.normalize(clip_geom), hex=True) if clip_geom is not None else ""
    blob = json.dumps({"v": CACHE_VERSION, "sha": digest, "profile": profile, "clip": clip},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def cache_file(cache: bool | str | Path, path: Path, profile: dict, digest: str,
               clip_geom: shapely.Geometry | None) -> Path | None:
    """Where the network of ``path`` under ``profile`` and ``clip_geom`` is cached.

    Parameters
    ----------
    cache
        ``True`` for ``settings.cache_dir``, a directory, or ``False`` (no cache).
    path
        The network file.
    profile, digest, clip_geom
        As for :func:`cache_key`.

    Returns
    -------
    Path or None
        ``<cache dir>/networks/<file stem>-<profile>-<key>.npz``; ``None`` without a cache.
    """
    if not cache:
        return None
    cdir = settings.cache_dir if cache is True else Path(cache)
    key = cache_key(digest, profile, clip_geom)
    return cdir / "networks" / f"{path.stem}-{profile['name']}-{key}.npz"


def save(net: StreetNetwork, path: Path) -> None:
    """Write a network to ``path`` (atomically).

    Parameters
    ----------
    net
        The network.
    path
        The ``.npz`` file.
    """
    meta = {"crs": net.crs.to_wkt(), "profile": net.profile, "source": net.source,
            "dropped": net.dropped}
    names = {} if net.seg_name is None else {"seg_name": net.seg_name, "name_table": net.name_table.astype("U")}
    names.update({f"tag_{k}": v.astype("U") for k, v in (net.seg_tags or {}).items()})
    from carecover.datastore import private_dir

    private_dir(path.parent)
    with atomic_write(path, "wb") as fh:
        np.savez(fh, node_x=net.node_x, node_y=net.node_y, node_id=net.node_id, seg_a=net.seg_a,
                 seg_b=net.seg_b, seg_len=net.seg_len, seg_speed=net.seg_speed, seg_fwd=net.seg_fwd,
                 seg_rev=net.seg_rev, seg_highway=net.seg_highway.astype("U"),
                 dropped_segments=net.dropped_segments, meta=np.array(json.dumps(meta)), **names)


def load(path: Path) -> StreetNetwork:
    """Read a network written by :func:`save`.

    Parameters
    ----------
    path
        The ``.npz`` file.

    Returns
    -------
    StreetNetwork
    """
    with np.load(not_special(path, "network cache / 路网缓存"), allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return StreetNetwork(
            crs=CRS.from_wkt(meta["crs"]), node_x=z["node_x"], node_y=z["node_y"],
            node_id=z["node_id"], seg_a=z["seg_a"], seg_b=z["seg_b"], seg_len=z["seg_len"],
            seg_speed=z["seg_speed"], seg_fwd=z["seg_fwd"], seg_rev=z["seg_rev"],
            seg_highway=z["seg_highway"], profile=meta["profile"], source=meta["source"],
            dropped=meta["dropped"], dropped_segments=z["dropped_segments"],
            # way names (entries written before they were kept have none: still valid)
            seg_name=z["seg_name"] if "seg_name" in z.files else None,
            name_table=z["name_table"] if "name_table" in z.files else None,
            seg_tags={f[4:]: z[f] for f in z.files if f.startswith("tag_")} or None)


def read_cached(path: Path | None) -> StreetNetwork | None:
    """The cached network at ``path``, if there is a readable one.

    Parameters
    ----------
    path
        From :func:`cache_file` (``None``: no cache).

    Returns
    -------
    StreetNetwork or None
        With ``source["cache"]`` and ``source["from_cache"] = True``; ``None`` when absent,
        unreadable (an unreadable file is removed so that it is rebuilt) or without way names
        (an entry of an earlier version: rebuilt and rewritten once).
    """
    if path is None or not path.exists():
        return None
    try:
        net = load(path)
    except Exception:  # unreadable cache: rebuild it
        path.unlink(missing_ok=True)
        return None
    if net.seg_name is None:  # written before way names were kept: rebuilt once, with them
        return None
    net.source = dict(net.source, cache=str(path), from_cache=True)
    return net


def write_cached(net: StreetNetwork, path: Path | None) -> StreetNetwork:
    """Save a freshly built network to the cache and record where.

    Parameters
    ----------
    net
        The network.
    path
        From :func:`cache_file` (``None``: no cache, ``net`` returned as is).

    Returns
    -------
    StreetNetwork
        ``net``, with ``source["cache"]`` and ``source["from_cache"] = False`` when saved.
    """
    if path is not None:
        save(net, path)
        net.source = dict(net.source, cache=str(path), from_cache=False)
    return net

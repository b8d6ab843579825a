"""Street arrays (``.streets.npz``): nodes and tagged segments as plain numpy arrays.

A compact exchange format for networks that do not come from an OSM file (the synthetic
benchmark cities of :mod:`carecover.bench.synthetic`, networks cut by other tools): arrays
``node_id`` (int64), ``lon``, ``lat`` (float64, WGS-84), ``u``, ``v`` (int64 node ids of each
segment, in drawing order) and one string array per tag column of
:data:`~carecover.network.profiles.TAG_COLUMNS` that is present (``""`` = untagged). ``bridge``
and ``tunnel`` are written whenever known; a file without them reads as "unknown" (the columns are
left out). Written by :func:`write`; read without pickles.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from carecover.errors import NetworkError
from carecover.network.profiles import STRUCTURE_TAGS, TAG_COLUMNS
from carecover.network.readers import StreetData

SUFFIXES = (".streets.npz",)
FILE_TYPES = (".streets.npz",)
_ARRAYS = ("node_id", "lon", "lat", "u", "v")


def check(path: Path) -> dict:
    """The file exists and is a zip archive holding the required arrays.

    Returns
    -------
    dict
        ``bytes`` and ``replication_timestamp`` (always ``None``: the format has none).
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkError("network file not found / 找不到路网文件", file=path)
    try:
        with zipfile.ZipFile(path) as z:
            names = {n.removesuffix(".npy") for n in z.namelist()}
    except zipfile.BadZipFile as exc:
        raise NetworkError("not a .streets.npz archive (damaged or another format)", file=path) from exc
    missing = [a for a in _ARRAYS if a not in names]
    if missing:
        raise NetworkError(f"street arrays missing: {', '.join(missing)}", file=path,
                           expected=", ".join(_ARRAYS))
    return {"bytes": path.stat().st_size, "replication_timestamp": None}


def read(path: Path, clip: shapely.Geometry | None) -> StreetData:
    """Nodes and segments; with ``clip``, only segments with an end inside its bounding box
    (the exact clip is applied afterwards by :func:`carecover.network.load.load_network`)."""
    with np.load(path, allow_pickle=False) as z:
        arr = {k: z[k] for k in z.files}
    lon, lat, u, v = arr["lon"], arr["lat"], arr["u"].astype(np.int64), arr["v"].astype(np.int64)
    nodes = pd.DataFrame({"id": arr["node_id"].astype(np.int64), "lon": lon.astype(float), "lat": lat.astype(float)})
    keep = np.ones(len(u), bool)
    if clip is not None:
        w, s, e, n = clip.bounds
        inside = (lon >= w) & (lon <= e) & (lat >= s) & (lat <= n)
        ids = nodes["id"].to_numpy()[inside]
        keep = np.isin(u, ids) | np.isin(v, ids)
    # bridge/tunnel arrays absent (a file written before they were kept): unknown, column left out
    seg = pd.DataFrame({c: (np.where(arr[c][keep] == "", None, arr[c][keep].astype(object)) if c in arr
                            else None) for c in TAG_COLUMNS if c in arr or c not in STRUCTURE_TAGS})
    seg["u"], seg["v"] = u[keep], v[keep]
    if len(seg) == 0:
        raise NetworkError("no streets in the arrays for this area / 该范围内没有道路", file=path)
    return StreetData(nodes, seg)


def write(path: str | Path, data: StreetData) -> Path:
    """Write street data as a ``.streets.npz`` archive (tags as strings, untagged ``""``)."""
    path = Path(path)
    if not path.name.lower().endswith(SUFFIXES):
        raise NetworkError("a street-arrays file must end in .streets.npz", file=path)
    seg = data.segments
    # bridge/tunnel written whenever known, untagged or not: their absence on reading means unknown
    tags = {c: np.asarray(seg[c].fillna("").astype(str).tolist(), dtype=str) for c in TAG_COLUMNS
            if c in seg and (seg[c].notna().any() or c in STRUCTURE_TAGS)}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, node_id=data.nodes["id"].to_numpy(np.int64), lon=data.nodes["lon"].to_numpy(float),
                            lat=data.nodes["lat"].to_numpy(float), u=seg["u"].to_numpy(np.int64),
                            v=seg["v"].to_numpy(np.int64), **tags)
    return path

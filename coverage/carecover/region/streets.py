"""A network file read once per area: its streets within the area's widest halo as street arrays.

每个区域只解析一次路网文件：区域加最大外延范围内的道路保存为数组文件，各瓦片任务再从中裁剪。

Parsing a province's ``.osm.pbf`` decodes the whole file whatever the clip, so each area's
streets (area + the widest halo of any tier) are read once, on a worker, into a
``.streets.npz`` file (:mod:`carecover.network.readers.streets`) in the cache; the area's tasks
build their networks from it with their own clips. A segment with both ends inside a tile's
clip lies inside the area's clip too, so the tile's network is the one it would get from the
original file. With a multi-machine cluster the cache folder must be shared storage.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from carecover.inputs.boundaries import boundary_geometry
from carecover.network import build
from carecover.network.readers import StreetData, reader_for
from carecover.network.readers.streets import write
from carecover.region.sources import local_path
from carecover.utils import file_sha256

__all__ = ["prepared_path", "prepare"]


def prepared_path(network: Path, clip: Any, cache_dir: Path) -> Path:
    """Where an area's street arrays go: named by the file's stem, content and the clip."""
    digest = hashlib.sha256((file_sha256(network) + shapely.to_wkb(clip, hex=True)).encode()).hexdigest()[:16]
    stem = Path(network).name.split(".")[0] or "network"
    return Path(cache_dir) / "region" / "streets" / f"{stem}.{digest}.streets.npz"


def prepare(source: str | Path, clip: Any, target: Path, cache_dir: Path) -> Path:
    """Read ``source`` (path or URL) once within ``clip`` and write its street arrays to
    ``target`` (atomically); an existing ``target`` is reused."""
    target = Path(target)
    if target.is_file():
        return target
    path = local_path(source, cache_dir, revalidate=False)  # the client revalidated it
    reader = reader_for(path)
    reader.check(path)
    clip_geom = boundary_geometry(clip)
    poly = build.polygonal(clip_geom)
    data = build.clip_streets(reader.read(path, poly), poly, clip_geom, path)
    seg = data.segments.reset_index(drop=True)
    used = np.unique(np.concatenate([seg["u"].to_numpy(np.int64), seg["v"].to_numpy(np.int64)]))
    nodes = data.nodes.drop_duplicates("id")
    nodes = nodes[nodes["id"].isin(used)].reset_index(drop=True)
    from carecover.datastore import private_dir

    private_dir(target.parent)
    tmp = target.with_name(f".{os.getpid()}.{target.name}")
    write(tmp, StreetData(nodes, seg))
    os.replace(tmp, target)
    return target

"""Load a street network from a local OSM file: the steps in order, each in its own module."""

from __future__ import annotations

from pathlib import Path

import shapely

from carecover.inputs.boundaries import boundary_geometry
from carecover.network import build
from carecover.network import cache as netcache
from carecover.network.profiles import make_profile
from carecover.network.readers import StreetData, reader_for
from carecover.network.streets import StreetNetwork
from carecover.utils import file_sha256, log


def load_network(path: str | Path, profile: dict | str = "walk", *, boundary=None,
                 cache: bool | str | Path = True, keep_read: bool = False) -> StreetNetwork:
    """Build (or load from cache) a street network from a local OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or ``.osm`` / ``.osm.xml`` (read with OSMnx); any
        format of :mod:`carecover.network.readers`.
    profile
        A dict from :func:`~carecover.network.profiles.make_profile` or a profile name.
    boundary
        Clip area: a polygon file (GeoJSON/GPKG/Shapefile with its CRS), a GeoDataFrame, a
        WGS-84 shapely geometry, or a ``(minx, miny, maxx, maxy)`` WGS-84 bbox; read by
        :func:`carecover.inputs.boundaries.boundary_geometry`.
    cache
        ``True`` for ``settings.cache_dir``, a directory, or ``False``. The key is the file's
        SHA-256 + profile + clip, so the second run on the same city reads arrays from disk.
    keep_read
        Keep what is read from the file (in memory, one file at a time) for the next network of
        the same file and clip (another profile), which then reads nothing; ``forget_read()``
        drops it. A kept read is reused whatever this flag says.

    Returns
    -------
    StreetNetwork

    Raises
    ------
    NetworkError
        For a missing, empty, truncated or foreign file, an unsupported file type, no streets
        (in the file, in the clip area, or for the profile).
    InputError
        For a boundary that cannot be read or placed, or a bad profile.
    """
    path = Path(path)
    prof = make_profile(profile) if isinstance(profile, str) else profile
    # the reader of this file type checks the file before anything is parsed
    reader = reader_for(path)
    header = reader.check(path)
    # the clip area, through the project's one boundary reader
    clip_geom = boundary_geometry(boundary)
    # a cached network of the same file content, profile and clip needs no parsing
    digest = file_sha256(path)
    cache_file = netcache.cache_file(cache, path, prof, digest, clip_geom)
    net = netcache.read_cached(cache_file)
    if net is not None:
        return net
    log(f"构建路网 / building {prof['name']} network from {path.name} …")
    # the reader may read only the clip area's part of the file
    clip = build.polygonal(clip_geom)
    data = read_streets(reader, path, clip, digest, keep=keep_read)
    # segments with both ends inside the clip area
    data = build.clip_streets(data, clip, clip_geom, path)
    # the profile's streets, projected, in one connected piece
    net = build.assemble(data, prof, build.source_record(path, digest, header, clip_geom))
    # saved for the next run
    return netcache.write_cached(net, cache_file)


#: The last file read with ``keep``, by (file, content digest, clip): the walking and the driving
#: network of a run are built from the same streets, so the second profile reuses the first
#: one's read instead of decoding the file again. One entry only; :func:`forget_read` drops it.
_LAST_READ: dict[tuple, StreetData] = {}


def read_streets(reader, path: Path, clip: shapely.Geometry | None, digest: str, *,
                 keep: bool = False) -> StreetData:
    """``reader.read(path, clip)``, or the same read kept from a previous network.

    Parameters
    ----------
    reader
        The reader module of the file (:func:`~carecover.network.readers.reader_for`).
    path
        The network file.
    clip
        Polygonal clip area handed to the reader, or ``None``.
    digest
        The file's SHA-256 (a file changed on disk is read again).
    keep
        Keep a fresh read for the next call (replacing the one kept before).

    Returns
    -------
    StreetData
        A kept read is shared with the later networks of the same file and clip: the build
        steps make new frames and never change it in place.
    """
    key = (str(path.resolve()), digest, None if clip is None else shapely.to_wkb(shapely.normalize(clip)))
    data = _LAST_READ.get(key)
    if data is None:
        if keep:
            _LAST_READ.clear()  # the memory of the previous file's read first
        data = reader.read(path, clip)
        if keep:
            _LAST_READ[key] = data
    return data


def forget_read() -> None:
    """Drop the read kept by :func:`read_streets` (once every network of the file is built)."""
    _LAST_READ.clear()

"""Load a street network from a local OSM file: the steps in order, each in its own module."""

from __future__ import annotations

from pathlib import Path

from carecover.inputs.boundaries import boundary_geometry
from carecover.network import build
from carecover.network import cache as netcache
from carecover.network.profiles import make_profile
from carecover.network.readers import reader_for
from carecover.network.streets import StreetNetwork
from carecover.utils import file_sha256, log


def load_network(path: str | Path, profile: dict | str = "walk", *, boundary=None,
                 cache: bool | str | Path = True) -> StreetNetwork:
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
    data = reader.read(path, clip)
    # segments with both ends inside the clip area
    data = build.clip_streets(data, clip, clip_geom, path)
    # the profile's streets, projected, in one connected piece
    net = build.assemble(data, prof, build.source_record(path, digest, header, clip_geom))
    # saved for the next run
    return netcache.write_cached(net, cache_file)

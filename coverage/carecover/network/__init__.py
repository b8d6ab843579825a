"""Street networks: load, snap, route, draw isochrones.

``load_network`` (:mod:`~carecover.network.load`) strings the steps together: a reader per file
format (:mod:`~carecover.network.readers`), the travel profiles
(:mod:`~carecover.network.profiles`), assembly into a :class:`StreetNetwork`
(:mod:`~carecover.network.build`, :mod:`~carecover.network.streets`) and the disk cache
(:mod:`~carecover.network.cache`); :mod:`~carecover.network.download` fetches streets online.
Points are snapped with :mod:`~carecover.network.snap` (on the segment index of
:mod:`~carecover.network.spatial`), routed with :mod:`~carecover.network.engine` and drawn with
:mod:`~carecover.network.isochrones` (from the travel-time raster of
:mod:`~carecover.network.field`; checked by :mod:`~carecover.network.fidelity`).
"""

from carecover.network.build import keep_largest_component
from carecover.network.download import download_osmnx, graph_from_osmnx
from carecover.network.load import load_network
from carecover.network.profiles import make_profile, parse_maxspeed
from carecover.network.readers import StreetData, reader_for
from carecover.network.readers.osmxml import save_osmnx_xml
from carecover.network.snap import Snapped, snap_lonlat, snap_points, snap_xy
from carecover.network.spatial import segment_index
from carecover.network.streets import StreetNetwork

__all__ = [
    "StreetData",
    "StreetNetwork",
    "Snapped",
    "download_osmnx",
    "graph_from_osmnx",
    "keep_largest_component",
    "load_network",
    "make_profile",
    "parse_maxspeed",
    "reader_for",
    "save_osmnx_xml",
    "segment_index",
    "snap_lonlat",
    "snap_points",
    "snap_xy",
]

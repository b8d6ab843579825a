"""Street networks, snapping, the travel-time engine and isochrones."""

from carecover.network.snap import Snapped, snap_lonlat, snap_points, snap_xy
from carecover.network.streets import (
    StreetNetwork,
    download_osmnx,
    keep_largest_component,
    load_network,
    make_profile,
    parse_maxspeed,
)

__all__ = ["StreetNetwork", "load_network", "make_profile", "parse_maxspeed",
           "keep_largest_component", "download_osmnx", "Snapped", "snap_xy", "snap_lonlat",
           "snap_points"]

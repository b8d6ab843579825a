"""The network as a few light street lines (the maps' orientation layer when the basemap tiles
do not load): :func:`street_lines` merges the routed network's segments per street class and
simplifies them to a vertex budget (the plan puts them into ``PlanBundle.streets``; the map's
:mod:`~carecover.outputs.maps.streets` draws them). :func:`street_lines_cached` keeps them beside
the cached network (:mod:`carecover.network._beside`), since they depend on nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj import Transformer

from carecover.network._beside import entry_file, read_or_compute

if TYPE_CHECKING:
    from carecover.network.streets import StreetNetwork

#: OSM highway classes drawn as main roads; footways, paths, steps, tracks and cycleways are
#: "paths"; everything else is a minor street.
MAJOR = frozenset({"motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
                   "secondary", "secondary_link", "tertiary", "tertiary_link"})
PATHS = frozenset({"footway", "path", "steps", "track", "cycleway", "bridleway", "corridor"})
#: Street classes in drawing priority: when the vertices exceed the budget, paths go first,
#: then minor streets are simplified harder.
KINDS = ("major", "minor", "path")
#: Most vertices of the streets layer (a city's network is simplified to this).
STREET_MAX_VERTICES = 150_000
#: First simplification tolerance (m), doubled up to ``STREET_MAX_SIMPLIFY_M`` until the
#: streets fit the budget.
STREET_SIMPLIFY_M = 4.0
STREET_MAX_SIMPLIFY_M = 64.0
#: Bump when the stored street lines change in a way the code hash misses.
STREET_LINES_CACHE_VERSION = 1

def street_kinds(highway: np.ndarray) -> np.ndarray:
    """Street class (``major``/``minor``/``path``) of each OSM highway value.

    Parameters
    ----------
    highway
        OSM ``highway`` values.

    Returns
    -------
    numpy.ndarray
        One of :data:`KINDS` per value.
    """
    hw = np.asarray(highway, dtype=object).astype(str)
    return np.where(np.isin(hw, list(MAJOR)), "major", np.where(np.isin(hw, list(PATHS)), "path", "minor"))


def street_lines(net: StreetNetwork, max_vertices: int = STREET_MAX_VERTICES) -> gpd.GeoDataFrame:
    """The network's segments merged into lines per street class and simplified to at most
    ``max_vertices`` vertices: paths are dropped first, then the tolerance grows (to
    :data:`STREET_MAX_SIMPLIFY_M`), then minor streets are dropped.

    Parameters
    ----------
    net
        The routed (walking) network.
    max_vertices
        Most vertices over all classes.

    Returns
    -------
    GeoDataFrame
        ``kind`` and a (multi)line geometry per class drawn, EPSG:4326.
    """
    kind = street_kinds(net.seg_highway)
    xy = np.column_stack([net.node_x[net.seg_a], net.node_y[net.seg_a],
                          net.node_x[net.seg_b], net.node_y[net.seg_b]]).reshape(-1, 2, 2)
    segs = shapely.linestrings(xy)
    merged = {k: shapely.line_merge(shapely.multilinestrings(segs[kind == k]))
              for k in KINDS if (kind == k).any()}
    tol, kinds = STREET_SIMPLIFY_M, [k for k in KINDS if k in merged]
    while True:
        shown = {k: shapely.simplify(merged[k], tol, preserve_topology=False) for k in kinds}
        n = sum(int(shapely.get_num_coordinates(g)) for g in shown.values())
        if n <= max_vertices:
            break
        if "path" in kinds:
            kinds.remove("path")  # footpaths are the first to go: the map orients by streets
        elif tol < STREET_MAX_SIMPLIFY_M:
            tol *= 2
        elif len(kinds) > 1:
            kinds.remove(kinds[-1])  # then minor streets: main roads alone still orient
        else:
            break  # main roads at the coarsest tolerance: drawn as they are
    to_wgs = Transformer.from_crs(net.crs, 4326, always_xy=True)
    geoms = [shapely.transform(shown[k], lambda c: np.column_stack(to_wgs.transform(c[:, 0], c[:, 1])))
             for k in kinds]
    return gpd.GeoDataFrame({"kind": kinds}, geometry=geoms, crs=4326)


def street_lines_cached(net: StreetNetwork, max_vertices: int = STREET_MAX_VERTICES) -> gpd.GeoDataFrame:
    """:func:`street_lines`, read from the network cache when made for this network before.

    The key covers the network's cache entry, this module's code, ``max_vertices`` and the
    shapely, GEOS and PROJ versions (simplification and reprojection follow them); a network
    built without the cache has no entry and its lines are always made afresh. Parameters as
    :func:`street_lines`; returns the same table, geometry for geometry.

    Examples
    --------
    >>> from carecover.network import load_network  # doctest: +SKIP
    >>> lines = street_lines_cached(load_network("city.osm.pbf", "walk"))  # doctest: +SKIP
    """
    return read_or_compute(street_lines_cache_file(net, max_vertices), lambda: street_lines(net, max_vertices),
                                   lambda v: isinstance(v, gpd.GeoDataFrame))


def street_lines_cache_file(net: StreetNetwork, max_vertices: int = STREET_MAX_VERTICES) -> tuple[Path, str] | None:
    """Where :func:`street_lines_cached` keeps ``net``'s street layer, and its key (``None`` for
    a network without a cache entry)."""
    versions = (shapely.__version__, shapely.geos_version_string, pyproj.__version__, pyproj.proj_version_str)
    return entry_file(net, "streetlines", (sys.modules[__name__],),
                              (str(STREET_LINES_CACHE_VERSION), str(int(max_vertices)), *versions))

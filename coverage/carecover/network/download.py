"""Street networks downloaded online through OSMnx (Overpass).

:func:`download_osmnx` saves the streets as an ``.osm`` file so that every later run reads them
offline (and caches them) like any extract; :func:`graph_from_osmnx` builds a network straight
from the download, without a file.
"""

from __future__ import annotations

from pathlib import Path

from carecover.errors import NetworkError
from carecover.network.build import assemble
from carecover.network.profiles import make_profile
from carecover.network.readers.osmxml import graph_streets, osmnx_raw, save_osmnx_xml
from carecover.network.streets import StreetNetwork

#: Unsimplified graphs of all streets, isolated parts kept: the segments the readers give.
_GRAPH_OPTIONS = dict(network_type="all", simplify=False, retain_all=True)


def _graph(ox, query, by: str):
    fetch = {"place": ox.graph_from_place, "polygon": ox.graph_from_polygon,
             "bbox": ox.graph_from_bbox}[by]
    return fetch(query, **_GRAPH_OPTIONS)


def graph_from_osmnx(query, *, by: str = "place", profile: dict | None = None) -> StreetNetwork:
    """Download a network online through OSMnx (place name, polygon or bbox).

    Parameters
    ----------
    query
        Place name (``by="place"``), a WGS-84 shapely polygon (``"polygon"``) or a bbox tuple
        ``(left, bottom, right, top)`` (``"bbox"``).
    by
        ``"place"``, ``"polygon"`` or ``"bbox"``.
    profile
        From :func:`~carecover.network.profiles.make_profile`; walking by default.

    Returns
    -------
    StreetNetwork
        Not cached; ``source`` names the query and the OSMnx version.
    """
    with osmnx_raw() as ox:
        G = _graph(ox, query, by)
    return assemble(graph_streets(G), profile or make_profile("walk"),
                    {"online": f"OSMnx {by}: {query}", "osmnx": ox.__version__})


def download_osmnx(query, out: str | Path, *, by: str = "place") -> Path:
    """Download all streets of an area online through OSMnx/Overpass and save them as ``.osm``.

    Parameters
    ----------
    query
        Place name (``by="place"``), WGS-84 shapely polygon (``"polygon"``) or
        ``(left, bottom, right, top)`` (``"bbox"``).
    out
        The ``.osm`` file to write; ``load_network(out, ...)`` then reads it offline.
    by
        ``"place"``, ``"polygon"`` or ``"bbox"``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    NetworkError
        When the download fails or finds nothing.
    """
    try:
        with osmnx_raw() as ox:
            G = _graph(ox, query, by)
    except Exception as exc:  # network errors and empty results come in several types
        raise NetworkError(f"OSMnx download failed ({by}: {query}): {exc} / 在线下载路网失败",
                           field=by) from exc
    return save_osmnx_xml(G, out)

"""OSMnx graphs saved as GeoPackage (``ox.save_graph_geopackage``: layers ``nodes``, ``edges``).

Each edge's geometry gives its shape and so its length (see :mod:`._edges`).
"""

from __future__ import annotations

from pathlib import Path

import shapely

from carecover.errors import NetworkError
from carecover.network.readers import StreetData
from carecover.network.readers._edges import streets_from_edges, to_wgs84

SUFFIXES = (".gpkg",)
FILE_TYPES = (".gpkg",)
_EXPECTED = "a graph saved with osmnx.save_graph_geopackage (layers 'nodes' and 'edges')"


def check(path: Path) -> dict:
    """Exists, an SQLite file, with the ``nodes`` and ``edges`` layers OSMnx writes.

    Parameters
    ----------
    path
        The ``.gpkg`` file.

    Returns
    -------
    dict
        ``bytes``, ``replication_timestamp`` (``None``) and ``layers``.

    Raises
    ------
    NetworkError
        When the file is missing, not a GeoPackage, or lacks the two layers.
    """
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise NetworkError("GeoPackage file not found / 找不到 GeoPackage 文件", file=path)
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head != b"SQLite format 3\x00":
        raise NetworkError("not a GeoPackage (not an SQLite file) / 不是 GeoPackage 文件", file=path,
                           expected=_EXPECTED)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:
        raise NetworkError(f"cannot open GeoPackage: {exc}", file=path, expected=_EXPECTED) from exc
    missing = [name for name in ("nodes", "edges") if name not in layers]
    if missing:
        raise NetworkError(f"GeoPackage has no layer {', '.join(missing)} (layers: {', '.join(layers)})"
                           " / 缺少路网图层", file=path, expected=_EXPECTED)
    return {"bytes": path.stat().st_size, "replication_timestamp": None, "layers": layers}


def read(path: Path, clip: shapely.Geometry | None) -> StreetData:
    """Every edge of the ``edges`` layer as straight segments along its geometry.

    Parameters
    ----------
    path
        The ``.gpkg`` file.
    clip
        WGS-84 polygon whose bounding box limits what is read (the caller clips exactly), or
        ``None``.

    Returns
    -------
    StreetData

    Raises
    ------
    NetworkError
        When a layer cannot be read or lacks the columns OSMnx writes.
    """
    import geopandas as gpd

    try:
        nodes = gpd.read_file(path, layer="nodes")
        edges = gpd.read_file(path, layer="edges")
    except Exception as exc:
        raise NetworkError(f"cannot read the GeoPackage graph: {exc}", file=path) from exc
    need = {"nodes": ({"osmid", "x", "y"}, nodes), "edges": ({"u", "v"}, edges)}
    for layer, (cols, frame) in need.items():
        lacking = sorted(cols - set(frame.columns))
        if lacking:
            raise NetworkError(f"layer '{layer}' lacks column(s) {', '.join(lacking)} / 缺少字段",
                               file=path, field=lacking[0], expected=_EXPECTED)
    if len(edges) == 0:
        raise NetworkError("no streets (edges) in the GeoPackage graph / 图中没有道路", file=path)
    if nodes.crs is None:
        raise NetworkError("the 'nodes' layer has no CRS / 图层没有坐标系", file=path, expected=_EXPECTED)
    # an undirected save (OSMnx's default) keeps each edge's direction in 'from'/'to'
    if {"from", "to"} <= set(edges.columns):
        edges = edges.assign(u=edges["from"], v=edges["to"])
    # OSMnx writes x/y in the graph's CRS, which is the layer's; a layer reprojected since (QGIS
    # "Reproject layer") keeps the old x/y columns: the point geometry, in the layer's CRS, counts
    geom = nodes.geometry.values
    if len(nodes) and not (shapely.is_missing(geom) | shapely.is_empty(geom)).any():
        nodes = nodes.assign(x=shapely.get_x(geom), y=shapely.get_y(geom))
    nodes, edges = to_wgs84(nodes, edges, nodes.crs)
    return streets_from_edges(nodes, edges, path)

"""OSMnx GraphML files (``ox.save_graphml``), simplified or not, in any CRS.

Each edge's ``geometry`` gives its shape and so its length (see :mod:`._edges`): a simplified
edge is not a straight line between its ends.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import shapely

from carecover.errors import NetworkError
from carecover.network.readers import StreetData
from carecover.network.readers._edges import streets_from_edges, to_wgs84

SUFFIXES = (".graphml",)
FILE_TYPES = (".graphml",)


def check(path: Path) -> dict:
    """Exists, not empty, a GraphML document near the start.

    Parameters
    ----------
    path
        The ``.graphml`` file.

    Returns
    -------
    dict
        ``bytes`` and ``replication_timestamp`` (``None``: GraphML carries none).

    Raises
    ------
    NetworkError
        When the file is missing, empty or not GraphML.
    """
    path = Path(path)
    if not path.is_file():
        raise NetworkError("GraphML file not found / 找不到 GraphML 文件", file=path)
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise NetworkError("GraphML file is empty / GraphML 文件为空", file=path)
    if b"<graphml" not in head:
        raise NetworkError("not a GraphML file (no <graphml> element) / 不是 GraphML 文件", file=path,
                           expected="a graph saved with osmnx.save_graphml")
    return {"bytes": path.stat().st_size, "replication_timestamp": None}


def read(path: Path, clip: shapely.Geometry | None) -> StreetData:
    """Every edge of an OSMnx GraphML graph as straight segments along its geometry.

    Parameters
    ----------
    path
        The ``.graphml`` file.
    clip
        Unused: the whole graph is read (the caller clips).

    Returns
    -------
    StreetData

    Raises
    ------
    NetworkError
        When OSMnx cannot load the file, or it has no edges or no coordinates.
    """
    import osmnx as ox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.load_graphml(path)
    except Exception as exc:
        raise NetworkError(f"cannot read GraphML: {exc}", file=path,
                           expected="a graph saved with osmnx.save_graphml") from exc
    if G.number_of_edges() == 0:
        raise NetworkError("no streets (edges) in the GraphML graph / 图中没有道路", file=path)
    if "crs" not in G.graph or any("x" not in d or "y" not in d for _, d in G.nodes(data=True)):
        raise NetworkError("GraphML graph without coordinates (graph 'crs', node 'x'/'y') / 缺少坐标",
                           file=path, expected="a graph saved with osmnx.save_graphml")
    try:
        nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=False)
    except Exception as exc:
        raise NetworkError(f"cannot read GraphML edges: {exc}", file=path) from exc
    nodes, edges = to_wgs84(nodes, edges.reset_index(), G.graph["crs"])
    return streets_from_edges(nodes, edges, path)

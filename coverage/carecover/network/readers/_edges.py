"""OSMnx-style graph tables (a node table and an edge table with geometries) as straight segments.

Shared by the GraphML and GeoPackage readers. OSMnx saves *simplified* graphs: one edge per
street stretch between junctions, its shape in ``geometry`` (a LineString from ``u`` to ``v``)
and its tags possibly lists (``['steps', 'footway']``) where ways were merged. The network model
is straight segments between nodes, so every interior vertex of an edge's geometry becomes a node
of its own (a negative id, never an OSM id): the segments then follow the drawn street and their
lengths add up to the geometry's length, not to the straight line between the edge's ends.

A two-way street is stored by OSMnx as two edges, ``u→v`` and ``v→u`` with the reversed
geometry; it is read once.
"""

from __future__ import annotations

import ast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.network.profiles import STRUCTURE_TAGS, TAG_COLUMNS
from carecover.network.readers import StreetData, valid_lonlat, warn_bad_coordinates

WGS84 = "EPSG:4326"


def _valid_only(nodes: pd.DataFrame, edges: gpd.GeoDataFrame, path) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Nodes with valid coordinates and the edges between them (the others said in a notice)."""
    from carecover.errors import NetworkError

    lon, lat = nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)
    ok = valid_lonlat(lon, lat)
    geom = edges.geometry.to_numpy()
    has = np.array([g is not None and not g.is_empty for g in geom], dtype=bool)
    good_geom = np.ones(len(edges), bool)
    if has.any():
        xy, idx = shapely.get_coordinates(geom[has], return_index=True)
        bad_rows = np.unique(idx[~valid_lonlat(xy[:, 0], xy[:, 1])])
        good_geom[np.flatnonzero(has)[bad_rows]] = False
    if ok.all() and good_geom.all():
        return nodes, edges
    if not ok.any():
        raise NetworkError("没有节点带有效的经纬度 / no street node has valid WGS-84 coordinates "
                           "(longitude -180..180, latitude -90..90)", file=path)
    bad_ids = nodes["id"].to_numpy()[~ok]
    keep = ~(edges["u"].isin(bad_ids) | edges["v"].isin(bad_ids)).to_numpy() & good_geom
    warn_bad_coordinates(path, bad_ids, lon[~ok], lat[~ok], int((~keep).sum()))
    return nodes.loc[ok], edges.loc[keep]


def _first(value):
    """A merged edge's tag list → its first value (as OSMnx's own ``ox.convert`` keeps lists,
    and GeoPackages store them as their text ``"['a', 'b']"``)."""
    if isinstance(value, (list, tuple)):
        return value[0] if value else None
    if isinstance(value, str) and not value.strip():  # a GeoPackage's empty text is no tag
        return None
    if isinstance(value, str) and value.startswith("[") and value.endswith("]"):
        try:
            items = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            return value
        return items[0] if isinstance(items, (list, tuple)) and items else value
    return value


def _oneway(value) -> str | None:
    """OSMnx's ``oneway`` (a bool, or its text/number in files) → the raw tag the profiles read.
    OSMnx orients one-way edges in the travel direction (``oneway=-1`` ways already reversed)."""
    value = _first(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().lower()
    return "yes" if text in ("true", "1", "yes", "-1", "reverse") else None


def _tags(edges: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=edges.index)
    for col in TAG_COLUMNS:
        if col == "oneway" or (col in STRUCTURE_TAGS and col not in edges.columns):
            continue  # a graph without bridge/tunnel columns: unknown, not "none" (column left out)
        out[col] = (edges[col].map(_first).astype(object).where(edges[col].notna(), None)
                    if col in edges.columns else None)
    out["oneway"] = edges["oneway"].map(_oneway) if "oneway" in edges.columns else None
    return out[[c for c in TAG_COLUMNS if c in out.columns]]


def _drop_reverse_twins(edges: pd.DataFrame, oneway: pd.Series) -> pd.DataFrame:
    """Keep one of the two edges OSMnx stores for a two-way street (same way, same ends)."""
    u, v = edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    way = edges["osmid"].map(lambda x: str(x)) if "osmid" in edges.columns else pd.Series("", index=edges.index)
    length = np.round(shapely.length(edges.geometry.to_crs(edges.geometry.estimate_utm_crs()).values), 2)
    key = pd.DataFrame({"lo": lo, "hi": hi, "way": way.to_numpy(), "len": length,
                        "two": oneway.isna().to_numpy()}, index=edges.index)
    twin = key["two"] & key.duplicated(["lo", "hi", "way", "len", "two"], keep="first")
    return edges.loc[~twin.to_numpy()]


def streets_from_edges(nodes: pd.DataFrame, edges: gpd.GeoDataFrame, path=None) -> StreetData:
    """Straight segments (and the extra vertex nodes) of an OSMnx graph's node and edge tables.

    Parameters
    ----------
    nodes
        One row per graph node: ``id`` (int), ``lon``, ``lat`` (WGS-84).
    edges
        GeoDataFrame in WGS-84 with ``u``, ``v`` (node ids, the travel direction), the tags
        OSMnx keeps (``highway``, ``oneway``, ``name`` …, lists allowed) and ``geometry``
        (LineString from ``u`` to ``v``, or missing for a straight edge).
    path
        The file (named in the notice about nodes or edges with invalid coordinates, which are
        left out, and in the error when no node has valid ones).

    Returns
    -------
    StreetData
        The graph's nodes plus one node per interior geometry vertex (ids ``-1, -2, …``), and one
        segment per consecutive vertex pair with its edge's tags.
    """
    nodes = nodes.drop_duplicates("id").reset_index(drop=True)
    nodes, edges = _valid_only(nodes, edges, path)
    xy = pd.DataFrame({"lon": nodes["lon"].to_numpy(float), "lat": nodes["lat"].to_numpy(float)},
                      index=nodes["id"].to_numpy(np.int64))
    edges = edges[edges["u"].isin(xy.index) & edges["v"].isin(xy.index)].copy()
    u = edges["u"].to_numpy(np.int64)
    v = edges["v"].to_numpy(np.int64)
    # an edge without a geometry is the straight line between its ends
    straight = shapely.linestrings(np.stack([xy.loc[u].to_numpy(), xy.loc[v].to_numpy()], axis=1))
    geom = edges.geometry.to_numpy().copy()
    missing = np.array([g is None or g.is_empty for g in geom], dtype=bool)
    geom[missing] = straight[missing]
    edges = edges.set_geometry(gpd.GeoSeries(geom, index=edges.index, crs=WGS84))
    edges = _drop_reverse_twins(edges, _tags(edges)["oneway"])
    tags = _tags(edges).reset_index(drop=True)
    u = edges["u"].to_numpy(np.int64)
    v = edges["v"].to_numpy(np.int64)
    geom = edges.geometry.to_numpy()
    # geometries drawn v→u (a file written by another tool) are turned to run u→v
    first = shapely.get_point(geom, 0)
    d_u = shapely.distance(first, shapely.points(xy.loc[u].to_numpy()))
    d_v = shapely.distance(first, shapely.points(xy.loc[v].to_numpy()))
    flip = d_v < d_u
    geom[flip] = shapely.reverse(geom[flip])
    coords, idx = shapely.get_coordinates(geom, return_index=True)
    starts = np.r_[0, np.flatnonzero(np.diff(idx)) + 1]
    ends = np.r_[starts[1:] - 1, len(idx) - 1]
    vid = -(np.arange(len(coords), dtype=np.int64) + 1)
    vid[starts] = u
    vid[ends] = v
    interior = np.ones(len(coords), dtype=bool)
    interior[starts] = False
    interior[ends] = False
    extra = pd.DataFrame({"id": vid[interior], "lon": coords[interior, 0], "lat": coords[interior, 1]})
    # snap the edge ends to their nodes' exact positions (a file may round them differently)
    pair = idx[:-1] == idx[1:]
    a, b = np.flatnonzero(pair), np.flatnonzero(pair) + 1
    seg = tags.iloc[idx[a]].reset_index(drop=True)
    seg["u"] = vid[a]
    seg["v"] = vid[b]
    seg = seg[seg["u"] != seg["v"]].reset_index(drop=True)
    nd = pd.concat([nodes[["id", "lon", "lat"]].astype({"id": np.int64}), extra], ignore_index=True)
    return StreetData(nd, seg)


def to_wgs84(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, crs) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Node table (``id``, ``lon``, ``lat``) and edges in WGS-84 from OSMnx tables in ``crs``.

    Parameters
    ----------
    nodes
        Index or ``osmid`` column = node id; ``x``, ``y`` in ``crs``.
    edges
        ``u``, ``v``, tags and ``geometry`` in ``crs``.
    crs
        The graph's CRS (``G.graph["crs"]`` or the GeoPackage layer's).

    Returns
    -------
    (pandas.DataFrame, geopandas.GeoDataFrame)
    """
    pts = gpd.GeoSeries(shapely.points(nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)), crs=crs)
    pts = pts.to_crs(WGS84)
    ids = nodes["osmid"] if "osmid" in nodes.columns else nodes.index.to_series()
    nd = pd.DataFrame({"id": ids.to_numpy(np.int64), "lon": pts.x.to_numpy(), "lat": pts.y.to_numpy()})
    e = edges if edges.crs is not None else edges.set_crs(crs)
    return nd, e.to_crs(WGS84)

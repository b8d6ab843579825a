"""From a reader's :class:`~carecover.network.readers.StreetData` to a :class:`StreetNetwork`.

The steps :func:`carecover.network.load.load_network` strings together after reading: clip to
the study area, apply the profile's tag rules, project to the local UTM zone, keep the largest
connected part (recording what was dropped). Also the segment subsets the engine and the
isochrones route on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from carecover.errors import NetworkError
from carecover.network import profiles
from carecover.network.readers import StreetData, valid_lonlat, warn_bad_coordinates
from carecover.network.streets import StreetNetwork
from carecover.network.structures import NOT_A_STRUCTURE


def utm_crs(lon: float, lat: float) -> CRS:
    """UTM zone CRS for a WGS-84 point.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    pyproj.CRS
        EPSG:326xx (north) or EPSG:327xx (south).
    """
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def polygonal(clip_geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The polygonal part of a clip geometry (a collection keeps its polygons only).

    Parameters
    ----------
    clip_geom
        WGS-84 geometry from :func:`carecover.inputs.boundaries.boundary_geometry`, or ``None``.

    Returns
    -------
    shapely.Geometry or None
    """
    if clip_geom is not None and clip_geom.geom_type == "GeometryCollection":
        return shapely.union_all([g for g in clip_geom.geoms if g.geom_type.endswith("Polygon")])
    return clip_geom


def source_record(path: Path, digest: str, header: dict,
                  clip_geom: shapely.Geometry | None) -> dict:
    """Where a network comes from, as written into ``StreetNetwork.source`` and summary.json.

    Parameters
    ----------
    path
        The network file.
    digest
        Its SHA-256.
    header
        What the reader's ``check`` returned (``bytes``, ``replication_timestamp``).
    clip_geom
        The clip area (WGS-84) or ``None``.

    Returns
    -------
    dict
        ``file``, ``sha256``, ``bytes``, ``replication_timestamp``, ``clip`` (bounds or None).
    """
    return {"file": str(path), "sha256": digest, "bytes": header["bytes"],
            "replication_timestamp": header.get("replication_timestamp"),
            "clip": None if clip_geom is None else [round(v, 6) for v in clip_geom.bounds]}


def valid_coordinates(data: StreetData, path: Path) -> StreetData:
    """Drop nodes whose coordinates are not WGS-84 degrees (not finite, latitude beyond ±90,
    longitude beyond ±180) and the segments that use them, saying how many (a notice).

    Raises
    ------
    NetworkError
        When no street node has valid coordinates (naming the file).
    """
    lon, lat = data.nodes["lon"].to_numpy(float), data.nodes["lat"].to_numpy(float)
    ok = valid_lonlat(lon, lat)
    if ok.all():
        return data
    if not ok.any():
        raise NetworkError("没有节点带有效的经纬度 / no street node has valid WGS-84 coordinates "
                           "(longitude -180..180, latitude -90..90)", file=path)
    bad_ids = data.nodes["id"].to_numpy()[~ok]
    segs = data.segments
    drop = segs["u"].isin(bad_ids) | segs["v"].isin(bad_ids)
    warn_bad_coordinates(path, bad_ids, lon[~ok], lat[~ok], int(drop.sum()))
    return StreetData(data.nodes.loc[ok], segs.loc[~drop])


def clip_streets(data: StreetData, clip: shapely.Geometry | None, clip_geom: shapely.Geometry | None,
                 path: Path) -> StreetData:
    """Keep the segments with both ends inside the clip area.

    Parameters
    ----------
    data
        What the reader returned.
    clip
        Polygonal part of the clip area (:func:`polygonal`), or ``None`` to keep everything.
    clip_geom
        The clip area as given (``None`` when there is none).
    path
        The network file (named in the error).

    Returns
    -------
    StreetData

    Raises
    ------
    NetworkError
        When a clip area was given and no segment lies inside it.
    """
    data = valid_coordinates(data, path)
    segs = data.segments
    if clip is not None:
        # pyrosm keeps whole ways that cross the clip edge: keep segments with both ends inside,
        # as for OSM XML
        nodes = data.nodes
        inside = shapely.intersects_xy(clip, nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
        keep_ids = nodes["id"].to_numpy()[inside]
        segs = segs[segs["u"].isin(keep_ids) & segs["v"].isin(keep_ids)]
    if clip_geom is not None and len(segs) == 0:
        raise NetworkError("the clip area holds no streets (empty clip area, or a boundary in the "
                           "wrong place/CRS) / 裁剪范围内没有道路", file=path)
    return StreetData(data.nodes, segs)


def assemble(data: StreetData, profile: dict, source: dict) -> StreetNetwork:
    """Apply the profile to the segments and build the projected network.

    Parameters
    ----------
    data
        Nodes and tagged segments (already clipped).
    profile
        From :func:`carecover.network.profiles.make_profile`.
    source
        Provenance (:func:`source_record`).

    Returns
    -------
    StreetNetwork
        In the UTM zone of the nodes' median; self-loops removed; the largest connected part
        only when ``profile["keep_largest"]`` (the default).

    Raises
    ------
    NetworkError
        When the profile leaves no street, or street nodes have no coordinates.
    """
    name = source.get("file", "network")
    segs = data.segments
    ok = profiles.usable(segs, profile)
    segs = segs.loc[ok].reset_index(drop=True)
    if len(segs) == 0:
        raise NetworkError(f"the '{profile['name']}' profile leaves no usable streets / "
                           f"按'{profile['name']}'规则没有可用道路", file=name)
    ids = sorted_unique(np.concatenate([segs["u"].to_numpy(np.int64), segs["v"].to_numpy(np.int64)]))
    nodes = data.nodes.drop_duplicates("id").set_index("id").reindex(ids)
    if nodes["lon"].isna().any():
        missing = int(nodes["lon"].isna().sum())
        raise NetworkError(f"{missing} street nodes have no coordinates (incomplete extract)", file=name)
    lon, lat = nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    a = np.searchsorted(ids, segs["u"].to_numpy(np.int64)).astype(np.int32)
    b = np.searchsorted(ids, segs["v"].to_numpy(np.int64)).astype(np.int32)
    length = np.hypot(x[b] - x[a], y[b] - y[a])
    fwd, rev = profiles.directions(segs, profile)
    net = StreetNetwork(
        crs=crs, node_x=np.asarray(x, float), node_y=np.asarray(y, float), node_id=ids,
        seg_a=a, seg_b=b, seg_len=length, seg_speed=profiles.speeds(segs, profile).astype(float),
        seg_fwd=fwd, seg_rev=rev,
        seg_highway=profiles.lower_text(segs["highway"]),
        profile=profile, source=source, **way_names(segs), seg_tags=mobility_tags(segs),
    )
    # self-loops and zero-length segments carry no travel
    net = subset_segments(net, a != b)
    if profile.get("keep_largest", True):
        net = keep_largest_component(net)
    return net


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` of integers by sorting: numpy 2.3+ finds the unique values of a
    plain ``np.unique`` call with a hash table, ~40× slower on a street network's node ids."""
    s = np.sort(values)
    return s[np.r_[True, s[1:] != s[:-1]]] if len(s) else s


def mobility_tags(segs) -> dict | None:
    """Lower-case mobility tags (:data:`~carecover.network.profiles.MOBILITY_TAGS`) per segment;
    ``bridge``/``tunnel`` kept as ``yes`` (on a bridge / in a tunnel: any value but those of
    :data:`~carecover.network.structures.NOT_A_STRUCTURE`), ``no`` (tagged so) or ``""``
    (untagged): three characters a segment, where ``building_passage`` took sixteen."""
    cols = [c for c in profiles.MOBILITY_TAGS if c in segs]
    if not cols:
        return None
    out = {c: profiles.lower_text(segs[c]) for c in cols}
    for c in profiles.STRUCTURE_TAGS:
        if c in out:
            v = out[c]
            out[c] = np.where(v == "", "", np.where(np.isin(v, list(NOT_A_STRUCTURE)), "no", "yes"))
    return out


def way_names(segs) -> dict:
    """``seg_name`` and ``name_table`` of the segments' ``name`` tags (see :class:`StreetNetwork`)."""
    if "name" not in segs:
        return {}
    names = segs["name"].where(segs["name"].map(lambda v: isinstance(v, str)), "").to_numpy(str)
    table, codes = np.unique(names, return_inverse=True)
    return {"seg_name": codes.astype(np.int32), "name_table": table}


def _take(net: StreetNetwork, segs: np.ndarray) -> dict:
    """Array fields of the network of segments ``segs`` (ascending), nodes renumbered in order."""
    k = len(segs)
    nodes, inv = np.unique(np.concatenate([net.seg_a[segs], net.seg_b[segs]]), return_inverse=True)
    return dict(
        crs=net.crs, node_x=net.node_x[nodes], node_y=net.node_y[nodes], node_id=net.node_id[nodes],
        seg_a=inv[:k].astype(np.int32), seg_b=inv[k:].astype(np.int32), seg_len=net.seg_len[segs],
        seg_speed=net.seg_speed[segs], seg_fwd=net.seg_fwd[segs], seg_rev=net.seg_rev[segs],
        seg_highway=net.seg_highway[segs], profile=net.profile,
        seg_name=None if net.seg_name is None else net.seg_name[segs], name_table=net.name_table,
        seg_slope_ab=None if net.seg_slope_ab is None else net.seg_slope_ab[segs],
        seg_slope_ba=None if net.seg_slope_ba is None else net.seg_slope_ba[segs],
        seg_tags=None if net.seg_tags is None else {k: v[segs] for k, v in net.seg_tags.items()})


def subset_segments(net: StreetNetwork, keep: np.ndarray) -> StreetNetwork:
    """The network of the kept segments, with the network's records.

    Parameters
    ----------
    net
        The network.
    keep
        Boolean mask over the segments.

    Returns
    -------
    StreetNetwork
        Only the nodes the kept segments use (in their original order); ``profile``,
        ``source``, ``dropped`` and ``dropped_segments`` carried over.
    """
    out = StreetNetwork(**_take(net, np.flatnonzero(keep)), source=net.source)
    out.dropped = dict(net.dropped)
    out.dropped_segments = net.dropped_segments
    return out


def window_network(net: StreetNetwork, segs: np.ndarray) -> StreetNetwork:
    """A routing window: the network of segments ``segs`` only, without the network's records.

    Parameters
    ----------
    net
        The network.
    segs
        Ascending segment indices (so every order-dependent step sees them in the same order
        as on the whole network).

    Returns
    -------
    StreetNetwork
        Segment ``i`` of the window is segment ``segs[i]`` of ``net``; no source or dropped parts.
    """
    return StreetNetwork(**_take(net, segs))


def keep_largest_component(net: StreetNetwork) -> StreetNetwork:
    """Keep the largest connected part (strongly connected for one-way-aware profiles).

    Parameters
    ----------
    net
        The network; when it is in one piece, it is returned itself with an empty
        ``dropped`` record.

    Returns
    -------
    StreetNetwork
        What is dropped is recorded in ``dropped`` and its segments in ``dropped_segments``.
    """
    connection = "weak" if net.profile.get("name") == "walk" else "strong"
    ncomp, labels = connected_components(net.csr(), directed=True, connection=connection)
    if ncomp <= 1:
        net.dropped = {"components": 0, "nodes": 0, "segments": 0, "length_km": 0.0}
        return net
    sizes = np.bincount(labels)
    big = int(np.argmax(sizes))
    keep = (labels[net.seg_a] == big) & (labels[net.seg_b] == big)
    gone = ~keep
    dropped_xy = np.column_stack([net.node_x[net.seg_a[gone]], net.node_y[net.seg_a[gone]],
                                  net.node_x[net.seg_b[gone]], net.node_y[net.seg_b[gone]]])
    info = {"components": int(ncomp - 1), "nodes": int(net.n_nodes - sizes[big]),
            "segments": int(gone.sum()), "length_km": round(float(net.seg_len[gone].sum()) / 1000, 3)}
    out = subset_segments(net, keep)
    out.dropped = info
    out.dropped_segments = dropped_xy
    return out

"""The street network as compact arrays: :class:`StreetNetwork` and its segment helpers.

The network is stored as straight *segments* between consecutive OSM way nodes (both pyrosm and
an unsimplified OSMnx graph give exactly these), so a point's position on a segment is a single
number and a segment cut at a travel-time threshold is a straight line: exact and vectorisable.

Building one from a file is :func:`carecover.network.load.load_network`; the steps live in
sibling modules (``profiles``, ``readers``, ``build``, ``cache``, ``download``). The names those
steps had when they all lived here are still importable from this module (see ``_MOVED``) so
that callers written against the single-module layout keep working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer


# eq=False: networks compare and hash by identity, so per-network memos (the spatial index of
# :mod:`carecover.network.spatial`) can key on the object; element-wise ``==`` between arrays
# was never a meaningful network comparison anyway.
@dataclass(eq=False)
class StreetNetwork:
    """A routable street network in a projected CRS.

    Attributes
    ----------
    crs
        Projected CRS (UTM zone of the study area) in which ``node_x``/``node_y`` are metres.
    node_x, node_y
        Node coordinates (float64, metres).
    node_id
        OSM node ids (int64).
    seg_a, seg_b
        Segment end nodes (int32 indices); the segment is drawn from ``a`` to ``b``.
    seg_len
        Segment length in metres (projected).
    seg_speed
        Travel speed on the segment in m/s.
    seg_fwd, seg_rev
        Whether travel ``a→b`` / ``b→a`` is allowed.
    seg_highway
        OSM highway class of the segment.
    profile
        Parameters of the profile that built the network (written into every output).
    source
        Where the network came from: file, sha256, clip, OSM replication timestamp.
    dropped
        What was removed when keeping the largest connected part.
    dropped_segments
        ``(k, 4)`` array of x0, y0, x1, y1 of removed segments (to tell users that a point lay
        on a disconnected piece).
    seg_name, name_table
        OSM ``name`` of each segment's way as an index (int32) into ``name_table`` (sorted
        unique names, ``""`` for unnamed); ``None`` when not recorded (networks built by code,
        cache entries written before names were kept). See :meth:`segment_names`.
    seg_slope_ab, seg_slope_ba
        Slope factors of a graded network (:mod:`carecover.network.mobility`): travel ``a→b``
        runs at ``seg_speed × seg_slope_ab``, ``b→a`` at ``seg_speed × seg_slope_ba``; access
        legs stay at ``seg_speed``. ``None`` (the default) on a flat network. The engine's
        node and point times (:func:`~carecover.network.engine.nearest`,
        :func:`~carecover.network.engine.point_times`) honour them.
    seg_tags
        Lower-case mobility way tags per segment (``kerb``, ``incline``, ``surface``,
        ``smoothness``, ``width``, ``wheelchair``, ``bridge``, ``tunnel``; ``""`` = untagged) as
        string arrays, or ``None`` when not recorded; ``bridge``/``tunnel`` are ``yes``/``no``/``""``
        and absent when the source could not say (unknown).
    """

    crs: CRS
    node_x: np.ndarray
    node_y: np.ndarray
    node_id: np.ndarray
    seg_a: np.ndarray
    seg_b: np.ndarray
    seg_len: np.ndarray
    seg_speed: np.ndarray
    seg_fwd: np.ndarray
    seg_rev: np.ndarray
    seg_highway: np.ndarray
    profile: dict
    source: dict = field(default_factory=dict)
    dropped: dict = field(default_factory=dict)
    dropped_segments: np.ndarray = field(default_factory=lambda: np.zeros((0, 4)))
    seg_name: np.ndarray | None = None
    name_table: np.ndarray | None = None
    seg_slope_ab: np.ndarray | None = None
    seg_slope_ba: np.ndarray | None = None
    seg_tags: dict | None = None

    def speed_ab(self, idx=None) -> np.ndarray:
        """Speed (m/s) of travel ``a→b`` on the given segments (all when ``None``)."""
        v = self.seg_speed if idx is None else self.seg_speed[idx]
        if self.seg_slope_ab is None:
            return v
        return v * (self.seg_slope_ab if idx is None else self.seg_slope_ab[idx])

    def speed_ba(self, idx=None) -> np.ndarray:
        """Speed (m/s) of travel ``b→a`` on the given segments (all when ``None``)."""
        v = self.seg_speed if idx is None else self.seg_speed[idx]
        if self.seg_slope_ba is None:
            return v
        return v * (self.seg_slope_ba if idx is None else self.seg_slope_ba[idx])

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_x)

    @property
    def n_segments(self) -> int:
        """Number of segments."""
        return len(self.seg_a)

    def segment_names(self, idx: np.ndarray | None = None) -> np.ndarray:
        """OSM ``name`` of the ways the given segments belong to.

        Parameters
        ----------
        idx
            Segment indices or mask; all segments when ``None``.

        Returns
        -------
        numpy.ndarray
            Strings, ``""`` where the way is unnamed or names were not recorded.
        """
        n = self.n_segments if idx is None else len(np.arange(self.n_segments)[idx])
        if self.seg_name is None or self.name_table is None:
            return np.full(n, "", dtype=object)
        codes = self.seg_name if idx is None else self.seg_name[idx]
        return self.name_table.astype(object)[codes]

    @property
    def seg_time(self) -> np.ndarray:
        """Seconds to traverse each segment."""
        return self.seg_len / self.seg_speed

    def directed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed edges.

        Returns
        -------
        (tail, head, time_s, segment index)
            Forward edges of all segments that allow ``a→b``, then reverse edges of those
            that allow ``b→a``.
        """
        idx = np.arange(self.n_segments)
        f, r = self.seg_fwd, self.seg_rev
        tail = np.concatenate([self.seg_a[f], self.seg_b[r]])
        head = np.concatenate([self.seg_b[f], self.seg_a[r]])
        seg = np.concatenate([idx[f], idx[r]])
        if self.seg_slope_ab is None and self.seg_slope_ba is None:
            return tail, head, self.seg_time[seg], seg
        w = np.concatenate([self.seg_len[f] / self.speed_ab(f), self.seg_len[r] / self.speed_ba(r)])
        return tail, head, w, seg

    def csr(self, extra_nodes: int = 0) -> sp.csr_matrix:
        """Travel-time matrix (seconds); parallel segments keep the fastest.

        Parameters
        ----------
        extra_nodes
            Empty rows/columns added after the network's nodes.

        Returns
        -------
        scipy.sparse.csr_matrix
            ``(n + extra_nodes) × (n + extra_nodes)``.
        """
        tail, head, w, _ = self.directed()
        return csr_min(tail, head, w, self.n_nodes + extra_nodes)

    def segment_lines(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Shapely LineStrings (projected) of the given segments.

        Parameters
        ----------
        idx
            Segment indices or mask; all segments when ``None``.

        Returns
        -------
        numpy.ndarray
            Object array of two-point LineStrings drawn ``a→b``.
        """
        a = self.seg_a if idx is None else self.seg_a[idx]
        b = self.seg_b if idx is None else self.seg_b[idx]
        return segment_linestrings(self.node_x[a], self.node_y[a], self.node_x[b], self.node_y[b])

    def to_wgs84(self) -> Transformer:
        """Transformer from the network's CRS to WGS-84.

        Returns
        -------
        pyproj.Transformer
            ``always_xy``: x, y in, lon, lat out.
        """
        return Transformer.from_crs(self.crs, 4326, always_xy=True)

    def from_wgs84(self) -> Transformer:
        """Transformer from WGS-84 to the network's CRS.

        Returns
        -------
        pyproj.Transformer
            ``always_xy``: lon, lat in, x, y out.
        """
        return Transformer.from_crs(4326, self.crs, always_xy=True)

    def project_lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat arrays to the network's projected x/y.

        Parameters
        ----------
        lon, lat
            Array-likes of degrees.

        Returns
        -------
        (x, y)
            Float arrays in metres (``net.crs``).
        """
        return self.from_wgs84().transform(np.asarray(lon, float), np.asarray(lat, float))

    def summary(self) -> dict:
        """Description of the network for summary.json.

        Returns
        -------
        dict
            JSON-serialisable: profile, source, CRS, sizes, length, dropped parts.
        """
        return {
            "profile": self.profile,
            "source": self.source,
            "crs": self.crs.to_string(),
            "nodes": int(self.n_nodes),
            "segments": int(self.n_segments),
            "length_km": round(float(self.seg_len.sum()) / 1000, 3),
            "dropped": self.dropped,
        }


def segment_linestrings(x0, y0, x1, y1) -> np.ndarray:
    """Two-point LineStrings from end coordinates (vectorised).

    Parameters
    ----------
    x0, y0, x1, y1
        Arrays of equal length: start and end of each segment.

    Returns
    -------
    numpy.ndarray
        Object array of shapely LineStrings.
    """
    start = np.column_stack([x0, y0])
    end = np.column_stack([x1, y1])
    return shapely.linestrings(np.stack([start, end], axis=1))


def project_onto_segments(net: StreetNetwork, seg: np.ndarray, x: np.ndarray,
                          y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exact perpendicular projection of points onto given segments.

    Parameters
    ----------
    net
        The network.
    seg
        Segment index per point (or one point broadcast against many segments).
    x, y
        Projected point coordinates.

    Returns
    -------
    (frac, dist)
        Position along ``a→b`` clipped to 0..1, and the distance in metres from the point to
        that position.
    """
    a, b = net.seg_a[seg], net.seg_b[seg]
    ax, ay = net.node_x[a], net.node_y[a]
    dx, dy = net.node_x[b] - ax, net.node_y[b] - ay
    l2 = dx * dx + dy * dy
    t = ((x - ax) * dx + (y - ay) * dy) / np.where(l2 > 0, l2, 1.0)
    frac = np.clip(t, 0.0, 1.0)
    return frac, np.hypot(x - (ax + frac * dx), y - (ay + frac * dy))


def csr_min(tail: np.ndarray, head: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    # coo->csr would *sum* duplicate (tail, head) pairs; keep the minimum instead. One stable
    # sort on a combined (tail, head) key and a minimum per run of equal keys: the arrays of a
    # three-key lexsort keeping the first of each pair, in about a third of its time.
    key = np.asarray(tail, np.int64) * n + np.asarray(head, np.int64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    starts = np.flatnonzero(first)
    w = np.asarray(w)[order]
    w_min = np.minimum.reduceat(w, starts) if len(w) else w
    pairs = key[starts]
    return sp.csr_matrix((w_min, (pairs // n, pairs % n)), shape=(n, n))


# ----------------------------------------------------------------------------- moved names

#: Names that lived in this module before the split: name -> (module, name there).
_MOVED = {
    **{n: ("carecover.network.profiles", n) for n in (
        "make_profile", "parse_maxspeed", "WALK_EXCLUDE", "FOOT_YES", "DRIVE_SERVICE_EXCLUDE",
        "NO_ACCESS", "TAG_COLUMNS")},
    "_lower": ("carecover.network.profiles", "lower"),
    "_usable": ("carecover.network.profiles", "usable"),
    "_direction": ("carecover.network.profiles", "directions"),
    "_speeds": ("carecover.network.profiles", "speeds"),
    "load_network": ("carecover.network.load", "load_network"),
    "keep_largest_component": ("carecover.network.build", "keep_largest_component"),
    "utm_crs": ("carecover.network.build", "utm_crs"),
    "_subset_segments": ("carecover.network.build", "subset_segments"),
    "CACHE_VERSION": ("carecover.network.cache", "CACHE_VERSION"),
    "_save": ("carecover.network.cache", "save"),
    "_load": ("carecover.network.cache", "load"),
    "download_osmnx": ("carecover.network.download", "download_osmnx"),
    "graph_from_osmnx": ("carecover.network.download", "graph_from_osmnx"),
    "save_osmnx_xml": ("carecover.network.readers.osmxml", "save_osmnx_xml"),
    "_osmnx_raw": ("carecover.network.readers.osmxml", "osmnx_raw"),
    "InputError": ("carecover.errors", "InputError"),
    "NetworkError": ("carecover.errors", "NetworkError"),
}


def __getattr__(name: str):
    # resolved on first use: the modules holding these names import this one
    if name in _MOVED:
        module, attr = _MOVED[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MOVED))

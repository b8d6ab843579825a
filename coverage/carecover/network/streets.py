"""Street networks from OpenStreetMap as compact arrays.

The network is stored as straight *segments* between consecutive OSM way nodes (both pyrosm and
an unsimplified OSMnx graph give exactly these), so a point's position on a segment is a single
number and a segment cut at a travel-time threshold is a straight line: exact and vectorisable.

Profiles decide which ways are usable and how fast:

* ``walk`` — footways, paths, steps, pedestrian and living streets and all roads except motorways;
  ``foot=no`` and ``access=no|private`` (without a ``foot`` permission) excluded; one-way tags
  ignored (pedestrians may walk both ways); one speed for all segments.
* ``drive`` — roads by class; ``maxspeed`` where tagged, class defaults otherwise
  (``settings.drive_speeds_kph``); one-ways respected (``oneway=yes|true|1|-1|reverse``,
  roundabouts, motorways).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from pyproj import CRS, Transformer
from scipy.sparse.csgraph import connected_components

from carecover import settings
from carecover.errors import InputError, NetworkError
from carecover.network.osmfile import check_osm_xml, check_pbf
from carecover.utils import atomic_write, file_sha256, log

CACHE_VERSION = 5  # 5: OSM XML read with raw oneway tags; 4: PBF clip keeps only segments with both ends inside

WALK_EXCLUDE = {
    "motorway", "motorway_link", "construction", "proposed", "abandoned", "platform", "raceway",
    "bus_guideway", "razed", "planned", "no", "escape", "elevator", "disused", "rest_area",
    "services",
}
FOOT_YES = {"yes", "designated", "permissive", "official"}
DRIVE_SERVICE_EXCLUDE = {"parking", "parking_aisle", "driveway", "private", "emergency_access"}
NO_ACCESS = {"no", "private"}

TAG_COLUMNS = ["highway", "oneway", "foot", "access", "area", "service", "junction", "maxspeed",
               "motor_vehicle", "motorcar", "name"]


@dataclass
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

    @property
    def n_nodes(self) -> int:
        return len(self.node_x)

    @property
    def n_segments(self) -> int:
        return len(self.seg_a)

    @property
    def seg_time(self) -> np.ndarray:
        """Seconds to traverse each segment."""
        return self.seg_len / self.seg_speed

    def directed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Directed edges ``(tail, head, time_s, segment index)``."""
        idx = np.arange(self.n_segments)
        f, r = self.seg_fwd, self.seg_rev
        tail = np.concatenate([self.seg_a[f], self.seg_b[r]])
        head = np.concatenate([self.seg_b[f], self.seg_a[r]])
        seg = np.concatenate([idx[f], idx[r]])
        return tail, head, self.seg_time[seg], seg

    def csr(self, extra_nodes: int = 0) -> sp.csr_matrix:
        """Travel-time matrix (n × n, seconds); parallel segments keep the fastest."""
        tail, head, w, _ = self.directed()
        return _csr_min(tail, head, w, self.n_nodes + extra_nodes)

    def segment_lines(self, idx: np.ndarray | None = None) -> np.ndarray:
        """Shapely LineStrings (projected) of the given segments (all by default)."""
        a = self.seg_a if idx is None else self.seg_a[idx]
        b = self.seg_b if idx is None else self.seg_b[idx]
        coords = np.stack([np.column_stack([self.node_x[a], self.node_y[a]]),
                           np.column_stack([self.node_x[b], self.node_y[b]])], axis=1)
        return shapely.linestrings(coords)

    def to_wgs84(self) -> Transformer:
        return Transformer.from_crs(self.crs, 4326, always_xy=True)

    def from_wgs84(self) -> Transformer:
        return Transformer.from_crs(4326, self.crs, always_xy=True)

    def project_lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat arrays to the network's projected x/y."""
        return self.from_wgs84().transform(np.asarray(lon, float), np.asarray(lat, float))

    def summary(self) -> dict:
        """JSON-serialisable description for summary.json."""
        return {
            "profile": self.profile,
            "source": self.source,
            "crs": self.crs.to_string(),
            "nodes": int(self.n_nodes),
            "segments": int(self.n_segments),
            "length_km": round(float(self.seg_len.sum()) / 1000, 3),
            "dropped": self.dropped,
        }


def _csr_min(tail: np.ndarray, head: np.ndarray, w: np.ndarray, n: int) -> sp.csr_matrix:
    # coo->csr would *sum* duplicate (tail, head) pairs; keep the minimum instead.
    order = np.lexsort((w, head, tail))
    tail, head, w = tail[order], head[order], w[order]
    keep = np.ones(len(tail), bool)
    keep[1:] = (tail[1:] != tail[:-1]) | (head[1:] != head[:-1])
    return sp.csr_matrix((w[keep], (tail[keep], head[keep])), shape=(n, n))


# ----------------------------------------------------------------------------- profiles

def make_profile(name: str = "walk", *, walk_speed_mps: float | None = None,
                 drive_speeds_kph: dict[str, float] | None = None,
                 keep_largest: bool = True) -> dict:
    """Profile parameters (a plain dict, written into outputs).

    Parameters
    ----------
    name
        ``"walk"`` or ``"drive"``.
    walk_speed_mps
        Walking speed; default ``settings.walk_speed_mps``.
    drive_speeds_kph
        Speeds by highway class overriding ``settings.drive_speeds_kph``.
    keep_largest
        Keep only the largest connected part (strongly connected for drive).
    """
    if name == "walk":
        speed = float(walk_speed_mps if walk_speed_mps is not None else settings.walk_speed_mps)
        if not speed > 0:
            raise InputError(f"walking speed must be positive, got {speed}", field="walk_speed_mps")
        return {"name": "walk", "speed_mps": speed, "oneway": "ignored",
                "excluded_highways": sorted(WALK_EXCLUDE), "keep_largest": keep_largest,
                "access": "foot=no and access=no|private (without foot permission) excluded"}
    if name == "drive":
        speeds = dict(settings.drive_speeds_kph)
        speeds.update(drive_speeds_kph or {})
        return {"name": "drive", "speeds_kph": speeds, "default_kph": settings.drive_default_kph,
                "maxspeed": "used where tagged", "oneway": "respected", "keep_largest": keep_largest,
                "access": "motor_vehicle/motorcar=no, access=no|private, parking/driveway services excluded"}
    raise InputError(f"unknown profile '{name}'", field="profile", expected="walk or drive")


def _lower(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip().str.lower()


def _usable(tags: pd.DataFrame, profile: dict) -> np.ndarray:
    hw = _lower(tags["highway"]).fillna("")
    foot = _lower(tags["foot"]).fillna("")
    access = _lower(tags["access"]).fillna("")
    area = _lower(tags["area"]).fillna("")
    service = _lower(tags["service"]).fillna("")
    ok = (hw != "") & (area != "yes")
    if profile["name"] == "walk":
        ok &= ~hw.isin(WALK_EXCLUDE) & (foot != "no") & (service != "private")
        ok &= ~(access.isin(NO_ACCESS) & ~foot.isin(FOOT_YES))
        ok &= (hw != "cycleway") | foot.isin(FOOT_YES)
    else:
        mv = _lower(tags["motor_vehicle"]).fillna("")
        mc = _lower(tags["motorcar"]).fillna("")
        ok &= hw.isin(profile["speeds_kph"].keys()) & ~service.isin(DRIVE_SERVICE_EXCLUDE)
        ok &= (mv != "no") & (mc != "no")
        ok &= ~(access.isin(NO_ACCESS) & ~mv.isin(FOOT_YES) & ~mc.isin(FOOT_YES))
    return ok.to_numpy(bool)


_NUM = re.compile(r"(\d+(?:\.\d+)?)")


def parse_maxspeed(values: pd.Series) -> np.ndarray:
    """Km/h from OSM ``maxspeed`` strings (``"50"``, ``"30 mph"``, ``"50;40"``); NaN if none."""
    s = _lower(values).fillna("")
    num = s.str.extract(_NUM, expand=False).astype(float)
    num = np.where(s.str.contains("mph"), num * 1.609344, num)
    num = np.where(s == "walk", 5.0, num)
    return np.where(np.asarray(num, float) > 0, num, np.nan)


def _direction(tags: pd.DataFrame, profile: dict) -> tuple[np.ndarray, np.ndarray]:
    n = len(tags)
    if profile["name"] == "walk":
        return np.ones(n, bool), np.ones(n, bool)
    ow = _lower(tags["oneway"]).fillna("")
    hw = _lower(tags["highway"]).fillna("")
    junction = _lower(tags["junction"]).fillna("")
    fwd_only = ow.isin({"yes", "true", "1"}) | (
        (ow == "") & (junction.isin({"roundabout", "circular"}) | hw.isin({"motorway"})))
    rev_only = ow.isin({"-1", "reverse"})
    fwd = (~rev_only).to_numpy(bool)
    rev = (~fwd_only).to_numpy(bool)
    return fwd, rev


def _speeds(tags: pd.DataFrame, profile: dict) -> np.ndarray:
    if profile["name"] == "walk":
        return np.full(len(tags), profile["speed_mps"])
    hw = _lower(tags["highway"]).fillna("")
    kph = hw.map(profile["speeds_kph"]).astype(float).fillna(profile["default_kph"]).to_numpy()
    tagged = parse_maxspeed(tags["maxspeed"])
    kph = np.where(np.isfinite(tagged), tagged, kph)
    return kph / 3.6


# ----------------------------------------------------------------------------- readers

def _read_boundary(boundary) -> shapely.Geometry | None:
    """Boundary as one WGS-84 polygon (the one boundary reader: :mod:`carecover.inputs.boundaries`)."""
    from carecover.inputs.boundaries import boundary_geometry

    return boundary_geometry(boundary)


def _tags_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    for col in TAG_COLUMNS:
        out[col] = df[col].astype(object) if col in df.columns else None
    return out


def _read_pbf(path: Path, clip) -> tuple[pd.DataFrame, pd.DataFrame]:
    import pyrosm

    osm = pyrosm.OSM(str(path), bounding_box=clip)
    try:
        nodes, edges = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:
        raise NetworkError(f"cannot read streets from OSM file: {exc}", file=path) from exc
    if edges is None or nodes is None or len(edges) == 0:
        raise NetworkError("no streets (highway ways) in the OSM data for this area / 该范围内没有道路",
                           file=path)
    seg = _tags_frame(edges)
    seg["u"] = edges["u"].to_numpy(np.int64)
    seg["v"] = edges["v"].to_numpy(np.int64)
    nd = pd.DataFrame({"id": nodes["id"].to_numpy(np.int64), "lon": nodes["lon"].to_numpy(float),
                       "lat": nodes["lat"].to_numpy(float)})
    return nd, seg


def _read_osmnx_graph(G) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Segments from an unsimplified OSMnx graph built with ``settings.all_oneway = True``.

    In that mode OSMnx adds every way once, in its drawn direction, and keeps the raw ``oneway``
    tag, so each edge is one segment with its tags as in the PBF path.
    """
    nd = pd.DataFrame([(n, d["x"], d["y"]) for n, d in G.nodes(data=True)], columns=["id", "lon", "lat"])
    rows = []
    seen = set()
    for u, v, d in G.edges(data=True):
        key = (u, v, str(d.get("osmid")))
        if key in seen:
            continue
        seen.add(key)
        row = {c: d.get(c) for c in TAG_COLUMNS}
        for c, val in row.items():
            if isinstance(val, list):
                row[c] = val[0]
        if isinstance(row["oneway"], bool):  # a graph built without all_oneway
            row["oneway"] = "yes" if row["oneway"] else ""
        elif str(row["oneway"]).strip().lower() in ("-1", "reverse"):
            row["oneway"] = "yes"  # OSMnx already reversed the way's nodes: u→v is the travel direction
        row["u"], row["v"] = u, v
        rows.append(row)
    seg = pd.DataFrame(rows, columns=TAG_COLUMNS + ["u", "v"])
    return nd, seg


class _osmnx_raw:
    """Context: OSMnx keeps our tags and each way once, as drawn, with its raw oneway tag."""

    def __enter__(self):
        import osmnx as ox

        self.saved = (list(ox.settings.useful_tags_way), ox.settings.all_oneway)
        ox.settings.useful_tags_way = sorted(set(ox.settings.useful_tags_way) | set(TAG_COLUMNS))
        ox.settings.all_oneway = True
        return ox

    def __exit__(self, *exc):
        import osmnx as ox

        ox.settings.useful_tags_way, ox.settings.all_oneway = self.saved
        return False


def _read_xml(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    import warnings

    with _osmnx_raw() as ox, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*generated by OSMnx.*")
        try:
            G = ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
        except Exception as exc:
            raise NetworkError(f"cannot read OSM XML: {exc}", file=path) from exc
    if G.number_of_edges() == 0:
        raise NetworkError("no streets (highway ways) in the OSM file / 文件中没有道路", file=path)
    return _read_osmnx_graph(G)


def graph_from_osmnx(query, *, by: str = "place", profile: dict | None = None) -> StreetNetwork:
    """Download a network online through OSMnx (place name, polygon or bbox).

    Parameters
    ----------
    query
        Place name (``by="place"``), a WGS-84 shapely polygon (``"polygon"``) or a bbox tuple
        ``(left, bottom, right, top)`` (``"bbox"``).
    """
    kw = dict(network_type="all", simplify=False, retain_all=True)
    with _osmnx_raw() as ox:
        G = {"place": ox.graph_from_place, "polygon": ox.graph_from_polygon,
             "bbox": ox.graph_from_bbox}[by](query, **kw)
    nodes, segs = _read_osmnx_graph(G)
    return _assemble(nodes, segs, profile or make_profile("walk"),
                     {"online": f"OSMnx {by}: {query}", "osmnx": ox.__version__})


def save_osmnx_xml(G, path: str | Path) -> Path:
    """Write an unsimplified OSMnx graph as OSM XML (atomically), for offline runs afterwards."""
    import warnings

    from carecover.utils import atomic_path

    path = Path(path)
    G = G.copy()
    for _, _, d in G.edges(data=True):
        # OSMnx has already reversed the nodes of oneway=-1 ways; say so, or a reload reverses again
        if str(d.get("oneway", "")).strip().lower() in ("-1", "reverse"):
            d["oneway"] = "yes"
    with atomic_path(path) as tmp, _osmnx_raw() as ox, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*all_oneway.*")
        ox.io.save_graph_xml(G, tmp)
    return path


def download_osmnx(query, out: str | Path, *, by: str = "place") -> Path:
    """Download all streets of an area online through OSMnx/Overpass and save them as ``.osm``.

    Parameters
    ----------
    query
        Place name (``by="place"``), WGS-84 shapely polygon (``"polygon"``) or
        ``(left, bottom, right, top)`` (``"bbox"``).
    out
        The ``.osm`` file to write; ``load_network(out, ...)`` then reads it offline.
    """
    kw = dict(network_type="all", simplify=False, retain_all=True)
    try:
        with _osmnx_raw() as ox:
            G = {"place": ox.graph_from_place, "polygon": ox.graph_from_polygon,
                 "bbox": ox.graph_from_bbox}[by](query, **kw)
    except Exception as exc:  # network errors and empty results come in several types
        raise NetworkError(f"OSMnx download failed ({by}: {query}): {exc} / 在线下载路网失败",
                           field=by) from exc
    return save_osmnx_xml(G, out)


# ----------------------------------------------------------------------------- assembly

def utm_crs(lon: float, lat: float) -> CRS:
    """UTM zone CRS for a WGS-84 point."""
    zone = int((lon + 180) // 6) + 1
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _assemble(nodes: pd.DataFrame, segs: pd.DataFrame, profile: dict, source: dict,
              clip_geom=None) -> StreetNetwork:
    name = source.get("file", "network")
    ok = _usable(segs, profile)
    segs = segs.loc[ok].reset_index(drop=True)
    if len(segs) == 0:
        raise NetworkError(f"the '{profile['name']}' profile leaves no usable streets / "
                           f"按'{profile['name']}'规则没有可用道路", file=name)
    ids = np.unique(np.concatenate([segs["u"].to_numpy(np.int64), segs["v"].to_numpy(np.int64)]))
    nodes = nodes.drop_duplicates("id").set_index("id").reindex(ids)
    if nodes["lon"].isna().any():
        missing = int(nodes["lon"].isna().sum())
        raise NetworkError(f"{missing} street nodes have no coordinates (incomplete extract)", file=name)
    lon, lat = nodes["lon"].to_numpy(float), nodes["lat"].to_numpy(float)
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(lon, lat)
    a = np.searchsorted(ids, segs["u"].to_numpy(np.int64)).astype(np.int32)
    b = np.searchsorted(ids, segs["v"].to_numpy(np.int64)).astype(np.int32)
    length = np.hypot(x[b] - x[a], y[b] - y[a])
    fwd, rev = _direction(segs, profile)
    net = StreetNetwork(
        crs=crs, node_x=np.asarray(x, float), node_y=np.asarray(y, float), node_id=ids,
        seg_a=a, seg_b=b, seg_len=length, seg_speed=_speeds(segs, profile).astype(float),
        seg_fwd=fwd, seg_rev=rev,
        seg_highway=_lower(segs["highway"]).fillna("").to_numpy(str),
        profile=profile, source=source,
    )
    # self-loops and zero-length segments carry no travel
    keep = (a != b)
    net = _subset_segments(net, keep)
    if profile.get("keep_largest", True):
        net = keep_largest_component(net)
    return net


def _subset_segments(net: StreetNetwork, keep: np.ndarray) -> StreetNetwork:
    used = np.unique(np.concatenate([net.seg_a[keep], net.seg_b[keep]]))
    remap = np.full(net.n_nodes, -1, np.int64)
    remap[used] = np.arange(len(used))
    return StreetNetwork(
        crs=net.crs, node_x=net.node_x[used], node_y=net.node_y[used], node_id=net.node_id[used],
        seg_a=remap[net.seg_a[keep]].astype(np.int32), seg_b=remap[net.seg_b[keep]].astype(np.int32),
        seg_len=net.seg_len[keep], seg_speed=net.seg_speed[keep], seg_fwd=net.seg_fwd[keep],
        seg_rev=net.seg_rev[keep], seg_highway=net.seg_highway[keep], profile=net.profile,
        source=net.source, dropped=dict(net.dropped), dropped_segments=net.dropped_segments,
    )


def keep_largest_component(net: StreetNetwork) -> StreetNetwork:
    """Keep the largest connected part (strongly connected for one-way-aware profiles).

    What is dropped is recorded in ``net.dropped`` and its segments in ``net.dropped_segments``.
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
    out = _subset_segments(net, keep)
    out.dropped = info
    out.dropped_segments = dropped_xy
    return out


def _cache_key(path: Path, digest: str, profile: dict, clip_geom) -> str:
    clip = shapely.to_wkb(shapely.normalize(clip_geom), hex=True) if clip_geom is not None else ""
    blob = json.dumps({"v": CACHE_VERSION, "sha": digest, "profile": profile, "clip": clip},
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _save(net: StreetNetwork, path: Path) -> None:
    meta = {"crs": net.crs.to_wkt(), "profile": net.profile, "source": net.source,
            "dropped": net.dropped}
    with atomic_write(path, "wb") as fh:
        np.savez(fh, node_x=net.node_x, node_y=net.node_y, node_id=net.node_id, seg_a=net.seg_a,
                 seg_b=net.seg_b, seg_len=net.seg_len, seg_speed=net.seg_speed, seg_fwd=net.seg_fwd,
                 seg_rev=net.seg_rev, seg_highway=net.seg_highway.astype("U"),
                 dropped_segments=net.dropped_segments, meta=np.array(json.dumps(meta)))


def _load(path: Path) -> StreetNetwork:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        return StreetNetwork(
            crs=CRS.from_wkt(meta["crs"]), node_x=z["node_x"], node_y=z["node_y"],
            node_id=z["node_id"], seg_a=z["seg_a"], seg_b=z["seg_b"], seg_len=z["seg_len"],
            seg_speed=z["seg_speed"], seg_fwd=z["seg_fwd"], seg_rev=z["seg_rev"],
            seg_highway=z["seg_highway"], profile=meta["profile"], source=meta["source"],
            dropped=meta["dropped"], dropped_segments=z["dropped_segments"])


def load_network(path: str | Path, profile: dict | str = "walk", *, boundary=None,
                 cache: bool | str | Path = True) -> StreetNetwork:
    """Build (or load from cache) a street network from a local OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or ``.osm`` / ``.osm.xml`` (read with OSMnx).
    profile
        A dict from :func:`make_profile` or a profile name.
    boundary
        Clip area: a polygon file (GeoJSON/GPKG/Shapefile with its CRS), a GeoDataFrame, a
        WGS-84 shapely geometry, or a ``(minx, miny, maxx, maxy)`` WGS-84 bbox.
    cache
        ``True`` for ``settings.cache_dir``, a directory, or ``False``. The key is the file's
        SHA-256 + profile + clip, so the second run on the same city reads arrays from disk.

    Returns
    -------
    StreetNetwork
    """
    path = Path(path)
    prof = make_profile(profile) if isinstance(profile, str) else profile
    name = path.name.lower()
    is_pbf = name.endswith(".pbf")
    if not (is_pbf or name.endswith(".osm") or name.endswith(".xml")):
        raise NetworkError("unsupported network file type", file=path,
                           expected=".osm.pbf, .osm or .osm.xml")
    header = check_pbf(path) if is_pbf else check_osm_xml(path)
    clip_geom = _read_boundary(boundary)
    digest = file_sha256(path)
    cache_file = None
    if cache:
        cdir = settings.cache_dir if cache is True else Path(cache)
        cache_file = cdir / "networks" / f"{path.stem}-{prof['name']}-{_cache_key(path, digest, prof, clip_geom)}.npz"
        if cache_file.exists():
            try:
                net = _load(cache_file)
                net.source = dict(net.source, cache=str(cache_file), from_cache=True)
                return net
            except Exception:  # unreadable cache: rebuild it
                cache_file.unlink(missing_ok=True)
    log(f"构建路网 / building {prof['name']} network from {path.name} …")
    clip = clip_geom
    if clip is not None and clip.geom_type == "GeometryCollection":
        clip = shapely.union_all([g for g in clip.geoms if g.geom_type.endswith("Polygon")])
    if is_pbf:
        nodes, segs = _read_pbf(path, clip)
    else:
        nodes, segs = _read_xml(path)
    source = {"file": str(path), "sha256": digest, "bytes": header["bytes"],
              "replication_timestamp": header.get("replication_timestamp"),
              "clip": None if clip_geom is None else [round(v, 6) for v in clip_geom.bounds]}
    if clip is not None:
        # pyrosm keeps whole ways that cross the clip edge: keep segments with both ends inside,
        # as for OSM XML
        inside = shapely.intersects_xy(clip, nodes["lon"].to_numpy(), nodes["lat"].to_numpy())
        keep_ids = nodes["id"].to_numpy()[inside]
        segs = segs[segs["u"].isin(keep_ids) & segs["v"].isin(keep_ids)]
    if clip_geom is not None and len(segs) == 0:
        raise NetworkError("the clip area holds no streets (empty clip area, or a boundary in the "
                           "wrong place/CRS) / 裁剪范围内没有道路", file=path)
    net = _assemble(nodes, segs, prof, source, clip_geom)
    if cache_file is not None:
        _save(net, cache_file)
        net.source = dict(net.source, cache=str(cache_file), from_cache=False)
    return net

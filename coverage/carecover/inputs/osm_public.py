"""Public facilities a care centre could share a building with (一老一小): schools, kindergartens,
clinics, community and cultural centres, read from the OSM file the run already reads.

公共服务设施（学校、幼儿园、诊所、社区中心、文化设施……），用于“一老一小”综合体的候选站点。

Every kind and the OSM tags that make a feature of that kind are in one table, :data:`KINDS`
(Chinese and English names). Points and polygons (ways, multipolygon relations) tagged
``amenity``/``building``/``healthcare`` with one of those values are read: ``.osm.pbf`` with
pyrosm, OSM XML with OSMnx (as :mod:`carecover.inputs.osm_facilities` reads them). A building
matched only by its ``building`` tag that stands inside a feature of the same kind matched by
``amenity``/``healthcare`` (a school's library inside the school's grounds) is part of that
feature and left out. A polygon's entrance is an ``entrance=*`` node on its outline
(``entrance=main`` first, then the lowest id).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.errors import InputError

__all__ = ["KINDS", "Kind", "parse_kinds", "read_public_facilities"]


@dataclass(frozen=True)
class Kind:
    """One kind of public facility and the OSM tags that make it.

    Attributes
    ----------
    key
        The kind's key (``school``), as ``--candidates-from-osm`` names it.
    zh, en
        Chinese and English names (``学校`` / ``school``); the Chinese name is accepted as a key too.
    tags
        ``(key, value)`` OSM tag pairs, any of which makes a feature of this kind.
    """

    key: str
    zh: str
    en: str
    tags: tuple[tuple[str, str], ...]


#: Every kind of public facility and its OSM tags (the one table; the first kind that matches wins).
KINDS: dict[str, Kind] = {k.key: k for k in (
    Kind("kindergarten", "幼儿园", "kindergarten",
         (("amenity", "kindergarten"), ("amenity", "childcare"), ("building", "kindergarten"))),
    Kind("school", "学校", "school", (("amenity", "school"), ("building", "school"))),
    Kind("clinic", "诊所/卫生服务中心", "clinic",
         (("amenity", "clinic"), ("amenity", "doctors"), ("healthcare", "clinic"), ("healthcare", "doctor"),
          ("healthcare", "centre"))),
    Kind("hospital", "医院", "hospital", (("amenity", "hospital"), ("healthcare", "hospital"),
                                         ("building", "hospital"))),
    Kind("community_centre", "社区中心", "community centre",
         (("amenity", "community_centre"), ("building", "civic"))),
    Kind("library", "图书馆", "library", (("amenity", "library"),)),
    Kind("arts_centre", "文化活动中心", "arts centre", (("amenity", "arts_centre"),)),
)}

#: Entrance values preferred, in order (any other ``entrance=*`` value comes after).
_ENTRANCE_ORDER = ("main", "yes")


def parse_kinds(text: str | list | tuple, field: str = "--candidates-from-osm") -> tuple[str, ...]:
    """Kind keys from ``"school,clinic"`` (English keys or Chinese names), in table order.

    Raises
    ------
    InputError
        An unknown kind, naming the valid ones.
    """
    items = text.split(",") if isinstance(text, str) else list(text)
    by_zh = {k.zh: k.key for k in KINDS.values()}
    out = set()
    for raw in items:
        item = str(raw).strip()
        if not item:
            continue
        key = item if item in KINDS else by_zh.get(item, item.lower().replace(" ", "_"))
        if key not in KINDS:
            raise InputError(f"未知公共设施类型 / unknown facility kind {item!r}", field=field,
                             expected=", ".join(f"{k.key} ({k.zh})" for k in KINDS.values()))
        out.add(key)
    if not out:
        raise InputError("未给出公共设施类型 / no facility kind given", field=field,
                         expected=", ".join(KINDS))
    return tuple(k for k in KINDS if k in out)


def _filter(kinds: tuple[str, ...]) -> dict[str, list[str]]:
    """``{tag key: [values]}`` of the kinds (the reader's filter)."""
    out: dict[str, list[str]] = {}
    for k in kinds:
        for key, value in KINDS[k].tags:
            out.setdefault(key, [])
            if value not in out[key]:
                out[key].append(value)
    return out


def _read_pbf(path: Path, filt: dict[str, list[str]]) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    import pyrosm

    osm = pyrosm.OSM(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm warns when nothing matches
        feats = osm.get_data_by_custom_criteria(custom_filter=filt, filter_type="keep", keep_nodes=True,
                                                keep_ways=True, keep_relations=True)
        ents = osm.get_data_by_custom_criteria(custom_filter={"entrance": True}, filter_type="keep",
                                               keep_nodes=True, keep_ways=False, keep_relations=False)
    feats = None if feats is None or not len(feats) else feats.rename(columns={"osm_type": "element"})
    ents = None if ents is None or not len(ents) else ents.rename(columns={"osm_type": "element"})
    return feats, ents


def _read_xml(path: Path, filt: dict[str, list[str]]) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    import osmnx as ox

    def one(tags: dict) -> gpd.GeoDataFrame | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ox.features_from_xml(path, tags=tags).reset_index()
        except ox._errors.InsufficientResponseError:
            return None

    ents = one({"entrance": True})
    if ents is not None:
        ents = ents[ents["element"] == "node"]
    return one(filt), ents


def _read(path: Path, filt: dict[str, list[str]]) -> tuple[gpd.GeoDataFrame | None, gpd.GeoDataFrame | None]:
    if not path.exists():
        raise InputError("文件不存在 / file not found", file=path)
    name = path.name.lower()
    try:
        if name.endswith(".pbf"):
            return _read_pbf(path, filt)
        if name.endswith((".osm", ".xml", ".osm.gz", ".osm.bz2")):
            return _read_xml(path, filt)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyrosm/osmnx raise many types on a broken file
        raise InputError(f"无法读取 OSM 公共设施 / cannot read OSM public facilities: {exc}", file=path) from None
    raise InputError("不支持的 OSM 文件类型 / unsupported OSM file type", file=path,
                     expected=".osm.pbf, .osm or .xml")


def _kind_of(row: pd.Series, kinds: tuple[str, ...]) -> tuple[str, str] | None:
    """``(kind, tag that matched)`` of a feature, the first kind of the table that matches."""
    for k in kinds:
        for key, value in KINDS[k].tags:
            if str(row.get(key) or "").strip() == value:
                return k, f"{key}={value}"
    return None


def _text(row: pd.Series, *keys: str) -> str:
    for k in keys:
        v = row.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip()
    return ""


def _entrance(geom, ents: gpd.GeoDataFrame | None, tree) -> tuple[float, float] | None:
    """The entrance node on a polygon's outline (``main`` first, then the lowest id)."""
    if ents is None or tree is None or geom.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    hits = tree.query(geom.boundary, predicate="dwithin", distance=1e-7)  # ~1 cm in degrees
    if not len(hits):
        return None
    sub = ents.iloc[np.sort(hits)]
    rank = sub["entrance"].astype(str).map(lambda v: _ENTRANCE_ORDER.index(v) if v in _ENTRANCE_ORDER else 9)
    best = sub.assign(_r=rank.to_numpy()).sort_values(["_r", "id"], kind="stable").iloc[0]
    return float(best.geometry.x), float(best.geometry.y)


def _records(raw: gpd.GeoDataFrame, ents: gpd.GeoDataFrame | None, kinds: tuple[str, ...]) -> pd.DataFrame:
    tree = shapely.STRtree(ents.geometry.values) if ents is not None and len(ents) else None
    recs = []
    for _, r in raw.iterrows():
        geom = r.geometry
        cls = _kind_of(r, kinds)
        if cls is None or geom is None or geom.is_empty:
            continue
        ent = _entrance(geom, ents, tree)
        recs.append({"kind": cls[0], "tag": cls[1], "element": str(r.get("element") or "node"), "id": int(r["id"]),
                     "name": _text(r, "name:zh", "name"), "name_en": _text(r, "name:en", "name"),
                     "entrance": ent is not None, "geometry": geom,
                     "lon": ent[0] if ent else np.nan, "lat": ent[1] if ent else np.nan})
    return pd.DataFrame(recs)


def _drop_parts(df: pd.DataFrame) -> pd.DataFrame:
    """Buildings matched by ``building=*`` alone inside a same-kind feature matched otherwise."""
    if df.empty:
        return df
    by_building = df["tag"].str.startswith("building=").to_numpy()
    drop = np.zeros(len(df), bool)
    for kind in df["kind"].unique():
        hosts = df[(df["kind"] == kind).to_numpy() & ~by_building]
        hosts = hosts[[g.geom_type in ("Polygon", "MultiPolygon") for g in hosts.geometry]]
        if not len(hosts):
            continue
        area = shapely.union_all(hosts.geometry.values)
        for i in np.flatnonzero((df["kind"] == kind).to_numpy() & by_building):
            drop[i] = area.contains(df.geometry.iloc[i].representative_point())
    return df[~drop]


def read_public_facilities(path: str | Path, kinds: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Public facilities of the given kinds in an OSM extract.

    Parameters
    ----------
    path
        ``.osm.pbf`` (pyrosm) or OSM XML (OSMnx): the run's network file.
    kinds
        Kind keys of :data:`KINDS` (see :func:`parse_kinds`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per facility in (element, id) order, EPSG:4326: ``fid`` (``osm/way/123``),
        ``kind``, ``tag`` (the tag that matched), ``name`` (``name:zh``, else ``name``),
        ``name_en`` (``name:en``, else ``name``), ``entrance`` (an entrance node was found),
        ``lon``/``lat`` (the entrance, else the centroid, inside the polygon), and the feature's
        geometry. Empty (with these columns) when nothing matches.

    Raises
    ------
    InputError
        A missing or unreadable file, an unsupported file type.
    """
    path = Path(path)
    cols = ["fid", "kind", "tag", "element", "id", "name", "name_en", "entrance", "lon", "lat"]
    raw, ents = _read(path, _filter(tuple(kinds)))
    df = _records(raw, ents, tuple(kinds)) if raw is not None and len(raw) else pd.DataFrame()
    if df.empty:
        return gpd.GeoDataFrame(pd.DataFrame(columns=cols), geometry=gpd.GeoSeries([], crs=4326))
    df = df.sort_values(["element", "id"], kind="stable").reset_index(drop=True)
    df = _drop_parts(gpd.GeoDataFrame(df, geometry="geometry", crs=4326)).reset_index(drop=True)
    inner = [g if g.geom_type == "Point" else (g.centroid if g.contains(g.centroid) else g.point_on_surface())
             for g in df.geometry]
    no_ent = ~df["entrance"].to_numpy(bool)
    df.loc[no_ent, "lon"] = [p.x for p, m in zip(inner, no_ent, strict=True) if m]
    df.loc[no_ent, "lat"] = [p.y for p, m in zip(inner, no_ent, strict=True) if m]
    df["fid"] = "osm/" + df["element"] + "/" + df["id"].astype(str)
    return gpd.GeoDataFrame(df[cols], geometry=df.geometry.values, crs=4326)

"""Supplementary elderly-care facilities from OpenStreetMap tags.

Registers are the authority; OSM can fill in where a register is missing or to cross-check it.
Selected elements (nodes, ways, relations; polygons become a point inside them):

* ``amenity=nursing_home`` (a care home; OSM's default population is older people);
* ``amenity=social_facility`` (or a bare ``social_facility=*``) when
  ``social_facility:for`` names older people (``senior``, ``elderly``, ``aged``, ``seniors``), or
  when it is untagged and the facility is a ``nursing_home``/``assisted_living`` (which in OSM
  practice serve seniors). Facilities for other groups (children, homeless, ...) are left out.

Tier mapping (:data:`OSM_TIER_MAP`; a documented heuristic — OSM has no three-tier network):

* day care, outreach, senior centres (``day_care``, ``outreach``, ``social_centre``,
  ``food_bank``/``soup_kitchen`` for seniors → meal point) → the community / meal tiers: they
  provide the walk-in services of 社区养老服务中心/站 and 助餐点;
* residential care (``nursing_home``, ``assisted_living``, ``group_home``) →
  ``institution`` (养老机构): institutions with beds serve by admission, not by a 15-minute walk, so
  they are put in the institution tier (drive threshold) rather than inflate walking coverage.

Pass ``tier_map`` to choose otherwise. Every row's note says "OSM 补充数据，层级为推断 / OSM
supplementary, tier inferred".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover.errors import InputError
from carecover.inputs.facilities import Register
from carecover.inputs.registers.area import inside, study_area
from carecover.inputs.registers.schema import COLUMNS, MEASURE_COLUMNS, empty_facilities

#: OSM facility type (value of ``social_facility`` or ``amenity``) → tier key.
OSM_TIER_MAP: dict[str, str] = {
    "day_care": "community_centre",
    "outreach": "community_centre",
    "social_centre": "community_centre",
    "community_centre": "community_centre",
    "food_bank": "meal_point",
    "soup_kitchen": "meal_point",
    "nursing_home": "institution",
    "assisted_living": "institution",
    "group_home": "institution",
}
#: ``social_facility:for`` values meaning older people.
SENIOR_VALUES = frozenset({"senior", "seniors", "elderly", "aged", "older_people", "old_people"})
#: Types that serve seniors even when ``social_facility:for`` is absent.
SENIOR_BY_DEFAULT = frozenset({"nursing_home", "assisted_living"})
NOTE = "OSM 补充数据，层级为推断 / OSM supplementary, tier inferred"


def classify_osm_tags(tags: dict[str, Any], tier_map: dict[str, str] | None = None
                      ) -> tuple[str, str] | None:
    """``(facility type, tier key)`` for an OSM element's tags, or ``None`` when it is not an
    elderly-care facility.

    Parameters
    ----------
    tags
        The element's OSM tags.
    tier_map
        Facility type → tier key, replacing :data:`OSM_TIER_MAP`.

    Returns
    -------
    tuple of (str, str) or None
        The tier key is "" when the type has no entry in the map (status ``unknown_tier``).

    Examples
    --------

    >>> classify_osm_tags({"amenity": "social_facility", "social_facility": "day_care",
    ...                    "social_facility:for": "senior"})
    ('day_care', 'community_centre')
    >>> classify_osm_tags({"amenity": "social_facility", "social_facility": "day_care",
    ...                    "social_facility:for": "child"}) is None
    True
    """
    tmap = OSM_TIER_MAP if tier_map is None else tier_map
    amenity = str(tags.get("amenity") or "").strip()
    kind = str(tags.get("social_facility") or "").strip()
    target = {v.strip().lower() for v in str(tags.get("social_facility:for") or "").split(";")
              if v.strip()}
    if amenity == "nursing_home":
        if target and not target & SENIOR_VALUES:
            return None
        kind = kind or "nursing_home"
    elif amenity == "social_facility" or (kind and not amenity):
        if target:
            if not target & SENIOR_VALUES:
                return None
        elif kind not in SENIOR_BY_DEFAULT:
            return None
    elif amenity == "social_centre" and target & SENIOR_VALUES:
        kind = kind or "social_centre"
    else:
        return None
    kind = kind or "social_facility"
    tier = tmap.get(kind)
    return (kind, tier) if tier else (kind, "")


def _tags_of(row: pd.Series) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    extra = row.get("tags")
    if isinstance(extra, str) and extra:
        try:
            tags.update(json.loads(extra))
        except ValueError:
            pass
    elif isinstance(extra, dict):
        tags.update(extra)
    for k, v in row.items():
        if k not in ("geometry", "tags") and isinstance(v, str) and v:
            tags[k] = v
    return tags


def _read_pbf(path: Path) -> gpd.GeoDataFrame | None:
    import warnings

    import pyrosm

    osm = pyrosm.OSM(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyrosm warns when nothing matches
        gdf = osm.get_data_by_custom_criteria(
            custom_filter={"amenity": ["social_facility", "nursing_home", "social_centre"],
                           "social_facility": True},
            filter_type="keep", keep_nodes=True, keep_ways=True, keep_relations=True)
    if gdf is None or len(gdf) == 0:
        return None
    gdf = gdf.rename(columns={"osm_type": "element"})
    return gdf


def _read_xml(path: Path) -> gpd.GeoDataFrame | None:
    import osmnx as ox

    try:
        gdf = ox.features_from_xml(path, tags={"amenity": ["social_facility", "nursing_home",
                                                            "social_centre"],
                                               "social_facility": True})
    except Exception as exc:  # osmnx raises InsufficientResponseError when nothing matches
        if type(exc).__name__ == "InsufficientResponseError":
            return None
        raise InputError(f"无法读取 OSM 文件 / cannot read the OSM file: {exc}", file=path) from None
    gdf = gdf.reset_index()
    return gdf


def _read_osm(path: Path) -> gpd.GeoDataFrame | None:
    """The elements carrying care tags, by file type (``None`` when nothing matches)."""
    if not path.exists():
        raise InputError("文件不存在 / file not found", file=path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        try:
            return _read_pbf(path)
        except InputError:
            raise
        except Exception as exc:
            raise InputError(f"无法读取 OSM 文件 / cannot read the OSM file: {exc}", file=path) from None
    if name.endswith((".osm", ".xml")):
        return _read_xml(path)
    raise InputError("不支持的 OSM 文件类型 / unsupported OSM file type", file=path,
                     expected=".osm.pbf, .osm or .xml")


def _records(raw: gpd.GeoDataFrame, tier_map: dict[str, str] | None) -> list[dict]:
    """One record per elderly-care element that has a geometry to place."""
    recs = []
    for _, r in raw.iterrows():
        tags = _tags_of(r)
        cls = classify_osm_tags(tags, tier_map)
        if cls is None:
            continue
        kind, tier = cls
        geom = r.geometry
        if geom is None or geom.is_empty:
            continue  # pyrosm/osmnx could not build it (incomplete relation): nothing to place
        pt = geom if geom.geom_type == "Point" else geom.point_on_surface()
        addr = " ".join(str(tags[k]) for k in ("addr:city", "addr:district", "addr:street",
                                               "addr:housenumber", "addr:full") if tags.get(k))
        tag_key = "social_facility" if tags.get("social_facility") else "amenity"
        recs.append({
            "element": str(r.get("element") or "node"), "id": int(r["id"]),
            "name": str(tags.get("name:zh") or tags.get("name") or ""),
            "tier": tier or None, "tier_raw": f"{tag_key}={kind}", "address": addr,
            "lon": pt.x, "lat": pt.y,
        })
    return recs


def _osm_frame(recs: list[dict], path: Path, boundary: Any) -> gpd.GeoDataFrame:
    """The Facilities contract of the records, in (element, id) order."""
    df = pd.DataFrame(recs).sort_values(["element", "id"], kind="stable").reset_index(drop=True)
    n = len(df)
    lon, lat = df["lon"].to_numpy(float), df["lat"].to_numpy(float)
    area = study_area(boundary)
    within = inside(lon, lat, area) if area is not None else np.ones(n, bool)
    unknown = df["tier"].isna().to_numpy()
    status = np.where(~within, "outside_area", np.where(unknown, "unknown_tier", "ok"))
    note = np.where(~within, NOTE + "; 位于研究区域之外 / outside the study area", NOTE)
    out = pd.DataFrame({
        "fid": ("osm/" + df["element"] + "/" + df["id"].astype(str)).to_numpy(dtype=object),
        "name": df["name"].to_numpy(dtype=object),
        "tier": pd.Series(df["tier"].to_numpy(dtype=object), dtype=object),
        "tier_raw": df["tier_raw"].to_numpy(dtype=object),
        "address": df["address"].to_numpy(dtype=object),
        "street": "", "township": "", "county": "",
        "source": "osm", "source_file": path.name,
        "row": np.arange(1, n + 1, dtype=np.int64),
        "crs_in": "wgs84", "lon_in": lon, "lat_in": lat,
        "status": status.astype(object), "note": note.astype(object),
        **{c: np.full(n, np.nan) for c in MEASURE_COLUMNS},  # OSM tags carry no capacity
    })
    out["tier"] = out["tier"].astype(object).where(out["tier"].notna(), None)
    gdf = gpd.GeoDataFrame(out, geometry=shapely.points(lon, lat), crs="EPSG:4326")
    return gdf[list(COLUMNS)]


def facilities_from_osm(pbf_path: str | Path, boundary: Any = None, *,
                        tier_map: dict[str, str] | None = None) -> Register:
    """Elderly-care facilities tagged in an OSM extract, in the Facilities contract.

    Parameters
    ----------
    pbf_path
        ``.osm.pbf`` (read with pyrosm) or ``.osm``/``.xml`` (read with osmnx).
    boundary
        Study area (as for :func:`carecover.inputs.registers.read_facilities`); facilities outside it
        are kept with status ``outside_area``.
    tier_map
        Facility type → tier key, replacing :data:`OSM_TIER_MAP`.

    Returns
    -------
    Register
        ``frame`` in the Facilities contract: ``source="osm"``, ``fid`` like ``osm/node/123``, ``row`` 1-based in (element, id)
        order, ``crs_in="wgs84"``, ``tier_raw`` the OSM tag (e.g. ``social_facility=day_care``),
        ``note`` saying the tier is inferred; empty (with all columns) when nothing matches.
        ``info``: the file, how many OSM elements matched and how many were kept.
    """
    # read the tagged elements → care facilities among them → the contract
    path = Path(pbf_path)
    raw = _read_osm(path)
    if raw is None or len(raw) == 0:
        return Register(empty_facilities(), {"file": str(path), "matched": 0, "kept": 0})
    recs = _records(raw, tier_map)
    if not recs:
        return Register(empty_facilities(), {"file": str(path), "matched": int(len(raw)), "kept": 0})
    gdf = _osm_frame(recs, path, boundary)
    return Register(gdf, {"file": str(path), "matched": int(len(raw)), "kept": len(gdf)})

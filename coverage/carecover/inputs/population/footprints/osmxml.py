"""Building footprints of OSM XML files (``.osm``, ``.osm.xml``, ``.osm.gz``, ``.osm.bz2``),
read with OSMnx's ``features_from_xml`` — the format ``carecover fetch-network`` writes."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd

from carecover.errors import InputError

SUFFIXES = (".osm", ".xml", ".osm.gz", ".osm.bz2")


def read(path: Path, bbox: list[float] | None) -> gpd.GeoDataFrame | None:
    """Building ways and multipolygon relations of the file (the whole file: XML extracts are
    small; the caller keeps those inside the study area).

    Parameters
    ----------
    path
        The OSM XML file, plain or gzip/bzip2-compressed.
    bbox
        Unused.

    Returns
    -------
    geopandas.GeoDataFrame or None
        ``osm_type``, ``id``, the tags and geometry; ``None`` when the file has no buildings.
    """
    import osmnx as ox

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            raw = ox.features_from_xml(path, tags={"building": True})
    except ox._errors.InsufficientResponseError:
        return None
    except Exception as exc:
        raise InputError(f"无法读取 OSM 建筑 / cannot read OSM buildings: {exc}", file=path) from exc
    raw = raw.reset_index().rename(columns={"element": "osm_type"})
    # footprints are ways and relations, as pyrosm gives them for PBF files
    return raw[raw["osm_type"].isin(["way", "relation"])]

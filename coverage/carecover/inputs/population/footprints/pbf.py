"""Building footprints of ``.osm.pbf`` extracts, read with pyrosm."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from carecover.errors import InputError

SUFFIXES = (".pbf",)


def read(path: Path, bbox: list[float] | None) -> gpd.GeoDataFrame | None:
    """Buildings of the extract (only the bbox's when given; relations crossing it kept whole).

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.
    bbox
        ``[minx, miny, maxx, maxy]`` WGS-84, or ``None``.

    Returns
    -------
    geopandas.GeoDataFrame or None
        pyrosm's building frame (``osm_type``, ``id``, tags, geometry); ``None`` when empty.
    """
    import pyrosm

    try:
        # complete_relations: multipolygon buildings crossing the bbox keep their whole outline
        osm = pyrosm.OSM(str(path), bounding_box=bbox, complete_relations=bbox is not None)
        return osm.get_buildings()
    except Exception as exc:
        raise InputError(f"无法读取 OSM 建筑 / cannot read OSM buildings: {exc}", file=path) from exc

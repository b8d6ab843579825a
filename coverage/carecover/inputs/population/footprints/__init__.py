"""OSM building footprints, one reader module per file format, all returning the same frame.

Every reader returns a GeoDataFrame in WGS-84 with one row per building way or relation:
``osm_type`` (``way``/``relation``), ``id`` (int), ``building``, ``building:levels`` (raw tag
values, ``None`` when untagged) and ``geometry``, ordered by ``osm_type`` then ``id`` so the
result does not depend on the reader. :func:`read_footprints` picks the reader by file name.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from carecover.errors import InputError
from carecover.inputs.population.footprints import osmxml, pbf

#: Reader modules, each with ``SUFFIXES`` and ``read(path, bbox)``.
READERS = (pbf, osmxml)
COLUMNS = ["osm_type", "id", "building", "building:levels", "geometry"]


def read_footprints(path: str | Path, bbox: list[float] | None = None) -> gpd.GeoDataFrame:
    """Building footprints of an OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm``, ``.osm.xml``, ``.osm.gz`` or ``.osm.bz2``.
    bbox
        ``[minx, miny, maxx, maxy]`` (WGS-84) a reader may limit itself to, or ``None``.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :data:`COLUMNS`, WGS-84, in (``osm_type``, ``id``) order.

    Raises
    ------
    InputError
        For a file type that holds no OSM buildings (GraphML, GeoPackage graphs), a file that
        cannot be read, or one without buildings.
    """
    path = Path(path)
    name = path.name.lower()
    for reader in READERS:
        if name.endswith(reader.SUFFIXES):
            raw = reader.read(path, bbox)
            break
    else:
        raise InputError("建筑人口需要 OSM 文件，该路网文件不含建筑 / buildings are read from OSM files only: "
                         "this network file holds no buildings; give --population instead",
                         file=path, field="network", expected=".osm.pbf, .osm, .osm.gz or .osm.bz2")
    if raw is None or len(raw) == 0:
        raise InputError("OSM 文件中没有建筑 / no buildings in the OSM extract", file=path)
    for col in COLUMNS[:-1]:
        if col not in raw.columns:
            raw[col] = None
    raw = raw[COLUMNS]
    raw = raw.set_crs("EPSG:4326") if raw.crs is None else raw.to_crs("EPSG:4326")
    return raw.sort_values(["osm_type", "id"], kind="stable").reset_index(drop=True)

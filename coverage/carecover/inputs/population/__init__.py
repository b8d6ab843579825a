"""Demand points (population) from rasters, vector grids / census polygons or OSM buildings.

人口需求点：来自人口栅格（WorldPop / GHS-POP）、矢量格网或普查单元面、或 OSM 建筑物估算。

One module per source, each returning the same :class:`~carecover.inputs.demand.Demand`:

==============  ===========================================================================
module          reads
==============  ===========================================================================
``raster``      GeoTIFF people-per-pixel grids: :func:`from_raster`, :func:`geographic_cell_area`
``vector``      census polygons, vector grids, points: :func:`from_vector`
``buildings``   OSM building floor area: :func:`from_buildings`, :func:`building_weights`
``elderly``     elderly from shares: :func:`apply_elderly_share`
``grid``        aggregation to square cells: :func:`aggregate_grid`
``common``      :func:`check_conservation`, the ``Demand`` assembly, district names
==============  ===========================================================================

``Demand.points`` is the *Demand GeoDataFrame* of ``docs/ARCHITECTURE.md`` (EPSG:4326):

==========  =====  ==============================================================
column      type   meaning
==========  =====  ==============================================================
cell_id     int    stable id (row-major pixel index for rasters, feature index
                   for vector files, building index sorted by OSM id)
pop         float  total residents
elderly     float  residents aged 60+ (NaN until known: see :func:`apply_elderly_share`)
county      str    county-level unit name if known, else ""
area_m2     float  area represented by the point (true ground area, m²)
geometry    Point  demand point
==========  =====  ==============================================================

``Demand.source`` is a JSON-serialisable dict (file, sha256, method, totals in and out, what
was clipped away, warnings) and ``Demand.cell_polygons`` the polygons the points stand for
(EPSG:4326, aligned with the points, or ``None``).

Method notes for reviewers: ``docs/population.md``.
"""

from __future__ import annotations

from carecover.inputs.demand import DEMAND_COLUMNS, Demand
from carecover.inputs.population.buildings import (
    BUILDING_WEIGHTS,
    DEFAULT_LEVELS,
    FALLBACK_LEVELS,
    MAX_LEVELS,
    UNKNOWN_BUILDING_WEIGHT,
    building_weights,
    from_buildings,
)
from carecover.inputs.population.common import WGS84, ConservationError, check_conservation
from carecover.inputs.population.elderly import apply_elderly_share
from carecover.inputs.population.grid import aggregate_grid
from carecover.inputs.population.raster import from_raster, geographic_cell_area
from carecover.inputs.population.vector import from_vector

__all__ = [
    "ConservationError",
    "DEMAND_COLUMNS",
    "Demand",
    "DEFAULT_LEVELS",
    "FALLBACK_LEVELS",
    "MAX_LEVELS",
    "BUILDING_WEIGHTS",
    "UNKNOWN_BUILDING_WEIGHT",
    "WGS84",
    "building_weights",
    "from_raster",
    "from_vector",
    "from_buildings",
    "apply_elderly_share",
    "aggregate_grid",
    "check_conservation",
    "geographic_cell_area",
]

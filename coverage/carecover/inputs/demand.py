"""The demand contract: population as points, with where the numbers came from.

需求点契约：人口需求点及其来源说明。

Every population reader (:mod:`carecover.inputs.population`) returns a :class:`Demand`; nothing
travels hidden on the frame itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import geopandas as gpd

__all__ = ["Demand", "DEMAND_COLUMNS"]

#: Columns of ``Demand.points`` in order (docs/ARCHITECTURE.md), before any reader's extras.
DEMAND_COLUMNS = ["cell_id", "pop", "elderly", "county", "area_m2", "geometry"]


@dataclass(frozen=True)
class Demand:
    """Demand points and their provenance.

    Attributes
    ----------
    points
        EPSG:4326 GeoDataFrame with :data:`DEMAND_COLUMNS` (``cell_id`` stable id, ``pop`` total
        residents, ``elderly`` residents aged 60+ or NaN until known, ``county`` name or "",
        ``area_m2`` true ground area the point stands for, ``geometry`` the point) plus any
        reader-specific columns (e.g. ``osm_id``, ``building`` for buildings).
    source
        JSON-ready description of the source: file, sha256, method, totals in and out, what
        was clipped away, warnings, how the elderly were set (written into summary.json).
    cell_polygons
        The polygons the points stand for (pixels, grid cells, building footprints), EPSG:4326,
        aligned with ``points``; ``None`` when not kept.
    """

    points: gpd.GeoDataFrame
    source: dict[str, Any] = field(default_factory=dict)
    cell_polygons: gpd.GeoSeries | None = None

    def __len__(self) -> int:
        return len(self.points)

    def with_points(self, points: gpd.GeoDataFrame, **source: Any) -> Demand:
        """A copy with new points (same rows) and ``source`` keys added or replaced.

        Parameters
        ----------
        points
            The new frame (same rows, so ``cell_polygons`` stay aligned).
        **source
            Keys of ``source`` to add or replace.

        Returns
        -------
        Demand
        """
        return replace(self, points=points, source={**self.source, **source})

"""Stage 1 — the study area: boundaries, counties, unit boundaries and the routing margin.

Demand, candidates and every figure stay inside the study area; only the street network
keeps a routing margin (``settings.routing_margin_m`` beyond the boundary) so that facilities
and streets just across the border still serve residents inside.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import shapely

from carecover import settings
from carecover.inputs.boundaries import buffered, read_boundaries
from carecover.network import StreetNetwork
from carecover.params import RunParams
from carecover.utils import file_sha256


@dataclass(frozen=True)
class Boundaries:
    """The boundary files of a run, each read once.

    Attributes
    ----------
    frame
        ``--boundary`` features (WGS-84, ``name``, ``level``), or ``None``.
    counties
        Its county-level units (``level != "city"``; ``name``, geometry), or ``None``.
    clip
        The boundary's union grown by the routing margin: the network is built inside it.
    units
        ``--units`` boundaries by unit kind (``street``, ``township`` …).
    fingerprint
        Hash of the files' contents (for the stage cache).
    """

    frame: gpd.GeoDataFrame | None = None
    counties: gpd.GeoDataFrame | None = None
    clip: Any = None
    units: Mapping[str, gpd.GeoDataFrame] = field(default_factory=dict)
    fingerprint: str = ""

    def county_geoms(self) -> dict[str, Any]:
        """County name → polygon (empty without a boundary)."""
        if self.counties is None:
            return {}
        return dict(zip(self.counties["name"], self.counties.geometry, strict=True))


@dataclass(frozen=True)
class StudyArea:
    """Where facilities and residents are taken from.

    Attributes
    ----------
    boundaries
        The :class:`Boundaries` of the run.
    polygon
        WGS-84 polygon where facilities are taken from: the routing clip when a boundary is
        given (facilities just across the border serve residents inside), else the network's
        extent plus ~300 m.
    demand_polygon
        WGS-84 polygon where residents and candidate sites are taken from: the boundary itself
        (no margin), else the network's extent plus ~300 m.
    """

    boundaries: Boundaries
    polygon: Any
    demand_polygon: Any = None


def read_boundaries_of(params: RunParams) -> Boundaries:
    """Read ``--boundary`` and ``--units`` (each once).

    Parameters
    ----------
    params
        The run's parameters.

    Returns
    -------
    Boundaries
    """
    units = MappingProxyType({kind: read_boundaries(path, role="units") for kind, path in params.units})
    frame = read_boundaries(params.boundary) if params.boundary is not None else None
    digest = "|".join(file_sha256(p) for p in [params.boundary, *[f for _, f in params.units]]
                      if p is not None)
    if frame is None:
        return Boundaries(units=units, fingerprint=digest)
    counties = frame[frame["level"].astype(str) != "city"]
    counties = counties[["name", "geometry"]].reset_index(drop=True) if len(counties) else None
    clip = buffered(shapely.union_all(frame.geometry.values), settings.routing_margin_m)
    return Boundaries(frame, counties, clip, units, digest)


def network_extent(net: StreetNetwork) -> Any:
    """The network's extent as a WGS-84 box grown by ~0.003° (about 300 m), so facilities at
    the extract's edge stay in the study area."""
    lon, lat = net.to_wgs84().transform(net.node_x, net.node_y)
    return shapely.box(float(lon.min()) - 0.003, float(lat.min()) - 0.003,
                       float(lon.max()) + 0.003, float(lat.max()) + 0.003)


def study_area(bounds: Boundaries, walk: StreetNetwork) -> StudyArea:
    """The study area of a run: the boundary's routing clip, else the walk network's extent.

    Parameters
    ----------
    bounds
        The run's boundaries.
    walk
        The walking network (gives the extent when there is no boundary).
    """
    if bounds.frame is None:
        extent = network_extent(walk)
        return StudyArea(bounds, extent, extent)
    return StudyArea(bounds, bounds.clip, shapely.union_all(bounds.frame.geometry.values))

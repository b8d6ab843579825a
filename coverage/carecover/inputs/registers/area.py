"""Where a facility may be: inside the study area, or inside China when there is none.

设施的合理位置：研究区内；未给研究区时为中国范围内。Used by the register and OSM readers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from carecover import crs as crsmod

__all__ = ["study_area", "inside"]


def study_area(boundary: Any) -> Any:
    """The study area as one prepared WGS-84 polygon, or ``None`` without one.

    Parameters
    ----------
    boundary
        Anything :func:`carecover.inputs.boundaries.boundary_geometry` takes (path, frame,
        geometry, box), under its one CRS policy.

    Returns
    -------
    shapely.Geometry or None
    """
    from carecover.inputs.boundaries import boundary_geometry

    geom = boundary_geometry(boundary, role="boundary")
    if geom is not None:
        shapely.prepare(geom)
    return geom


def inside(lon: np.ndarray, lat: np.ndarray, area: Any) -> np.ndarray:
    """Whether each WGS-84 point is inside ``area`` (inside China when ``area`` is None).

    Parameters
    ----------
    lon, lat
        Coordinates; non-finite ones are never inside.
    area
        Output of :func:`study_area`.

    Returns
    -------
    numpy.ndarray
        Boolean per point.
    """
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(lon.shape, bool)
    if area is None:
        out[ok] = ~crsmod.out_of_china(lon[ok], lat[ok])
    else:
        out[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    return out

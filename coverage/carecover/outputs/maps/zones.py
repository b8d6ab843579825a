"""Areas from labelled demand points: each point goes into a square display cell, each cell
takes the label holding most of its elderly, and the cells of a label are dissolved into one
(multi)polygon. Cells never overlap, so neither do the zones (a partition of the populated
area). Used for the nearest-facility catchments, the suggested sites' catchments and the
coverage after the plan."""

from __future__ import annotations

import hashlib
import math
import weakref
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

#: Smallest and most display cells of a zone layer.
MIN_CELL_M = 50.0
MAX_ZONE_CELLS = 40_000


@dataclass(frozen=True)
class Zones:
    """Dissolved zones of one labelling.

    Attributes
    ----------
    labels
        One label per zone, sorted.
    geoms
        One (multi)polygon per zone, EPSG:4326.
    elderly
        Elderly of the points with that label (all of them, not only the cells it won).
    cell_m
        The display cell size (m).
    """

    labels: list[str]
    geoms: np.ndarray
    elderly: np.ndarray
    cell_m: float


@dataclass(frozen=True)
class LocalXY:
    """Demand points in metres: their local UTM CRS and coordinates, computed once per map
    and shared by the population cells and the zone layers.

    Attributes
    ----------
    utm
        The local UTM CRS (``estimate_utm_crs`` of the points), ``None`` without points.
    x, y
        Coordinates (0 for points without a geometry, see ``ok``).
    ok
        Points with a geometry.
    """

    utm: object
    x: np.ndarray
    y: np.ndarray
    ok: np.ndarray

    @classmethod
    def of(cls, demand: gpd.GeoDataFrame) -> LocalXY:
        """The local coordinates of ``demand`` (EPSG:4326 points).

        Parameters
        ----------
        demand
            Demand points.

        Returns
        -------
        LocalXY
            Aligned with ``demand``.
        """
        geoms = demand.geometry.to_numpy()
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        x, y = np.zeros(len(demand)), np.zeros(len(demand))
        if not ok.any():
            return cls(None, x, y, ok)
        utm = demand[ok].estimate_utm_crs()
        # pyproj on the coordinate arrays: GeoSeries.to_crs would build 100,000s of points
        lon, lat = shapely.get_x(geoms[ok]), shapely.get_y(geoms[ok])
        x[ok], y[ok] = Transformer.from_crs(demand.crs or 4326, utm, always_xy=True).transform(lon, lat)
        return cls(utm, x, y, ok)


@dataclass(frozen=True)
class DisplayGrid:
    """The demand points in square display cells, computed once per map and shared by every
    zone layer.

    Attributes
    ----------
    utm
        The local UTM CRS the cells are square in.
    size
        Cell size (m): about a demand cell's size (at least :data:`MIN_CELL_M`), doubled until
        the populated cells number at most :data:`MAX_ZONE_CELLS`.
    i, j
        Each point's cell column and row (0 for points without a geometry, see ``ok``).
    ok
        Points with a geometry.
    elderly
        Each point's elderly (0 for missing).
    zones
        The zones made on this grid (:func:`label_zones`), by the labels' digest.
    """

    utm: object
    size: float
    i: np.ndarray
    j: np.ndarray
    ok: np.ndarray
    elderly: np.ndarray
    #: :func:`label_zones` of this grid by the labels' digest (both maps of a run draw the same zones).
    zones: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, demand: gpd.GeoDataFrame, xy: LocalXY | None = None) -> DisplayGrid:
        """The grid of ``demand`` (EPSG:4326 points, ``elderly``, ``area_m2`` when known).

        Parameters
        ----------
        demand
            Demand points.
        xy
            Their local coordinates (:meth:`LocalXY.of`), when already computed.

        Returns
        -------
        DisplayGrid
            Aligned with ``demand``.
        """
        xy = xy if xy is not None else LocalXY.of(demand)
        ok, utm, x, y = xy.ok, xy.utm, xy.x, xy.y
        e = demand["elderly"].fillna(0).to_numpy(float)
        if not ok.any():
            z = np.zeros(len(demand), np.int64)
            return cls(None, MIN_CELL_M, z, z, ok, e)
        area = demand["area_m2"] if "area_m2" in demand else None
        med = float(np.nanmedian(area)) if area is not None and area.notna().any() else 0.0
        size = max(MIN_CELL_M, math.sqrt(med) if med > 0 else 100.0)
        while True:
            i, j = np.floor(x / size).astype(np.int64), np.floor(y / size).astype(np.int64)
            if len(np.unique((i[ok] << 32) + j[ok])) <= MAX_ZONE_CELLS:
                return cls(utm, size, i, j, ok, e)
            size *= 2


def label_zones(grid: DisplayGrid, labels: np.ndarray) -> Zones:
    """The zones of ``labels`` (points labelled "" belong to no zone).

    Parameters
    ----------
    grid
        The demand's display grid (:meth:`DisplayGrid.of`).
    labels
        One label per demand point (text; "" or missing for none).

    Returns
    -------
    Zones
        Empty when no point has a label; made once per grid and labelling (kept in ``grid.zones``).
    """
    lab = pd.Series(labels).fillna("").astype(str).to_numpy()
    key = hashlib.blake2b(pd.util.hash_array(lab.astype(object)).tobytes(), digest_size=16).digest()
    if key not in grid.zones:
        grid.zones[key] = _label_zones(grid, lab)
    return grid.zones[key]


def _label_zones(grid: DisplayGrid, lab: np.ndarray) -> Zones:
    has = (lab != "") & grid.ok
    if not has.any():
        return Zones([], np.empty(0, dtype=object), np.zeros(0), grid.size)
    size = grid.size
    codes, names = pd.factorize(lab[has], sort=True)
    n_lab = len(names)
    i, j, e = grid.i[has], grid.j[has], grid.elderly[has]
    cells, cell_of = np.unique(((i - i.min()) << 32) + (j - j.min()), return_inverse=True)
    keys, key_of = np.unique(cell_of * n_lab + codes, return_inverse=True)
    weight = np.bincount(key_of, weights=e + 1e-9)  # a cell of zeros still counts
    k_cell, k_lab = keys // n_lab, keys % n_lab
    # each cell goes to the label with most elderly in it (ties: the first label by name)
    order = np.lexsort((k_lab, -weight, k_cell))
    first = order[np.r_[True, k_cell[order][1:] != k_cell[order][:-1]]]
    win_cell, win_lab = k_cell[first], k_lab[first]
    ci = (cells[win_cell] >> 32) + i.min()
    cj = (cells[win_cell] & 0xFFFFFFFF) + j.min()
    by = np.argsort(win_lab, kind="stable")
    boxes = shapely.box(ci * size, cj * size, (ci + 1) * size, (cj + 1) * size)[by]
    bounds = np.searchsorted(win_lab[by], np.arange(n_lab + 1))
    geoms = np.array([shapely.coverage_union_all(boxes[a:b]) if b > a else shapely.Polygon()
                      for a, b in zip(bounds[:-1], bounds[1:], strict=True)], dtype=object)
    geoms = gpd.GeoSeries(geoms, crs=grid.utm).to_crs(4326).values
    totals = np.bincount(codes, weights=e, minlength=n_lab)
    names = [str(v) for v in names]
    return Zones(names, np.asarray(geoms, dtype=object), totals, size)


#: :func:`neighbour_colours` by the zones' identity and the palette's size (an entry goes when its zones do).
_COLOURS: dict[tuple[int, int], list[int]] = {}


def neighbour_colours(geoms: np.ndarray, n_colours: int) -> list[int]:
    """A colour index per zone so that touching zones differ where the palette allows
    (greedy colouring in order).

    Parameters
    ----------
    geoms
        The zones.
    n_colours
        Size of the palette.

    Returns
    -------
    list of int
        Indices into the palette (computed once per array of zones: both maps colour the same).
    """
    key = (id(geoms), n_colours)
    if key not in _COLOURS:
        _COLOURS[key] = _colours(geoms, n_colours)
        weakref.finalize(geoms, _COLOURS.pop, key, None)
    return list(_COLOURS[key])


def _colours(geoms: np.ndarray, n_colours: int) -> list[int]:
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    colours: list[int] = []
    for k in range(len(geoms)):
        used = {colours[j] for j in right[left == k] if j < k}
        colours.append(next((c for c in range(n_colours) if c not in used), k % n_colours))
    return colours


#: The local coordinates and display grid of a demand table, by its identity (an entry goes when
#: the table does): both maps of a run use them.
_SHARED: dict[int, dict] = {}


def shared(demand: gpd.GeoDataFrame) -> dict:
    """What the maps of ``demand`` share (``"xy"``: :class:`LocalXY`, ``"grid"``: :class:`DisplayGrid`,
    ``("served", tiers)``: the elderly each facility is nearest for), kept while the table lives
    (it is not changed after the plan computed it).

    Parameters
    ----------
    demand
        The bundle's demand points.

    Returns
    -------
    dict
        Filled by :class:`~carecover.outputs.maps.base.MapContext` on first use.
    """
    key = id(demand)
    if key not in _SHARED:
        _SHARED[key] = {}
        weakref.finalize(demand, _SHARED.pop, key, None)
    return _SHARED[key]

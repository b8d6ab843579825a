"""Areas from labelled demand points: each point goes into a square display cell, each cell
takes the label holding most of its elderly, and the cells of a label are dissolved into one
(multi)polygon. Cells never overlap, so neither do the zones (a partition of the populated
area). Used for the nearest-facility catchments, the suggested sites' catchments and the
coverage after the plan."""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

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


def cell_size(demand: gpd.GeoDataFrame, utm_xy: np.ndarray) -> float:
    """Display cell size (m): about a demand cell's size (at least :data:`MIN_CELL_M`),
    doubled until the populated cells number at most :data:`MAX_ZONE_CELLS`.

    Parameters
    ----------
    demand
        Demand points (``area_m2`` when known).
    utm_xy
        Their positions in metres, ``(n, 2)``.

    Returns
    -------
    float
        Metres.
    """
    med = float(np.nanmedian(demand["area_m2"])) if "area_m2" in demand and demand["area_m2"].notna().any() else 0.0
    size = max(MIN_CELL_M, math.sqrt(med) if med > 0 else 100.0)
    while len(np.unique(np.floor(utm_xy / size).astype(np.int64), axis=0)) > MAX_ZONE_CELLS:
        size *= 2
    return size


def label_zones(demand: gpd.GeoDataFrame, labels: np.ndarray) -> Zones:
    """The zones of ``labels`` (points labelled "" belong to no zone).

    Parameters
    ----------
    demand
        Demand points (EPSG:4326, ``elderly``).
    labels
        One label per point (text; "" for none).

    Returns
    -------
    Zones
        Empty when no point has a label.
    """
    labels = pd.Series(labels, index=demand.index).fillna("").astype(str)
    has = (labels != "").to_numpy() & demand.geometry.notna().to_numpy() & ~demand.geometry.is_empty.to_numpy()
    if not has.any():
        return Zones([], np.empty(0, dtype=object), np.zeros(0), 0.0)
    d = demand[has]
    utm = d.estimate_utm_crs()
    pts = d.geometry.to_crs(utm)
    xy = np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()])
    size = cell_size(d, xy)
    ij = np.floor(xy / size).astype(np.int64)
    e = d["elderly"].fillna(0).to_numpy(float)
    lab = labels[has].to_numpy()
    frame = pd.DataFrame({"i": ij[:, 0], "j": ij[:, 1], "label": lab, "e": e + 1e-9})  # a cell of zeros still counts
    per = frame.groupby(["i", "j", "label"], sort=True)["e"].sum().reset_index()
    # each cell goes to the label with most elderly in it (ties: the first label by name)
    per = per.sort_values(["i", "j", "e", "label"], ascending=[True, True, False, True], kind="stable")
    win = per.drop_duplicates(["i", "j"], keep="first")
    boxes = shapely.box(win["i"] * size, win["j"] * size, (win["i"] + 1) * size, (win["j"] + 1) * size)
    names = sorted(win["label"].unique())
    code = pd.Categorical(win["label"], categories=names).codes
    geoms = np.empty(len(names), dtype=object)
    for k in range(len(names)):
        geoms[k] = shapely.coverage_union_all(boxes[code == k])
    geoms = gpd.GeoSeries(geoms, crs=utm).to_crs(4326).values
    totals = pd.Series(e, index=lab).groupby(level=0).sum().reindex(names).to_numpy(float)
    return Zones(names, np.asarray(geoms, dtype=object), totals, size)


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
        Indices into the palette.
    """
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    colours: list[int] = []
    for k in range(len(geoms)):
        used = {colours[j] for j in right[left == k] if j < k}
        colours.append(next((c for c in range(n_colours) if c not in used), k % n_colours))
    return colours

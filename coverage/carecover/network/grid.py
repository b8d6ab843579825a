"""The travel-time field's grid: how fine it is drawn (:func:`grid_spacing`) from the network's
fastest segment (:func:`speed_len_max`) and the run's walking speed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from carecover.network.streets import StreetNetwork


def speed_len_max(net: StreetNetwork) -> tuple[float, float]:
    """Fastest speed and longest segment of a network.

    Parameters
    ----------
    net
        The network.

    Returns
    -------
    (m/s, m)
        Both 0 for a network without segments.
    """
    if not len(net.seg_speed):
        return 0.0, 0.0
    return float(net.seg_speed.max()), float(net.seg_len.max())


def grid_spacing(res_m: float, buffer_m: float, speed_len: tuple[float, float],
                 shortest_s: float = np.inf, *, walk_speed_mps: float) -> float:
    """Grid spacing (m) of the travel-time field: ``res_m`` at the run's walking speed, finer for
    short bands (at most a 40th of the shortest band's walk: each cut may overshoot by about a
    cell to keep the street inside); on faster networks the same spacing in seconds at the
    fastest speed (a drive network's band cut moves 10 m in about a second), at most half the
    buffer so that the corridors keep their shape.

    Parameters
    ----------
    res_m
        Spacing at walking speed (m).
    buffer_m
        Distance from the street drawn (m).
    speed_len
        The network's :func:`speed_len_max`.
    shortest_s
        The shortest band (s).
    walk_speed_mps
        The run's walking speed (m/s).

    Returns
    -------
    float
    """
    res_m = min(res_m, max(shortest_s * walk_speed_mps / 40, 1.0))
    scale = max(speed_len[0] / walk_speed_mps, 1.0)
    return float(min(res_m * scale, max(res_m, buffer_m / 2)))

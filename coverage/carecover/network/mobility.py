"""Mobility profiles on the street network: step-free tag rules and the reverse graph.

The profiles themselves (names, values, sources) are :mod:`carecover.mobility`.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd

from carecover.mobility import (
    BAD_SMOOTHNESS,
    PATH_CLASSES,
    RAISED_KERBS,
    ROUGH_SURFACES,
    STEP_FREE_LIMITS,
    WHEELCHAIR_YES,
)
from carecover.network.streets import StreetNetwork

_NUM = re.compile(r"(-?\d+(?:\.\d+)?)")


def _number(values: np.ndarray) -> np.ndarray:
    """The first number in each tag value (``"8%"``, ``"-10 %"``, ``"0.5 m"``); NaN where none."""
    return pd.Series(values, dtype="string").str.extract(_NUM.pattern, expand=False).astype(float).to_numpy()


def step_free_mask(tags: dict[str, np.ndarray], highway: np.ndarray, pessimistic: bool) -> np.ndarray:
    """Which segments a wheelchair or rollator can use.

    Parameters
    ----------
    tags
        Lower-case tag strings per segment (``""`` = untagged): ``kerb``, ``incline``,
        ``surface``, ``smoothness``, ``width``, ``wheelchair``.
    highway
        Highway class per segment.
    pessimistic
        Untagged footpaths and non-numeric inclines excluded.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    n = len(highway)
    get = {k: tags.get(k, np.full(n, "", dtype=object)) for k in
           ("kerb", "incline", "surface", "smoothness", "width", "wheelchair")}
    incline = _number(get["incline"])
    incline = np.where(np.char.endswith(get["incline"].astype(str), "°"),
                       np.tan(np.radians(incline)) * 100, incline)
    kerb_h = _number(get["kerb"])
    width = _number(get["width"])
    lim = STEP_FREE_LIMITS
    bad = (highway == "steps") | (get["wheelchair"] == "no")
    bad |= np.isin(get["kerb"], list(RAISED_KERBS)) | (kerb_h > lim["kerb_height_m"])
    bad |= np.abs(incline) > lim["incline_pct"]
    bad |= np.isin(get["surface"], list(ROUGH_SURFACES)) | np.isin(get["smoothness"], list(BAD_SMOOTHNESS))
    bad |= width < lim["width_m"]
    if pessimistic:
        bad |= np.isin(highway, list(PATH_CLASSES)) & (get["surface"] == "")
        bad |= (get["incline"] != "") & np.isnan(incline)
    bad &= ~np.isin(get["wheelchair"], list(WHEELCHAIR_YES)) | (highway == "steps")
    return ~bad


def reverse(net: StreetNetwork) -> StreetNetwork:
    """The reverse graph: routing outward from facilities on it gives resident → facility times.

    Parameters
    ----------
    net
        A network, graded or flat.

    Returns
    -------
    StreetNetwork
        The same segments with the directions and slope factors swapped (its CSR matrix is
        the transpose of ``net``'s).
    """
    return replace(net, seg_fwd=net.seg_rev, seg_rev=net.seg_fwd,
                   seg_slope_ab=net.seg_slope_ba, seg_slope_ba=net.seg_slope_ab)

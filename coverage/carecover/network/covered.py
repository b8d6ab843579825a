"""The one rule for "covered": a travel time within a threshold.

A resident is covered when the travel time to the nearest facility is at most the threshold,
with a tolerance of :data:`TIME_TOLERANCE_S` for floating-point sums along a route; an
unreachable point (time ``inf`` or ``NaN``) is never covered. Every figure, gap, siting problem
and region merge asks :func:`covered`; reach matrices are cut at :func:`limit_s`.
"""

from __future__ import annotations

import numpy as np

#: Seconds added to a threshold so that a time equal to it up to rounding counts as within.
TIME_TOLERANCE_S = 1e-9


def limit_s(threshold_min: float) -> float:
    """The largest travel time (s) still within ``threshold_min`` minutes.

    Parameters
    ----------
    threshold_min
        The threshold in minutes.

    Returns
    -------
    float
        ``threshold_min × 60 + TIME_TOLERANCE_S``.
    """
    return threshold_min * 60 + TIME_TOLERANCE_S


def covered(time_s: np.ndarray, threshold_min: float) -> np.ndarray:
    """Which travel times are within ``threshold_min`` minutes.

    Parameters
    ----------
    time_s
        Travel times in seconds (``inf``/``NaN``: unreachable).
    threshold_min
        The threshold in minutes.

    Returns
    -------
    numpy.ndarray
        Boolean, one per time.
    """
    return np.asarray(time_s, dtype=float) <= limit_s(threshold_min)

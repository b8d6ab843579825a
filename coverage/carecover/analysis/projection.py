"""Projected demand: each demand point's elderly in a projected year, and coverage today beside
that year's at the same travel times (:class:`carecover.config.projection.Projection`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from carecover.config.projection import Projection
from carecover.network.covered import covered

__all__ = ["projected_elderly", "projection_figures", "projection_gaps"]


def projected_elderly(points: pd.DataFrame, projection: Projection) -> tuple[np.ndarray, np.ndarray]:
    """The elderly of every demand point in the projected year.

    Parameters
    ----------
    points
        Demand points (``pop``, ``elderly``, ``county``).
    projection
        ``growth``: today's elderly × the factor of the point's county; ``share``: the point's
        population × the elderly share of its county. A county without a value of its own takes
        the whole-city value (``projection.whole``).

    Returns
    -------
    elderly : numpy.ndarray
        Projected elderly per point (today's where no value applies).
    projected : numpy.ndarray of bool
        Whether a value applied to the point (``False``: kept at today's elderly).
    """
    n = len(points)
    today = np.nan_to_num(points["elderly"].to_numpy(float), nan=0.0)
    pop = np.nan_to_num(points["pop"].to_numpy(float), nan=0.0)
    county = points["county"].fillna("").astype(str).to_numpy() if "county" in points else np.full(n, "")
    value = np.array([np.nan if (v := projection.value_for(c)) is None else v for c in county], float) \
        if n else np.zeros(0)
    projected = np.isfinite(value)
    base = today if projection.kind == "growth" else pop
    return np.where(projected, base * np.where(projected, value, 0.0), today), projected


def projection_figures(points: pd.DataFrame, projection: Projection, tiers: Mapping[str, tuple[np.ndarray, float, str]],
                       areas: Mapping[str, np.ndarray], scenario: str = "current") -> list[dict]:
    """Elderly coverage today and in the projected year, per tier and area, at the same times.

    Parameters
    ----------
    points
        Demand points.
    projection
        The projection of the run's ``--year``.
    tiers
        Tier key → (time to the nearest facility per point in s, threshold in min, mode).
    areas
        Reporting area → mask of the points.
    scenario
        ``"current"`` (today's facilities) or ``"planned"`` (with the suggested sites).

    Returns
    -------
    list of dict
        One row per tier and area: ``elderly_today``, ``covered_today``, ``share_today``, and
        the same ``_projected``, with ``year`` and ``projected = True``.
    """
    today = np.nan_to_num(points["elderly"].to_numpy(float), nan=0.0)
    future, _ = projected_elderly(points, projection)
    out = []
    for key, (time_s, thr, mode) in tiers.items():
        within = covered(time_s, thr)
        for area, m in areas.items():
            row = {"tier": key, "threshold_min": float(thr), "mode": mode, "area": area,
                   "scenario": scenario, "year": projection.year, "projected": True}
            for name, w in (("today", today), ("projected", future)):
                tot, cov = float(w[m].sum()), float(w[m & within].sum())
                row.update({f"elderly_{name}": round(tot, 1), f"covered_{name}": round(cov, 1),
                            f"uncovered_{name}": round(tot - cov, 1),
                            f"share_{name}": round(cov / tot, 4) if tot > 0 else None})
            out.append(row)
    return out


def projection_gaps(members: Mapping[str, np.ndarray], zones: pd.DataFrame | None, today: np.ndarray,
                    future: np.ndarray, top: int = 20) -> list[dict]:
    """Today's gap zones with their projected elderly, ranked by the projected (a county ageing
    faster moves its gaps up), the first ``top`` of each tier.

    Parameters
    ----------
    members
        Per tier: each demand point's ``gap_id`` (0 outside gaps).
    zones
        The gap zones (``tier``, ``gap_id``, ``county``), or ``None``.
    today, future
        Elderly per point today and in the projected year.

    Returns
    -------
    list of dict
        ``tier``, ``gap_id`` (today's rank), ``county``, ``elderly_today``, ``elderly_projected``,
        ``rank_projected``, ``projected = True``.
    """
    county = {} if zones is None else {(t, int(g)): str(c) for t, g, c in
                                       zip(zones["tier"], zones["gap_id"], zones["county"], strict=True)}
    out = []
    for key, member in members.items():
        n = int(member.max()) + 1 if member.size else 1
        now = np.bincount(member, weights=today, minlength=n)[1:]
        then = np.bincount(member, weights=future, minlength=n)[1:]
        order = sorted(range(len(then)), key=lambda i: (-then[i], i))
        for rank, i in enumerate(order[:top], start=1):
            out.append({"tier": key, "gap_id": i + 1, "county": county.get((key, i + 1), ""),
                        "elderly_today": round(float(now[i]), 1), "elderly_projected": round(float(then[i]), 1),
                        "rank_projected": rank, "projected": True})
    return out

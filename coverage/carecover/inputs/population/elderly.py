"""Elderly residents from shares of the population (per district where known).

老年人口 = 总人口 × 老龄化比例（有分区比例时按分区，否则用默认比例）。
Method notes: ``docs/population.md`` §4.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.inputs.population.common import assign_names, boundary_frame, jsonable

__all__ = ["apply_elderly_share"]


def _check_shares(share: float | None, shares: dict[str, float]) -> None:
    for name, v in [("share", share), *shares.items()]:
        if v is not None and not (0.0 <= float(v) <= 1.0):
            raise InputError(f"老龄化比例须在 0 到 1 之间 / share {v!r} out of range for {name}",
                             field=name, expected="0 <= share <= 1")
    if share is None and not shares:
        raise InputError("未给出老龄化比例 / no elderly share given", field="elderly_share",
                         expected="a share such as 0.198")


def _district_keys(points: gpd.GeoDataFrame, districts) -> tuple[np.ndarray, np.ndarray]:
    """(county to write, district name to look shares up by) per point."""
    county = points["county"].fillna("").astype(str).to_numpy(dtype=object)
    if districts is None:
        return county, county
    names = assign_names(points.geometry, boundary_frame(districts))
    return np.where(county == "", names, county), names


def _point_shares(key: np.ndarray, shares: dict[str, float], share: float | None) -> np.ndarray:
    """The share of each point: its district's, else the default (an error without one)."""
    s = pd.Series(key).map(shares).to_numpy(dtype="float64")
    need_default = np.isnan(s)
    if need_default.any():
        if share is None:
            missing = sorted(set(key[need_default]))
            raise InputError(f"以下区域没有老龄化比例且无默认值 / no share for districts "
                             f"{missing} and no default share", field="district_shares")
        s = np.where(need_default, float(share), s)
    return s


def _shares_used(key: np.ndarray, s: np.ndarray, pop: np.ndarray,
                 shares: dict[str, float]) -> dict[str, dict]:
    """Per district: the share, where it came from, and the points, pop and elderly it set."""
    used: dict[str, dict] = {}
    for name in sorted(set(key)):
        m = key == name
        src = "district" if name in shares else "default"
        used[name if name else "(unknown)"] = {
            "share": float(s[m][0]), "source": src, "points": int(m.sum()),
            "pop": float(pop[m].sum()), "elderly": float((pop * s)[m].sum())}
    return used


def apply_elderly_share(demand: Demand, share: float | None = None, *,
                        district_shares: Mapping[str, float] | None = None,
                        districts: gpd.GeoDataFrame | None = None) -> Demand:
    """Set ``elderly = pop × share`` (per district where known, else the default ``share``).

    设置老年人口 = 总人口 × 老龄化比例（有分区比例时按分区，否则用默认比例）。

    Parameters
    ----------
    demand
        Demand points and their source.
    share
        Default share of residents aged 60+ (e.g. 0.198 for Inner Mongolia, 7th census).
    district_shares
        Shares by district name, matched to ``county`` (or to ``districts`` when given).
    districts
        Polygons with a ``name`` column; each point's district is the smallest polygon
        containing it (fills ``county`` where it was empty).

    Returns
    -------
    Demand
        A copy; ``source["elderly"]`` records which share was used where.

    Raises
    ------
    InputError
        A share outside [0, 1], no share at all, or districts without a share and no default.
    """
    # check → district of each point → its share → elderly → what was used
    shares = {str(k): float(v) for k, v in (district_shares or {}).items()}
    _check_shares(share, shares)
    out = demand.points.copy()
    county, key = _district_keys(out, districts)
    if districts is not None:
        out["county"] = county
    s = _point_shares(key, shares, share)
    pop = out["pop"].to_numpy(dtype="float64")
    out["elderly"] = pop * s
    elderly = {"method": "share", "default_share": share, "district_shares": shares,
               "used": _shares_used(key, s, pop, shares), "total": float(out["elderly"].sum())}
    return demand.with_points(out, elderly=jsonable(elderly))

"""Is the declared coordinate system right? Facilities should sit beside the streets.

坐标系核查：按 WGS-84、GCJ-02、BD-09 分别解读坐标，哪种使设施最靠近道路，哪种最可能正确。
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import geopandas as gpd
import numpy as np

from carecover import crs as crsmod

__all__ = ["crs_plausibility"]

#: Statuses whose coordinates are usable for the check (inside the area, parsed).
_CHECKED = ["ok", "swapped_fixed", "unknown_tier", "duplicate"]
_ZH_NAME = {"wgs84": "WGS-84", "gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}
_EN_NAME = {"wgs84": "WGS-84", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}


def _given_coordinates(facilities: gpd.GeoDataFrame, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as given (lon, lat order restored where a swap was fixed)."""
    lon_in = facilities["lon_in"].to_numpy(dtype=float)
    lat_in = facilities["lat_in"].to_numpy(dtype=float)
    swapped = (facilities["status"] == "swapped_fixed").to_numpy()
    return np.where(swapped, lat_in, lon_in)[use], np.where(swapped, lon_in, lat_in)[use]


def _warnings(declared: str, best: str, med: dict[str, float]) -> tuple[str, str]:
    zh = (f"坐标系可能有误：按声明的 {_ZH_NAME[declared]} 解读，设施到最近道路的距离中位数为 "
          f"{med[declared]:.0f} 米；按 {_ZH_NAME[best]} 解读仅为 {med[best]:.0f} 米。"
          f"请核对登记表坐标取自哪种地图（可用 --crs {best} 或“坐标系”列指定）。")
    en = (f"The coordinate system may be wrong: read as the declared {_EN_NAME[declared]}, "
          f"facilities lie a median {med[declared]:.0f} m from the nearest street; read as "
          f"{_EN_NAME[best]}, only {med[best]:.0f} m. Check which map the coordinates were "
          f"taken from (set it with --crs {best} or a 坐标系/crs column).")
    return zh, en


def crs_plausibility(facilities: gpd.GeoDataFrame,
                     snap_distance_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
                     ratio: float = 0.5, min_gain_m: float = 30.0, min_points: int = 5,
                     force: bool = False) -> dict:
    """Check the declared coordinate system against the street network.

    Facilities sit beside streets. Reading the given coordinates as WGS-84, GCJ-02 and BD-09
    in turn, the system that puts them closest to the streets (median snap distance) is most
    likely the true one; a wrong one displaces everything by several hundred metres.

    Parameters
    ----------
    facilities
        Output of :func:`~carecover.inputs.registers.read_facilities`; records with usable
        coordinates inside the area (status ``ok``, ``swapped_fixed``, ``unknown_tier``,
        ``duplicate``) are used.
    snap_distance_fn
        ``f(lon, lat) -> metres`` for arrays of WGS-84 coordinates (distance to nearest street).
    ratio, min_gain_m
        Warn when another system's median is below ``ratio`` × the declared one's *and* at
        least ``min_gain_m`` metres smaller.
    min_points
        Fewer usable records than this: no verdict (``warning`` None, ``reason`` says why).
    force
        Apply the China formulas outside China (tests and synthetic data only).

    Returns
    -------
    dict
        ``declared`` (most common ``crs_in``), ``best``, ``medians`` {system: m}, ``n``,
        ``warning`` (None, or "中文 / English" text), ``warning_zh``, ``warning_en``, ``reason``.
    """
    use = facilities["status"].isin(_CHECKED).to_numpy()
    lon_g, lat_g = _given_coordinates(facilities, use)
    declared = (str(facilities.loc[use, "crs_in"].mode().iloc[0]) if use.any() else "wgs84")
    out: dict[str, Any] = {"declared": declared, "best": declared, "medians": {}, "n": int(use.sum()),
                           "warning": None, "warning_zh": None, "warning_en": None, "reason": None}
    if use.sum() < min_points:
        out["reason"] = f"too few usable facilities ({int(use.sum())} < {min_points})"
        return out
    for system in crsmod.SYSTEMS:
        x, y = crsmod.to_wgs84(lon_g, lat_g, system, force=force)
        d = np.asarray(snap_distance_fn(np.asarray(x), np.asarray(y)), dtype=float)
        out["medians"][system] = float(np.nanmedian(d))
    med = out["medians"]
    best = min(crsmod.SYSTEMS, key=lambda s: (med[s], s != declared))
    out["best"] = best
    if best != declared and med[best] < ratio * med[declared] and med[declared] - med[best] >= min_gain_m:
        out["warning_zh"], out["warning_en"] = _warnings(declared, best, med)
        out["warning"] = out["warning_zh"] + " / " + out["warning_en"]
    return out

"""Is the declared coordinate system right? Facilities should sit beside the streets.

坐标系核查：按 WGS-84、GCJ-02、BD-09 分别解读坐标，哪种使设施最靠近道路，哪种最可能正确。
"""

from __future__ import annotations

import math
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


def _warnings(declared: str, best: str, med: dict[str, float],
              target: tuple[str, str] = ("道路", "street")) -> tuple[str, str]:
    zh = (f"坐标系可能有误：按声明的 {_ZH_NAME[declared]} 解读，设施到最近{target[0]}的距离中位数为 "
          f"{med[declared]:.0f} 米；按 {_ZH_NAME[best]} 解读仅为 {med[best]:.0f} 米。"
          f"请核对登记表坐标取自哪种地图（可用 --crs {best} 或“坐标系”列指定）。")
    en = (f"The coordinate system may be wrong: read as the declared {_EN_NAME[declared]}, "
          f"facilities lie a median {med[declared]:.0f} m from the nearest {target[1]}; read as "
          f"{_EN_NAME[best]}, only {med[best]:.0f} m. Check which map the coordinates were "
          f"taken from (set it with --crs {best} or a 坐标系/crs column).")
    return zh, en


def _baseline(lon: np.ndarray, lat: np.ndarray, system: str, fn, force: bool, shift_m: float) -> float:
    """Median distance to the nearest street of the same points moved ``shift_m`` in eight
    directions: how far from a street a point lands by chance in this street density."""
    x, y = crsmod.to_wgs84(lon, lat, system, force=force)
    x, y = np.asarray(x, float), np.asarray(y, float)
    ang = np.arange(8) * np.pi / 4 + np.pi / 8
    dx = shift_m * np.cos(ang)[:, None] / (111_320.0 * np.cos(np.radians(y))[None, :])
    dy = shift_m * np.sin(ang)[:, None] / 110_574.0
    d = np.asarray(fn((x[None, :] + dx).ravel(), (y[None, :] + dy).ravel()), dtype=float)
    return float(np.nanmedian(d)) if np.isfinite(d).any() else float("nan")


def _sign_test(d_best: np.ndarray, d_declared: np.ndarray, tol_m: float = 1.0) -> tuple[int, int, float]:
    """(facilities closer under the best system, farther, one-sided binomial p-value)."""
    ok = np.isfinite(d_best) & np.isfinite(d_declared)
    k = int((d_best[ok] < d_declared[ok] - tol_m).sum())
    m = int((d_best[ok] > d_declared[ok] + tol_m).sum())
    n = k + m
    p = sum(math.comb(n, i) for i in range(k, n + 1)) / 2.0 ** n if n else 1.0
    return k, m, float(p)


def _verdict(out: dict, declared: str, best: str, *, ratio: float, min_gain_m: float) -> str:
    """``wrong`` (sure: the declared system puts facilities where chance would, another beside the
    streets, facility by facility), ``suspect`` (another system fits clearly better), else ``ok``."""
    if best == declared:
        return "ok"
    med, base, p = out["medians"], out["baseline_m"], out["p_value"]
    better = med[best] < ratio * med[declared]
    if better and p <= 0.01 and np.isfinite(base) and med[declared] >= 0.5 * base and med[best] <= 0.5 * base:
        return "wrong"
    if better and (p <= 0.05 or med[declared] - med[best] >= min_gain_m):
        return "suspect"
    return "ok"


def crs_plausibility(facilities: gpd.GeoDataFrame,
                     snap_distance_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], *,
                     ratio: float = 0.5, min_gain_m: float = 30.0, min_points: int = 5,
                     force: bool = False, shift_m: float = 400.0,
                     target: tuple[str, str] = ("道路", "street")) -> dict:
    """Check the declared coordinate system against the street network.

    Facilities sit beside streets. Reading the given coordinates as WGS-84, GCJ-02 and BD-09
    in turn, the system that puts them closest to the streets (median snap distance) is most
    likely the true one; a wrong one displaces everything by several hundred metres. On a small
    dense extract a displaced point still lands near *some* street, so absolute distances say
    little; the evidence is relative: how far a point lands from a street by chance (the
    same points moved ``shift_m`` in eight directions, ``baseline_m``), and facility by facility
    whether the other system is closer (a sign test, ``p_value``).

    Parameters
    ----------
    facilities
        Output of :func:`~carecover.inputs.registers.read_facilities`; records with usable
        coordinates inside the area (status ``ok``, ``swapped_fixed``, ``unknown_tier``,
        ``duplicate``) are used.
    snap_distance_fn
        ``f(lon, lat) -> metres`` for arrays of WGS-84 coordinates (distance to nearest street).
    ratio, min_gain_m
        Another system is *suspected* when its median is below ``ratio`` × the declared one's and
        either the sign test gives p ≤ 0.05 or it is at least ``min_gain_m`` metres smaller.
    min_points
        Fewer usable records than this: no verdict (``undecided``, ``reason`` says why).
    force
        Apply the China formulas outside China (tests and synthetic data only).
    shift_m
        Displacement of the chance baseline.
    target
        What ``snap_distance_fn`` measures the distance to, in Chinese and English (for the warning).

    Returns
    -------
    dict
        ``declared`` (most common ``crs_in``), ``best``, ``medians`` {system: m}, ``n``,
        ``verdict`` (``ok`` | ``suspect`` | ``wrong`` | ``undecided``): ``wrong`` when sure —
        the declared system's median is at least half the chance baseline, the best one's at
        most half of it and below ``ratio`` × the declared one's, and the sign test gives
        p ≤ 0.01; ``baseline_m``, ``closer``, ``farther``, ``p_value``; ``warning`` (None, or
        "中文 / English" text), ``warning_zh``, ``warning_en``, ``reason``.
    """
    use = facilities["status"].isin(_CHECKED).to_numpy()
    lon_g, lat_g = _given_coordinates(facilities, use)
    declared = (str(facilities.loc[use, "crs_in"].mode().iloc[0]) if use.any() else "wgs84")
    out: dict[str, Any] = {"declared": declared, "best": declared, "medians": {}, "n": int(use.sum()),
                           "verdict": "undecided", "baseline_m": None, "closer": 0, "farther": 0, "p_value": None,
                           "warning": None, "warning_zh": None, "warning_en": None, "reason": None}
    if use.sum() < min_points:
        out["reason"] = f"too few usable facilities ({int(use.sum())} < {min_points})"
        return out
    dist = {}
    for system in crsmod.SYSTEMS:
        x, y = crsmod.to_wgs84(lon_g, lat_g, system, force=force)
        dist[system] = np.asarray(snap_distance_fn(np.asarray(x), np.asarray(y)), dtype=float)
        out["medians"][system] = float(np.nanmedian(dist[system]))
    med = out["medians"]
    best = min(crsmod.SYSTEMS, key=lambda s: (med[s], s != declared))
    out["best"] = best
    out["baseline_m"] = _baseline(lon_g, lat_g, declared, snap_distance_fn, force, shift_m)
    out["closer"], out["farther"], out["p_value"] = _sign_test(dist[best], dist[declared])
    out["verdict"] = _verdict(out, declared, best, ratio=ratio, min_gain_m=min_gain_m)
    if out["verdict"] in ("suspect", "wrong"):
        out["warning_zh"], out["warning_en"] = _warnings(declared, best, med, target)
        out["warning"] = out["warning_zh"] + " / " + out["warning_en"]
    return out

"""WGS-84 ⇄ GCJ-02 ⇄ BD-09 coordinate transforms (vectorised numpy).

OpenStreetMap is WGS-84. Chinese web maps are not: Amap/高德 and Tencent/腾讯 use GCJ-02
("火星坐标"), Baidu/百度 uses BD-09 (GCJ-02 plus a further offset). Facility registers compiled by
planners usually hold coordinates picked from one of those maps; the offsets are several hundred
metres, as large as half a 15-minute walk, so they must be removed before routing.

The forward GCJ-02 formula is the widely published one (Krasovsky ellipsoid
``a = 6378245.0``, ``ee = 0.00669342162296594323``). There is no closed-form inverse; we iterate
the forward formula until the error is far below 0.5 m (in practice ~1e-9 degrees).

Following the standard convention (e.g. ``coordtransform``), GCJ-02 is the identity outside a
rough China bounding box (:func:`out_of_china`). Every transform takes ``force=True`` to apply the
China formula anywhere: that is only for tests and synthetic data (e.g. pretending a register
of Monaco was compiled on a Chinese web map), never for real data.

All functions accept scalars or arrays (anything numpy can broadcast) and return numpy arrays
of the broadcast shape (0-d arrays, usable as floats, for scalar input).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import shapely

#: Semi-major axis (m) of the Krasovsky 1940 ellipsoid used by GCJ-02.
A = 6378245.0
#: First eccentricity squared of that ellipsoid.
EE = 0.00669342162296594323
#: Constant of the BD-09 offset.
X_PI = np.pi * 3000.0 / 180.0

#: Rough China bounding box used by the standard ``out_of_china`` convention.
CHINA_LON = (73.66, 135.05)
CHINA_LAT = (3.86, 53.55)

#: Canonical names of the coordinate systems.
SYSTEMS = ("wgs84", "gcj02", "bd09")

_ALIASES: dict[str, str] = {}
for _canon, _names in {
    "wgs84": ("wgs84", "wgs-84", "wgs 84", "wgs_84", "epsg:4326", "4326", "gps", "osm",
              "openstreetmap", "cgcs2000", "地球坐标", "谷歌地球"),
    "gcj02": ("gcj02", "gcj-02", "gcj 02", "gcj_02", "火星坐标", "火星坐标系", "国测局坐标",
              "高德", "高德地图", "amap", "gaode", "autonavi", "腾讯", "腾讯地图", "tencent", "qq",
              "天地图火星"),
    "bd09": ("bd09", "bd-09", "bd 09", "bd_09", "bd09ll", "百度", "百度地图", "百度坐标",
             "百度坐标系", "baidu"),
}.items():
    for _n in _names:
        _ALIASES[_n] = _canon

# CGCS2000 (China's national geodetic system) differs from WGS-84 by centimetres: treat as WGS-84.


def normalize_crs_name(text: str) -> str:
    """Canonical system name (``"wgs84"``, ``"gcj02"`` or ``"bd09"``) for a name or alias.

    Case, surrounding spaces and a trailing "坐标系"/"坐标"/"地图" are ignored, so "WGS-84",
    "EPSG:4326", "GCJ-02", "火星坐标", "高德", "腾讯", "BD-09" and "百度" are all understood.

    Raises
    ------
    ValueError
        When the text names no known system (the message lists the accepted names).
    """
    key = str(text).strip().lower()
    if key in _ALIASES:
        return _ALIASES[key]
    for suffix in ("坐标系", "坐标", "地图", "系"):
        if key.endswith(suffix) and key[: -len(suffix)].strip() in _ALIASES:
            return _ALIASES[key[: -len(suffix)].strip()]
    raise ValueError(
        f"未知坐标系 / unknown coordinate system {text!r}; "
        "可用 / accepted: wgs84 (WGS-84, EPSG:4326), gcj02 (GCJ-02, 火星坐标, 高德, 腾讯), "
        "bd09 (BD-09, 百度)"
    )


def _arrays(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon.astype(float, copy=True), lat.astype(float, copy=True)


def out_of_china(lon: Any, lat: Any) -> np.ndarray:
    """True where a point lies outside the rough China box in which GCJ-02 applies.

    The box (lon 73.66–135.05, lat 3.86–53.55) is the standard convention of the published
    transforms; NaN counts as outside.
    """
    lon, lat = _arrays(lon, lat)
    inside = (lon > CHINA_LON[0]) & (lon < CHINA_LON[1]) & (lat > CHINA_LAT[0]) & (lat < CHINA_LAT[1])
    return ~inside


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 offset (degrees) at WGS-84 ``lon``, ``lat`` (the standard formula, no box test)."""
    x = lon - 105.0
    y = lat - 35.0
    sx6 = 20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += sx6 * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += sx6 * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any, *, force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (identity outside China unless ``force``)."""
    lon, lat = _arrays(lon, lat)
    dlon, dlat = _gcj_delta(lon, lat)
    apply = np.ones(lon.shape, bool) if force else ~out_of_china(lon, lat)
    return np.where(apply, lon + dlon, lon), np.where(apply, lat + dlat, lat)


def gcj02_to_wgs84(lon: Any, lat: Any, *, force: bool = False,
                   tol_deg: float = 1e-10, max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 by fixed-point iteration of the forward formula.

    Converges to ``tol_deg`` (default 1e-10 degrees, about 0.01 mm) in a handful of steps; the
    one-step inverse most libraries publish is only good to 1–2 m.
    """
    glon, glat = _arrays(lon, lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        dlon, dlat = _gcj_delta(wlon, wlat)
        elon = wlon + dlon - glon
        elat = wlat + dlat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        err = np.nanmax(np.abs(np.concatenate([elon.ravel(), elat.ravel()])), initial=0.0)
        if err < tol_deg:
            break
    if force:
        return wlon, wlat
    # The forward map is the identity outside the box, so a GCJ-02 point has the iterated
    # preimage when that lies inside the box, else (outside) itself.
    keep = ~out_of_china(wlon, wlat)
    return np.where(keep, wlon, glon), np.where(keep, wlat, glat)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published offset; applied everywhere, as Baidu does)."""
    x, y = _arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: Any, lat: Any, *, tol_deg: float = 1e-10,
                  max_iter: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02: the published approximate inverse, refined by iteration.

    The published inverse alone is off by up to ~1 m; a few fixed-point steps on
    :func:`gcj02_to_bd09` bring it to ``tol_deg``.
    """
    blon, blat = _arrays(lon, lat)
    x = blon - 0.0065
    y = blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * X_PI)
    glon, glat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        flon, flat = gcj02_to_bd09(glon, glat)
        elon, elat = flon - blon, flat - blat
        glon, glat = glon - elon, glat - elat
        if np.nanmax(np.abs(np.concatenate([elon.ravel(), elat.ravel()])), initial=0.0) < tol_deg:
            break
    return glon, glat


def wgs84_to_bd09(lon: Any, lat: Any, *, force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → BD-09 (via GCJ-02)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat, force=force))


def bd09_to_wgs84(lon: Any, lat: Any, *, force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → WGS-84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat), force=force)


def to_wgs84(lon: Any, lat: Any, system: str, *, force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates given in ``system`` (any alias accepted) to WGS-84."""
    canon = normalize_crs_name(system)
    if canon == "gcj02":
        return gcj02_to_wgs84(lon, lat, force=force)
    if canon == "bd09":
        return bd09_to_wgs84(lon, lat, force=force)
    return _arrays(lon, lat)


def from_wgs84(lon: Any, lat: Any, system: str, *, force: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 coordinates to ``system`` (any alias accepted)."""
    canon = normalize_crs_name(system)
    if canon == "gcj02":
        return wgs84_to_gcj02(lon, lat, force=force)
    if canon == "bd09":
        return wgs84_to_bd09(lon, lat, force=force)
    return _arrays(lon, lat)


def transform_geometry(geom: Any, func: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Any:
    """Apply a lon/lat transform such as :func:`gcj02_to_wgs84` to shapely geometries.

    Parameters
    ----------
    geom
        A shapely geometry, an array of them, a GeoSeries or a GeoDataFrame (lon/lat degrees).
    func
        ``func(lon, lat) -> (lon, lat)`` on arrays, e.g. ``gcj02_to_wgs84``.

    Returns
    -------
    The same kind of object with transformed coordinates (GeoSeries/GeoDataFrame keep their
    index, columns and CRS label: the transforms stay within lon/lat degrees).
    """

    def _xy(coords: np.ndarray) -> np.ndarray:
        x, y = func(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    try:
        import geopandas as gpd
    except ImportError:  # pragma: no cover - geopandas is a dependency
        gpd = None
    if gpd is not None and isinstance(geom, gpd.GeoDataFrame):
        out = geom.copy()
        out[geom.geometry.name] = transform_geometry(geom.geometry, func)
        return out
    if gpd is not None and isinstance(geom, gpd.GeoSeries):
        return gpd.GeoSeries(shapely.transform(np.asarray(geom.values), _xy), index=geom.index, crs=geom.crs,
                             name=geom.name)
    return shapely.transform(geom, _xy)

"""The plain bundle of results that the map, report and exports are drawn from.

The pipeline fills a :class:`PlanBundle`; :func:`carecover.outputs.maps.build_map`,
:func:`carecover.outputs.report.write_report` and :func:`carecover.outputs.export.export_all` only read it, so
they can be run (and tested) on any set of GeoDataFrames that follow the contracts in
``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from carecover.errors import InputError
from carecover.tiers import TIERS

#: Facility statuses that take part in routing (ARCHITECTURE.md).
USED_STATUSES = ("ok", "swapped_fixed")


@dataclass
class PlanBundle:
    """Everything the outputs need.

    Attributes
    ----------
    facilities
        Facilities contract (EPSG:4326), optionally with ``reached_elderly`` / ``reached_pop``.
    isochrones
        Columns ``tier``, ``band_min``, ``fid`` (facility id, or "" for the per-tier union),
        geometry (EPSG:4326).
    demand
        Demand contract plus ``time_s__<tier>`` (seconds, ``inf`` when not reached) and
        ``covered__<tier>`` (bool) per tier.
    gaps
        ``gap_id``, ``pop``, ``elderly``, ``area_m2``, ``county``, ``time_to_nearest_s``,
        geometry (representative point).
    gap_hulls
        The gap zones' polygons (EPSG:4326), aligned with ``gaps``, or ``None``.
    cell_polygons
        The polygons the demand points stand for (EPSG:4326), aligned with ``demand``, or
        ``None``.
    sites
        ``rank``, ``tier``, ``method``, ``gain_elderly``, ``gain_pop``, ``lon``, ``lat``,
        ``county``, ``gap_id`` (geometry optional).
    boundaries
        ``name``, ``level``, geometry (EPSG:4326).
    summary
        The content of ``summary.json``.
    lang
        ``"zh"`` (Chinese first) or ``"en"``.
    title
        Title for the map and report; a default is made from the summary when empty.
    params
        The run's :class:`~carecover.plan.params.RunParams` (``None`` for bundles made by hand).
    """

    facilities: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame | None = None
    sites: pd.DataFrame | gpd.GeoDataFrame | None = None
    boundaries: gpd.GeoDataFrame | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    lang: str = "zh"
    title: str = ""
    gap_hulls: gpd.GeoSeries | None = None
    cell_polygons: gpd.GeoSeries | None = None
    params: Any = None

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise InputError(f"unknown language {self.lang!r}", field="lang", expected="'zh' or 'en'")
        for name in ("facilities", "isochrones", "demand", "gaps", "boundaries"):
            gdf = getattr(self, name)
            if gdf is None:
                continue
            if not isinstance(gdf, gpd.GeoDataFrame):
                raise InputError(f"{name} must be a GeoDataFrame", field=name)
            if gdf.crs is None or gdf.crs.to_epsg() != 4326:
                raise InputError(f"{name} must be in EPSG:4326, got {gdf.crs}", field=name,
                                 expected="EPSG:4326 (WGS-84)")

    def tiers_present(self) -> list[str]:
        """Tier keys that have results in ``demand`` or facilities, in ``TIERS`` order."""
        keys = {c.split("__", 1)[1] for c in self.demand.columns if c.startswith("time_s__")}
        keys |= {t for t in self.facilities.get("tier", pd.Series(dtype=object)).dropna().unique()}
        order = list(TIERS)
        return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))

    def display_title(self) -> str:
        """``title``, or a default title in the bundle's language."""
        if self.title:
            return self.title
        city = str(self.summary.get("parameters", {}).get("city", "") or "")
        if self.lang == "zh":
            return f"{city}一刻钟养老服务圈覆盖分析".strip()
        return f"{city} 15-minute elderly-care coverage".strip()


def tr(zh: str, en: str, lang: str) -> str:
    """Bilingual label: "中文 English" when ``lang == "zh"`` (Chinese first), else English only."""
    return f"{zh} {en}" if lang == "zh" else en


def tier_name(key: str | None, lang: str, *, both: bool = True) -> str:
    """Display name of a tier key (unknown keys are shown as written)."""
    if key is None or (isinstance(key, float) and pd.isna(key)) or key == "":
        return tr("未知层级", "Unknown tier", lang) if both else ("未知层级" if lang == "zh" else "Unknown tier")
    t = TIERS.get(str(key))
    if t is None:
        return str(key)
    if lang == "zh":
        return f"{t.name_zh} {t.name_en}" if both else t.name_zh
    return t.name_en


def sites_frame(sites: pd.DataFrame | gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Sites as an EPSG:4326 GeoDataFrame (geometry from ``lon``/``lat`` when absent)."""
    if sites is None:
        return None
    if isinstance(sites, gpd.GeoDataFrame) and sites.geometry.name in sites and sites.crs is not None:
        return sites.to_crs(4326)
    df = pd.DataFrame(sites).drop(columns=["geometry"], errors="ignore")
    for col in ("lon", "lat"):
        if col not in df:
            raise InputError("sites need lon/lat or a geometry", field=col)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)

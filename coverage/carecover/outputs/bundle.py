"""The plain bundle of results that the map, report and exports are drawn from.

The pipeline fills a :class:`PlanBundle`; :func:`carecover.outputs.maps.build_map`,
:func:`carecover.outputs.report.write_report` and :func:`carecover.outputs.export.export_all` only read it, so
they can be run (and tested) on any set of GeoDataFrames that follow the contracts in
``docs/ARCHITECTURE.md``. Results (figures, claims, sites) come from its tables and summary;
parameters (speeds, each tier's mode and threshold, …) only from its
:class:`~carecover.params.RunParams` (``params``), never from ``summary["parameters"]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from carecover.errors import InputError
from carecover.tiers import TIERS

if TYPE_CHECKING:  # carecover.plan imports this module: no import at run time
    from carecover.params import RunParams

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
        ``covered__<tier>`` (bool) per tier; optionally ``nearest_fid__<tier>`` (the nearest
        facility's id, "" when none was reached) and, for planned tiers, ``after_site__<tier>``
        (``candidate`` id of the suggested site nearest after the plan within the threshold,
        "" otherwise) and ``covered_after__<tier>`` (:mod:`carecover.plan.serves`).
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
        The content of ``summary.json``: the results the outputs show (figures, claims,
        fidelity, inputs, software, ``generated_at``). Its ``"parameters"`` entry is not read:
        parameters come from ``params``.
    lang
        ``"zh"`` (Chinese first) or ``"en"``: the language the outputs are written in (the
        pipeline passes ``params.lang``; set another to write the same run in the other language).
    title
        Title for the map and report; ``params.title`` when empty.
    streets
        The study area's streets for display (``kind``: ``major``/``minor``/``path``, merged
        and simplified lines, EPSG:4326; :func:`carecover.network.streetlines.street_lines`),
        or ``None``.
    params
        The run's :class:`~carecover.params.RunParams`: walking and sensitivity speeds,
        each tier's mode and threshold, and the other parameters that the map's title block
        and the report state. The map and the report need it (:meth:`run_params`); layer
        names and the exports do not.
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
    params: RunParams | None = None
    streets: gpd.GeoDataFrame | None = None

    def __post_init__(self) -> None:
        if self.lang not in ("zh", "en"):
            raise InputError(f"unknown language {self.lang!r}", field="lang", expected="'zh' or 'en'")
        for name in ("facilities", "isochrones", "demand", "gaps", "boundaries", "streets"):
            gdf = getattr(self, name)
            if gdf is None:
                continue
            if not isinstance(gdf, gpd.GeoDataFrame):
                raise InputError(f"{name} must be a GeoDataFrame", field=name)
            if gdf.crs is None or gdf.crs.to_epsg() != 4326:
                raise InputError(f"{name} must be in EPSG:4326, got {gdf.crs}", field=name,
                                 expected="EPSG:4326 (WGS-84)")

    def tiers_present(self) -> list[str]:
        """Tier keys that have results in ``demand`` or facilities.

        Returns
        -------
        list of str
            In ``TIERS`` order (unknown keys last).
        """
        keys = {c.split("__", 1)[1] for c in self.demand.columns if c.startswith("time_s__")}
        keys |= {t for t in self.facilities.get("tier", pd.Series(dtype=object)).dropna().unique()}
        order = list(TIERS)
        return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))

    def run_params(self) -> RunParams:
        """The run's parameters.

        Returns
        -------
        RunParams
            ``params``.

        Raises
        ------
        InputError
            The bundle carries no :class:`~carecover.params.RunParams`.
        """
        if self.params is None:
            raise InputError("the bundle has no run parameters (PlanBundle.params is None); the map "
                             "and the report state them", field="params", expected="a RunParams")
        return self.params

    def display_title(self) -> str:
        """The title of the map and the report.

        Returns
        -------
        str
            ``title``, else the run's title, else a generic title in the bundle's language.
        """
        if self.title:
            return self.title
        if self.params is not None and self.params.title:
            return self.params.title
        return "一刻钟养老服务圈覆盖分析" if self.lang == "zh" else "15-minute elderly-care coverage"


def tr(zh: str, en: str, lang: str) -> str:
    """Bilingual label: "中文 English" when ``lang == "zh"`` (Chinese first), else English only.

    Parameters
    ----------
    zh, en
        The label in Chinese and in English.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The label.
    """
    return f"{zh} {en}" if lang == "zh" else en


def tier_name(key: str | None, lang: str, *, both: bool = True) -> str:
    """Display name of a tier key (unknown keys are shown as written).

    Parameters
    ----------
    key
        Tier key (``None``/empty: "unknown tier").
    lang
        ``"zh"`` or ``"en"``.
    both
        In Chinese, add the English name.

    Returns
    -------
    str
        The name.
    """
    if key is None or (isinstance(key, float) and pd.isna(key)) or key == "":
        return tr("未知层级", "Unknown tier", lang) if both else ("未知层级" if lang == "zh" else "Unknown tier")
    t = TIERS.get(str(key))
    if t is None:
        return str(key)
    if lang == "zh":
        return f"{t.name_zh} {t.name_en}" if both else t.name_zh
    return t.name_en


def sites_frame(sites: pd.DataFrame | gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Sites as an EPSG:4326 GeoDataFrame.

    Parameters
    ----------
    sites
        Suggested sites, with a geometry or ``lon``/``lat`` columns, or ``None``.

    Returns
    -------
    GeoDataFrame or None
        The sites (geometry from ``lon``/``lat`` when absent); ``None`` for ``None``.

    Raises
    ------
    InputError
        Neither a geometry nor ``lon``/``lat``.
    """
    if sites is None:
        return None
    if isinstance(sites, gpd.GeoDataFrame) and sites.geometry.name in sites and sites.crs is not None:
        return sites.to_crs(4326)
    df = pd.DataFrame(sites).drop(columns=["geometry"], errors="ignore")
    for col in ("lon", "lat"):
        if col not in df:
            raise InputError("sites need lon/lat or a geometry", field=col)
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)


def ranked_gaps(gaps: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Gaps with their rank.

    Parameters
    ----------
    gaps
        Gap zones (``elderly``, ``pop``, ``gap_id``, optionally ``rank``).

    Returns
    -------
    GeoDataFrame
        A copy with a ``rank`` column: as given, else 1, 2, … by elderly (descending),
        population (descending) and id, the rows then in that order.
    """
    g = gaps.copy()
    if "rank" not in g:
        g = g.sort_values(["elderly", "pop", "gap_id"], ascending=[False, False, True], kind="stable")
        g["rank"] = np.arange(1, len(g) + 1)
    return g

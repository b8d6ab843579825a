"""Plain words for every code a person reads: one bilingual vocabulary (Chinese first).

The machine files (``summary.json``, the CSV tables, documented in ``docs/outputs.md``) keep the
codes (``heuristic``, ``places_per_1000``, ``2sfca``, ``all_of`` …); the report, the workbook,
the maps and the console say them through :func:`term`, whose table is
:data:`VALUES` (also the workbook's value labels, :mod:`carecover.outputs.columns`) — one table,
so a word reads the same everywhere. It sits below every other package (it imports only
:mod:`carecover.tiers`), so analysis, outputs and the command line can all use it. This module adds what is said in sentences: the run's time in the
city's time zone (:func:`local_time`), people counts no one can misread (:func:`people`), a gap's
label (:func:`gap_label`), the recommendation of a sited tier (:func:`recommendation`), what a
Gini coefficient means (:data:`GINI_NOTE`) and the "data" record of a figure as text
(:func:`data_text`).
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["VALUES", "GINI_NOTE", "CODE_WORDS", "data_text", "plain_text", "display_zone", "gap_label", "generated_text",
           "local_time", "people",
           "recommendation", "site_label", "site_labels", "term"]

#: Labels of coded values: column -> value -> (Chinese, English).
VALUES: dict[str, dict[str, tuple[str, str]]] = {
    "status": {"ok": ("正常", "ok"), "swapped_fixed": ("经纬度颠倒已纠正", "lon/lat swapped, fixed"),
               "outside_area": ("在研究区外", "outside the area"), "missing_coords": ("缺少坐标", "no coordinates"),
               "duplicate": ("重复记录", "duplicate"), "unknown_tier": ("层级不明", "unknown tier"),
               "unsnapped": ("未接入路网", "off the network"), "optimal": ("已证最优", "proven optimal"),
               "time_limit": ("达到时间上限（未证最优）", "time limit reached (not proven optimal)"),
               "greedy": ("贪心解", "greedy"), "heuristic": ("近似解（逐个选最优）", "approximate (best one at a time)"),
               "infeasible": ("无可行解", "no feasible solution")},
    "method": {"exact": ("精确(HiGHS)", "exact (HiGHS)"), "greedy": ("贪心", "greedy"),
               "served_exact": ("按服务能力·精确求解", "by capacity, exact"),
               "served_greedy": ("按服务能力·贪心", "by capacity, greedy"),
               "2sfca": ("两步移动搜索法（阈值内）", "two-step catchment (within the threshold)"),
               "e2sfca": ("按距离衰减的两步移动搜索法", "two-step catchment with distance decay")},
    "measure": {"places_per_1000": ("每千名老人可达名额", "places per 1,000 elderly within reach"),
                "share_below_standard": ("低于标准的老年人比例", "share of elderly below the standard"),
                "gini": ("基尼系数（名额分布不均程度）", "Gini coefficient (unevenness of places)")},
    "kind": {"population": ("人口覆盖率", "population coverage"), "all_of": ("多层级同时覆盖", "within reach of all the tiers"),
             "circle": ("直线圆覆盖（对照）", "straight-line circle (comparison)"),
             "administrative": ("行政覆盖率", "administrative coverage"),
             "access": ("供给能力与可达性", "capacity and access")},
    "population": {"elderly": ("老年人口", "elderly"), "total": ("总人口", "all residents")},
    "weight": {"elderly": ("老年人口", "elderly"), "pop": ("总人口", "all residents")},
    "scenario": {"current": ("现状", "current"), "planned": ("规划后", "planned")},
    "mode": {"walk": ("步行", "walk"), "drive": ("驾车", "drive"), "straight line": ("直线距离", "straight line")},
    "tier_mode": {"walk": ("步行", "walk"), "drive": ("驾车", "drive")},
    "area": {"all": ("全区", "whole area"), "urban": ("城区", "urban"), "rural": ("农村", "rural")},
    "result": {"PASS": ("通过", "PASS"), "FAIL": ("未通过", "FAIL"), "NOT EVALUATED": ("未评估", "NOT EVALUATED")},
    "snap_status": {"ok": ("正常", "ok")},
    "crs_in": {"wgs84": ("WGS-84", "WGS-84"), "gcj02": ("GCJ-02(高德/腾讯)", "GCJ-02 (Amap/Tencent)"),
               "bd09": ("BD-09(百度)", "BD-09 (Baidu)")},
    "objective": {"coverage": ("覆盖人数", "elderly covered"), "served": ("按服务能力可服务人数", "elderly served")},
}

#: What a Gini coefficient of places per 1,000 elderly says, where it appears.
GINI_NOTE = ("基尼系数衡量每千名老人可达名额在老年人之间分布的不均衡程度：0 = 人人相同，1 = 全部集中在一处；"
             "新增站点若只惠及部分老人，基尼系数可能上升，即使总体名额增加。",
             "The Gini coefficient measures how unevenly places per 1,000 elderly are spread among the "
             "elderly: 0 = everyone the same, 1 = all in one place; a new site that helps only some of "
             "them can raise it even though places grow overall.")

#: Codes that must not reach a page a person reads (the test of issue 23 scans report.html and
#: the workbook's cells for them).
CODE_WORDS = ("heuristic", "places_per_1000", "share_below_standard", "2sfca", "e2sfca", "all_of",
              "after_site", "street_centre", "community_centre", "meal_point", "township_centre",
              "node/", "time_limit", "served_greedy", "served_exact")

#: Columns whose values are codes, looked up in :data:`VALUES` by this column.
_ALIASES = {"tier_mode": "mode", "status_claim": "result"}


def term(code: Any, column: str, lang: str = "zh", both: bool = False) -> str:
    """A code as people read it.

    Parameters
    ----------
    code
        The value (``"heuristic"``, ``"2sfca"``, ``"walk"`` …); anything else is returned as text.
    column
        The column or field it is a value of (``"status"``, ``"method"``, ``"measure"``,
        ``"kind"``, ``"population"``, ``"area"``, ``"mode"``, ``"scenario"``, ``"result"``).
    lang
        ``"zh"`` or ``"en"``.
    both
        ``"中文 English"`` (Chinese first) instead of one language.

    Returns
    -------
    str
        The label, or the value itself when the vocabulary has none.
    """
    if code is None or (isinstance(code, float) and math.isnan(code)):
        return ""
    hit = VALUES.get(_ALIASES.get(column, column), {}).get(str(code))
    if hit is None:
        return str(code)
    if both and hit[0] != hit[1]:
        return f"{hit[0]} {hit[1]}"
    return hit[0] if lang == "zh" else hit[1]


def display_zone(config_zone: str | None, lang: str = "zh") -> str:
    """The time zone a run's times are shown in: the config's ``timezone``, else Beijing time
    for a Chinese run, else UTC."""
    if config_zone:
        return config_zone
    return "Asia/Shanghai" if lang == "zh" else "UTC"


def local_time(iso: str | None, zone: str | None, lang: str = "zh") -> str:
    """A run's ISO timestamp in local time with its zone: ``2025-06-25 08:00 (Asia/Shanghai,
    UTC+08:00)``; the text as given when it is not an ISO time."""
    from datetime import datetime
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not iso:
        return ""
    try:
        t = datetime.fromisoformat(str(iso))
        tz = ZoneInfo(zone or "UTC")
    except (ValueError, ZoneInfoNotFoundError):
        return str(iso)
    local = t.astimezone(tz)
    off = local.strftime("%z")
    offset = f"UTC{off[:3]}:{off[3:]}" if off else "UTC"
    name = "北京时间" if lang == "zh" and zone == "Asia/Shanghai" else (zone or "UTC")
    return f"{local:%Y-%m-%d %H:%M} ({name}, {offset})"


def generated_text(bundle: Any) -> str:
    """A run's time (``summary["generated_at"]``) in the city's time zone: ``2025-06-25 08:00
    (北京时间, UTC+08:00)``; the zone is the config's ``timezone`` (see :func:`display_zone`)."""
    params = getattr(bundle, "params", None)
    cfg = getattr(params, "config", None) if params is not None else None
    zone = display_zone(getattr(cfg, "timezone", "") if cfg is not None else "", bundle.lang)
    return local_time(bundle.summary.get("generated_at"), zone, bundle.lang)


def people(n: Any, lang: str = "zh") -> str:
    """Whole people with thousands separators and the unit: ``2,713 人`` / ``2,713 people``."""
    try:
        v = float(n)
    except (TypeError, ValueError):
        return "–"
    if not math.isfinite(v):
        return "–"
    return f"{round(v):,d} 人" if lang == "zh" else f"{round(v):,d} people"


def gap_label(gap_id: Any, elderly: Any, place: str = "", lang: str = "zh") -> str:
    """A gap as a sentence names it: ``缺口 1（华侨路、石鼓路附近）：2,713 名老人`` — the id and the
    count never touch, so "缺口1 2,713" cannot be read as 12,713."""
    where = ""
    if place:
        where = f"（{place}附近）" if lang == "zh" else f" (near {place.replace('、', ', ')})"
    try:
        count = f"{round(float(elderly)):,d}"
    except (TypeError, ValueError):
        count = "–"
    if lang == "zh":
        return f"缺口 {gap_id}{where}：{count} 名老人"
    return f"gap {gap_id}{where}: {count} elderly"


def recommendation(tier_name: str, labels: list[str], n_sites: int, lang: str = "zh") -> str:
    """The sentence of a sited tier, its sites by :func:`site_label`:
    ``建议新建 2 处街道级养老服务中心：★1 华侨路、★2 中山东路。``"""
    named = [s for s in dict.fromkeys(labels) if s]
    if lang == "zh":
        where = f"：{'、'.join(named)}" if named else ""
        return f"建议新建 {n_sites} 处{tier_name}{where}。"
    where = f": {', '.join(named)}" if named else ""
    return f"Build {n_sites} new {tier_name} {'site' if n_sites == 1 else 'sites'}{where}."


#: What follows ★rank when a suggested site has no named street nearby (and no facility name).
UNNAMED_STREET = "（无名道路 / unnamed street）"


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ""


def site_label(rank: Any, street: Any = "", facility: Any = "") -> str:
    """The one name of a suggested site, everywhere (map, report, ``sites.csv``, workbook,
    ``whatif``, meeting page): ``★1 碑亭巷`` — its rank in the plan and the OSM name of the
    street it stands on; a site co-located with a public facility (``--candidates-from-osm``)
    by that facility's name (``★1 长江路小学旁 / next to …``); ``★1（无名道路 / unnamed street）``
    when neither is known.

    Parameters
    ----------
    rank
        The site's rank in the plan (1 = first).
    street
        Nearest named street (``place`` of the sites table; only its first name is used).
    facility
        Name of the site from the facility it is co-located with (``site_name``), or "".
    """
    name = _text(facility) or _text(street).split("、")[0].strip()
    head = f"★{int(rank)}"
    return f"{head} {name}" if name else f"{head}{UNNAMED_STREET}"


def site_labels(sites: Any) -> list[str]:
    """:func:`site_label` of every row of a sites table (``rank``, ``place``, ``site_name``)."""
    if sites is None or not len(sites):
        return []
    cols = sites.columns
    n = len(sites)
    ranks = sites["rank"].tolist()
    places = sites["place"].tolist() if "place" in cols else [""] * n
    names = sites["site_name"].tolist() if "site_name" in cols else [""] * n
    return [site_label(r, p, f) for r, p, f in zip(ranks, places, names, strict=True)]


_DATA_KEYS = {
    "facilities": ("设施名录", "facility register"), "network": ("路网", "street network"),
    "population": ("人口", "population"), "boundary": ("边界", "boundary"),
    "facilities_without_capacity": ("无容量数据的设施", "facilities without capacity"),
    "elderly_share": ("老年人口比例", "elderly share"), "census": ("普查", "census"),
    "planned": ("规划", "plan"), "config": ("配置", "config"), "units": ("单元边界", "unit boundaries"),
    "population_file": ("人口数据", "population data"), "sample": ("示例说明", "sample note"),
    "claims": ("声明文件", "claims file"), "capacity": ("容量规则", "capacity rule"),
}
_DATA_VALUES = {"buildings": ("按建筑面积分配", "spread over buildings"), "raster": ("人口栅格", "population raster"),
                "config": ("城市配置", "city config")}


def data_text(data: Any, lang: str = "zh") -> str:
    """The ``data`` record of a figure (which inputs it was computed from) as one line of
    ``名称：值；…`` text instead of a JSON blob; a dict of tier thresholds as
    ``社区养老服务中心/站 15 分钟；…``."""
    from carecover.tiers import TIERS

    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return data
    if not isinstance(data, dict):
        return "" if data is None else str(data)
    i = 0 if lang == "zh" else 1
    parts = []
    for k, v in data.items():
        if k in TIERS:
            name = TIERS[k].name_zh if lang == "zh" else TIERS[k].name_en
            parts.append(f"{name} {v:g} 分钟" if lang == "zh" and isinstance(v, (int, float))
                         else f"{name} {v:g} min" if isinstance(v, (int, float)) else f"{name}：{v}")
            continue
        key = _DATA_KEYS.get(k, (k.replace("_", " "), k.replace("_", " ")))[i]
        if isinstance(v, (dict, list)):
            v = json.dumps(v, ensure_ascii=False)
        elif isinstance(v, str) and v in _DATA_VALUES:
            v = _DATA_VALUES[v][i]
        parts.append(f"{key}：{v}" if lang == "zh" else f"{key}: {v}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


#: Field names that appear inside stated rules ("floor_area_m2 × 0.04 places/m²"), in words.
_FIELDS = {"register:": ("名录：", "register: "), "assumed:": ("假定：", "assumed: "),
           "floor_area_m2": ("建筑面积", "floor area"), "meal_seats": ("助餐座位", "meal seats"),
           "beds": ("床位", "beds"), "capacity_persons": ("服务能力(人)", "capacity (persons)")}


def plain_text(text: Any, lang: str = "zh") -> str:
    """A stated rule or note with its field names in words (``floor_area_m2`` → 建筑面积)."""
    out = "" if text is None else str(text)
    for code, words in _FIELDS.items():
        out = out.replace(code, words[0] if lang == "zh" else words[1])
    return out

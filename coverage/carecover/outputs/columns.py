"""What the exported columns mean: Chinese and English headers, cell kinds, value labels.

One vocabulary for the workbook (:mod:`carecover.outputs.workbook`), the meeting workbook
(:mod:`carecover.meeting.rankings`) and the GeoPackage styles: a column name (``elderly``,
``time_s__street_centre``) maps to

* a Chinese and an English header (:func:`header_zh`, :func:`header_en`); per-tier columns
  (``<prefix>__<tier>``) get the tier's name, and a few names mean something else in one table
  (``status`` of a site is the solver's status, ``gap`` its optimality gap: 求解差距, never to be
  confused with 缺口编号, the id of a coverage gap);
* a cell kind (:func:`kind`): ``people`` (whole people, ``#,##0``), ``share`` (``0.0%``),
  ``seconds``/``minutes``/``metres`` (one decimal), ``area`` (``#,##0`` m²), ``degrees``
  (7 decimals), ``count``, ``bool`` (是/否), ``tier`` (tier names), ``enum`` (labelled values)
  or ``text``.

The CSV files keep the raw column names and values (machine-readable); only the workbook and
the meeting output show these labels.
"""

from __future__ import annotations

import re

from carecover import vocab
from carecover.tiers import TIERS

#: Chinese header per column.
HEADERS_ZH: dict[str, str] = {
    "fid": "设施编号", "name": "名称", "tier": "层级", "tier_raw": "原始层级", "address": "地址",
    "street": "街道", "township": "乡镇", "county": "旗县区", "source": "来源", "source_file": "来源文件",
    "row": "原始行号", "crs_in": "原始坐标系", "lon_in": "原始经度", "lat_in": "原始纬度", "status": "状态",
    "note": "说明", "reached_elderly": "就近覆盖老年人口", "reached_pop": "就近覆盖总人口", "band_min": "等时圈(分钟)",
    "cell_id": "人口单元编号", "pop": "总人口", "elderly": "老年人口(60岁以上)", "area_m2": "面积(平方米)",
    "rank": "排序", "gap_id": "缺口编号", "time_to_nearest_s": "到最近设施时间(秒)", "method": "方法",
    "gain_elderly": "新增覆盖老年人口", "gain_pop": "新增覆盖总人口", "lon": "经度(WGS-84)",
    "lat": "纬度(WGS-84)", "level": "级别", "kind": "指标类型", "tiers": "层级", "population": "人口口径",
    "area": "范围", "threshold_min": "阈值(分钟)", "speed_mps": "速度(米/秒)", "mode": "出行方式",
    "value": "覆盖率", "covered": "覆盖数", "total": "总数", "claim": "声明", "target": "目标",
    "computed": "计算值", "status_claim": "结论", "snap_m": "到道路距离(米)", "snap_status": "接入道路状态",
    "tier_mode": "出行方式", "building": "建筑类型", "levels": "楼层数", "osm_id": "OSM编号", "weight": "权重",
    "scenario": "情景", "data": "数据来源", "median_min": "中位时间(分钟)", "p90_min": "90%分位时间(分钟)",
    "radius_m": "半径(米)", "radius_source": "半径来源", "not_reached_by_network": "圆内但路网不可达",
    "thresholds_min": "阈值(分钟)", "min_cell_id": "最小单元编号", "n_cells": "人口单元数",
    "rep_cell_id": "代表单元编号", "candidate": "候选点编号", "node": "路网节点序号",
    "objective": "目标值(覆盖老年人口)", "gap": "求解差距", "unit": "所属单元", "id": "编号",
    "claim_zh": "声明", "claim_en": "声明(英文)", "basis": "依据", "year": "年份", "op": "比较",
    "result": "结论", "reason": "原因", "p": "站点数", "covered_weight": "覆盖老年人口", "share": "覆盖率",
    "marginal_gain": "边际增益", "site": "候选点序号", "cell_m": "单元边长(米)",
    # capacity and accessibility (issue 13)
    "capacity": "容量(名额)", "capacity_source": "容量来源", "catchment_elderly": "服务范围内加权老年人口",
    "assigned_elderly": "分配老年人口", "load": "负荷(人/名额)", "capacity_persons": "服务能力(人)",
    "beds": "床位", "floor_area_m2": "建筑面积(平方米)", "meal_seats": "助餐座位", "measure": "指标",
    "access_value": "数值(每千老人名额/比例/基尼)", "capacity_rule": "容量规则",
    "standard_per_1000": "标准(每千老人名额)", "decay": "距离衰减",
    # mobility profiles (issue 24)
    "profile": "出行能力档案", "tags": "标签缺失时假设", "direction": "时间方向",
    "covered_elderly": "覆盖老年人口", "covered_elderly_share": "老年人口覆盖率",
    "covered_pop": "覆盖总人口", "covered_pop_share": "总人口覆盖率",
    "site_label": "站点", "site_name": "站点名称", "colocated_kind": "同址设施类型", "colocated_name": "同址设施名称",
    "colocated_m": "与同址设施距离(米)", "colocated_with": "同址设施(全部)",
    "place": "位置(最近的街道)",
    # projected demand (issue 22, --year)
    "elderly_today": "今天老年人口", "covered_today": "今天覆盖老年人口", "uncovered_today": "今天未覆盖老年人口",
    "share_today": "今天覆盖率", "elderly_projected": "预测老年人口", "covered_projected": "预测覆盖老年人口",
    "uncovered_projected": "预测未覆盖老年人口", "share_projected": "预测覆盖率", "projected": "预测值",
}
#: English header per column (the workbook's second header row).
HEADERS_EN: dict[str, str] = {
    "fid": "Facility id", "name": "Name", "tier": "Tier", "tier_raw": "Tier as written", "address": "Address",
    "street": "Street", "township": "Township", "county": "County", "source": "Source",
    "source_file": "Source file", "row": "Row in file", "crs_in": "Input CRS", "lon_in": "Longitude as given",
    "lat_in": "Latitude as given", "status": "Status", "note": "Note", "reached_elderly": "Elderly served (nearest)",
    "reached_pop": "Residents served (nearest)", "band_min": "Band (min)", "cell_id": "Cell id",
    "pop": "Residents", "elderly": "Elderly (60+)", "area_m2": "Area (m²)", "rank": "Rank", "gap_id": "Gap id",
    "time_to_nearest_s": "Time to nearest (s)", "method": "Method", "gain_elderly": "Elderly gained",
    "gain_pop": "Residents gained", "lon": "Longitude (WGS-84)", "lat": "Latitude (WGS-84)", "level": "Level",
    "kind": "Figure kind", "tiers": "Tiers", "population": "Population", "area": "Area",
    "threshold_min": "Threshold (min)", "speed_mps": "Speed (m/s)", "mode": "Mode", "value": "Coverage",
    "covered": "Covered", "total": "Total", "claim": "Claim", "target": "Target", "computed": "Computed",
    "snap_m": "Distance to street (m)", "snap_status": "Snap status", "tier_mode": "Mode",
    "building": "Building", "levels": "Levels", "osm_id": "OSM id", "weight": "Weight", "scenario": "Scenario",
    "data": "Data", "median_min": "Median (min)", "p90_min": "90th percentile (min)", "radius_m": "Radius (m)",
    "radius_source": "Radius source", "not_reached_by_network": "In circle, not reached",
    "thresholds_min": "Thresholds (min)", "min_cell_id": "Smallest cell id", "n_cells": "Cells",
    "rep_cell_id": "Representative cell", "candidate": "Candidate id", "node": "Network node",
    "objective": "Objective (elderly covered)", "gap": "Solver optimality gap", "unit": "Unit", "id": "Id",
    "claim_zh": "Claim (Chinese)", "claim_en": "Claim", "basis": "Basis", "year": "Year", "op": "Comparison",
    "result": "Result", "reason": "Reason", "p": "Sites", "covered_weight": "Elderly covered", "share": "Coverage",
    "marginal_gain": "Marginal gain", "site": "Candidate index", "cell_m": "Cell size (m)",
    "capacity": "Places", "capacity_source": "Capacity source", "catchment_elderly": "Weighted elderly in catchment",
    "assigned_elderly": "Elderly assigned", "load": "Load (elderly per place)", "capacity_persons": "Capacity (persons)",
    "beds": "Beds", "floor_area_m2": "Floor area (m²)", "meal_seats": "Meal seats", "measure": "Measure",
    "access_value": "Value (places per 1,000 / share / Gini)", "capacity_rule": "Capacity rule",
    "standard_per_1000": "Standard (places per 1,000)", "decay": "Distance decay",
    # mobility profiles (issue 24)
    "profile": "Mobility profile", "tags": "Untagged ways taken as", "direction": "Times measured",
    "covered_elderly": "Elderly covered", "covered_elderly_share": "Elderly coverage",
    "covered_pop": "Population covered", "covered_pop_share": "Population coverage",
    "site_label": "Site", "site_name": "Site name", "colocated_kind": "Co-located facility kind", "colocated_name": "Co-located facility",
    "colocated_m": "Distance to co-located facility (m)", "colocated_with": "Co-located facilities (all)",
    "place": "Where (nearest streets)",
    # projected demand (issue 22, --year)
    "elderly_today": "Elderly today", "covered_today": "Elderly covered today", "uncovered_today": "Elderly uncovered today",
    "share_today": "Coverage today", "elderly_projected": "Elderly (projected)", "covered_projected": "Elderly covered (projected)",
    "uncovered_projected": "Elderly uncovered (projected)", "share_projected": "Coverage (projected)",
    "projected": "Projection",
}
#: Headers that differ in one table: ``(table, column) -> (Chinese, English)``.
TABLE_HEADERS: dict[tuple[str, str], tuple[str, str]] = {
    ("sites", "status"): ("求解状态", "Solver status"),
    ("sites", "gap"): ("求解差距(最优性)", "Solver optimality gap"),
    ("sites", "gap_id"): ("所在缺口编号", "Gap id"),
    ("coverage", "covered"): ("覆盖数(人或单元)", "Covered (people or units)"),
    ("coverage", "total"): ("总数(人或单元)", "Total (people or units)"),
    ("claims", "source"): ("声明来源", "Claim source"),
    ("claims", "covered"): ("覆盖数", "Covered"),
    ("gaps", "rank"): ("总排序", "Rank (all tiers)"),
}
#: Per-tier columns ``<prefix>__<tier>``: (Chinese, English) of the prefix.
PREFIXES: dict[str, tuple[str, str]] = {
    "time_s": ("出行时间(秒)", "Travel time (s)"),
    "covered": ("是否覆盖", "Covered"),
    "covered_after": ("新增站点后是否覆盖", "Covered after the plan"),
    "nearest_fid": ("最近设施编号", "Nearest facility id"),
    "circle_not_reached": ("圆内但路网不可达", "In circle, not reached by network"),
    "access_2sfca": ("每千老人可达名额(阈值内)", "Places per 1,000 elderly (within the threshold)"),
    "access_e2sfca": ("每千老人可达名额(距离衰减)", "Places per 1,000 elderly (distance decay)"),
    "after_site": ("规划后服务该处的新站点", "New site serving it after the plan"),
}

#: Cell kind per column (see the module docstring); per-tier columns by prefix.
KINDS: dict[str, str] = {
    **dict.fromkeys(["pop", "elderly", "gain_elderly", "gain_pop", "reached_elderly", "reached_pop",
                     "objective", "covered_weight", "marginal_gain", "elderly_covered", "elderly_total",
                     "pop_covered", "pop_total", "covered", "total"], "people"),
    **dict.fromkeys(["value", "target", "computed", "share", "gap", "cum_elderly_share", "cum_pop_share",
                     "elderly_share", "pop_share"], "share"),
    **dict.fromkeys(["time_s", "time_to_nearest_s"], "seconds"),
    **dict.fromkeys(["threshold_min", "band_min", "median_min", "p90_min", "time_to_nearest_min"], "minutes"),
    **dict.fromkeys(["snap_m", "radius_m", "cell_m"], "metres"),
    "area_m2": "area", "speed_mps": "speed",
    **dict.fromkeys(["lon", "lat", "lon_in", "lat_in"], "degrees"),
    **dict.fromkeys(["rank", "row", "n_cells", "p", "tier_rank", "sites_added", "levels"], "count"),
    "not_reached_by_network": "people",
    **dict.fromkeys(["catchment_elderly", "assigned_elderly", "capacity_persons", "beds", "meal_seats"], "people"),
    "floor_area_m2": "area", "capacity": "decimal", "load": "decimal",
    **dict.fromkeys(["covered_elderly", "covered_pop"], "people"),
    **dict.fromkeys(["covered_elderly_share", "covered_pop_share"], "share"),
    **dict.fromkeys(["tier", "tiers"], "tier"),
}
#: Cell kind of the per-tier columns ``<prefix>__<tier>``.
_PREFIX_KINDS = {"time_s": "seconds", "covered": "bool", "covered_after": "bool", "nearest_fid": "text",
                 "after_site": "text",
                 "circle_not_reached": "bool",
                 "access_2sfca": "decimal", "access_e2sfca": "decimal"}
#: Number format per kind (Excel codes).
NUMBER_FORMATS: dict[str, str] = {
    "people": "#,##0", "share": "0.0%", "seconds": "#,##0.0", "minutes": "0.0", "metres": "#,##0.0",
    "area": "#,##0", "speed": "0.0#", "decimal": "#,##0.00", "degrees": "0.0000000", "count": "0",
}
_SHARE_WITHIN = re.compile(r"^share_within_(\d+(?:\.\d+)?)min$")

#: Labels of coded values (the one vocabulary, :mod:`carecover.vocab`).
VALUES = vocab.VALUES


def split_tier(col: str) -> tuple[str, str | None]:
    """``"time_s__street_centre"`` → ``("time_s", "street_centre")``; other names → ``(col, None)``."""
    if "__" in col:
        prefix, key = col.split("__", 1)
        return prefix, key
    return col, None


def _tier_name(key: str, lang: str) -> str:
    t = TIERS.get(key)
    if t is None:
        return key
    return t.name_zh if lang == "zh" else t.name_en


def header(col: str, lang: str = "zh", table: str = "") -> str:
    """Header of a column in Chinese (``lang="zh"``) or English.

    Parameters
    ----------
    col
        Column name, e.g. ``"elderly"`` or ``"time_s__street_centre"``.
    lang
        ``"zh"`` or ``"en"``.
    table
        The table the column is in (``sites``: ``gap`` is the solver's gap).

    Returns
    -------
    str
        E.g. ``"老年人口(60岁以上)"``, ``"出行时间(秒)·街道级养老服务中心"``; the name itself
        when unknown.
    """
    i = 0 if lang == "zh" else 1
    if (table, col) in TABLE_HEADERS:
        return TABLE_HEADERS[table, col][i]
    prefix, key = split_tier(col)
    if key is not None:
        p = PREFIXES.get(prefix)
        label = p[i] if p else prefix
        return f"{label}·{_tier_name(key, lang)}" if lang == "zh" else f"{label} · {_tier_name(key, lang)}"
    m = _SHARE_WITHIN.match(col)
    if m:
        return f"{m.group(1)}分钟内比例" if lang == "zh" else f"Share within {m.group(1)} min"
    return (HEADERS_ZH if lang == "zh" else HEADERS_EN).get(col, col)


def header_zh(col: str) -> str:
    """Chinese header of a column (:func:`header` with ``lang="zh"``)."""
    return header(col, "zh")


def header_en(col: str) -> str:
    """English header of a column (:func:`header` with ``lang="en"``)."""
    return header(col, "en")


def kind(col: str, table: str = "") -> str:
    """Cell kind of a column (see the module docstring; ``text`` when unknown).

    Parameters
    ----------
    col
        Column name.
    table
        The table (claims' and coverage's ``covered``/``total`` may count units, still whole).
    """
    prefix, key = split_tier(col)
    if key is not None:
        return _PREFIX_KINDS.get(prefix, "text")
    if _SHARE_WITHIN.match(col):
        return "share"
    if table == "sites" and col == "gap":
        return "share"
    return KINDS.get(col, "text")


def label_value(col: str, value, lang: str = "zh"):
    """A coded value as people read it (tier keys as tier names, statuses, methods …).

    Parameters
    ----------
    col
        Column name.
    value
        The raw value (other types are returned as they are).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    object
        The label, or ``value`` when the column or value has none.
    """
    if not isinstance(value, str):
        return value
    i = 0 if lang == "zh" else 1
    if col in ("tier", "tiers"):
        keys = _tier_keys(value)
        if keys is not None:
            sep = "、" if lang == "zh" else ", "
            return sep.join(_tier_name(k, lang) for k in keys)
        return value
    hit = VALUES.get(col, {}).get(value)
    return hit[i] if hit else value


def _tier_keys(value: str) -> list[str] | None:
    """Tier keys in ``value``: one key, a JSON list of keys (``["a", "b"]``) or ``a,b``."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    keys = [k.strip().strip('"').strip("'") for k in re.split(r"[,+]", text) if k.strip()]
    return keys if keys and all(k in TIERS for k in keys) else None

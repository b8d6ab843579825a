"""Register headers: accepted names per field, column mapping, the header row, required fields.

表头：每个字段可用的表头名称、列映射、表头行识别、必需字段检查。
The accepted headers are documented in ``docs/register_schema.md`` (kept in step by a test).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from carecover import crs as crsmod
from carecover.errors import InputError

__all__ = ["FIELD_ALIASES", "MEASURE_FIELDS", "REQUIRED", "map_columns", "header_row", "require_fields",
           "check_one_header_row"]

#: Accepted header names per field, in priority order (first match wins when a register has
#: several, e.g. both 编号 and 序号). Matching ignores case, spaces, ``_``/``-`` and full-width
#: forms, and a bracketed suffix such as ``经度（高德）``.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "fid": ("编号", "设施编号", "机构编号", "id", "fid", "code", "代码", "序号", "no"),
    "name": ("名称", "机构名称", "设施名称", "单位名称", "name", "facility", "facilityname"),
    "tier_raw": ("层级", "设施层级", "类型", "设施类型", "机构类型", "类别", "级别", "tier", "type",
                 "category", "level"),
    "lon": ("经度", "lon", "lng", "long", "longitude", "x"),
    "lat": ("纬度", "lat", "latitude", "y"),
    "lonlat": ("经纬度", "坐标", "coordinates", "lonlat", "lnglat"),
    "address": ("地址", "详细地址", "机构地址", "address", "addr"),
    "street": ("街道", "所属街道", "街道办事处", "street", "subdistrict"),
    "township": ("乡镇", "苏木", "乡镇苏木", "乡镇（苏木）", "所属乡镇", "township", "town"),
    "county": ("旗县区", "区县", "县区", "旗县", "旗县（市、区）", "所属旗县区", "county", "district"),
    "crs": ("坐标系", "坐标系统", "crs", "coordinatesystem", "srs"),
    # supply measures (optional; which one counts is the city config's [capacity.<tier>])
    "capacity_persons": ("服务能力", "服务人数", "capacity", "capacity_persons", "service_capacity"),
    "beds": ("床位", "床位数", "床位数量", "beds", "bed", "bed_count"),
    "floor_area_m2": ("建筑面积", "面积", "floor_area_m2", "floor_area", "area_m2"),
    "meal_seats": ("助餐座位", "助餐座位数", "座位", "座位数", "餐位", "meal_seats", "seats"),
}
#: The optional supply-measure fields (numbers; see :mod:`carecover.config.capacity`).
MEASURE_FIELDS = ("capacity_persons", "beds", "floor_area_m2", "meal_seats")
#: Fields a register must have (coordinates as lon+lat, a combined column, or geometry).
REQUIRED = ("name", "tier_raw", "lon", "lat")
_FIELD_ZH = {"fid": "编号", "name": "名称", "tier_raw": "层级", "lon": "经度", "lat": "纬度",
             "lonlat": "经纬度", "address": "地址", "street": "街道", "township": "乡镇",
             "county": "旗县区", "crs": "坐标系", "capacity_persons": "服务能力", "beds": "床位",
             "floor_area_m2": "建筑面积", "meal_seats": "助餐座位"}

_BRACKETS = re.compile(r"[\(\[【](.*?)[\)\]】]")


def _norm(text: Any) -> str:
    """Header key: NFKC (full-width → ASCII), lower case, no spaces, ``_``, ``-`` or dots."""
    s = unicodedata.normalize("NFKC", str(text)).strip().lower()
    return re.sub(r"[\s_\-.:：]+", "", s)


_ALIAS_RANK: dict[str, tuple[str, int]] = {}
for _field, _names in FIELD_ALIASES.items():
    for _rank, _name in enumerate(_names):
        _ALIAS_RANK.setdefault(_norm(_name), (_field, _rank))


def _match_header(header: Any) -> tuple[str | None, int, str | None]:
    """(field, rank, crs hint) for one header cell."""
    key = _norm(header)
    if key in _ALIAS_RANK:
        return (*_ALIAS_RANK[key], None)
    hint = None
    for inner in _BRACKETS.findall(key):
        try:
            hint = crsmod.normalize_crs_name(inner)
        except ValueError:
            pass
    stripped = _BRACKETS.sub("", key)
    if stripped in _ALIAS_RANK:
        return (*_ALIAS_RANK[stripped], hint)
    return None, 0, None


def map_columns(headers: Sequence[Any]) -> tuple[dict[str, int], str | None]:
    """Map header cells to fields.

    Parameters
    ----------
    headers
        The header cells in column order.

    Returns
    -------
    (mapping, crs_hint)
        ``mapping`` field → column position; ``crs_hint`` a coordinate system named in a
        coordinate header such as ``经度（高德）`` (GCJ-02), or ``None``.
    """
    best: dict[str, tuple[int, int]] = {}
    hint = None
    for pos, header in enumerate(headers):
        field, rank, h = _match_header(header)
        if field is None:
            continue
        if field not in best or rank < best[field][0]:
            best[field] = (rank, pos)
        if h and field in ("lon", "lat", "lonlat"):
            hint = hint or h
    return {f: pos for f, (_, pos) in best.items()}, hint


def accepted(field: str) -> str:
    """The accepted headers of ``field``, for messages.

    Parameters
    ----------
    field
        A key of :data:`FIELD_ALIASES`.

    Returns
    -------
    str
        The accepted names joined with ", ".
    """
    return ", ".join(FIELD_ALIASES[field])


def header_row(records: list[list[str]]) -> int:
    """Index of the header among the first 20 records: the one matching most fields (≥ 2),
    so title rows above it are skipped.

    Parameters
    ----------
    records
        The first lines of the file, as lists of cells.

    Returns
    -------
    int
        0-based index of the header line (0 when no line matches two fields).
    """
    best, best_n = 0, 1
    for i, rec in enumerate(records[:20]):
        n = len(map_columns(rec)[0])
        if n > best_n:
            best, best_n = i, n
    return best


def require_fields(columns: Sequence[Any], *, has_geometry: bool, path, hint: str = "") -> tuple[dict[str, int], str | None]:
    """Map ``columns`` and check the required fields are there.

    Parameters
    ----------
    columns
        The table's headers.
    has_geometry
        The file has usable geometry (stands in for lon/lat columns).
    path
        The file, for the message.
    hint
        Text appended to the message (e.g. which sheet was read).

    Returns
    -------
    (mapping, crs_hint)
        As :func:`map_columns`.

    Raises
    ------
    InputError
        A required field is missing: the message names it (Chinese and English), its
        accepted headers and the headers found.
    """
    cols, crs_hint = map_columns(list(columns))
    _refuse_repeated(list(columns), path)
    have = set(cols)
    if has_geometry:
        have |= {"lon", "lat"}
    if "lonlat" in have:
        have |= {"lon", "lat"}
    missing = [f for f in REQUIRED if f not in have]
    if missing:
        parts = [f"「{_FIELD_ZH[f]}」/ '{f}' (可用表头 accepted: {accepted(f)})" for f in missing]
        found = ", ".join(str(c) for c in columns)
        raise InputError(f"缺少必需列 / missing required column(s): {'; '.join(parts)}; "
                         f"文件中的表头 / headers found: {found}{hint}", file=path,
                         field=missing[0], expected="one of: " + accepted(missing[0]))
    return cols, crs_hint


def _refuse_repeated(columns: list[Any], path) -> None:
    """Two columns with the same header naming a field (e.g. two 经度 columns):
    which one holds the values cannot be known, so the file is refused naming both."""
    seen: dict[str, int] = {}
    for pos, header in enumerate(columns):
        field, _, _ = _match_header(header)
        if field is None:
            continue
        key = _norm(header)
        if key in seen:
            first = seen[key]
            raise InputError(f"第 {first + 1} 列与第 {pos + 1} 列的表头都表示「{_FIELD_ZH.get(field, field)}」/ columns "
                             f"{first + 1} ('{columns[first]}') and {pos + 1} ('{header}') both give '{field}'",
                             file=path, field=str(header), expected="one column per field: rename or delete one of them")
        seen[key] = pos


def check_one_header_row(records: list[list[str]], h: int, path) -> None:
    """Refuse a header spanning two rows (a merged title cell above, the names below it):
    the row under the header names fields, in columns the header row leaves empty.

    Parameters
    ----------
    records
        The first lines of the file, as lists of cells.
    h
        The header line (:func:`header_row`).
    path
        The file, for the message.

    Raises
    ------
    InputError
        Naming both rows.
    """
    if h + 1 >= len(records):
        return
    head, below = records[h], records[h + 1]
    extra = [pos for f, pos in map_columns(below)[0].items()
             if f not in map_columns(head)[0] and (pos >= len(head) or not str(head[pos]).strip())]
    if extra:
        raise InputError(f"表头跨两行（第 {h + 1} 行与第 {h + 2} 行）/ the header spans two rows ({h + 1} and {h + 2}): "
                         f"'{below[extra[0]]}' is under an empty header cell", file=path, row=h + 2,
                         expected="every column name on one header row (unmerge the cells)")

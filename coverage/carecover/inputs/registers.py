"""Facility registers (CSV/XLSX/GeoJSON/GeoPackage) → facilities GeoDataFrame with validation.

Registers compiled by planners are messy: Chinese or English headers, GBK-encoded CSV saved by
Excel, a title row above the header, coordinates picked from Amap/Baidu (GCJ-02/BD-09), latitude
and longitude swapped, text in number cells, the same facility listed twice. :func:`read_facilities`
reads all of that into the Facilities contract of ``docs/ARCHITECTURE.md``: **one row per input
record**, each with a ``status`` and a human-readable ``note``; nothing is silently dropped.
The accepted headers are documented in ``docs/register_schema.md`` (generated from
:data:`FIELD_ALIASES`).

Not records (and therefore not rows): completely empty lines, and comment lines whose first
cell starts with ``#`` (the template's example rows). Their count is kept in the
:class:`~carecover.inputs.facilities.Register` that :func:`read_register` returns.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover import crs as crsmod
from carecover.errors import InputError
from carecover.inputs.facilities import Register
from carecover.tiers import tier_key
from carecover.utils import atomic_write

#: Columns of the Facilities GeoDataFrame, in order (docs/ARCHITECTURE.md).
COLUMNS: tuple[str, ...] = (
    "fid", "name", "tier", "tier_raw", "address", "street", "township", "county", "source",
    "source_file", "row", "crs_in", "lon_in", "lat_in", "status", "note", "geometry",
)

#: Status values, in the order validation tables list them, with Chinese and English labels.
STATUSES: dict[str, tuple[str, str]] = {
    "ok": ("正常", "ok"),
    "swapped_fixed": ("经纬度颠倒已纠正", "lat/lon swapped, fixed"),
    "outside_area": ("位于研究区域外", "outside the study area"),
    "missing_coords": ("缺少或无效坐标", "missing or invalid coordinates"),
    "duplicate": ("重复记录", "duplicate record"),
    "unknown_tier": ("无法识别的设施层级", "unknown tier"),
    "unsnapped": ("距道路过远，未接入路网", "too far from any street, not routed"),
}
#: Statuses whose facilities are used in routing.
USABLE = ("ok", "swapped_fixed")

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
}
#: Fields a register must have (coordinates as lon+lat, a combined column, or geometry).
REQUIRED = ("name", "tier_raw", "lon", "lat")
_FIELD_ZH = {"fid": "编号", "name": "名称", "tier_raw": "层级", "lon": "经度", "lat": "纬度",
             "lonlat": "经纬度", "address": "地址", "street": "街道", "township": "乡镇",
             "county": "旗县区", "crs": "坐标系"}

#: Radius (m) within which two records with the same name and tier count as one facility.
DUPLICATE_RADIUS_M = 10.0

_TEXT_FIELDS = ("address", "street", "township", "county")
_BRACKETS = re.compile(r"[\(\[【](.*?)[\)\]】]")
_TABULAR = {".csv", ".txt", ".tsv"}
_EXCEL = {".xlsx", ".xlsm"}
_GEO = {".geojson", ".json", ".gpkg", ".shp", ".fgb"}


# --------------------------------------------------------------------------------------------
# headers


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


def _accepted(field: str) -> str:
    return ", ".join(FIELD_ALIASES[field])


def _header_row(records: list[list[str]]) -> int:
    """Index of the header among the first records: the one matching most fields (≥ 2)."""
    best, best_n = 0, 1
    for i, rec in enumerate(records[:20]):
        n = len(map_columns(rec)[0])
        if n > best_n:
            best, best_n = i, n
    return best


# --------------------------------------------------------------------------------------------
# readers: each returns (table of str, first data row number as a person sees it, info)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
    return str(v).strip()


def _detect_encoding(path: Path) -> str:
    raw = path.read_bytes()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError("文件为空 / the file is empty", file=path)
    if raw.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw[:65536]:
        raise InputError("不是文本文件 / not a text (CSV) file", file=path,
                         expected="CSV in UTF-8 or GBK, or an .xlsx workbook")
    for enc in ("utf-8", "gb18030"):
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputError("无法识别文件编码 / cannot decode the file", file=path,
                     expected="UTF-8, UTF-8 with BOM or GBK/GB18030")


def _read_csv(path: Path) -> tuple[pd.DataFrame, int, dict]:
    enc = _detect_encoding(path)
    with open(path, encoding=enc, newline="") as fh:
        head = fh.read(65536)
    lines = [ln for ln in head.splitlines()[:10] if ln.strip()]
    sep = max([",", "\t", ";"], key=lambda c: sum(ln.count(c) for ln in lines)) if lines else ","
    records = list(csv.reader(io.StringIO(head), delimiter=sep))[:20]
    h = _header_row(records)
    header = [c.strip() for c in records[h]] if records else []
    try:
        df = pd.read_csv(path, encoding=enc, sep=sep, header=None, skiprows=h + 1, dtype=str,
                         keep_default_na=False, na_filter=False, skip_blank_lines=False,
                         names=list(range(max(len(header), 1))), engine="c")
    except pd.errors.EmptyDataError:
        df = pd.DataFrame(columns=list(range(len(header))), dtype=str)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"CSV 格式错误 / malformed CSV: {exc}", file=path) from None
    df = df.fillna("")
    df.columns = header + [f"_extra{i}" for i in range(len(df.columns) - len(header))]
    return df, h + 2, {"encoding": "gbk/gb18030" if enc == "gb18030" else enc, "delimiter": sep,
                       "header_row": h + 1}


def _read_xlsx(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, int, dict]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt files
        raise InputError(f"无法读取 Excel 文件 / cannot read the workbook: {exc}", file=path,
                         expected=".xlsx saved by Excel or WPS") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif isinstance(sheet, int):
            ws = wb.worksheets[sheet]
        else:
            ws = wb[sheet]
    except (KeyError, IndexError):
        raise InputError(f"找不到工作表 / no sheet {sheet!r}", file=path,
                         expected="one of " + ", ".join(wb.sheetnames)) from None
    rows = [[_cell(v) for v in r] for r in ws.iter_rows(values_only=True)]
    wb.close()
    if not any(any(c for c in r) for r in rows):
        raise InputError("工作表为空 / the sheet is empty", file=path)
    h = _header_row(rows)
    width = max(len(r) for r in rows)
    header = rows[h] + [""] * (width - len(rows[h]))
    body = [r + [""] * (width - len(r)) for r in rows[h + 1:]]
    df = pd.DataFrame(body, columns=range(width), dtype=object).astype(str)
    df.columns = header
    return df, h + 2, {"sheet": ws.title, "sheets": list(wb.sheetnames), "header_row": h + 1}


def _read_geo(path: Path, layer: str | int | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, dict]:
    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        raise InputError(f"无法读取地理数据文件 / cannot read the file: {exc}", file=path,
                         expected="GeoJSON, GeoPackage or Shapefile of points") from None
    info: dict = {"layer": layer}
    if gdf.crs is not None and not gdf.crs.equals("EPSG:4326"):
        # Projected or national geographic CRS (e.g. CGCS2000, EPSG:4490): reproject to lon/lat.
        info["reprojected_from"] = gdf.crs.to_string()
        gdf = gdf.to_crs("EPSG:4326")
    geom = gdf.geometry.values
    lon = np.full(len(gdf), np.nan)
    lat = np.full(len(gdf), np.nan)
    has = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    if has.any():
        pts = np.asarray(geom[has], dtype=object)
        is_pt = shapely.get_type_id(pts) == 0
        pts = np.where(is_pt, pts, shapely.point_on_surface(pts))  # polygons → a point inside
        lon[has], lat[has] = shapely.get_x(pts), shapely.get_y(pts)
    df = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    for c in df.columns:
        df[c] = df[c].map(_cell).astype(str)
    df.columns = [str(c) for c in df.columns]
    return df, lon, lat, info


# --------------------------------------------------------------------------------------------
# validation


def _to_float(text: pd.Series) -> np.ndarray:
    """Numbers from text cells; NaN for empty or non-numeric text (full-width digits and a
    trailing ° are accepted)."""
    vals = np.array(pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    retry = np.isnan(vals) & (text.to_numpy(dtype=object) != "")
    if retry.any():
        fixed = (text[retry].str.normalize("NFKC").str.strip().str.rstrip("°度EeNn ")
                 .str.replace("，", ".", regex=False))
        vals[retry] = pd.to_numeric(fixed, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    return vals


def _boundary_geometry(boundary: Any) -> Any:
    """Study area as one prepared WGS-84 polygon (:func:`carecover.inputs.boundaries.boundary_geometry`)."""
    from carecover.inputs.boundaries import boundary_geometry

    geom = boundary_geometry(boundary, role="boundary")
    if geom is not None:
        shapely.prepare(geom)
    return geom


def _inside(lon: np.ndarray, lat: np.ndarray, area: Any) -> np.ndarray:
    ok = np.isfinite(lon) & np.isfinite(lat)
    out = np.zeros(lon.shape, bool)
    if area is None:
        out[ok] = ~crsmod.out_of_china(lon[ok], lat[ok])
    else:
        out[ok] = shapely.contains_xy(area, lon[ok], lat[ok])
    return out


def _near_duplicates(key: np.ndarray, lon: np.ndarray, lat: np.ndarray,
                     radius_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For points sharing ``key``: (is later duplicate, position of the first earlier match).

    Grid cells at least ``radius_m`` wide everywhere, neighbours searched in 3 × 3 cells, so the
    work grows with the number of true near pairs, not with the square of a common name's count.
    """
    n = len(key)
    dup = np.zeros(n, bool)
    first = np.full(n, -1)
    cand = np.flatnonzero(pd.Series(key).duplicated(keep=False).to_numpy() & np.isfinite(lon))
    # key: integer identity of (name, tier)
    if len(cand) == 0:
        return dup, first
    k = pd.factorize(key[cand])[0]
    coslat = np.cos(np.radians(min(85.0, float(np.abs(lat[cand]).max()))))
    cx = radius_m / (111320.0 * coslat)
    cy = radius_m / 110574.0
    a = pd.DataFrame({"p": cand, "k": k, "ix": np.floor(lon[cand] / cx).astype(np.int64),
                      "iy": np.floor(lat[cand] / cy).astype(np.int64)})
    pairs = []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            b = a.assign(ix=a.ix + dx, iy=a.iy + dy)
            m = a.merge(b, on=["k", "ix", "iy"], suffixes=("", "_b"))
            pairs.append(m.loc[m.p_b < m.p, ["p", "p_b"]])
    m = pd.concat(pairs, ignore_index=True)
    if len(m):
        p, q = m.p.to_numpy(), m.p_b.to_numpy()
        dxm = (lon[p] - lon[q]) * 111320.0 * np.cos(np.radians((lat[p] + lat[q]) / 2))
        dym = (lat[p] - lat[q]) * 110574.0
        close = np.hypot(dxm, dym) <= radius_m
        m = m[close].groupby("p").p_b.min()
        dup[m.index.to_numpy()] = True
        first[m.index.to_numpy()] = m.to_numpy()
    return dup, first


def _clean(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stripped text of a column as (values, codes, unique values).

    Work is done once per distinct value, which is what keeps million-row registers fast
    (tiers, systems, streets repeat; only ids and names are mostly distinct).
    """
    codes, uniq = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    su = np.array(["" if u is None or u != u else str(u).strip() for u in uniq], dtype=object)
    return su[codes] if len(su) else np.full(len(series), "", dtype=object), codes, su


def _validate(table: pd.DataFrame, cols: dict[str, int], rows: np.ndarray, *, file: Path,
              crs_default: str, area: Any, strict: bool,
              geo_lon: np.ndarray | None = None, geo_lat: np.ndarray | None = None,
              source: str = "register") -> gpd.GeoDataFrame:
    n = len(table)
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def col(field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if field not in cache:
            if field in cols:
                cache[field] = _clean(table.iloc[:, cols[field]])
            else:
                cache[field] = (np.full(n, "", dtype=object), np.zeros(n, np.int64),
                                np.array([""], dtype=object))
        return cache[field]

    def text(field: str) -> np.ndarray:
        return col(field)[0]

    header = {f: str(table.columns[p]) for f, p in cols.items()}
    raw_id = text("fid")
    names = text("name")
    tier_raw, tier_codes, tier_uniq = col("tier_raw")

    # ---- coordinates as given
    lon_txt, lat_txt = text("lon"), text("lat")
    if "lonlat" in cols and not ("lon" in cols and "lat" in cols):
        parts = (pd.Series(text("lonlat"), dtype=object).str.normalize("NFKC")
                 .str.split(r"[,;\s]+", n=1, regex=True, expand=True))
        parts = parts.reindex(columns=[0, 1]).fillna("")
        lon_txt = parts[0].to_numpy(dtype=object)
        lat_txt = parts[1].to_numpy(dtype=object)
        header.setdefault("lon", header["lonlat"])
        header.setdefault("lat", header["lonlat"])
    lon_s_txt, lat_s_txt = pd.Series(lon_txt, dtype=object), pd.Series(lat_txt, dtype=object)
    lon_in, lat_in = _to_float(lon_s_txt), _to_float(lat_s_txt)
    if geo_lon is not None:
        use_geo = np.isfinite(geo_lon)
        lon_in = np.where(use_geo, geo_lon, lon_in)
        lat_in = np.where(use_geo, geo_lat, lat_in)
    finite = np.isfinite(lon_in) & np.isfinite(lat_in)
    # a pair that is no longitude/latitude in either order (e.g. latitude 95) is invalid, not "elsewhere"
    with np.errstate(invalid="ignore"):
        in_range = (((np.abs(lon_in) <= 180) & (np.abs(lat_in) <= 90))
                    | ((np.abs(lat_in) <= 180) & (np.abs(lon_in) <= 90)))
    out_of_range = finite & ~in_range
    finite &= in_range

    # ---- coordinate system per row (resolved once per distinct text)
    crs_txt, crs_codes, crs_uniq = col("crs")
    canon = []
    for u in crs_uniq:
        try:
            canon.append(crs_default if u == "" else crsmod.normalize_crs_name(u))
        except ValueError:
            canon.append("")
    canon_arr = np.array(canon, dtype=object)
    crs_in = canon_arr[crs_codes]
    bad_crs = (np.array([c == "" for c in canon], bool))[crs_codes]
    crs_in = np.where(bad_crs, crs_default, crs_in).astype(object)

    # ---- convert; try the swapped order only where the given one falls outside the area
    usable_xy = finite & ~bad_crs
    lon_g, lat_g = np.full(n, np.nan), np.full(n, np.nan)
    for system in crsmod.SYSTEMS:
        m = usable_xy & (crs_in == system)
        if m.any():
            lon_g[m], lat_g[m] = crsmod.to_wgs84(lon_in[m], lat_in[m], system)
    given_in = _inside(lon_g, lat_g, area)
    lon_s, lat_s = np.full(n, np.nan), np.full(n, np.nan)
    for system in crsmod.SYSTEMS:
        m = usable_xy & ~given_in & (crs_in == system)
        if m.any():
            lon_s[m], lat_s[m] = crsmod.to_wgs84(lat_in[m], lon_in[m], system)
    swap_in = _inside(lon_s, lat_s, area)
    swapped = usable_xy & ~given_in & swap_in
    outside = usable_xy & ~given_in & ~swap_in
    missing = ~usable_xy
    lon = np.where(swapped, lon_s, lon_g)
    lat = np.where(swapped, lat_s, lat_g)

    # ---- tier (resolved once per distinct text)
    tkeys = np.array([tier_key(u) if u else None for u in tier_uniq], dtype=object)
    tier = tkeys[tier_codes]
    unknown_u = np.array([k is None for k in tkeys], bool)
    unknown = unknown_u[tier_codes]

    # ---- duplicates: same id, or same name + tier within DUPLICATE_RADIUS_M
    row_arr = np.asarray(rows, dtype=np.int64)
    has_id = raw_id != ""
    id_codes, _ = pd.factorize(raw_id)
    dup_id = has_id & pd.Series(id_codes).duplicated(keep="first").to_numpy()
    first_id_row = np.zeros(n, np.int64)
    if dup_id.any():
        first_pos = pd.Series(np.arange(n)).groupby(id_codes).transform("min").to_numpy()
        first_id_row[dup_id] = row_arr[first_pos[dup_id]]
    # tier identity: canonical key when known, else the raw text
    tkey_codes, _ = pd.factorize(np.where(unknown_u, "?" + tier_uniq.astype(str),
                                          tkeys.astype(str)))
    name_codes, _ = pd.factorize(names)
    key = name_codes.astype(np.int64) * (len(tier_uniq) + 1) + tkey_codes[tier_codes]
    key_idx = np.flatnonzero(~missing & ~outside & (names != ""))
    dup_near = np.zeros(n, bool)
    first_near_row = np.zeros(n, np.int64)
    if len(key_idx):
        d, f = _near_duplicates(key[key_idx], lon[key_idx], lat[key_idx], DUPLICATE_RADIUS_M)
        dup_near[key_idx[d]] = True
        first_near_row[key_idx[d]] = row_arr[key_idx[f[d]]]
    dup = dup_id | dup_near

    # ---- status by precedence
    status = np.full(n, "ok", dtype=object)
    for mask, value in ((swapped, "swapped_fixed"), (unknown, "unknown_tier"), (dup, "duplicate"),
                        (outside, "outside_area"), (missing, "missing_coords")):
        status[mask] = value

    # ---- notes (only flagged rows are formatted, so this stays cheap on large registers)
    notes = np.full(n, "", dtype=object)

    def add(mask: np.ndarray, note: Any) -> None:
        if not mask.any():
            return
        t = note[mask] if isinstance(note, np.ndarray) else note
        cur = notes[mask]
        notes[mask] = np.where(cur == "", t, cur + "; " + t)

    def fmt(mask: np.ndarray, f: Callable[[int], str]) -> np.ndarray:
        out = np.full(n, "", dtype=object)
        idx = np.flatnonzero(mask)
        out[idx] = [f(i) for i in idx]
        return out

    blank = ~np.isfinite(lon_in) & (lon_txt == "") & ~np.isfinite(lat_in) & (lat_txt == "")
    if geo_lon is not None:
        blank &= ~np.isfinite(geo_lon)
    add(missing & blank & ~bad_crs, "缺少经纬度 / coordinates missing")
    bad_num = missing & ~blank & ~bad_crs & ~out_of_range
    add(bad_num, fmt(bad_num, lambda i: f"经纬度无效 / invalid coordinates: lon='{lon_txt[i]}', "
                                        f"lat='{lat_txt[i]}'"))
    add(out_of_range, fmt(out_of_range, lambda i: f"超出经纬度取值范围 / not a longitude/latitude "
                                                  f"(lon {lon_in[i]:g}, lat {lat_in[i]:g})"))
    add(bad_crs, fmt(bad_crs, lambda i: f"未知坐标系 / unknown coordinate system '{crs_txt[i]}'"))
    add(swapped, "经纬度颠倒，已交换 / latitude and longitude were swapped; fixed")
    where = "研究区域" if area is not None else "中国范围"
    where_en = "the study area" if area is not None else "China"
    add(outside, f"位于{where}之外 / outside {where_en}")
    add(dup_id, fmt(dup_id, lambda i: f"编号重复，首次出现在第 {first_id_row[i]} 行 / duplicate id, "
                                      f"first at row {first_id_row[i]}"))
    r_m = f"{DUPLICATE_RADIUS_M:g}"
    add(dup_near, fmt(dup_near, lambda i: f"与第 {first_near_row[i]} 行同名同层级且相距不足 {r_m} 米 / "
                                          f"same name and tier as row {first_near_row[i]} within {r_m} m"))
    empty_tier = unknown & (tier_raw == "")
    add(empty_tier, "缺少设施层级 / tier missing")
    other_tier = unknown & ~empty_tier
    add(other_tier, fmt(other_tier, lambda i: f"无法识别的层级 / unknown tier '{tier_raw[i]}'"))
    add(names == "", "缺少名称 / name missing")

    # ---- ids: from the register, else F{row}; kept unique so they can key joins downstream
    fid = raw_id.copy()
    no_id = np.flatnonzero(~has_id)
    fid[no_id] = [f"F{r}" for r in row_arr[no_id]]
    clash = np.flatnonzero(pd.Series(fid).duplicated(keep="first").to_numpy())
    fid[clash] = [f"{fid[i]}#r{row_arr[i]}" for i in clash]

    if strict:
        bad = np.flatnonzero(status != "ok")
        if len(bad):
            i = int(bad[0])
            field_of = {"missing_coords": header.get("lon"), "outside_area": header.get("lon"),
                        "swapped_fixed": header.get("lon"), "unknown_tier": header.get("tier_raw"),
                        "duplicate": header.get("fid") if dup_id[i] else header.get("name")}
            what = ("经纬度疑似颠倒 / latitude and longitude appear swapped" if status[i] == "swapped_fixed"
                    else f"{STATUSES[status[i]][0]} / {STATUSES[status[i]][1]}: {notes[i]}")
            raise InputError(f"严格模式 / strict mode: {what}",
                             file=file, row=int(row_arr[i]), field=field_of.get(status[i]))

    geometry = np.full(n, None, dtype=object)
    geometry[~missing] = shapely.points(lon[~missing], lat[~missing])
    df = pd.DataFrame({
        "fid": fid,
        "name": names,
        "tier": tier,
        "tier_raw": tier_raw,
        **{f: text(f) for f in _TEXT_FIELDS},
        "source": np.full(n, source, dtype=object),
        "source_file": np.full(n, file.name, dtype=object),
        "row": row_arr,
        "crs_in": crs_in,
        "lon_in": lon_in,
        "lat_in": lat_in,
        "status": status,
        "note": notes,
    })
    # None (not NaN) when the tier is unknown, as the contract says
    df["tier"] = pd.Series(tier, dtype=object, index=df.index)
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")


def empty_facilities() -> gpd.GeoDataFrame:
    """An empty GeoDataFrame with the Facilities columns (EPSG:4326)."""
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS if c != "geometry"})
    df["row"] = df["row"].astype(np.int64)
    df["lon_in"] = df["lon_in"].astype(float)
    df["lat_in"] = df["lat_in"].astype(float)
    return gpd.GeoDataFrame(df, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")


def _sheet_hint(info: dict) -> str:
    if len(info.get("sheets", [])) > 1:
        return (f"; 读取的工作表 / sheet read: {info['sheet']!r}, 全部工作表 / all sheets: "
                + ", ".join(info["sheets"]) + "（用 sheet 参数选择 / choose with sheet=）")
    return ""


def read_facilities(path: str | Path, *, crs: str | None = None, boundary: Any = None,
                    sheet: str | int | None = None, strict: bool = False) -> gpd.GeoDataFrame:
    """The Facilities GeoDataFrame of a register (``read_register(...).frame``)."""
    return read_register(path, crs=crs, boundary=boundary, sheet=sheet, strict=strict).frame


def read_register(path: str | Path, *, crs: str | None = None, boundary: Any = None,
                  sheet: str | int | None = None, strict: bool = False) -> Register:
    """Read a facility register into the Facilities contract (EPSG:4326).

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` (UTF-8, UTF-8 with BOM, UTF-16 or GBK/GB18030; delimiter
        comma, tab or semicolon), ``.xlsx``, or ``.geojson``/``.gpkg``/``.shp`` (points; polygons
        are represented by a point inside them).
    crs
        Coordinate system of the coordinates ("wgs84", "gcj02", "bd09" or an alias such as
        "高德", "百度"). ``None``: a system named in the coordinate header (``经度（高德）``),
        else WGS-84. A 坐标系/crs column overrides it per row.
    boundary
        Study area (shapely geometry, GeoSeries/GeoDataFrame, or a file path; WGS-84 — convert
        Amap-derived GCJ-02 boundaries first with :func:`carecover.crs.transform_geometry`).
        Records outside it get ``outside_area``; without it, records outside China do.
    sheet
        Worksheet (name or 0-based index) of a workbook, or layer of a GeoPackage.
    strict
        Raise :class:`InputError` at the first record that is not ``ok`` instead of flagging it.

    Returns
    -------
    Register
        ``frame``: one row per input record with the columns of :data:`COLUMNS` (see
        docs/ARCHITECTURE.md); ``info``: how the file was read (encoding, header row, column
        mapping, coordinate system, rows skipped as blank or comment).

    Raises
    ------
    InputError
        Unreadable, undecodable or empty file; a required column (name, tier, coordinates)
        missing (the message lists the accepted headers); in ``strict`` mode, any problem row.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("文件不存在 / file not found", file=path)
    if crs is not None:
        try:
            crs = crsmod.normalize_crs_name(crs)
        except ValueError as exc:
            raise InputError(str(exc), file=path, field="crs") from None
    suffix = path.suffix.lower()
    geo_lon = geo_lat = None
    if suffix in _GEO:
        table, geo_lon, geo_lat, info = _read_geo(path, sheet)
        rows = np.arange(1, len(table) + 1)
        skipped = 0
    elif suffix in _TABULAR or suffix in _EXCEL:
        if suffix in _EXCEL:
            table, first_row, info = _read_xlsx(path, sheet)
        else:
            table, first_row, info = _read_csv(path)
        rows = np.arange(first_row, first_row + len(table))
        # Not records: blank lines and comment lines (first cell starts with '#').
        if len(table.columns):
            blank = (table == "").all(axis=1).to_numpy()
            comment = table.iloc[:, 0].astype(str).str.lstrip().str.startswith("#").to_numpy()
        else:
            blank = comment = np.ones(len(table), bool)
        keep = ~(blank | comment)
        skipped = int((~keep).sum())
        table, rows = table[keep].reset_index(drop=True), rows[keep]
        info["skipped_blank"], info["skipped_comment"] = int(blank.sum()), int((comment & ~blank).sum())
    elif suffix == ".xls":
        raise InputError("不支持旧版 .xls 文件 / old .xls workbooks are not supported", file=path,
                         expected="save as .xlsx or .csv")
    else:
        raise InputError(f"不支持的文件类型 / unsupported file type '{suffix}'", file=path,
                         expected=".csv, .xlsx, .geojson or .gpkg")
    if len(table) == 0:
        extra = ("（以 # 开头的示例行不计入 / lines starting with # are examples and are not read）"
                 if info.get("skipped_comment") else "")
        raise InputError("没有数据记录 / the file has no data records" + extra + _sheet_hint(info),
                         file=path)

    cols, hint = map_columns(list(table.columns))
    have = set(cols)
    if geo_lon is not None and np.isfinite(geo_lon).any():
        have |= {"lon", "lat"}
    if "lonlat" in have:
        have |= {"lon", "lat"}
    missing = [f for f in REQUIRED if f not in have]
    if missing:
        parts = [f"「{_FIELD_ZH[f]}」/ '{f}' (可用表头 accepted: {_accepted(f)})" for f in missing]
        found = ", ".join(str(c) for c in table.columns)
        raise InputError(f"缺少必需列 / missing required column(s): {'; '.join(parts)}; "
                         f"文件中的表头 / headers found: {found}{_sheet_hint(info)}", file=path,
                         field=missing[0], expected="one of: " + _accepted(missing[0]))
    crs_default = crs or hint or "wgs84"
    area = _boundary_geometry(boundary)
    gdf = _validate(table, cols, rows, file=path, crs_default=crs_default, area=area,
                    strict=strict, geo_lon=geo_lon, geo_lat=geo_lat)
    info.update({
        "file": str(path), "format": suffix.lstrip("."), "records": len(gdf),
        "skipped_rows": skipped, "crs": crs_default,
        "crs_source": "argument" if crs else ("header" if hint else "default"),
        "columns": {f: str(table.columns[p]) for f, p in cols.items()},
        "boundary": area is not None,
    })
    return Register(gdf, info)


# --------------------------------------------------------------------------------------------
# summaries and reports


def validation_table(facilities: pd.DataFrame) -> pd.DataFrame:
    """Count of records per status (every status listed, zeros included, plus a total row).

    Columns: ``status``, ``label_zh``, ``label_en``, ``count``, ``percent``.
    """
    counts = facilities["status"].value_counts() if len(facilities) else pd.Series(dtype=int)
    total = int(len(facilities))
    rows = []
    for key, (zh, en) in STATUSES.items():
        c = int(counts.get(key, 0))
        rows.append((key, zh, en, c, round(100.0 * c / total, 2) if total else 0.0))
    for key in sorted(set(counts.index) - set(STATUSES)):
        c = int(counts[key])
        rows.append((key, key, key, c, round(100.0 * c / total, 2) if total else 0.0))
    rows.append(("total", "合计", "total", total, 100.0 if total else 0.0))
    return pd.DataFrame(rows, columns=["status", "label_zh", "label_en", "count", "percent"])


def write_validation_report(facilities: gpd.GeoDataFrame, path: str | Path) -> Path:
    """Write every record with its status and note as CSV (UTF-8 with BOM for Excel), atomically.

    Adds ``lon``/``lat`` (WGS-84 after conversion and swap fixes) and ``status_zh``.
    """
    path = Path(path)
    df = pd.DataFrame(facilities.drop(columns=facilities.geometry.name))
    geom = facilities.geometry.values
    has = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    lon = np.full(len(df), np.nan)
    lat = np.full(len(df), np.nan)
    lon[has], lat[has] = shapely.get_x(geom[has]), shapely.get_y(geom[has])
    df["lon"], df["lat"] = np.round(lon, 7), np.round(lat, 7)
    df["status_zh"] = df["status"].map({k: v[0] for k, v in STATUSES.items()}).fillna(df["status"])
    order = [c for c in ("row", "fid", "name", "tier", "tier_raw", "status", "status_zh", "note",
                         "lon", "lat", "crs_in", "lon_in", "lat_in", "address", "street",
                         "township", "county", "source", "source_file") if c in df.columns]
    df = df[order + [c for c in df.columns if c not in order]]
    with atomic_write(path, "w", encoding="utf-8-sig", newline="") as fh:
        df.to_csv(fh, index=False)
    return path


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
        Output of :func:`read_facilities`; records with usable coordinates inside the area
        (status ``ok``, ``swapped_fixed``, ``unknown_tier``, ``duplicate``) are used.
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
    use = facilities["status"].isin(["ok", "swapped_fixed", "unknown_tier", "duplicate"]).to_numpy()
    lon_in = facilities["lon_in"].to_numpy(dtype=float)
    lat_in = facilities["lat_in"].to_numpy(dtype=float)
    swapped = (facilities["status"] == "swapped_fixed").to_numpy()
    lon_g = np.where(swapped, lat_in, lon_in)[use]
    lat_g = np.where(swapped, lon_in, lat_in)[use]
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
        zh_name = {"wgs84": "WGS-84", "gcj02": "GCJ-02（高德/腾讯）", "bd09": "BD-09（百度）"}
        en_name = {"wgs84": "WGS-84", "gcj02": "GCJ-02 (Amap/Tencent)", "bd09": "BD-09 (Baidu)"}
        out["warning_zh"] = (
            f"坐标系可能有误：按声明的 {zh_name[declared]} 解读，设施到最近道路的距离中位数为 "
            f"{med[declared]:.0f} 米；按 {zh_name[best]} 解读仅为 {med[best]:.0f} 米。"
            f"请核对登记表坐标取自哪种地图（可用 --crs {best} 或“坐标系”列指定）。")
        out["warning_en"] = (
            f"The coordinate system may be wrong: read as the declared {en_name[declared]}, "
            f"facilities lie a median {med[declared]:.0f} m from the nearest street; read as "
            f"{en_name[best]}, only {med[best]:.0f} m. Check which map the coordinates were "
            f"taken from (set it with --crs {best} or a 坐标系/crs column).")
        out["warning"] = out["warning_zh"] + " / " + out["warning_en"]
    return out

"""Register validation: every record becomes a Facilities row with a status and a note.

登记表校验：每条记录都成为设施表中的一行，带状态和说明（中文 / English）。

Steps of :func:`validate`, each vectorised and done once per distinct text where texts repeat
(so a million-row register takes seconds): coordinates as given → coordinate system per row →
WGS-84, swapped lat/lon and the study area → tiers → duplicates by id and by name + tier within
:data:`DUPLICATE_RADIUS_M` → status by precedence → notes → ids → strict mode → the frame.
Rules: ``docs/register_schema.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from carecover import crs as crsmod
from carecover.errors import InputError
from carecover.inputs.registers.area import inside
from carecover.inputs.registers.headers import MEASURE_FIELDS
from carecover.inputs.registers.schema import STATUSES
from carecover.inputs.registers.table import RawTable
from carecover.tiers import tier_key, visible

__all__ = ["DUPLICATE_RADIUS_M", "validate"]

#: Radius (m) within which two records with the same name and tier count as one facility.
DUPLICATE_RADIUS_M = 10.0

_TEXT_FIELDS = ("address", "street", "township", "county")
#: Later entries win: a record with several problems shows the most serious.
_PRECEDENCE = ("swapped_fixed", "unknown_tier", "duplicate", "outside_area", "missing_coords")


# --------------------------------------------------------------------------------------------
# cells


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


def _clean(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stripped text of a column as (values, codes, unique values).

    Work is done once per distinct value, which is what keeps million-row registers fast
    (tiers, systems, streets repeat; only ids and names are mostly distinct).
    """
    codes, uniq = pd.factorize(series.to_numpy(dtype=object), use_na_sentinel=False)
    su = np.array(["" if u is None or u != u else str(u).strip() for u in uniq], dtype=object)
    return su[codes] if len(su) else np.full(len(series), "", dtype=object), codes, su


class _Columns:
    """The cleaned text of each field's column, computed once ("" for unmapped fields)."""

    def __init__(self, table: pd.DataFrame, cols: dict[str, int]):
        self.table, self.cols, self.n = table, cols, len(table)
        self._cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def col(self, field: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if field not in self._cache:
            if field in self.cols:
                self._cache[field] = _clean(self.table.iloc[:, self.cols[field]])
            else:
                self._cache[field] = (np.full(self.n, "", dtype=object), np.zeros(self.n, np.int64),
                                      np.array([""], dtype=object))
        return self._cache[field]

    def text(self, field: str) -> np.ndarray:
        return self.col(field)[0]

    def header(self, field: str) -> str | None:
        return str(self.table.columns[self.cols[field]]) if field in self.cols else None


# --------------------------------------------------------------------------------------------
# coordinates and coordinate systems


@dataclass(frozen=True)
class _Located:
    """Coordinates of each record: as written, as numbers, their system, and in WGS-84.

    ``missing``: unusable (empty, not numbers, out of range, unknown system); ``swapped``: the
    given order falls outside and the swapped one inside; ``outside``: outside in both orders.
    """

    lon_txt: np.ndarray
    lat_txt: np.ndarray
    lon_in: np.ndarray
    lat_in: np.ndarray
    out_of_range: np.ndarray
    crs_txt: np.ndarray
    crs_in: np.ndarray
    bad_crs: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    swapped: np.ndarray
    outside: np.ndarray
    missing: np.ndarray


def _coordinate_text(c: _Columns) -> tuple[np.ndarray, np.ndarray]:
    """lon and lat as written: their columns, or split from one combined column."""
    if "lonlat" in c.cols and not ("lon" in c.cols and "lat" in c.cols):
        parts = (pd.Series(c.text("lonlat"), dtype=object).str.normalize("NFKC")
                 .str.split(r"[,;\s]+", n=1, regex=True, expand=True))
        parts = parts.reindex(columns=[0, 1]).fillna("")
        return parts[0].to_numpy(dtype=object), parts[1].to_numpy(dtype=object)
    return c.text("lon"), c.text("lat")


def _numbers(lon_txt, lat_txt, raw: RawTable) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates as numbers; a geographic file's geometry wins over attribute columns."""
    lon_in = _to_float(pd.Series(lon_txt, dtype=object))
    lat_in = _to_float(pd.Series(lat_txt, dtype=object))
    if raw.lon is not None:
        use_geo = np.isfinite(raw.lon)
        lon_in = np.where(use_geo, raw.lon, lon_in)
        lat_in = np.where(use_geo, raw.lat, lat_in)
    return lon_in, lat_in


def _in_range(lon_in: np.ndarray, lat_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(finite and a longitude/latitude in either order, finite but in neither order).

    A pair that is no longitude/latitude in either order (e.g. latitude 95) is invalid, not
    "elsewhere".
    """
    finite = np.isfinite(lon_in) & np.isfinite(lat_in)
    with np.errstate(invalid="ignore"):
        in_range = (((np.abs(lon_in) <= 180) & (np.abs(lat_in) <= 90))
                    | ((np.abs(lat_in) <= 180) & (np.abs(lon_in) <= 90)))
    return finite & in_range, finite & ~in_range


def _row_systems(c: _Columns, crs_default: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(system as written, canonical system, unknown name) per row; an empty cell means the
    file's default. Resolved once per distinct text."""
    crs_txt, crs_codes, crs_uniq = c.col("crs")
    canon = []
    for u in crs_uniq:
        try:
            canon.append(crs_default if u == "" else crsmod.normalize_crs_name(u))
        except ValueError:
            canon.append("")
    crs_in = np.array(canon, dtype=object)[crs_codes]
    bad_crs = (np.array([c == "" for c in canon], bool))[crs_codes]
    return crs_txt, np.where(bad_crs, crs_default, crs_in).astype(object), bad_crs


def _to_wgs84(x: np.ndarray, y: np.ndarray, mask: np.ndarray,
              crs_in: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x, y`` of the rows in ``mask`` converted from each row's system (NaN elsewhere)."""
    lon, lat = np.full(len(x), np.nan), np.full(len(x), np.nan)
    for system in crsmod.SYSTEMS:
        m = mask & (crs_in == system)
        if m.any():
            lon[m], lat[m] = crsmod.to_wgs84(x[m], y[m], system)
    return lon, lat


def _locate(c: _Columns, raw: RawTable, crs_default: str, area: Any) -> _Located:
    """Coordinates → WGS-84; the swapped order is tried only where the given one is outside
    the area (or China), so a swap is fixed only when it is unambiguous."""
    lon_txt, lat_txt = _coordinate_text(c)
    lon_in, lat_in = _numbers(lon_txt, lat_txt, raw)
    finite, out_of_range = _in_range(lon_in, lat_in)
    crs_txt, crs_in, bad_crs = _row_systems(c, crs_default)
    usable = finite & ~bad_crs
    lon_g, lat_g = _to_wgs84(lon_in, lat_in, usable, crs_in)
    given_in = inside(lon_g, lat_g, area)
    lon_s, lat_s = _to_wgs84(lat_in, lon_in, usable & ~given_in, crs_in)
    swap_in = inside(lon_s, lat_s, area)
    swapped = usable & ~given_in & swap_in
    return _Located(lon_txt, lat_txt, lon_in, lat_in, out_of_range, crs_txt, crs_in, bad_crs,
                    np.where(swapped, lon_s, lon_g), np.where(swapped, lat_s, lat_g),
                    swapped, usable & ~given_in & ~swap_in, ~usable)


# --------------------------------------------------------------------------------------------
# tiers and duplicates


# --------------------------------------------------------------------------------------------
# supply measures (beds, floor area, meal seats, persons)

_MEASURE_LABELS = {"capacity_persons": "服务能力 / capacity", "beds": "床位 / beds",
                   "floor_area_m2": "建筑面积 / floor area", "meal_seats": "助餐座位 / meal seats"}
#: Largest plausible value of each measure for one facility (a larger number is a typing or
#: unit mistake, e.g. 1e12 beds): noted on its row and taken as missing.
MEASURE_LIMITS = {"capacity_persons": 1_000_000, "beds": 100_000, "floor_area_m2": 10_000_000,
                  "meal_seats": 100_000}
#: Units written after a number in a cell (``120张``, ``350 m²``, ``1,000平方米``).
_UNIT_SUFFIX = r"\s*(张|个|人|座|位|平方米|平米|㎡|m²|m2|sqm)?\s*$"


def _measure_values(text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Numbers of a measure column and the rows whose text is not a usable number.

    Empty cells are NaN and not bad; thousands separators and a trailing unit are accepted;
    negative, infinite or non-numeric text is NaN and bad (said in the row's note).
    """
    s = pd.Series(text, dtype=object).astype(str).str.normalize("NFKC").str.strip()
    s = s.str.replace(",", "", regex=False).str.replace(_UNIT_SUFFIX, "", regex=True)
    vals = np.array(pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    bad = (text != "") & ~(np.isfinite(vals) & (vals >= 0))
    vals[bad] = np.nan
    return vals, bad


def _measures(c: _Columns, notes: _Notes) -> dict[str, np.ndarray]:
    """Every supply measure as numbers (NaN where not given); unusable cells are noted."""
    out = {}
    for field in MEASURE_FIELDS:
        if field not in c.cols:  # not in this register: nothing to read (fast on huge registers)
            out[field] = np.full(c.n, np.nan)
            continue
        text, codes, uniq = c.col(field)
        # parsed once per distinct text, like every other column
        u_vals, u_bad = _measure_values(np.asarray(uniq, dtype=object))
        vals, bad = u_vals[codes], u_bad[codes]
        label, limit = _MEASURE_LABELS[field], MEASURE_LIMITS.get(field, np.inf)
        notes.add(bad, lambda i, t=text, lab=label: f"{lab} '{t[i]}' 不是有效的非负数，按缺失处理 / "
                                                    "not a number >= 0, taken as missing")
        huge = np.isfinite(vals) & (vals > limit)
        notes.add(huge, lambda i, t=text, lab=label, lim=limit: f"{lab} '{t[i]}' 超过合理上限 {lim:,}，按缺失处理 / "
                                                               f"above the plausible limit of {lim:,}, taken as missing")
        vals = np.where(huge, np.nan, vals)
        out[field] = vals
    return out


@dataclass(frozen=True)
class _Tiers:
    """Tier key per row (None when unknown), the text as written, and an integer identity of
    the tier for duplicate keys (the key when known, else the raw text) below ``kinds``."""

    tier: np.ndarray
    raw: np.ndarray
    unknown: np.ndarray
    identity: np.ndarray
    kinds: int


def _tiers(c: _Columns, vocabulary: Mapping[str, str] | None = None) -> _Tiers:
    """Tier keys, resolved once per distinct text (a city's extra names in ``vocabulary``)."""
    tier_raw, tier_codes, tier_uniq = c.col("tier_raw")
    tkeys = np.array([tier_key(u, vocabulary) if u else None for u in tier_uniq], dtype=object)
    unknown_u = np.array([k is None for k in tkeys], bool)
    tkey_codes, _ = pd.factorize(np.where(unknown_u, "?" + tier_uniq.astype(str),
                                          tkeys.astype(str)))
    return _Tiers(tkeys[tier_codes], tier_raw, unknown_u[tier_codes], tkey_codes[tier_codes],
                  len(tier_uniq) + 1)


def _duplicate_ids(raw_id: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(later record with an id seen before, row of its first occurrence)."""
    n = len(raw_id)
    has_id = raw_id != ""
    id_codes, _ = pd.factorize(raw_id)
    dup_id = has_id & pd.Series(id_codes).duplicated(keep="first").to_numpy()
    first_id_row = np.zeros(n, np.int64)
    if dup_id.any():
        first_pos = pd.Series(np.arange(n)).groupby(id_codes).transform("min").to_numpy()
        first_id_row[dup_id] = rows[first_pos[dup_id]]
    return dup_id, first_id_row


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


def _duplicate_names(names: np.ndarray, tiers: _Tiers, loc: _Located,
                     rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(same name and tier as an earlier record within :data:`DUPLICATE_RADIUS_M`, its row).

    Only records placed in the area with a name take part.
    """
    n = len(names)
    name_codes, _ = pd.factorize(names)
    key = name_codes.astype(np.int64) * tiers.kinds + tiers.identity
    key_idx = np.flatnonzero(~loc.missing & ~loc.outside & (names != ""))
    dup_near = np.zeros(n, bool)
    first_near_row = np.zeros(n, np.int64)
    if len(key_idx):
        d, f = _near_duplicates(key[key_idx], loc.lon[key_idx], loc.lat[key_idx], DUPLICATE_RADIUS_M)
        dup_near[key_idx[d]] = True
        first_near_row[key_idx[d]] = rows[key_idx[f[d]]]
    return dup_near, first_near_row


# --------------------------------------------------------------------------------------------
# status, notes, ids


def _statuses(loc: _Located, unknown: np.ndarray, dup: np.ndarray) -> np.ndarray:
    status = np.full(len(dup), "ok", dtype=object)
    masks = {"swapped_fixed": loc.swapped, "unknown_tier": unknown, "duplicate": dup,
             "outside_area": loc.outside, "missing_coords": loc.missing}
    for value in _PRECEDENCE:
        status[masks[value]] = value
    return status


class _Notes:
    """Notes per row, joined with "; ". Only flagged rows are formatted, so this stays cheap
    on large registers."""

    def __init__(self, n: int):
        self.values = np.full(n, "", dtype=object)

    def add(self, mask: np.ndarray, note: str | Callable[[int], str]) -> None:
        if not mask.any():
            return
        if callable(note):
            t = np.array([note(i) for i in np.flatnonzero(mask)], dtype=object)
        else:
            t = note
        cur = self.values[mask]
        self.values[mask] = np.where(cur == "", t, cur + "; " + t)


def _coordinate_notes(notes: _Notes, loc: _Located, raw: RawTable, area: Any) -> None:
    blank = ~np.isfinite(loc.lon_in) & (loc.lon_txt == "") & ~np.isfinite(loc.lat_in) & (loc.lat_txt == "")
    if raw.lon is not None:
        blank &= ~np.isfinite(raw.lon)
    missing, bad_crs, out_of_range = loc.missing, loc.bad_crs, loc.out_of_range
    notes.add(missing & blank & ~bad_crs, "缺少经纬度 / coordinates missing")
    notes.add(missing & ~blank & ~bad_crs & ~out_of_range,
              lambda i: f"经纬度无效 / invalid coordinates: lon='{loc.lon_txt[i]}', lat='{loc.lat_txt[i]}'")
    notes.add(out_of_range, lambda i: f"超出经纬度取值范围 / not a longitude/latitude "
                                      f"(lon {loc.lon_in[i]:g}, lat {loc.lat_in[i]:g})")
    notes.add(bad_crs, lambda i: f"未知坐标系 / unknown coordinate system '{loc.crs_txt[i]}'")
    notes.add(loc.swapped, "经纬度颠倒，已交换 / latitude and longitude were swapped; fixed")
    where = "研究区域" if area is not None else "中国范围"
    where_en = "the study area" if area is not None else "China"
    notes.add(loc.outside, f"位于{where}之外 / outside {where_en}")
    for i, cause in raw.info.get("geometry_notes", {}).items():
        mask = np.zeros(len(loc.lon_in), bool)
        mask[i] = bool(loc.missing[i])  # placed by its lon/lat columns otherwise
        notes.add(mask, cause)


def _record_notes(notes: _Notes, dup_id, first_id_row, dup_near, first_near_row,
                  tiers: _Tiers, names: np.ndarray) -> None:
    notes.add(dup_id, lambda i: f"编号重复，首次出现在第 {first_id_row[i]} 行 / duplicate id, "
                                f"first at row {first_id_row[i]}")
    r_m = f"{DUPLICATE_RADIUS_M:g}"
    notes.add(dup_near, lambda i: f"与第 {first_near_row[i]} 行同名同层级且相距不足 {r_m} 米 / "
                                  f"same name and tier as row {first_near_row[i]} within {r_m} m")
    empty_tier = tiers.unknown & (tiers.raw == "")
    notes.add(empty_tier, "缺少设施层级 / tier missing")
    notes.add(tiers.unknown & ~empty_tier, lambda i: f"无法识别的层级 / unknown tier '{visible(tiers.raw[i])}'")
    notes.add(names == "", "缺少名称 / name missing")


def _facility_ids(raw_id: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """From the register, else ``F{row}``; later repeats become ``{id}#r{row}`` so ids stay
    unique and can key joins downstream."""
    fid = raw_id.copy()
    no_id = np.flatnonzero(raw_id == "")
    fid[no_id] = [f"F{r}" for r in rows[no_id]]
    clash = np.flatnonzero(pd.Series(fid).duplicated(keep="first").to_numpy())
    fid[clash] = [f"{fid[i]}#r{rows[i]}" for i in clash]
    return fid


def _raise_strict(status: np.ndarray, notes: np.ndarray, dup_id: np.ndarray, c: _Columns,
                  rows: np.ndarray, file: Path) -> None:
    """Strict mode: the first record that is not ``ok`` is an error naming its row and column."""
    bad = np.flatnonzero(status != "ok")
    if not len(bad):
        return
    i = int(bad[0])
    lon_header = c.header("lon") if "lon" in c.cols else c.header("lonlat")
    field_of = {"missing_coords": lon_header, "outside_area": lon_header,
                "swapped_fixed": lon_header, "unknown_tier": c.header("tier_raw"),
                "duplicate": c.header("fid") if dup_id[i] else c.header("name")}
    what = ("经纬度疑似颠倒 / latitude and longitude appear swapped" if status[i] == "swapped_fixed"
            else f"{STATUSES[status[i]][0]} / {STATUSES[status[i]][1]}: {notes[i]}")
    raise InputError(f"严格模式 / strict mode: {what}",
                     file=file, row=int(rows[i]), field=field_of.get(status[i]))


def _frame(c: _Columns, fid, tiers: _Tiers, loc: _Located, status, notes, rows, measures, *,
           source: str, file: Path) -> gpd.GeoDataFrame:
    """The Facilities contract (columns of :data:`~carecover.inputs.registers.COLUMNS`)."""
    n = c.n
    geometry = np.full(n, None, dtype=object)
    placed = ~loc.missing
    geometry[placed] = shapely.points(loc.lon[placed], loc.lat[placed])
    df = pd.DataFrame({
        "fid": fid,
        "name": c.text("name"),
        "tier": tiers.tier,
        "tier_raw": tiers.raw,
        **{f: c.text(f) for f in _TEXT_FIELDS},
        "source": np.full(n, source, dtype=object),
        "source_file": np.full(n, file.name, dtype=object),
        "row": rows,
        "crs_in": loc.crs_in,
        "lon_in": loc.lon_in,
        "lat_in": loc.lat_in,
        "status": status,
        "note": notes,
        **measures,
    })
    # None (not NaN) when the tier is unknown, as the contract says
    df["tier"] = pd.Series(tiers.tier, dtype=object, index=df.index)
    return gpd.GeoDataFrame(df, geometry=geometry, crs="EPSG:4326")


def validate(raw: RawTable, cols: dict[str, int], *, file: Path, crs_default: str, area: Any,
             strict: bool, source: str = "register", vocabulary: Mapping[str, str] | None = None
             ) -> gpd.GeoDataFrame:
    """Validate the records of a register into the Facilities contract.

    Parameters
    ----------
    raw
        The table as a format reader returned it.
    cols
        Field → column position (:func:`~carecover.inputs.registers.map_columns`).
    file
        The register, for ``source_file`` and messages.
    crs_default
        Coordinate system of rows without a 坐标系/crs cell.
    area
        Prepared WGS-84 study area, or ``None`` (then China is the area).
    strict
        Raise at the first record that is not ``ok``.
    source
        Value of the ``source`` column.
    vocabulary
        A city's extra tier names (:func:`carecover.tiers.vocabulary`).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per record (EPSG:4326) with its status and note.

    Raises
    ------
    InputError
        In strict mode, the first problem record (file, row and column named).
    """
    c = _Columns(raw.table, cols)
    rows = np.asarray(raw.rows, dtype=np.int64)
    raw_id, names = c.text("fid"), c.text("name")
    # coordinates → tiers → duplicates → status → notes → ids → strict → frame
    loc = _locate(c, raw, crs_default, area)
    tiers = _tiers(c, vocabulary)
    dup_id, first_id_row = _duplicate_ids(raw_id, rows)
    dup_near, first_near_row = _duplicate_names(names, tiers, loc, rows)
    status = _statuses(loc, tiers.unknown, dup_id | dup_near)
    notes = _Notes(c.n)
    _coordinate_notes(notes, loc, raw, area)
    _record_notes(notes, dup_id, first_id_row, dup_near, first_near_row, tiers, names)
    measures = _measures(c, notes)
    fid = _facility_ids(raw_id, rows)
    if strict:
        _raise_strict(status, notes.values, dup_id, c, rows, file)
    return _frame(c, fid, tiers, loc, status, notes.values, rows, measures, source=source, file=file)

"""Property-based tests of the facility register parser (hypothesis).

Random registers — names with commas, quotes and Chinese text, tiers written in any accepted
spelling or not at all, coordinates valid, swapped, blank, text, NaN or out of range, saved as
UTF-8, UTF-8 with BOM or GBK — must come back one row per record, in order, each with the status
its coordinates and tier call for.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs.registers import STATUSES, read_facilities
from carecover.tiers import TIERS, tier_key
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AREA = shapely.box(110.5, 39.6, 112.3, 41.4)  # around Hohhot, WGS-84
ALIASES = sorted({a for t in TIERS.values() for a in (t.name_zh, t.name_en, t.key, *t.aliases)
                  if all(ord(c) < 0x3000 or c.encode("gbk", "ignore") for c in a)})
NAME_CHARS = "养老服务中心社区站点街道乡镇呼和浩特新城回民玉泉赛罕 ,\"'-ABCabc0123"

names = st.text(alphabet=NAME_CHARS, min_size=1, max_size=20).map(str.strip).filter(bool)
tiers = st.one_of(st.sampled_from(ALIASES), st.sampled_from(["", "养鸡场", "unknown", "??"]))
lon_ok = st.floats(110.6, 112.2)
lat_ok = st.floats(39.7, 41.3)


@st.composite
def coordinates(draw):
    kind = draw(st.sampled_from(["ok", "ok", "ok", "swapped", "blank", "text", "nan", "range", "abroad"]))
    lon, lat = draw(lon_ok), draw(lat_ok)
    if kind == "ok":
        return kind, f"{lon:.6f}", f"{lat:.6f}", (round(lon, 6), round(lat, 6))
    if kind == "swapped":
        return kind, f"{lat:.6f}", f"{lon:.6f}", (round(lon, 6), round(lat, 6))
    if kind == "blank":
        return kind, "", "", None
    if kind == "text":
        return kind, draw(st.sampled_from(["东经111", "abc", "1,2,3", "--"])), f"{lat:.6f}", None
    if kind == "nan":
        return kind, draw(st.sampled_from(["nan", "inf", "-inf"])), f"{lat:.6f}", None
    if kind == "range":
        return kind, f"{lon:.6f}", draw(st.sampled_from(["95", "-91.5", "400"])), None
    return kind, "2.35", "48.85", None  # Paris: a real place, outside the area


records = st.lists(st.tuples(names, tiers, coordinates()), min_size=1, max_size=25)


def _write(rows, encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["名称", "层级", "经度", "纬度"])
    for name, tier, (_, lon, lat, _) in rows:
        w.writerow([name, tier, lon, lat])
    return buf.getvalue().encode(encoding)


class TestRandomRegisters:
    """Hypothesis-generated registers through read_facilities."""

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=records, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gbk"]))
    def test_every_record_comes_back_with_the_right_status(self, tmp_path, rows, encoding):
        path = tmp_path / "register.csv"
        path.write_bytes(_write(rows, encoding))
        fac = read_facilities(path, boundary=AREA)

        assert len(fac) == len(rows)
        assert list(fac["row"]) == list(range(2, len(rows) + 2))
        assert fac["fid"].is_unique
        assert set(fac["status"]) <= set(STATUSES)
        for (name, tier, (kind, _, _, expect)), (_, r) in zip(rows, fac.iterrows(), strict=True):
            assert r["name"] == name
            assert r["tier"] == tier_key(tier)  # every accepted spelling resolves; others give None
            if kind in ("blank", "text", "nan", "range"):
                assert r["status"] == "missing_coords"
                continue
            if kind == "abroad":
                assert r["status"] == "outside_area"
                continue
            # coordinates usable: the geometry is where the record says (after the swap, if any)
            assert r.geometry is not None
            assert math.isclose(r.geometry.x, expect[0], abs_tol=1e-9)
            assert math.isclose(r.geometry.y, expect[1], abs_tol=1e-9)
            assert AREA.contains(r.geometry)
            if r["tier"] is None:
                assert r["status"] in ("unknown_tier", "duplicate")
            elif r["status"] not in ("duplicate",):
                assert r["status"] == ("swapped_fixed" if kind == "swapped" else "ok")


    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(rows=records)
    def test_strict_mode_fails_exactly_when_a_record_is_not_ok(self, tmp_path, rows):
        path = tmp_path / "register.csv"
        path.write_bytes(_write(rows, "utf-8"))
        lenient = read_facilities(path, boundary=AREA)
        problems = np.flatnonzero(lenient["status"].to_numpy() != "ok")
        if len(problems):
            with pytest.raises(InputError) as err:
                read_facilities(path, boundary=AREA, strict=True)
            assert str(path) in str(err.value)
            assert f"row {int(lenient['row'].iloc[problems[0]])}" in str(err.value)
        else:
            assert len(read_facilities(path, boundary=AREA, strict=True)) == len(rows)

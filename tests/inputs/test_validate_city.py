"""``carecover validate`` with a city (issue 22, item 5): the city's coordinate system, tier
names and boundary apply; the per-status counts, the swapped rows fixed, the unknown names and
the coordinate-system verdict are printed.

Real data: the shipped Hohhot config and county boundaries; Nanjing 玄武区 OSM extract.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from carecover import cli, crs, settings
from conftest import shared_file

REPO = Path(__file__).resolve().parents[2]


def _amenities(osm: Path, n: int) -> list[tuple[float, float]]:
    rows = []
    for node in ET.parse(osm).getroot().iter("node"):
        tags = {t.get("k"): t.get("v") for t in node.findall("tag")}
        if "amenity" in tags or "shop" in tags:
            rows.append((int(node.get("id")), float(node.get("lon")), float(node.get("lat"))))
    rows.sort()
    return [(lon, lat) for _, lon, lat in rows[:: max(1, len(rows) // n)][:n]]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    """The network cache outside the user's cache."""
    monkeypatch.setattr(settings, "cache_dir", tmp_path_factory.getbasetemp() / "validate-cache")


class TestRealWorld:
    def test_hohhot_gcj02_default_vocabulary_and_boundary(self, tmp_path: Path, capsys) -> None:
        # positions picked on Amap (GCJ-02) in 新城区, Hohhot; one row with lat/lon swapped
        lon, lat = crs.wgs84_to_gcj02([111.6850, 111.6700, 111.7000], [40.8450, 40.8300, 40.8600])
        reg = tmp_path / "r.csv"
        reg.write_text("名称,层级,经度,纬度\n"
                       f"甲,社区日间照料中心,{lon[0]:.7f},{lat[0]:.7f}\n"
                       f"乙,敬老院,{lat[1]:.7f},{lon[1]:.7f}\n"
                       f"丙,老年活动室,{lon[2]:.7f},{lat[2]:.7f}\n"
                       "丁,社区站,116.40,39.90\n", encoding="utf-8")
        rc = cli.main(["validate", str(reg), "--city", "hohhot"])
        out = capsys.readouterr().out
        assert rc == 0
        assert "ok 1, swapped_fixed 1, outside_area 1, unknown_tier 1" in out  # 北京 is outside Hohhot
        assert "swapped rows fixed: 1" in out
        assert "「老年活动室」×1" in out and "[tier_names]" in out
        assert "not checked" in out  # no network fetched for Hohhot here

    def test_verdict_on_a_small_dense_extract(self, tmp_path: Path, capsys) -> None:
        osm = shared_file("china", "nanjing_xuanwu.osm")
        pts = _amenities(osm, 30)
        reg = tmp_path / "amap.csv"
        reg.write_text("名称,层级,经度（高德）,纬度（高德）\n" + "".join(
            f"设施{i},社区养老服务站,{a:.7f},{b:.7f}\n" for i, (a, b) in enumerate(pts)), encoding="utf-8")
        rc = cli.main(["validate", str(reg), "--network", str(osm)])
        cap = capsys.readouterr()
        assert rc == 2 and "verdict wrong" in cap.out and "likely wgs84" in cap.out
        assert "amap.csv" in cap.err and "--crs wgs84" in cap.err
        rc = cli.main(["validate", str(reg), "--network", str(osm), "--crs", "wgs84"])
        assert rc == 0 and "verdict ok" in capsys.readouterr().out

"""Straight-line circles answer the network's question (issue 11, item 2): the radius is the
tier's threshold × walking speed unless the config sets one, and every circle figure states it.

Network: pyrosm's small real extract ``test.osm.pbf``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyrosm
import pytest
from carecover import cli

PBF = Path(pyrosm.get_data("test_pbf"))
REGISTER = "编号,名称,层级,经度,纬度\nA1,站1,社区养老服务站,26.95,60.53\nA2,站2,老年助餐点,26.94,60.525\n"


def _circles(tmp_path: Path, *extra: str) -> tuple[list[dict], str]:
    reg = tmp_path / "reg.csv"
    reg.write_text(REGISTER, encoding="utf-8")
    out = tmp_path / "out"
    rc = cli.main(["--quiet", "plan", "--network", str(PBF), "--facilities", str(reg),
                   "--total-population", "5000", "--out", str(out), *extra])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return [f for f in s["figures"] if f["kind"] == "circle"], (out / "report.md").read_text(encoding="utf-8")


class TestRadius:
    @pytest.mark.parametrize("speed, radius", [("1.0", 900.0), ("1.2", 1080.0)])
    def test_radius_is_threshold_times_speed(self, tmp_path: Path, speed: str, radius: float) -> None:
        circles, report = _circles(tmp_path, "--speed", speed)
        assert {f["tiers"][0] for f in circles} == {"community_centre", "meal_point"}
        for f in circles:
            assert f["threshold_min"] == 15.0
            assert f["radius_m"] == pytest.approx(radius)
            assert f["radius_source"] == "threshold × speed"
        assert f"{radius:,.0f} m" in report  # the report's circle table states it

    def test_config_radius_wins_and_is_stated(self, tmp_path: Path) -> None:
        cfg = tmp_path / "c.toml"
        cfg.write_text('city = "t"\nname_zh = "测试"\nname_en = "test"\ncircle_radius_m = 1000.0\n'
                       "default_elderly_share = 0.2\n", encoding="utf-8")
        circles, report = _circles(tmp_path, "--config", str(cfg))
        assert circles and all(f["radius_m"] == 1000.0 and f["radius_source"] == "config" for f in circles)
        assert "1,000 m" in report

    def test_five_minute_tier_gets_a_300_m_circle(self, tmp_path: Path) -> None:
        cfg = tmp_path / "c.toml"
        cfg.write_text('city = "t"\nname_zh = "测试"\nname_en = "test"\nthreshold_min = 5.0\n'
                       "default_elderly_share = 0.2\n", encoding="utf-8")
        circles, _ = _circles(tmp_path, "--config", str(cfg))
        assert circles and all(f["radius_m"] == pytest.approx(300.0) for f in circles)

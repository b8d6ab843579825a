"""Tier thresholds of a config: per-tier value, then the top-level ``threshold_min``, then TIERS.

Issue 10, item 8: the top-level ``threshold_min`` of a config used to reach no tier.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.config import CityConfig, find_city_config, load_config
from carecover.tiers import TIERS

CITIES = ("hohhot", "baotou", "hulunbuir")

MINIMAL = """
city = "testville"
name_zh = "测试市"
name_en = "Testville"
"""


def load(tmp_path: Path, text: str) -> CityConfig:
    p = tmp_path / "config.toml"
    p.write_text(MINIMAL + text, encoding="utf-8")
    return load_config(p)


def thresholds(cfg: CityConfig) -> dict[str, float]:
    return {k: t.threshold_min for k, t in cfg.resolved_tiers().items()}


class TestSynthetic:
    """Small configs written here."""

    def test_top_level_threshold_reaches_every_tier_without_its_own(self, tmp_path):
        cfg = load(tmp_path, "threshold_min = 12.0\n")
        assert thresholds(cfg) == dict.fromkeys(TIERS, 12.0)
        # walk and drive tiers alike; modes stay the defaults
        assert {k: t.mode for k, t in cfg.resolved_tiers().items()} == {k: t.mode for k, t in TIERS.items()}
        # a different top-level value changes them all again
        assert thresholds(load(tmp_path, "threshold_min = 20.0\n")) == dict.fromkeys(TIERS, 20.0)

    def test_per_tier_threshold_wins(self, tmp_path):
        cfg = load(tmp_path, "threshold_min = 12.0\n"
                             "[tiers.street_centre]\nthreshold_min = 9.0\n"
                             "[tiers.township_centre]\nmode = \"walk\"\n")
        got = thresholds(cfg)
        assert got["street_centre"] == 9.0
        # a tier table that sets only the mode still takes the top-level threshold
        assert got["township_centre"] == 12.0 and cfg.resolved_tiers()["township_centre"].mode == "walk"
        assert all(v == 12.0 for k, v in got.items() if k != "street_centre")

    def test_absent_top_level_keeps_tier_defaults(self, tmp_path):
        cfg = load(tmp_path, "")
        assert cfg.threshold_min is None
        assert cfg.resolved_tiers() == TIERS
        cfg = load(tmp_path, "[tiers.meal_point]\nthreshold_min = 5.0\n")
        assert thresholds(cfg) == {**{k: t.threshold_min for k, t in TIERS.items()}, "meal_point": 5.0}

    def test_file_overrides_are_not_changed(self, tmp_path):
        # tier_overrides in summary.json stay what the file wrote; tiers show the resolved values
        cfg = load(tmp_path, "threshold_min = 12.0\n[tiers.street_centre]\nmode = \"walk\"\n")
        cfg.resolved_tiers()
        assert cfg.tiers == {"street_centre": {"mode": "walk"}}
        d = cfg.to_dict()
        assert d["tier_overrides"] == {"street_centre": {"mode": "walk"}}
        assert d["tiers"]["county_institution"] == {"mode": "drive", "threshold_min": 12.0}

    def test_direct_construction(self):
        assert CityConfig("x", "x", "x").resolved_tiers() == TIERS
        cfg = CityConfig("x", "x", "x", threshold_min=10.0, tiers={"city_centre": {"threshold_min": 45.0}})
        assert thresholds(cfg) == {**dict.fromkeys(TIERS, 10.0), "city_centre": 45.0}


class TestShippedConfigs:
    """The shipped configs set threshold_min = 15 at top level and keep every tier's default."""

    @pytest.mark.parametrize("city", CITIES)
    def test_shipped_tiers_unchanged(self, city):
        cfg = load_config(find_city_config(city))
        assert cfg.threshold_min == 15.0
        # county, city and district tiers state their drive thresholds (30, 30, 20) explicitly
        for key, minutes in (("city_centre", 30.0), ("county_institution", 30.0),
                             ("district_centre", 20.0)):
            assert cfg.tiers[key]["threshold_min"] == minutes
        got = cfg.resolved_tiers()
        assert {k: (t.mode, t.threshold_min) for k, t in got.items()} == {
            k: (t.mode, t.threshold_min) for k, t in TIERS.items()}

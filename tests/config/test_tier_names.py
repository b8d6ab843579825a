"""Tier names are read the same way everywhere (issue 11, item 14): the register, configs,
claims, ``--suggest`` and the meeting commands take every key, name and alias."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover import cli
from carecover.analysis.claims import load_claims
from carecover.config import load_config
from carecover.errors import InputError
from carecover.tiers import TIERS, tier_key

MINIMAL = 'city = "t"\nname_zh = "测试"\nname_en = "test"\n'


class TestSynthetic:
    @pytest.mark.parametrize("name, key", [
        ("community", "community_centre"), ("Community-Centre", "community_centre"),
        ("社区养老服务站", "community_centre"), ("street", "street_centre"), ("STREET_CENTRE", "street_centre"),
        ("街道级养老服务中心", "street_centre"), ("township", "township_centre"), ("乡镇", "township_centre"),
        ("meal", "meal_point"), ("长者食堂", "meal_point"), ("village", "village_station"),
    ])
    def test_every_spelling(self, name: str, key: str) -> None:
        assert tier_key(name) == key

    def test_every_name_of_every_tier(self) -> None:
        for t in TIERS.values():
            for name in (t.key, t.name_zh, t.name_en, *t.aliases):
                assert tier_key(name) == t.key, name
        assert tier_key("nursing home") == "institution" and tier_key("bakery") is None

    def test_config_takes_aliases(self, tmp_path: Path) -> None:
        p = tmp_path / "c.toml"
        p.write_text(MINIMAL + '[tiers.community]\nthreshold_min = 10.0\n[tiers."老年助餐点"]\nthreshold_min = 5.0\n'
                     '[planned."街道级"]\ncount = 3\n[admin_units.township]\ntotal = 4\nwith_centre = 2\n'
                     'tier = "township"\n', encoding="utf-8")
        cfg = load_config(p)
        tiers = cfg.resolved_tiers()
        assert tiers["community_centre"].threshold_min == 10.0 and tiers["meal_point"].threshold_min == 5.0
        assert list(cfg.planned) == ["street_centre"] and cfg.planned["street_centre"].tier == "street_centre"
        assert cfg.admin_units["township"].tier == "township_centre"

    def test_config_refuses_a_tier_given_twice(self, tmp_path: Path) -> None:
        p = tmp_path / "c.toml"
        p.write_text(MINIMAL + "[tiers.community]\nthreshold_min = 10.0\n[tiers.community_centre]\n"
                     "threshold_min = 5.0\n", encoding="utf-8")
        with pytest.raises(InputError, match="twice"):
            load_config(p)

    def test_claims_take_aliases(self, tmp_path: Path) -> None:
        p = tmp_path / "claims.toml"
        p.write_text('[[claim]]\nid = "x"\ntext_zh = "x"\nkind = "population"\ntiers = ["社区养老服务站", "meal"]\n'
                     'op = ">="\nvalue = 0.5\n', encoding="utf-8")
        assert load_claims(p)[0].tiers == ("community_centre", "meal_point")


class TestRealWorld:
    def test_suggest_takes_an_alias(self, tmp_path: Path, test_pbf: Path) -> None:
        reg = tmp_path / "reg.csv"
        reg.write_text("编号,名称,层级,经度,纬度\nA1,站1,community,26.95,60.53\n", encoding="utf-8")
        out = tmp_path / "out"
        rc = cli.main(["--quiet", "plan", "--network", str(test_pbf), "--facilities", str(reg),
                       "--total-population", "5000", "--suggest", "community=1", "--out", str(out)])
        assert rc == 0
        assert (out / "state" / "community_centre.npz").is_file()

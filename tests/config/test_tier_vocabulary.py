"""The facility types cities use (issue 22, item 4) and shares in [0, 1] (item 2): a config's
``[tier_names]`` extends the vocabulary, the institutional tier is built in, an unknown name is
listed with the closest known names and the config key; ``default_elderly_share = 1.0`` and
``--elderly-share 1`` are accepted."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.config import load_config
from carecover.errors import InputError
from carecover.inputs.registers import read_facilities
from carecover.plan import PlanOptions, resolve
from carecover.tiers import closest_names, tier_key, unknown_names_message, vocabulary

MINIMAL = 'city = "t"\nname_zh = "测试"\nname_en = "test"\n'


def _cfg(tmp_path: Path, text: str):
    p = tmp_path / "c.toml"
    p.write_text(MINIMAL + text, encoding="utf-8")
    return load_config(p)


class TestSynthetic:
    @pytest.mark.parametrize("name", ["养老院", "敬老院", "福利院", "老年公寓", "护理院", "nursing home"])
    def test_institutions_are_a_tier(self, name):
        assert tier_key(name) == "institution"

    @pytest.mark.parametrize("name, key", [("社区日间照料中心", "community_centre"), ("社区站", "community_centre"),
                                           ("老年餐桌", "meal_point")])
    def test_day_care_and_meal_tables(self, name, key):
        assert tier_key(name) == key

    def test_config_extends_the_vocabulary(self, tmp_path):
        cfg = _cfg(tmp_path, '[tier_names]\ncommunity = ["嵌入式养老服务站"]\nmeal_point = "幸福食堂"\n')
        assert cfg.tier_names == {"community_centre": ("嵌入式养老服务站",), "meal_point": ("幸福食堂",)}
        assert tier_key("嵌入式养老服务站") is None
        assert tier_key("嵌入式养老服务站", cfg.vocabulary()) == "community_centre"
        reg = tmp_path / "r.csv"
        reg.write_text("名称,层级,经度,纬度\n甲,嵌入式养老服务站,111.69,40.84\n乙,幸福食堂,111.70,40.84\n",
                       encoding="utf-8")
        assert list(read_facilities(reg)["status"]) == ["unknown_tier", "unknown_tier"]
        fac = read_facilities(reg, vocabulary=cfg.vocabulary())
        assert list(fac["tier"]) == ["community_centre", "meal_point"] and set(fac["status"]) == {"ok"}

    def test_config_refuses_a_taken_name_or_an_unknown_tier(self, tmp_path):
        with pytest.raises(InputError, match="already names tier 'institution'") as e:
            _cfg(tmp_path, '[tier_names]\nmeal_point = ["养老院"]\n')
        assert e.value.field == "tier_names.meal_point"
        with pytest.raises(InputError, match="unknown tier"):
            _cfg(tmp_path, '[tier_names]\nbakery = ["面包店"]\n')
        with pytest.raises(ValueError, match="already names"):
            vocabulary({"community_centre": ["x"], "meal_point": ["X"]})

    def test_unknown_names_once_with_closest_and_key(self):
        msg = unknown_names_message({"社区日照中心": 3, "长者饭堂": 1})
        assert msg.count("「社区日照中心」") == 1 and "×3" in msg
        assert '[tier_names] community_centre = ["社区日照中心"]' in msg
        assert closest_names("社区日照中心")[0] == ("社区日间照料中心", "community_centre")
        assert unknown_names_message({}) == ""

    def test_elderly_share_of_one(self, tmp_path):
        cfg = _cfg(tmp_path, "default_elderly_share = 1.0\n[[counties]]\nname = \"甲\"\nelderly_share = 1.0\n")
        assert cfg.default_elderly_share == 1.0 and cfg.counties[0].elderly_share == 1.0
        with pytest.raises(InputError, match="elderly share"):
            _cfg(tmp_path, "default_elderly_share = 1.2\n")

    def test_elderly_share_origin(self, tmp_path, test_pbf):
        reg = tmp_path / "r.csv"
        reg.write_text("名称,层级,经度,纬度\n甲,社区站,26.95,60.53\n", encoding="utf-8")
        base = dict(network=test_pbf, facilities=(reg,), total_population=5000.0, out=tmp_path / "o")
        p = resolve(PlanOptions(**base))
        assert (p.elderly_share, p.elderly_share_origin) == (0.198, "default")
        p = resolve(PlanOptions(**base, elderly_share=1.0))
        assert (p.elderly_share, p.elderly_share_origin) == (1.0, "option")
        p = resolve(PlanOptions(**base, config=_cfg(tmp_path, "default_elderly_share = 0.25\n")))
        assert (p.elderly_share, p.elderly_share_origin) == (0.25, "config")
        with pytest.raises(InputError, match="--elderly-share"):
            resolve(PlanOptions(**base, elderly_share=1.5))

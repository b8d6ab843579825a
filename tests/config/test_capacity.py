"""Capacity rules of a city config: ``[capacity.<tier>]`` → frozen ``CapacityRule`` (issue 13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.config import load_config
from carecover.config.capacity import CapacityRule
from carecover.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = 'city = "t"\nname_zh = "测"\nname_en = "T"\n'


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(MINIMAL + text, encoding="utf-8")
    return p


class TestRules:
    def test_floor_area_rule_resolves_places(self, tmp_path):
        cfg = load_config(write(tmp_path, """
[capacity."社区养老服务站"]
measure = "floor_area_m2"
places_per_unit = 0.04
assumed = 350
new_site = 500
standard_per_1000 = 20
source = "norm"
"""))
        rule = cfg.capacity["community_centre"]  # alias → tier key
        assert isinstance(rule, CapacityRule) and rule.column == "floor_area_m2"
        assert rule.assumed_places == pytest.approx(14.0) and rule.new_site_places == pytest.approx(20.0)
        assert rule.places(1000) == pytest.approx(40.0)
        assert rule.assumed_label() == "assumed:350 m² (config)"
        assert "standard 20 places per 1,000 elderly" in rule.describe()
        with pytest.raises(AttributeError):
            rule.assumed = 1.0  # frozen
        assert cfg.to_dict()["capacity"]["community_centre"]["assumed_places"] == pytest.approx(14.0)

    def test_beds_default_one_place_per_bed(self, tmp_path):
        rule = load_config(write(tmp_path, '[capacity.street_centre]\nmeasure = "beds"\nsource = "s"\n')
                           ).capacity["street_centre"]
        assert rule.places_per_unit == 1.0 and rule.assumed is None and rule.new_site_places is None

    @pytest.mark.parametrize("city", ["hohhot", "baotou", "hulunbuir"])
    def test_shipped_configs_state_sources(self, city):
        cfg = load_config(ROOT / "data" / city / "config.toml")
        assert {"street_centre", "township_centre", "community_centre"} <= set(cfg.capacity)
        assert cfg.capacity["community_centre"].assumed == 350.0
        assert cfg.capacity["street_centre"].assumed == 1000.0
        assert all("assum" in r.source for r in cfg.capacity.values())  # the assumption is stated


class TestErrors:
    @pytest.mark.parametrize("body, field, text", [
        ('[capacity.nowhere]\nmeasure = "beds"\nsource = "s"\n', "capacity.nowhere", "unknown tier"),
        ('[capacity.street_centre]\nmeasure = "bedz"\nsource = "s"\n', "capacity.street_centre.measure",
         "did you mean 'beds'"),
        ('[capacity.street_centre]\nsource = "s"\n', "capacity.street_centre.measure", "missing"),
        ('[capacity.street_centre]\nmeasure = "beds"\n', "capacity.street_centre.source", "source"),
        ('[capacity.street_centre]\nmeasure = "floor_area_m2"\nsource = "s"\n',
         "capacity.street_centre.places_per_unit", "norm"),
        ('[capacity.street_centre]\nmeasure = "beds"\nplaces_per_unit = 0\nsource = "s"\n',
         "capacity.street_centre.places_per_unit", "positive"),
        ('[capacity.street_centre]\nmeasure = "beds"\nassumed = -5\nsource = "s"\n',
         "capacity.street_centre.assumed", "positive"),
        ('[capacity.street_centre]\nmeasure = "beds"\nassumed = "many"\nsource = "s"\n',
         "capacity.street_centre.assumed", "wrong type"),
        ('[capacity.street_centre]\nmeasure = "beds"\nsize = 3\nsource = "s"\n',
         "capacity.street_centre.size", "unknown key"),
    ])
    def test_bad_rule_names_the_key(self, tmp_path, body, field, text):
        with pytest.raises(InputError) as e:
            load_config(write(tmp_path, body))
        assert e.value.field == field and text in str(e.value)
        assert str(e.value.file).endswith("config.toml")

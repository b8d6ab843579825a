"""Finding city configs: the repository's data/ folder and $CARECOVER_DATA_DIR."""

from __future__ import annotations

from pathlib import Path

import pytest
from carecover.config import (
    DATA_DIR,
    CityConfig,
    available_cities,
    find_city_config,
    load_config,
)
from carecover.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CITIES = ("hohhot", "baotou", "hulunbuir")

MINIMAL = """
city = "testville"
name_zh = "测试市"
name_en = "Testville"
"""


class TestRealWorld:
    """The shipped configs in the repository's top-level data/ folder."""

    def test_data_dir_is_the_repository_data_folder(self):
        assert DATA_DIR == ROOT / "data"
        assert find_city_config("hohhot") == ROOT / "data" / "hohhot" / "config.toml"

    def test_find_city_config_errors(self, tmp_path):
        assert set(CITIES) <= set(available_cities())
        with pytest.raises(InputError) as exc:
            find_city_config("atlantis")
        assert "hohhot" in str(exc.value) and "baotou" in str(exc.value)
        p = tmp_path / "my.toml"
        p.write_text(MINIMAL, encoding="utf-8")
        assert find_city_config(str(p)) == p
        assert isinstance(load_config(find_city_config("Hohhot")), CityConfig)


class TestSynthetic:
    """An extra root given by CARECOVER_DATA_DIR."""

    def test_env_root_comes_first(self, tmp_path, monkeypatch):
        (tmp_path / "hohhot").mkdir()
        (tmp_path / "hohhot" / "config.toml").write_text(MINIMAL, encoding="utf-8")
        (tmp_path / "testville").mkdir()
        (tmp_path / "testville" / "config.toml").write_text(MINIMAL, encoding="utf-8")
        monkeypatch.setenv("CARECOVER_DATA_DIR", str(tmp_path))
        assert find_city_config("hohhot") == tmp_path / "hohhot" / "config.toml"
        assert find_city_config("testville") == tmp_path / "testville" / "config.toml"
        assert {"testville", *CITIES} <= set(available_cities())

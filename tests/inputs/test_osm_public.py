"""Public facilities (schools, clinics …) read from real OSM extracts: PBF (Monaco, Andorra) and
XML (Nanjing 玄武区), with their names, kinds and entrances."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs.osm_public import KINDS, parse_kinds, read_public_facilities


def test_kinds_by_english_key_or_chinese_name_in_table_order():
    assert parse_kinds("clinic, school") == ("school", "clinic")
    assert parse_kinds("学校,幼儿园,community centre") == ("kindergarten", "school", "community_centre")
    with pytest.raises(InputError, match="unknown facility kind 'church'") as exc:
        parse_kinds("school,church")
    assert exc.value.field == "--candidates-from-osm"
    # every kind has both names and at least one tag
    assert all(k.zh and k.en and k.tags for k in KINDS.values())


def test_pbf_monaco_schools_with_names(monaco_pbf):
    g = read_public_facilities(monaco_pbf, ("school", "hospital"))
    assert set(g["kind"]) == {"school", "hospital"}
    row = g[g["fid"] == "osm/node/280489204"].iloc[0]
    assert (row["kind"], row["name"], row["tag"]) == ("school", "École Saint-Charles", "amenity=school")
    assert row["lon"] == pytest.approx(7.42717, abs=1e-5) and row["lat"] == pytest.approx(43.74289, abs=1e-5)
    # polygons are represented by a point inside them
    ways = g[g["element"] == "way"]
    assert len(ways) and all(geom.buffer(1e-9).contains(shapely.Point(x, y))
                             for geom, x, y in zip(ways.geometry, ways["lon"], ways["lat"], strict=True))
    # only the kinds asked for
    assert "library" not in set(read_public_facilities(monaco_pbf, ("school",))["kind"])


def test_pbf_andorra_cultural_centre(andorra_pbf):
    g = read_public_facilities(andorra_pbf, ("arts_centre",))
    assert list(g["name"]) == ["Auditori Nacional d'Andorra"]


def test_xml_nanjing_chinese_names_english_names_and_entrances(xuanwu_osm):
    g = read_public_facilities(xuanwu_osm, tuple(KINDS))
    school = g[g["fid"] == "osm/node/4745751722"].iloc[0]
    assert (school["name"], school["name_en"]) == ("长江路小学", "Changjiang Road Primary School")
    assert {"school", "clinic", "hospital", "library", "community_centre"} <= set(g["kind"])
    # 南京图书馆 (a building way) has entrance nodes on its outline: the main one is its point
    lib = g[g["fid"] == "osm/way/94327966"].iloc[0]
    assert lib["entrance"]
    assert (lib["lon"], lib["lat"]) == pytest.approx((118.7903516, 32.0434555), abs=1e-7)
    assert lib.geometry.exterior.distance(shapely.Point(lib["lon"], lib["lat"])) < 1e-7
    # a school's own library building (building=school inside 金陵中学's grounds) is part of the school
    assert "osm/way/88780394" not in set(g["fid"]) and "osm/way/88780395" in set(g["fid"])
    assert g["fid"].is_unique and np.isfinite(g["lon"].to_numpy(float)).all()


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_public_facilities(tmp_path / "nope.osm.pbf", ("school",))
    bad = tmp_path / "x.geojson"
    bad.write_text("{}")
    with pytest.raises(InputError, match="unsupported OSM file type"):
        read_public_facilities(bad, ("school",))

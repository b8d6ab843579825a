"""Supply measures in registers and each facility's places (issue 13)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from carecover.config.capacity import CapacityRule
from carecover.inputs.capacity import facility_capacity
from carecover.inputs.registers import read_facilities


class TestRegisterMeasures:
    def test_chinese_and_english_headers_with_units(self, write_register):
        p = write_register("r.csv", [
            "名称,层级,经度,纬度,床位（张）,建筑面积（平方米）,助餐座位,服务能力",
            '甲,社区养老服务站,111.67,40.82,,"1,200",30,',
            "乙,社区养老服务站,111.68,40.82,12张,abc,,50",
            "丙,老年助餐点,111.69,40.82,-3,,40座,"])
        g = read_facilities(p)
        assert list(g["status"]) == ["ok", "ok", "ok"]  # a bad measure never changes the status
        np.testing.assert_array_equal(g["floor_area_m2"], [1200, np.nan, np.nan])
        np.testing.assert_array_equal(g["beds"], [np.nan, 12, np.nan])
        np.testing.assert_array_equal(g["meal_seats"], [30, np.nan, 40])
        np.testing.assert_array_equal(g["capacity_persons"], [np.nan, 50, np.nan])
        assert "建筑面积 / floor area 'abc'" in g["note"][1] and "床位 / beds '-3'" in g["note"][2]
        e = read_facilities(write_register("e.csv", ["name,tier,lon,lat,beds,floor_area_m2,seats,capacity",
                                                     "a,meal point,111.6,40.8,3,50.5,8,9"]))
        assert e.loc[0, ["beds", "floor_area_m2", "meal_seats", "capacity_persons"]].tolist() == [3, 50.5, 8, 9]


class TestFacilityCapacity:
    RULES = {"community_centre": CapacityRule("community_centre", "floor_area_m2", 0.04, assumed=350.0, source="s"),
             "meal_point": CapacityRule("meal_point", "meal_seats", 1.0, source="s")}

    def test_register_then_assumed_then_missing_then_none(self):
        frame = pd.DataFrame({"tier": ["community_centre", "community_centre", "meal_point", "meal_point",
                                       "street_centre", None],
                              "floor_area_m2": [500, np.nan, 80, np.nan, 900, np.nan],
                              "meal_seats": [np.nan, np.nan, 25, np.nan, np.nan, np.nan]})
        cap, src = facility_capacity(frame, self.RULES)
        np.testing.assert_allclose(cap, [20.0, 14.0, 25.0, np.nan, np.nan, np.nan])
        assert list(src) == ["register:floor_area_m2", "assumed:350 m² (config)", "register:meal_seats",
                             "missing:meal_seats", "none", "none"]

    def test_no_measure_column_uses_the_assumption(self):
        cap, src = facility_capacity(pd.DataFrame({"tier": ["community_centre"]}), self.RULES)
        assert cap[0] == pytest.approx(14.0) and src[0].startswith("assumed:")

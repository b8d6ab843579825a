"""Elderly shares (``carecover.inputs.population.elderly``)."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pytest
from carecover.errors import InputError
from carecover.inputs import population as P
from shapely.geometry import box


class TestShares:
    """Shares by district name or by district polygons, with a default."""

    def test_default_and_districts(self, small_demand):
        d = small_demand()
        out_d = P.apply_elderly_share(d, 0.198, district_shares={"新城区": 0.25})
        out = out_d.points
        np.testing.assert_allclose(out["elderly"], [25.0, 12.5, 200 * 0.198, 10 * 0.198])
        used = out_d.source["elderly"]["used"]
        assert used["新城区"]["source"] == "district" and used["新城区"]["share"] == 0.25
        assert used["赛罕区"]["source"] == "default" and used["(unknown)"]["points"] == 1
        assert d.points["elderly"].isna().all()  # input untouched
        json.dumps(out_d.source)

    def test_by_district_polygons(self, small_demand):
        d = small_demand()
        d = d.with_points(d.points.assign(county=""))
        districts = gpd.GeoDataFrame({"name": ["A", "B"]},
                                     geometry=[box(111.5, 40.7, 111.65, 40.9), box(111.65, 40.7, 111.8, 40.9)],
                                     crs=4326)
        out_d = P.apply_elderly_share(d, 0.2, district_shares={"A": 0.1, "B": 0.3}, districts=districts)
        out = out_d.points
        np.testing.assert_allclose(out["elderly"], [10.0, 5.0, 60.0, 3.0])
        assert out["county"].tolist() == ["A", "A", "B", "B"]


class TestErrors:
    def test_missing_and_out_of_range(self, small_demand):
        d = small_demand()
        with pytest.raises(InputError, match="赛罕区"):
            P.apply_elderly_share(d, district_shares={"新城区": 0.25})
        with pytest.raises(InputError):
            P.apply_elderly_share(d, 1.5)
        with pytest.raises(InputError, match="no elderly share"):
            P.apply_elderly_share(d)
        with pytest.raises(InputError, match="out of range for 新城区"):
            P.apply_elderly_share(d, 0.2, district_shares={"新城区": -0.1})

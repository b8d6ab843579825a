"""Aggregation to a square grid (``carecover.inputs.population.grid``)."""

from __future__ import annotations

import pytest
import shapely
from carecover.errors import InputError
from carecover.inputs import population as P
from carecover.inputs.demand import Demand
from shapely.geometry import box


class TestSynthetic:
    def test_conserves(self, small_demand, check_contract):
        d = small_demand()
        d = d.with_points(d.points.assign(elderly=d.points["pop"] * 0.2))
        g_d = P.aggregate_grid(d, 1000.0)
        g = g_d.points
        check_contract(g_d)
        assert g["pop"].sum() == pytest.approx(360.0)
        assert g["elderly"].sum() == pytest.approx(72.0)
        assert (g["area_m2"] == 1e6).all()
        # points 0.01 deg apart (~850 m) fall in 1 or 2 cells; far pairs never share a cell
        assert 2 <= len(g) <= 4
        big = g.loc[g["pop"].idxmax()]
        assert big["county"] == "赛罕区"
        assert g_d.source["aggregated"]["cells_out"] == len(g)
        polys = g_d.cell_polygons
        assert shapely.contains(polys.values, g.geometry.values).all()

    def test_elderly_stays_unknown(self, small_demand):
        g = P.aggregate_grid(small_demand(), 500.0).points
        assert g["elderly"].isna().all()  # NaN only when all members are NaN


class TestRealWorld:
    def test_monaco(self, monaco_pbf):
        b_d = P.from_buildings(monaco_pbf, 38_000, boundary=box(7.40, 43.72, 7.44, 43.76))
        b = b_d.points
        assert b["pop"].sum() == pytest.approx(38_000)
        g_d = P.aggregate_grid(b_d, 200.0)
        g = g_d.points
        assert g["pop"].sum() == pytest.approx(38_000)
        assert len(g) < len(b) / 10
        assert g["cell_id"].is_unique


class TestErrors:
    def test_bad_cell_size_and_no_points(self, small_demand):
        for bad in (0, -5, float("inf")):
            with pytest.raises(InputError, match="invalid cell size"):
                P.aggregate_grid(small_demand(), bad)
        with pytest.raises(InputError, match="no demand points"):
            P.aggregate_grid(Demand(small_demand().points.iloc[:0]), 100.0)

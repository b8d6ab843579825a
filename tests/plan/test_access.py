"""The access stage (issue 13): capacity per facility → 2SFCA/E2SFCA, load, area figures, on a
synthetic city routed by the plan's own travel stage."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest
from carecover.config.capacity import CapacityRule
from carecover.inputs.capacity import facility_capacity
from carecover.plan import access, figures, travel
from carecover.plan.area import Boundaries
from carecover.plan.inputs import Facilities
from conftest import make_params

RULES = MappingProxyType({
    "community_centre": CapacityRule("community_centre", "floor_area_m2", 0.04, assumed=350.0, new_site=350.0,
                                     standard_per_1000=20.0, source="test norm"),
    "street_centre": CapacityRule("street_centre", "beds", 1.0, source="test beds"),  # nothing assumed
})


@pytest.fixture(scope="module")
def staged(synthetic_city_factory):
    city = synthetic_city_factory(n_nodes=3000, n_facilities=5)
    params = make_params(tiers={"community_centre": {"threshold_min": 5.0}, "street_centre": {"threshold_min": 8.0}},
                         capacity=RULES)
    frame = city.facilities_frame.copy()
    comm = np.flatnonzero((frame["tier"] == "community_centre").to_numpy())
    frame.loc[frame.index[comm[:3]], "floor_area_m2"] = [200.0, 500.0, 1000.0]  # the rest: assumed 350 m²
    frame.loc[frame.index[(frame["tier"] == "street_centre").to_numpy()][:2], "beds"] = [30.0, 60.0]
    frame["capacity"], frame["capacity_source"] = facility_capacity(frame, params.capacity)
    nets = {"walk": city.net}
    t = travel.route(params, nets, Facilities(frame), city.demand)
    f = figures.compute(params, city.net, Boundaries(), city.demand, t)
    return params, city, t, access.compute(params, nets, city.demand, t, f)


class TestAccessStage:
    def test_reach_matrix_agrees_with_the_coverage_times(self, staged):
        _, city, t, acc = staged
        for key, ta in acc.tiers.items():
            tt = t.tiers[key]
            T = ta.times.tocsc()
            col_min = np.full(T.shape[1], np.inf)
            has = np.diff(T.indptr) > 0
            col_min[has] = np.minimum.reduceat(T.data, T.indptr[:-1][has]) - 1e-9
            # every point covered by the tier is in the matrix at its nearest-facility time
            np.testing.assert_allclose(col_min[tt.covered], tt.time_s[tt.covered], atol=1e-6)
            assert not has[~tt.covered].any()

    def test_capacity_sources_and_missing_capacity(self, staged):
        _, _, t, acc = staged
        fac = t.facilities
        comm = fac[fac["tier"] == "community_centre"]
        assert list(comm["capacity_source"].iloc[:3]) == ["register:floor_area_m2"] * 3
        assert (comm["capacity_source"].iloc[3:] == "assumed:350 m² (config)").all()
        np.testing.assert_allclose(comm["capacity"].iloc[:4], [8.0, 20.0, 40.0, 14.0])
        street = fac[fac["tier"] == "street_centre"]
        assert (street["capacity_source"].iloc[2:] == "missing:beds").all() and street["capacity"].iloc[2:].isna().all()
        assert np.isnan(acc.tiers["street_centre"].load[2:]).all()

    def test_load_sums_are_conserved(self, staged):
        _, city, t, acc = staged
        eld = city.demand.points["elderly"].to_numpy(float)
        for key, ta in acc.tiers.items():
            # everyone within reach of a facility (on the E2SFCA weights) is assigned exactly once
            within = np.asarray(ta.times.sum(axis=0)).ravel() > 0
            assert ta.assigned.sum() == pytest.approx(eld[within].sum(), rel=1e-9)
            assert ta.assigned.sum() == pytest.approx(eld[t.tiers[key].covered].sum(), rel=1e-9)
        out = access.facility_columns(t.facilities, acc)
        rows = acc.tiers["community_centre"].rows
        np.testing.assert_allclose(out["load"].iloc[rows], np.round(acc.tiers["community_centre"].load, 4))

    def test_area_figures_state_their_parameters(self, staged):
        params, city, _, acc = staged
        eld = city.demand.points["elderly"].to_numpy(float)
        by = {(f["tiers"][0], f["method"], f["measure"], f["area"]): f for f in acc.figures}
        comm = acc.tiers["community_centre"]
        for method, res in (("2sfca", comm.two), ("e2sfca", comm.enhanced)):
            f = by[("community_centre", method, "places_per_1000", "all")]
            assert f["value"] == pytest.approx((res.per_1000 * eld).sum() / eld.sum())
            # every place of a facility with elderly in its catchment reaches someone
            assert f["value"] * eld.sum() / 1000 == pytest.approx(comm.supply[res.catchment > 0].sum())
            assert f["threshold_min"] == 5.0 and f["speed_mps"] == params.walk_speed_mps and f["population"] == "elderly"
            assert "test norm" in f["capacity"] and f["standard_per_1000"] == 20.0
            below = by[("community_centre", method, "share_below_standard", "all")]
            assert below["value"] == pytest.approx(eld[res.per_1000 < 20.0].sum() / eld.sum())
            parts = [by[("community_centre", method, "places_per_1000", c)] for c in ("东区", "西区")]
            assert sum(p["value"] * p["total"] for p in parts) == pytest.approx(f["value"] * f["total"])
        assert ("street_centre", "2sfca", "share_below_standard", "all") not in by  # no standard stated
        assert 0 < by[("community_centre", "e2sfca", "gini", "all")]["value"] < 1

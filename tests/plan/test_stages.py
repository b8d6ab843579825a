"""The plan's stages, each on its own, on a synthetic city (no OSM file, no CLI)."""

from __future__ import annotations

import numpy as np
import pytest
from carecover.network import engine
from carecover.plan import figures, gaps, isochrones, siting, travel
from carecover.plan.area import Boundaries
from carecover.plan.inputs import Facilities
from conftest import make_params


@pytest.fixture(scope="module")
def city(synthetic_city_factory):
    return synthetic_city_factory(n_nodes=3000, n_facilities=5)


@pytest.fixture(scope="module")
def routed(city):
    params = make_params(tiers={"community_centre": {"threshold_min": 5.0},
                                "street_centre": {"threshold_min": 8.0}})
    nets = {"walk": city.net}
    frame = city.facilities_frame.copy()
    # one facility far outside the city: beyond the snap limit
    far = frame.index[0]
    frame.loc[far, "geometry"] = frame.loc[far, "geometry"].__class__(111.0, 40.0)
    t = travel.route(params, nets, Facilities(frame), city.demand)
    return params, nets, t


class TestTravel:
    def test_tiers_in_tier_order_with_their_rows(self, routed, city):
        params, _, t = routed
        assert list(t.tiers) == ["street_centre", "community_centre"]  # TIERS order, not register order
        for key, tt in t.tiers.items():
            assert (t.facilities.iloc[tt.rows]["tier"] == key).all()
            assert tt.threshold_s == params.tiers[key].threshold_min * 60
            assert len(tt.time_s) == len(city.demand)

    def test_far_facility_is_unsnapped_and_reaches_nobody(self, routed):
        _, _, t = routed
        f = t.facilities.iloc[0]
        assert f["status"] == "unsnapped" and "limit 300 m" in f["note"] and f["snap_m"] > 300
        assert f["reached_pop"] == 0

    def test_reached_people_add_up_to_the_covered(self, routed, city):
        _, _, t = routed
        pop = city.demand.points["pop"].to_numpy()
        for tt in t.tiers.values():
            reached = t.facilities.iloc[tt.rows]["reached_pop"].sum()
            assert reached == pytest.approx(pop[tt.covered].sum(), abs=0.1 * len(tt.rows))
            assert 0 < tt.covered.sum() < len(pop)

    def test_walk_tiers_are_searched_to_the_slowest_speed(self, routed):
        params, _, t = routed
        tt = t.tiers["community_centre"]
        reached = np.isfinite(tt.time_s)
        # beyond the 5-min threshold but within 5 min at 0.8 m/s: still timed (exact rescaling)
        assert (reached & ~tt.covered).any()
        assert tt.time_s[reached].max() <= 5 * 60 / 0.8 * 1.0001 + 1e-6


class TestIsochrones:
    def test_band_times_are_the_routed_ones_cut_at_the_band(self, routed):
        """The stage reuses the tier's routing: cut at the largest band it equals a search
        bounded there; routed less far than the band, the tier is searched again."""
        _, nets, t = routed
        tt = t.tiers["community_centre"]  # searched to 5 min at 0.8 m/s: 375 s
        for limit in (300.0, 900.0):
            got = isochrones.band_node_times(nets["walk"], tt, limit)
            want = engine.nearest(nets["walk"], tt.sources, limit)
            assert got.limit_s == limit
            np.testing.assert_array_equal(got.time, want.time)
            np.testing.assert_array_equal(got.source, want.source)
        assert np.isfinite(tt.node_times.time).sum() > np.isfinite(
            isochrones.band_node_times(nets["walk"], tt, 300.0).time).sum()

    def test_every_tier_and_band_drawn_valid_with_its_fidelity(self, routed):
        params, nets, t = routed
        iso = isochrones.build(params, nets, t)
        assert sorted(map(tuple, iso.frame[["tier", "band_min"]].to_numpy())) == sorted(
            (k, float(b)) for k in t.tiers for b in params.bands_min)
        assert iso.frame.geometry.is_valid.all() and iso.frame.crs.to_epsg() == 4326
        for key in t.tiers:
            assert [r["band_min"] for r in iso.fidelity[key]["bands"]] == sorted(params.bands_min)
            assert all(r["false_share"] <= 0.1 for r in iso.fidelity[key]["bands"])


class TestFigures:
    def test_totals_are_conserved_and_areas_partition(self, routed, city):
        params, nets, t = routed
        f = figures.compute(params, nets["walk"], Boundaries(), city.demand, t)
        pop = city.demand.points
        by = {(x["kind"], tuple(x["tiers"]), x["population"], x["area"], x["speed_mps"]): x for x in f.items}
        for key in t.tiers:
            whole = by[("population", (key,), "total", "all", 1.0)]
            assert whole["total"] == pytest.approx(pop["pop"].sum())
            parts = [by[("population", (key,), "total", c, 1.0)] for c in ("东区", "西区")]
            assert sum(p["covered"] for p in parts) == pytest.approx(whole["covered"])
            assert whole["threshold_min"] == params.tiers[key].threshold_min
            # slower walking never covers more
            slow, fast = (by[("population", (key,), "elderly", "all", v)]["value"] for v in (0.8, 1.2))
            assert slow <= by[("population", (key,), "elderly", "all", 1.0)]["value"] <= fast
        assert not [x for x in f.items if x["kind"] == "all_of"]  # one community-level walk tier only
        assert set(f.sensitivity) == set(t.tiers) and set(f.circle_masks) == set(t.tiers)

    def test_all_of_is_the_share_reaching_every_tier_within_its_own_threshold(self, synthetic_city_factory):
        city = synthetic_city_factory(n_nodes=3000, n_facilities=5, tiers=("community_centre", "village_station"))
        params = make_params(tiers={"community_centre": {"threshold_min": 5.0},
                                    "village_station": {"threshold_min": 7.0}})
        t = travel.route(params, {"walk": city.net}, Facilities(city.facilities_frame), city.demand)
        f = figures.compute(params, city.net, Boundaries(), city.demand, t)
        allof = next(x for x in f.items if x["kind"] == "all_of" and x["population"] == "elderly" and x["area"] == "all")
        both = t.tiers["community_centre"].covered & t.tiers["village_station"].covered
        assert allof["covered"] == pytest.approx(city.demand.points["elderly"][both].sum())
        assert allof["threshold_min"] is None  # the tiers' thresholds differ: no single number
        assert allof["thresholds_min"] == {"community_centre": 5.0, "village_station": 7.0}


class TestGapsAndSites:
    def test_gap_members_are_exactly_the_uncovered_populated(self, routed, city):
        params, _, t = routed
        g = gaps.find(params, city.demand, t, Boundaries())
        pts = city.demand.points
        for key, tt in t.tiers.items():
            member = g.members[key]
            populated = (pts["pop"] > 0) | (pts["elderly"] > 0)
            assert ((member > 0) == (~tt.covered & populated.to_numpy())).all()
            zones = g.zones[g.zones["tier"] == key]
            assert zones["elderly"].sum() == pytest.approx(pts["elderly"][member > 0].sum())
            assert list(zones["gap_id"]) == list(range(1, len(zones) + 1))
        assert len(g.hulls) == len(g.zones)

    def test_sites_gain_what_the_planned_figure_shows(self, routed, city):
        params, nets, t = routed
        params = make_params(tiers={"community_centre": {"threshold_min": 5.0},
                                    "street_centre": {"threshold_min": 8.0}},
                             suggest={"street_centre": 2}, max_candidates=200, exact_time_limit_s=10.0)
        f = figures.compute(params, nets["walk"], Boundaries(), city.demand, t)
        g = gaps.find(params, city.demand, t, Boundaries())
        pbs = siting.problems(params, nets, Boundaries(), city.demand, t)
        s = siting.suggest(params, pbs, Boundaries(), city.demand, t, g, f)
        exact = s.sites[s.sites["method"] == "exact"]
        assert len(exact) == 2 and list(exact["rank"]) == [1, 2]
        info = s.info["street_centre"]
        assert info["covered_after"] - info["covered_before"] == pytest.approx(exact["gain_elderly"].sum())
        before = next(x for x in f.items if x["kind"] == "population" and x["tiers"] == ["street_centre"]
                      and x["population"] == "elderly" and x["area"] == "all" and x["speed_mps"] == 1.0)
        after = next(x for x in s.figures if x["population"] == "elderly" and x["area"] == "all")
        assert after["scenario"] == "planned"
        assert after["covered"] == pytest.approx(before["covered"] + exact["gain_elderly"].sum())
        assert s.states["street_centre"].candidates.shape == (len(pbs.problems["street_centre"].candidates),
                                                             len(city.demand))

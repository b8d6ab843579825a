"""Coverage figures on small hand-checked cases."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from carecover.analysis import figures as cf


@pytest.fixture
def four():
    """Four residents: 10, 20, 30, 40 elderly; times 60, 300, 600, inf seconds."""
    d = gpd.GeoDataFrame({"pop": [50.0, 100.0, 150.0, 200.0], "elderly": [10.0, 20.0, 30.0, 40.0],
                          "county": ["A", "A", "B", "B"]},
                         geometry=gpd.points_from_xy([0.1, 0.2, 1.1, 1.2], [0.1, 0.2, 0.1, 0.2]), crs=4326)
    return d, np.array([60.0, 300.0, 600.0, np.inf])


class TestPopulationFigures:
    def test_area_times_equal_each_areas_own_statistics(self):
        """Every area's median, p90 and band shares are those of its own residents (ties,
        unreached, no weight and missing times included)."""
        rng = np.random.default_rng(7)
        n = 400
        t = rng.choice([60.0, 120.0, 300.0, 450.0, 900.0, np.inf, np.nan], n)
        d = gpd.GeoDataFrame({"pop": rng.integers(0, 5, n).astype(float), "elderly": rng.integers(0, 3, n) * 1.0,
                              "county": rng.choice(["A", "B", "C"], n)},
                             geometry=gpd.points_from_xy(rng.random(n), rng.random(n)), crs=4326)
        areas = cf.area_masks(d)
        areas["empty"] = np.zeros(n, bool)
        figs = cf.population_figures(d, t, tiers=["x"], threshold_min=15.0, speed_mps=1.0, mode="walk",
                                     areas=areas, data={})
        for f in figs:
            m = areas[f["area"]]
            w = d["elderly" if f["population"] == "elderly" else "pop"].to_numpy()[m]
            want = cf.time_stats(t[m], w)
            got = {k: f[k] for k in want}
            np.testing.assert_equal(got, want, err_msg=f["area"])  # bit for bit

    def test_shares_by_area_and_times(self, four):
        d, t = four
        areas = cf.area_masks(d, {"A": "urban", "B": "rural"})
        figs = cf.population_figures(d, t, tiers=["community_centre"], threshold_min=5.0, speed_mps=1.0,
                                     mode="walk", areas=areas, data={"network": "x"})
        by = {(f["population"], f["area"]): f for f in figs}
        assert by[("elderly", "all")]["covered"] == 30.0 and by[("elderly", "all")]["value"] == pytest.approx(0.3)
        assert by[("elderly", "A")]["value"] == 1.0 and by[("elderly", "B")]["value"] == 0.0
        assert by[("total", "urban")]["covered"] == 150.0
        assert by[("elderly", "all")]["median_min"] == 10.0  # weights 10/20/30/40: the 3rd is the median
        assert by[("elderly", "all")]["share_within_10min"] == pytest.approx(0.6)
        assert all(f["threshold_min"] == 5.0 and f["speed_mps"] == 1.0 for f in figs)


class TestSensitivity:
    def test_other_speeds_rescale_the_times(self, four):
        d, t = four
        figs, band = cf.sensitivity_figures(d, t, tier="community_centre", threshold_min=5.0, speed_mps=1.0,
                                            speeds_mps=(0.5, 2.0), all_mask=np.ones(4, bool), data={})
        # at 0.5 m/s the times double (60 → 120 s only); at 2 m/s they halve (+ the 600 s one)
        assert band["by_speed_mps"] == {"0.5": pytest.approx(0.1), "1.0": pytest.approx(0.3), "2.0": pytest.approx(0.6)}
        assert band["threshold_min"] == 5.0 and band["population"] == "elderly"
        assert sorted({f["speed_mps"] for f in figs}) == [0.5, 2.0]


class TestCircles:
    def test_inside_the_circle_but_not_reached(self, four):
        d, t = four
        xy = np.array([[0.0, 0.0], [100.0, 0.0], [200.0, 0.0], [5000.0, 0.0]])
        mask, parts = cf.circle_gap(d, np.array([[0.0, 0.0]]), xy, t, radius_m=250.0, threshold_min=5.0)
        assert mask.tolist() == [False, False, True, False]  # 200 m away, 600 s on the network
        assert parts["elderly_in_circles"] == 60.0 and parts["elderly_in_circles_not_reached"] == 30.0
        figs = cf.circle_figures(parts, d, tier="community_centre", threshold_min=5.0, speed_mps=1.0,
                                 radius_m=250.0, data={})
        eld = next(f for f in figs if f["population"] == "elderly")
        assert eld["value"] == pytest.approx(0.6) and eld["radius_m"] == 250.0 and eld["not_reached_by_network"] == 30.0


class TestAllOfAndUnits:
    def test_all_of_needs_every_tier(self, four):
        d, _ = four
        covered = {"community_centre": np.array([1, 1, 0, 1], bool), "meal_point": np.array([1, 0, 1, 1], bool)}
        figs = cf.all_of_figures(d, covered, {"community_centre": 15.0, "meal_point": 10.0}, speed_mps=1.0,
                                 areas={"all": np.ones(4, bool)}, data={})
        eld = next(f for f in figs if f["population"] == "elderly")
        assert eld["covered"] == 50.0 and eld["threshold_min"] is None
        assert eld["thresholds_min"] == {"community_centre": 15.0, "meal_point": 10.0}

    def test_unit_masks_count_a_point_once(self, four):
        d, _ = four
        units = gpd.GeoDataFrame({"name": ["W", "WW", "E"]},
                                 geometry=[shapely.box(0, 0, 0.5, 0.5), shapely.box(0, 0, 0.15, 0.15),
                                           shapely.box(1, 0, 1.5, 0.5)], crs=4326)
        m = cf.unit_masks(d, {"street": units})
        assert m["street:W"].tolist() == [True, True, False, False]
        assert not m["street:WW"].any()  # inside W already
        assert m["street:E"].tolist() == [False, False, True, True]

"""The served objective in the plan (issue 13 item 5): ``--objective coverage|served|both`` on a
synthetic city routed by the plan's own travel stage (the resolve-time capacity check is in
test_resolve.py)."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.config.capacity import CapacityRule
from carecover.inputs.capacity import facility_capacity
from carecover.plan import figures, gaps, siting, travel
from carecover.plan.area import Boundaries
from carecover.plan.inputs import Facilities
from carecover.siting.table import SERVED_COLUMNS, SITE_COLUMNS
from conftest import make_params
from scipy.optimize import linprog

RULES = MappingProxyType({
    "community_centre": CapacityRule("community_centre", "capacity", 1.0, assumed=40.0, new_site=60.0, source="test"),
    "street_centre": CapacityRule("street_centre", "beds", 1.0, assumed=80.0, new_site=120.0, source="test beds"),
})
TIERS = {"community_centre": {"threshold_min": 5.0}, "street_centre": {"threshold_min": 8.0}}


def lp_served(reach: sp.csr_matrix, w: np.ndarray, cap: np.ndarray) -> float:
    """Served elderly by one sparse LP written out here (scipy linprog, HiGHS)."""
    R = reach.tocoo()
    n = R.nnz
    if not n:
        return 0.0
    rows = np.r_[R.col, reach.shape[1] + R.row]
    A = sp.csr_matrix((np.ones(2 * n), (rows, np.r_[np.arange(n), np.arange(n)])),
                      shape=(reach.shape[1] + reach.shape[0], n))
    return float(-linprog(-np.ones(n), A_ub=A, b_ub=np.r_[w, cap], bounds=(0, None), method="highs").fun)


@pytest.fixture(scope="module")
def staged(synthetic_city_factory):
    city = synthetic_city_factory(n_nodes=3000, n_facilities=5)
    frame = city.facilities_frame.copy()
    frame["capacity"], frame["capacity_source"] = facility_capacity(frame, RULES)
    params = make_params(tiers=TIERS, capacity=RULES)
    nets = {"walk": city.net}
    t = travel.route(params, nets, Facilities(frame), city.demand)
    f = figures.compute(params, city.net, Boundaries(), city.demand, t)
    g = gaps.find(params, city.demand, t, Boundaries())

    def run(objective: str):
        p = make_params(tiers=TIERS, capacity=RULES, suggest={"street_centre": 2}, max_candidates=200,
                        exact_time_limit_s=10.0, objective=objective)
        pbs = siting.problems(p, nets, Boundaries(), city.demand, t)
        return pbs, siting.suggest(p, pbs, Boundaries(), city.demand, t, g, f)

    return city, t, run


class TestObjectives:
    def test_coverage_is_unchanged(self, staged):
        _, _, run = staged
        _, s = run("coverage")
        assert list(s.sites.drop(columns="geometry").columns) == SITE_COLUMNS
        assert set(s.sites["method"]) == {"greedy", "exact"} and "served" not in s.info["street_centre"]

    def test_both_side_by_side(self, staged):
        city, t, run = staged
        pbs, s = run("both")
        sites = s.sites
        assert list(sites.drop(columns="geometry").columns) == SITE_COLUMNS + SERVED_COLUMNS
        assert set(sites["method"]) == {"greedy", "exact", "served_greedy", "served_exact"}
        assert set(sites.loc[sites["method"].str.startswith("served"), "siting_objective"]) == {"served"}
        assert set(sites.loc[sites["method"].isin(["greedy", "exact"]), "siting_objective"]) == {"coverage"}
        info = s.info["street_centre"]["served"]
        ex = sites[sites["method"] == "served_exact"]
        # never more than a site's places, never more than the elderly
        assert (ex["served_elderly"] <= ex["capacity"] + 1e-9).all() and (ex["capacity"] == 120.0).all()
        assert info["served_after"] - info["served_before"] == pytest.approx(ex["gain_elderly"].sum())
        assert info["served_after"] <= info["total_weight"] + 1e-9
        assert info["served_by_new_sites"] <= info["places_added"] + 1e-9
        # what the existing facilities serve alone and with the new sites, by an LP written out here
        pb = pbs.problems["street_centre"]
        w = city.demand.points["elderly"].fillna(0).to_numpy(float)
        cap = t.facilities["capacity"].to_numpy(float)[t.tiers["street_centre"].rows]
        assert info["served_before"] == pytest.approx(lp_served(pb.existing_reach, w, cap), abs=1e-6)
        idx = [list(pb.candidates.ids).index(c) for c in ex["candidate"]]
        both = sp.vstack([pb.existing_reach, pb.reach[idx]]).tocsr()
        assert info["served_after"] == pytest.approx(lp_served(both, w, np.r_[cap, np.full(len(idx), 120.0)]), abs=1e-6)
        # the planned scenario stays the coverage sites when both are asked
        cov = sites[sites["method"] == "exact"]
        assert set(s.states["street_centre"].chosen.tolist()) == {list(pb.candidates.ids).index(c) for c in cov["candidate"]}

    def test_served_only_plans_the_served_sites(self, staged):
        _, _, run = staged
        pbs, s = run("served")
        assert set(s.sites["method"]) == {"served_greedy", "served_exact"}
        ids = list(pbs.problems["street_centre"].candidates.ids)
        ex = s.sites[s.sites["method"] == "served_exact"]
        assert s.info["street_centre"]["objective"] == "served"
        assert sorted(s.states["street_centre"].chosen.tolist()) == sorted(ids.index(c) for c in ex["candidate"])


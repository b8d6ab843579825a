"""Accessibility and load in the what-if (issue 13 item 6): a hand-checked state, and the demo's
real prepared state against a recomputation by the plan's own functions."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.analysis.access import Decay
from carecover.config.capacity import CapacityRule
from carecover.siting.access_whatif import state_capacity_fields
from carecover.siting.prepared import PreparedState
from carecover.siting.whatif import Session


def _state(minutes: list[list[float | None]], n_existing: int, elderly, capacity, rule) -> PreparedState:
    dense = np.array([[np.nan if v is None else v * 60 + 1e-9 for v in r] for r in minutes])
    r, c = np.nonzero(np.isfinite(dense))
    M = sp.csr_matrix((dense[r, c], (r, c)), shape=dense.shape)
    n_cand = M.shape[0] - n_existing
    w = {"elderly": np.asarray(elderly, float), "total": np.asarray(elderly, float) * 5}
    extra = state_capacity_fields(rule, Decay("bands", 15.0), np.asarray(capacity, float))
    extra = {k: (v.item() if v.ndim == 0 else v) for k, v in extra.items()}
    return PreparedState(
        tier="community_centre", matrix=M, n_existing=n_existing, weights=w, region_weights=w, region="all",
        existing_ok=np.ones(n_existing, bool), existing_fid=np.array([f"E{i}" for i in range(n_existing)]),
        existing_name=np.array([""] * n_existing), existing_lon=None, existing_lat=None,
        cand_lon=np.zeros(n_cand), cand_lat=np.zeros(n_cand), cand_node=np.arange(n_cand),
        cand_id=np.array([f"c{i}" for i in range(n_cand)]), chosen=np.zeros(0, np.int64), threshold_s=900.0,
        mode="walk", demand_lon=None, demand_lat=None, demand_cell_id=None, extra=extra)


RULE = CapacityRule("community_centre", "floor_area_m2", 0.04, assumed=350.0, new_site=500.0,
                    standard_per_1000=30.0, source="test")


class TestHandChecked:
    # existing E0 (20 places) reaches p0 at 3 min and p1 at 8 min; candidate c0 (new site: 20 places)
    # reaches p1 at 4 min and p2 at 2 min; elderly 100, 200, 100
    def state(self):
        return _state([[3, 8, None], [None, 4, 2]], 1, [100, 200, 100], [20.0], RULE)

    def test_adding_a_candidate(self):
        s = Session(self.state())
        base = s.steps[0].access
        # E0 alone: D = 100 + 0.68 * 200 = 236; A = 20/236 for p0, 0.68 * 20/236 for p1, 0 for p2
        r = 20 / 236
        assert base["places_per_1000"] == pytest.approx(1000 * (100 * r + 200 * 0.68 * r) / 400)
        # p0 84.7 ‰ and p1 57.6 ‰ are above the standard of 30, p2 (nothing in reach) below
        assert base["share_below_standard"] == pytest.approx(100 / 400)
        step = s.apply("add-candidate", "c0")
        # both open: D_E0 = 236, D_c0 = 200 + 100 = 300; every place reaches someone
        assert step.access["places_per_1000"] == pytest.approx(1000 * 40 / 400)
        assert step.access_delta["places_per_1000"] == pytest.approx(1000 * 40 / 400 - base["places_per_1000"])
        # load of c0: p2 wholly, p1 split 1.00 : 0.68 between c0 and E0 → (100 + 200/1.68) / 20
        assert step.access["site_load"] == pytest.approx((100 + 200 / 1.68) / 20)
        back = s.apply("remove-candidate", "c0")
        assert back.access["places_per_1000"] == pytest.approx(base["places_per_1000"])
        assert back.access["site_load"] == pytest.approx(step.access["site_load"])  # its load before removal

    def test_no_capacity_no_access(self):
        st = self.state()
        st.extra = {}
        s = Session(st)
        assert s.access is None and s.steps[0].access is None
        assert s.apply("add-candidate", "c0").access is None


def _from_scratch(st, lon, lat, supply) -> dict:
    """Accessibility of sites at ``lon``/``lat`` recomputed from nothing: each routed on the
    plan's network (real seconds), weighted by the plan's decay, scored by analysis/access.py."""
    from carecover.analysis.access import assigned_demand, two_step, weight_matrix, weighted_gini

    times, snap = st.route_points(lon, lat)
    assert snap.ok.all()
    rule = json.loads(str(st.extra["capacity_rule"]))
    decay = Decay(rule["decay"]["kind"], rule["decay"]["threshold_min"], tuple(rule["decay"]["weights"]))
    W = weight_matrix(times, decay.threshold_min, decay)
    w = st.weights["elderly"]
    per = two_step(W, supply, w, "e2sfca").per_1000
    load = assigned_demand(W, w) / supply
    return {"places_per_1000": (per * w).sum() / w.sum(), "gini": weighted_gini(per, w),
            "max_load": load.max(), "overloaded": int((load > 1).sum()), "load": load}


class TestDemoState:
    """The demo's real prepared state (Helsinki streets, a capacity rule with band decay): the
    what-if weighs the plan's sites as the plan does (issue 21: the state kept the pattern only,
    so stored sites counted with full weight and a new point with its decayed weights)."""

    KEYS = ("places_per_1000", "gini", "max_load", "overloaded")

    def test_no_change_equals_the_plans_figures(self, demo_out):
        from carecover.siting.state import load_state

        st = load_state(demo_out, "street_centre")
        base = Session(st).steps[0].access
        figs = {f["measure"]: f["value"] for f in st.summary["figures"]
                if f["kind"] == "access" and f["tiers"] == ["street_centre"] and f["method"] == "e2sfca"
                and f["area"] == "all" and f["scenario"] == "current"}
        # summary.json rounds to 6 decimals; the Gini of full weights (the old what-if) is 0.9418
        assert base["places_per_1000"] == pytest.approx(figs["places_per_1000"], abs=1e-6)
        assert base["gini"] == pytest.approx(figs["gini"], abs=1e-6)
        cap = np.asarray(st.extra["existing_capacity"], float)
        ref = _from_scratch(st, st.existing_lon, st.existing_lat, cap)
        for k in self.KEYS:
            assert base[k] == pytest.approx(ref[k], rel=1e-9), k

    def test_adding_a_candidate_equals_recomputing(self, demo_out):
        from carecover.siting.state import load_state

        st = load_state(demo_out, "street_centre")
        s = Session(st)
        cap = np.asarray(st.extra["existing_capacity"], float)
        new = float(json.loads(str(st.extra["capacity_rule"]))["rule"]["new_site_places"])
        # the first candidate that shares demand with the existing centre (both catchments count)
        M = st.matrix.tocsr()
        c = next(i for i in range(st.n_candidates) if M[st.n_existing + i].multiply(M[0]).nnz)
        step = s.apply("add-candidate", str(st.cand_id[c]))
        ref = _from_scratch(st, np.r_[st.existing_lon, st.cand_lon[c]], np.r_[st.existing_lat, st.cand_lat[c]],
                            np.r_[cap, new])
        for k in self.KEYS:
            assert step.access[k] == pytest.approx(ref[k], rel=1e-9), k
        assert step.access["site_load"] == pytest.approx(ref["load"][-1], rel=1e-9)
        # the same place added as a new point (routed now, real seconds) scores the same
        s2 = Session(st)
        point = s2.apply("add", f"{float(st.cand_lon[c])!r},{float(st.cand_lat[c])!r}")
        for k in self.KEYS:
            assert point.access[k] == pytest.approx(ref[k], rel=1e-9), k
        assert "1,000 m²" in s.access.record["text"]

    def test_a_pattern_only_state_scores_no_access(self, demo_out):
        from carecover.siting.state import load_state

        st = load_state(demo_out, "street_centre")
        st.extra = {k: v for k, v in st.extra.items() if k != "reach_band"}  # as version 3 wrote it
        with pytest.warns(Warning, match="re-run `carecover plan`"):
            assert Session(st).access is None

"""The prepared-state file (carecover.siting.state) and the loaded state (carecover.siting.prepared)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.meeting.common import summary_figure
from carecover.siting import state as fmt
from carecover.siting.state import TierState, load_state, write_state
from carecover.siting.whatif import Session

TIER = "street_centre"


@pytest.fixture
def tier_state():
    """``tier_state(**fields)``: a small TierState (2 existing, 3 candidates, 4 demand points)."""

    def make(fields: dict | None = None) -> TierState:
        ex = sp.csr_matrix(np.array([[10.0, 0, 0, 0], [0, 0, 0, 0]]) + 0)
        ex.data += 1e-9
        cand = sp.csr_matrix(np.array([[0, 5.0, 0, 0], [0, 0, 7.0, 0], [0, 0, 0, 0]]))
        cand.data += 1e-9
        return TierState(ex, cand, np.array([1.0, 2.0, 4.0, 8.0]), np.array([10.0, 20.0, 40.0, 80.0]),
                         np.array([True, False]), np.array([24.9, 24.91, 24.92]), np.array([60.1, 60.2, 60.3]),
                         np.array([3, 4, -1]), np.array(["node/1", "node/2", "P3"]), np.array([1]),
                         fields or {})

    return make


def _write(tmp_path: Path, state: TierState, drop: tuple = (), add: dict | None = None) -> Path:
    """Write ``state`` as ``tmp_path/state/street_centre.npz``, optionally without some fields."""
    path = write_state(tmp_path / "state" / f"{TIER}.npz", state)
    if drop or add:
        with np.load(path) as z:
            arr = {k: z[k] for k in z.files if k not in drop}
        np.savez(path, **{**arr, **(add or {})})
    return path


class TestFormat:
    """Writing and reading round trip; older and newer files."""

    def test_pattern_steps_round_trip(self):
        rng = np.random.default_rng(3)
        A = sp.random(60, 5000, density=0.05, format="lil", random_state=rng)
        A[7] = 0  # an empty row in the middle
        A[:, 4000:] = 0  # long steps (>= 255)
        A[59, 4999] = 1.0  # an entry in the last column
        A = A.tocsr()
        A.eliminate_zeros()
        A.sort_indices()
        enc = fmt.encode_pattern(A.indptr, A.indices)
        assert enc["reach_step"].dtype == np.uint8 and len(enc["reach_step"]) == A.nnz
        assert len(enc["reach_step_big"]) > 0 and (enc["reach_step"] >= 1).all()
        np.testing.assert_array_equal(fmt.decode_pattern(A.indptr, **enc), A.indices)
        empty = sp.csr_matrix((3, 10))
        assert fmt.decode_pattern(empty.indptr, **fmt.encode_pattern(empty.indptr, empty.indices)).size == 0

    def test_older_files_with_seconds_are_read(self, tmp_path, tier_state):
        st = tier_state()
        M = sp.vstack([st.existing, st.candidates]).tocsr()
        _write(tmp_path, st, drop=fmt.PATTERN_FIELDS,
               add={"data": M.data.astype(np.float32), "indices": M.indices.astype(np.int32)})
        old = load_state(tmp_path, TIER)
        assert old.matrix.dtype == np.float32 and old.matrix[0, 0] == pytest.approx(10.0)
        _write(tmp_path, st)
        new = load_state(tmp_path, TIER)
        assert new.matrix.dtype == bool and (new.matrix != (old.matrix > 0)).nnz == 0

    def test_decay_values_only_with_a_capacity_rule(self, tmp_path, tier_state):
        from carecover.analysis.access import Decay
        from carecover.config.capacity import CapacityRule
        from carecover.siting.access_whatif import NO_BAND, state_capacity_fields

        _write(tmp_path, tier_state())  # no rule: the pattern only (a drive tier stays small)
        with np.load(tmp_path / "state" / f"{TIER}.npz") as z:
            assert not {"reach_band", "reach_seconds"} & set(z.files)
        rule = CapacityRule(TIER, "floor_area_m2", 0.04, assumed=350.0, new_site=500.0, source="test")
        for kind, field in (("bands", "reach_band"), ("gaussian", "reach_seconds")):
            # 0.15 min = 9 s in bands of 3 s: 10 s is beyond, 5 s in the 2nd band, 7 s in the 3rd
            cap = state_capacity_fields(rule, Decay(kind, 0.15), np.array([20.0, np.nan]))
            _write(tmp_path, tier_state(cap))
            st = load_state(tmp_path, TIER)
            assert st.matrix.dtype == bool and set(st.extra) >= {field, "capacity_rule"}
            assert len(st.extra[field]) == st.matrix.nnz
        np.testing.assert_allclose(st.extra["reach_seconds"], [10.0, 5.0, 7.0], rtol=1e-7)
        cap = state_capacity_fields(rule, Decay("bands", 0.15), np.array([20.0, np.nan]))
        _write(tmp_path, tier_state(cap))
        assert load_state(tmp_path, TIER).extra["reach_band"].tolist() == [NO_BAND, 1, 2]
        _write(tmp_path, tier_state(cap), add={"reach_band": np.array([1, 2], np.uint8)})  # one short
        with pytest.raises(InputError, match="damaged"):
            load_state(tmp_path, TIER)

    def test_gaussian_decay_scores_from_the_stored_seconds(self, tmp_path, tier_state):
        from carecover.analysis.access import Decay
        from carecover.config.capacity import CapacityRule
        from carecover.siting.access_whatif import state_capacity_fields

        rule = CapacityRule(TIER, "floor_area_m2", 0.04, assumed=350.0, new_site=500.0, source="test")
        ts = tier_state(state_capacity_fields(rule, Decay("gaussian", 0.2), np.array([20.0, np.nan])))
        _write(tmp_path, ts)
        st = load_state(tmp_path, TIER)
        got = Session(st).apply("add-candidate", "node/1").access
        # the same state holding the float64 seconds themselves (as versions 1–2 did)
        st.matrix = sp.vstack([ts.existing, ts.candidates]).tocsr()
        st.extra = {k: v for k, v in st.extra.items() if k != "reach_seconds"}
        want = Session(st).apply("add-candidate", "node/1").access
        for k in ("places_per_1000", "gini", "max_load", "site_load"):
            assert got[k] == pytest.approx(want[k], rel=1e-6), k

    def test_round_trip_version_1(self, tmp_path, tier_state):
        _write(tmp_path, tier_state())
        st = load_state(tmp_path, TIER)
        assert st.version == fmt.LEGACY_VERSION and st.n_existing == 2 and st.n_candidates == 3
        assert st.matrix.shape == (5, 4) and st.matrix.nnz == 3
        assert st.existing_fid.tolist() == ["#0", "#1"] and st.cand_id.tolist() == ["node/1", "node/2", "P3"]
        assert st.chosen.tolist() == [1] and st.threshold_s is None and st.mode is None
        assert st.network_record is None and st.demand_positions is None and st.extra == {}
        # a version-1 file does not record its snap limit: the documented fallback of the format
        assert st.max_snap_m == fmt.LEGACY_MAX_SNAP_M
        with pytest.raises(InputError, match="no network record"):
            st.network()
        assert Session(st, base="planned").figures()["elderly"]["covered"] == 5.0

    def test_version_2_fields(self, tmp_path, tier_state):
        fields = {"state_version": np.int64(2), "threshold_s": np.float64(600.0), "mode": np.array("walk"),
                  "max_snap_m": np.float64(123.0), "net_file": np.array(str(tmp_path / "x.osm.pbf")),
                  "net_profile": np.array('{"name": "walk"}'), "net_clip_wkb": np.array(""),
                  "net_cache": np.array(""), "net_sha256": np.array("ab"), "net_nodes": np.int64(5),
                  "net_segments": np.int64(4), "demand_elderly": np.array([1.0, 2.0, 4.0, 8.0, ]) * 2,
                  "demand_pop": np.ones(4), "future_field": np.array([1, 2])}
        _write(tmp_path, tier_state(fields))
        st = load_state(tmp_path, TIER)
        assert st.version == 2 and st.threshold_s == 600.0 and st.mode == "walk" and st.max_snap_m == 123.0
        rec = st.network_record
        assert rec.profile == {"name": "walk"} and rec.clip_wkb is None and rec.cache is None and rec.segments == 4
        assert st.weights["elderly"].tolist() == [2.0, 4.0, 8.0, 16.0]  # whole area, not the region
        assert st.region_weights["elderly"].tolist() == [1.0, 2.0, 4.0, 8.0]
        assert list(st.extra) == ["future_field"]
        with pytest.raises(InputError, match="network file is gone"):
            st.network()

    def test_newer_and_broken_files(self, tmp_path, tier_state):
        _write(tmp_path, tier_state(), add={"state_version": np.int64(fmt.STATE_VERSION + 1)})
        with pytest.raises(InputError, match="newer"):
            load_state(tmp_path, TIER)
        _write(tmp_path, tier_state(), drop=("chosen",))
        with pytest.raises(InputError, match="missing chosen"):
            load_state(tmp_path, TIER)
        (tmp_path / "state" / f"{TIER}.npz").write_bytes(b"not a zip")
        with pytest.raises(InputError, match="cannot read"):
            load_state(tmp_path, TIER)

    # issue 27 (classes 2 and 6): a damaged state is one error naming the file, never a traceback
    @pytest.mark.parametrize("fields", [
        {"indptr": np.array([0, 1, 2, 9, 9, 9], np.int64)},  # row pointers beyond the entries
        {"indptr": np.array([0, 2, 1, 2, 2, 2], np.int64)},  # decreasing
        {"shape": np.array([5, 2], np.int64)},  # a column index beyond the shape
    ], ids=["pointer_past_end", "decreasing", "index_out_of_range"])
    def test_corrupt_sparse_indices(self, tmp_path, tier_state, fields):
        path = _write(tmp_path, tier_state(), add=fields)
        with pytest.raises(InputError, match="damaged") as err:
            load_state(tmp_path, TIER)
        assert str(path) in str(err.value)

    def test_summary_not_an_object(self, tmp_path, tier_state):
        _write(tmp_path, tier_state())
        (tmp_path / "summary.json").write_text("[1, 2]", encoding="utf-8")
        with pytest.raises(InputError, match="not an object") as err:
            load_state(tmp_path, TIER)
        assert str(tmp_path / "summary.json") in str(err.value)

    def test_candidate_node_not_a_number(self, tmp_path, tier_state):
        _write(tmp_path, tier_state())
        with pytest.raises(InputError, match="whole number") as err:
            load_state(tmp_path, TIER).find_candidate("node:abc")
        assert err.value.field == "candidate"

    def test_threshold_of_older_files_from_summary(self, tmp_path, tier_state):
        _write(tmp_path, tier_state())
        summary = {"parameters": {"tiers": {TIER: {"threshold_min": 15}}}, "sites": {TIER: {"region": "城区"}}}
        st = load_state(tmp_path, TIER, summary=summary)
        assert st.threshold_s == 900.0 and st.region == "城区"

    def test_the_format_module_owns_every_field(self, demo_out):
        with np.load(demo_out / "state" / f"{TIER}.npz") as z:
            names = set(z.files)
        # seconds: older versions only; the demo's band decay stores band indices, not seconds
        assert names == set(fmt.KNOWN_FIELDS) - set(fmt.MATRIX_FIELDS) - {"reach_seconds"}
        assert int(load_state(demo_out, TIER).version) == fmt.STATE_VERSION


class TestDemoState:
    """The state written by the demo plan (real Helsinki streets)."""

    def test_reproduces_summary_figures(self, demo_out):
        st = load_state(demo_out, "街道级")  # aliases resolve
        assert st.tier == TIER and st.mode == "walk" and st.threshold_s == 300.0
        assert list(st.existing_fid) == ["S001"]
        assert st.max_snap_m == st.summary["parameters"]["max_snap_m"]
        for scenario in ("current", "planned"):
            got = Session(st, base=scenario).figures()
            for pop in ("elderly", "total"):
                fig = summary_figure(st.summary, TIER, scenario, pop)
                assert fig is not None
                assert got[pop]["covered"] == pytest.approx(fig.covered, abs=1e-4)
                assert got[pop]["share"] == pytest.approx(fig.value, abs=1e-6)
        # the stored choice is the one in sites.csv
        with open(demo_out / "sites.csv", encoding="utf-8-sig") as fh:
            exact = [r for r in csv.DictReader(fh) if r["method"] == "exact" and r["tier"] == TIER]
        assert [int(r["node"]) for r in exact] == st.cand_node[st.chosen].tolist()
        assert [st.find_candidate(r["candidate"]) for r in exact] == st.chosen.tolist()

    def test_missing_state_is_an_input_error(self, demo_out):
        with pytest.raises(InputError, match="street_centre"):
            load_state(demo_out, "township_centre")

    def test_what_if_points_snap_as_the_plan_snaps(self, demo_out):
        from carecover.network.snap import snap_xy

        st = load_state(demo_out, TIER)
        net = st.network()
        rng = np.random.default_rng(7)
        x = rng.uniform(net.node_x.min() - 200, net.node_x.max() + 200, 12)
        y = rng.uniform(net.node_y.min() - 200, net.node_y.max() + 200, 12)
        lon, lat = net.to_wgs84().transform(x, y)
        a, b = st.snap_lonlat(lon, lat), snap_xy(net, *net.project_lonlat(lon, lat), st.max_snap_m, method="index")
        np.testing.assert_array_equal(a.seg, b.seg)
        np.testing.assert_allclose(a.dist, b.dist, atol=1e-9)
        np.testing.assert_array_equal(a.ok, b.ok)

    def test_route_points_reproduces_stored_rows(self, demo_out):
        st = load_state(demo_out, TIER)
        rows, snap = st.route_points(st.cand_lon[st.chosen], st.cand_lat[st.chosen])
        assert snap.ok.all() and snap.max_snap_m == st.max_snap_m
        # the file keeps the pattern (version 3): the same demand within the threshold
        stored = st.matrix[st.n_existing + st.chosen]
        assert stored.dtype == bool and (rows > 0).astype(bool).nnz == stored.nnz
        assert ((rows > 0).astype(bool) != stored).nnz == 0
        assert st.demand_snapped().seg.tolist() == st.demand_positions.seg.tolist()

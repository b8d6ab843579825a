"""2SFCA / E2SFCA accessibility, facility load and equity (issue 13): hand-checked cases, and the
same numbers as PySAL ``access`` on a real extract's exact network times."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from carecover.analysis.access import (
    Decay,
    assigned_demand,
    lorenz,
    two_step,
    weight_matrix,
    weighted_gini,
)


def times(rows: list[list[float | None]]) -> sp.csr_matrix:
    """Facilities × demand reach matrix in seconds (+1e-9, as the engine stores it) from minutes."""
    dense = np.array([[np.nan if v is None else v * 60.0 + 1e-9 for v in r] for r in rows])
    r, c = np.nonzero(np.isfinite(dense))
    return sp.csr_matrix((dense[r, c], (r, c)), shape=dense.shape)


class TestHandChecked:
    """Two facilities, three demand points; every number worked out on paper."""

    # facility A (20 places) reaches p1 at 3 min and p2 at 8 min; B (10 places) reaches p2 at 12 min,
    # p3 at 4 min; p1 100 elderly, p2 200, p3 50; threshold 15 min
    T = times([[3, 8, None], [None, 12, 4]])
    S = np.array([20.0, 10.0])
    P = np.array([100.0, 200.0, 50.0])

    def test_2sfca(self):
        a = two_step(weight_matrix(self.T, 15.0, None), self.S, self.P, "2sfca")
        # D_A = 300, D_B = 250; R_A = 1/15, R_B = 1/25
        np.testing.assert_allclose(a.catchment, [300, 250])
        np.testing.assert_allclose(a.ratio, [1 / 15, 1 / 25])
        np.testing.assert_allclose(a.per_1000, [1000 / 15, 1000 / 15 + 1000 / 25, 1000 / 25])
        # binary 2SFCA conserves supply: Σ P_i A_i = Σ S_j
        assert (self.P * a.score).sum() == pytest.approx(self.S.sum())

    def test_e2sfca_bands(self):
        decay = Decay("bands", 15.0)
        np.testing.assert_allclose(decay(np.array([0, 5, 5.0001, 10, 12, 15, 15.01])),
                                   [1, 1, 0.68, 0.68, 0.22, 0.22, 0])
        a = two_step(weight_matrix(self.T, 15.0, decay), self.S, self.P, "e2sfca")
        dA, dB = 100 * 1 + 200 * 0.68, 200 * 0.22 + 50 * 1  # 236, 94
        np.testing.assert_allclose(a.catchment, [dA, dB])
        np.testing.assert_allclose(a.score, [20 / dA, 0.68 * 20 / dA + 0.22 * 10 / dB, 10 / dB])

    def test_gaussian_weight_at_threshold_is_last_band(self):
        d = Decay("gaussian", 15.0)
        assert d(np.array([15.0]))[0] == pytest.approx(0.22) and d(np.array([0.0]))[0] == 1.0
        assert d(np.array([15.5]))[0] == 0.0

    def test_load_conserves_demand(self):
        W = weight_matrix(self.T, 15.0, Decay("bands", 15.0))
        got = assigned_demand(W, self.P)
        # p2 is split 0.68 : 0.22 between A and B
        np.testing.assert_allclose(got, [100 + 200 * 0.68 / 0.9, 50 + 200 * 0.22 / 0.9])
        assert got.sum() == pytest.approx(self.P.sum())  # everyone is within reach here

    def test_unreached_and_empty_catchments(self):
        T = times([[3, None, None], [None, None, None]])
        a = two_step(weight_matrix(T, 15.0, None), np.array([5.0, 7.0]), np.array([0.0, 10.0, 10.0]), "2sfca")
        np.testing.assert_array_equal(a.score, [0, 0, 0])  # A's catchment has no elderly: offers nothing
        assert assigned_demand(weight_matrix(T, 15.0, None), np.array([0.0, 10.0, 10.0])).sum() == 0

    def test_gini_and_lorenz(self):
        assert weighted_gini(np.array([1.0, 1.0]), np.array([3.0, 1.0])) == pytest.approx(0.0)
        # half the people have everything: G = 0.5
        assert weighted_gini(np.array([0.0, 2.0]), np.array([1.0, 1.0])) == pytest.approx(0.5)
        # weights act as repeated people: [0, 0, 0, 4] → 0.75
        assert weighted_gini(np.array([0.0, 4.0]), np.array([3.0, 1.0])) == pytest.approx(0.75)
        x, y = lorenz(np.array([0.0, 4.0]), np.array([3.0, 1.0]), points=5)
        np.testing.assert_allclose(y, [0, 0, 0, 0, 1])
        assert np.isnan(weighted_gini(np.zeros(3), np.ones(3)))


# ------------------------------------------------------------------------------ real extract

def pysal_scores(T: sp.csr_matrix, supply, elderly, threshold_min, weight_fn=None):
    """PySAL access on the same cost matrix (minutes)."""
    access = pytest.importorskip("access")
    coo = T.tocoo()
    cost = pd.DataFrame({"origin": coo.col, "dest": coo.row, "cost": (coo.data - 1e-9) / 60.0})
    dem = pd.DataFrame({"geoid": np.arange(T.shape[1]), "elderly": elderly})
    sup = pd.DataFrame({"geoid": np.arange(T.shape[0]), "places": supply})
    a = access.Access(demand_df=dem, demand_index="geoid", demand_value="elderly", supply_df=sup,
                      supply_index="geoid", supply_value="places", cost_df=cost, cost_origin="origin",
                      cost_dest="dest", cost_name="cost")
    if weight_fn is None:
        out = a.two_stage_fca(name="x", max_cost=threshold_min)
    else:
        out = a.enhanced_two_stage_fca(name="x", max_cost=threshold_min, weight_fn=weight_fn)
    return out["x_places"].reindex(np.arange(T.shape[1])).fillna(0.0).to_numpy()


@pytest.fixture(scope="module")
def monaco_case(monaco_pbf):
    """Facilities at real street positions of the Monaco extract, demand beside every 5th node,
    and the exact facility × demand times of the engine."""
    from carecover.network import engine, load_network
    from carecover.network.snap import snap_xy

    net = load_network(monaco_pbf, "walk", cache=False)
    rng = np.random.default_rng(13)
    fac_nodes = rng.choice(net.n_nodes, 25, replace=False)
    src = snap_xy(net, net.node_x[fac_nodes] + 7.0, net.node_y[fac_nodes] - 4.0, max_snap_m=300)
    dn = np.arange(0, net.n_nodes, 5)
    dem = snap_xy(net, net.node_x[dn] + rng.uniform(-25, 25, len(dn)), net.node_y[dn] + rng.uniform(-25, 25, len(dn)),
                  max_snap_m=300)
    T = engine.reach_matrix(net, src, dem, 10 * 60.0)
    supply = np.round(rng.uniform(5, 60, len(fac_nodes)))
    elderly = np.round(rng.uniform(0, 40, len(dn)), 1)
    return T, supply, elderly


class TestPySALAccess:
    def test_2sfca_equals_pysal(self, monaco_case):
        T, supply, elderly = monaco_case
        assert T.nnz > 1000  # a real, overlapping case
        ours = two_step(weight_matrix(T, 10.0, None), supply, elderly, "2sfca").score
        theirs = pysal_scores(T, supply, elderly, 10.0)
        assert (ours > 0).sum() > 100
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)

    def test_e2sfca_equals_pysal(self, monaco_case):
        access = pytest.importorskip("access")
        T, supply, elderly = monaco_case
        decay = Decay("bands", 10.0)
        ours = two_step(weight_matrix(T, 10.0, decay), supply, elderly, "e2sfca").score
        e = decay.edges_min
        step = access.weights.step_fn({float(e[0]): 1.0, float(e[1]): 0.68, float(e[2]): 0.22})
        np.testing.assert_allclose(ours, pysal_scores(T, supply, elderly, 10.0, step), rtol=0, atol=1e-9)
        gauss = Decay("gaussian", 10.0)
        ours_g = two_step(weight_matrix(T, 10.0, gauss), supply, elderly, "e2sfca").score
        theirs_g = pysal_scores(T, supply, elderly, 10.0, access.weights.gaussian(gauss.sigma_min))
        np.testing.assert_allclose(ours_g, theirs_g, rtol=0, atol=1e-9)

    def test_load_sums_conserved_on_real_times(self, monaco_case):
        T, _, elderly = monaco_case
        W = weight_matrix(T, 10.0, Decay("bands", 10.0))
        within = np.asarray((W > 0).sum(axis=0)).ravel() > 0
        assert assigned_demand(W, elderly).sum() == pytest.approx(elderly[within].sum(), rel=1e-12)
        assert within.sum() < len(elderly)  # some demand lies beyond every catchment

"""The what-if engine (carecover.siting.whatif): WhatIf counts."""

from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.errors import InputError
from carecover.siting.whatif import WhatIf


class TestWhatIf:
    """The counting engine on a plain reach matrix."""

    def test_matches_recomputation(self, objective):
        rng = np.random.default_rng(3)
        A = sp.csr_matrix(rng.random((40, 300)) < 0.05)
        w = rng.random(300)
        wi = WhatIf(A, w, [0, 1, 2])
        sel = {0, 1, 2}
        for _ in range(60):
            j = int(rng.integers(0, 40))
            if j in sel:
                expect_loss = wi.loss_if_removed(j)
                before = wi.covered_weight
                new = wi.remove(j)
                sel.discard(j)
                assert before - new == pytest.approx(expect_loss)
            else:
                gain = wi.gain_if_added(j)
                before = wi.covered_weight
                new = wi.add(j)
                sel.add(j)
                assert new - before == pytest.approx(gain)
            assert new == pytest.approx(objective(A, w, np.zeros(300, bool), sorted(sel)))
        with pytest.raises(InputError):
            wi.add(next(iter(sel)))
        with pytest.raises(InputError):
            WhatIf(A, w, [0, 0])

    def test_fast_at_city_scale(self):
        rng = np.random.default_rng(0)
        n_sites, n_dem = 6000, 100_000
        nnz_per = 300
        indices = rng.integers(0, n_dem, n_sites * nnz_per)
        indptr = np.arange(0, n_sites * nnz_per + 1, nnz_per)
        A = sp.csr_matrix((np.ones(indices.size, bool), indices, indptr), shape=(n_sites, n_dem))
        w = rng.random(n_dem)
        wi = WhatIf(A, w, range(1000))
        t = time.perf_counter()
        wi.add(5000)
        wi.remove(10)
        assert time.perf_counter() - t < 0.2  # spec: well under 2 s

    def test_several_populations_and_appended_rows(self):
        A = sp.csr_matrix(np.array([[1, 1, 0], [0, 1, 1]], bool))
        wi = WhatIf(A, {"elderly": [1.0, 2.0, 4.0], "total": [10.0, 20.0, 40.0]}, [0], covered0=[0, 0, 0])
        assert wi.covered_weights() == {"elderly": 3.0, "total": 30.0} and wi.covered_weight == 3.0
        assert wi.gain_if_added(1, "total") == 40.0 and wi.loss_if_removed(0, "elderly") == 3.0
        new = wi.append_rows(sp.csr_matrix(np.array([[0, 0, 1]], bool)))
        assert new.tolist() == [2] and not wi.is_open(2)
        assert wi.add(2) == 7.0 and wi.covered_mask().tolist() == [True, True, True]
        assert wi.loss_if_removed(2) == 4.0 and wi.remove(0) == 4.0
        assert wi.totals() == {"elderly": 7.0, "total": 70.0} and wi.share == pytest.approx(4 / 7)
        with pytest.raises(InputError, match="outside"):
            wi.add(3)
        with pytest.raises(InputError, match="demand columns"):
            wi.append_rows(sp.csr_matrix((1, 4), dtype=bool))
        with pytest.raises(InputError, match=">= 0"):
            WhatIf(A, [1.0, -1.0, 0.0])

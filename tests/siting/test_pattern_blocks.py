"""The state file's reach pattern: encoded a block of entries at a time, matrix by matrix, with the
bytes of the one-pass encoding of the stacked columns (the format of state versions 3–4)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from carecover.siting._pattern import decode_pattern, encode_pattern
from carecover.siting.state import TierState, state_arrays


def _reference(indptr: np.ndarray, cols: np.ndarray) -> dict[str, np.ndarray]:
    """Row by row: the first step is the column + 1, the others the difference to the previous one."""
    steps = []
    for a, b in zip(indptr[:-1], indptr[1:], strict=True):
        row = cols[a:b].astype(np.int64)
        steps.append(np.diff(row, prepend=-1))
    step = np.concatenate(steps) if steps else np.zeros(0, np.int64)
    return {"reach_step": np.minimum(step, 255).astype(np.uint8), "reach_step_big": step[step >= 255].astype(np.uint32)}


def _pattern(seed: int, n_rows: int, n_cols: int) -> sp.csr_matrix:
    """Rows of neighbouring columns with jumps of hundreds between runs; the first, the last
    and one middle row empty."""
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_rows):
        if r in (0, n_rows // 2, n_rows - 1):
            rows.append(np.zeros(0, np.int64))
            continue
        steps = np.where(rng.random(rng.integers(1, 60)) < 0.15, rng.integers(255, 700, 60)[:1], 1)
        steps[0] = rng.integers(1, 400)
        rows.append(np.cumsum(steps) - 1)
        rows[-1] = rows[-1][rows[-1] < n_cols]
    indptr = np.r_[0, np.cumsum([len(x) for x in rows])]
    cols = np.concatenate(rows).astype(np.int32)
    return sp.csr_matrix((1.0 + rng.random(len(cols)), cols, indptr), shape=(n_rows, n_cols))


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("block", [1, 2, 7, 64, 1 << 22])
def test_blocks_give_the_reference_steps(seed, block):
    m = _pattern(seed, 12, 2000)
    got = encode_pattern(m.indptr, m.indices, block=block)
    want = _reference(m.indptr, m.indices)
    for k in want:
        assert got[k].dtype == want[k].dtype
        np.testing.assert_array_equal(got[k], want[k])
    assert len(got["reach_step_big"]) > 0  # gaps over 255 columns are exercised
    np.testing.assert_array_equal(decode_pattern(m.indptr, got["reach_step"], got["reach_step_big"]), m.indices)


def test_state_encodes_each_matrix_as_the_stacked_columns():
    existing, cands = _pattern(1, 5, 3000), _pattern(2, 9, 3000)
    n_dem = 3000
    st = TierState(existing, cands, np.ones(n_dem), np.ones(n_dem), np.ones(5, bool), np.zeros(9), np.zeros(9),
                   np.arange(9), np.array([f"c{i}" for i in range(9)]), np.array([0, 3]), {})
    arr = state_arrays(st)
    stacked = sp.vstack([existing, cands]).tocsr()
    want = _reference(stacked.indptr, stacked.indices)
    np.testing.assert_array_equal(arr["indptr"], stacked.indptr)
    for k in want:
        np.testing.assert_array_equal(arr[k], want[k])

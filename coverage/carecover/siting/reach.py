"""Reach matrices as boolean CSR: the one normalisation the model and the what-if engine share.

A reach matrix has one row per site (candidate or facility) and one column per demand point; an
explicit non-zero entry (e.g. the travel seconds + 1e-9 of
:func:`carecover.network.engine.reach_matrix`) means the site reaches that demand point within
the threshold. Imports only numpy/scipy, so the meeting commands start quickly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["as_bool_csr", "row_of"]


def as_bool_csr(coverage: Any) -> sp.csr_matrix:
    """A reach matrix as boolean CSR with sorted indices and no explicit zeros.

    Parameters
    ----------
    coverage
        ``scipy.sparse`` matrix or array-like, sites × demand; any truthy entry means "reaches".

    Returns
    -------
    scipy.sparse.csr_matrix
        A copy of dtype ``bool``: sorted indices, duplicates summed, explicit zeros removed.
    """
    if not sp.issparse(coverage):
        coverage = sp.csr_matrix(np.asarray(coverage))
    if coverage.format == "csr":
        m = sp.csr_matrix(coverage)  # (shares the arrays: only read here)
        if m.has_canonical_format and np.all(m.data):
            # the usual reach matrix (sorted, no duplicates, every entry true): the same result
            # without copying the values three times
            return sp.csr_matrix((np.ones(m.nnz, bool), m.indices.copy(), m.indptr.copy()), shape=m.shape)
    m = sp.csr_matrix(coverage, copy=True)
    m.data = m.data != 0
    m.eliminate_zeros()
    m.sum_duplicates()
    m.sort_indices()
    return m.astype(bool)


def row_of(matrix: sp.csr_matrix, j: int) -> np.ndarray:
    """Demand indices reached by site ``j`` (a view into the CSR ``indices``).

    Parameters
    ----------
    matrix
        A CSR reach matrix.
    j
        Row (site) index.

    Returns
    -------
    numpy.ndarray
        Column indices of row ``j``.
    """
    return matrix.indices[matrix.indptr[j]:matrix.indptr[j + 1]]

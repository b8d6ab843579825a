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

__all__ = ["as_bool_csr", "pattern_of", "row_of"]


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


def pattern_of(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """A canonical CSR reach matrix's pattern: ``True`` entries on its own ``indices`` and
    ``indptr`` (shared, not copied; neither may be changed in place afterwards).

    Parameters
    ----------
    matrix
        A reach matrix; the usual one (CSR, sorted indices, no duplicates, every stored value
        truthy, as :func:`carecover.network.engine.reach_matrix` makes them) is not copied, any
        other is normalised by :func:`as_bool_csr`.

    Returns
    -------
    scipy.sparse.csr_matrix
        Of dtype ``bool``: equal to ``as_bool_csr(matrix)``.
    """
    if not (sp.issparse(matrix) and matrix.format == "csr" and matrix.has_canonical_format and np.all(matrix.data)):
        return as_bool_csr(matrix)
    out = sp.csr_matrix((np.ones(matrix.nnz, bool), matrix.indices, matrix.indptr), shape=matrix.shape, copy=False)
    out.has_canonical_format = True
    return out


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

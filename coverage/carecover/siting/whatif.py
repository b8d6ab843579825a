"""The what-if engine: open and close sites and re-score coverage at once.

:class:`WhatIf` keeps, per demand point, the number of open sites that reach it, so opening or
closing a site only touches the demand that site reaches; it scores any number of populations
(elderly and total) together.

Imports only numpy/scipy at load time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.reach import as_bool_csr, row_of

__all__ = ["WhatIf"]



def _check_weights(weights: np.ndarray | Mapping[str, np.ndarray], n_demand: int) -> dict[str, np.ndarray]:
    sets = dict(weights) if isinstance(weights, Mapping) else {"weight": weights}
    out = {}
    for name, w in sets.items():
        w = np.asarray(w, dtype=float).ravel()
        if w.shape != (n_demand,):
            raise InputError(f"weights has {w.size} values for {n_demand} demand columns / 权重个数不符",
                             field="weights", expected=f"{n_demand} values")
        if np.any(w < 0) or not np.all(np.isfinite(w)):
            raise InputError("weights must be finite and >= 0 / 权重须为非负有限数", field="weights",
                             expected="finite weights >= 0")
        out[name] = w
    if not out:
        raise InputError("no weights / 没有权重", field="weights", expected="at least one weight array")
    return out


class WhatIf:
    """Interactive add/remove of single sites with instant re-scoring.

    Parameters
    ----------
    coverage
        Sites × demand reach matrix (existing facilities and candidates together).
    weights
        Demand weights: one array, or ``{population: array}`` to score several at once (the
        first is the one ``covered_weight``, ``gain_if_added``... report by default).
    selected
        Row indices of the sites open at the start (e.g. every existing facility).
    covered0
        Optional demand covered by something outside ``coverage`` (kept fixed).

    Attributes
    ----------
    counts
        Per demand point, the number of open sites reaching it (+1 where ``covered0``).
    selected
        The open sites.
    weight_sets
        ``{population: weights}``; ``weights`` is the first of them.
    """

    def __init__(self, coverage: sp.spmatrix | np.ndarray, weights: np.ndarray | Mapping[str, np.ndarray],
                 selected: Sequence[int] = (), *, covered0: np.ndarray | None = None) -> None:
        self.A = as_bool_csr(coverage)
        self.weight_sets = _check_weights(weights, self.A.shape[1])
        self.weights = next(iter(self.weight_sets.values()))
        self._extra: list[np.ndarray] = []
        self.counts = np.zeros(self.A.shape[1], dtype=np.int32)
        if covered0 is not None:
            c0 = np.asarray(covered0, dtype=bool)
            if c0.shape != self.weights.shape:
                raise InputError("covered0 length does not match demand / covered0 长度不符",
                                 field="covered0", expected=f"{self.weights.size} booleans")
            self.counts += c0.astype(np.int32)
        self.selected: set[int] = set()
        for j in selected:
            self._check(j)
            if int(j) in self.selected:
                raise InputError(f"site {j} selected twice / 站点重复", field="selected",
                                 expected="distinct site indices")
            self.selected.add(int(j))
        if self.selected:
            sel = np.fromiter(sorted(self.selected), dtype=np.int64)
            self.counts += np.asarray(self.A[sel].sum(axis=0)).ravel().astype(np.int32)

    # -- sites
    @property
    def n_sites(self) -> int:
        """Rows of the coverage matrix plus the rows appended with :meth:`append_rows`."""
        return self.A.shape[0] + len(self._extra)

    def append_rows(self, rows: sp.spmatrix) -> np.ndarray:
        """Add sites (e.g. new points routed on the network), closed; returns their indices."""
        rows = as_bool_csr(rows)
        if rows.shape[1] != self.A.shape[1]:
            raise InputError(f"new rows have {rows.shape[1]} demand columns, expected {self.A.shape[1]} / "
                             "新站点需求列数不符", field="rows", expected=f"{self.A.shape[1]} columns")
        first = self.n_sites
        self._extra += [row_of(rows, i).copy() for i in range(rows.shape[0])]
        return np.arange(first, self.n_sites, dtype=np.int64)

    def _check(self, j: int) -> None:
        if not 0 <= int(j) < self.n_sites:
            raise InputError(f"site index {j} outside 0..{self.n_sites - 1} / 站点下标越界",
                             field="site", expected=f"0..{self.n_sites - 1}")

    def row(self, j: int) -> np.ndarray:
        """Demand indices site ``j`` reaches."""
        j = int(j)
        return row_of(self.A, j) if j < self.A.shape[0] else self._extra[j - self.A.shape[0]]

    def is_open(self, j: int) -> bool:
        """Whether site ``j`` is open."""
        return int(j) in self.selected

    # -- scores
    def covered_mask(self) -> np.ndarray:
        """Demand covered now (boolean per demand point)."""
        return self.counts > 0

    def covered_weights(self) -> dict[str, float]:
        """Covered weight of every population (a fresh sum over the covered demand)."""
        mask = self.counts > 0
        return {name: float(w[mask].sum()) for name, w in self.weight_sets.items()}

    def totals(self) -> dict[str, float]:
        """Total weight of every population."""
        return {name: float(w.sum()) for name, w in self.weight_sets.items()}

    @property
    def covered_weight(self) -> float:
        """Covered weight of the first population."""
        return float(self.weights[self.counts > 0].sum())

    @property
    def total_weight(self) -> float:
        """Total weight of the first population."""
        return float(self.weights.sum())

    @property
    def share(self) -> float:
        """Covered share of the first population's total."""
        tot = self.total_weight
        return self.covered_weight / tot if tot > 0 else float("nan")

    def _weights_of(self, population: str | None) -> np.ndarray:
        return self.weights if population is None else self.weight_sets[population]

    def gain_if_added(self, j: int, population: str | None = None) -> float:
        """Weight that opening site ``j`` would newly cover (0 if already open).

        Parameters
        ----------
        j
            Site index.
        population
            Which weights (default the first).
        """
        self._check(j)
        if int(j) in self.selected:
            return 0.0
        r = self.row(j)
        return float(self._weights_of(population)[r[self.counts[r] == 0]].sum())

    def loss_if_removed(self, j: int, population: str | None = None) -> float:
        """Weight that closing site ``j`` would leave uncovered (0 if not open).

        Parameters
        ----------
        j
            Site index.
        population
            Which weights (default the first).
        """
        self._check(j)
        if int(j) not in self.selected:
            return 0.0
        r = self.row(j)
        return float(self._weights_of(population)[r[self.counts[r] == 1]].sum())

    # -- changes
    def add(self, j: int) -> float:
        """Open site ``j``; returns the new covered weight (first population)."""
        self._check(j)
        j = int(j)
        if j in self.selected:
            raise InputError(f"site {j} is already open / 站点已在方案中", field="site",
                             expected="a site not yet selected")
        self.counts[self.row(j)] += 1
        self.selected.add(j)
        return self.covered_weight

    def remove(self, j: int) -> float:
        """Close site ``j``; returns the new covered weight (first population)."""
        self._check(j)
        j = int(j)
        if j not in self.selected:
            raise InputError(f"site {j} is not open / 站点不在方案中", field="site",
                             expected="a selected site")
        self.counts[self.row(j)] -= 1
        self.selected.discard(j)
        return self.covered_weight

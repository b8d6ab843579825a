"""The brute-force solver: enumerate every feasible set, for tests on tiny instances."""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from carecover.errors import InputError

if TYPE_CHECKING:
    from carecover.siting.model import MaximalCovering
    from carecover.siting.solution import SiteSolution

__all__ = ["BRUTE_LIMIT", "BruteForce"]

#: Largest number of subsets :class:`BruteForce` will enumerate.
BRUTE_LIMIT = 2_000_000


@dataclass(frozen=True)
class BruteForce:
    """Enumeration of every feasible set, for tests on tiny instances."""

    name = "brute"

    def run(self, model: MaximalCovering) -> SiteSolution:
        """Solve ``model`` by enumeration for its current ``p``.

        Subsets smaller than ``p`` are tried too: with spacing or group caps a maximal feasible
        set may have fewer than ``p`` sites. The best set loses its sites without marginal gain
        (forced sites stay), so results compare across solvers.

        Raises
        ------
        InputError
            When more than :data:`BRUTE_LIMIT` subsets would be enumerated.
        """
        t0 = time.perf_counter()
        forced = set(model.forced.tolist())
        free = [j for j in np.flatnonzero(model.allowed) if j not in forced]
        k = model.p - model.forced.size
        n_sub = sum(math.comb(len(free), kk) for kk in range(k + 1))
        if n_sub > BRUTE_LIMIT:
            raise InputError(f"brute force would enumerate {n_sub} subsets / 穷举子集过多",
                             field="method", expected=f"at most {BRUTE_LIMIT} subsets")
        best, best_obj = None, -1.0
        for kk in range(k, -1, -1):
            for comb in itertools.combinations(free, kk):
                sel = list(model.forced) + list(comb)
                if not model.is_feasible(sel):
                    continue
                obj = model.objective_of(sel)
                if obj > best_obj + 1e-9:
                    best, best_obj = sel, obj
        if best is None:
            return model.solution([], self.name, "infeasible", None, t0)
        return model.solution(model.prune(best), self.name, "optimal", best_obj, t0)

"""The result of solving a :class:`~carecover.siting.model.MaximalCovering` model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SiteSolution"]


@dataclass
class SiteSolution:
    """Result of :meth:`MaximalCovering.solve <carecover.siting.model.MaximalCovering.solve>`.

    Attributes
    ----------
    chosen
        Candidate indices (rows of the coverage matrix), forced sites first, then in order of
        greedy marginal gain (for ``exact``/``brute``: greedy order within the chosen set).
    candidate_ids
        The ids of ``chosen`` (from ``candidate_ids``, else the indices).
    gains
        Marginal weight newly covered by each site given the sites before it.
    newly_covered
        Per site, the demand indices it newly covers (given ``covered0`` and earlier sites).
    objective
        Weight newly covered by all chosen sites (sum of ``gains``).
    covered_before, covered_after, total_weight
        Covered weight before (``covered0``) and after, and the total weight of all demand.
    method, status
        The solver's name (``greedy``/``exact``/``brute``); ``optimal``, ``time_limit``,
        ``heuristic`` (greedy) or ``infeasible``.
    bound
        Upper bound on the best achievable objective (``exact``: HiGHS' dual bound; ``greedy``: the
        submodular online bound ``f(S) + sum of the p largest marginal gains w.r.t. S``).
    gap
        ``(bound - objective) / bound`` (0 when the bound is 0); None when unknown.
    runtime_s
        Wall time of ``solve``.
    p
        Number of sites asked for; ``len(chosen)`` is smaller when no further site adds coverage
        or the side constraints allow fewer (see ``note``).
    note
        Human-readable remark (Chinese first).
    extra
        Solver details (model sizes, HiGHS status, the kind of bound).
    """

    chosen: np.ndarray
    candidate_ids: list
    gains: np.ndarray
    newly_covered: list[np.ndarray]
    objective: float
    covered_before: float
    covered_after: float
    total_weight: float
    method: str
    status: str
    bound: float | None
    gap: float | None
    runtime_s: float
    p: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def share_before(self) -> float:
        """Covered share of the total weight before the new sites."""
        return self.covered_before / self.total_weight if self.total_weight > 0 else float("nan")

    @property
    def share_after(self) -> float:
        """Covered share of the total weight with the new sites."""
        return self.covered_after / self.total_weight if self.total_weight > 0 else float("nan")

    def to_frame(self) -> pd.DataFrame:
        """One row per chosen site.

        Returns
        -------
        pandas.DataFrame
            ``rank``, ``candidate`` (index), ``candidate_id``, ``gain``, ``n_new_demand``,
            ``covered_weight`` and ``covered_share`` (cumulative).
        """
        import pandas as pd

        cum = self.covered_before + np.cumsum(self.gains) if len(self.gains) else np.array([])
        tot = self.total_weight if self.total_weight > 0 else np.nan
        return pd.DataFrame(
            {
                "rank": np.arange(1, len(self.chosen) + 1),
                "candidate": self.chosen.astype(int),
                "candidate_id": list(self.candidate_ids),
                "gain": self.gains,
                "n_new_demand": [len(a) for a in self.newly_covered],
                "covered_weight": cum,
                "covered_share": cum / tot,
            }
        )

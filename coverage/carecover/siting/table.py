"""Tables of chosen sites: one row per site and solver, with what each site adds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from carecover.siting.candidates import Candidates
from carecover.siting.served_model import ServedSolution
from carecover.siting.solution import SiteSolution

#: Columns of ``sites.csv`` in order.
SITE_COLUMNS = ["tier", "method", "rank", "candidate", "node", "unit", "lon", "lat", "county",
                "gain_elderly", "gain_pop", "gap_id", "objective", "status", "gap"]

#: Columns added when the served objective is asked (``--objective served|both``): which
#: objective chose the site, its places, the elderly it serves in the assignment and the share
#: of its places they fill (empty for coverage rows).
SERVED_COLUMNS = ["siting_objective", "capacity", "served_elderly", "capacity_used"]


def _gap_closed(gap_member: np.ndarray | None, newly: np.ndarray) -> int | str:
    """The gap zone most of a site's newly covered points belong to ("" when none)."""
    if gap_member is None or not len(newly):
        return ""
    g = gap_member[newly]
    g = g[g > 0]
    if not len(g):
        return ""
    return int(pd.Series(g).value_counts().sort_index().idxmax())


def site_rows(tier: str, solutions: list[SiteSolution], cand: Candidates, groups: np.ndarray | None,
              county: list[str], weights_pop: np.ndarray, gap_member: np.ndarray | None) -> pd.DataFrame:
    """One row per chosen site of each solution, ranked as the solver added them.

    Parameters
    ----------
    tier
        Tier key.
    solutions
        The solutions to list (greedy, then exact).
    cand
        The candidates the solutions index.
    groups
        Unit of each candidate (``None`` without unit boundaries).
    county
        County of each candidate.
    weights_pop
        Total population per demand point (the gain in residents).
    gap_member
        Gap zone of each demand point (0 outside), for the ``gap_id`` a site closes.
    """
    rows = []
    for sol in solutions:
        for rank, (j, gain, newly) in enumerate(zip(sol.chosen, sol.gains, sol.newly_covered, strict=True), 1):
            newly = np.asarray(newly, dtype=np.int64)
            rows.append({"tier": tier, "method": sol.method, "rank": rank, "candidate": str(cand.ids[j]),
                         "node": int(cand.node[j]), "unit": "" if groups is None else str(groups[j]),
                         "lon": round(float(cand.lon[j]), 7), "lat": round(float(cand.lat[j]), 7),
                         "county": county[j], "gain_elderly": float(gain),
                         "gain_pop": float(weights_pop[newly].sum()), "gap_id": _gap_closed(gap_member, newly),
                         "objective": float(sol.objective), "status": sol.status,
                         "gap": None if sol.gap is None else float(sol.gap)})
    return pd.DataFrame(rows, columns=SITE_COLUMNS)


def served_site_rows(tier: str, solutions: list[ServedSolution], cand: Candidates, groups: np.ndarray | None,
                     county: list[str]) -> pd.DataFrame:
    """One row per chosen site of each served solution (``method`` ``served_greedy`` /
    ``served_exact``), ranked as the solver added them.

    ``gain_elderly`` is the elderly the site newly serves given the sites before it;
    ``served_elderly`` what it serves in one optimal assignment of the whole set, ``capacity``
    its places and ``capacity_used`` their ratio. ``gain_pop`` and ``gap_id`` stay empty (the
    served amount is not tied to given residents).

    Parameters
    ----------
    tier
        Tier key.
    solutions
        The served solutions (greedy, then exact).
    cand, groups, county
        As in :func:`site_rows`.
    """
    rows = []
    for sol in solutions:
        for rank, (j, gain, load, cap) in enumerate(zip(sol.chosen, sol.gains, sol.load, sol.capacity,
                                                        strict=True), 1):
            rows.append({"tier": tier, "method": f"served_{sol.method}", "rank": rank, "candidate": str(cand.ids[j]),
                         "node": int(cand.node[j]), "unit": "" if groups is None else str(groups[j]),
                         "lon": round(float(cand.lon[j]), 7), "lat": round(float(cand.lat[j]), 7),
                         "county": county[j], "gain_elderly": float(gain), "gain_pop": None, "gap_id": "",
                         "objective": float(sol.objective), "status": sol.status,
                         "gap": None if sol.gap is None else float(sol.gap), "siting_objective": "served",
                         "capacity": float(cap), "served_elderly": float(load),
                         "capacity_used": float(load / cap) if cap > 0 else None})
    return pd.DataFrame(rows, columns=SITE_COLUMNS + SERVED_COLUMNS)


def with_objective(coverage: pd.DataFrame | None, served: pd.DataFrame | None) -> pd.DataFrame:
    """The rows of the objectives asked, side by side in one table: coverage rows alone keep
    :data:`SITE_COLUMNS`; with served rows every row states its ``siting_objective``."""
    if served is None:
        return coverage
    if coverage is None:
        return served
    cov = coverage.assign(siting_objective="coverage", capacity=None, served_elderly=None, capacity_used=None)
    return pd.concat([cov, served], ignore_index=True)[SITE_COLUMNS + SERVED_COLUMNS]

"""Sites across a region: each area's own planned counts, or one region-wide budget.

区域选址：各区域按自身计划数选址，或全区域一个总数（如 ``--suggest township_centre=7``），
在合并的候选点与需求点上一次求解。

The tasks return, per planned tier, the reach of junction candidates on their residents
(:func:`carecover.region.task.candidate_reach`; one candidate per region-wide grid cell, so
every task names the same candidates). Here the blocks are stacked into one candidates ×
residents matrix and solved with the project's maximal covering model
(:class:`carecover.siting.model.MaximalCovering`: greedy and exact with HiGHS), existing
facilities fixed through ``covered0`` and residents weighted by their elderly count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from carecover.network.covered import covered
from carecover.region.merge import AreaResult
from carecover.region.tiles import owner_index
from carecover.siting.greedy import Greedy
from carecover.siting.highs import Highs
from carecover.siting.model import MaximalCovering
from carecover.tiers import Tier

__all__ = ["Merged", "merged_problem", "region_sites", "SITE_COLUMNS"]

SITE_COLUMNS = ["scope", "tier", "method", "rank", "candidate", "lon", "lat", "area", "gain_elderly",
                "objective_elderly", "status", "gap"]


@dataclass(frozen=True)
class Merged:
    """The merged siting problem of one tier.

    Attributes
    ----------
    reach
        Candidates × residents of every area (areas in file order), seconds + 1e-9.
    ids, lon, lat, cand_area
        Candidate ids, positions and the area index each lies in.
    weights, covered0, point_area
        Per resident: elderly weight, covered by an existing facility, area index.
    """

    reach: sp.csr_matrix
    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    cand_area: np.ndarray
    weights: np.ndarray
    covered0: np.ndarray
    point_area: np.ndarray


def merged_problem(results: Sequence[AreaResult], tier: Tier, polygons: Sequence[tuple[int, object]]) -> Merged:
    """Stack the areas' candidate reach of one tier into one problem."""
    key = tier.key
    ids = sorted({i for r in results if key in r.candidates for i in r.candidates[key].ids})
    pos = {v: k for k, v in enumerate(ids)}
    lon, lat = np.zeros(len(ids)), np.zeros(len(ids))
    blocks, weights, covered0, point_area = [], [], [], []
    for r in results:
        n = len(r.points)
        c = r.candidates.get(key)
        if c is None:
            blocks.append(sp.csr_matrix((len(ids), n)))
        else:
            rows = np.array([pos[i] for i in c.ids], np.int64)
            lon[rows], lat[rows] = c.lon, c.lat
            coo = c.reach.tocoo()
            blocks.append(sp.csr_matrix((coo.data, (rows[coo.row], coo.col)), shape=(len(ids), n)))
        col = f"time_{key}"
        t = r.points[col].to_numpy(float) if col in r.points else np.full(n, np.inf)
        covered0.append(covered(t, tier.threshold_min))
        weights.append(r.points["elderly"].fillna(0).to_numpy(float))
        point_area.append(np.full(n, r.index))
    reach = sp.hstack(blocks).tocsr() if blocks else sp.csr_matrix((len(ids), 0))
    cand_area = owner_index(lon, lat, polygons, polygons) if len(ids) else np.zeros(0, np.int64)
    return Merged(reach, np.asarray(ids, dtype=object), lon, lat, cand_area, np.concatenate(weights),
                  np.concatenate(covered0), np.concatenate(point_area))


def _solve(m: Merged, cand: np.ndarray, cols: np.ndarray, count: int, time_limit: float, scope: str,
           tier: str, names: Mapping[int, str]) -> tuple[list[dict], dict]:
    reach = m.reach[cand][:, cols]
    p = min(count, len(cand))
    info = {"scope": scope, "tier": tier, "asked": count, "candidates": int(len(cand)), "residents": int(len(cols))}
    if p == 0:
        return [], {**info, "placed": 0}
    model = MaximalCovering.from_reach_matrix(reach, m.weights[cols], p, covered0=m.covered0[cols],
                                              candidate_ids=list(m.ids[cand]))
    rows = []
    sols = {"greedy": model.solve(Greedy()), "exact": model.solve(Highs(time_limit=time_limit))}
    for method, sol in sols.items():
        for rank, (c, gain) in enumerate(zip(sol.chosen, sol.gains, strict=True), start=1):
            k = cand[int(c)]
            rows.append({"scope": scope, "tier": tier, "method": method, "rank": rank, "candidate": m.ids[k],
                         "lon": float(m.lon[k]), "lat": float(m.lat[k]), "area": names.get(int(m.cand_area[k]), ""),
                         "gain_elderly": float(gain), "objective_elderly": float(sol.objective),
                         "status": sol.status, "gap": sol.gap})
    best = sols["exact"] if sols["exact"].objective >= sols["greedy"].objective - 1e-9 else sols["greedy"]
    return rows, {**info, "placed": int(len(best.chosen)), "greedy": sols["greedy"].objective,
                  "exact": sols["exact"].objective, "exact_status": sols["exact"].status,
                  "covered_before": best.covered_before, "covered_after": best.covered_after,
                  "total_weight": best.total_weight}


def region_sites(results: Sequence[AreaResult], tiers: Mapping[str, Tier], polygons: Sequence[tuple[int, object]],
                 *, suggest: Mapping[str, int] | None, planned: Mapping[int, Mapping[str, int]],
                 time_limit: float) -> tuple[pd.DataFrame, list[dict]]:
    """Suggested sites: one region-wide solve per budget, else one per area and planned tier.

    Parameters
    ----------
    results
        The merged areas, in file order.
    tiers
        Tiers by key (threshold, mode).
    polygons
        ``(area index, polygon)`` of every area (a candidate's area).
    suggest
        Region-wide budgets ``{tier: count}``; ``None`` or empty for per-area planning.
    planned
        Per area index: its planned counts.
    time_limit
        Exact solver's time limit (s) per solve.

    Returns
    -------
    (DataFrame of :data:`SITE_COLUMNS`, list of solve records)
    """
    names = {r.index: r.area for r in results}
    rows, infos = [], []
    wanted = dict(suggest or {})
    keys = list(wanted) if wanted else sorted({k for p in planned.values() for k, n in p.items() if n > 0})
    for key in keys:
        m = merged_problem(results, tiers[key], polygons)
        if wanted:
            r, i = _solve(m, np.arange(len(m.ids)), np.arange(len(m.weights)), wanted[key], time_limit,
                          "region", key, names)
            rows += r
            infos.append(i)
            continue
        for idx, counts in sorted(planned.items()):
            if counts.get(key, 0) > 0:
                r, i = _solve(m, np.flatnonzero(m.cand_area == idx), np.flatnonzero(m.point_area == idx),
                              counts[key], time_limit, names[idx], key, names)
                rows += r
                infos.append(i)
    return pd.DataFrame(rows, columns=SITE_COLUMNS), infos

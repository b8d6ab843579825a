"""The served model's mixed-integer programme for HiGHS (built on the reduced problem) and its
warm start from the greedy set; :mod:`carecover.siting.served_solvers` runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from carecover.siting.highs import RowBlock, group_rows, highs_lp, spacing_rows

if TYPE_CHECKING:
    from carecover.siting.served_greedy import GreedyServedRun
    from carecover.siting.served_model import Prepared, ServedModel

#: Largest number of arcs to new sites for which the strong rows ``x_gj <= min(w_g, c_j) y_j``
#: are added (they tighten the relaxation; beyond this the LP grows too large).
STRONG_ROWS_MAX = 200_000


@dataclass(frozen=True)
class _Kept:
    """The attributes :func:`~carecover.siting.highs.group_rows`/``spacing_rows`` read."""

    cand: np.ndarray
    cap_left: np.ndarray | None
    p_free: int


def _cap_left(model: ServedModel) -> np.ndarray | None:
    """Per group, the cap left after the forced sites (-1 uncapped)."""
    if model.groups is None:
        return None
    cap = model.groups.cap.copy()
    if model.forced.size:
        cnt = np.bincount(model.groups.code[model.forced], minlength=len(cap))
        cap[cap >= 0] -= cnt[cap >= 0]
    return cap


def served_mip(model: ServedModel, prep: Prepared, q_keep: np.ndarray, p_free: int, strong: bool
         ) -> tuple[Any, np.ndarray, int]:
    """The integer programme on the reduced problem: arc flows (continuous) then ``y`` (binary)
    for the model candidates ``q_keep``.

    Returns
    -------
    (lp, arc_index, n_strong)
        The ``highspy.HighsLp``, the reduced-problem arc of each flow column, and the number of
        strong rows added.
    """
    import highspy

    a, nf = prep.arcs, prep.n_fixed
    G = a.G.tocoo()
    site_ok = np.zeros(a.n_sites, bool)
    site_ok[:nf] = True
    site_ok[nf + q_keep] = True
    arc = np.flatnonzero(site_ok[G.col])
    ag, ak = G.row[arc].astype(np.int64), G.col[arc].astype(np.int64)
    na, ny, ng = arc.size, q_keep.size, a.n_groups
    ypos = np.full(a.n_sites, -1, dtype=np.int64)
    ypos[nf + q_keep] = np.arange(ny)
    cand_arc = ak >= nf
    # (2) demand rows, (3)/(4) site rows: sum x - c_j y_j <= 0 for new sites
    site_rows = np.r_[np.arange(nf), nf + q_keep]
    srow = np.full(a.n_sites, -1, dtype=np.int64)
    srow[site_rows] = np.arange(site_rows.size)
    flow = RowBlock(np.r_[ag, ng + srow[ak], ng + nf + np.arange(ny)],
                    np.r_[np.arange(na), np.arange(na), na + np.arange(ny)],
                    np.r_[np.ones(2 * na), -a.cap[nf + q_keep]],
                    np.full(ng + site_rows.size, -np.inf), np.r_[a.w, a.cap[:nf], np.zeros(ny)])
    card = RowBlock(np.zeros(ny, dtype=np.int64), na + np.arange(ny), np.ones(ny), np.array([-np.inf]),
                    np.array([float(p_free)]))
    blocks = [flow, card]
    kept = _Kept(prep.cand[q_keep], _cap_left(model), p_free)
    for b in group_rows(model, kept):
        blocks.append(RowBlock(b.i, na + b.j, b.v, b.lower, b.upper))
    sp_rows = spacing_rows(model, kept)
    if sp_rows is not None:
        blocks.append(RowBlock(sp_rows.i, na + sp_rows.j, sp_rows.v, sp_rows.lower, sp_rows.upper))
    blocks += _at_least_rows(model, prep.cand[q_keep], na)
    n_strong = 0
    if strong and 0 < int(cand_arc.sum()) <= STRONG_ROWS_MAX:
        # x_gj - min(w_g, c_j) y_j <= 0
        ca = np.flatnonzero(cand_arc)
        n_strong = ca.size
        rr = np.arange(n_strong, dtype=np.int64)
        blocks.append(RowBlock(np.r_[rr, rr], np.r_[ca, na + ypos[ak[ca]]],
                               np.r_[np.ones(n_strong), -np.minimum(a.w[ag[ca]], a.cap[ak[ca]])],
                               np.full(n_strong, -np.inf), np.zeros(n_strong)))
    lp = highs_lp(highspy, blocks, np.r_[np.ones(na), np.zeros(ny)], np.r_[np.full(na, np.inf), np.ones(ny)],
                  np.r_[np.zeros(na, bool), np.ones(ny, bool)])
    return lp, arc, n_strong



def _at_least_rows(model: ServedModel, cand: np.ndarray, offset: int) -> list[RowBlock]:
    """(9) ``sum_{j in K_r} y_j >= k_r - (forced sites in K_r)`` over the ``y`` columns (from
    ``offset``) of the model candidates ``cand``, one row per at-least row still short."""
    al = model.at_least
    if al is None:
        return []
    out = []
    for r in range(len(al.k)):
        left = int(al.k[r] - al.members[r][model.forced].sum())
        members = np.flatnonzero(al.members[r][cand])
        if left > 0:
            out.append(RowBlock(np.zeros(members.size, dtype=np.int64), offset + members.astype(np.int64),
                                np.ones(members.size), np.array([float(left)]), np.array([np.inf])))
    return out


def warm_start(highspy: Any, h: Any, run: GreedyServedRun, arc: np.ndarray, q_keep: np.ndarray) -> None:
    """Start HiGHS from the greedy set and its flows."""
    try:
        ev = run.ev
        ev.lp.solve()
        G = ev.prep.arcs.G.tocoo()
        F = sp.csr_matrix((ev.lp.flows(), (ev.lp.arc_g, ev.lp.arc_k)), shape=G.shape)
        x = np.asarray(F[G.row[arc], G.col[arc]]).ravel()
        y = np.isin(q_keep, run.chosen).astype(float)
        sol = highspy.HighsSolution()
        sol.col_value = list(np.r_[x, y])
        sol.value_valid = True
        h.setSolution(sol)
    except Exception:  # noqa: BLE001 - warm start is an optimisation only
        pass

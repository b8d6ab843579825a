"""Accessibility and load in a what-if: re-score 2SFCA/E2SFCA for the open sites after each step.

The prepared state (``state/<tier>.npz``) holds who reaches whom (the reach pattern, no
seconds). For a tier with a capacity rule the plan adds each existing facility's places, the rule
and the decay (:func:`state_capacity_fields`) and, for every stored entry, what the E2SFCA decay
needs (:func:`decay_fields`: the band index of a band decay, exact; the travel seconds as float32
for a Gaussian decay, weights within ~1e-7 of the plan's). Existing facilities and candidates are
then weighted exactly as in the plan's own accessibility (:mod:`carecover.plan.access`), and a
new point routed in the meeting (travel seconds) by the same decay. A new site (a candidate or a
new point) gets the rule's ``new_site`` places. Scoring the open rows is a few sparse products
(:mod:`carecover.analysis.access`), milliseconds even at city scale.

States written before version 4 with a capacity rule hold the pattern only: their
accessibility cannot be scored rightly, so the what-if reports coverage only (re-run the plan).

Imports only numpy/scipy at load time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from carecover.analysis.access import Decay, assigned_demand, two_step, weight_matrix, weighted_gini

if TYPE_CHECKING:
    from carecover.config.capacity import CapacityRule
    from carecover.siting.prepared import PreparedState

__all__ = ["AccessTracker", "state_capacity_fields", "decay_fields", "ACCESS_KEYS"]

#: What a step reports (and its change): E2SFCA places per 1,000 elderly (elderly-weighted mean),
#: share of elderly below the standard (when one is stated), Gini, facilities with load > 1,
#: the largest load, and the load of the site the step touched.
ACCESS_KEYS = ("places_per_1000", "share_below_standard", "gini", "overloaded", "max_load", "site_load")


def state_capacity_fields(rule: CapacityRule | None, decay: Decay, capacity: np.ndarray) -> dict[str, np.ndarray]:
    """The extra ``state/<tier>.npz`` fields that let a what-if score accessibility.

    Parameters
    ----------
    rule
        The tier's capacity rule (``None``: no fields, the what-if reports coverage only).
    decay
        The tier's E2SFCA decay.
    capacity
        Places of the existing rows (NaN: unknown, offering none).
    """
    if rule is None:
        return {}
    record = {"rule": rule.to_dict(), "text": rule.describe(), "decay": decay.to_dict()}
    return {"existing_capacity": np.asarray(capacity, float),
            "capacity_rule": np.array(json.dumps(record, ensure_ascii=False, sort_keys=True))}


#: ``reach_band`` of an entry beyond the threshold (weight 0).
NO_BAND = 255


def _decay(record: dict) -> Decay:
    dec = record["decay"]
    return Decay(dec["kind"], float(dec["threshold_min"]), tuple(dec["weights"]))


def decay_fields(capacity_rule, seconds: np.ndarray) -> dict[str, np.ndarray]:
    """What the E2SFCA decay needs of each stored reach entry (state version 4).

    Parameters
    ----------
    capacity_rule
        The ``capacity_rule`` field of :func:`state_capacity_fields` (JSON text).
    seconds
        The entries' travel seconds + 1e-9, in the stored pattern's order.

    Returns
    -------
    dict
        ``reach_band`` (uint8 band index, :data:`NO_BAND` beyond the threshold) for a band decay,
        or ``reach_seconds`` (float32) for a Gaussian decay.
    """
    decay = _decay(json.loads(str(capacity_rule)))
    t_min = (np.asarray(seconds, float) - 1e-9) / 60.0
    if decay.kind == "gaussian":
        return {"reach_seconds": np.asarray(seconds, np.float32)}
    if len(decay.weights) >= NO_BAND:
        raise ValueError(f"at most {NO_BAND - 1} decay bands")
    band = decay.band(t_min).astype(np.uint8)
    band[decay(t_min) == 0.0] = NO_BAND
    return {"reach_band": band}


def stored_weights(state: PreparedState, decay: Decay) -> sp.csr_matrix | None:
    """The E2SFCA weights of the state's existing and candidate rows (``None``: a pattern-only
    state without the decay's values, whose accessibility cannot be scored)."""
    M = state.matrix.tocsr()
    extra = state.extra or {}
    if "reach_band" in extra:
        table = np.zeros(NO_BAND + 1)
        table[:len(decay.weights)] = decay.weights
        w = table[np.asarray(extra["reach_band"], np.intp)]
    elif "reach_seconds" in extra:
        return weight_matrix(sp.csr_matrix((np.asarray(extra["reach_seconds"], float), M.indices, M.indptr),
                                           shape=M.shape), decay.threshold_min, decay)
    elif M.dtype == bool:
        return None
    else:  # versions 1–2: the seconds themselves
        return weight_matrix(M, decay.threshold_min, decay)
    out = sp.csr_matrix((w, M.indices, M.indptr), shape=M.shape)
    out.eliminate_zeros()
    return out


class AccessTracker:
    """Accessibility of the open sites of a what-if session.

    Parameters
    ----------
    state
        The prepared state (its ``extra`` holds ``existing_capacity`` and ``capacity_rule``).

    Attributes
    ----------
    record
        The rule and decay as the plan stored them.
    weights
        E2SFCA weight matrices, stacked: the state's rows (:func:`stored_weights`), then the
        appended new points.
    supply
        Places per site row (existing, candidates, then appended new points).
    """

    def __init__(self, state: PreparedState, weights: sp.csr_matrix | None = None) -> None:
        self.record = json.loads(str(state.extra["capacity_rule"]))
        rule = self.record["rule"]
        self.decay = _decay(self.record)
        self.standard = rule.get("standard_per_1000")
        new = rule.get("new_site_places")
        self.new_places = float("nan") if new is None else float(new)
        cap = np.asarray(state.extra["existing_capacity"], float)
        base = stored_weights(state, self.decay) if weights is None else weights
        if base is None:
            raise ValueError("this state holds no decay values; re-run the plan")
        self.weights: list[sp.csr_matrix] = [base]
        self.supply = np.r_[cap, np.full(state.n_candidates, self.new_places)]
        self.elderly = np.asarray(state.weights["elderly"], float)

    @classmethod
    def of(cls, state: PreparedState) -> AccessTracker | None:
        """A tracker when the state carries capacity and the decay's values, else ``None``."""
        extra = state.extra or {}
        if "existing_capacity" not in extra or "capacity_rule" not in extra:
            return None
        weights = stored_weights(state, _decay(json.loads(str(extra["capacity_rule"]))))
        if weights is None:
            from carecover import notices

            notices.warn("state_without_decay", "该状态文件未存距离衰减分段（旧版本），只给覆盖率；请重新运行 carecover plan / "
                         "this prepared state keeps no decay values (an older version): coverage only, no "
                         "places per 1,000 or load; re-run `carecover plan`", file=state.path)
            return None
        return cls(state, weights)

    def append(self, times: sp.csr_matrix) -> None:
        """New sites (routed points, travel seconds + 1e-9) with the rule's new-site places."""
        self.weights.append(weight_matrix(sp.csr_matrix(times), self.decay.threshold_min, self.decay))
        self.supply = np.r_[self.supply, np.full(times.shape[0], self.new_places)]

    def _rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """Rows ``rows`` (sorted) of the stacked matrices, stacking only those rows (the whole
        matrix is never copied: a meeting appends points one at a time)."""
        parts, first = [], 0
        for m in self.weights:
            n = m.shape[0]
            sel = rows[(rows >= first) & (rows < first + n)] - first
            if len(sel):
                parts.append(m[sel])
            first += n
        return sp.vstack(parts).tocsr() if len(parts) > 1 else (parts[0] if parts else self.weights[0][:0])

    def score(self, open_rows: Iterable[int], site: int | None = None) -> dict[str, Any]:
        """Accessibility and load with ``open_rows`` open.

        Parameters
        ----------
        open_rows
            Open site rows.
        site
            The row a step touched (its load is reported; for a removal, the load it had).
        """
        open_rows = [int(r) for r in open_rows]
        rows = np.array(sorted(set(open_rows) | ({int(site)} if site is not None else set())),
                        np.int64)
        W = self._rows(rows)
        res = two_step(W, self.supply[rows], self.elderly, "e2sfca")
        load_all = np.divide(assigned_demand(W, self.elderly), self.supply[rows],
                             out=np.full(len(rows), np.nan), where=np.nan_to_num(self.supply[rows]) > 0)
        touched = float(load_all[np.searchsorted(rows, site)]) if site is not None else float("nan")
        is_open = np.isin(rows, np.asarray(open_rows, np.int64)) if site is not None else np.ones(len(rows), bool)
        if site is not None and not is_open.all():
            # a removed site is scored without it: recompute over the open rows only
            return {**self.score(rows[is_open]), "site_load": touched}
        w = self.elderly
        tot = float(w.sum())
        per = res.per_1000
        load = load_all[np.isfinite(load_all)]
        return {"places_per_1000": float((per * w).sum() / tot) if tot > 0 else float("nan"),
                "share_below_standard": (float(w[per < float(self.standard)].sum() / tot)
                                         if self.standard is not None and tot > 0 else None),
                "gini": weighted_gini(per, w), "overloaded": int((load > 1.0).sum()),
                "max_load": float(load.max()) if len(load) else float("nan"), "site_load": touched}

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
        """The change of each figure (``None`` where either side has none)."""
        out = {}
        for k in ACCESS_KEYS:
            if k == "site_load":
                continue
            a, b = after.get(k), before.get(k)
            out[k] = None if a is None or b is None else a - b
        return out

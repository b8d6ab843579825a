"""Accessibility and load in a what-if: re-score 2SFCA/E2SFCA for the open sites after each step.

The prepared state (``state/<tier>.npz``) holds the travel seconds of every existing facility
and candidate; the plan adds each existing facility's places and the tier's capacity rule and
decay (:func:`state_capacity_fields`, stored as extra fields of the file). A new site (a
candidate or a new point) gets the rule's ``new_site`` places. Scoring the open rows is a few
sparse products (:mod:`carecover.analysis.access`), milliseconds even at city scale.

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

__all__ = ["AccessTracker", "state_capacity_fields", "ACCESS_KEYS"]

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
    supply
        Places per site row (existing, candidates, then appended new points).
    """

    def __init__(self, state: PreparedState) -> None:
        self.record = json.loads(str(state.extra["capacity_rule"]))
        rule, dec = self.record["rule"], self.record["decay"]
        self.decay = Decay(dec["kind"], float(dec["threshold_min"]), tuple(dec["weights"]))
        self.standard = rule.get("standard_per_1000")
        new = rule.get("new_site_places")
        self.new_places = float("nan") if new is None else float(new)
        cap = np.asarray(state.extra["existing_capacity"], float)
        self.rows: list[sp.csr_matrix] = [state.matrix.tocsr()]
        self.supply = np.r_[cap, np.full(state.n_candidates, self.new_places)]
        self.elderly = np.asarray(state.weights["elderly"], float)

    @classmethod
    def of(cls, state: PreparedState) -> AccessTracker | None:
        """A tracker when the state carries capacity, else ``None``."""
        extra = state.extra or {}
        return cls(state) if "existing_capacity" in extra and "capacity_rule" in extra else None

    def append(self, times: sp.csr_matrix) -> None:
        """New sites (routed points, travel seconds + 1e-9) with the rule's new-site places."""
        self.rows.append(sp.csr_matrix(times))
        self.supply = np.r_[self.supply, np.full(times.shape[0], self.new_places)]

    def _rows(self, rows: np.ndarray) -> sp.csr_matrix:
        """Rows ``rows`` (sorted) of the stacked matrices, stacking only those rows (the whole
        matrix is never copied: a meeting appends points one at a time)."""
        parts, first = [], 0
        for m in self.rows:
            n = m.shape[0]
            sel = rows[(rows >= first) & (rows < first + n)] - first
            if len(sel):
                parts.append(m[sel])
            first += n
        return sp.vstack(parts).tocsr() if len(parts) > 1 else (parts[0] if parts else self.rows[0][:0])

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
        W = weight_matrix(self._rows(rows), self.decay.threshold_min, self.decay)
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

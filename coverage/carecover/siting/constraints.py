"""The inputs and side constraints of the covering model, each built by one small function.

:meth:`MaximalCovering.from_reach_matrix <carecover.siting.model.MaximalCovering.from_reach_matrix>`
calls them in order: :func:`check_weights`, :func:`check_covered0`, :func:`check_candidate_ids`,
:func:`selection` (``p``, forced, forbidden), :func:`group_caps` (at most so many sites per
group), :func:`spacing_conflicts` (pairs closer than the minimum spacing), :func:`at_least`
(at least so many sites among given candidates, e.g. co-located with a school) and
:func:`check_forced_feasible`. Each raises :class:`~carecover.errors.InputError` with a
bilingual message naming the offending field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.reach import row_of

__all__ = [
    "AtLeast",
    "CandidateRules",
    "GroupCaps",
    "Selection",
    "Spacing",
    "candidate_rules",
    "check_candidate_ids",
    "check_covered0",
    "check_forced_feasible",
    "check_weights",
    "at_least",
    "group_caps",
    "needed_too",
    "selection",
    "spacing_conflicts",
]


def check_weights(weights: Any, n_demand: int) -> np.ndarray:
    """Demand weights as floats, one per demand column, finite and non-negative.

    Parameters
    ----------
    weights
        Array-like of demand weights.
    n_demand
        Number of demand columns of the reach matrix.

    Returns
    -------
    numpy.ndarray
        ``float`` weights.

    Raises
    ------
    InputError
        On a wrong length, NaN/infinite or negative values.
    """
    w = np.asarray(weights, dtype=float).ravel()
    if w.shape != (n_demand,):
        raise InputError(
            f"weights has {w.size} values but the coverage matrix has {n_demand} demand columns / "
            f"权重个数 {w.size} 与覆盖矩阵需求列数 {n_demand} 不符",
            field="weights", expected=f"{n_demand} values")
    if not np.all(np.isfinite(w)):
        raise InputError("weights contain NaN or infinite values / 权重含有空值或无穷值",
                         field="weights", expected="finite numbers")
    if np.any(w < 0):
        i = int(np.flatnonzero(w < 0)[0])
        raise InputError(f"negative weight {w[i]} at demand {i} / 需求点 {i} 权重为负",
                         field="weights", row=None, expected="weights >= 0")
    return w


def check_covered0(covered0: Any, n_demand: int) -> np.ndarray:
    """Demand already covered by existing facilities, as booleans (all False when ``None``).

    Parameters
    ----------
    covered0
        Boolean array-like or ``None``.
    n_demand
        Number of demand columns.

    Returns
    -------
    numpy.ndarray
        ``bool`` mask of length ``n_demand``.
    """
    if covered0 is None:
        return np.zeros(n_demand, dtype=bool)
    c0 = np.asarray(covered0)
    if c0.shape != (n_demand,):
        raise InputError(
            f"covered0 has shape {c0.shape}, expected ({n_demand},) / covered0 长度与需求列数不符",
            field="covered0", expected=f"{n_demand} booleans")
    return c0.astype(bool)


def check_candidate_ids(candidate_ids: Sequence | None, n_cand: int) -> list:
    """Candidate labels (default the row indices), one per candidate.

    Parameters
    ----------
    candidate_ids
        Labels, or ``None``.
    n_cand
        Number of candidates.
    """
    ids = list(range(n_cand)) if candidate_ids is None else list(candidate_ids)
    if len(ids) != n_cand:
        raise InputError(
            f"candidate_ids has {len(ids)} labels for {n_cand} candidates / "
            "候选点编号个数与候选点数不符", field="candidate_ids", expected=f"{n_cand} labels")
    return ids


def _indices(values: Sequence[int], name: str, n_cand: int) -> np.ndarray:
    a = np.unique(np.asarray(list(values), dtype=np.int64))
    if a.size and (a.min() < 0 or a.max() >= n_cand):
        raise InputError(f"{name} holds an index outside 0..{n_cand - 1} / {name} 下标越界",
                         field=name, expected=f"indices in 0..{n_cand - 1}")
    return a


@dataclass(frozen=True)
class Selection:
    """The cardinality part of the model: ``p``, forced and forbidden candidates.

    Attributes
    ----------
    p
        Number of new sites (forced ones included).
    forced, forbidden
        Sorted unique candidate indices that must / must not be chosen.
    allowed
        Candidates that may be chosen (not forbidden).
    """

    p: int
    forced: np.ndarray
    forbidden: np.ndarray
    allowed: np.ndarray


def selection(p: int, forced: Sequence[int], forbidden: Sequence[int], n_cand: int) -> Selection:
    """Validate ``p`` against the forced and forbidden candidates.

    Parameters
    ----------
    p
        Number of new sites (forced ones included).
    forced, forbidden
        Candidate indices that must / must not be chosen (duplicates ignored).
    n_cand
        Number of candidates.

    Returns
    -------
    Selection

    Raises
    ------
    InputError
        When ``p < 0``, an index is out of range, a candidate is both forced and forbidden, there
        are more forced sites than ``p`` or fewer allowed candidates than ``p``.
    """
    p = int(p)
    if p < 0:
        raise InputError(f"p must be >= 0, got {p} / 新建站点数不能为负", field="p", expected=">= 0")
    f = _indices(forced, "forced", n_cand)
    x = _indices(forbidden, "forbidden", n_cand)
    both = np.intersect1d(f, x)
    if both.size:
        raise InputError(f"candidate {int(both[0])} is both forced and forbidden / 候选点既被指定又被排除",
                         field="forced", expected="disjoint forced and forbidden")
    if f.size > p:
        raise InputError(
            f"{f.size} forced sites exceed p = {p} / 指定站点数 {f.size} 超过 p = {p}",
            field="p", expected=f">= {f.size}")
    allowed = np.ones(n_cand, dtype=bool)
    allowed[x] = False
    n_allowed = int(allowed.sum())
    if p > n_allowed:
        raise InputError(
            f"p = {p} but only {n_allowed} candidates may be chosen / 需新建 {p} 处，但只有 "
            f"{n_allowed} 个可选候选点", field="p", expected=f"<= {n_allowed}")
    return Selection(p, f, x, allowed)


@dataclass(frozen=True)
class GroupCaps:
    """At most ``cap`` chosen sites per group (e.g. one township centre per township).

    Attributes
    ----------
    code
        Group number of each candidate (indexes ``labels`` and ``cap``).
    cap
        Cap per group; -1 means uncapped, 0 removes the group's candidates from the model.
    labels
        The group labels, sorted.
    """

    code: np.ndarray
    cap: np.ndarray
    labels: np.ndarray


def group_caps(groups: Any, max_per_group: int | dict | None, n_cand: int) -> GroupCaps | None:
    """The group-cap constraint (``None`` without groups).

    Parameters
    ----------
    groups
        One label per candidate, or ``None``.
    max_per_group
        An int for every group, or ``{group: cap}`` (groups absent from the dict: no cap).
    n_cand
        Number of candidates.
    """
    if groups is None:
        if max_per_group is not None:
            raise InputError("max_per_group needs groups / 设置每组上限须提供分组", field="groups",
                             expected="one group label per candidate")
        return None
    g = np.asarray(groups)
    if g.shape != (n_cand,):
        raise InputError(f"groups has shape {g.shape}, expected ({n_cand},) / 分组个数与候选点数不符",
                         field="groups", expected=f"{n_cand} labels")
    labels, code = np.unique(g.astype(str) if g.dtype == object else g, return_inverse=True)
    caps = np.full(len(labels), -1, dtype=np.int64)
    if isinstance(max_per_group, dict):
        for k, v in max_per_group.items():
            hit = np.flatnonzero(labels == (str(k) if g.dtype == object else k))
            if hit.size:
                caps[hit] = int(v)
    elif max_per_group is not None:
        caps[:] = int(max_per_group)
    if np.any((caps < 0) & (caps != -1)):
        raise InputError("max_per_group must be >= 0 / 每组上限不能为负", field="max_per_group",
                         expected=">= 0")
    return GroupCaps(code.astype(np.int64), caps, labels)


@dataclass(frozen=True)
class Spacing:
    """Chosen sites at least ``min_m`` apart (straight line): pairs that may not both be chosen.

    Attributes
    ----------
    min_m
        The minimum spacing in metres.
    pairs
        Conflicting pairs ``(j, k)``, ``j < k``, sorted; among allowed candidates only.
    conflicts
        Per candidate, the candidates it conflicts with.
    """

    min_m: float
    pairs: np.ndarray
    conflicts: list[np.ndarray]


def spacing_conflicts(candidate_xy: Any, min_spacing_m: float | None, allowed: np.ndarray
                      ) -> Spacing | None:
    """Conflict pairs of allowed candidates closer than ``min_spacing_m`` (KD-tree).

    Returns
    -------
    Spacing or None
        ``None`` when no spacing (or a spacing <= 0) is asked for.
    """
    if min_spacing_m is None or float(min_spacing_m) <= 0:
        return None
    n_cand = allowed.size
    if candidate_xy is None:
        raise InputError("min_spacing_m needs candidate_xy / 最小间距须提供候选点投影坐标",
                         field="candidate_xy", expected="(n, 2) projected metres")
    xy = np.asarray(candidate_xy, dtype=float)
    if xy.shape != (n_cand, 2) or not np.all(np.isfinite(xy)):
        raise InputError(f"candidate_xy must be finite with shape ({n_cand}, 2) / 候选点坐标形状或数值有误",
                         field="candidate_xy", expected=f"({n_cand}, 2) finite metres")
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(allowed)
    # Pairs strictly closer than the spacing conflict; shrink r a hair for "at least".
    pairs = cKDTree(xy[idx]).query_pairs(float(min_spacing_m) * (1 - 1e-12), output_type="ndarray")
    pairs = idx[pairs] if len(pairs) else np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(pairs, axis=1)
    pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]
    adj = sp.coo_matrix((np.ones(2 * len(pairs), dtype=bool),
                         (np.r_[pairs[:, 0], pairs[:, 1]], np.r_[pairs[:, 1], pairs[:, 0]])),
                        shape=(n_cand, n_cand)).tocsr()
    return Spacing(float(min_spacing_m), pairs, [row_of(adj, j) for j in range(n_cand)])


def check_forced_feasible(forced: np.ndarray, groups: GroupCaps | None, spacing: Spacing | None) -> None:
    """Forced sites must respect the group caps and the spacing among themselves.

    Parameters
    ----------
    forced
        Forced candidate indices.
    groups, spacing
        The side constraints, or ``None``.

    Raises
    ------
    InputError
        When the forced sites alone exceed a group's cap or are closer than the spacing.
    """
    if groups is not None and forced.size:
        counts = np.bincount(groups.code[forced], minlength=len(groups.cap))
        bad = np.flatnonzero((groups.cap >= 0) & (counts > groups.cap))
        if bad.size:
            raise InputError(
                f"forced sites exceed the cap of group {groups.labels[bad[0]]!r} / "
                "指定站点超过该组上限", field="forced", expected="forced sites within group caps")
    if spacing is not None and forced.size > 1:
        fs = set(forced.tolist())
        for a, b in spacing.pairs:
            if a in fs and b in fs:
                raise InputError(
                    f"forced sites {a} and {b} are closer than {spacing.min_m} m / "
                    "两个指定站点间距小于最小间距", field="forced", expected="forced sites far enough apart")


@dataclass(frozen=True)
class CandidateRules:
    """Every rule on the candidates of a siting model, checked together.

    Attributes
    ----------
    p, forced, forbidden
        From :func:`selection`.
    allowed
        Candidates that may be chosen (not forbidden, not in a group capped at 0).
    groups, spacing
        :class:`GroupCaps` and :class:`Spacing`, or ``None``.
    candidate_xy
        Candidate positions (metres) or ``None``.
    at_least
        :class:`AtLeast` or ``None``.
    """

    p: int
    forced: np.ndarray
    forbidden: np.ndarray
    allowed: np.ndarray
    groups: GroupCaps | None
    spacing: Spacing | None
    candidate_xy: np.ndarray | None
    at_least: AtLeast | None = None


def candidate_rules(p: int, forced: Sequence[int], forbidden: Sequence[int], groups: Any,
                    max_per_group: int | dict | None, candidate_xy: Any, min_spacing_m: float | None,
                    n_cand: int, min_sites_in: Mapping[str, tuple[Any, int]] | None = None) -> CandidateRules:
    """The candidate rules every siting model shares (count, forced/forbidden, group caps,
    spacing), with the forced sites checked against them.

    Parameters
    ----------
    p, forced, forbidden
        See :func:`selection`.
    groups, max_per_group
        See :func:`group_caps`.
    candidate_xy, min_spacing_m
        See :func:`spacing_conflicts`.
    n_cand
        Number of candidates.
    min_sites_in
        See :func:`at_least`.

    Returns
    -------
    CandidateRules

    Raises
    ------
    InputError
        For an invalid rule or forced sites that break one.
    """
    sel = selection(p, forced, forbidden, n_cand)
    caps = group_caps(groups, max_per_group, n_cand)
    allowed = sel.allowed
    if caps is not None:
        # a group capped at 0 (e.g. a township that already has a centre) offers no candidate
        allowed = allowed & ~(caps.cap[caps.code] == 0)
    spacing = spacing_conflicts(candidate_xy, min_spacing_m, allowed)
    check_forced_feasible(sel.forced, caps, spacing)
    xy = None if candidate_xy is None else np.asarray(candidate_xy, dtype=float)
    return CandidateRules(sel.p, sel.forced, sel.forbidden, allowed, caps, spacing, xy,
                          at_least(min_sites_in, allowed, sel.p, n_cand))


@dataclass(frozen=True)
class AtLeast:
    """At least ``k[r]`` chosen sites among the candidates of each row ``r`` (e.g. at least 2 sites
    co-located with a school: :mod:`carecover.siting.colocation`).

    Attributes
    ----------
    labels
        The rows' names (``"school"``, ``"any"`` …).
    members
        Boolean matrix rows × candidates: the allowed candidates that count for each row.
    k
        The least number of chosen sites per row.
    """

    labels: tuple[str, ...]
    members: np.ndarray
    k: np.ndarray

    def deficit(self, sel: Sequence[int]) -> np.ndarray:
        """Per row, how many more sites among its members the set ``sel`` needs (0 when met)."""
        sel = np.asarray(list(sel), dtype=np.int64)
        have = self.members[:, sel].sum(axis=1) if sel.size else np.zeros(len(self.k), np.int64)
        return np.maximum(self.k - have, 0)

    def holds(self, sel: Sequence[int]) -> bool:
        """Whether ``sel`` meets every row."""
        return not self.deficit(sel).any()

    def helps(self, deficit: np.ndarray) -> np.ndarray:
        """Candidates that would lower a row still short (``deficit`` from :meth:`deficit`)."""
        return self.members[deficit > 0].any(axis=0)


def at_least(min_sites_in: Mapping[str, tuple[Any, int]] | None, allowed: np.ndarray, p: int, n_cand: int
             ) -> AtLeast | None:
    """The "at least k sites among these candidates" rows (``None`` when none is asked).

    Parameters
    ----------
    min_sites_in
        ``{label: (boolean mask over the candidates, k)}``; rows with ``k = 0`` are left out.
    allowed
        Candidates that may be chosen (members only count when allowed).
    p
        Number of sites (a row asking for more cannot hold).
    n_cand
        Number of candidates.

    Raises
    ------
    InputError
        A mask of the wrong length, ``k < 0``, ``k > p``, or fewer allowed members than ``k``.
    """
    if not min_sites_in:
        return None
    labels, rows, ks = [], [], []
    for label, (mask, k) in min_sites_in.items():
        m = np.asarray(mask, dtype=bool)
        k = int(k)
        field = f"colocation.min_sites.{label}"
        if m.shape != (n_cand,):
            raise InputError(f"{label}: mask has shape {m.shape}, expected ({n_cand},) / 候选点掩码长度不符",
                             field=field, expected=f"{n_cand} booleans")
        if k < 0:
            raise InputError(f"{label}: at least {k} sites / 最少站点数不能为负", field=field, expected=">= 0")
        if k == 0:
            continue
        n_ok = int((m & allowed).sum())
        if k > p or k > n_ok:
            raise InputError(
                f"至少 {k} 处须与「{label}」同址，但只新建 {p} 处、可选的同址候选点 {n_ok} 个 / at least {k} sites "
                f"co-located with '{label}' asked for, but p = {p} and {n_ok} such candidates may be chosen",
                field=field, expected=f"<= {min(p, n_ok)}")
        labels.append(str(label))
        rows.append(m & allowed)
        ks.append(k)
    if not labels:
        return None
    return AtLeast(tuple(labels), np.vstack(rows), np.asarray(ks, dtype=np.int64))


def needed_too(at_least: AtLeast | None, keep: list[int], order: list[int]) -> list[int]:
    """``keep`` and, taken in ``order``, the sites left out of it that an at-least row still needs
    (a site adding nothing stays when the rule needs it).

    Parameters
    ----------
    at_least
        The rows, or ``None`` (``keep`` is returned as it is).
    keep
        Sites kept (e.g. those with a positive marginal gain, and the forced ones).
    order
        Every site of the set, in the order to consider them.
    """
    if at_least is None:
        return keep
    out = list(keep)
    for j in order:
        if j not in out and at_least.helps(at_least.deficit(out))[j]:
            out.append(j)
    return out

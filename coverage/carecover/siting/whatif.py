"""The what-if engine: open and close sites and re-score coverage at once.

:class:`WhatIf` keeps, per demand point, the number of open sites that reach it, so opening or
closing a site only touches the demand that site reaches; it scores any number of populations
(elderly and total) together. :class:`Session` runs it on a plan's prepared state
(:class:`~carecover.siting.prepared.PreparedState`): the base scenario (today, or today plus the
plan's sites), then operations on existing facilities, candidates and new WGS-84 points (routed
on the plan's network by :meth:`~carecover.siting.prepared.PreparedState.route_points`), each
recorded as a :class:`Step` with the coverage after it and its marginal change. Everything in
carecover that answers a what-if (``carecover whatif``, ``scenarios``, ``rankings``) uses it.

Imports only numpy/scipy at load time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.access_whatif import AccessTracker
from carecover.siting.reach import as_bool_csr, row_of
from carecover.siting.state import POPULATIONS

if TYPE_CHECKING:
    from carecover.siting.prepared import PreparedState

__all__ = ["OPS", "POPULATIONS", "Session", "Step", "WhatIf", "parse_lonlat"]

#: Operations of :meth:`Session.apply`.
OPS = ("add", "add-candidate", "remove-existing", "remove-candidate")


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


# ----------------------------------------------------------------------------- on a prepared state

@dataclass
class Step:
    """One applied operation and the coverage after it.

    Attributes
    ----------
    op
        ``base`` or one of :data:`OPS`.
    target
        What the operation named (the base's name, a point, a candidate, a facility).
    row
        The site's row in the engine (``None`` for the base).
    covered, delta
        Covered weight per population after the step, and the change the step made.
    note
        Remark (e.g. how far a new point is from the street).
    lon, lat
        Position of the site (WGS-84) when known.
    access, access_delta
        Accessibility and load after the step and their change
        (:data:`~carecover.siting.access_whatif.ACCESS_KEYS`); ``None`` when the state carries no
        capacity (a plan without a capacity rule for the tier).
    """

    op: str
    target: str
    row: int | None
    covered: dict[str, float]
    delta: dict[str, float]
    note: str = ""
    lon: float | None = None
    lat: float | None = None
    access: dict | None = None
    access_delta: dict | None = None


def parse_lonlat(text: str, crs: str = "wgs84") -> tuple[float, float]:
    """``"LON,LAT"`` → WGS-84 (lon, lat), converting from GCJ-02/BD-09 when asked.

    Parameters
    ----------
    text
        Longitude and latitude separated by a comma (full-width ``，`` too).
    crs
        ``wgs84``, ``gcj02`` or ``bd09``: what the coordinates are given in.
    """
    parts = str(text).replace("，", ",").replace(" ", "").split(",")
    try:
        lon, lat = (float(v) for v in parts)
    except ValueError as exc:
        raise InputError(f"坐标格式应为 经度,纬度 / expected LON,LAT, got {text!r}", field="add",
                         expected="e.g. 111.70,40.82") from exc
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InputError(f"经纬度超出范围 / {text!r} is not a longitude,latitude pair", field="add",
                         expected="LON in -180..180, LAT in -90..90 (longitude first)")
    if crs != "wgs84":
        from carecover.crs import to_wgs84

        x, y = to_wgs84(np.array([lon]), np.array([lat]), crs)
        lon, lat = float(x[0]), float(y[0])
    return lon, lat


class Session:
    """A what-if session on one tier's prepared state: the open sites and a step per operation.

    Parameters
    ----------
    state
        The tier's :class:`~carecover.siting.prepared.PreparedState`.
    base
        ``current`` (the existing facilities that took part in routing) or ``planned`` (those
        plus the plan's chosen sites).
    crs
        Coordinates of ``add`` operations given as text (:func:`parse_lonlat`).

    Attributes
    ----------
    engine
        The :class:`WhatIf` over the state's matrix with both populations (whole study area).
    steps
        The base, then one :class:`Step` per applied operation.
    route_s
        Seconds spent routing new points.
    """

    def __init__(self, state: PreparedState, base: str = "current", crs: str = "wgs84") -> None:
        if base not in ("current", "planned"):
            raise InputError(f"未知基准 / unknown base {base!r}", field="base", expected="current or planned")
        self.state, self.base, self.crs = state, base, crs
        self.route_s = 0.0
        self.reset()

    def reset(self) -> None:
        """Back to the base scenario (forgets every step)."""
        st = self.state
        rows = st.planned_rows() if self.base == "planned" else st.existing_rows()
        self.engine = WhatIf(st.matrix, {p: st.weights[p] for p in POPULATIONS}, [int(r) for r in rows])
        # accessibility and load of the open sites, when the plan stored the tier's capacity
        self.access = AccessTracker.of(st)
        base_access = self.access.score(self.engine.selected) if self.access is not None else None
        self.steps = [Step("base", self.base, None, self.engine.covered_weights(),
                           {p: 0.0 for p in POPULATIONS}, access=base_access,
                           access_delta=None if base_access is None else AccessTracker.delta(base_access, base_access))]

    # -- reading
    def covered_mask(self) -> np.ndarray:
        """Demand covered now."""
        return self.engine.covered_mask()

    def figures(self) -> dict[str, dict[str, float]]:
        """``{"elderly"|"total": {"covered", "total", "share"}}`` now, over the whole study area."""
        cov, tot = self.engine.covered_weights(), self.engine.totals()
        return {p: {"covered": cov[p], "total": tot[p], "share": cov[p] / tot[p] if tot[p] > 0 else float("nan")}
                for p in POPULATIONS}

    def _record(self, op: str, target: str, row: int, opening: bool, note: str = "",
                lon: float | None = None, lat: float | None = None) -> Step:
        before = self.steps[-1].covered
        (self.engine.add if opening else self.engine.remove)(row)
        after = self.engine.covered_weights()
        step = Step(op, target, row, after, {p: after[p] - before[p] for p in POPULATIONS}, note, lon, lat)
        if self.access is not None:
            step.access = self.access.score(self.engine.selected, site=row)
            step.access_delta = AccessTracker.delta(self.steps[-1].access, step.access)
        self.steps.append(step)
        return step

    # -- operations
    def add_point(self, lon: float, lat: float, target: str | None = None) -> Step:
        """Open a new site at WGS-84 ``lon``/``lat``, routed on the plan's network.

        A point too far from the network is kept (covering no one) with a note; when it is off
        the network but the swapped pair is on it, latitude and longitude were swapped: error.

        Parameters
        ----------
        lon, lat
            WGS-84 position.
        target
            How the point was given (shown in the step; default ``"lon,lat"``).
        """
        st = self.state
        t = time.perf_counter()
        rows, snap = st.route_points([lon], [lat])
        self.route_s += time.perf_counter() - t
        if not snap.ok[0] and self._swapped_fits(lon, lat):
            raise InputError(f"经纬度是否颠倒？/ {target or f'{lon},{lat}'!r} lies off the network but {lat},{lon} "
                             "is on it: latitude and longitude swapped?", field="add",
                             expected="LON,LAT (longitude first)")
        row = int(self.engine.append_rows(rows)[0])
        if self.access is not None:
            self.access.append(rows)  # same row order as the engine
        if snap.ok[0]:
            note = f"距路网 {snap.dist[0]:.0f} 米 / {snap.dist[0]:.0f} m from the street"
        else:
            note = (f"未接入路网：距离 {snap.dist[0]:.0f} 米超过 {snap.max_snap_m:.0f} 米，不覆盖任何人 / "
                    f"not on the network: {snap.dist[0]:.0f} m > {snap.max_snap_m:.0f} m, reaches no one")
        return self._record("add", target or f"{lon},{lat}", row, True, note, lon, lat)

    def _swapped_fits(self, lon: float, lat: float) -> bool:
        """Whether ``lat,lon`` (the pair swapped) would snap onto the network."""
        if not (-90 <= lon <= 90):
            return False
        return bool(self.state.snap_lonlat([lat], [lon]).ok[0])

    def add_candidate(self, key: str | int) -> Step:
        """Open candidate ``key`` (index, id as in sites.csv, or ``node:N``)."""
        st = self.state
        k = st.find_candidate(key)
        r = st.candidate_row(k)
        if self.engine.is_open(r):
            raise InputError(f"候选点 {k} 已在方案中 / candidate {k} is already open", field="add-candidate")
        return self._record("add-candidate", str(k), r, True, "", float(st.cand_lon[k]), float(st.cand_lat[k]))

    def remove_existing(self, key: str | int) -> Step:
        """Close existing facility ``key`` (its id in the register, or its index)."""
        st = self.state
        r = st.find_existing(key)
        label = f"{st.existing_fid[r]} {st.existing_name[r]}".strip()
        if not self.engine.is_open(r):
            why = "未接入路网 / not on the network" if not st.existing_ok[r] else "已撤销 / already removed"
            raise InputError(f"该设施不在方案中 / existing facility {label} is not in use ({why})",
                             field="remove-existing")
        lon = None if st.existing_lon is None else float(st.existing_lon[r])
        lat = None if st.existing_lat is None else float(st.existing_lat[r])
        return self._record("remove-existing", label, r, False, "", lon, lat)

    def remove_candidate(self, key: str | int) -> Step:
        """Close an open candidate (a planned site with ``base="planned"``, or one added)."""
        st = self.state
        k = st.find_candidate(key)
        r = st.candidate_row(k)
        if not self.engine.is_open(r):
            planned = ", ".join(f"★{i + 1} = {c}" for i, c in enumerate(st.chosen.tolist()))
            hint = "" if self.base == "planned" else "; use --base planned"
            raise InputError(f"该候选点不在方案中 / candidate {k} is not open (planned sites: {planned}{hint})",
                             field="remove-candidate")
        return self._record("remove-candidate", str(k), r, False, "", float(st.cand_lon[k]), float(st.cand_lat[k]))

    def apply(self, op: str, value: str) -> Step:
        """Apply one operation given as text.

        Parameters
        ----------
        op
            ``add``, ``add-candidate``, ``remove-existing`` or ``remove-candidate``.
        value
            ``LON,LAT`` (in :attr:`crs`) for ``add``; a candidate (index, id or ``node:N``) or an
            existing facility (id or index) for the others.

        Returns
        -------
        Step
        """
        if op == "add":
            lon, lat = parse_lonlat(value, self.crs)
            return self.add_point(lon, lat, target=value)
        if op == "add-candidate":
            return self.add_candidate(value)
        if op == "remove-existing":
            return self.remove_existing(value)
        if op == "remove-candidate":
            return self.remove_candidate(value)
        raise InputError(f"未知操作 / unknown operation {op!r}", field="operation", expected=", ".join(OPS))

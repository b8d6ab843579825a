"""A loaded prepared state (:func:`carecover.siting.state.load_state`) and its queries.

Rows and ids of the existing facilities and candidates, and the routing of *new* points:
:meth:`PreparedState.route_points` computes reach rows for arbitrary WGS-84 points with the same
snapping and engine as the plan, on the plan's network loaded through the network cache.
Coverage figures and what-ifs are computed by :mod:`carecover.siting.whatif`.

Imports only numpy/scipy at load time; the network stack is imported on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.siting.netfind import NetworkRecord

__all__ = ["DemandPositions", "NetworkRecord", "PreparedState"]


def _named_candidate(text: str, chosen: np.ndarray) -> int | None:
    """The candidate a meeting name points at: ``★R …`` (rank R of the plan) or ``候选 K …`` /
    ``candidate K …``; ``None`` for any other text."""
    import re

    m = re.match(r"^[★☆*]\s*(\d+)(\s|（|\(|$)", text)
    if m:
        rank = int(m.group(1))
        if not 1 <= rank <= len(chosen):
            raise InputError(f"规划方案没有 ★{rank} / the plan has no site ★{rank}", field="candidate",
                             expected=f"★1..★{len(chosen)}")
        return int(chosen[rank - 1])
    m = re.match(r"^(?:候选|candidate)\s*(\d+)(\s|$)", text, flags=re.IGNORECASE)
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class DemandPositions:
    """The demand points' positions on the network, as the plan snapped them (matrix column
    order; the arrays of :class:`carecover.network.snap.Snapped`)."""

    seg: np.ndarray
    frac: np.ndarray
    dist: np.ndarray
    ok: np.ndarray
    on_dropped: np.ndarray
    x: np.ndarray
    y: np.ndarray


@dataclass
class PreparedState:
    """One tier's prepared what-if state (see :mod:`carecover.siting.state`).

    Attributes
    ----------
    tier
        Tier key (file name of the state).
    matrix
        CSR ``(n_existing + n_candidates) × n_demand``: an explicit entry means "within the
        threshold" (``True`` from version-3 files, travel seconds + 1e-9 from older ones).
    n_existing
        Number of existing-facility rows (first rows of ``matrix``).
    weights
        ``{"elderly": ..., "total": ...}`` demand weights over the whole study area (what the
        plan's ``area = "all"`` figures use).
    region_weights
        The same restricted to the tier's siting region (0 outside it): the solver's objective.
    region
        Name of the siting region (``"all"`` when the whole area).
    existing_ok
        Existing facilities that took part in routing (snapped).
    existing_fid, existing_name, existing_lon, existing_lat
        Existing facilities (ids ``#i`` when the state predates these fields).
    cand_lon, cand_lat, cand_node
        Candidate sites (WGS-84) and their network node index (-1 for candidates from a file).
    cand_id
        Candidate ids as in ``sites.csv``'s ``candidate`` column (``node/<osm id>`` or the
        candidates file's id); ``None`` in older states.
    chosen
        Candidate indices chosen by the plan's solver (the "planned" scenario).
    threshold_s, mode
        The tier's threshold (seconds) and travel mode.
    demand_lon, demand_lat, demand_cell_id
        Demand points in column order (``None`` in states without them).
    max_snap_m
        Snap limit of new points (the plan's); ``None`` only for states built in memory.
    network_record, demand_positions
        The plan's network and the demand points on it (``None`` in states without them).
    version
        Format version of the file.
    extra
        Arrays of the file this version does not know.
    summary
        ``summary.json`` of the run (``{}`` when absent).
    path
        The ``.npz`` file.
    """

    tier: str
    matrix: sp.csr_matrix
    n_existing: int
    weights: dict[str, np.ndarray]
    region_weights: dict[str, np.ndarray]
    region: str
    existing_ok: np.ndarray
    existing_fid: np.ndarray
    existing_name: np.ndarray
    existing_lon: np.ndarray | None
    existing_lat: np.ndarray | None
    cand_lon: np.ndarray
    cand_lat: np.ndarray
    cand_node: np.ndarray
    cand_id: np.ndarray | None
    chosen: np.ndarray
    threshold_s: float | None
    mode: str | None
    demand_lon: np.ndarray | None
    demand_lat: np.ndarray | None
    demand_cell_id: np.ndarray | None
    max_snap_m: float | None = None
    network_record: NetworkRecord | None = None
    demand_positions: DemandPositions | None = None
    version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    path: Path | None = None
    _net: Any = None
    _dem_snap: Any = None

    # -- sizes and rows
    @property
    def n_candidates(self) -> int:
        """Number of candidate rows."""
        return int(self.matrix.shape[0] - self.n_existing)

    @property
    def n_demand(self) -> int:
        """Number of demand points (matrix columns)."""
        return int(self.matrix.shape[1])

    def existing_rows(self) -> np.ndarray:
        """Matrix rows of the existing facilities that take part (snapped)."""
        return np.flatnonzero(self.existing_ok).astype(np.int64)

    def candidate_row(self, k: int) -> int:
        """Matrix row of candidate ``k`` (0-based candidate index)."""
        k = int(k)
        if self.n_candidates == 0:
            raise InputError(f"该层级没有候选点（规划未为其选址）/ tier {self.tier} has no candidate sites (the plan did "
                             f"not site it; run `carecover plan --suggest {self.tier}=N`); --add LON,LAT and "
                             "--remove-existing work", field="candidate")
        if not 0 <= k < self.n_candidates:
            raise InputError(f"候选点编号越界 / candidate {k} outside 0..{self.n_candidates - 1}",
                             field="candidate", expected=f"0..{self.n_candidates - 1}")
        return self.n_existing + k

    def planned_rows(self) -> np.ndarray:
        """Existing rows plus the solver's chosen candidates."""
        return np.concatenate([self.existing_rows(), self.n_existing + np.asarray(self.chosen, np.int64)])

    def find_existing(self, key: str | int) -> int:
        """Matrix row of an existing facility given its fid, or its 0-based index among the
        tier's existing facilities."""
        text = str(key).strip()
        hit = np.flatnonzero(self.existing_fid == text)
        if len(hit) == 1:
            return int(hit[0])
        try:
            i = int(text)
        except ValueError:
            i = None
        if i is not None and 0 <= i < self.n_existing:
            return i
        sample = ", ".join(self.existing_fid[:8].tolist()) + (" …" if self.n_existing > 8 else "")
        raise InputError(f"找不到该现有设施 / no existing {self.tier} facility with id or index {text!r}",
                         field="remove-existing",
                         expected=f"a facility id ({sample}) or an index 0..{self.n_existing - 1}")

    def find_candidate(self, key: str | int) -> int:
        """Candidate index from ``K`` (0-based candidate index), the site's name as the meeting
        shows it (``★1``, ``★1 新华大街``, ``候选 12 新华大街``), a candidate id as in sites.csv
        (``node/<osm id>`` or a candidates file's id) or ``node:N`` (network node index)."""
        text = str(key).strip()
        named = _named_candidate(text, self.chosen)
        if named is not None:
            self.candidate_row(named)
            return named
        if self.cand_id is not None and not text.lstrip("-").isdigit():
            hit = np.flatnonzero(self.cand_id == text)
            if len(hit):
                return int(hit[0])
        if text.startswith("node:"):
            try:
                node = int(text[5:])
            except ValueError:
                raise InputError(f"网络节点编号须为整数 / the network node must be a whole number, got {text!r}",
                                 field="candidate", expected="node:N with N a node listed in sites.csv") from None
            hit = np.flatnonzero(self.cand_node == node)
            if len(hit) == 0:
                raise InputError(f"该节点不是候选点 / no candidate at network node {text[5:]}",
                                 field="candidate", expected="a node listed in sites.csv")
            return int(hit[0])
        try:
            k = int(text)
        except ValueError as exc:
            raise InputError(f"候选点编号须为整数 / candidate must be a whole number, got {text!r}",
                             field="candidate", expected=f"0..{self.n_candidates - 1}, a candidate id from sites.csv, or node:N") from exc
        self.candidate_row(k)
        return k

    # -- routing new points
    def share_network(self, other: PreparedState) -> None:
        """Route on ``other``'s network and demand positions (loaded once for both)."""
        self._net, self._dem_snap = other.network(), other.demand_snapped()

    def use_network(self, path: str | Path) -> None:
        """Route on another copy of the plan's OSM file (``--network``); checked against the
        plan's content hash and segment count when the network is loaded."""
        from dataclasses import replace

        p = Path(path).expanduser().resolve()
        if not p.is_file():
            raise InputError(f"找不到路网文件 / no such network file: {p}", file=p, field="network")
        if self.network_record is None:
            raise InputError("this prepared state has no network record; re-run `carecover plan` / "
                             "状态文件过旧，请重新运行 plan", file=self.path)
        self.network_record = replace(self.network_record, file=p)
        self._net = None

    def network(self):
        """The tier's street network: from the network cache the plan wrote (found beside the
        state in a packed or moved folder too), else built from its OSM file."""
        if self._net is not None:
            return self._net
        from carecover.siting.netfind import find_network

        rec = self.network_record
        if rec is None:
            raise InputError("this prepared state has no network record; re-run `carecover plan` "
                             "with this version to route new points / 状态文件过旧，请重新运行 plan",
                             file=self.path)
        net = find_network(rec, self.path.parent.parent if self.path is not None else None)
        if rec.segments is not None and rec.segments != net.n_segments:
            raise InputError("the network no longer matches the plan (file changed?) / 路网与规划结果不一致，"
                             "请重新运行 plan", file=Path(net.source.get("file") or rec.file).resolve())
        self._net = net
        return net

    def _snap_limit(self) -> float:
        if self.max_snap_m is None:
            raise InputError("this prepared state has no snap limit; load it with load_state / 状态缺少吸附距离",
                             file=self.path)
        return float(self.max_snap_m)

    def demand_snapped(self):
        """Demand positions on :meth:`network` (stored by the plan; re-snapped if absent)."""
        if self._dem_snap is not None:
            return self._dem_snap
        from carecover.network.snap import Snapped, snap_lonlat

        pos = self.demand_positions
        if pos is not None:
            snap = Snapped(pos.seg, pos.frac, pos.dist, pos.ok, pos.on_dropped, pos.x, pos.y, self._snap_limit())
        elif self.demand_lon is not None:
            snap = snap_lonlat(self.network(), self.demand_lon, self.demand_lat, self._snap_limit())
        else:
            raise InputError("this prepared state has no demand positions; re-run `carecover plan` / "
                             "状态文件过旧，请重新运行 plan", file=self.path)
        self._dem_snap = snap
        return snap

    def snap_lonlat(self, lon, lat):
        """WGS-84 points moved onto the nearest street segment exactly as the plan does.

        Parameters
        ----------
        lon, lat
            WGS-84 coordinates (scalars or arrays).

        Returns
        -------
        carecover.network.snap.Snapped
            Positions on :meth:`network`; ``ok = False`` beyond the plan's snap limit.
        """
        from carecover.network.snap import snap_lonlat

        # the network's one snapper: brute force for a handful of points, as the plan snaps them
        return snap_lonlat(self.network(), np.atleast_1d(np.asarray(lon, float)),
                           np.atleast_1d(np.asarray(lat, float)), self._snap_limit())

    def route_points(self, lon, lat) -> tuple[sp.csr_matrix, Any]:
        """Coverage rows (``k × n_demand``, seconds + 1e-9) of new sites at WGS-84 ``lon``/``lat``.

        Parameters
        ----------
        lon, lat
            WGS-84 coordinates (scalars or arrays).

        Returns
        -------
        (rows, snapped)
            CSR rows in the state's demand order, and the points' positions (:meth:`snap_lonlat`):
            a point farther from the network gets an empty row and ``ok = False``.
        """
        from carecover.network.engine import reach_matrix

        src = self.snap_lonlat(lon, lat)
        if self.threshold_s is None:
            raise InputError("this prepared state has no threshold; re-run `carecover plan`", file=self.path)
        rows = reach_matrix(self.network(), src, self.demand_snapped(), float(self.threshold_s))
        return rows.tocsr(), src


"""Prepared what-if state of a ``carecover plan`` run, for answering questions in a meeting.

``plan`` (``pipeline._suggest``) writes ``state/<tier>.npz`` for every tier it sites: one sparse
matrix of travel seconds (+1e-9) within the tier's threshold, rows = existing facilities (first
``n_existing``) then candidate sites, columns = demand points; the demand weights; the candidate
positions; the exact solver's choice. :func:`state_fields` adds what is needed to route a *new*
point without re-running the plan: the network file, profile and clip (the network cache then
loads in well under a second), the demand points' positions on that network, and the existing
facilities' ids and names.

:func:`load_state` reads it back as a :class:`PreparedState`; :meth:`PreparedState.route_points`
computes coverage rows for arbitrary WGS-84 points with the same engine as the plan.

This module imports only numpy/scipy at load time so that the meeting scripts answer quickly;
the network stack is imported on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError

#: Version of the extra fields written by :func:`state_fields`.
STATE_VERSION = 2
POPULATIONS = ("elderly", "total")


# ----------------------------------------------------------------------------- writing

@dataclass(frozen=True)
class TierState:
    """What one tier's ``state/<tier>.npz`` holds (the format this module owns).

    Attributes
    ----------
    existing, candidates
        Reach matrices (seconds + 1e-9 within the threshold) of the existing facilities and of
        the candidate sites, each ``rows × demand``.
    weights_elderly, weights_pop
        Demand weights within the tier's siting region (0 outside): the solver's objective.
    existing_ok
        Existing facilities that took part in routing.
    cand_lon, cand_lat, cand_node, cand_id
        Candidate positions (WGS-84), network nodes (-1 from a file) and ids.
    chosen
        Candidate indices chosen by the plan's best solution.
    fields
        The network and demand records of :func:`state_fields`.
    """

    existing: sp.csr_matrix
    candidates: sp.csr_matrix
    weights_elderly: np.ndarray
    weights_pop: np.ndarray
    existing_ok: np.ndarray
    cand_lon: np.ndarray
    cand_lat: np.ndarray
    cand_node: np.ndarray
    cand_id: np.ndarray
    chosen: np.ndarray
    fields: dict[str, np.ndarray]


def write_state(path: str | Path, state: TierState) -> Path:
    """Write a tier's prepared state (compressed ``.npz``, atomically)."""
    from carecover.utils import atomic_write

    M = sp.vstack([state.existing, state.candidates]).tocsr()
    with atomic_write(path, "wb") as fh:
        # float32 seconds and int32 indices: half the bytes to compress, ample for what-ifs
        np.savez_compressed(fh, data=M.data.astype(np.float32), indices=M.indices.astype(np.int32),
                            indptr=M.indptr, shape=M.shape, n_existing=state.existing.shape[0],
                            weights_elderly=state.weights_elderly, weights_pop=state.weights_pop,
                            existing_ok=state.existing_ok, cand_lon=state.cand_lon, cand_lat=state.cand_lat,
                            cand_node=state.cand_node, chosen=np.asarray(state.chosen, dtype=np.int64),
                            cand_id=np.asarray([str(c) for c in state.cand_id], dtype=str), **state.fields)
    return Path(path)


def state_fields(net, sources, demand, dem_snap, threshold_s: float, *, fids=None, names=None,
                 clip=None, network_file: str | Path | None = None) -> dict[str, np.ndarray]:
    """Extra arrays saved beside the matrix in ``state/<tier>.npz`` (called by the pipeline).

    Parameters
    ----------
    net
        The tier's :class:`~carecover.network.streets.StreetNetwork`.
    sources
        Snapped existing facilities of the tier (matrix rows ``0..n_existing-1``).
    demand
        Demand GeoDataFrame (EPSG:4326), in matrix column order.
    dem_snap
        The demand points snapped to ``net`` (matrix column order).
    threshold_s
        The tier's threshold in seconds.
    fids, names
        Facility ids and names of the existing rows.
    clip
        WGS-84 clip polygon the network was built with (``None`` for the whole extract).
    network_file
        The OSM file the network was built from.
    """
    import shapely

    n_ex = len(sources)
    lon_e, lat_e = net.to_wgs84().transform(np.asarray(sources.x, float), np.asarray(sources.y, float))
    geoms = demand.geometry.to_crs(4326).values if len(demand) else []
    xy = shapely.get_coordinates(shapely.centroid(geoms)) if len(demand) else np.zeros((0, 2))
    dem_lon = np.full(len(demand), np.nan)
    dem_lat = np.full(len(demand), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(demand) else np.zeros(0, bool)
    dem_lon[present], dem_lat[present] = xy[:, 0], xy[:, 1]

    def _text(values, default: str) -> np.ndarray:
        if values is None:
            return np.array([f"{default}{i}" for i in range(n_ex)], dtype=str)
        return np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                         for v in values], dtype=str).reshape(-1)

    cache = net.source.get("cache") or ""
    return {
        "state_version": np.int64(STATE_VERSION),
        "threshold_s": np.float64(threshold_s),
        "mode": np.array(str(net.profile.get("name", ""))),
        "existing_fid": _text(fids, "#"),
        "existing_name": _text(names, ""),
        "existing_lon": np.asarray(lon_e, float).reshape(-1),
        "existing_lat": np.asarray(lat_e, float).reshape(-1),
        "demand_cell_id": (demand["cell_id"].to_numpy(np.int64) if "cell_id" in demand
                           else np.arange(len(demand), dtype=np.int64)),
        "demand_lon": dem_lon,
        "demand_elderly": demand["elderly"].fillna(0).to_numpy(float),
        "demand_pop": demand["pop"].fillna(0).to_numpy(float),
        "demand_lat": dem_lat,
        "dem_seg": np.asarray(dem_snap.seg, np.int64),
        "dem_frac": np.asarray(dem_snap.frac, float),
        "dem_dist": np.asarray(dem_snap.dist, float),
        "dem_ok": np.asarray(dem_snap.ok, bool),
        "dem_on_dropped": np.asarray(dem_snap.on_dropped, bool),
        "dem_x": np.asarray(dem_snap.x, float),
        "dem_y": np.asarray(dem_snap.y, float),
        "max_snap_m": np.float64(dem_snap.max_snap_m),
        "net_file": np.array(str(network_file or net.source.get("file", ""))),
        "net_profile": np.array(json.dumps(net.profile, sort_keys=True)),
        "net_clip_wkb": np.array("" if clip is None else shapely.to_wkb(clip, hex=True)),
        "net_cache": np.array(str(cache)),
        "net_sha256": np.array(str(net.source.get("sha256", ""))),
        "net_nodes": np.int64(net.n_nodes),
        "net_segments": np.int64(net.n_segments),
    }


# ----------------------------------------------------------------------------- reading

@dataclass
class PreparedState:
    """One tier's prepared what-if state (see the module docstring).

    Attributes
    ----------
    tier
        Tier key (file name of the state).
    matrix
        CSR ``(n_existing + n_candidates) × n_demand``, travel seconds + 1e-9 within the
        threshold (an explicit entry means "covered").
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
    extra
        Every other array of the file (network file, profile, clip, demand snapping...).
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
    extra: dict[str, Any] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    path: Path | None = None
    _net: Any = None
    _dem_snap: Any = None

    # -- sizes and rows
    @property
    def n_candidates(self) -> int:
        return int(self.matrix.shape[0] - self.n_existing)

    @property
    def n_demand(self) -> int:
        return int(self.matrix.shape[1])

    def existing_rows(self) -> np.ndarray:
        """Matrix rows of the existing facilities that take part (snapped)."""
        return np.flatnonzero(self.existing_ok).astype(np.int64)

    def candidate_row(self, k: int) -> int:
        """Matrix row of candidate ``k`` (0-based candidate index)."""
        k = int(k)
        if not 0 <= k < self.n_candidates:
            raise InputError(f"candidate {k} outside 0..{self.n_candidates - 1} / 候选点编号越界",
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
        raise InputError(f"no existing {self.tier} facility with id or index {text!r} / 找不到该现有设施",
                         field="remove-existing",
                         expected=f"a facility id ({sample}) or an index 0..{self.n_existing - 1}")

    def find_candidate(self, key: str | int) -> int:
        """Candidate index from ``K`` (0-based candidate index), a candidate id as in sites.csv
        (``node/<osm id>`` or a candidates file's id) or ``node:N`` (network node index)."""
        text = str(key).strip()
        if self.cand_id is not None and not text.lstrip("-").isdigit():
            hit = np.flatnonzero(self.cand_id == text)
            if len(hit):
                return int(hit[0])
        if text.startswith("node:"):
            hit = np.flatnonzero(self.cand_node == int(text[5:]))
            if len(hit) == 0:
                raise InputError(f"no candidate at network node {text[5:]} / 该节点不是候选点",
                                 field="candidate", expected="a node listed in sites.csv")
            return int(hit[0])
        try:
            k = int(text)
        except ValueError as exc:
            raise InputError(f"candidate must be a whole number, got {text!r} / 候选点编号须为整数",
                             field="candidate", expected=f"0..{self.n_candidates - 1}, a candidate id from sites.csv, or node:N") from exc
        self.candidate_row(k)
        return k

    # -- coverage
    def covered(self, rows) -> np.ndarray:
        """Demand covered by any of ``rows`` (boolean per demand point)."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(self.n_demand, bool)
        if len(rows):
            sub = self.matrix[rows]
            out[sub.indices[sub.data > 0]] = True
        return out

    def figures(self, covered: np.ndarray, *, region: bool = False) -> dict[str, dict[str, float]]:
        """``{"elderly"|"total": {"covered", "total", "share"}}`` for a coverage mask, over the
        whole area or (``region=True``) over the tier's siting region."""
        out = {}
        for pop in POPULATIONS:
            w = (self.region_weights if region else self.weights)[pop]
            tot = float(w.sum())
            cov = float(w[covered].sum())
            out[pop] = {"covered": cov, "total": tot, "share": cov / tot if tot > 0 else float("nan")}
        return out

    # -- routing new points
    def network(self):
        """The tier's street network, loaded through the network cache (built if absent)."""
        if self._net is not None:
            return self._net
        from carecover.network import load_network

        need = ("net_file", "net_profile")
        if any(k not in self.extra for k in need):
            raise InputError("this prepared state has no network record; re-run `carecover plan` "
                             "with this version to route new points / 状态文件过旧，请重新运行 plan",
                             file=self.path)
        path = Path(str(self.extra["net_file"]))
        if not path.exists():
            raise InputError("the plan's network file is gone / 找不到路网文件", file=path)
        profile = json.loads(str(self.extra["net_profile"]))
        clip_hex = str(self.extra.get("net_clip_wkb", ""))
        clip = None
        if clip_hex:
            import shapely

            clip = shapely.from_wkb(clip_hex)
        cache: bool | Path = True
        cached = str(self.extra.get("net_cache", ""))
        if cached:
            cache = Path(cached).parent.parent  # <cache dir>/networks/<file>.npz
        net = load_network(path, profile, boundary=clip, cache=cache)
        if int(self.extra.get("net_segments", net.n_segments)) != net.n_segments:
            raise InputError("the network no longer matches the plan (file changed?) / 路网与规划结果不一致，"
                             "请重新运行 plan", file=path)
        self._net = net
        return net

    def demand_snapped(self):
        """Demand positions on :meth:`network` (stored by the plan; re-snapped if absent)."""
        if self._dem_snap is not None:
            return self._dem_snap
        from carecover.network.snap import Snapped, snap_lonlat

        e = self.extra
        if "dem_seg" in e:
            snap = Snapped(e["dem_seg"], e["dem_frac"], e["dem_dist"], e["dem_ok"], e["dem_on_dropped"],
                           e["dem_x"], e["dem_y"], float(e["max_snap_m"]))
        elif self.demand_lon is not None:
            snap = snap_lonlat(self.network(), self.demand_lon, self.demand_lat,
                               float(e.get("max_snap_m", 300.0)))
        else:
            raise InputError("this prepared state has no demand positions; re-run `carecover plan` / "
                             "状态文件过旧，请重新运行 plan", file=self.path)
        self._dem_snap = snap
        return snap

    def route_points(self, lon, lat) -> tuple[sp.csr_matrix, Any]:
        """Coverage rows (``k × n_demand``, seconds + 1e-9) of new sites at WGS-84 ``lon``/``lat``.

        Each point is moved onto the nearest street segment exactly as the plan does (snap limit
        of the plan); a point farther from the network gets an empty row and ``ok = False`` in
        the returned :class:`~carecover.network.snap.Snapped`.
        """
        from carecover.network.engine import reach_matrix
        from carecover.network.snap import snap_lonlat

        net = self.network()
        lon = np.atleast_1d(np.asarray(lon, float))
        lat = np.atleast_1d(np.asarray(lat, float))
        # a few points: snapped by brute force unless the network's index already exists
        src = snap_lonlat(net, lon, lat, float(self.extra.get("max_snap_m", 300.0)))
        if self.threshold_s is None:
            raise InputError("this prepared state has no threshold; re-run `carecover plan`", file=self.path)
        rows = reach_matrix(net, src, self.demand_snapped(), float(self.threshold_s))
        return rows.tocsr(), src


def state_files(out_dir: str | Path) -> dict[str, Path]:
    """``{tier: path}`` of the prepared states in a plan's output folder."""
    d = Path(out_dir) / "state"
    return {p.stem: p for p in sorted(d.glob("*.npz"))} if d.is_dir() else {}


def load_summary(out_dir: str | Path) -> dict:
    """``summary.json`` of a plan output folder (``{}`` when absent)."""
    p = Path(out_dir) / "summary.json"
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"summary.json is not valid JSON: {exc}", file=p) from exc


_KNOWN = {"data", "indices", "indptr", "shape", "n_existing", "weights_elderly", "weights_pop",
          "existing_ok", "cand_lon", "cand_lat", "cand_node", "cand_id", "chosen", "threshold_s", "mode",
          "existing_fid", "existing_name", "existing_lon", "existing_lat", "demand_lon", "demand_lat",
          "demand_cell_id", "demand_elderly", "demand_pop"}


def load_state(out_dir: str | Path, tier: str, *, summary: dict | None = None) -> PreparedState:
    """Load ``<out_dir>/state/<tier>.npz`` written by ``carecover plan``.

    Parameters
    ----------
    out_dir
        The plan's output folder.
    tier
        Tier key or alias (``street_centre``, ``街道级``...).
    summary
        ``summary.json`` already read (read from ``out_dir`` otherwise).

    Raises
    ------
    InputError
        When the folder has no state for ``tier`` (the message lists those it has).
    """
    from carecover.tiers import tier_key

    out_dir = Path(out_dir)
    key = tier_key(tier) or str(tier)
    files = state_files(out_dir)
    if key not in files:
        have = ", ".join(files) or "none / 无"
        raise InputError(f"no prepared state for tier '{key}' in {out_dir / 'state'} (run `carecover plan "
                         f"--suggest {key}=N` first) / 没有该层级的选址状态", file=out_dir / "state",
                         field="tier", expected=f"one of: {have}")
    path = files[key]
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
    except Exception as exc:  # zip/format errors of several types
        raise InputError(f"cannot read prepared state: {exc}", file=path) from exc
    shape = tuple(int(v) for v in arr["shape"])
    M = sp.csr_matrix((arr["data"], arr["indices"], arr["indptr"]), shape=shape)
    n_ex = int(arr["n_existing"])

    def opt(name: str):
        return arr.get(name)

    fid = opt("existing_fid")
    if fid is None:
        fid = np.array([f"#{i}" for i in range(n_ex)], dtype=str)
    name = opt("existing_name")
    if name is None:
        name = np.array([""] * n_ex, dtype=str)
    thr = opt("threshold_s")
    if thr is None:  # older states: the tier threshold from summary.json
        summary = load_summary(out_dir) if summary is None else summary
        t = ((summary.get("parameters") or {}).get("tiers") or {}).get(key) or {}
        thr = None if t.get("threshold_min") is None else float(t["threshold_min"]) * 60
    mode = opt("mode")
    summary = load_summary(out_dir) if summary is None else summary
    region_w = {"elderly": np.asarray(arr["weights_elderly"], float),
                "total": np.asarray(arr["weights_pop"], float)}
    full_w = region_w
    if "demand_elderly" in arr and "demand_pop" in arr:
        full_w = {"elderly": np.asarray(arr["demand_elderly"], float),
                  "total": np.asarray(arr["demand_pop"], float)}
    region = str(((summary.get("sites") or {}).get(key) or {}).get("region") or "all")
    return PreparedState(
        tier=key, matrix=M, n_existing=n_ex,
        weights=full_w, region_weights=region_w, region=region,
        existing_ok=np.asarray(arr["existing_ok"], bool), existing_fid=np.asarray(fid, str),
        existing_name=np.asarray(name, str), existing_lon=opt("existing_lon"), existing_lat=opt("existing_lat"),
        cand_lon=arr["cand_lon"], cand_lat=arr["cand_lat"], cand_node=arr["cand_node"],
        cand_id=None if opt("cand_id") is None else np.asarray(opt("cand_id"), str),
        chosen=np.asarray(arr["chosen"], np.int64),
        threshold_s=None if thr is None else float(thr), mode=None if mode is None else str(mode),
        demand_lon=opt("demand_lon"), demand_lat=opt("demand_lat"), demand_cell_id=opt("demand_cell_id"),
        extra={k: (v.item() if v.ndim == 0 else v) for k, v in arr.items() if k not in _KNOWN},
        summary=summary, path=path,
    )


def summary_figure(summary: dict, tier: str, scenario: str = "current", population: str = "elderly",
                   area: str = "all") -> dict | None:
    """The plan's population figure for one tier at the main speed (``None`` if absent)."""
    speed = (summary.get("parameters") or {}).get("speed_mps")
    hits = [f for f in summary.get("figures") or []
            if f.get("kind") == "population" and f.get("tiers") == [tier] and f.get("scenario") == scenario
            and f.get("population") == population and f.get("area") == area
            and (f.get("speed_mps") is None or speed is None or abs(f["speed_mps"] - speed) < 1e-9)]
    return hits[0] if hits else None


def tier_label(key: str) -> tuple[str, str]:
    """(Chinese, English) display names of a tier key."""
    from carecover.tiers import TIERS

    t = TIERS.get(key)
    return (t.name_zh, t.name_en) if t else (key, key)

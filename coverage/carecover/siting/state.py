"""The prepared what-if state file ``state/<tier>.npz``: its format, writing and reading.

This is the one module that knows the file format (field names and versions). ``plan``
(:mod:`carecover.plan.siting`) writes one file per sited tier with :func:`write_state`: one
sparse reach pattern (who reaches whom within the tier's threshold), rows = existing facilities
(first ``n_existing``) then candidate sites, columns = demand points; the demand weights; the
candidate positions; the plan's choice. :func:`state_fields` adds what is needed to route a
*new* point without re-running the plan: the network file, profile and clip (the network cache
then loads in well under a second), the demand points' positions on that network, and the
existing facilities' ids and names.

:func:`load_state` reads a file back as a :class:`~carecover.siting.prepared.PreparedState`,
resolving every field (and the documented fallbacks of older files) so that its queries never
look values up with defaults of their own.

Versions: files without ``state_version`` are version 1 (matrix, weights, candidates and the
choice only); version 2 adds the fields of :func:`state_fields`; version 3 stores the matrix as
its pattern only (``reach_step``/``reach_step_big`` instead of ``data``/``indices``, see
:func:`encode_pattern`): the meeting commands read nothing but which entries exist, and the
float32 seconds made a drive tier's file 158 MB at Hohhot scale (now a few MB); version 4 adds,
for tiers with a capacity rule only, what the E2SFCA decay needs of each entry (``reach_band``, the
band index, or ``reach_seconds`` for a Gaussian decay, see
:func:`carecover.siting.access_whatif.decay_fields`), so that the what-if's places per 1,000 and
load weigh the plan's sites as the plan does. Files of every version are read.

This module imports only numpy/scipy at load time so that the meeting commands answer quickly;
the network stack is imported on first use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.siting._pattern import decode_pattern, encode_pattern
from carecover.siting.netfind import NetworkRecord, relative_paths
from carecover.siting.prepared import DemandPositions, PreparedState

__all__ = [
    "LEGACY_MAX_SNAP_M",
    "POPULATIONS",
    "STATE_VERSION",
    "TierState",
    "load_state",
    "load_summary",
    "prepared",
    "state_arrays",
    "state_fields",
    "state_files",
    "write_state",
]

#: Version written by :func:`write_state` (and the newest :func:`load_state` reads).
STATE_VERSION = 4
#: Version of files without a ``state_version`` field.
LEGACY_VERSION = 1
#: Snap limit (m) of files that do not record ``max_snap_m`` (version 1): the plan's fixed
#: default when they were written. Version 2 files carry the limit of their run.
LEGACY_MAX_SNAP_M = 300.0
#: Keys of ``PreparedState.weights`` (from ``demand_elderly``/``demand_pop``, else
#: ``weights_elderly``/``weights_pop``): elderly (60+) and total population.
POPULATIONS = ("elderly", "total")

#: The reach matrix (CSR parts) and the siting problem: in every version.
CORE_FIELDS = ("indptr", "shape", "n_existing", "weights_elderly", "weights_pop",
               "existing_ok", "cand_lon", "cand_lat", "cand_node", "cand_id", "chosen")
#: The matrix's entries: seconds and column indices (versions 1–2), or the pattern (versions 3–4).
MATRIX_FIELDS = ("data", "indices")
PATTERN_FIELDS = ("reach_step", "reach_step_big")
#: Version 2: the tier's record, existing facilities and demand points (matrix column order).
RECORD_FIELDS = ("state_version", "threshold_s", "mode", "max_snap_m")
FACILITY_FIELDS = ("existing_fid", "existing_name", "existing_lon", "existing_lat")
DEMAND_FIELDS = ("demand_cell_id", "demand_lon", "demand_lat", "demand_elderly", "demand_pop")
#: Version 2: the demand points' positions on the network (:class:`~carecover.network.snap.Snapped`).
SNAP_FIELDS = ("dem_seg", "dem_frac", "dem_dist", "dem_ok", "dem_on_dropped", "dem_x", "dem_y")
#: Version 2: the network the plan routed on.
NETWORK_FIELDS = ("net_file", "net_profile", "net_clip_wkb", "net_cache", "net_sha256", "net_nodes",
                  "net_segments")
#: The network file and cache relative to the output folder (added by :func:`write_state`): a
#: moved or packed folder finds them again (:mod:`carecover.siting.netfind`).
NETWORK_REL_FIELDS = ("net_file_rel", "net_cache_rel")
#: Optional (issue 13): the existing facilities' places and the tier's capacity rule and decay
#: (:func:`carecover.siting.access_whatif.state_capacity_fields`), handed to the what-if's
#: :class:`~carecover.siting.access_whatif.AccessTracker` through ``PreparedState.extra``.
CAPACITY_FIELDS = ("existing_capacity", "capacity_rule", "reach_band", "reach_seconds")
KNOWN_FIELDS = frozenset(CORE_FIELDS + MATRIX_FIELDS + PATTERN_FIELDS + RECORD_FIELDS + FACILITY_FIELDS
                         + DEMAND_FIELDS + SNAP_FIELDS + NETWORK_FIELDS + NETWORK_REL_FIELDS
                         + CAPACITY_FIELDS)


# ----------------------------------------------------------------------------- writing

@dataclass(frozen=True)
class TierState:
    """What one tier's ``state/<tier>.npz`` holds.

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
    chosen_reach
        The seconds + 1e-9 of the chosen candidates' rows (row ``i`` is ``chosen[i]``), when
        ``candidates`` holds only the pattern (a plan keeps no other seconds: the file stores
        none, and only the chosen sites' times are read again); ``None``: read them off
        ``candidates``.
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
    chosen_reach: sp.csr_matrix | None = None


def write_state(path: str | Path, state: TierState) -> Path:
    """Write a tier's prepared state (compressed ``.npz``, atomically).

    Parameters
    ----------
    path
        Target file (``OUT/state/<tier>.npz``).
    state
        What to write.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from carecover.utils import atomic_write

    arrays = {**state_arrays(state), **relative_paths(state.fields, Path(path).parent.parent)}
    with atomic_write(path, "wb") as fh:
        _savez_fast(fh, arrays)
    return Path(path)


def _savez_fast(fh, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` at zlib level 1: the same ``.npz`` for :func:`numpy.load`, written
    about 3× faster (the reach steps are long runs of 1s; level 6 saves ~8 % of the bytes)."""
    import zipfile

    with zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1, allowZip64=True) as z:
        for name, value in arrays.items():
            with z.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(value), allow_pickle=False)


def state_arrays(state: TierState) -> dict[str, np.ndarray]:
    """The arrays :func:`write_state` writes (the reach pattern; the decay's band or seconds of
    each entry only when the tier has a capacity rule)."""
    # the pattern of both matrices stacked (no copy of their seconds)
    parts = [sp.csr_matrix(state.existing), sp.csr_matrix(state.candidates)]
    for m in parts:
        if not m.has_sorted_indices:
            m.sort_indices()
    indptr = np.concatenate([parts[0].indptr.astype(np.int64), parts[1].indptr[1:].astype(np.int64) + parts[0].nnz])
    shape = (parts[0].shape[0] + parts[1].shape[0], parts[1].shape[1])
    # each matrix's rows encoded apart (a row's steps do not depend on the rows before it):
    # the same steps as of the stacked columns, without a copy of every column index
    enc = [encode_pattern(m.indptr, m.indices) for m in parts]
    steps = {k: np.concatenate([e[k] for e in enc]) for k in enc[0]}
    del enc
    if "capacity_rule" in state.fields:  # the E2SFCA weights of each entry (issue 21)
        from carecover.siting.access_whatif import decay_fields

        steps.update(decay_fields(state.fields["capacity_rule"], np.concatenate([m.data for m in parts])))
    # the pattern (versions 3–4): coverage asks who reaches whom, not how long it takes
    return dict(**steps, indptr=indptr, shape=np.asarray(shape), n_existing=state.existing.shape[0],
                weights_elderly=state.weights_elderly, weights_pop=state.weights_pop,
                existing_ok=state.existing_ok, cand_lon=state.cand_lon, cand_lat=state.cand_lat,
                cand_node=state.cand_node, chosen=np.asarray(state.chosen, dtype=np.int64),
                cand_id=np.asarray([str(c) for c in state.cand_id], dtype=str), **state.fields)


def prepared(state: TierState, tier: str, summary: dict, net=None) -> PreparedState:
    """A tier's state held in memory (a computed plan's) as the :class:`PreparedState` that
    :func:`load_state` would read from its file: the same arrays, no file (``net``: the plan's
    network of the tier's mode, so new points are routed without loading it again)."""
    arr = {k: np.asarray(v) for k, v in state_arrays(state).items()}
    return _prepared(arr, tier, summary, None, net)


def _lonlat_of(demand) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 centroids of the demand geometries (NaN where missing or empty)."""
    import shapely

    geoms = demand.geometry.to_crs(4326).values if len(demand) else []
    xy = shapely.get_coordinates(shapely.centroid(geoms)) if len(demand) else np.zeros((0, 2))
    lon = np.full(len(demand), np.nan)
    lat = np.full(len(demand), np.nan)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms)) if len(demand) else np.zeros(0, bool)
    lon[present], lat[present] = xy[:, 0], xy[:, 1]
    return lon, lat


def _text(values, n: int, default: str) -> np.ndarray:
    """Strings of ``values`` (None/NaN → ""), or ``default + index`` when ``values`` is None."""
    if values is None:
        return np.array([f"{default}{i}" for i in range(n)], dtype=str)
    return np.array(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                     for v in values], dtype=str).reshape(-1)


def state_fields(net, sources, demand, dem_snap, threshold_s: float, *, fids=None, names=None,
                 clip=None, network_file: str | Path | None = None) -> dict[str, np.ndarray]:
    """The version-2 arrays saved beside the matrix in ``state/<tier>.npz``.

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

    Returns
    -------
    dict
        ``RECORD_FIELDS``, ``FACILITY_FIELDS``, ``DEMAND_FIELDS``, ``SNAP_FIELDS`` and
        ``NETWORK_FIELDS`` by name.
    """
    import shapely

    n_ex = len(sources)
    lon_e, lat_e = net.to_wgs84().transform(np.asarray(sources.x, float), np.asarray(sources.y, float))
    dem_lon, dem_lat = _lonlat_of(demand)
    cache = net.source.get("cache") or ""
    return {
        "state_version": np.int64(STATE_VERSION),
        "threshold_s": np.float64(threshold_s),
        "mode": np.array(str(net.profile.get("name", ""))),
        "existing_fid": _text(fids, n_ex, "#"),
        "existing_name": _text(names, n_ex, ""),
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

def state_files(out_dir: str | Path) -> dict[str, Path]:
    """``{tier: path}`` of the prepared states in a plan's output folder."""
    d = Path(out_dir) / "state"
    return {p.stem: p for p in sorted(d.glob("*.npz"))} if d.is_dir() else {}


def load_summary(out_dir: str | Path) -> dict:
    """``summary.json`` of a plan output folder (``{}`` when absent)."""
    p = Path(out_dir) / "summary.json"
    if not p.exists():
        return {}
    not_special(p, "summary.json")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise InputError(f"summary.json 不是有效的 JSON / summary.json is not valid JSON: {exc}", file=p) from None
    if not isinstance(data, dict):
        raise InputError(f"summary.json 已损坏 / summary.json is damaged: a JSON {type(data).__name__}, "
                         "not an object", file=p, expected="the summary.json a `carecover plan` run wrote")
    return data


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    not_special(path, "prepared state / 选址状态")
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = {k: z[k] for k in z.files}
    except Exception as exc:  # zip/format errors of several types
        raise InputError(f"cannot read prepared state: {exc}", file=path) from exc
    version = int(arr["state_version"]) if "state_version" in arr else LEGACY_VERSION
    if version > STATE_VERSION:
        raise InputError(f"prepared state version {version} is newer than this carecover reads "
                         f"({STATE_VERSION}); update carecover or re-run `carecover plan` / "
                         "状态文件版本过新", file=path)
    missing = [k for k in CORE_FIELDS if k not in arr and k != "cand_id"]
    if not all(k in arr for k in PATTERN_FIELDS):
        missing += [k for k in MATRIX_FIELDS if k not in arr]
    if missing:
        raise InputError(f"not a prepared state: missing {', '.join(missing)} / 状态文件不完整", file=path)
    return arr


def _matrix(arr: dict[str, np.ndarray], path: Path | None) -> sp.csr_matrix:
    """The reach matrix: seconds (versions 1–2) or ``True`` entries (the pattern of versions 3–4),
    its sparse indices checked (a damaged file is refused naming it, never indexed out of range)."""
    try:
        shape = tuple(int(v) for v in arr["shape"])
        indptr = np.asarray(arr["indptr"])
        if len(shape) != 2 or min(shape) < 0 or indptr.ndim != 1 or len(indptr) != shape[0] + 1:
            raise ValueError("shape and row pointers disagree")
        if len(indptr) and (indptr[0] != 0 or np.any(np.diff(indptr) < 0)):
            raise ValueError("row pointers not increasing from 0")
        if all(k in arr for k in PATTERN_FIELDS):
            if indptr[-1] != len(arr["reach_step"]) or any(
                    k in arr and len(arr[k]) != indptr[-1] for k in ("reach_band", "reach_seconds")):
                raise ValueError("row pointers and entries disagree")
            cols = decode_pattern(indptr, arr["reach_step"], arr["reach_step_big"])
            data = np.ones(len(cols), bool)
        else:
            cols, data = np.asarray(arr["indices"]), arr["data"]
            if indptr[-1] != len(cols) or len(data) != len(cols):
                raise ValueError("row pointers and entries disagree")
        if len(cols) and (cols.min() < 0 or cols.max() >= shape[1]):
            raise ValueError("column index out of range")
    except (ValueError, TypeError, IndexError) as exc:
        raise InputError(f"状态文件已损坏 / the prepared state is damaged ({exc}); re-run `carecover plan`",
                         file=path) from None
    index = np.int32 if shape[1] < 2**31 else np.int64
    return sp.csr_matrix((data, cols.astype(index), indptr), shape=shape)


def _network_record(arr: dict[str, np.ndarray]) -> NetworkRecord | None:
    """The network the plan routed on (``None`` when the file predates the record)."""
    if "net_file" not in arr or "net_profile" not in arr:
        return None

    def opt(name: str):
        return arr[name].item() if name in arr else None

    return NetworkRecord(file=Path(str(arr["net_file"])), profile=json.loads(str(arr["net_profile"])),
                         clip_wkb=opt("net_clip_wkb") or None, cache=opt("net_cache") or None,
                         sha256=opt("net_sha256") or None,
                         segments=None if opt("net_segments") is None else int(opt("net_segments")),
                         file_rel=opt("net_file_rel") or None, cache_rel=opt("net_cache_rel") or None)


def _demand_positions(arr: dict[str, np.ndarray]) -> DemandPositions | None:
    if not all(k in arr for k in SNAP_FIELDS):
        return None
    return DemandPositions(*(arr[k] for k in SNAP_FIELDS))


def _threshold_s(arr: dict[str, np.ndarray], summary: dict, key: str) -> float | None:
    """The tier's threshold in seconds; older files: the tier threshold of summary.json."""
    if "threshold_s" in arr:
        return float(arr["threshold_s"])
    t = ((summary.get("parameters") or {}).get("tiers") or {}).get(key) or {}
    return None if t.get("threshold_min") is None else float(t["threshold_min"]) * 60


def _region(summary: dict, key: str) -> str:
    """The region the tier's sites were placed in (``"all"`` when the whole area, or not stated)."""
    from carecover.summary_file import SummaryFile

    info = SummaryFile.of(summary).sites.get(key)
    return str(info.region or "all") if info is not None else "all"


def _weights(arr: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Weights over the whole study area and over the siting region (the same in old files)."""
    elderly, total = POPULATIONS
    region = {elderly: np.asarray(arr["weights_elderly"], float), total: np.asarray(arr["weights_pop"], float)}
    if "demand_elderly" in arr and "demand_pop" in arr:
        return {elderly: np.asarray(arr["demand_elderly"], float),
                total: np.asarray(arr["demand_pop"], float)}, region
    return region, region


def _existing(arr: dict[str, np.ndarray], n_ex: int) -> dict:
    """Existing facilities' ids (``#i`` in old files), names and positions."""
    fid = arr.get("existing_fid")
    name = arr.get("existing_name")
    return {"existing_ok": np.asarray(arr["existing_ok"], bool),
            "existing_fid": np.asarray(fid if fid is not None else [f"#{i}" for i in range(n_ex)], str),
            "existing_name": np.asarray(name if name is not None else [""] * n_ex, str),
            "existing_lon": arr.get("existing_lon"), "existing_lat": arr.get("existing_lat")}


def _state_path(out_dir: Path, tier: str) -> tuple[str, Path]:
    from carecover.tiers import tier_key

    key = tier_key(tier) or str(tier)
    files = state_files(out_dir)
    if key not in files:
        have = ", ".join(files) or "none / 无"
        raise InputError(f"no prepared state for tier '{key}' in {out_dir / 'state'} (run `carecover plan "
                         f"--suggest {key}=N` first) / 没有该层级的选址状态", file=out_dir / "state",
                         field="tier", expected=f"one of: {have}")
    return key, files[key]


def verify_written(out_dir: Path, path: Path) -> None:
    """Refuse a state file whose content is not what the plan wrote: the output folder's
    manifest (``.carecover-manifest.json``) records each file's SHA-256. Folders without a
    manifest, or a manifest without hashes (older runs), are read as they are.

    Raises
    ------
    InputError
        The file differs from the plan's record (edited or replaced since).
    """
    import hashlib

    manifest = Path(out_dir) / ".carecover-manifest.json"
    not_special(manifest, "the output folder's manifest / 输出清单")
    not_special(path, "prepared state / 选址状态")
    try:
        doc = json.loads(manifest.read_text(encoding="utf-8"))
        expected = doc.get("sha256", {}).get(Path(path).relative_to(out_dir).as_posix())
    except (OSError, ValueError, AttributeError):
        return
    if not isinstance(expected, str):
        return
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    if h.hexdigest() != expected:
        raise InputError("状态文件与 plan 写出的内容不同（已被修改或替换），请重新运行 plan / the prepared state "
                         "is not the file the plan wrote (edited or replaced since); re-run `carecover plan`",
                         file=path, expected="the state/<tier>.npz written by carecover plan (see the folder's "
                         ".carecover-manifest.json)")


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

    Returns
    -------
    PreparedState

    Raises
    ------
    InputError
        When the folder has no state for ``tier`` (the message lists those it has), or the file
        is unreadable, incomplete, newer than this version, or not the file the plan wrote
        (:func:`verify_written`).
    """
    out_dir = Path(out_dir)
    key, path = _state_path(out_dir, tier)
    verify_written(out_dir, path)
    arr = _read_npz(path)
    summary = load_summary(out_dir) if summary is None else summary
    return _prepared(arr, key, summary, path)


def _prepared(arr: dict[str, np.ndarray], key: str, summary: dict, path: Path | None, net=None) -> PreparedState:
    """The :class:`PreparedState` of a state's arrays (read from a file, or held in memory)."""
    M = _matrix(arr, path)
    n_ex = int(arr["n_existing"])
    weights, region_weights = _weights(arr)
    return PreparedState(
        tier=key, matrix=M, n_existing=n_ex, weights=weights, region_weights=region_weights,
        region=_region(summary, key),
        **_existing(arr, n_ex), cand_lon=arr["cand_lon"], cand_lat=arr["cand_lat"], cand_node=arr["cand_node"],
        cand_id=np.asarray(arr["cand_id"], str) if "cand_id" in arr else None,
        chosen=np.asarray(arr["chosen"], np.int64), threshold_s=_threshold_s(arr, summary, key),
        mode=str(arr["mode"]) if "mode" in arr else None, demand_lon=arr.get("demand_lon"),
        demand_lat=arr.get("demand_lat"), demand_cell_id=arr.get("demand_cell_id"),
        max_snap_m=float(arr["max_snap_m"]) if "max_snap_m" in arr else LEGACY_MAX_SNAP_M,
        network_record=_network_record(arr), demand_positions=_demand_positions(arr),
        version=int(arr["state_version"]) if "state_version" in arr else LEGACY_VERSION,
        extra={k: (v.item() if v.ndim == 0 else v) for k, v in arr.items()
               if k not in KNOWN_FIELDS or k in CAPACITY_FIELDS},
        summary=summary, path=path, _net=net,
    )

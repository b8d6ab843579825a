"""What-if states of tiers the plan did not site (meal points, community stations …).

``carecover plan`` writes ``state/<tier>.npz`` only for tiers it sited (``--suggest``). A tier
that only has facilities can still be discussed in the meeting: its facilities (rows of
``facilities.csv`` the plan used, status ``ok``) are snapped and routed on the network of a
sited tier of the same travel mode (the plan routes every tier of a mode on one network, against
the same demand points), within the tier's threshold from ``summary.json``. The result is a
:class:`~carecover.siting.prepared.PreparedState` without candidates; its coverage equals the
plan's current figure for that tier.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from carecover.siting.prepared import PreparedState

__all__ = ["derived_state", "load_any_state", "unsited_tiers"]


def _facilities(out: Path):
    import pandas as pd

    from carecover.inputs.facilities import USABLE

    path = out / "facilities.csv"
    if not path.is_file():
        return None
    fac = pd.read_csv(path, encoding="utf-8-sig", dtype={"fid": str, "name": str, "tier": str, "status": str},
                      keep_default_na=False, na_values={"lon": [""], "lat": [""]})
    return fac[fac["status"].isin(USABLE) & (fac["tier"] != "")]


def unsited_tiers(out: str | Path, sited: list[str], summary: dict) -> dict[str, str]:
    """``{tier: a sited tier of the same mode}`` for every tier with facilities but no state.

    Parameters
    ----------
    out
        The plan's output folder (``facilities.csv``).
    sited
        Tiers with a prepared state.
    summary
        ``summary.json`` (each tier's mode and threshold).
    """
    tiers = ((summary.get("parameters") or {}).get("tiers") or {})
    fac = _facilities(Path(out))
    if fac is None:
        return {}
    by_mode: dict[str, str] = {}
    for key in sited:
        by_mode.setdefault((tiers.get(key) or {}).get("mode"), key)
    out_map = {}
    for key in dict.fromkeys(fac["tier"]):
        mode = (tiers.get(key) or {}).get("mode")
        if key not in sited and mode in by_mode and (tiers.get(key) or {}).get("threshold_min"):
            out_map[key] = by_mode[mode]
    return out_map


def _capacity(summary: dict, key: str, rows) -> dict:
    """The tier's capacity rule and places as a plan's state stores them (``{}`` without a rule)."""
    import json

    acc = ((summary.get("access") or {}).get("tiers") or {}).get(key) or {}
    if not acc.get("capacity") or not acc.get("decay") or "capacity" not in rows:
        return {}
    record = {"rule": acc["capacity"], "text": acc.get("capacity_text", ""), "decay": acc["decay"]}
    places = rows["capacity"].replace("", np.nan).astype(float).to_numpy()
    return {"existing_capacity": places, "capacity_rule": json.dumps(record, ensure_ascii=False, sort_keys=True)}


def derived_state(out: str | Path, key: str, sibling: PreparedState) -> PreparedState:
    """The what-if state of unsited tier ``key``, routed on ``sibling``'s network.

    Parameters
    ----------
    out
        The plan's output folder (``facilities.csv``, ``summary.json``).
    key
        The tier.
    sibling
        A sited tier's state of the same travel mode (network, demand points, weights).

    Returns
    -------
    PreparedState
        Existing facilities only (no candidates); ``path`` is the sibling's (the same folder).
    """
    from carecover.network.engine import reach_matrix

    fac = _facilities(Path(out))
    rows = fac[(fac["tier"] == key) & np.isfinite(fac["lon"].astype(float)) & np.isfinite(fac["lat"].astype(float))]
    lon, lat = rows["lon"].to_numpy(float), rows["lat"].to_numpy(float)
    thr = float(sibling.summary["parameters"]["tiers"][key]["threshold_min"]) * 60
    snap = sibling.snap_lonlat(lon, lat)
    M = reach_matrix(sibling.network(), snap, sibling.demand_snapped(), thr).tocsr()
    empty_f, empty_i = np.zeros(0), np.zeros(0, np.int64)
    st = PreparedState(
        tier=key, matrix=sp.csr_matrix(M, dtype=bool), n_existing=len(rows), weights=sibling.weights,
        region_weights=sibling.weights, region="all", existing_ok=np.asarray(snap.ok, bool),
        existing_fid=rows["fid"].to_numpy(str), existing_name=rows["name"].to_numpy(str), existing_lon=lon,
        existing_lat=lat, cand_lon=empty_f, cand_lat=empty_f, cand_node=empty_i, cand_id=np.zeros(0, str),
        chosen=empty_i, threshold_s=thr, mode=sibling.mode, demand_lon=sibling.demand_lon,
        demand_lat=sibling.demand_lat, demand_cell_id=sibling.demand_cell_id, max_snap_m=sibling.max_snap_m,
        network_record=sibling.network_record, demand_positions=sibling.demand_positions,
        version=sibling.version, summary=sibling.summary, path=sibling.path,
        extra=_capacity(sibling.summary, key, rows))
    st.share_network(sibling)
    return st


def load_any_state(out: str | Path, tier: str) -> PreparedState:
    """The tier's prepared state: its ``state/<tier>.npz``, else (a tier the plan did not site)
    its facilities routed on a sited tier's network of the same mode."""
    from carecover.errors import InputError
    from carecover.siting.state import load_state, load_summary, state_files
    from carecover.tiers import tier_key

    key = tier_key(tier) or str(tier)
    files = state_files(out)
    if key in files or not files:
        return load_state(out, key)
    summary = load_summary(out)
    sibling_key = unsited_tiers(out, list(files), summary).get(key)
    if sibling_key is None:
        return load_state(out, key)  # the clear "no prepared state for tier" message
    sibling = load_state(out, sibling_key, summary=summary)
    try:
        return derived_state(out, key, sibling)
    except KeyError as exc:
        raise InputError(f"summary.json lacks the tier's threshold: {exc}", file=Path(out) / "summary.json") from exc

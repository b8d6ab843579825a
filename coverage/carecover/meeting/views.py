"""What the meeting page is sent: a tier's fixed layers, the scenario's figures, the comparison
table and the handout, and the saved scenarios (``OUT/scenarios/<tier>--<name>.json``).

Every payload is plain JSON built from a :class:`~carecover.meeting.room.TierRoom`; people are
rounded only on the page, so the page shows what ``carecover whatif`` prints.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

from carecover.errors import InputError
from carecover.filelimits import not_special
from carecover.meeting.common import tier_label
from carecover.meeting.room import MAX_DRAWN, Scenario, TierRoom
from carecover.meeting.sites import CRS_LABEL

__all__ = ["compare", "handout", "list_saved", "load_saved", "save_scenario", "static_layers", "view"]

#: Longest scenario name accepted.
MAX_NAME = 60
SCENARIO_DIR = "scenarios"


def _r(v, nd: int = 6):
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def static_layers(t: TierRoom) -> dict:
    """The tier's fixed layers: demand points, existing facilities, candidates, ★ sites."""
    st = t.state
    zh, en = tier_label(st.tier)
    rank = t.namer.rank
    existing = [{"id": i, "name": t.existing_name(i), "lon": _r(st.existing_lon[i]), "lat": _r(st.existing_lat[i]),
                 "ok": bool(st.existing_ok[i])}
                for i in range(st.n_existing) if st.existing_lon is not None and np.isfinite(st.existing_lon[i])]
    cands = [{"id": k, "lon": _r(st.cand_lon[k]), "lat": _r(st.cand_lat[k]), "rank": rank.get(k),
              "name": t.candidate_name(k) if k in rank else f"候选 {k}"} for k in range(st.n_candidates)]
    dem = {"lon": [], "lat": []}
    if st.demand_lon is not None:
        dem = {"lon": [_r(v, 5) for v in st.demand_lon], "lat": [_r(v, 5) for v in st.demand_lat]}
    return {"tier": st.tier, "name_zh": zh, "name_en": en, "threshold_min": (st.threshold_s or 0) / 60,
            "mode": st.mode, "bbox": t.extent, "covered_now": np.flatnonzero(t.base_mask).tolist(), "existing": existing, "candidates": cands, "demand": dem,
            "crs": CRS_LABEL[t.namer.crs], "capacity": t.session.access is not None,
            "standard": t.session.access.standard if t.session.access is not None else None}


def _indices(mask: np.ndarray) -> list[int]:
    return np.flatnonzero(mask)[:MAX_DRAWN].tolist()


def _site_list(t: TierRoom, sc: Scenario) -> list[dict]:
    """The scenario's changes as named sites (register coordinates)."""
    st, out = t.state, []
    for i in sc.existing_off:
        lon = None if st.existing_lon is None else float(st.existing_lon[i])
        lat = None if st.existing_lat is None else float(st.existing_lat[i])
        out.append({"change": "off", "kind": "existing", "id": i, "name": t.existing_name(i),
                    "coords": t.namer.coords(lon, lat), "lon": _r(lon), "lat": _r(lat)})
    rank = t.namer.rank
    for k in sorted(sc.candidates_on, key=lambda k: (rank.get(k, len(rank) + 1), k)):  # ★1, ★2 … first
        lon, lat = float(st.cand_lon[k]), float(st.cand_lat[k])
        out.append({"change": "on", "kind": "candidate", "id": k, "name": t.candidate_name(k),
                    "coords": t.namer.coords(lon, lat), "lon": _r(lon), "lat": _r(lat), "rank": t.namer.rank.get(k)})
    for j, (lon, lat) in enumerate(sc.points):
        p = t.points.get((round(lon, 7), round(lat, 7)))
        street = p.street if p is not None else ""
        out.append({"change": "on", "kind": "point", "id": j, "name": f"新增点 {street}".strip(),
                    "street": street, "coords": t.namer.coords(lon, lat), "lon": _r(lon), "lat": _r(lat),
                    "snap_m": None if p is None else round(p.dist, 1)})
    return out


def _figs(f: dict) -> dict:
    return {k: v for k, v in f.items() if k not in ("mask", "gained", "lost")}


def view(t: TierRoom, version: int) -> dict:
    """The scenario as the panel and the map show it."""
    f = t.figures()
    base = {"covered": t.base_covered, "total": f["total"], "access": t.base_access and
            {k: v for k, v in t.base_access.items()}}
    return {"version": version, "tier": t.state.tier, "now": base, "with": _figs(f),
            "gained": _indices(f["gained"]), "lost": _indices(f["lost"]),
            "scenario": t.scenario.to_dict(), "sites": _site_list(t, t.scenario),
            "can_undo": bool(t.undo), "can_redo": bool(t.redo), "saved": list_saved(t)}


# ----------------------------------------------------------------------------- saved scenarios

def _folder(t: TierRoom) -> Path:
    if t.state.path is None:
        raise InputError("状态文件没有所在目录 / the state has no output folder", field="out")
    return t.state.path.parent.parent / SCENARIO_DIR


def _slug(name: str) -> str:
    name = str(name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise InputError(f"情景名须为 1–{MAX_NAME} 个字符 / a scenario name needs 1–{MAX_NAME} characters",
                         field="name")
    slug = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("_.")
    if not slug:
        raise InputError("情景名须含文字或数字 / a scenario name needs a letter or digit", field="name")
    return slug


def save_scenario(t: TierRoom, name: str) -> Path:
    """Write the current scenario to ``OUT/scenarios/<tier>--<name>.json`` (replacing one of
    that name)."""
    from carecover.utils import atomic_write

    path = _folder(t) / f"{t.state.tier}--{_slug(name)}.json"
    f = _figs(t.figures())
    doc = {"carecover_scenario": 1, "name": str(name).strip(), "tier": t.state.tier, **t.scenario.to_dict(),
           "sites": _site_list(t, t.scenario), "covered": f["covered"], "total": f["total"]}
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, ensure_ascii=False, indent=1, sort_keys=True)
    return path


def list_saved(t: TierRoom) -> list[str]:
    """Names of the tier's saved scenarios (file order)."""
    folder = _folder(t) if t.state.path is not None else None
    if folder is None or not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.glob(f"{t.state.tier}--*.json")):
        if not p.is_file():
            continue  # a pipe or folder under a scenario's name is not a saved scenario
        try:
            out.append(str(json.loads(p.read_text(encoding="utf-8"))["name"]))
        except (ValueError, KeyError, OSError):
            continue
    return out


def load_saved(t: TierRoom, name: str) -> Scenario:
    """The saved scenario ``name`` of this tier."""
    path = _folder(t) / f"{t.state.tier}--{_slug(name)}.json"
    if not path.is_file():
        raise InputError(f"没有该情景 / no saved scenario {name!r}", file=path)
    not_special(path, "saved scenario / 情景文件")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputError(f"情景文件不是有效的 JSON / not valid JSON: {exc}", file=path) from exc
    return Scenario.from_dict(doc)


# ----------------------------------------------------------------------------- comparison, handout

def _named(t: TierRoom) -> list[tuple[str, str, Scenario]]:
    """(key, label, scenario): today, the plan, the working scenario, each saved one."""
    plan = Scenario((), tuple(sorted(int(k) for k in t.state.chosen)), ())
    out = [("current", "现状 / today", Scenario())]
    if len(plan.candidates_on):
        out.append(("plan", f"规划方案 / plan (+{len(plan.candidates_on)} ★)", plan))
    out.append(("working", "当前方案 / working", t.scenario))
    for name in list_saved(t):
        try:
            out.append(("saved", name, load_saved(t, name)))
        except InputError:
            continue
    return out


def _row(t: TierRoom, key: str, label: str, sc: Scenario, bits: bool = False) -> dict:
    f = t.figures(t.rows_of(sc))
    row = {"key": key, "label": label, **_figs(f), "n_on": len(sc.candidates_on) + len(sc.points),
           "n_off": len(sc.existing_off), "scenario": sc.to_dict()}
    if bits:
        row["covered_bits"] = base64.b64encode(np.packbits(f["mask"], bitorder="little").tobytes()).decode()
        row["sites"] = _site_list(t, sc)
    return row


def compare(t: TierRoom) -> list[dict]:
    """One row per scenario (today, the plan, the working one, each saved one)."""
    return [_row(t, *n) for n in _named(t)]


def handout(t: TierRoom) -> dict:
    """One page per scenario: figures, the changed sites (names, register coordinates) and the
    covered demand as bits (for the map picture)."""
    st = t.state
    rows = [_row(t, *n, bits=True) for n in _named(t) if n[0] != "current"]
    existing = [[_r(st.existing_lon[i]), _r(st.existing_lat[i])] for i in st.existing_rows()] \
        if st.existing_lon is not None else []
    return {"pages": rows, "existing": existing, "base_elderly": t.base_covered["elderly"]}

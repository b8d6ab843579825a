"""Stage 4c — the data-quality ledger of a run (:class:`~carecover.analysis.ledger.Ledger`),
computed once from the stages' results, shown on the console, warned about, and refused with
``--strict`` when a line is beyond its threshold."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer

from carecover import notices, settings
from carecover.analysis.ledger import Ledger, LedgerLine
from carecover.errors import InputError
from carecover.inputs.demand import Demand
from carecover.inputs.facilities import USABLE
from carecover.logs import LOGGER
from carecover.network import StreetNetwork
from carecover.params import RunParams
from carecover.plan.area import StudyArea
from carecover.plan.inputs import Facilities
from carecover.plan.travel import Travel
from carecover.tiers import unknown_names_message

#: Street kinds a pedestrian uses off the carriageway.
FOOTWAY_KINDS = frozenset({"footway", "path", "pedestrian", "steps", "living_street", "corridor", "bridleway"})
_MODE = {"walk": "步行 / walk", "drive": "驾车 / drive"}


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%" if np.isfinite(x) else "–"


def thresholds() -> dict[str, float]:
    """Every threshold of the ledger (:mod:`carecover.settings`, ``ledger_*``)."""
    return {k: float(getattr(settings, k)) for k in dir(settings) if k.startswith("ledger_")}


# ----------------------------------------------------------------------------- lines

def unsnapped(demand: Demand, trav: Travel) -> LedgerLine:
    """Residents beyond the snap limit or nearest a dropped network part, per mode and tier."""
    pop = demand.points["pop"].to_numpy(float)
    eld = demand.points["elderly"].fillna(0).to_numpy(float)
    total, total_e = float(pop.sum()), float(eld.sum())
    modes = {}
    for mode, snap in trav.demand_snaps.items():
        un, dr = ~snap.ok, snap.ok & snap.on_dropped
        lost = float(pop[un].sum() + pop[dr].sum())
        modes[mode] = {"unsnapped_pop": float(pop[un].sum()), "dropped_part_pop": float(pop[dr].sum()),
                       "unsnapped_elderly": float(eld[un].sum()), "dropped_part_elderly": float(eld[dr].sum()),
                       "share": lost / total if total > 0 else 0.0,
                       "elderly_share": float(eld[un].sum() + eld[dr].sum()) / total_e if total_e > 0 else 0.0}
    tiers = {k: {"mode": tt.tier.mode, **modes[tt.tier.mode]} for k, tt in trav.tiers.items() if tt.tier.mode in modes}
    limit = settings.ledger_max_unsnapped_share
    shown = sorted({t["mode"] for t in tiers.values()} or {"walk"} & set(modes))
    parts = []
    for mode in shown:
        m = modes[mode]
        # the tiers by the names people read (the keys stay in the data)
        named = [trav.tiers[k].tier for k, t in tiers.items() if t["mode"] == mode]
        names = ("、".join(t.name_zh for t in named) + " / " + ", ".join(t.name_en for t in named)) if named else "–"
        parts.append(f"{_MODE.get(mode, mode)} ({names}): 未吸附 {m['unsnapped_pop']:,.0f} 人、最近为被删除路网碎片 "
                     f"{m['dropped_part_pop']:,.0f} 人，共 {_pct(m['share'])} / {m['unsnapped_pop']:,.0f} unsnapped, "
                     f"{m['dropped_part_pop']:,.0f} nearest a dropped part, {_pct(m['share'])} of {total:,.0f} residents")
    warn = any(modes[m]["share"] > limit for m in shown)
    return LedgerLine("unsnapped", "未计入的居民 / Residents not counted", "; ".join(parts), warn,
                      f"> {_pct(limit)}", {"total_pop": total, "total_elderly": total_e, "modes": modes,
                                           "tiers": tiers})


def network_dropped(nets: Mapping[str, StreetNetwork]) -> LedgerLine:
    """Street length removed as disconnected parts, per mode."""
    modes, parts = {}, []
    for mode, net in nets.items():
        kept = float(net.seg_len.sum()) / 1000.0
        dropped = float((net.dropped or {}).get("length_km", 0.0) or 0.0)
        share = dropped / (kept + dropped) if kept + dropped > 0 else 0.0
        modes[mode] = {"kept_km": kept, "dropped_km": dropped, "share": share,
                       "components": int((net.dropped or {}).get("components", 0) or 0)}
        parts.append(f"{_MODE.get(mode, mode)}: 删除 {dropped:,.1f} km（{_pct(share)}，{modes[mode]['components']} 个碎片）"
                     f" / {dropped:,.1f} km dropped ({_pct(share)}, {modes[mode]['components']} parts)")
    limit = settings.ledger_max_dropped_share
    return LedgerLine("network_dropped", "删除的路网碎片 / Network parts dropped", "; ".join(parts),
                      any(m["share"] > limit for m in modes.values()), f"> {_pct(limit)}", {"modes": modes})


def boundary_covered(study: StudyArea, walk: StreetNetwork) -> LedgerLine:
    """Share of the boundary inside the walking network's extent (the hull of its nodes)."""
    limit = settings.ledger_min_boundary_covered
    if study.boundaries.frame is None:
        return LedgerLine("boundary_covered", "路网覆盖的边界 / Boundary covered by the network",
                          "无边界：研究区即路网范围 / no boundary: the study area is the network's extent",
                          False, f"< {_pct(limit)}", {"share": None})
    to_net = walk.from_wgs84()
    poly = shapely.transform(study.demand_polygon, lambda c: np.column_stack(to_net.transform(c[:, 0], c[:, 1])))
    hull = shapely.convex_hull(shapely.multipoints(np.column_stack([walk.node_x, walk.node_y])))
    area = float(poly.area)
    share = float(shapely.intersection(poly, hull).area) / area if area > 0 else 0.0
    text = (f"路网覆盖边界面积的 {_pct(share)}（边界 {area / 1e6:,.1f} km²）/ the network's extent covers "
            f"{_pct(share)} of the boundary ({area / 1e6:,.1f} km²)")
    if share < limit:
        text += "；其余部分的居民无法到达任何设施 / residents in the rest reach no facility"
    return LedgerLine("boundary_covered", "路网覆盖的边界 / Boundary covered by the network", text, share < limit,
                      f"< {_pct(limit)}", {"share": share, "boundary_km2": area / 1e6})


_METHOD_TEXT = {"raster": "人口栅格 / population raster", "vector": "人口矢量（普查单元或格网）/ population vector",
                "buildings": "总人口按 OSM 建筑面积分配 / a total spread over OSM building floor area"}


def population(demand: Demand) -> LedgerLine:
    """How the residents were placed: the method, the file and the total."""
    src = demand.source
    method = str(src.get("method", ""))
    total = float(demand.points["pop"].sum())
    where = Path(str(src["file"])).name if src.get("file") else ""
    text = (f"{_METHOD_TEXT.get(method, method)}{'：' + where if where else ''}；"
            f"{len(demand.points):,} 个需求点，{total:,.0f} 人 / {len(demand.points):,} demand points, {total:,.0f} residents")
    if src.get("total_unknown"):
        text += "；无总人口栅格：居民即老年人口，总人口数字只计老年人 / no total raster: the residents are the elderly"
    return LedgerLine("population", "人口方法 / Population method", text, False, "",
                      {"method": method, "file": where or None, "points": len(demand.points), "total_pop": total})


_SOURCE_TEXT = {"register": "人口数据的老年人口字段 / the population data's elderly field",
                "raster": "老年人口栅格 / elderly raster", "config": "城市配置 / city config",
                "option": "--elderly-share", "default": "内置默认值（内蒙古七普）/ built-in default (Inner Mongolia, 2020 census)"}


def _share_origin(params: RunParams, per_area: str) -> str:
    if per_area == "district":
        return "config"
    return params.elderly_share_origin


def elderly_share(params: RunParams, demand: Demand) -> LedgerLine:
    """The elderly share used per area and its source (register, raster, config, option, default)."""
    src = demand.source.get("elderly")
    pop = float(demand.points["pop"].sum())
    eld = float(demand.points["elderly"].fillna(0).sum())
    areas: dict[str, dict] = {}
    if isinstance(src, dict) and src.get("method") == "share":
        for name, u in (src.get("used") or {}).items():
            areas[name] = {"share": u.get("share"), "source": _share_origin(params, str(u.get("source"))),
                           "pop": u.get("pop"), "elderly": u.get("elderly")}
    else:
        kind = "raster" if isinstance(src, dict) else "register"
        areas["(all)"] = {"share": eld / pop if pop > 0 else None, "source": kind, "pop": pop, "elderly": eld}
    sources = sorted({a["source"] for a in areas.values()})
    # no county named: the share holds for the whole study area
    whole = {"(unknown)": "全区 / whole area", "(all)": "全区 / whole area"}
    parts = [f"{whole.get(name, name)}: {_pct(float(a['share'] or 0))}（{a['source']}）"
             for name, a in list(areas.items())[:12]]
    more = f" … +{len(areas) - 12}" if len(areas) > 12 else ""
    text = (f"老年人口 {eld:,.0f} / 总人口 {pop:,.0f}（{_pct(eld / pop if pop else float('nan'))}）；"
            + "、".join(parts) + more + " — " + "; ".join(_SOURCE_TEXT.get(s, s) for s in sources)
            + f" / {eld:,.0f} elderly of {pop:,.0f} residents")
    # a line, not a warning: every run without a config would warn (and fail with --strict)
    warn = False
    if "default" in sources:
        text += ("；未配置城市，使用默认比例：请用 --elderly-share、--elderly-raster 或 --config 给出本地数据 / "
                 "no city config: the default share was applied — give --elderly-share, --elderly-raster or --config")
    return LedgerLine("elderly_share", "老年人口比例 / Elderly share", text, warn, "",
                      {"sources": sources, "areas": areas, "total_pop": pop, "total_elderly": eld})


def _covered_share(path: Path, poly_wgs84, walk: StreetNetwork) -> float:
    """Share of ``poly_wgs84`` inside the raster's extent (both in the network's metric CRS)."""
    import rasterio

    with rasterio.open(path) as src:
        bounds, crs = src.bounds, CRS(src.crs)
    box = shapely.segmentize(shapely.box(*bounds), max(bounds.right - bounds.left, bounds.top - bounds.bottom) / 64)
    to_net = Transformer.from_crs(crs, walk.crs, always_xy=True)
    box = shapely.transform(box, lambda c: np.column_stack(to_net.transform(c[:, 0], c[:, 1])))
    wgs_net = walk.from_wgs84()
    poly = shapely.transform(poly_wgs84, lambda c: np.column_stack(wgs_net.transform(c[:, 0], c[:, 1])))
    return float(shapely.intersection(poly, box).area / poly.area) if poly.area > 0 else 0.0


def raster(demand: Demand, study: StudyArea, walk: StreetNetwork) -> LedgerLine | None:
    """The population raster (and elderly rasters): files, bands read and cover of the study area."""
    src = demand.source
    if src.get("method") != "raster":
        return None
    bands = src.get("bands") or [src.get("band", 1)]
    share = _covered_share(Path(src["file"]), study.demand_polygon, walk)
    data: dict[str, Any] = {"file": Path(src["file"]).name, "bands": bands, "band_count": src.get("band_count"),
                            "covered_share": share, "nodata_cells_in_area": src.get("nodata_cells_in_area")}
    text = (f"{data['file']} 波段 / band(s) {', '.join(map(str, bands))}"
            + (f"（共 {data['band_count']} 个 / of {data['band_count']}）" if data["band_count"] else "")
            + f"，覆盖研究区 {_pct(share)} / covers {_pct(share)} of the study area")
    eld = src.get("elderly")
    if isinstance(eld, dict) and eld.get("file"):
        files = eld.get("files") or [{"file": eld["file"], "bands": eld.get("bands") or [eld.get("band")]}]
        data["elderly"] = [{"file": Path(f["file"]).name, "bands": f.get("bands") or [f.get("band")],
                            "covered_share": _covered_share(Path(f["file"]), study.demand_polygon, walk)}
                           for f in files]
        share = min([share, *[f["covered_share"] for f in data["elderly"]]])
        text += "；老年人口 / elderly: " + "; ".join(
            f"{f['file']} 波段 / band(s) {', '.join(map(str, f['bands'] or []))}，覆盖 / covers {_pct(f['covered_share'])}"
            for f in data["elderly"])
        if len(files) > 1 or any(len(f.get("bands") or []) > 1 for f in files):
            text += "（相加 / summed）"
    limit = settings.ledger_min_raster_covered
    return LedgerLine("raster", "人口栅格 / Population raster", text, share < limit, f"< {_pct(limit)}", data)


def _status_counts(rows) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(Counter(rows["status"].astype(str)).items())}


def registers(trav: Travel) -> LedgerLine:
    """Register rows by status, per file."""
    frame = trav.facilities
    files: dict[str, dict] = {}
    for name, rows in frame.groupby(frame["source_file"].astype(str), sort=True):
        st = _status_counts(rows)
        used = int(rows["status"].isin(USABLE).sum())
        files[Path(name).name] = {"rows": int(len(rows)), "used": used, "by_status": st,
                                  "unused_share": 1 - used / len(rows) if len(rows) else 0.0}
    parts = [f"{n}: {f['rows']} 行 / rows, 使用 / used {f['used']}"
             + "".join(f", {s} {c}" for s, c in f["by_status"].items() if s not in USABLE) for n, f in files.items()]
    limit = settings.ledger_max_unused_rows_share
    warn = any(f["unused_share"] > limit for f in files.values())
    return LedgerLine("registers", "名录行的状态 / Register rows by status", "; ".join(parts) or "–", warn,
                      f"> {_pct(limit)} 未使用 / unused", {"files": files})


def tier_names(params: RunParams, trav: Travel) -> LedgerLine | None:
    """Tier names not known, each once, with the closest known names and the config key."""
    frame = trav.facilities
    unknown = frame[frame["status"] == "unknown_tier"]
    if not len(unknown):
        return None
    counts = {str(k): int(v) for k, v in Counter(unknown["tier_raw"].astype(str)).items()}
    vocab = params.config.vocabulary() if params.config is not None else None
    return LedgerLine("tier_names", "未知层级名称 / Unknown tier names", unknown_names_message(counts, vocab), True,
                      "任一 / any", {"names": counts})


_TO = {"streets": "到最近道路的中位距离 / median distance to the nearest street",
       "streets and buildings": "到最近道路或建筑的中位距离 / median distance to the nearest street or building"}


def crs(fac: Facilities) -> LedgerLine | None:
    """Each register's coordinate system and the check's verdict."""
    if not fac.crs_checks:
        return None
    files, parts = {}, []
    for c in fac.crs_checks:
        name = Path(str(c.get("file", ""))).name
        med = c.get("medians") or {}
        files[name] = {k: c.get(k) for k in ("declared", "best", "verdict", "evidence", "baseline_m", "closer",
                                             "farther", "p_value", "n", "reason")} | {"medians": med}
        dist = ", ".join(f"{s} {v:.0f} m" for s, v in med.items() if v is not None and np.isfinite(v))
        parts.append(f"{name}: 声明 / declared {c.get('declared')}, 判定 / verdict {c.get('verdict')}"
                     + (f", 最可能 / likely {c.get('best')}" if c.get("best") != c.get("declared") else "")
                     + (f"（{_TO.get(str(c.get('evidence')), _TO['streets'])}: {dist}）" if dist
                        else f"（{c.get('reason')}）"))
    warn = any(f["verdict"] in ("suspect", "wrong") for f in files.values())
    return LedgerLine("crs", "名录坐标系 / Register coordinate systems", "; ".join(parts), warn,
                      "suspect / wrong", {"files": files})


def streets(nets: Mapping[str, StreetNetwork], params: RunParams | None = None) -> LedgerLine:
    """Street kinds present (by length); a walk network without footways says so; the drive
    speeds used when a tier drives."""
    modes, parts = {}, []
    warn = False
    for mode, net in nets.items():
        kinds = np.asarray(net.seg_highway).astype(str)
        uniq, inv = np.unique(kinds, return_inverse=True)
        km = np.bincount(inv, weights=net.seg_len, minlength=len(uniq)) / 1000.0
        total = float(km.sum())
        by_kind = {str(k): float(v) for k, v in sorted(zip(uniq, km, strict=True), key=lambda kv: -kv[1])}
        foot = sum(v for k, v in by_kind.items() if k in FOOTWAY_KINDS)
        share = foot / total if total > 0 else 0.0
        modes[mode] = {"km_by_kind": by_kind, "footway_share": share}
        top = ", ".join(f"{k} {_pct(v / total)}" for k, v in list(by_kind.items())[:6]) if total else "–"
        parts.append(f"{_MODE.get(mode, mode)}: {top}")
        if mode == "walk" and share < settings.ledger_min_footway_share:
            warn = True
            parts[-1] += (f"；步行路网几乎没有人行道/小路（{_pct(share)}），步行时间按车行道计算 / the walking network has "
                          f"(almost) no footways or paths ({_pct(share)}): walking is routed along roads only")
    if "drive" in nets and params is not None:
        speeds = ", ".join(f"{k} {v:g}" for k, v in params.drive_speeds_kph.items())
        parts.append(f"车速 km/h / drive speeds km/h: {speeds}")
    return LedgerLine("streets", "街道类型 / Street kinds", "; ".join(parts), warn,
                      f"人行道 / footways < {_pct(settings.ledger_min_footway_share)}", {"modes": modes})


# ----------------------------------------------------------------------------- the stage

def compute(params: RunParams, nets: Mapping[str, StreetNetwork], study: StudyArea, fac: Facilities,
            demand: Demand, trav: Travel) -> Ledger:
    """The ledger of a run, from the stages' results.

    Parameters
    ----------
    params
        The run's parameters (elderly share origin, config vocabulary).
    nets
        Networks by mode (``walk`` always).
    study
        The study area.
    fac
        The facility records as read (coordinate-system checks).
    demand
        The demand points and their source.
    trav
        Snapping and the facilities' final statuses.
    """
    walk = nets["walk"]
    lines = [unsnapped(demand, trav), network_dropped(nets), boundary_covered(study, walk),
             population(demand), elderly_share(params, demand), raster(demand, study, walk), registers(trav),
             tier_names(params, trav), crs(fac), streets(nets, params)]
    return Ledger(tuple(line for line in lines if line is not None), MappingProxyType(thresholds()))


def report(params: RunParams, ledger: Ledger) -> None:
    """Show the ledger on the console (a block logged at ``INFO`` through the ``carecover``
    logger, :mod:`carecover.logs`), warn about each line beyond its threshold, and with
    ``--strict`` refuse the run when there is one.

    When the logger does not show ``INFO`` (``--quiet``, or a library caller that configured no
    logging), each warning line is a warning of the run of its own (logged at ``WARNING``);
    otherwise the block shows them and they join the run's notices without a second line.

    Raises
    ------
    InputError
        With ``--strict``, any warning line (exit status 2), naming each.
    """
    warned = ledger.warnings
    if params.strict and warned:
        raise InputError("数据质量警告（--strict）/ data-quality warnings with --strict: "
                         + " | ".join(f"{w.label}: {w.text}" for w in warned), field=warned[0].key)
    found = [notices.Notice(f"ledger_{w.key}", f"{w.label}: {w.text}", field=w.key) for w in warned]
    if any(w.key == "raster" for w in warned):
        # the reader's partial-cover notice says less than the ledger's raster line (elderly
        # rasters included): the run lists the fact once
        notices.drop("raster_partial_cover")
    if not LOGGER.isEnabledFor(logging.INFO):  # no block: each warning on its own line, as every warning is
        for n in found:
            notices.warn(n.code, n.message, field=n.field)
        return
    # the block shows the warnings already: they join the run's notices without a second line
    LOGGER.info(ledger.console())
    notices.insert(found, len(notices.current()))

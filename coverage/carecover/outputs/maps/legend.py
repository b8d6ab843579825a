"""The map's title block (title, the run's parameters, data sources, basemap, notes) and its
legend. Parameters come from ``bundle.params``; sources and the timestamp from the summary."""

from __future__ import annotations

from pathlib import Path

import folium

from carecover.outputs.maps.popups import esc
from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps.base import HtmlBlock, MapContext
from carecover.outputs.maps.style import CHORO_COLORS, GAP_COLOR, SITE_COLOR, band_opacity, tier_color

_BOX_CSS = ("position:fixed;z-index:9999;background:rgba(255,255,255,0.92);padding:8px 10px;"
            "border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;max-width:340px;")


def parameter_rows(ctx: MapContext) -> list[tuple[str, str]]:
    """Title-block rows stating the run's parameters: walking speed, sensitivity speeds and
    each drawn tier's threshold and mode.

    Parameters
    ----------
    ctx
        The map's context (``ctx.params``).

    Returns
    -------
    list of tuple
        ``(label, value HTML)`` pairs.
    """
    lang, p = ctx.lang, ctx.params
    rows = [(tr("步行速度", "Walking speed", lang), f"{p.walk_speed_mps} m/s")]
    if p.sensitivity_speeds_mps:
        rows.append((tr("敏感性", "Sensitivity", lang), ", ".join(f"{v} m/s" for v in p.sensitivity_speeds_mps)))
    thresholds = []
    for key in ctx.tiers:
        t = p.tiers.get(key)
        thr, mode = (t.threshold_min, t.mode) if t is not None else (None, "")
        mode_txt = {"walk": tr("步行", "walk", lang), "drive": tr("车行", "drive", lang)}.get(mode, mode)
        thresholds.append(f"{tier_name(key, lang, both=False)}: {thr} min {mode_txt}")
    if thresholds:
        rows.append((tr("阈值", "Thresholds", lang), "<br>".join(esc(t) for t in thresholds)))
    return rows


def provenance_rows(ctx: MapContext) -> list[tuple[str, str]]:
    """Title-block rows on where the map comes from: input files with their dates, basemap,
    generation time.

    Parameters
    ----------
    ctx
        The map's context (``summary["inputs"]``, ``summary["generated_at"]``).

    Returns
    -------
    list of tuple
        ``(label, value HTML)`` pairs.
    """
    lang, s = ctx.lang, ctx.bundle.summary
    rows: list[tuple[str, str]] = []
    srcs = []
    for inp in s.get("inputs", []) or []:
        if not isinstance(inp, dict):
            continue
        name = Path(str(inp.get("path", ""))).name
        date = inp.get("osm_replication_timestamp") or inp.get("date") or ""
        srcs.append(esc(f"{name} {date}".strip()))
    if srcs:
        rows.append((tr("数据来源", "Data", lang), "<br>".join(srcs)))
    base = {"osm": "OpenStreetMap (WGS-84)", "light": "CartoDB Positron (WGS-84)",
            "gaode": tr("高德地图（GCJ-02，图层已由WGS-84转换）",
                        "Gaode/Amap (GCJ-02; overlays converted from WGS-84)", lang)}[ctx.basemap]
    rows.append((tr("底图", "Basemap", lang), esc(base)))
    if s.get("generated_at"):
        rows.append((tr("生成时间", "Generated", lang), esc(str(s["generated_at"]))))
    return rows


def title_block(ctx: MapContext) -> str:
    """The title block: title, parameters, sources, basemap, time and the layers' notes.

    Parameters
    ----------
    ctx
        The map's context, after every layer was drawn (their notes are listed).

    Returns
    -------
    str
        HTML (``#cc-title``).
    """
    rows = parameter_rows(ctx) + provenance_rows(ctx)
    body = "".join(f"<tr><td style='padding-right:6px;color:#555;vertical-align:top'>{esc(k)}</td>"
                   f"<td>{v}</td></tr>" for k, v in rows)
    note_html = "".join(f"<div style='color:#555;margin-top:3px'>{esc(n)}</div>" for n in ctx.notes)
    return (f"<div id='cc-title' style='{_BOX_CSS}top:10px;left:50px;'>"
            f"<div style='font-weight:bold;font-size:14px;margin-bottom:4px'>"
            f"{esc(ctx.bundle.display_title())}</div>"
            f"<table>{body}</table>{note_html}</div>")


def legend(ctx: MapContext, tiers: list[str], breaks: list[float], bands: list[float], gap_note: str) -> str:
    """The legend: facility tiers, isochrone bands, population classes, gap and site symbols.

    Parameters
    ----------
    ctx
        The map's context.
    tiers
        Tiers with a facility layer.
    breaks
        Population class upper bounds.
    bands
        Isochrone bands (minutes).
    gap_note
        Note under the gap symbol ("" for none).

    Returns
    -------
    str
        HTML (``#cc-legend``).
    """
    lang = ctx.lang
    parts = [f"<div style='font-weight:bold'>{esc(tr('图例', 'Legend', lang))}</div>"]
    for key in tiers:
        parts.append(f"<div><span style='display:inline-block;width:10px;height:10px;border-radius:50%;"
                     f"background:{tier_color(key)};border:1px solid #333;margin-right:5px'></span>"
                     f"{esc(tier_name(key, lang))}</div>")
    if bands:
        cells = "".join(f"<span style='display:inline-block;padding:0 4px;margin-right:2px;"
                        f"background:rgba(213,94,0,{op:.2f})'>{b:g}</span>"
                        for b, op in zip(bands, band_opacity(bands), strict=True))
        parts.append(f"<div style='margin-top:4px'>{esc(tr('等时圈（分钟）', 'Isochrones (min)', lang))}: {cells}</div>")
    if breaks:
        lo = 0.0
        rows = []
        for c, hi in zip(CHORO_COLORS, breaks, strict=False):
            rows.append(f"<div><span style='display:inline-block;width:14px;height:10px;background:{c};"
                        f"margin-right:5px'></span>{lo:,.4g}–{hi:,.4g}</div>")
            lo = hi
        parts.append(f"<div style='margin-top:4px'>{esc(tr('每格老年人口', 'Elderly per cell', lang))}</div>"
                     + "".join(rows))
    parts.append(f"<div style='margin-top:4px'><span style='color:{GAP_COLOR};font-weight:bold'>①</span> "
                 f"{esc(tr('未覆盖区域（按老年人口排序）', 'Uncovered gap (rank by elderly)', lang))}</div>")
    if gap_note:
        parts.append(f"<div style='color:#555'>{esc(gap_note)}</div>")
    parts.append(f"<div><span style='color:{SITE_COLOR};font-weight:bold'>★</span> "
                 f"{esc(tr('建议新增站点（按序号，含新增覆盖老年人口）', 'Suggested site (rank, elderly gained)', lang))}</div>")
    return f"<div id='cc-legend' style='{_BOX_CSS}bottom:30px;left:10px;'>" + "".join(parts) + "</div>"


def add_title_and_legend(m: folium.Map, ctx: MapContext, tiers: list[str], breaks: list[float],
                         bands: list[float], gap_note: str) -> None:
    """Add the title block and the legend to the map (after every layer: they list the
    layers' notes).

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    tiers, breaks, bands, gap_note
        As :func:`legend` takes them.
    """
    HtmlBlock(title_block(ctx), "title_block").add_to(m)
    HtmlBlock(legend(ctx, tiers, breaks, bands, gap_note), "legend").add_to(m)

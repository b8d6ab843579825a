"""The map's title block: title, the run's parameters, data sources, basemap, notes.
Parameters come from ``bundle.params``; sources and the timestamp from the summary. (The
legend is built from the layers drawn: :func:`carecover.outputs.maps.controls.legend_html`.)"""

from __future__ import annotations

from pathlib import Path

from carecover.outputs.maps.popups import esc
from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps.base import MapContext


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
        from carecover.vocab import generated_text

        rows.append((tr("生成时间", "Generated", lang), esc(generated_text(ctx.bundle))))
    return rows


def title_block(ctx: MapContext) -> str:
    """The title block: title (always shown), then, folded on narrow screens, the parameters,
    sources, basemap, time and the layers' notes.

    Parameters
    ----------
    ctx
        The map's context, after every layer was drawn (their notes are listed).

    Returns
    -------
    str
        HTML (a ``<details>`` element, inside ``#cc-title``).
    """
    rows = parameter_rows(ctx) + provenance_rows(ctx)
    body = "".join(f"<tr><td style='padding-right:6px;color:#555'>{esc(k)}</td><td>{v}</td></tr>"
                   for k, v in rows)
    note_html = "".join(f"<div style='color:#555;margin-top:3px'>{esc(n)}</div>" for n in ctx.notes)
    return (f"<details><summary>{esc(ctx.bundle.display_title())}</summary>"
            f"<table>{body}</table>{note_html}</details>")

"""The report's co-location part (一老一小, ``--candidates-from-osm``, issue 28): the price of the
co-location rule in elderly covered, and what every suggested site stands next to."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from carecover.inputs.osm_public import KINDS
from carecover.outputs.bundle import PlanBundle, tier_name, tr
from carecover.outputs.report.document import Table, num, pct


def _kind(kind: Any, lang: str, one: bool = False) -> str:
    """A kind's name: bilingual as ``tr`` gives it, or in ``lang`` alone when ``one``."""
    k = KINDS.get(str(kind)) if isinstance(kind, str) else None
    if k is None:
        return ""
    return (k.zh if lang == "zh" else k.en) if one else tr(k.zh, k.en, lang)


def _rule(mins: dict, lang: str) -> str:
    """``至少 2 处与学校同址`` / ``at least 2 sites co-located with school`` (in ``lang`` alone)."""
    parts = []
    for key, k in mins.items():
        if lang == "zh":
            parts.append(f"至少 {k} 处与{'任一类公共设施' if key == 'any' else _kind(key, 'zh', True)}同址")
        else:
            what = "any public facility" if key == "any" else _kind(key, "en", True)
            parts.append(f"at least {k} site{'s' if k != 1 else ''} co-located with {what}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def colocation_paragraphs(b: PlanBundle) -> list[str]:
    """One paragraph per planned tier with a co-location record in ``summary.json``: the
    facilities used as candidates and, with a rule, the coverage of the best plan with and
    without it (elderly covered, difference in 百分点)."""
    lang, out = b.lang, []
    for key, rec in sorted(((b.summary or {}).get("sites") or {}).items()):
        c = rec.get("colocation") if isinstance(rec, dict) else None
        if not c:
            continue
        name = tier_name(key, lang, both=False)
        kinds_zh = "、".join(_kind(k, "zh", True) for k in c["kinds"])
        kinds = ", ".join(_kind(k, "en", True) for k in c["kinds"])
        head = tr(f"一老一小同址（{name}）：以 {c['facility_candidates']} 处公共设施（{kinds_zh}）为候选点"
                  f"{'，并与其他候选点合并' if c['mix'] else ''}；距设施 {num(c['within_m'])} 米以内视为同址。",
                  f"Co-location ({name}): {c['facility_candidates']} public facilities ({kinds}) are candidate "
                  f"sites{', with the other candidates' if c['mix'] else ''}; a site within "
                  f"{num(c['within_m'])} m of one is co-located with it.", lang)
        out.append(head)
        w = c.get("with")
        if not w:
            continue
        wo, tot = c["without"], c.get("total_weight") or 0

        def share(v: float, tot: float = tot) -> float:
            return v / tot if tot else math.nan

        pts = c.get("difference_points")
        pts_text = "–" if pts is None else f"{pts:+.2f}"
        out.append(tr(
            f"同址要求（{_rule(c['min_sites'], 'zh')}）的代价：最优方案覆盖老年人口 {num(w['covered_after'])} 人"
            f"（{pct(share(w['covered_after']))}，{w['colocated_sites']} 处同址），不设此要求时为 "
            f"{num(wo['covered_after'])} 人（{pct(share(wo['covered_after']))}，{wo['colocated_sites']} 处同址）；"
            f"相差 {num(c['difference_elderly'])} 人，即 {pts_text} 个百分点。",
            f"What the rule ({_rule(c['min_sites'], 'en')}) costs: the best plan covers {num(w['covered_after'])} "
            f"elderly ({pct(share(w['covered_after']))}, {w['colocated_sites']} sites co-located), "
            f"{num(wo['covered_after'])} without the rule ({pct(share(wo['covered_after']))}, "
            f"{wo['colocated_sites']} co-located): a difference of {num(c['difference_elderly'])} elderly, "
            f"{pts_text} percentage points (百分点).", lang))
        out.append(Table([tr("方案", "Plan", lang), tr("覆盖老年人口", "Elderly covered", lang),
                          tr("覆盖率", "Coverage", lang), tr("同址站点", "Co-located sites", lang),
                          tr("求解状态", "Status", lang)],
                         [[tr("有同址要求", "With the rule", lang), num(w["covered_after"]),
                           pct(share(w["covered_after"])), f"{w['colocated_sites']} / {w['sites']}", w["status"]],
                          [tr("无同址要求", "Without the rule", lang), num(wo["covered_after"]),
                           pct(share(wo["covered_after"])), f"{wo['colocated_sites']} / {wo['sites']}", wo["status"]],
                          [tr("差值", "Difference", lang), num(c["difference_elderly"]),
                           tr(f"{pts_text} 百分点", f"{pts_text} pp", lang), "", ""]]))
    return out


def colocation_table(s: pd.DataFrame, lang: str) -> Table | None:
    """Every suggested site of the plan with its name and what it is co-located with (kind,
    name, distance); ``None`` without ``--candidates-from-osm``."""
    if "colocated_kind" not in s.columns:
        return None
    rows = []
    for _, r in s.iterrows():
        d = r.get("colocated_m")
        method = {"exact": tr("精确", "exact", lang), "greedy": tr("贪心", "greedy", lang)}.get(r["method"], r["method"])
        rows.append([tier_name(r["tier"], lang, both=False), str(method), int(r["rank"]),
                     str(r.get("site_label") or r.get("site_name") or ""), _kind(r.get("colocated_kind"), lang) or "–",
                     str(r.get("colocated_name") or ""), "" if d is None or pd.isna(d) else f"{float(d):.0f}"])
    return Table([tr("层级", "Tier", lang), tr("方法", "Method", lang), tr("序号", "Rank", lang),
                  tr("站点", "Site", lang), tr("同址设施类型", "Co-located with (kind)", lang),
                  tr("同址设施名称", "Name", lang), tr("距离(米)", "Distance (m)", lang)], rows)

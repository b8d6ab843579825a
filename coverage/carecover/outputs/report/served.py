"""The report's paragraph on siting with capacity (``--objective served|both``, issue 13 item 5)."""

from __future__ import annotations

from carecover.outputs.bundle import PlanBundle, tier_name, tr
from carecover.outputs.report.document import num, pct


def served_paragraphs(b: PlanBundle) -> list[str]:
    """One paragraph per planned tier with a served record in ``summary.json``: elderly served
    within capacity before and after the new sites, the places they add, the capacity rule, and
    the exact solution's status and gap (empty when only coverage was asked)."""
    lang, out = b.lang, []
    for key, rec in sorted(((b.summary or {}).get("sites") or {}).items()):
        s = rec.get("served") if isinstance(rec, dict) else None
        if not s:
            continue
        ex, gr = s["exact"], s["greedy"]
        gap = "–" if ex.get("gap") is None else pct(ex["gap"])
        name, name_en = tier_name(key, "zh", both=False), tier_name(key, "en", both=False)
        zh = (f"按服务能力选址（{name}）：现有设施在时限与容量内可服务 {num(s['served_before'])} 名老年人"
              f"（共 {num(s['total_weight'])} 名，{pct(s['served_before'] / s['total_weight'] if s['total_weight'] else None)}），"
              f"新增站点（每处 {num(s['capacity_new_site'])} 个名额）后为 {num(s['served_after'])} 名；"
              f"新站点服务 {num(s['served_by_new_sites'])} 名，占新增名额 {num(s['places_added'])} 个的 "
              f"{pct(s['served_by_new_sites'] / s['places_added'] if s['places_added'] else None)}。"
              f"精确解状态 {ex['status']}，差距 {gap}；贪心解新增服务 {num(gr['objective'])} 名。")
        en = (f"Siting with capacity ({name_en}): the existing facilities can serve {num(s['served_before'])} elderly "
              f"within the threshold and their places (of {num(s['total_weight'])}), "
              f"{num(s['served_after'])} with the new sites ({num(s['capacity_new_site'])} places each); the new "
              f"sites serve {num(s['served_by_new_sites'])} of the {num(s['places_added'])} places they add. "
              f"Exact solution {ex['status']}, gap {gap}; greedy adds {num(gr['objective'])}.")
        out += [tr(zh, en, lang), tr("容量口径：", "Capacity: ", lang) + s["capacity_rule"]]
    return out

"""The report's projected-demand table: elderly coverage today beside the projected year of
``--year`` (the config's ``[projection]``), per tier, stated as a projection."""

from __future__ import annotations

from carecover.outputs.bundle import PlanBundle, tier_name, tr
from carecover.outputs.report.document import Section, Table, pct


def _n(x: float | None) -> str:
    return "—" if x is None else f"{x:,.0f}"


def projection_section(b: PlanBundle) -> Section | None:
    """Today vs the projected year, per tier (whole area); ``None`` without ``--year``.

    Parameters
    ----------
    b
        The results (``summary["projection"]``).

    Returns
    -------
    Section or None
        One row per tier: elderly, covered and share today and in the projected year.
    """
    given = b.summary.get("projection")
    if not given:
        return None
    lang, year = b.lang, given["year"]
    proj = tr(f"{year} 年（预测）", f"{year} (projected)", lang)
    cols = [tr("层级", "Tier", lang), tr("今天：老年人口", "Today: elderly", lang),
            tr("今天：覆盖率", "Today: covered", lang), f"{proj}: " + tr("老年人口", "elderly", lang),
            f"{proj}: " + tr("覆盖人数", "covered", lang), f"{proj}: " + tr("覆盖率", "share", lang),
            f"{proj}: " + tr("未覆盖", "uncovered", lang)]
    figs = [r for r in given.get("figures", []) if r["area"] == "all"]
    planned = {r["tier"]: r for r in figs if r.get("scenario") == "planned"}
    rows = [[tier_name(r["tier"], lang), _n(r["elderly_today"]), pct(r["share_today"]), _n(r["elderly_projected"]),
             _n(r["covered_projected"]), pct(r["share_projected"]), _n(r["uncovered_projected"])]
            + ([pct(planned[r["tier"]]["share_projected"]) if r["tier"] in planned else "—"] if planned else [])
            for r in figs if r.get("scenario", "current") == "current"]
    if planned:
        cols.append(f"{proj}: " + tr("新增站点后覆盖率", "share with the new sites", lang))
    rec = given["record"]
    zh, en = (("今天的老年人口 × 各区县增长系数", "today's elderly × each county's growth factor")
              if rec["kind"] == "growth" else
              ("人口 × 各区县预测老年人口比例", "population × each county's projected elderly share"))
    notes = [tr(f"预测值，不是统计数：{zh}；出行时间与设施为今天的。来源：{rec['source']}。",
                f"A projection, not a count: {en}; travel times and facilities are today's. "
                f"Source: {rec['source']}.", lang)]
    if given.get("not_projected_elderly"):
        notes.append(tr(f"{_n(given['not_projected_elderly'])} 名老年人所在区县无预测值，按今天计。",
                        f"{_n(given['not_projected_elderly'])} elderly are in areas without a projected "
                        "value and are counted as today.", lang))
    tables = [Table(cols, rows, " ".join(notes))]
    gaps = [g for g in given.get("gaps", []) if g["rank_projected"] <= 5]
    if gaps:
        gcols = [tr("层级", "Tier", lang), tr(f"{year} 年（预测）排名", f"Rank {year} (projected)", lang),
                 tr("今天的缺口编号", "Today's gap no.", lang), tr("区县", "County", lang),
                 tr("今天：未覆盖老年人", "Today: uncovered elderly", lang),
                 f"{proj}: " + tr("未覆盖老年人", "uncovered elderly", lang)]
        grows = [[tier_name(g["tier"], lang), g["rank_projected"], g["gap_id"], g["county"] or "—",
                  _n(g["elderly_today"]), _n(g["elderly_projected"])] for g in gaps]
        tables.append(Table(gcols, grows, tr("今天的缺口（同一区域）按预测年份的老年人数重新排序（预测值）。",
                                             "Today's gaps (the same zones) ranked again by the projected "
                                             "elderly (a projection).", lang)))
    return Section(tr(f"今天与 {year} 年（预测）对比", f"Today vs {year} (projected)", lang), tables,
                   key="projection")

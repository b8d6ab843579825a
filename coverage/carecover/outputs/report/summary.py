"""The report's executive summary: per tier, elderly coverage now and after the suggested sites
(each at the tier's own threshold), claims passed and failed, the three largest gaps and what the
suggested sites change.

Every figure comes from ``summary.json``'s figures (the same numbers the detail tables show) and
the bundle's gaps and sites tables; :func:`tier_summaries` is the data, :func:`summary_section`
the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carecover.outputs.bundle import PlanBundle, ranked_gaps, tier_name, tr
from carecover.outputs.report.charts import tier_threshold
from carecover.outputs.report.document import Para, Section, Table, num, pct, points, threshold_text
from carecover.outputs.report.overview import chosen_sites
from carecover.outputs.report.profiles import profile_phrase
from carecover.vocab import gap_label, recommendation, site_labels

if TYPE_CHECKING:
    from carecover.params import RunParams

#: Largest gaps named per tier in the summary.
TOP_GAPS = 3


@dataclass(frozen=True)
class TierSummary:
    """What the summary says about one tier.

    Attributes
    ----------
    tier, mode, threshold_min, speed_mps
        The tier and the rule its figures use (``speed_mps`` for walk tiers).
    now, after
        ``summary.json``'s elderly coverage figure of the whole area, current and planned
        (``None`` when the run has none: no suggested sites).
    sites
        Suggested sites presented (the exact solution's, else the greedy one's).
    passed, failed, other
        Claims about the tier by result (``other``: neither PASS nor FAIL).
    gaps
        The :data:`TOP_GAPS` largest gaps (``gap_id``, ``rank``, ``elderly``, ``pop``, ``county``).
    n_gaps
        All gaps of the tier.
    streets
        Each suggested site's label, ``★1 碑亭巷`` (:func:`carecover.vocab.site_label`).
    """

    tier: str
    mode: str | None
    threshold_min: float
    speed_mps: float | None
    now: dict | None
    after: dict | None
    sites: int = 0
    passed: int = 0
    failed: int = 0
    other: int = 0
    gaps: list[dict] = field(default_factory=list)
    n_gaps: int = 0
    streets: list[str] = field(default_factory=list)


def elderly_figure(figures: list[dict], key: str, scenario: str, speed: float | None) -> dict | None:
    """``summary.json``'s elderly population coverage of one tier over the whole area.

    Parameters
    ----------
    figures
        ``summary["figures"]``.
    key
        Tier key.
    scenario
        ``"current"`` or ``"planned"``.
    speed
        The walking speed of the figure (walk tiers); ``None`` takes the tier's figure at any
        speed (drive tiers state none).

    Returns
    -------
    dict or None
    """
    for f in figures:
        if (isinstance(f, dict) and f.get("kind") == "population" and f.get("tiers") == [key]
                and f.get("population") == "elderly" and f.get("area", "all") == "all"
                and f.get("scenario", "current") == scenario
                and (speed is None or f.get("speed_mps") is None or float(f["speed_mps"]) == float(speed))):
            return f
    return None


def _claim_tiers(c: dict) -> list[str]:
    t = c.get("tiers")
    return [str(x) for x in t] if isinstance(t, (list, tuple)) else [str(t)] if t else []


def tier_summaries(b: PlanBundle, params: RunParams) -> list[TierSummary]:
    """The summary's figures of every tier with results.

    Parameters
    ----------
    b
        The results (summary figures and claims, gaps, sites).
    params
        The run's parameters (each tier's threshold and mode, the walking speed the headline
        figures are stated at).

    Returns
    -------
    list of TierSummary
        In tier order; tiers without a current elderly figure are left out.
    """
    figures = [f for f in b.summary.get("figures", []) or [] if isinstance(f, dict)]
    claims = [c for c in b.summary.get("claims", []) or [] if isinstance(c, dict)]
    gaps = ranked_gaps(b.gaps).sort_values("rank", kind="stable") if b.gaps is not None and len(b.gaps) else None
    out = []
    for key in b.tiers_present():
        thr, mode = tier_threshold(params, key)
        speed = params.walk_speed_mps if mode in ("walk", None) else None
        now = elderly_figure(figures, key, "current", speed)
        if now is None:
            continue
        results = [str(c.get("result", "")) for c in claims if key in _claim_tiers(c)]
        sites = chosen_sites(b, key)
        # gaps without a tier belong to none of them (the summary names them apart)
        g = gaps[gaps["tier"] == key] if gaps is not None and "tier" in gaps else None
        out.append(TierSummary(key, mode, thr, speed if mode == "walk" else None, now,
                               elderly_figure(figures, key, "planned", speed),
                               0 if sites is None else len(sites), results.count("PASS"), results.count("FAIL"),
                               len(results) - results.count("PASS") - results.count("FAIL"), largest_gaps(g),
                               0 if g is None else len(g), _streets(sites)))
    return out


def _streets(sites) -> list[str]:
    """The sites' labels (``★1 碑亭巷``, :func:`carecover.vocab.site_label`) in rank order."""
    if sites is None or not len(sites) or "rank" not in sites:
        return []
    sites = sites.sort_values("rank", kind="stable")
    return [str(v) for v in sites["site_label"]] if "site_label" in sites else site_labels(sites)


def largest_gaps(g, n: int = TOP_GAPS) -> list[dict]:
    """The ``n`` first gaps of a ranked gaps table as the summary names them.

    Parameters
    ----------
    g
        Gaps in rank order (:func:`~carecover.outputs.bundle.ranked_gaps`), or ``None``.
    n
        How many.

    Returns
    -------
    list of dict
        ``gap_id``, ``rank``, ``elderly``, ``pop``, ``county`` ("" when not known).
    """
    if g is None:
        return []
    return [{"gap_id": r["gap_id"], "rank": int(r["rank"]), "elderly": float(r["elderly"]), "pop": float(r["pop"]),
             "county": "" if r.get("county") is None or r.get("county") != r.get("county") else str(r["county"]),
             "place": str(r.get("place") or "") if r.get("place") == r.get("place") else ""}
            for _, r in g.head(n).iterrows()]


def _gap_text(g: dict, lang: str) -> str:
    where = f"（{g['county']}）" if lang == "zh" and g["county"] else f" ({g['county']})" if g["county"] else ""
    return gap_label(g["gap_id"], g["elderly"], g.get("place", ""), lang) + where


def _claims_text(s: TierSummary, lang: str) -> str:
    if not (s.passed or s.failed or s.other):
        return "–"
    other = (f"，{s.other} 未判定" if lang == "zh" else f", {s.other} not decided") if s.other else ""
    return f"{s.passed} 通过 / {s.failed} 未通过{other}" if lang == "zh" else f"{s.passed} passed / {s.failed} failed{other}"


def _sentence(s: TierSummary, lang: str) -> str:
    """One tier's findings in one language."""
    name = tier_name(s.tier, lang, both=False)
    rule = threshold_text(s.threshold_min, s.mode, s.speed_mps, lang) + profile_phrase(s.now, lang)
    now = s.now or {}
    parts = []
    if lang == "zh":
        parts.append(f"{name}（{rule}）：现状覆盖 {num(now.get('covered'))} / {num(now.get('total'))} 名老年人"
                     f"（{pct(now.get('value'))}）。")
        if s.after is not None and s.sites:
            gain = float(s.after["covered"]) - float(now.get("covered") or 0)
            parts.append(recommendation(name, s.streets, s.sites, "zh"))
            parts.append(f"建成后覆盖 {num(s.after.get('covered'))} 人（{pct(s.after.get('value'))}），"
                         f"增加 {num(gain)} 人，{points(float(s.after['value']) - float(now['value']))} 个百分点。")
        if s.n_gaps:
            parts.append(f"共 {num(s.n_gaps)} 个未覆盖缺口，最大的：" + "、".join(_gap_text(g, lang) for g in s.gaps) + "。")
        if s.passed or s.failed or s.other:
            parts.append(f"声明核验：{_claims_text(s, lang)}。")
        return "".join(parts)
    parts.append(f"{name} ({rule}): {num(now.get('covered'))} of {num(now.get('total'))} elderly residents "
                 f"reached now ({pct(now.get('value'))}).")
    if s.after is not None and s.sites:
        gain = float(s.after["covered"]) - float(now.get("covered") or 0)
        parts.append(recommendation(name, s.streets, s.sites, "en"))
        parts.append(f"With the {s.sites} suggested sites: {num(s.after.get('covered'))} ({pct(s.after.get('value'))}), "
                     f"{num(gain)} more, {points(float(s.after['value']) - float(now['value']))} percentage points.")
    if s.n_gaps:
        parts.append(f"{num(s.n_gaps)} uncovered gaps; the largest: " + "; ".join(_gap_text(g, lang) for g in s.gaps) + ".")
    if s.passed or s.failed or s.other:
        parts.append(f"Claims: {_claims_text(s, lang)}.")
    return " ".join(parts)


def summary_table(rows: list[TierSummary], lang: str) -> Table:
    """The summary's table: one row per tier.

    Parameters
    ----------
    rows
        :func:`tier_summaries`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    Table
    """
    cols = [tr("层级", "Tier", lang), tr("阈值", "Threshold", lang), tr("现状覆盖率", "Coverage now", lang),
            tr("建议新增站点", "Suggested sites", lang), tr("新增站点后", "After the sites", lang),
            tr("变化(百分点)", "Change (pp)", lang), tr("声明核验", "Claims", lang),
            tr("最大缺口(老年人口)", "Largest gaps (elderly)", lang)]
    body: list[list[Any]] = []
    for s in rows:
        now = s.now or {}
        after = s.after if s.sites else None
        body.append([tier_name(s.tier, lang, both=False),
                     threshold_text(s.threshold_min, s.mode, s.speed_mps, "zh" if lang == "zh" else "en")
                     + profile_phrase(s.now, "zh" if lang == "zh" else "en"),
                     f"{pct(now.get('value'))} ({num(now.get('covered'))} / {num(now.get('total'))})",
                     num(s.sites) if s.sites else "–",
                     pct(after.get("value")) if after else "–",
                     points(float(after["value"]) - float(now["value"])) if after and now else "–",
                     _claims_text(s, lang),
                     "; ".join(_gap_text(g, lang) for g in s.gaps) or "–"])
    note = tr("覆盖率为老年人口在各层级自身阈值内沿路网可达的比例（全区）；“新增站点后”为建议站点（精确解，无则贪心解）全部建成后。",
              "Coverage: share of the elderly who reach the tier's facilities on the street network within the "
              "tier's own threshold (whole area); 'after' assumes every suggested site (exact solution, else "
              "greedy) is built.", lang)
    return Table(cols, body, note)


def summary_blocks(b: PlanBundle, params: RunParams) -> list[Table | Para | str]:
    """The summary's table and sentences (the overview maps are added by the caller).

    Parameters
    ----------
    b
        The results.
    params
        The run's parameters.

    Returns
    -------
    list
        Paragraphs and the table.
    """
    lang = b.lang
    rows = tier_summaries(b, params)
    blocks: list[Table | Para | str] = []
    if b.summary.get("sample_data"):
        blocks.append("⚠ " + str(b.summary["sample_data"]))
    n_warn = len([w for w in b.summary.get("warnings", []) or [] if isinstance(w, dict)])
    if n_warn:
        blocks.append(tr(f"⚠ 本次运行有 {n_warn} 条警告或发现，见下一节，阅读数字前请先看。",
                         f"⚠ This run has {n_warn} warning{'' if n_warn == 1 else 's'} or finding{'' if n_warn == 1 else 's'} "
                         "(next section): read them before the figures.",
                         lang))
    blocks.append(summary_table(rows, lang) if rows else tr("（无覆盖率数据）", "(no coverage figures)", lang))
    for s in rows:
        blocks.append(_sentence(s, "zh") if lang == "zh" else _sentence(s, "en"))
        if lang == "zh":
            blocks.append(Para(_sentence(s, "en"), muted=True))
    if b.gaps is not None and len(b.gaps) and "tier" not in b.gaps:
        top = largest_gaps(ranked_gaps(b.gaps).sort_values("rank", kind="stable"))
        blocks.append(tr(f"共 {len(b.gaps)} 个未覆盖缺口（未分层级），最大的：" + "、".join(_gap_text(g, "zh") for g in top) + "。",
                         f"{len(b.gaps)} uncovered gaps (no tier given); the largest: "
                         + "; ".join(_gap_text(g, "en") for g in top) + ".", lang))
    claims = [c for c in b.summary.get("claims", []) or [] if isinstance(c, dict)]
    if claims:
        res = [str(c.get("result", "")) for c in claims]
        blocks.append(tr(f"声明核验共 {len(claims)} 项：{res.count('PASS')} 项通过，{res.count('FAIL')} 项未通过（详见“声明核验”）。",
                         f"Claims checked: {len(claims)}; {res.count('PASS')} passed, {res.count('FAIL')} failed "
                         "(see Claim checks).", lang))
    return blocks


def summary_section(b: PlanBundle, params: RunParams, maps: list) -> Section:
    """The executive summary (first in the report).

    Parameters
    ----------
    b
        The results.
    params
        The run's parameters.
    maps
        Overview map images to show with it.

    Returns
    -------
    Section
    """
    return Section(tr("摘要", "Summary", b.lang), [*summary_blocks(b, params), *maps], key="summary")

"""The report's mobility-profile table: coverage for the average older walker, wheelchair
users, in winter and on slopes, side by side (``--profiles``; :mod:`carecover.mobility`)."""

from __future__ import annotations

from pathlib import Path

from carecover.mobility import LABELS, words
from carecover.outputs.bundle import PlanBundle, tier_name, tr
from carecover.outputs.report.document import Section, Table, num, pct
from carecover.outputs.report.plainparams import profile_words


def _label(name: str, lang: str) -> str:
    parts = [LABELS.get(p, (p, p)) for p in name.split("+")]
    return tr("＋".join(z for z, _ in parts), " + ".join(e for _, e in parts), lang)


def profiles_section(b: PlanBundle) -> Section | None:
    """Elderly coverage of every walk tier per mobility profile; ``None`` without profiles.

    Parameters
    ----------
    b
        The results (``summary["profiles"]``).

    Returns
    -------
    Section or None
        One row per profile (step-free as a range: tags optimistic – pessimistic), one
        column per walk tier.
    """
    given = b.summary.get("profiles")
    if not given or not given.get("figures"):
        return None  # no profiles, or no walk tier with facilities
    lang = b.lang
    figs = given.get("figures", [])
    tiers = list(dict.fromkeys(f["tier"] for f in figs))
    by: dict[str, dict[str, dict]] = {}
    for f in figs:
        by.setdefault(f["profile"], {}).setdefault(f["tier"], {})[f.get("tags") or "-"] = f
    rows = []
    for name, per_tier in by.items():
        row = [_label(name, lang)]
        for t in tiers:
            got = per_tier.get(t, {})
            if "optimistic" in got:
                # the two tag assumptions as a range, low to high (dropping ways can move a resident's
                # nearest way, so the pessimistic figure is not always the lower one)
                ends = sorted(v for v in (got.get("pessimistic", {}).get("covered_elderly_share"),
                                          got["optimistic"].get("covered_elderly_share")) if v is not None)
                row.append(" – ".join(dict.fromkeys(pct(v) for v in ends)) if ends else pct(None))
            else:
                row.append(pct(got.get("-", {}).get("covered_elderly_share")))
        rows.append(row)
    cols = [tr("出行能力档案", "Mobility profile", lang)] + [tier_name(t, lang) for t in tiers]
    notes = _notes(given, lang)
    return Section(tr("不同出行能力的覆盖率", "Coverage by mobility profile", lang),
                   [Table(cols, rows, notes)], key="profiles")


def _notes(given: dict, lang: str) -> str:
    """The direction, the step-free range, the winter and slope values with their sources."""
    out = [tr("老年人口覆盖率；时间从居民到设施计算。", "Share of older residents covered; times measured "
              "from the resident to the facility.", lang),
           tr("无障碍一栏为区间（从低到高）：标签缺失的小路分别视为不可通行（悲观）和可通行（乐观）。",
              "Step-free is a range (low to high): untagged footpaths taken as impassable (pessimistic) "
              "and as passable (optimistic).", lang)]
    t = given.get("tags_present")
    if t:
        out.append(tr(f"路网 {t['segments']:,} 段中：台阶 {t['steps']:,}，路缘 {t['kerb']:,}，坡度 {t['incline']:,}，"
                      f"路面 {t['surface']:,}，宽度 {t['width']:,}，轮椅 {t['wheelchair']:,} 段有标签。",
                      f"Of {t['segments']:,} walk segments: {t['steps']:,} steps; tagged kerb {t['kerb']:,}, "
                      f"incline {t['incline']:,}, surface {t['surface']:,}, width {t['width']:,}, "
                      f"wheelchair {t['wheelchair']:,}.", lang))
    for p in given.get("profiles", []):
        if "winter" in p and "冬季" not in "".join(out):
            w = p["winter"]
            out.append(tr(f"冬季：步行速度 × {w['speed_factor']:g}，未铺装路面再 × {w['unpaved_factor']:g}，"
                          f"台阶不可通行（冰雪路面步速降低约 10–20%）。",
                          f"Winter: walking speed × {w['speed_factor']:g}, unpaved ways × a further "
                          f"{w['unpaved_factor']:g}, steps excluded; source: {w['source']}.", lang))
        dem = (p.get("network") or {}).get("dem")
        if dem and "DEM" not in "".join(out):
            out.append(tr(f"坡度：DEM {Path(dem['dem']).name}，Tobler 步行函数（平地为 1，下坡加速上限 "
                          f"{dem['downhill_cap']:g}），{dem['nodata_filled_samples']} 个无值采样点以邻近值填补。",
                          f"Slopes: DEM {Path(dem['dem']).name}, Tobler's hiking function (1 on the flat, downhill "
                          f"gain capped at {dem['downhill_cap']:g}); {dem['nodata_filled_samples']} nodata "
                          "samples filled from neighbours.", lang))
            if dem.get("structure_segments"):
                out.append(tr(f"桥梁与隧道 {dem['structure_segments']:,} 段（{dem['structure_km']:g} 公里）按两端地面高程之间的"
                              "直线坡度计算，不取其上方或下方的地形。",
                              f"{dem['structure_segments']:,} bridge and tunnel segments ({dem['structure_km']:g} km) "
                              "are graded straight between the ground heights at their ends, not from the terrain "
                              "above or below them.", lang))
            elif dem.get("structure_tags_unknown"):
                out.append(tr("路网文件未标明哪些道路是桥梁或隧道：均按地形计算坡度。",
                              "The network file does not say which ways are bridges or tunnels: all are graded "
                              "on the terrain.", lang))
    return " ".join(out)


def profile_suffix(f: dict, lang: str) -> str:
    """``（轮椅/助行器使用者）`` after the tier of a figure measured with a mobility profile; ""
    for today's walk."""
    if not f.get("profile"):
        return ""
    zh, en = words(str(f["profile"]))
    return f"（{zh}）" if lang == "zh" else f" ({en})"


def profile_phrase(f: dict | None, lang: str) -> str:
    """``，轮椅/助行器使用者`` after a tier's rule ("步行 15 分钟") when its figure is measured
    with a mobility profile; "" for today's walk."""
    if not f or not f.get("profile"):
        return ""
    zh, en = words(str(f["profile"]))
    return f"，{zh}" if lang == "zh" else f", {en}"


def measured_paragraphs(b: PlanBundle) -> list[str]:
    """One sentence per tier measured with a mobility profile (config ``[tiers.<key>] profile``)."""
    out = []
    for key, prof in b.run_params().tier_profiles.items():
        if key in b.run_params().tiers:
            zh, en = profile_words(prof.short, "zh"), profile_words(prof.short, "en")
            out.append(tr(f"{tier_name(key, 'zh', both=False)}的覆盖率按「{zh}」计算，时间从居民到设施。",
                          f"{tier_name(key, 'en', both=False)}: coverage measured for {en}, "
                          "times from the resident to the facility.", lang=b.lang))
    return out


def siting_paragraphs(b: PlanBundle) -> list[str]:
    """One sentence per tier whose sites were chosen for a mobility profile (``--site-profile``,
    ``[planned.<key>] profile`` or the tier's own)."""
    out = []
    for key, info in (b.summary.get("sites") or {}).items():
        prof = info.get("profile") if isinstance(info, dict) else None
        if not prof:
            continue
        zh, en = words(prof["name"], prof.get("tags"))
        before, after = num(info.get("covered_before")), num(info.get("covered_after"))
        out.append(tr(f"{tier_name(key, 'zh', both=False)}按「{zh}」选址：候选点能覆盖谁，在该档案的路网上从居民到设施计算；"
                      f"按该档案，现状 {before} 名老年人可达，建成后 {after} 名。其余数字按本层级自身的口径计算。",
                      f"{tier_name(key, 'en', both=False)}: sites chosen for {en}: who a candidate reaches is "
                      f"measured on that profile's network, from the resident to the facility; measured so, {before} "
                      f"older residents are reached now and {after} with the sites. The other figures are measured "
                      "the tier's own way.", lang=b.lang))
    return out

"""The run's parameters and time as the report's reproducibility section states them: in words
(tier names, "步行 15 分钟", objective and CRS labels), never as a JSON blob of codes; the time in
the city's time zone."""

from __future__ import annotations

from typing import Any

from carecover.mobility import words
from carecover.outputs.bundle import tier_name
from carecover.vocab import generated_text, term

__all__ = ["NAMES", "generated_text", "plain_parameters"]

#: Parameter names in words: (Chinese, English).
NAMES: dict[str, tuple[str, str]] = {
    "speed_mps": ("步行速度(米/秒)", "walking speed (m/s)"),
    "sensitivity_speeds_mps": ("敏感性分析速度(米/秒)", "sensitivity speeds (m/s)"),
    "bands_min": ("等时圈分段(分钟)", "isochrone bands (min)"), "threshold_min": ("阈值(分钟)", "threshold (min)"),
    "tiers": ("各层级阈值", "tier thresholds"), "max_snap_m": ("最大接入道路距离(米)", "largest distance to a street (m)"),
    "isochrone_buffer_m": ("等时圈缓冲(米)", "isochrone buffer (m)"), "circle_radius_m": ("直线圆半径(米)", "circle radius (m)"),
    "crs_in": ("名录坐标系", "register coordinates"), "gap_link_m": ("缺口连接距离(米)", "gap linkage (m)"),
    "suggest": ("新增站点数", "new sites"), "regions": ("规划范围", "planned regions"),
    "exact_time_limit_s": ("精确求解时限(秒)", "exact solver limit (s)"),
    "max_candidates": ("候选点上限", "most candidate sites"), "min_spacing_m": ("新站点最小间距(米)", "minimum spacing (m)"),
    "target_share": ("目标覆盖率", "target coverage"), "objective": ("选址目标", "siting objective"),
    "capacity": ("容量规则", "capacity rules"), "access_decay": ("距离衰减", "distance decay"),
    "access_band_weights": ("分段权重", "band weights"),
    "site_profiles": ("选址所按出行能力档案", "siting for mobility profile"),
}


def _tiers_text(tiers: dict, lang: str) -> str:
    parts = []
    for key, t in tiers.items():
        if not isinstance(t, dict):
            continue
        mode = term(t.get("mode"), "mode", lang)
        minutes = f"{float(t.get('threshold_min') or 0):g}"
        parts.append(f"{tier_name(key, lang, both=False)} {mode} {minutes} 分钟" if lang == "zh"
                     else f"{tier_name(key, lang, both=False)}: {minutes} min {mode}")
        if t.get("profile"):  # measured with a mobility profile (config [tiers.<key>] profile)
            parts[-1] += f"（{profile_words(t['profile'], lang)}）" if lang == "zh" else f" ({profile_words(t['profile'], lang)})"
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def profile_words(short: str, lang: str) -> str:
    """A profile as ``summary.json`` states it (``step_free (pessimistic)``) in plain words."""
    name, _, tags = str(short).partition(" (")
    zh, en = words(name, tags.rstrip(")") or None)
    return zh if lang == "zh" else en


def _keyed_text(d: dict, lang: str) -> str:
    """``{tier: value}`` as ``层级名 值``; other dicts as ``键 值``."""
    sep = "；" if lang == "zh" else "; "
    out = []
    for k, v in d.items():
        name = tier_name(k, lang, both=False) if isinstance(k, str) and "_" in k else str(k)
        if isinstance(v, dict):
            v = ", ".join(f"{term(x, 'measure', lang) if isinstance(x, str) else x}: {y}" for x, y in v.items())
        out.append(f"{name} {v}")
    return sep.join(out) or "–"


def plain_parameters(params: dict[str, Any], lang: str) -> dict[str, str]:
    """``summary.json``'s parameters with names and values in words (the report's table)."""
    zh = lang == "zh"
    out: dict[str, str] = {}
    for key, value in params.items():
        name = NAMES.get(key, (key, key))[0 if zh else 1]
        if key == "tiers" and isinstance(value, dict):
            text = _tiers_text(value, lang)
        elif key == "crs_in":
            text = term(value, "crs_in", lang)
        elif key == "site_profiles" and isinstance(value, dict):
            text = _keyed_text({k: profile_words(v, lang) for k, v in value.items()}, lang)
        elif key == "objective":
            text = term(value, "objective", lang)
        elif isinstance(value, dict):
            text = _keyed_text(value, lang)
        elif isinstance(value, (list, tuple)):
            text = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "–"
        elif value is None:
            text = "–"
        else:
            text = f"{value:g}" if isinstance(value, float) else str(value)
        out[name] = text
    return out

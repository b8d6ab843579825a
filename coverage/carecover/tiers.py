"""Facility tiers of the three-tier elderly-care network (三级养老服务网络).

Names follow the source documents (../shared/brief.md). Each tier carries its default travel
mode and threshold (the 15-minute circle's tiers: ``settings.threshold_min``, the one place that
default lives); a city config may override both, and extend the names a register may use
(``[tier_names]``: tier key → list of names, e.g. ``community_centre = ["社区日间照料中心"]``).
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from carecover import settings


@dataclass(frozen=True)
class Tier:
    """One tier of facility.

    Attributes
    ----------
    key
        Stable identifier used in files and figures.
    name_zh, name_en
        Display names.
    level
        1 county (and institutions, 机构养老), 2 street/township, 3 community/village,
        4 meal assistance (own layer).
    mode
        ``"walk"`` or ``"drive"``.
    threshold_min
        Travel-time threshold in minutes.
    unit
        Administrative unit whose share with a facility is the *administrative* coverage
        ("street", "township", "community", "village", "county"), or ``None``.
    aliases
        Other spellings accepted in registers (Chinese and English, case-insensitive).
    """

    key: str
    name_zh: str
    name_en: str
    level: int
    mode: str = "walk"
    threshold_min: float = settings.threshold_min
    unit: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def label(self, lang: str = "zh") -> str:
        """Name in ``lang`` ("zh" or "en")."""
        return self.name_zh if lang == "zh" else self.name_en


TIERS: dict[str, Tier] = {
    t.key: t
    for t in [
        Tier("city_centre", "市级示范养老服务中心", "City demonstration centre", 1, "drive", 30.0,
             None, ("市级示范中心", "示范中心", "city demonstration centre", "city centre")),
        Tier("county_institution", "县级特困供养机构", "County special-care institution", 1,
             "drive", 30.0, "county",
             ("特困供养机构", "县级综合养老服务管理平台", "county institution", "special-care institution")),
        Tier("district_centre", "区级综合养老服务中心", "District comprehensive centre", 1, "drive",
             20.0, "county", ("区级综合中心", "区级养老服务中心", "district centre", "district comprehensive centre")),
        Tier("street_centre", "街道级养老服务中心", "Street-level centre", 2, "walk", settings.threshold_min, "street",
             ("街道养老服务中心", "街道级", "街道综合养老服务中心", "street centre", "street-level centre",
              "sub-district centre", "street", "街道")),
        Tier("township_centre", "乡镇区域养老服务中心", "Township regional centre", 2, "drive", settings.threshold_min,
             "township", ("乡镇级养老服务中心", "乡镇养老服务中心", "区域养老服务中心", "乡镇级",
                          "township centre", "township regional centre", "township", "乡镇")),
        Tier("community_centre", "社区养老服务中心/站", "Community centre/station", 3, "walk", settings.threshold_min,
             "community", ("社区级居家社区养老服务中心", "社区养老服务站", "社区养老服务中心", "社区级",
                           "社区居家养老服务站", "社区日间照料中心", "日间照料中心", "社区站",
                           "community centre", "community station", "day-care centre", "community", "社区")),
        Tier("village_station", "村级养老服务站", "Village station", 3, "walk", settings.threshold_min, "village",
             ("村级养老服务站点", "村养老服务站", "village station", "village")),
        Tier("happiness_home", "农村互助幸福院", "Mutual-aid happiness home", 3, "walk", settings.threshold_min,
             "village", ("互助幸福院", "幸福院", "happiness home", "mutual-aid happiness home")),
        Tier("meal_point", "老年助餐点", "Meal-assistance point", 4, "walk", settings.threshold_min, None,
             ("助餐点", "老年食堂", "长者食堂", "老年餐桌", "meal point", "meal-assistance point", "meal assistance point", "meal", "助餐")),
        # 机构养老: residential institutions; their beds are their places (default capacity rule)
        Tier("institution", "养老机构", "Elderly-care institution", 1, "drive", 30.0, None,
             ("养老院", "敬老院", "福利院", "社会福利院", "老年公寓", "护理院", "老年护理院", "养护院",
              "老年养护院", "养老公寓", "institution", "care home", "nursing home", "elderly-care institution")),
    ]
}

#: The capacity measure of the institutional tier when a config states none: beds.
INSTITUTION_MEASURE = "beds"

_LOOKUP: dict[str, str] = {}
for _t in TIERS.values():
    for _name in (_t.key, _t.name_zh, _t.name_en, *_t.aliases):
        _LOOKUP[_name.strip().lower()] = _t.key
        _LOOKUP[_name.strip().lower().replace("-", " ").replace("_", " ")] = _t.key


def plain_name(name: object) -> str:
    """A name as a person reads it: NFKC-normalised (full-width letters become plain ones) and
    without invisible format characters (zero-width spaces and joiners, bidi controls, soft
    hyphens), stripped."""
    text = unicodedata.normalize("NFKC", str(name))
    return "".join(c for c in text if unicodedata.category(c) != "Cf").strip()


def visible(text: object) -> str:
    r"""``text`` with its invisible characters shown as escapes (``\u200b``, ``\u202e`` …), for
    notes and messages that quote an input value: two values that look identical on screen
    then read differently."""
    out = []
    for c in str(text):
        if unicodedata.category(c) in ("Cf", "Cc", "Zl", "Zp", "Co", "Cn") and c not in "\t":
            out.append(f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        else:
            out.append(c)
    return "".join(out)


def tier_names() -> str:
    """Every accepted tier name, for error messages: ``key (中文名)``."""
    return ", ".join(f"{t.key} ({t.name_zh})" for t in TIERS.values())


def _forms(name: str) -> tuple[str, str]:
    """The two forms a name is looked up by: lower case, and with ``-``/``_`` as spaces (after
    :func:`plain_name`: NFKC, no invisible characters)."""
    text = plain_name(name).lower()
    return text, text.replace("-", " ").replace("_", " ")


def tier_key(name: str, vocabulary: Mapping[str, str] | None = None) -> str | None:
    """Canonical tier key for a name or alias, or ``None`` when it is not a known tier.

    The one place tier names are read: registers, configs (``[tiers.*]``, ``[planned.*]``,
    ``admin_units.*.tier``), claims, ``--suggest`` and the meeting commands all call it, so each
    takes every key, Chinese and English name and alias (case, ``-`` and ``_`` ignored; the
    name NFKC-normalised and stripped of zero-width and other invisible characters first, see
    :func:`plain_name`).

    Parameters
    ----------
    name
        The name as written.
    vocabulary
        A city's extra names (:func:`vocabulary`), looked up after the built-in ones.
    """
    if name is None:
        return None
    for text in _forms(name):
        key = _LOOKUP.get(text) or (vocabulary or {}).get(text)
        if key:
            return key
    return None


def vocabulary(names: Mapping[str, Iterable[str]] | None) -> dict[str, str]:
    """A city's extra tier names (config ``[tier_names]``: tier → names) as a lookup table.

    Parameters
    ----------
    names
        Tier key (or any name of the tier) → the extra names of that tier.

    Returns
    -------
    dict
        Every form of every extra name → tier key (for :func:`tier_key`).

    Raises
    ------
    ValueError
        An unknown tier, or a name that a built-in tier (or another tier of the table) already
        takes; the message says which.
    """
    out: dict[str, str] = {}
    for tier, extra in (names or {}).items():
        key = tier_key(tier)
        if key is None:
            raise ValueError(f"unknown tier '{tier}' / 未知层级" + _closest_text(tier))
        for name in extra:
            for form in _forms(name):
                have = _LOOKUP.get(form) or out.get(form)
                if have is not None and have != key:
                    raise ValueError(f"'{name}' already names tier '{have}' / 该名称已属于层级「{TIERS[have].name_zh}」")
                out[form] = key
    return out


def closest_names(name: str, n: int = 3, vocab: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """The known tier names most like ``name``: ``(name, tier key)`` pairs, closest first."""
    known = {**_LOOKUP, **(vocab or {})}
    text = str(name).strip().lower()
    if not text:
        return []

    def score(c: str) -> tuple[int, float]:  # shared characters first: Chinese names differ in whole characters
        return len(set(c) & set(text)), difflib.SequenceMatcher(None, text, c).ratio()

    close = sorted((c for c in known if " " not in c or " " in text), key=score, reverse=True)
    return [(c, known[c]) for c in close[:n]]


def _closest_text(name: str) -> str:
    close = closest_names(name)
    return f" (closest: {', '.join(f'{c} → {k}' for c, k in close)})" if close else ""


def resolve_tiers(overrides: dict[str, dict] | None = None) -> dict[str, Tier]:
    """Default tiers with per-tier overrides (``mode``, ``threshold_min``) from a config."""
    tiers = dict(TIERS)
    for key, values in (overrides or {}).items():
        if key not in tiers:
            raise KeyError(key)
        tiers[key] = replace(tiers[key], **values)
    return tiers


def tier_for_unit(unit: str) -> str | None:
    """The tier whose administrative coverage counts units of kind ``unit``.

    The street/township-level tier of that unit when there is one (``street`` →
    ``street_centre``, ``township`` → ``township_centre``), else the first tier of that unit
    (``community`` → ``community_centre``, ``village`` → ``village_station``, ``county`` →
    ``county_institution``); ``None`` for an unknown unit.
    """
    for t in TIERS.values():
        if t.unit == unit and t.level == 2:
            return t.key
    return next((t.key for t in TIERS.values() if t.unit == unit), None)


def unknown_names_message(counts: Mapping[str, int], vocab: Mapping[str, str] | None = None) -> str:
    """One message listing each unknown tier name once, with how many rows use it, the closest
    known names and the config key that would map it.

    Parameters
    ----------
    counts
        Unknown tier text → number of register rows.
    vocab
        The city's extra names (they count as known).

    Returns
    -------
    str
        ``中文 / English`` text ("" when ``counts`` is empty).
    """
    if not counts:
        return ""
    parts = []
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        close = closest_names(name, 3, vocab)
        hint = "、".join(f"{c}（{k}）" for c, k in close)
        key = close[0][1] if close else "community_centre"
        parts.append(f"「{name}」×{n}（最接近 / closest: {hint}；映射 / map it: [tier_names] {key} = [\"{name}\"]）")
    return (f"{len(counts)} 个层级名称无法识别，相应设施未使用 / {len(counts)} tier name(s) not known, "
            f"their facilities are not used: " + "; ".join(parts)
            + " — 在城市配置的 [tier_names] 表中加入即可 / add them to the city config's [tier_names] table")

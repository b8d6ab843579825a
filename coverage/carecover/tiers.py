"""Facility tiers of the three-tier elderly-care network (三级养老服务网络).

Names follow the source documents (../shared/brief.md). Each tier carries its default travel
mode and threshold (the 15-minute circle's tiers: ``settings.threshold_min``, the one place that
default lives); a city config may override both.
"""

from __future__ import annotations

import unicodedata
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
        1 county, 2 street/township, 3 community/village, 4 meal assistance (own layer).
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
                           "社区居家养老服务站", "community centre", "community station", "community", "社区")),
        Tier("village_station", "村级养老服务站", "Village station", 3, "walk", settings.threshold_min, "village",
             ("村级养老服务站点", "村养老服务站", "village station", "village")),
        Tier("happiness_home", "农村互助幸福院", "Mutual-aid happiness home", 3, "walk", settings.threshold_min,
             "village", ("互助幸福院", "幸福院", "happiness home", "mutual-aid happiness home")),
        Tier("meal_point", "老年助餐点", "Meal-assistance point", 4, "walk", settings.threshold_min, None,
             ("助餐点", "老年食堂", "长者食堂", "meal point", "meal-assistance point", "meal assistance point", "meal", "助餐")),
    ]
}

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


def tier_key(name: str) -> str | None:
    """Canonical tier key for a name or alias, or ``None`` when it is not a known tier.

    The one place tier names are read: registers, configs (``[tiers.*]``, ``[planned.*]``,
    ``admin_units.*.tier``), claims, ``--suggest`` and the meeting commands all call it, so each
    takes every key, Chinese and English name and alias (case, ``-`` and ``_`` ignored; the
    name NFKC-normalised and stripped of zero-width and other invisible characters first, see
    :func:`plain_name`).
    """
    if name is None:
        return None
    text = plain_name(name).lower()
    return _LOOKUP.get(text) or _LOOKUP.get(text.replace("-", " ").replace("_", " "))


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

"""Layer names (tests and users find layers by these exact strings) and the order of tiers."""

from __future__ import annotations

from carecover.outputs.bundle import PlanBundle, sites_frame, tier_name, tr
from carecover.tiers import TIERS


def layer_names(bundle: PlanBundle) -> dict[str, str]:
    """Names of the overlay layers a map of ``bundle`` shows in its layer control.

    Parameters
    ----------
    bundle
        The results the map draws (only its language and tables are read).

    Returns
    -------
    dict of str to str
        Keys ``streets``, ``boundaries``, ``population``, ``gaps``, ``gaps__<tier>``,
        ``sites_<method>``, ``unused``, ``circle__<tier>``, ``facilities__<tier>``,
        ``isochrones__<tier>``, ``catchments__<tier>`` (demand with ``nearest_fid__<tier>``),
        ``after__<tier>`` and ``site_catchments__<tier>`` (demand with ``after_site__<tier>``).
    """
    lang = bundle.lang
    names = {
        "boundaries": tr("行政区划", "Boundaries", lang),
        "population": tr("老年人口分布", "Elderly population", lang),
        "gaps": tr("未覆盖区域", "Uncovered gaps", lang),
        "unused": tr("未纳入计算的设施", "Facilities not used", lang),
        "streets": tr("街道", "Streets", lang),
    }
    for method in ("greedy", "exact"):
        zh = {"greedy": "贪心", "exact": "精确"}[method]
        names[f"sites_{method}"] = tr(f"建议新增站点（{zh}）", f"Suggested sites ({method})", lang)
    if bundle.gaps is not None and "tier" in bundle.gaps:
        for key in sorted(bundle.gaps["tier"].dropna().unique(), key=tier_order):
            names[f"gaps__{key}"] = names["gaps"] + " · " + tier_name(key, lang, both=False)
    for key in tiers_in(bundle):
        if f"circle_not_reached__{key}" in bundle.demand:
            names[f"circle__{key}"] = tr("直线圆内但路网不可达", "Inside straight-line circle, not reachable",
                                         lang) + " · " + tier_name(key, lang, both=False)
        names[f"facilities__{key}"] = tier_name(key, lang)
        names[f"isochrones__{key}"] = tr("等时圈", "Isochrones", lang) + " · " + tier_name(key, lang, both=False)
        short = tier_name(key, lang, both=False)
        if f"nearest_fid__{key}" in bundle.demand:
            names[f"catchments__{key}"] = tr("最近设施服务范围", "Nearest-facility catchments", lang) + " · " + short
        if f"after_site__{key}" in bundle.demand:
            names[f"after__{key}"] = tr("规划后新增覆盖", "Newly covered after the plan", lang) + " · " + short
            names[f"site_catchments__{key}"] = (tr("建议站点服务范围", "Suggested sites' catchments", lang)
                                                + " · " + short)
    return names


def tiers_in(bundle: PlanBundle) -> list[str]:
    """Tier keys with results, facilities or isochrones in ``bundle``, in :data:`TIERS` order.

    Parameters
    ----------
    bundle
        The results the map draws.

    Returns
    -------
    list of str
        Tier keys (unknown keys last, by name).
    """
    keys = set(bundle.tiers_present())
    if len(bundle.isochrones):
        keys |= set(bundle.isochrones["tier"].dropna().astype(str))
    order = list(TIERS)
    return sorted(keys, key=lambda k: (order.index(k) if k in order else len(order), k))


def tier_order(key: str) -> int:
    """Position of a tier key in :data:`TIERS` (unknown keys after all known ones).

    Parameters
    ----------
    key
        Tier key.

    Returns
    -------
    int
        Sort key.
    """
    keys = list(TIERS)
    return keys.index(key) if key in keys else len(keys)


def focus_tier(bundle: PlanBundle, tier_keys: list[str]) -> str | None:
    """The tier whose layers are shown first: one with suggested sites, else the first.

    Parameters
    ----------
    bundle
        The results the map draws.
    tier_keys
        Tiers that have the layer in question.

    Returns
    -------
    str or None
        The tier key (``None`` when ``tier_keys`` is empty).
    """
    sites = sites_frame(bundle.sites)
    if sites is not None and len(sites) and "tier" in sites:
        for k in sorted(sites["tier"].astype(str).unique(), key=tier_order):
            if k in tier_keys:
                return k
    return tier_keys[0] if tier_keys else None

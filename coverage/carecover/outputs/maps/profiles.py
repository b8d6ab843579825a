"""A layer per mobility profile (``--profiles``): the older residents each group reaches from
one walk tier's facilities, each its own toggleable layer (hidden at start).

The tier is the one :func:`carecover.plan.profiles.map_tier` chose (the first planned walk tier,
else the street-level centres, else the first walk tier); the layers come from the demand
columns ``profile_covered__<tier>__<profile>``.
"""

from __future__ import annotations

import folium

from carecover.mobility import LABELS
from carecover.outputs.bundle import tier_name, tr
from carecover.outputs.maps._points import flagged_points
from carecover.outputs.maps.base import MapContext

#: Most demand points drawn per profile layer (the most elderly first).
MAX_PROFILE_POINTS = 5000
PREFIX = "profile_covered__"
#: Dot colour per first part of the profile (Okabe–Ito, distinct from the tier colours' use).
COLOURS = {"elderly": "#0072b2", "step_free": "#cc79a7", "winter": "#56b4e9", "slope": "#d55e00"}
#: A single profile's layer in plain words (Chinese, English).
REACH = {"elderly": ("一般老年步行者可达", "Reached by the average older walker"),
         "step_free": ("轮椅/助行器使用者可达", "Reached step-free by wheelchair or rollator"),
         "winter": ("冬季冰雪时可达", "Reached in winter ice and snow"),
         "slope": ("计坡度时可达", "Reached on slopes")}
TAGS = {"pessimistic": ("悲观", "pessimistic"), "optimistic": ("乐观", "optimistic")}


def layer_name(column: str) -> tuple[str, str, str, str]:
    """The layer's profile in words, its tier and its colour, from its demand column.

    Parameters
    ----------
    column
        ``profile_covered__<tier>__<profile>[__<tags>]``.

    Returns
    -------
    (str, str, str, str)
        ``"轮椅/助行器使用者可达（悲观）"``, ``"Reached step-free by wheelchair or rollator
        (pessimistic)"``, the tier key and the colour.
    """
    tier, _, rest = column[len(PREFIX):].partition("__")
    name, _, tags = rest.partition("__")
    parts = name.split("_and_")
    if len(parts) == 1 and parts[0] in REACH:
        zh, en = REACH[parts[0]]
    else:
        zh = "＋".join(LABELS.get(p, (p, p))[0] for p in parts) + "可达"
        en = "Reached by " + " + ".join(LABELS.get(p, (p, p))[1] for p in parts)
    if tags in TAGS:
        zh, en = f"{zh}（{TAGS[tags][0]}）", f"{en} ({TAGS[tags][1]})"
    return zh, en, tier, COLOURS.get(parts[0], "#000000")


def add_profiles(m: folium.Map, ctx: MapContext) -> None:
    """Draw a layer per mobility profile: the demand points its walkers reach.

    Parameters
    ----------
    m
        The map.
    ctx
        The map's context.
    """
    demand = ctx.bundle.demand
    for col in [c for c in demand.columns if c.startswith(PREFIX)]:
        zh, en, tier, colour = layer_name(col)
        name = tr(zh, en, ctx.lang) + " · " + tier_name(tier, ctx.lang, both=False)
        reached, note = flagged_points(m, ctx, demand[col], name, {
            "radius": 3, "color": colour, "fill": True, "fillColor": colour, "fillOpacity": 0.8, "weight": 0.5},
            MAX_PROFILE_POINTS)
        elderly = float(reached["elderly"].fillna(0).sum())
        ctx.add_legend(name, f"<span class='cc-dot' style='background:{colour}'></span>",
                       tr(f"{zh}：老年人 {elderly:,.0f} 人（时间从居民到设施）",
                          f"{en}: {elderly:,.0f} older residents (times from the resident to the facility)",
                          ctx.lang), note)

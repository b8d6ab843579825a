"""Colours and sizes shared by the map's layers and its legend.

Palettes are chosen so that no two kinds of layer can be mistaken for each other: tiers have
qualitative colours (facilities, their isochrones and catchments), the population is a
sequential grey-blue ramp (never a tier colour), gaps are magenta outlines without fill,
the "inside the circle but not reachable" points are yellow with a dark ring, and suggested
sites are black badges.
"""

from __future__ import annotations

#: One colour per tier (colour-blind-friendly qualitative palette, Okabe-Ito + extras).
TIER_COLORS: dict[str, str] = {
    "city_centre": "#000000",
    "county_institution": "#7f3b08",
    "district_centre": "#CC79A7",
    "street_centre": "#D55E00",
    "township_centre": "#0072B2",
    "community_centre": "#009E73",
    "village_station": "#56B4E9",
    "happiness_home": "#E69F00",
    "meal_point": "#8E44AD",
}
UNKNOWN_COLOR = "#777777"
#: Marker radius (px) by tier level: bigger for higher tiers.
LEVEL_RADIUS = {1: 9, 2: 7, 3: 5, 4: 4}
#: Elderly-per-cell choropleth: a sequential ramp (light to dark slate), unlike any tier colour.
CHORO_COLORS = ["#eef0f4", "#c9cfdb", "#9aa5ba", "#66758f", "#37435a"]
#: Population fill opacity.
CHORO_OPACITY = 0.5
#: Gap zones: magenta dashed outlines (no fill: an uncovered area must not look covered).
GAP_COLOR = "#c2007a"
#: Residents inside a tier's straight-line circle but not reached on the network.
CIRCLE_COLOR = "#f0e442"
CIRCLE_RING = "#5b4a00"
#: Suggested sites: black badges with white text.
SITE_COLOR = "#111111"
#: Coverage after the plan: residents newly covered by the suggested sites (hatched look).
AFTER_COLOR = "#1b7837"
#: Streets drawn under everything so the map orients without basemap tiles.
STREET_COLOR = "#8c8c8c"
#: Nearest-facility catchments: outline in the tier's colour, fills cycling through these
#: light tints so that neighbouring catchments differ.
CATCHMENT_FILLS = ["#fbb4ae", "#b3cde3", "#ccebc5", "#decbe4", "#fed9a6", "#ffffcc", "#e5d8bd", "#fddaec"]


def tier_color(key: str | None) -> str:
    """Colour of a tier (grey for an unknown key).

    Parameters
    ----------
    key
        Tier key.

    Returns
    -------
    str
        CSS colour.
    """
    return TIER_COLORS.get(key, UNKNOWN_COLOR)


def band_opacity(bands: list[float]) -> list[float]:
    """Fill opacity per isochrone band: the nearest band darkest (bands are drawn on top of
    each other).

    Parameters
    ----------
    bands
        Band limits in minutes, ascending.

    Returns
    -------
    list of float
        One opacity per band.
    """
    n = len(bands)
    return [round(0.35 - 0.2 * i / max(n - 1, 1), 2) for i in range(n)]


# ----------------------------------------------------------------------------- legend symbols
# (HTML built from the constants above only: no input text reaches them)

def dot_swatch(fill: str, ring: str = "#333", opacity: float = 1.0) -> str:
    """A round legend symbol (facilities, points)."""
    return (f"<span class='cc-dot' style='background:{fill};border-color:{ring};"
            f"opacity:{opacity:g}'></span>")


def box_swatch(fill: str, opacity: float, stroke: str = "none", dash: bool = False) -> str:
    """A square legend symbol (areas); ``stroke`` outlines it, dashed when ``dash``."""
    border = f"border:1.5px {'dashed' if dash else 'solid'} {stroke};" if stroke != "none" else ""
    return f"<span class='cc-sw' style='{border}background:{rgba(fill, opacity)}'></span>"


def line_swatch(color: str, width: float = 2, dash: bool = False) -> str:
    """A line legend symbol (streets, boundaries)."""
    return (f"<span class='cc-sw' style='height:0;border-top:{width:g}px "
            f"{'dashed' if dash else 'solid'} {color}'></span>")


def rgba(color: str, opacity: float) -> str:
    """``#rrggbb`` at ``opacity`` as CSS ``rgba()`` (``transparent`` for "none")."""
    if not color.startswith("#") or len(color) != 7:
        return "transparent"
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{opacity:g})"

"""Colours and sizes shared by the map's layers and its legend."""

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
#: Elderly-per-cell choropleth (YlOrRd, 5 classes).
CHORO_COLORS = ["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"]
GAP_COLOR = "#c0392b"
SITE_COLOR = "#1a5fb4"


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

"""QGIS layer styles (QML) for the GeoPackage's layers, so they open styled in QGIS.

QGIS reads a layer's default style from the GeoPackage's ``layer_styles`` table
(:mod:`carecover.outputs.gpkg` writes it). The styles follow the map's colours
(:mod:`carecover.outputs.maps.style`): facilities and isochrones by tier, the elderly per
demand point in five classes drawn as squares of the cell's own size (``sqrt(area_m2)`` metres
on the ground), gaps and gap zones in the gap colour, suggested sites as stars, boundaries as
outlines. Only symbology is stored (``styleCategories="Symbology"``).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from carecover.outputs.maps.style import (
    CHORO_COLORS,
    GAP_COLOR,
    SITE_COLOR,
    UNKNOWN_COLOR,
    tier_color,
)
from carecover.tiers import TIERS

__all__ = ["layer_qml"]

_HEAD = ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
         '<qgis version="3.34.0-Prizren" styleCategories="Symbology">\n')
_TAIL = "  <blendMode>0</blendMode>\n  <featureBlendMode>0</featureBlendMode>\n  <layerOpacity>1</layerOpacity>\n</qgis>\n"


def _rgba(hex_color: str, alpha: int = 255) -> str:
    h = hex_color.lstrip("#")
    return f"{int(h[0:2], 16)},{int(h[2:4], 16)},{int(h[4:6], 16)},{alpha}"


def _options(props: dict[str, str]) -> str:
    return "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in props.items())


def _size_expression(expr: str) -> str:
    """Data-defined marker size (QGIS property collection)."""
    return ('<data_defined_properties><Option type="Map"><Option name="name" type="QString" value=""/>'
            '<Option name="properties" type="Map"><Option name="size" type="Map">'
            '<Option name="active" type="bool" value="true"/>'
            f'<Option name="expression" type="QString" value={quoteattr(expr)}/>'
            '<Option name="type" type="int" value="3"/></Option></Option>'
            '<Option name="type" type="QString" value="collection"/></Option></data_defined_properties>')


def _symbol(name: str, geom: str, color: str, *, alpha: int = 255, outline: str = "#ffffff",
            shape: str = "circle", size: float = 2.6, fill: bool = True, width: float = 0.4,
            dash: bool = False, size_expr: str | None = None) -> str:
    """One symbol of one simple symbol layer: ``geom`` is ``marker``, ``fill`` or ``line``."""
    if geom == "marker":
        cls = "SimpleMarker"
        props = {"color": _rgba(color, alpha), "name": shape, "outline_color": _rgba(outline),
                 "outline_width": str(width), "outline_width_unit": "MM", "size": str(size),
                 "size_unit": "RenderMetersInMapUnits" if size_expr else "MM",
                 "outline_style": "no" if size_expr else "solid"}
    elif geom == "fill":
        cls = "SimpleFill"
        props = {"color": _rgba(color, alpha), "style": "solid" if fill else "no",
                 "outline_color": _rgba(outline), "outline_width": str(width), "outline_width_unit": "MM",
                 "outline_style": "dash" if dash else "solid", "joinstyle": "round"}
    else:
        cls = "SimpleLine"
        props = {"line_color": _rgba(color, alpha), "line_width": str(width), "line_width_unit": "MM",
                 "line_style": "dash" if dash else "solid"}
    dd = _size_expression(size_expr) if size_expr else ""
    return (f'      <symbol type="{geom}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
            f'        <layer class="{cls}" enabled="1" locked="0" pass="0"><Option type="Map">{_options(props)}'
            f'</Option>{dd}</layer>\n      </symbol>\n')


def _single(symbol: str) -> str:
    return (f'  <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">\n'
            f"    <symbols>\n{symbol}    </symbols>\n  </renderer-v2>\n")


def _categorized(attr: str, cats: list[tuple[str, str, str]]) -> str:
    """``cats``: (value, label, symbol XML named by its position)."""
    rows = "".join(f'      <category value={quoteattr(v)} symbol="{i}" label={quoteattr(lab)} render="true"/>\n'
                   for i, (v, lab, _) in enumerate(cats))
    syms = "".join(s for _, _, s in cats)
    return (f'  <renderer-v2 type="categorizedSymbol" attr={quoteattr(attr)} symbollevels="0" '
            f'enableorderby="0" forceraster="0">\n    <categories>\n{rows}    </categories>\n'
            f"    <symbols>\n{syms}    </symbols>\n  </renderer-v2>\n")


def _graduated(attr: str, ranges: list[tuple[float, float, str, str]]) -> str:
    """``ranges``: (lower, upper, label, symbol XML named by its position)."""
    rows = "".join(f'      <range lower="{lo:.6f}" upper="{hi:.6f}" symbol="{i}" label={quoteattr(lab)} render="true"/>\n'
                   for i, (lo, hi, lab, _) in enumerate(ranges))
    syms = "".join(s for *_, s in ranges)
    return (f'  <renderer-v2 type="graduatedSymbol" attr={quoteattr(attr)} graduatedMethod="GraduatedColor" '
            f'symbollevels="0" enableorderby="0" forceraster="0">\n    <ranges>\n{rows}    </ranges>\n'
            f'    <symbols>\n{syms}    </symbols>\n    <mode name="quantile"/>\n  </renderer-v2>\n')


def _tier_label(key: str) -> str:
    t = TIERS.get(key)
    return f"{t.name_zh} {t.name_en}" if t else key


def _tiers(values: pd.Series) -> list[str]:
    present = {str(v) for v in values.dropna().unique() if str(v)}
    order = list(TIERS)
    return sorted(present, key=lambda k: (order.index(k) if k in order else len(order), k))


def _elderly_breaks(values: np.ndarray, n: int = 5) -> list[float]:
    """Class limits of the elderly per point: quantiles of the populated points, rounded."""
    v = values[np.isfinite(values) & (values > 0)]
    if len(v) == 0:
        return [0.0, 1.0]
    qs = np.unique(np.round(np.quantile(v, np.linspace(0, 1, n + 1)), 1))
    qs[0] = 0.0
    if len(qs) < 2:
        qs = np.array([0.0, float(v.max())])
    return [float(q) for q in qs]


def layer_qml(name: str, gdf: pd.DataFrame) -> str | None:
    """The QML style of one exported layer (``None`` for a layer without a style).

    Parameters
    ----------
    name
        Layer name (``facilities``, ``isochrones``, ``facility_isochrones``, ``demand``,
        ``gaps``, ``gap_zones``, ``sites``, ``boundaries``).
    gdf
        The layer as written (categories and class limits come from its values).

    Returns
    -------
    str or None
        A QGIS style document.
    """
    if name == "facilities" and "tier" in gdf:
        cats = [(k, _tier_label(k), _symbol(str(i), "marker", tier_color(k))) for i, k in enumerate(_tiers(gdf["tier"]))]
        cats.append(("", "未知层级 Unknown tier", _symbol(str(len(cats)), "marker", UNKNOWN_COLOR)))
        body = _categorized("tier", cats)
    elif name == "isochrones" and "tier" in gdf:
        body = _categorized("tier", [(k, _tier_label(k), _symbol(str(i), "fill", tier_color(k), alpha=56,
                                                                outline=tier_color(k), width=0.3))
                                     for i, k in enumerate(_tiers(gdf["tier"]))])
    elif name == "facility_isochrones" and "tier" in gdf:
        body = _categorized("tier", [(k, _tier_label(k), _symbol(str(i), "fill", tier_color(k), fill=False,
                                                                outline=tier_color(k), width=0.3))
                                     for i, k in enumerate(_tiers(gdf["tier"]))])
    elif name == "demand" and "elderly" in gdf:
        b = _elderly_breaks(gdf["elderly"].to_numpy(float))
        size = 'sqrt("area_m2")' if "area_m2" in gdf else None
        colors = CHORO_COLORS if len(b) - 1 <= len(CHORO_COLORS) else CHORO_COLORS * 2
        body = _graduated("elderly", [(lo, hi, f"{lo:,.0f} – {hi:,.0f}",
                                       _symbol(str(i), "marker", colors[i], shape="square", size=100, width=0,
                                               size_expr=size))
                                      for i, (lo, hi) in enumerate(zip(b[:-1], b[1:], strict=True))])
    elif name == "gaps":
        body = _single(_symbol("0", "marker", GAP_COLOR, shape="triangle", size=3.2))
    elif name == "gap_zones":
        body = _single(_symbol("0", "fill", GAP_COLOR, fill=False, outline=GAP_COLOR, width=0.6, dash=True))
    elif name == "sites":
        body = _single(_symbol("0", "marker", SITE_COLOR, shape="star", size=5.0, outline="#ffffff"))
    elif name == "boundaries":
        body = _single(_symbol("0", "fill", "#555555", fill=False, outline="#555555", width=0.5))
    else:
        return None
    return _HEAD + body + _TAIL

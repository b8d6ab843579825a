"""The report's charts (matplotlib, Agg): travel-time distribution of the elderly per tier (each
panel with its own tier's threshold) and elderly coverage per county, now and with the suggested
sites.

Charts are PNG bytes (:func:`png_bytes`), embedded in ``report.html`` and written beside
``report.md``. Chinese labels need a CJK font (e.g. Debian ``fonts-noto-cjk``); without one the
labels are English. PNGs carry no software or date metadata, so equal inputs give equal bytes.
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carecover.outputs.bundle import PlanBundle, tier_name
from carecover.outputs.report.document import threshold_text

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from carecover.params import RunParams

#: Resolution of every picture of the report (fixed: equal inputs, equal bytes).
DPI = 110


def cjk_font() -> str | None:
    """The name of an installed CJK font matplotlib can use, or ``None``.

    Returns
    -------
    str or None
        Font family name (Noto CJK, WenQuanYi, Source Han or SimHei).
    """
    from matplotlib import font_manager

    names = ("Noto Sans CJK", "Noto Serif CJK", "WenQuanYi", "Source Han", "SimHei")

    def find() -> str | None:
        # sans first: chart labels read better in a sans face
        for f in sorted(font_manager.fontManager.ttflist, key=lambda f: ("Serif" in f.name, f.name)):
            if any(k in f.name for k in names):
                return f.name
        return None

    found = find()
    if found is None:  # matplotlib's font cache may predate the font's installation
        for path in sorted(font_manager.findSystemFonts()):
            if any(k in Path(path).name for k in ("NotoSansCJK", "wqy", "SourceHan", "simhei")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = find()
    return found


@contextlib.contextmanager
def chart_style(lang: str) -> Iterator[bool]:
    """matplotlib on Agg with the CJK font (when installed) and fixed output settings.

    Parameters
    ----------
    lang
        The report's language.

    Yields
    ------
    bool
        Whether labels are Chinese and English (``lang == "zh"`` and a CJK font found).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "svg.hashsalt": "carecover",
          "axes.unicode_minus": False, "savefig.dpi": DPI, "figure.dpi": DPI}
    with plt.rc_context(rc):
        yield font is not None and lang == "zh"


def plain(text: object) -> str:
    """Text from an input as matplotlib draws it literally (``$`` would start mathtext)."""
    return str(text).replace("$", r"\$")


def label(z: str, e: str, zh: bool) -> str:
    """A chart label: "中文 English" when ``zh``, else English."""
    return f"{z} {e}" if zh else e


#: Colours of a picture's palette: a map or chart has few colours besides the anti-aliasing of
#: its edges, and an 8-bit palette makes its PNG a quarter to a half the size of an RGBA one.
PALETTE = 256


def png_bytes(fig: Figure, tight: bool = False) -> bytes:
    """The figure as an 8-bit palette PNG (:data:`PALETTE` colours, no dithering, so equal
    figures give equal bytes), without software or date metadata; the figure is closed.

    Parameters
    ----------
    fig
        A matplotlib figure.
    tight
        Crop to what is drawn (e.g. a legend below the axes).

    Returns
    -------
    bytes
        PNG.
    """
    import matplotlib.pyplot as plt
    from PIL import Image

    fig.set_dpi(DPI)
    fig.canvas.draw()  # drawn once (savefig's "tight" draws twice), then cropped
    rgb = np.asarray(fig.canvas.buffer_rgba())[:, :, :3]  # the figure's background is opaque white
    if tight:
        crop = _tight_pixels(fig, rgb.shape[:2])
        if crop is None:  # something drawn outside the figure: let savefig make room for it
            buf = io.BytesIO()
            fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=PAD_INCHES)
            with Image.open(buf) as im:
                rgb = np.asarray(im.convert("RGB"))
        else:
            rgb = rgb[crop]
    plt.close(fig)
    pic = Image.fromarray(np.ascontiguousarray(rgb)).quantize(PALETTE, method=Image.Quantize.FASTOCTREE,
                                                              dither=Image.Dither.NONE)
    out = io.BytesIO()
    pic.save(out, format="png", compress_level=6)  # no metadata: equal figures, equal bytes
    return out.getvalue()


#: Margin around what is drawn in a cropped picture.
PAD_INCHES = 0.08


def _tight_pixels(fig: Figure, shape: tuple[int, int]) -> tuple[slice, slice] | None:
    """The rows and columns of a drawn figure's buffer that hold what is drawn, with
    :data:`PAD_INCHES` around it; ``None`` when that reaches outside the figure."""
    bb = fig.get_tightbbox(fig.canvas.get_renderer()).padded(PAD_INCHES)  # inches, from the bottom left
    h, w = shape
    x0, x1 = math.floor(bb.x0 * DPI), math.ceil(bb.x1 * DPI)
    top, bottom = h - math.ceil(bb.y1 * DPI), h - math.floor(bb.y0 * DPI)
    if x0 < 0 or top < 0 or x1 > w or bottom > h:
        return None
    return slice(top, bottom), slice(x0, x1)


def tier_threshold(params: RunParams, key: str) -> tuple[float, str | None]:
    """A tier's threshold (minutes) and mode as used in the run.

    Parameters
    ----------
    params
        The run's parameters.
    key
        Tier key.

    Returns
    -------
    tuple
        ``(threshold_min, mode)``; the run's default threshold and ``None`` for a tier the
        run does not know.
    """
    t = params.tiers.get(key)
    return (float(t.threshold_min), t.mode) if t is not None else (float(params.threshold_min), None)


def travel_time_figure(b: PlanBundle, params: RunParams, zh: bool) -> tuple[Figure, dict[str, Axes]]:
    """Cumulative share of the elderly by travel time: one panel per tier, each with its own
    tier's threshold marked (a 5-minute tier shows a 5-minute line, never a 15-minute one).

    Parameters
    ----------
    b
        The results (``demand`` with ``time_s__<tier>`` and ``elderly``).
    params
        The run's parameters (each tier's threshold and mode, the walking speed).
    zh
        Chinese and English labels (else English).

    Returns
    -------
    tuple
        The figure and tier key -> its panel (no panel for a tier without times).
    """
    import matplotlib.pyplot as plt

    d = b.demand
    keys = [k for k in b.tiers_present() if f"time_s__{k}" in d]
    ncol = min(3, max(1, len(keys)))
    nrow = max(1, math.ceil(len(keys) / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(3.4 * ncol + 0.6, 2.9 * nrow + 0.3), squeeze=False)
    panels: dict[str, Axes] = {}
    w = d["elderly"].to_numpy(float)
    lang = "zh" if zh else "en"
    for i, key in enumerate(keys):
        ax = axes[i // ncol, i % ncol]
        thr, mode = tier_threshold(params, key)
        t = d[f"time_s__{key}"].to_numpy(float) / 60
        order = np.argsort(t, kind="stable")
        cum = np.cumsum(w[order]) / max(w.sum(), 1e-12)
        x = t[order]
        finite = np.isfinite(x)
        tier = params.tiers.get(key)
        # times are searched up to the slowest sensitivity speed's reach: no data beyond it
        xmax = 1.1 * thr * (params.search_factor(tier) if tier is not None else 1.0)
        xs = np.concatenate([[0.0], x[finite], [xmax]])
        ys = np.concatenate([[0.0], cum[finite], [cum[finite][-1] if finite.any() else 0.0]])
        ax.step(xs, ys, where="post", color="#1f77b4", lw=1.6)
        share = float(w[t <= thr].sum() / max(w.sum(), 1e-12))
        ax.axvline(thr, color="#c0392b", ls="--", lw=1.1)
        ax.plot([thr], [share], "o", color="#c0392b", ms=4)
        ax.annotate(f"{100 * share:.1f}%", (thr, share), xytext=(-5, 6), textcoords="offset points", ha="right",
                    fontsize=8, color="#c0392b")
        ax.set_title(f"{tier_name(key, lang, both=False)}\n{threshold_text(thr, mode, params.walk_speed_mps, lang)}",
                     fontsize=8.5)
        ax.set_xlim(0, xmax)
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=7.5)
        ax.set_xlabel(label("出行时间（分钟）", "Travel time (min)", zh), fontsize=8)
        if i % ncol == 0:
            ax.set_ylabel(label("老年人口累计比例", "Elderly reached", zh), fontsize=8)
        panels[key] = ax
    for j in range(len(keys), nrow * ncol):
        axes[j // ncol, j % ncol].set_visible(False)
    fig.tight_layout()
    return fig, panels


def county_figure(cc: pd.DataFrame, params: RunParams, zh: bool, with_sites: set[str]) -> Figure:
    """Elderly coverage per county, now and with the suggested sites, one panel per tier.

    Parameters
    ----------
    cc
        Coverage per county (:func:`~carecover.outputs.report.sections.county_coverage`, not
        empty).
    params
        The run's parameters (the threshold in each panel's title).
    zh
        Chinese and English labels (else English).
    with_sites
        Tiers with suggested sites (only these get an "after" bar).

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(cc["tier"]))
    n_county = cc["county"].nunique()
    fig, axes = plt.subplots(len(keys), 1, figsize=(7.5, 0.9 + (0.55 + 0.3 * n_county) * len(keys)), squeeze=False)
    lang = "zh" if zh else "en"
    for ax, key in zip(axes[:, 0], keys, strict=True):
        sub = cc[cc["tier"] == key].sort_values("county")
        names = [plain(c) if c else label("（未知）", "(unknown)", zh) for c in sub["county"]]
        y = np.arange(len(sub))
        tot = sub["total"].replace(0, np.nan)
        after = key in with_sites
        h = 0.4 if after else 0.6
        ax.barh(y + (0.2 if after else 0), (sub["covered"] / tot).fillna(0), height=h, color="#1f77b4",
                label=label("现状", "Now", zh))
        if after:
            ax.barh(y - 0.2, (sub["after"] / tot).fillna(0), height=h, color="#2ca02c",
                    label=label("新增站点后", "With suggested sites", zh))
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(lambda v, _: f"{100 * v:.0f}%")
        thr, mode = tier_threshold(params, key)
        ax.set_title(f"{tier_name(key, lang, both=False)} · {threshold_text(thr, mode, params.walk_speed_mps, lang)}",
                     fontsize=9)
        ax.grid(axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
        ax.legend(fontsize=7.5, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    axes[-1, 0].set_xlabel(label("老年人口覆盖率", "Elderly coverage", zh), fontsize=8.5)
    fig.tight_layout()
    return fig

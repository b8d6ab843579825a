"""The report's PNG charts (matplotlib, Agg): travel-time distribution of the elderly per tier,
and elderly coverage per county before and after the suggested sites.

Chinese labels need a CJK font (e.g. Debian ``fonts-noto-cjk``); without one the labels are
English. PNG files carry no software or date metadata, so equal inputs give equal bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from carecover.outputs.bundle import PlanBundle, tier_name
from carecover.utils import atomic_path

if TYPE_CHECKING:
    from carecover.plan.params import RunParams


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
        for f in font_manager.fontManager.ttflist:
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


def _label(z: str, e: str, zh: bool) -> str:
    return f"{z} {e}" if zh else e


def _save(fig, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", metadata={"Software": None})
    return path


def write_charts(b: PlanBundle, cc: pd.DataFrame, params: RunParams, out_dir: Path) -> dict[str, Path]:
    """Write the charts into ``out_dir``.

    Parameters
    ----------
    b
        The results (``demand`` with ``time_s__<tier>``).
    cc
        Coverage per county (:func:`~carecover.outputs.report.sections.county_coverage`); no
        county chart when empty.
    params
        The run's parameters (the threshold marked on the travel-time chart).
    out_dir
        Output folder.

    Returns
    -------
    dict of str to pathlib.Path
        ``travel_time_cdf`` and, with counties, ``county_coverage`` -> PNG file.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    font = cjk_font()
    zh = font is not None and b.lang == "zh"
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"], "svg.hashsalt": "carecover",
          "axes.unicode_minus": False}
    out: dict[str, Path] = {}
    with plt.rc_context(rc):
        out["travel_time_cdf"] = travel_time_chart(b, params.threshold_min, zh,
                                                   out_dir / "chart_travel_time_cdf.png")
        if len(cc):
            out["county_coverage"] = county_chart(cc, zh, out_dir / "chart_county_coverage.png")
    return out


def travel_time_chart(b: PlanBundle, threshold_min: float, zh: bool, path: Path) -> Path:
    """Cumulative share of the elderly by travel time, one step line per tier.

    Parameters
    ----------
    b
        The results.
    threshold_min
        Marked with a dashed line.
    zh
        Chinese and English labels (else English).
    path
        PNG file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    d = b.demand
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    for key in b.tiers_present():
        col = f"time_s__{key}"
        if col not in d:
            continue
        t = d[col].to_numpy(float) / 60
        w = d["elderly"].to_numpy(float)
        order = np.argsort(t, kind="stable")
        cum = np.cumsum(w[order]) / max(w.sum(), 1e-12)
        x = t[order]
        finite = np.isfinite(x)
        ax.step(x[finite], cum[finite], where="post", label=tier_name(key, "zh" if zh else "en", both=False))
    ax.axvline(float(threshold_min), color="#888", ls="--", lw=1)
    ax.set_xlabel(_label("出行时间（分钟）", "Travel time (min)", zh))
    ax.set_ylabel(_label("老年人口累计比例", "Cumulative share of elderly", zh))
    ax.set_ylim(0, 1)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path


def county_chart(cc: pd.DataFrame, zh: bool, path: Path) -> Path:
    """Elderly coverage per county, now and with the suggested sites, one panel per tier.

    Parameters
    ----------
    cc
        Coverage per county (not empty).
    zh
        Chinese and English labels (else English).
    path
        PNG file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    keys = list(dict.fromkeys(cc["tier"]))
    fig, axes = plt.subplots(len(keys), 1, figsize=(7, 1.2 + 0.35 * cc["county"].nunique() * len(keys)),
                             dpi=110, squeeze=False)
    for ax, key in zip(axes[:, 0], keys, strict=True):
        sub = cc[cc["tier"] == key].sort_values("county")
        names = [c or _label("（未知）", "(unknown)", zh) for c in sub["county"]]
        y = np.arange(len(sub))
        tot = sub["total"].replace(0, np.nan)
        ax.barh(y + 0.2, (sub["covered"] / tot).fillna(0), height=0.4, label=_label("现状", "Now", zh))
        ax.barh(y - 0.2, (sub["after"] / tot).fillna(0), height=0.4, label=_label("新增站点后", "With sites", zh))
        ax.set_yticks(y, names, fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_title(tier_name(key, "zh" if zh else "en", both=False), fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="lower right")
    axes[-1, 0].set_xlabel(_label("老年人口覆盖率", "Elderly coverage", zh))
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    return path

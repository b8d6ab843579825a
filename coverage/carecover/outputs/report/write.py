"""``write_report``: the report's sections, in the order of :data:`SECTIONS`, written as one
self-contained HTML page (pictures embedded as data URIs) and as Markdown (pictures beside it).

To add a section, write a builder ``(ReportContext) -> Section | None`` and put it into
:data:`SECTIONS` (or pass your own list to :func:`write_report`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from carecover.outputs.bundle import PlanBundle, tr
from carecover.outputs.report import access as access_report
from carecover.outputs.report import profiles as profiles_report
from carecover.outputs.report import sections as sec
from carecover.outputs.report.charts import (
    chart_style,
    county_figure,
    png_bytes,
    travel_time_figure,
)
from carecover.outputs.report.document import Image, Section
from carecover.outputs.report.ledger import ledger_section
from carecover.outputs.report.overview import chosen_sites, map_base, overview_figure
from carecover.outputs.report.projection import projection_section
from carecover.outputs.report.render import to_html, to_markdown
from carecover.outputs.report.summary import summary_section
from carecover.utils import atomic_write

if TYPE_CHECKING:
    from carecover.params import RunParams


@dataclass
class ReportContext:
    """What the section builders read: the results, the run's parameters and the pictures
    (each drawn once, when a section first asks for it).

    Attributes
    ----------
    bundle
        The results.
    params
        The run's parameters.
    """

    bundle: PlanBundle
    params: RunParams

    @property
    def lang(self) -> str:
        """The report's language."""
        return self.bundle.lang

    @cached_property
    def county(self) -> pd.DataFrame:
        """Elderly coverage per county and tier (:func:`~.sections.county_coverage`)."""
        return sec.county_coverage(self.bundle)

    @cached_property
    def tiers(self) -> list[str]:
        """Tiers with travel times, in tier order."""
        return [k for k in self.bundle.tiers_present() if f"time_s__{k}" in self.bundle.demand]

    @cached_property
    def site_tiers(self) -> list[str]:
        """Tiers with suggested sites."""
        return [k for k in self.tiers if chosen_sites(self.bundle, k) is not None]

    @cached_property
    def maps(self) -> dict[str, Image]:
        """The overview map of every tier."""
        out: dict[str, Image] = {}
        if not self.tiers:
            return out
        base = map_base(self.bundle)
        with chart_style(self.lang) as zh:
            for key in self.tiers:
                fig, _ = overview_figure(self.bundle, self.params, key, zh, base)
                out[key] = Image(f"map_overview_{key}.png", png_bytes(fig, tight=True), tr(
                    "总览图：覆盖范围、未覆盖缺口与建议站点", "Overview: coverage, gaps and suggested sites", self.lang))
        return out

    @cached_property
    def charts(self) -> dict[str, Image]:
        """``travel_time`` and, with two counties or more, ``county_coverage``."""
        out = {}
        with chart_style(self.lang) as zh:
            if self.tiers:
                fig, _ = travel_time_figure(self.bundle, self.params, zh)
                out["travel_time"] = Image("chart_travel_time.png", png_bytes(fig), tr(
                    "老年人口出行时间累计分布（红色虚线：各层级自身阈值）",
                    "Travel time of the elderly, cumulative (red dashed line: each tier's own threshold)", self.lang))
            if len(self.county) and self.county["county"].nunique() > 1:  # one county: the summary says it all
                fig = county_figure(self.county, self.params, zh, set(self.site_tiers))
                out["county_coverage"] = Image("chart_county_coverage.png", png_bytes(fig, tight=True), tr(
                    "分旗县区老年人口覆盖率", "Elderly coverage by county", self.lang))
        return out


def _summary(ctx: ReportContext) -> Section:
    # the front page shows the maps of the tiers with suggested sites (else of the first tier)
    front = ctx.site_tiers or ctx.tiers[:1]
    return summary_section(ctx.bundle, ctx.params, [ctx.maps[k] for k in front])


def _maps(ctx: ReportContext) -> Section | None:
    rest = [img for k, img in ctx.maps.items() if k not in (ctx.site_tiers or ctx.tiers[:1])]
    if not rest:
        return None
    return Section(tr("各层级总览图", "Overview maps by tier", ctx.lang), list(rest), key="maps")


def _access(ctx: ReportContext) -> Section | None:
    # capacity-aware accessibility (issue 13), with its Lorenz chart
    section = access_report.access_section(ctx.bundle)
    if section is None:
        return None
    with chart_style(ctx.lang) as zh:
        fig = access_report.lorenz_figure(ctx.bundle, zh)
    if fig is not None:
        section.blocks.append(Image("chart_access_lorenz.png", png_bytes(fig), tr(
            "可达性洛伦兹曲线（E2SFCA，按老年人口）", "Lorenz curve of accessibility (E2SFCA, over the elderly)",
            ctx.lang)))
    return section


def _charts(ctx: ReportContext) -> Section | None:
    if not ctx.charts:
        return None
    return Section(tr("图表", "Charts", ctx.lang), list(ctx.charts.values()), key="charts")


#: The report's sections in order: the executive summary first, then the detail.
SECTIONS: list[Callable[[ReportContext], Section | None]] = [
    # the data-quality ledger first: every reduction between the inputs and the figures
    lambda c: ledger_section(c.bundle),
    _summary,
    lambda c: sec.warnings_section(c.bundle),
    lambda c: sec.figures_section(c.bundle),
    # today vs the projected year (only with --year)
    lambda c: projection_section(c.bundle),
    _access,
    lambda c: sec.county_section(c.bundle, c.county),
    lambda c: sec.sensitivity_section(c.bundle),
    lambda c: profiles_report.profiles_section(c.bundle),
    lambda c: sec.circle_section(c.bundle, c.params),
    lambda c: sec.claims_section(c.bundle),
    lambda c: sec.gaps_section(c.bundle, c.params),
    lambda c: sec.sites_section(c.bundle),
    _maps,
    _charts,
    lambda c: sec.fidelity_section(c.bundle),
    lambda c: sec.repro_section(c.bundle, c.params),
]


#: The pictures a report draws before its sections (:func:`draw_pictures`): the slow part of a
#: report, and independent of the warnings the other outputs raise while they are written.
PICTURES = ("maps", "charts")


def draw_pictures(bundle: PlanBundle) -> dict[str, dict[str, Image]]:
    """The report's overview maps and charts, drawn apart from its text (a run draws them in a
    worker process while the tables and maps are written; :func:`write_report` takes them).

    Parameters
    ----------
    bundle
        Results to report, with the run's parameters.

    Returns
    -------
    dict
        ``maps`` and ``charts``: :attr:`ReportContext.maps` and :attr:`ReportContext.charts`.
    """
    ctx = ReportContext(bundle, bundle.run_params())
    return {name: getattr(ctx, name) for name in PICTURES}


def build_sections(ctx: ReportContext, builders: Sequence[Callable[[ReportContext], Section | None]] | None = None
                   ) -> list[Section]:
    """The report's sections.

    Parameters
    ----------
    ctx
        Results, parameters and pictures.
    builders
        Section builders in order (default :data:`SECTIONS`); a builder returning ``None``
        adds nothing.

    Returns
    -------
    list of Section
    """
    return [s for s in (build(ctx) for build in (SECTIONS if builders is None else builders)) if s is not None]


def write_report(bundle: PlanBundle, out_dir: str | Path, *,
                 sections: Sequence[Callable[[ReportContext], Section | None]] | None = None,
                 pictures: dict[str, dict[str, Image]] | None = None) -> dict[str, Path]:
    """Write ``report.html`` (self-contained), ``report.md`` and its PNG pictures into ``out_dir``.

    Parameters
    ----------
    bundle
        Results to report, with the run's parameters (``bundle.params``).
    out_dir
        Output folder (created).
    sections
        Section builders (default :data:`SECTIONS`).
    pictures
        :func:`draw_pictures` of the same bundle, when already drawn (else drawn here; the same
        bytes either way).

    Returns
    -------
    dict
        ``html``, ``md`` and one entry per picture (its file name without ``.png``) -> path.

    Raises
    ------
    InputError
        The bundle has no ``params``.
    """
    params = bundle.run_params()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ctx = ReportContext(bundle, params)
    for name in PICTURES if pictures else ():
        ctx.__dict__[name] = pictures[name]  # the cached properties, already drawn
    built = build_sections(ctx, sections)
    title = bundle.display_title()
    paths: dict[str, Path] = {}
    for img in (blk for s in built for blk in s.blocks if isinstance(blk, Image)):
        path = out_dir / img.name  # the Markdown report links them; the HTML carries them
        with atomic_write(path, "wb") as fh:
            fh.write(img.png)
        paths[path.stem] = path
    paths = {"html": out_dir / "report.html", "md": out_dir / "report.md", **paths}
    with atomic_write(paths["html"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_html(title, built, bundle.lang, subtitle=_subtitle(bundle)))
    with atomic_write(paths["md"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_markdown(title, built))
    return paths


def _subtitle(b: PlanBundle) -> str:
    from carecover.vocab import generated_text

    return tr("生成时间", "Generated", b.lang) + f": {generated_text(b)}"



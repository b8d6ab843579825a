"""``write_report``: the report's sections and charts, written as Markdown and HTML."""

from __future__ import annotations

from pathlib import Path

from carecover.outputs.bundle import PlanBundle, tr
from carecover.outputs.report import access as access_report
from carecover.outputs.report import sections as sec
from carecover.outputs.report.charts import write_charts
from carecover.outputs.report.document import Section
from carecover.outputs.report.render import to_html, to_markdown
from carecover.utils import atomic_write


def write_report(bundle: PlanBundle, out_dir: str | Path) -> dict[str, Path]:
    """Write ``report.html``, ``report.md`` and the PNG charts into ``out_dir``.

    Parameters
    ----------
    bundle
        Results to report, with the run's parameters (``bundle.params``).
    out_dir
        Output folder (created).

    Returns
    -------
    dict
        ``html``, ``md`` and one entry per chart -> path.

    Raises
    ------
    InputError
        The bundle has no ``params``.
    """
    params = bundle.run_params()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cc = sec.county_coverage(bundle)
    charts = write_charts(bundle, cc, params, out_dir)
    # the Lorenz chart of capacity-aware accessibility (issue 13)
    charts.update(access_report.lorenz_charts(bundle, out_dir))
    sections = [sec.warnings_section(bundle), sec.figures_section(bundle), access_report.access_section(bundle),
                sec.county_section(bundle, cc), sec.sensitivity_section(bundle),
                sec.circle_section(bundle, params), sec.claims_section(bundle), sec.gaps_section(bundle),
                sec.sites_section(bundle), sec.fidelity_section(bundle),
                Section(tr("图表", "Charts", bundle.lang), [f"img:{p.name}" for p in charts.values()]),
                sec.repro_section(bundle, params)]
    sections = [s for s in sections if s is not None]
    title = bundle.display_title()
    paths = {"html": out_dir / "report.html", "md": out_dir / "report.md"}
    with atomic_write(paths["html"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_html(title, sections, bundle.lang))
    with atomic_write(paths["md"], "w", encoding="utf-8", newline="\n") as fh:
        fh.write(to_markdown(title, sections))
    paths.update(charts)
    return paths

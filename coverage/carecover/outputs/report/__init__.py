"""The report of a :class:`~carecover.outputs.bundle.PlanBundle`: one self-contained HTML page
(charts and static overview maps embedded as data URIs, a print stylesheet), the same in Markdown
with the PNGs beside it, and a PDF printed by headless Chromium when asked.

It opens with an executive summary (per tier: coverage now and after the suggested sites, claims
passed and failed, the largest gaps), then the detail. Both formats are made from the same list of
sections (:data:`~carecover.outputs.report.write.SECTIONS`, one builder each), Chinese first when
``lang == "zh"``. Pictures use matplotlib's Agg backend and a CJK font when one is installed
(e.g. Debian ``fonts-noto-cjk``); without one, their labels are English. Figures, claims and
sites come from the bundle's tables and summary; the parameters the report states come from
``bundle.params``.

Modules: :mod:`.document` (:class:`Table`, :class:`Image`, :class:`Section`, number formatting),
:mod:`.summary` (the executive summary), :mod:`.sections` (one function per detail section),
:mod:`.charts`, :mod:`.overview` (the static map), :mod:`.render` (Markdown and HTML),
:mod:`.write` (:func:`write_report`, the section list), :mod:`.pdf` (:func:`write_pdf`).
"""

from carecover.outputs.report.document import Image, Section, Table
from carecover.outputs.report.write import SECTIONS, ReportContext, write_report

__all__ = ["SECTIONS", "Image", "ReportContext", "Section", "Table", "write_report"]

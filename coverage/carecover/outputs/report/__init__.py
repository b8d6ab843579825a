"""HTML and Markdown report of a :class:`~carecover.outputs.bundle.PlanBundle`, with PNG charts.

Both formats are made from the same list of sections (heading + tables + images), Chinese first
when ``lang == "zh"``. Charts use matplotlib's Agg backend and a CJK font when one is installed
(e.g. Debian ``fonts-noto-cjk``); without one, chart labels are English. Figures, claims and
sites come from the bundle's tables and summary; the parameters the report states come from
``bundle.params``.

Modules: :mod:`.document` (:class:`Table`, :class:`Section`, number formatting),
:mod:`.sections` (one function per section), :mod:`.charts`, :mod:`.render` (Markdown and
HTML), :mod:`.write` (:func:`write_report`).
"""

from carecover.outputs.report.document import Section, Table
from carecover.outputs.report.write import write_report

__all__ = ["Section", "Table", "write_report"]

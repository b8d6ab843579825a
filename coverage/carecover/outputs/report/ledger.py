"""The report's first section: the data-quality ledger (数据质量 / Data quality), before the figures."""

from __future__ import annotations

from carecover.analysis.ledger import Ledger
from carecover.outputs.bundle import PlanBundle, tr
from carecover.outputs.report.document import Para, Section, Table


def ledger_section(b: PlanBundle) -> Section | None:
    """Every reduction between the inputs and the figures, one row each, warnings marked.

    Parameters
    ----------
    b
        The results (``summary["ledger"]``).

    Returns
    -------
    Section or None
        ``None`` when the run has no ledger.
    """
    lang = b.lang
    raw = b.summary.get("ledger")
    if not raw:
        return None
    led = Ledger.from_dict(raw)
    rows = [["⚠ " + tr("警告", "warning", lang) if line.warning else "✓", line.label, line.text,
             line.threshold if line.threshold else "–"] for line in led.lines]
    cols = [tr("状态", "Status", lang), tr("项目", "Item", lang), tr("内容", "Finding", lang),
            tr("警告阈值", "Warning when", lang)]
    n = len(led.warnings)
    lead = Para(tr(f"以下每项都会改变数字的含义；{n} 项超过右列的警告阈值。",
                   f"Each line changes what the figures mean; {n} {'is' if n == 1 else 'are'} beyond the "
                   "warning threshold in the right column.", lang))
    return Section(tr("数据质量", "Data quality", lang),
                   [lead, Table(cols, rows)], key="ledger")

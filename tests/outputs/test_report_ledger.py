"""The report opens with the data-quality ledger (数据质量 / Data quality), before the figures."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from carecover.analysis.ledger import Ledger, LedgerLine
from carecover.outputs.bundle import PlanBundle
from carecover.outputs.report.write import write_report


def test_ledger_is_the_first_section(monaco_bundle: PlanBundle, tmp_path: Path) -> None:
    led = Ledger((LedgerLine("unsnapped", "未计入的居民 / Residents not counted", "12.5% <b>", True, "> 5.0%"),
                  LedgerLine("streets", "街道类型 / Street kinds", "footway 20%")), {"ledger_max_unsnapped_share": 0.05})
    b = dataclasses.replace(monaco_bundle, summary={**monaco_bundle.summary, "ledger": led.to_dict()})
    paths = write_report(b, tmp_path)
    md = paths["md"].read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    assert headings[:2] == ["数据质量 Data quality", "摘要 Summary"]
    assert "⚠ 警告 warning" in md and "未计入的居民 / Residents not counted" in md and "> 5.0%" in md
    html = paths["html"].read_text(encoding="utf-8")
    assert html.index("id='ledger'") < html.index("id='summary'")
    assert "12.5% &lt;b&gt;" in html  # text from the run is escaped
    # without a ledger (an older summary), no section
    assert "数据质量" not in write_report(monaco_bundle, tmp_path / "old")["md"].read_text(encoding="utf-8")

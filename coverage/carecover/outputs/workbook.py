"""The results workbook (``carecover.xlsx``) as people read it: formatted, labelled, filterable.

Each table is one sheet: a header row (Chinese; the English headers of every column are on
the headers sheet, or the header row of an English workbook), frozen above the data with an
autofilter; shares as percentages, people as
whole numbers, times and distances with one decimal; tier keys, statuses and methods as their
Chinese names; booleans as 是/否. The cells keep full precision (only the display is rounded).

Text from inputs stays text: a cell openpyxl would take for a formula is written as a string
and control characters are made visible (:mod:`carecover.cells`). The file carries the run's
timestamp as its document and zip-entry dates, so with ``SOURCE_DATE_EPOCH`` set two runs write
byte-identical files.
"""

from __future__ import annotations

import datetime
import io
import json
import math
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from carecover.cells import as_text_cells, xlsx_text
from carecover.outputs import columns
from carecover.utils import atomic_path, run_datetime

__all__ = ["SHEETS", "XLSX_MAX_ROWS", "add_table_sheet", "cell_value", "display_width", "save_workbook",
           "sheet_title", "write_workbook"]

#: Tables longer than this go to CSV/GeoPackage only, not into the workbook.
XLSX_MAX_ROWS = 10000
#: Sheet name per table: (Chinese, English).
SHEETS: dict[str, tuple[str, str]] = {
    "facilities": ("设施", "facilities"), "demand": ("人口单元", "demand"), "gaps": ("覆盖缺口", "gaps"),
    "sites": ("建议站点", "sites"), "coverage": ("覆盖率", "coverage"), "claims": ("声明核验", "claims"),
    "access": ("可达性", "access"), "profiles": ("出行能力档案", "profiles"),
    "projection": ("预测需求", "projection"),
}
#: Widths (in characters, CJK counted as 2) that columns are kept within.
MIN_WIDTH, MAX_WIDTH = 6, 48
#: Rows looked at to size a column (the headers always count).
WIDTH_SAMPLE = 300
#: Zip dates cannot be earlier than 1980.
_ZIP_EPOCH = datetime.datetime(1980, 1, 1)
_YES_NO = {"zh": ("是", "否"), "en": ("yes", "no")}


def display_width(text: str) -> int:
    """Width of ``text`` in a spreadsheet column: East Asian wide/full-width characters count 2.

    Parameters
    ----------
    text
        The cell's text.

    Returns
    -------
    int
        Characters, wide ones twice.
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and not math.isfinite(v)


def cell_value(v: Any, col: str, kind: str, lang: str) -> Any:
    """The value of one cell: numbers stay numbers, booleans 是/否, codes labelled, lists as text.

    Parameters
    ----------
    v
        The table's value.
    col, kind
        Column name and its :func:`carecover.outputs.columns.kind`.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    object
        ``None`` for missing values (inf/NaN: no portable infinity in XLSX).
    """
    if isinstance(v, np.generic):
        v = v.item()
    if _is_missing(v):
        return None
    if isinstance(v, (list, tuple, dict)):
        v = json.dumps(v, ensure_ascii=False, sort_keys=True) if not (col in ("tier", "tiers") and isinstance(v, list)) \
            else ",".join(map(str, v))
    if isinstance(v, bool) or kind == "bool":
        if isinstance(v, str):
            return xlsx_text(v)
        yes, no = _YES_NO[lang]
        return yes if v else no
    if isinstance(v, str):
        return xlsx_text(columns.label_value(col, v, lang))
    return v


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:,.1f}"
    return str(v)


def sheet_title(table: str, lang: str) -> str:
    """Sheet name of a table: ``"设施 facilities"`` (Chinese workbook) or ``"facilities"``."""
    zh, en = SHEETS.get(table, (table, table))
    return (f"{zh} {en}" if lang == "zh" and zh != en else en)[:31]


def add_table_sheet(wb, title: str, table: str, df: pd.DataFrame, lang: str = "zh",
                    caption: str | None = None, headers: dict[str, tuple[str, str]] | None = None) -> Any:
    """One table as a formatted sheet: header rows, number formats, frozen panes, autofilter.

    Parameters
    ----------
    wb
        An openpyxl workbook.
    title
        Sheet name (at most 31 characters are kept).
    table
        Table name (headers and kinds that depend on it: ``sites.gap`` is the solver's gap).
    df
        The rows (raw column names).
    lang
        ``"zh"``: Chinese headers and labels; ``"en"``: English.
    caption
        A bold first row above the headers (e.g. what the sheet ranks), or ``None``.
    headers
        Extra ``column -> (Chinese, English)`` headers that take precedence.

    Returns
    -------
    openpyxl worksheet
    """
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws = wb.create_sheet(title[:31])
    headers = headers or {}
    cols = list(df.columns)
    kinds = [columns.kind(c, table) for c in cols]

    def head(c: str, la: str) -> str:
        if c in headers:
            return headers[c][0 if la == "zh" else 1]
        return columns.header(c, la, table)

    # one header row (English headers of a Chinese workbook are in its headers sheet, so that
    # every row under the header is data)
    heads = [[head(c, lang) for c in cols]]
    if caption:
        ws.append([xlsx_text(caption)])
        as_text_cells(ws[1])
        ws.cell(row=1, column=1).font = Font(bold=True, size=12)
    bold, small = Font(bold=True), Font(italic=True, color="666666", size=9)
    fill = PatternFill("solid", fgColor="E8EEF4")
    top = 1 if caption else 0  # rows written so far (ws.max_row scans every cell: not in the loop)
    for i, row in enumerate(heads):
        ws.append([xlsx_text(h) for h in row])
        top += 1
        as_text_cells(ws[top])
        for cell in ws[top]:
            cell.font = bold if i == 0 else small
            cell.fill = fill
            cell.alignment = Alignment(vertical="center")
    formats = [columns.NUMBER_FORMATS.get(k) for k in kinds]
    widths = [max(display_width(str(h[j])) for h in heads) for j in range(len(cols))]
    for n, row in enumerate(df.itertuples(index=False, name=None)):
        values = [cell_value(v, c, k, lang) for v, c, k in zip(row, cols, kinds, strict=True)]
        # ws.cell (a dict lookup), not ws.append + ws[row]: indexing a row scans every cell
        for j, (v, fmt) in enumerate(zip(values, formats, strict=True), start=1):
            if v is None:
                continue
            cell = ws.cell(row=top + 1 + n, column=j, value=v)
            if cell.data_type == "f":  # text from an input is never a formula
                cell.data_type = "s"
            elif fmt is not None and not isinstance(v, (str, bool)):
                cell.number_format = fmt
        if n < WIDTH_SAMPLE:
            widths = [max(w, display_width(_text(v))) for w, v in zip(widths, values, strict=True)]
    if len(df) == 0:
        ws.cell(row=top + 1, column=1, value="无 / none" if lang == "zh" else "none")
    ws.freeze_panes = f"A{top + 1}"
    if cols:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(cols))}{top + max(len(df), 1)}"
    for j, w in enumerate(widths, start=1):
        # + 3: a margin and the autofilter's drop-down button
        ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, max(MIN_WIDTH, w + 3))
    return ws


def _notes_sheet(wb, skipped: list[tuple[str, int]], notes: list[str]) -> None:
    from openpyxl.styles import Font

    ws = wb.create_sheet("说明 Notes")
    ws.append(["说明 / notes"])
    ws["A1"].font = Font(bold=True)
    for line in notes:
        ws.append([xlsx_text(line)])
    for name, n in skipped:
        ws.append([f"表 {name} 有 {n:,} 行，超过 {XLSX_MAX_ROWS:,} 行，见 {name}.csv 与 carecover.gpkg / "
                   f"table {name} has {n:,} rows, over {XLSX_MAX_ROWS:,}: see {name}.csv and carecover.gpkg"])
    ws.column_dimensions["A"].width = 120


def _headers_sheet(wb, tabs: dict[str, pd.DataFrame]) -> None:
    from openpyxl.styles import Font

    # the CSV column names are documented in docs/outputs.md; this sheet pairs the headers only
    ws = wb.create_sheet("表头对照 Headers")
    ws.append(["工作表 sheet", "中文表头 Chinese header", "英文表头 English header", "显示格式 format"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for name, df in tabs.items():
        for c in df.columns:
            k = columns.kind(c, name)
            ws.append([sheet_title(name, "zh"), columns.header(c, "zh", name), columns.header(c, "en", name),
                       columns.NUMBER_FORMATS.get(k, {"bool": "是/否 yes/no", "tier": "层级名称 tier name"}.get(k, ""))])
    for col, w in zip("ABCD", (20, 34, 34, 16), strict=True):
        ws.column_dimensions[col].width = w
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:D{ws.max_row}"


def write_workbook(tabs: dict[str, pd.DataFrame], path: str | Path, lang: str = "zh",
                   notes: list[str] | None = None, summary=None) -> list[tuple[str, int]]:
    """Write the tables as one formatted workbook.

    Parameters
    ----------
    tabs
        Table name -> table (as in the CSV files; raw column names).
    path
        The ``.xlsx`` file (written atomically).
    lang
        ``"zh"``: Chinese headers and labels (English headers on the headers sheet); ``"en"``:
        English.
    notes
        Lines for the notes sheet (e.g. the sample-data note).
    summary
        The first sheet, ``(frame, headers, note)`` of
        :func:`carecover.outputs.workbook_plain.summary_frame`, or ``None``.

    Returns
    -------
    list of (str, int)
        Tables left out (over :data:`XLSX_MAX_ROWS` rows) with their row counts.
    """
    from openpyxl import Workbook

    from carecover.outputs.workbook_plain import plain_tables

    wb = Workbook()
    wb.remove(wb.active)
    if summary is not None:
        frame, heads, note = summary
        ws = add_table_sheet(wb, "摘要 Summary" if lang == "zh" else "Summary", "summary", frame, lang,
                             caption="摘要：各层级老年人口覆盖（与报告第一页相同）/ Summary: elderly coverage per "
                                     "tier (as on the report's first page)" if lang == "zh" else
                                     "Summary: elderly coverage per tier (as on the report's first page)",
                             headers=heads)
        if note:
            ws.append([])
            ws.append([xlsx_text(note)])
    tabs = plain_tables(tabs, lang)
    skipped = []
    for name, df in tabs.items():
        if len(df) > XLSX_MAX_ROWS:  # workbooks are for reading; the full table is in CSV/GPKG
            skipped.append((name, len(df)))
            continue
        add_table_sheet(wb, sheet_title(name, lang), name, df, lang)
    if skipped or notes:
        _notes_sheet(wb, skipped, notes or [])
    _headers_sheet(wb, tabs)
    save_workbook(wb, Path(path))
    return skipped


def save_workbook(wb, path: Path) -> None:
    """Save with the run's date as the document dates and as every zip entry's date
    (``Workbook.save`` stamps both with the time of writing).

    Parameters
    ----------
    wb
        An openpyxl workbook.
    path
        Target file (written atomically).
    """
    from openpyxl.writer.excel import ExcelWriter

    stamp = run_datetime().replace(tzinfo=None)
    wb.properties.created = wb.properties.modified = stamp
    buf = io.BytesIO()
    # stored, not compressed: the entries are compressed once, below, where they get their dates
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(wb, archive).save()
    date_time = max(stamp, _ZIP_EPOCH).timetuple()[:6]
    with atomic_path(path) as tmp, zipfile.ZipFile(buf) as src, \
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            dst.writestr(entry, src.read(info.filename))

"""Excel registers (.xlsx): sheet choice, header row, records.

Excel 登记表：默认读第一个工作表（``sheet=`` 指定其他表），表头行可不在第一行。
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carecover.errors import InputError
from carecover.inputs.registers.headers import check_one_header_row, header_row
from carecover.inputs.registers.table import RawTable, cell_text, drop_non_records

__all__ = ["SUFFIXES", "read_xlsx", "sheet_hint"]

#: File name endings read as workbooks.
SUFFIXES = frozenset({".xlsx", ".xlsm"})


def _worksheet(wb, sheet: str | int | None, path: Path):
    try:
        if sheet is None:
            return wb.worksheets[0]
        if isinstance(sheet, int):
            return wb.worksheets[sheet]
        return wb[sheet]
    except (KeyError, IndexError):
        raise InputError(f"找不到工作表 / no sheet {sheet!r}", file=path,
                         expected="one of " + ", ".join(wb.sheetnames)) from None


def _has_cells(ws) -> bool:
    """Whether a worksheet holds any non-empty cell."""
    return any(any(cell_text(v) for v in r) for r in ws.iter_rows(values_only=True))


def _refuse_uncached_formulas(path: Path, title: str, rows: list[list[str]]) -> None:
    """A formula cell saved without its value (a workbook written by a program that does not
    compute formulas) reads as empty: refuse it naming the cell, rather than lose the value.
    The sheet is read a second time only when the workbook holds formulas at all."""
    import zipfile

    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        with zipfile.ZipFile(path) as z:
            if not any(b"<f" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/")):
                return
    except (zipfile.BadZipFile, OSError, KeyError):
        return
    wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for i, r in enumerate(wb[title].iter_rows(values_only=True)):
            for j, v in enumerate(r):
                if isinstance(v, str) and v.startswith("=") and not (i < len(rows) and j < len(rows[i]) and rows[i][j]):
                    raise InputError(f"单元格 {get_column_letter(j + 1)}{i + 1} 是未保存计算结果的公式 / cell "
                                     f"{get_column_letter(j + 1)}{i + 1} holds a formula ({v}) saved without its value",
                                     file=path, row=i + 1,
                                     expected="the workbook opened and saved in Excel or WPS (which store the values), "
                                              "or values instead of formulas")
    finally:
        wb.close()


def read_xlsx(path: Path, sheet: str | int | None = None) -> RawTable:
    """Read one worksheet of a workbook into the table contract.

    Parameters
    ----------
    path
        ``.xlsx`` or ``.xlsm`` workbook.
    sheet
        Sheet name or 0-based index; the first sheet when ``None``.

    Returns
    -------
    RawTable
        Records as text (integral numbers without ``.0``); ``info``: ``sheet``, ``sheets``
        (all names), ``header_row`` (1-based), lines skipped as blank or comment.

    Raises
    ------
    InputError
        Unreadable workbook, no such sheet, an empty sheet (naming the sheets that hold data
        when the first is empty), a header spanning two rows, or a formula cell saved without
        its value (naming the cell).
    """
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for corrupt files
        raise InputError(f"无法读取 Excel 文件 / cannot read the workbook: {exc}", file=path,
                         expected=".xlsx saved by Excel or WPS") from None
    ws = _worksheet(wb, sheet, path)
    rows = [[cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
    if not any(any(c for c in r) for r in rows):
        others = [w.title for w in wb.worksheets if w.title != ws.title and _has_cells(w)]
        wb.close()
        if sheet is None and others:
            raise InputError(f"第一个工作表 '{ws.title}' 为空，数据在其他工作表 / the first sheet '{ws.title}' is empty; "
                             "sheets with data: " + ", ".join(others), file=path, field="--sheet",
                             expected=f"the sheet to read, e.g. --sheet {others[0]}")
        raise InputError("工作表为空 / the sheet is empty", file=path)
    wb.close()
    _refuse_uncached_formulas(path, ws.title, rows)
    h = header_row(rows)
    check_one_header_row(rows, h, path)
    width = max(len(r) for r in rows)
    header = rows[h] + [""] * (width - len(rows[h]))
    body = [r + [""] * (width - len(r)) for r in rows[h + 1:]]
    df = pd.DataFrame(body, columns=range(width), dtype=object).astype(str)
    df.columns = header
    info = {"sheet": ws.title, "sheets": list(wb.sheetnames), "header_row": h + 1}
    return drop_non_records(df, h + 2, info)


def sheet_hint(info: dict) -> str:
    """For messages about a workbook with several sheets: which one was read, and how to
    choose another.

    Parameters
    ----------
    info
        ``RawTable.info`` of the read.

    Returns
    -------
    str
        Text to append to a message ("" unless the workbook has several sheets).
    """
    if len(info.get("sheets", [])) > 1:
        return (f"; 读取的工作表 / sheet read: {info['sheet']!r}, 全部工作表 / all sheets: "
                + ", ".join(info["sheets"]) + "（用 --sheet 选择 / choose with --sheet NAME）")
    return ""

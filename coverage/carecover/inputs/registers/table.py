"""The table contract every register reader returns, whatever the file format.

每种格式的读取器都返回同一种表：文本单元格、行号（与 Excel 显示一致）、读取信息，
以及地理文件的几何坐标。
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["RawTable", "cell_text", "drop_non_records"]


@dataclass(frozen=True)
class RawTable:
    """A register as read, before validation.

    Attributes
    ----------
    table
        One row per record, every cell as stripped text ("" when empty); columns are the
        file's headers.
    rows
        Row number of each record as a person sees it (CSV/XLSX: header on row 1 → first
        record on row 2; geographic files: feature index + 1).
    info
        How the file was read (encoding, delimiter, sheet, layer, header row, lines skipped).
    lon, lat
        WGS-84 coordinates of each feature's geometry (geographic files; NaN where it has
        none), else ``None``.
    """

    table: pd.DataFrame
    rows: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    lon: np.ndarray | None = None
    lat: np.ndarray | None = None

    @property
    def skipped(self) -> int:
        """Lines that were not records (blank or comment).

        Returns
        -------
        int
        """
        return int(self.info.get("skipped_blank", 0)) + int(self.info.get("skipped_comment", 0))


def cell_text(v: Any) -> str:
    """A cell as text: "" for empty, integral floats without ``.0`` (ids typed as numbers).

    Parameters
    ----------
    v
        A cell value as a reader gives it (str, number, None, NaN, date …).

    Returns
    -------
    str
        Stripped text.
    """
    if v is None:
        return ""
    if isinstance(v, float):
        if np.isnan(v):
            return ""
        if v.is_integer() and abs(v) < 1e15:
            return str(int(v))
    return str(v).strip()


def drop_non_records(table: pd.DataFrame, first_row: int, info: dict) -> RawTable:
    """Keep the records of a spreadsheet-like table whose first data line is ``first_row``.

    Blank lines and comment lines (first cell starts with ``#``, like the template's
    examples) are not records: they are dropped and counted in ``info``.

    Parameters
    ----------
    table
        Every line below the header, as text.
    first_row
        Row number of the first line as a person sees it.
    info
        How the file was read; ``skipped_blank`` and ``skipped_comment`` are added.

    Returns
    -------
    RawTable
    """
    rows = np.arange(first_row, first_row + len(table))
    if len(table.columns):
        blank = (table == "").all(axis=1).to_numpy()
        comment = table.iloc[:, 0].astype(str).str.lstrip().str.startswith("#").to_numpy()
    else:
        blank = comment = np.ones(len(table), bool)
    keep = ~(blank | comment)
    info["skipped_blank"], info["skipped_comment"] = int(blank.sum()), int((comment & ~blank).sum())
    return RawTable(table[keep].reset_index(drop=True), rows[keep], info)

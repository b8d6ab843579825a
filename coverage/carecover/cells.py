"""Text from inputs as spreadsheet cells: never a formula, never a crash.

* CSV (OWASP's CSV-injection rule): text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return gets a leading apostrophe, so Excel and WPS show it as text instead of running
  it; the original stays readable after the apostrophe.
* XLSX: text cells are written as strings, never formulas (openpyxl would turn ``=…`` into
  one), and the control characters XLSX cannot hold (NUL, ``\\x0b``, ESC …) are written as
  visible ``\\xNN`` escapes instead of failing the export after the whole run.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

#: Leading characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(v: Any) -> Any:
    """``v`` for a CSV cell: text that a spreadsheet would run is prefixed with ``'``."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return v


def xlsx_text(v: Any) -> Any:
    """``v`` for an XLSX cell: control characters XLSX forbids shown as ``\\xNN``."""
    if isinstance(v, str):
        return ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
    return v


def as_text_cells(row) -> None:
    """Make every cell of a just-appended worksheet row that openpyxl took for a formula a
    plain string again (the text came from an input, not from us)."""
    for cell in row:
        if cell.data_type == "f":
            cell.data_type = "s"

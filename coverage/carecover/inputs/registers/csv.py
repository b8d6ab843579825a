"""CSV / TXT / TSV registers: encoding and delimiter detection, header row, records.

CSV/TXT/TSV 登记表：自动识别编码（UTF-8、UTF-8 带 BOM、UTF-16、GBK/GB18030）和分隔符
（逗号、制表符、分号），表头行可不在第一行。
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pandas as pd

from carecover.errors import InputError
from carecover.inputs.registers.headers import check_one_header_row, header_row
from carecover.inputs.registers.table import RawTable, drop_non_records

__all__ = ["SUFFIXES", "detect_encoding", "read_csv"]

#: File name endings read as delimited text.
SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
_DELIMITERS = [",", "\t", ";"]


def detect_encoding(path: Path) -> str:
    """The text encoding of ``path``: a BOM when there is one, else UTF-8, else GB18030.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        ``utf-8-sig``, ``utf-16``, ``utf-8`` or ``gb18030`` (which decodes GBK too; Excel in
        Chinese saves CSV as GBK).

    Raises
    ------
    InputError
        The file is empty, binary (NUL bytes) or decodes in none of those.
    """
    raw = path.read_bytes()
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise InputError("文件为空 / the file is empty", file=path)
    if raw.startswith(codecs.BOM_UTF8):
        try:
            raw[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            # a UTF-8 BOM in front of GBK text (an editor added the BOM, not the encoding)
            line = raw[: exc.start + 3].count(b"\n") + 1
            raise InputError(f"文件以 UTF-8 BOM 开头，但第 {line} 行不是 UTF-8 文本（可能是 GBK）/ the file starts "
                             f"with a UTF-8 BOM but row {line} is not UTF-8 (GBK text after a BOM?)",
                             file=path, row=line,
                             expected="one encoding throughout: save as UTF-8 (with or without BOM) or GBK") from None
        return "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in raw[:65536]:
        raise InputError("不是文本文件 / not a text (CSV) file", file=path,
                         expected="CSV in UTF-8 or GBK, or an .xlsx workbook")
    for enc in ("utf-8", "gb18030"):
        try:
            raw.decode(enc)
            return enc
        except UnicodeDecodeError:
            continue
    raise InputError("无法识别文件编码 / cannot decode the file", file=path,
                     expected="UTF-8, UTF-8 with BOM or GBK/GB18030")


def _delimiter(head: str) -> str:
    """The delimiter used most on the first ten non-blank lines."""
    lines = [ln for ln in head.splitlines()[:10] if ln.strip()]
    return max(_DELIMITERS, key=lambda c: sum(ln.count(c) for ln in lines)) if lines else ","


def _body(path: Path, enc: str, sep: str, skip: int, header: list[str]) -> pd.DataFrame:
    """Every line below the header as text, blank lines kept (they are counted, not records)."""
    try:
        df = pd.read_csv(path, encoding=enc, sep=sep, header=None, skiprows=skip, dtype=str,
                         keep_default_na=False, na_filter=False, skip_blank_lines=False,
                         names=list(range(max(len(header), 1))), engine="c")
    except pd.errors.EmptyDataError:
        df = pd.DataFrame(columns=list(range(len(header))), dtype=str)
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"CSV 格式错误 / malformed CSV: {exc}", file=path) from None
    df = df.fillna("")
    df.columns = header + [f"_extra{i}" for i in range(len(df.columns) - len(header))]
    return df


def read_csv(path: Path) -> RawTable:
    """Read a delimited text register into the table contract.

    Parameters
    ----------
    path
        ``.csv``, ``.txt`` or ``.tsv`` file.

    Returns
    -------
    RawTable
        Records as text; ``info``: ``encoding`` (``gbk/gb18030`` for GB files),
        ``delimiter``, ``header_row`` (1-based), lines skipped as blank or comment.

    Raises
    ------
    InputError
        Empty, binary, undecodable or malformed file.
    """
    enc = detect_encoding(path)
    with open(path, encoding=enc, newline="") as fh:
        head = fh.read(65536)
    sep = _delimiter(head)
    records = list(csv.reader(io.StringIO(head), delimiter=sep))[:20]
    h = header_row(records)
    check_one_header_row(records, h, path)
    header = [c.strip() for c in records[h]] if records else []
    df = _body(path, enc, sep, h + 1, header)
    info = {"encoding": "gbk/gb18030" if enc == "gb18030" else enc, "delimiter": sep,
            "header_row": h + 1}
    return drop_non_records(df, h + 2, info)

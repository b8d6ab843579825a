"""Input files read whole: only regular files, of a stated size, parsed without unbounded recursion.

只读取普通文件，且大小不超过规定上限；TOML 嵌套过深时给出一行错误，而非 RecursionError。

A device (``/dev/zero``), a pipe or a folder given where a file is expected would otherwise be
read into memory until the machine runs out; a file larger than the stated limit is refused
with one line naming the file and the limit (as GDAL refuses what it cannot hold).
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import Any

from carecover.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["MAX_TEXT_BYTES", "MAX_TABLE_BYTES", "not_special", "regular_file", "read_text", "read_toml", "size_text"]

#: Largest configuration-like text file read whole (TOML config, areas, claims, JSON state): 64 MiB.
MAX_TEXT_BYTES = 64 * 1024**2
#: Largest register (CSV, XLSX, GeoJSON, GeoPackage) read: 1 GiB.
MAX_TABLE_BYTES = 1024**3


def size_text(n: int) -> str:
    """``n`` bytes in MiB or GiB, for messages.

    Parameters
    ----------
    n
        A size in bytes.

    Returns
    -------
    str
    """
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / 1024**2:g} MiB"


def regular_file(path: str | Path, what: str, limit: int, *, missing: str | None = None) -> Path:
    """``path`` if it is a regular file no larger than ``limit`` bytes.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (e.g. ``"areas file / 区域文件"``).
    limit
        Largest size accepted, in bytes.
    missing
        Message when the file does not exist (default: "<what> not found").

    Returns
    -------
    Path

    Raises
    ------
    InputError
        Missing, not a regular file (device, pipe, folder), or larger than ``limit``.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(missing or f"找不到{what} / {what} not found", file=path) from None
    except OSError as exc:
        raise InputError(f"无法读取{what} / cannot read the {what}: {exc.strerror}", file=path) from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"不是普通文件 / not a regular file ({what})", file=path,
                         expected="a regular file, not a device, pipe or folder")
    if st.st_size > limit:
        raise InputError(f"文件过大 / the {what} is too large: {size_text(st.st_size)} > limit {size_text(limit)}",
                         file=path)
    return path


def not_special(path: str | Path, what: str, *, folder_suffixes: tuple[str, ...] = ()) -> Path:
    """``path`` unless it is a pipe, socket or device (opening one would wait or read forever).

    For files handed to a library that opens them itself (GDAL, pyogrio, numpy, osmium): a
    missing path is left to the reader's own message; a folder passes only when its suffix is
    one of ``folder_suffixes`` (a FileGDB is a folder).

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message.
    folder_suffixes
        Folder suffixes accepted (lower case, e.g. ``(".gdb",)``).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        A pipe, socket or device, or a folder not accepted.

    Examples
    --------
    >>> not_special("/dev/null", "population raster")
    Traceback (most recent call last):
    ...
    carecover.errors.InputError: /dev/null: 不是普通文件 / not a regular file (population raster) (expected a regular file, not a device, pipe or folder)
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError:
        return path
    if stat.S_ISDIR(st.st_mode) and path.suffix.lower() in folder_suffixes:
        return path
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"不是普通文件 / not a regular file ({what})", file=path,
                         expected="a regular file, not a device, pipe or folder")
    return path


def read_text(path: str | Path, what: str, limit: int | None = None, *, missing: str | None = None) -> str:
    """A UTF-8 text file (a leading BOM dropped), checked by :func:`regular_file` first.

    Parameters
    ----------
    path, what, limit, missing
        As for :func:`regular_file` (``limit`` default: :data:`MAX_TEXT_BYTES`).

    Returns
    -------
    str

    Raises
    ------
    InputError
        As :func:`regular_file`, or the file is not UTF-8.
    """
    path = regular_file(path, what, MAX_TEXT_BYTES if limit is None else limit, missing=missing)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"不是 UTF-8 文本 / not UTF-8 text at byte {exc.start}", file=path,
                         expected="a file saved as UTF-8") from None


def read_toml(path: str | Path, what: str, *, missing: str | None = None) -> dict[str, Any]:
    """A TOML file as a dict: a regular file of at most :data:`MAX_TEXT_BYTES`, UTF-8 with or
    without a BOM, nesting bounded by the interpreter's recursion limit (refused in one line).

    Parameters
    ----------
    path, what, missing
        As for :func:`regular_file`.

    Returns
    -------
    dict

    Raises
    ------
    InputError
        Naming the file: missing, not a regular file, too large, not UTF-8, not valid TOML,
        or nested too deeply.
    """
    text = read_text(path, what, missing=missing)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"不是有效的 TOML / not valid TOML: {exc}", file=path) from None
    except RecursionError:
        raise InputError("TOML 嵌套过深 / the TOML is nested too deeply to read", file=path,
                         expected="arrays and inline tables nested a few levels, as in the documented examples") from None

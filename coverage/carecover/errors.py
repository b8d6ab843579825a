"""Errors with the file, row and field they concern.

Every problem with user input is raised as :class:`InputError`; the command line turns it into
one clear message and exit status 2, and never leaves half-written output behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class CarecoverError(Exception):
    """Base class for errors this package raises on purpose."""


class InputError(CarecoverError):
    """Bad user input, located as precisely as possible.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    file
        The input file concerned.
    row
        1-based row number as a person sees it (for CSV/XLSX the header is row 1).
    field
        Column, key or property name.
    expected
        What would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        field: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.field = field
        self.expected = expected
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field '{self.field}'")
        text = (": ".join(where) + ": " if where else "") + self.message
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class NetworkError(InputError):
    """The street network could not be read or leaves nothing to route on."""


def check_inputs_exist(named: Iterable[tuple[Any, str]]) -> None:
    """Every named input file exists: one error listing each missing file with the option it was
    given to (``carecover plan`` checks its arguments so before the heavy imports; the Python
    front door's options are checked the same way, so both say the same words).

    Parameters
    ----------
    named
        ``(path, option)`` pairs; ``None`` paths and URLs (``scheme://``) are skipped.

    Raises
    ------
    InputError
        "missing inputs", naming the first missing file and its option.
    """
    missing = [(Path(path), flag) for path, flag in named
               if path is not None and not re.match(r"^[a-z][a-z0-9+.-]*://", str(path))  # URLs: later
               and not Path(path).exists()]
    if missing:
        raise InputError("missing inputs / 缺少输入（文件不存在 / file not found）:\n  "
                         + "\n  ".join(f"{flag} {path}" for path, flag in missing),
                         file=missing[0][0], field=missing[0][1])

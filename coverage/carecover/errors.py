"""Errors with the file, row and field they concern.

Every problem with user input is raised as :class:`InputError`; the command line turns it into
one clear message and exit status 2, and never leaves half-written output behind.
"""

from __future__ import annotations

from pathlib import Path


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

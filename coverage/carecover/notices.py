"""Warnings and findings of a run: shown once, prominently, and kept for the summary.

Built on the standard :mod:`warnings` machinery, so library warnings are caught by the same
means: :func:`warn` raises a :class:`CarecoverWarning` (a value legal but unusual, a tier with no
usable facility, an input read only in part); :func:`collect` records every warning raised inside
it, logs carecover's own as one ``WARNING`` line each (shown also with ``--quiet``) and keeps library
warnings (matplotlib, pyogrio …) off the console.

Kinds: ``warning`` (look at this before trusting a figure) and ``reduction`` (an input was read
only in part, or a setting reduced it — a finding, never a silent default).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from carecover.logs import LOGGER

_STACK: list[list[Notice]] = []


@dataclass(frozen=True)
class Notice:
    """One warning or finding of a run.

    Attributes
    ----------
    code
        Stable identifier (``no_usable_facility``, ``unusual_value``, ``reduced_input`` …).
    message
        The text, Chinese first then English (``中文 / English``).
    kind
        ``warning`` or ``reduction``; ``library`` for a warning raised by a library.
    file, field, value
        What it concerns: the input file, the option or key, the value.
    """

    code: str
    message: str
    kind: str = "warning"
    file: str | None = None
    field: str | None = None
    value: str | None = None

    def line(self) -> str:
        """The one line the console shows."""
        where = ": ".join(x for x in (self.file, f"'{self.field}'" if self.field else None) if x)
        label = "发现 / finding" if self.kind == "reduction" else "警告 / warning"
        return f"⚠ {label}: " + (f"{where}: " if where else "") + self.message


class CarecoverWarning(UserWarning):
    """A :class:`Notice` travelling through :mod:`warnings`."""

    def __init__(self, notice: Notice) -> None:
        super().__init__(notice.message)
        self.notice = notice


def warn(code: str, message: str, *, kind: str = "warning", file: object = None,
         field: str | None = None, value: object = None) -> None:
    """Raise one warning of the run (shown once on stderr and written into the summary).

    Parameters
    ----------
    code
        Stable identifier of the kind of problem.
    message
        ``中文 / English`` text naming the value and what to do.
    kind
        ``warning`` or ``reduction``.
    file, field, value
        Where the value came from (input file or config, option or key) and the value.
    """
    notice = Notice(code, message, kind, None if file is None else str(file), field,
                    None if value is None else str(value))
    warnings.warn(CarecoverWarning(notice), stacklevel=2)


def _notice_of(message: Warning | str, category: type[Warning]) -> Notice:
    if isinstance(message, CarecoverWarning):
        return message.notice
    return Notice("library", f"{category.__name__}: {message}", "library")


@contextlib.contextmanager
def collect(echo: bool = True, seed: Iterable[Notice] = ()) -> Iterator[list[Notice]]:
    """Record every warning raised inside the block (each distinct one once).

    Parameters
    ----------
    echo
        Log carecover's own warnings as they come (``WARNING`` records of the ``carecover``
        logger, :mod:`carecover.logs`; library warnings never are).
    seed
        Notices recorded earlier (a computed plan's, when it is published): kept first, not
        shown again.

    Yields
    ------
    list of Notice
        Filled while the block runs.
    """
    found: list[Notice] = list(seed)

    def show(message, category, filename, lineno, file=None, line=None) -> None:  # noqa: ARG001
        notice = _notice_of(message, category)
        if notice in found:
            return
        found.append(notice)
        if echo and notice.kind != "library":
            LOGGER.warning(notice.line())

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        _STACK.append(found)
        try:
            yield found
        finally:
            _STACK.pop()


def replay(found: Iterable[Notice]) -> None:
    """Raise recorded notices again (a stage read from the cache says what it said when run)."""
    for notice in found:
        warnings.warn(CarecoverWarning(notice), stacklevel=2)


def insert(found: Iterable[Notice], at: int) -> None:
    """Put notices recorded elsewhere (a worker process, which already showed them) into the
    innermost :func:`collect` at position ``at``, as if raised there; none is shown again."""
    if not _STACK:
        return
    rec, new = _STACK[-1], []
    for n in found:  # each once, as collect() records them
        if n not in new and n not in rec[:at]:
            new.append(n)
    rest = [n for n in rec[at:] if n not in new]
    rec[at:] = [*new, *rest]


def drop(code: str) -> list[Notice]:
    """Remove the notices of ``code`` from the innermost :func:`collect` (a later, fuller
    statement of the same fact replaces them); returns those removed."""
    if not _STACK:
        return []
    rec = _STACK[-1]
    gone = [n for n in rec if n.code == code]
    rec[:] = [n for n in rec if n.code != code]
    return gone


def current() -> list[Notice]:
    """The notices recorded so far by the innermost :func:`collect` (empty outside one)."""
    return list(_STACK[-1]) if _STACK else []


def as_dicts(found: Iterable[Notice]) -> list[dict]:
    """Notices as ``summary.json`` lists them: carecover's own only (library warnings depend on
    library versions and on what was read from a cache, and equal inputs must give equal files)."""
    return [asdict(n) for n in found if n.kind != "library"]

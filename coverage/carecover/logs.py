"""carecover's messages through Python's :mod:`logging`: one logger, ``carecover``.

Progress messages are ``INFO`` records, stage timings ``DEBUG``, a run's warnings (the notices
of :mod:`carecover.notices`) ``WARNING``. As a library, carecover only adds a
:class:`logging.NullHandler`: a notebook or a server sees nothing on its console unless it
configures logging (``logging.basicConfig(level=logging.INFO)``, or :func:`console`). The
``carecover`` command installs :func:`console`: ``--quiet`` shows warnings only, ``-v`` adds the
stage timings.
"""

from __future__ import annotations

import logging
import sys
import time

__all__ = ["LOGGER", "console", "remove_console", "showing_progress"]

#: The package's logger (every module logs through it).
LOGGER = logging.getLogger("carecover")
LOGGER.addHandler(logging.NullHandler())

_T0 = time.perf_counter()


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (tests capture it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # noqa: D102 - the current stderr
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class _Format(logging.Formatter):
    """Progress with the seconds since the start (``[   12.3 s] …``); warnings as they are."""

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        if record.levelno >= logging.WARNING:
            return text
        return f"[{time.perf_counter() - _T0:7.1f} s] {text}"


def console(level: int = logging.INFO) -> logging.Handler:
    """Show carecover's messages on stderr from ``level`` up (what the command line does).

    Installing it again replaces the earlier console handler (one line per message).

    Parameters
    ----------
    level
        ``logging.INFO`` (progress), ``logging.WARNING`` (``--quiet``) or ``logging.DEBUG``
        (``-v``: also each stage's wall and CPU seconds).

    Returns
    -------
    logging.Handler
        The handler (remove it with ``LOGGER.removeHandler``).
    """
    remove_console()
    handler = _Stderr()
    handler.setFormatter(_Format())
    LOGGER.addHandler(handler)
    LOGGER.setLevel(level)
    LOGGER.propagate = False
    return handler


def remove_console() -> None:
    """Remove :func:`console`'s handler: carecover is silent again unless logging is configured."""
    for h in [h for h in LOGGER.handlers if isinstance(h, _Stderr)]:
        LOGGER.removeHandler(h)
    LOGGER.setLevel(logging.NOTSET)
    LOGGER.propagate = True


def showing_progress() -> bool:
    """Whether progress bars are wanted: a console handler shows ``INFO`` messages."""
    return LOGGER.isEnabledFor(logging.INFO) and any(isinstance(h, _Stderr) for h in LOGGER.handlers)

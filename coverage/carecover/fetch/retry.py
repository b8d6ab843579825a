"""The retry policy of every request: exponential backoff with a deterministic jitter,
``Retry-After`` honoured, capped at :data:`MAX_DELAY_S`."""

from __future__ import annotations

import contextlib
import datetime as _dt
import email.utils
import time
import zlib
from collections.abc import Callable
from typing import Any

from carecover.fetch.errors import FatalError, FetchError, RetryableError
from carecover.utils import log

#: Longest wait between two attempts (seconds), whatever the backoff or Retry-After says.
MAX_DELAY_S = 60.0


def _delay(url: str, attempt: int, backoff: float, retry_after: float | None) -> float:
    """Exponential backoff with a deterministic jitter (so runs are reproducible)."""
    jitter = (zlib.crc32(f"{url}#{attempt}".encode()) % 1000) / 4000.0  # 0 … +25 %
    delay = backoff * (2 ** (attempt - 1)) * (1.0 + jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_DELAY_S)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number or an HTTP date), else ``None``."""
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())
    return None


def run_with_retries(url: str, step: Callable[[int], Any], *, retries: int,
                      backoff: float) -> tuple[Any, int]:
    """Call ``step(attempt)`` until it returns; retry on :class:`RetryableError`, stop on :class:`FatalError`.

    Returns
    -------
    tuple
        What ``step`` returned and the number of attempts made.

    Raises
    ------
    FetchError
        On a :class:`FatalError`, or on a :class:`RetryableError` after ``retries`` extra attempts.
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            return step(attempt), attempt
        except FatalError as exc:
            raise FetchError(str(exc), url=url, attempts=attempt, cause=exc.__cause__) from exc
        except RetryableError as exc:
            if attempt > retries:
                raise FetchError(f"gave up after {attempt} attempts: {exc}", url=url,
                                 attempts=attempt, cause=exc.__cause__ or exc) from exc
            if not exc.immediate:
                time.sleep(_delay(url, attempt, backoff, exc.retry_after))
            log(f"重试 / retrying ({attempt}/{retries}) {url}: {exc}")

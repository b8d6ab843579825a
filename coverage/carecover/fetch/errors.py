"""How a download fails: :class:`FetchError` for callers; ``RetryableError`` / ``FatalError`` inside a request."""

from __future__ import annotations

from carecover.errors import CarecoverError


class FetchError(CarecoverError):
    """A download failed for good (after retries, or at once for a permanent error).

    Parameters
    ----------
    message
        What went wrong, in plain words.
    url
        The URL concerned.
    attempts
        How many requests were made.
    cause
        The last underlying error, if any.
    """

    def __init__(self, message: str, *, url: str, attempts: int = 0,
                 cause: BaseException | str | None = None) -> None:
        self.message = message
        self.url = url
        self.attempts = attempts
        self.cause = cause
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"下载失败 / download failed: {self.url}: {self.message} (attempts: {self.attempts}"
        if self.cause is not None and str(self.cause) != self.message:
            text += f"; cause: {self.cause}"
        return text + ")"


class RetryableError(Exception):
    """A transient failure: try again (after a delay unless ``immediate``)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 immediate: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.immediate = immediate


class FatalError(Exception):
    """A permanent failure: no point retrying."""

"""Small shared helpers: atomic writes, hashing, progress bars, logging."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

from carecover.errors import InputError

T = TypeVar("T")

#: Set by the command line's ``--quiet`` (messages themselves follow the ``carecover`` logger's
#: level, :mod:`carecover.logs`).
QUIET = False
#: Progress bars shown (off in a worker process: the console shows the main process's bars).
BARS = True


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file beside ``path`` and rename it over ``path`` only on success.

    A crash or interrupt leaves either the old complete file or none, never half of one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        os.chmod(tmp, 0o666 & ~_umask())
        with open(tmp, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` for libraries that write by file name.

    The temporary file keeps the suffix of ``path`` so drivers chosen by extension still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def progress(iterable: Iterable[T], desc: str, total: int | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a progress bar on stderr when the ``carecover`` logger shows progress
    on a console (:func:`carecover.logs.showing_progress`: the command line without ``--quiet``)."""
    from carecover.logs import showing_progress

    if QUIET or not BARS or not showing_progress():
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False,
                disable=None if not os.environ.get("CARECOVER_PROGRESS") else False)


def log(message: str) -> None:
    """A progress message: an ``INFO`` record of the ``carecover`` logger (:mod:`carecover.logs`;
    the command line shows it on stderr with the seconds since start, unless ``--quiet``)."""
    from carecover.logs import LOGGER

    LOGGER.info(message)


def json_ready(obj: Any, digits: int = 6) -> Any:
    """``obj`` with plain JSON types only: numpy scalars and arrays converted, floats rounded to
    ``digits`` decimals, NaN and infinities as ``None`` (JSON has neither)."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): json_ready(v, digits) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v, digits) for v in obj]
    if isinstance(obj, np.ndarray):
        return json_ready(obj.tolist(), digits)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return round(f, digits) if np.isfinite(f) else None
    return obj


def run_datetime():
    """The run's timestamp (UTC, whole seconds): ``SOURCE_DATE_EPOCH`` when set (reproducible
    builds), else now."""
    from datetime import datetime, timezone

    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        ts = datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        if ts.year < 1970:
            raise ValueError
    except (ValueError, OverflowError, OSError):
        raise InputError(f"环境变量 SOURCE_DATE_EPOCH 无效 / SOURCE_DATE_EPOCH is not a valid time: {epoch!r}",
                         field="SOURCE_DATE_EPOCH",
                         expected="whole seconds since 1970-01-01 UTC, e.g. 1700000000, or unset") from None
    return ts.replace(microsecond=0)


def now_iso() -> str:
    """The run's timestamp as ISO text (see :func:`run_datetime`)."""
    return run_datetime().isoformat()

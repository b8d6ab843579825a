"""Robust HTTP downloads: stream to ``.part``, resume with ``Range``, retry, check, then rename.

:func:`download` streams a URL to ``dest + ".part"``, resumes with an HTTP ``Range`` request after
an interruption (guarded by ``If-Range`` so a changed file is fetched whole), retries transient
failures (:mod:`carecover.fetch.retry`), checks type, size and checksums, and only then renames
the ``.part`` to ``dest`` (so the cache never holds a partial file under its final name). A
sidecar ``dest + ".json"`` records where the file came from.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from carecover import utils
from carecover.fetch.cache import cached_download, file_md5, read_meta, utc_now, write_json
from carecover.fetch.errors import FatalError, FetchError, RetryableError
from carecover.fetch.retry import retry_after_seconds, run_with_retries
from carecover.utils import file_sha256, log

USER_AGENT = "carecover/0.1 (+https://github.com/; elderly-care coverage planning)"
CHUNK = 1 << 16
#: HTTP statuses worth another attempt (besides every 5xx).
RETRY_STATUS = frozenset({408, 429})

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def _type_ok(content_type: str | None, expected_types: Sequence[str] | None) -> bool:
    """True when ``content_type`` is acceptable.

    Without ``expected_types`` only HTML is refused (an error or login page is never a data file).
    A missing Content-Type is accepted: the size and checksum checks still apply.
    """
    base = (content_type or "").split(";")[0].strip().lower()
    if not base:
        return True
    if expected_types is None:
        return base not in ("text/html", "application/xhtml+xml")
    return any(fnmatchcase(base, pat.lower()) for pat in expected_types)


def _open(url: str, headers: dict[str, str], timeout: float) -> http.client.HTTPResponse:
    """Open ``url``; map HTTP and network errors to :class:`RetryableError` / :class:`FatalError`."""
    req = Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers})
    try:
        return urlopen(req, timeout=timeout)  # noqa: S310 (http/https URLs only)
    except HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code in RETRY_STATUS:
            raise RetryableError(f"HTTP {exc.code} {exc.reason}",
                         retry_after=retry_after_seconds(exc.headers)) from exc
        raise FatalError(f"HTTP {exc.code} {exc.reason}") from exc
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise RetryableError(f"connection failed: {reason}") from exc


@dataclass
class _Transfer:
    """One download into ``part``; :meth:`step` is one attempt (a request and its body).

    ``validator`` (ETag or Last-Modified) and ``total`` (the server's size) carry over from the
    ``.part.json`` of an earlier run, so that a resume is only accepted for the same file.
    """

    url: str
    part: Path
    part_meta_path: Path
    timeout: float
    expected_size: int | None
    expected_types: Sequence[str] | None
    validator: str | None = None
    total: int | None = None
    headers: dict[str, Any] = field(default_factory=dict)
    final_url: str | None = None
    bar: Any = None

    def _drop_part(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()

    def step(self, attempt: int) -> None:
        """One attempt: request (resuming the ``.part`` if any) and stream the body into it."""
        have = self.part.stat().st_size if self.part.exists() else 0
        resp = self._request(have)
        if resp is None:  # the .part was already complete
            return
        with resp:
            have, total, mode, to_read = self._accept(resp, have)
            self._remember(resp, total, mode)
            self._stream(resp, have, total, mode, to_read)

    def _request(self, have: int) -> http.client.HTTPResponse | None:
        """Open the URL, asking for the bytes after ``have``; ``None`` if there are none left."""
        headers: dict[str, str] = {}
        if have:
            headers["Range"] = f"bytes={have}-"
            if self.validator:
                # If the file changed since the .part was started, the server sends all of it.
                headers["If-Range"] = self.validator
        try:
            return _open(self.url, headers, self.timeout)
        except FatalError as exc:
            cause = exc.__cause__
            if have and isinstance(cause, HTTPError) and cause.code == 416:
                # Range not satisfiable: the .part may already be complete, else start again.
                m = re.search(r"/(\d+)", cause.headers.get("Content-Range", "") or "")
                if m and int(m.group(1)) == have:
                    self.total = have
                    return None
                self.part.unlink()
                raise RetryableError("server refused the resume range; restarting", immediate=True) from cause
            self._drop_part()
            raise

    def _accept(self, resp: http.client.HTTPResponse,
                have: int) -> tuple[int, int | None, str, int | None]:
        """Check type, status and announced size; return (have, total, file mode, bytes to read)."""
        ctype = resp.headers.get("Content-Type")
        if not _type_ok(ctype, self.expected_types):
            self._drop_part()
            raise FatalError(f"unexpected content type {ctype!r} (expected "
                         f"{', '.join(self.expected_types) if self.expected_types else 'not HTML'})")
        length = resp.headers.get("Content-Length")
        to_read = int(length) if length and length.isdigit() else None
        if resp.status == 206:
            m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "") or "")
            if not m or int(m.group(1)) != have:
                self.part.unlink()
                raise RetryableError(f"server answered 206 with Content-Range "
                             f"{resp.headers.get('Content-Range')!r} for a resume at {have}; "
                             "restarting", immediate=True)
            total = int(m.group(3)) if m.group(3) != "*" else None
            to_read = int(m.group(2)) - have + 1
            mode = "ab"
        elif resp.status == 200:
            if have:
                log(f"服务器不支持续传，重新下载 / server ignored the Range request, restarting: {self.url}")
            have, total, mode = 0, to_read, "wb"
        else:
            raise FatalError(f"unexpected HTTP status {resp.status}")
        if self.expected_size is not None and total is not None and total != self.expected_size:
            self._drop_part()
            raise FatalError(f"server announces {total} bytes, expected {self.expected_size}")
        return have, total, mode, to_read

    def _remember(self, resp: http.client.HTTPResponse, total: int | None, mode: str) -> None:
        """Keep the response's size and validator, also in ``.part.json`` for a later resume."""
        self.total, self.headers, self.final_url = total, dict(resp.headers), resp.geturl()
        validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
        if mode == "wb" or validator:
            self.validator = validator
        write_json(self.part_meta_path, {"url": self.url, "etag": resp.headers.get("ETag"),
                                          "last_modified": resp.headers.get("Last-Modified"),
                                          "total": total})

    def _stream(self, resp: http.client.HTTPResponse, have: int, total: int | None, mode: str,
                to_read: int | None) -> None:
        """Append (or write) the body to the ``.part``; a short body is a :class:`RetryableError`."""
        if self.bar is not None:
            self.bar.reset(total=total)
            self.bar.update(have)
        got = 0
        with open(self.part, mode) as fh:
            while True:
                try:
                    # read1: return what has arrived, so bytes before a stall are kept.
                    chunk = resp.read1(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise RetryableError(f"connection lost after {have + got} bytes: "
                                 f"{type(exc).__name__}: {exc}") from exc
                if not chunk:
                    break
                fh.write(chunk)
                got += len(chunk)
                if self.bar is not None:
                    self.bar.update(len(chunk))
        if to_read is not None and got < to_read:
            raise RetryableError(f"connection closed after {have + got} of "
                         f"{total if total is not None else have + to_read} bytes")


def _progress_bar(dest: Path, progress: bool) -> Any:
    """A byte progress bar on stderr, or ``None`` (not wanted, or ``carecover.utils.QUIET``)."""
    if not progress or utils.QUIET:
        return None
    from tqdm import tqdm

    return tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                desc=dest.name, leave=False)


def _commit(t: _Transfer, dest: Path, attempts: int, *, expected_size: int | None,
            sha256: str | None, md5: str | None, check: Callable[[Path], None] | None) -> None:
    """Check the finished ``.part``, rename it to ``dest`` and write the sidecar.

    A refused file leaves neither the ``.part`` nor its ``.part.json`` behind.
    """
    def refuse(message: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            t.part.unlink()
        with contextlib.suppress(FileNotFoundError):
            t.part_meta_path.unlink()
        raise FetchError(message, url=t.url, attempts=attempts)

    size = t.part.stat().st_size if t.part.exists() else 0
    if t.total is not None and size != t.total:
        refuse(f"size {size} bytes differs from the server's {t.total}")
    if expected_size is not None and size != expected_size:
        refuse(f"size {size} bytes differs from the expected {expected_size}")
    digest = file_sha256(t.part)
    if sha256 and digest != sha256.lower():
        refuse(f"SHA-256 mismatch: got {digest}, expected {sha256.lower()}")
    md5_digest = file_md5(t.part)
    if md5 and md5_digest != md5.lower():
        refuse(f"MD5 mismatch: got {md5_digest}, expected {md5.lower()}")
    if check is not None:
        try:
            check(t.part)
        except Exception as exc:  # noqa: BLE001 (any refusal by the caller's check)
            refuse(f"content check failed: {exc}")
    os.replace(t.part, dest)
    write_json(Path(f"{dest}.json"), {
        "url": t.url, "final_url": t.url if t.final_url is None else t.final_url, "size": size,
        "sha256": digest, "md5": md5_digest, "md5_verified": bool(md5),
        "sha256_verified": bool(sha256), "date": utc_now(), "etag": t.headers.get("ETag"),
        "last_modified": t.headers.get("Last-Modified"),
        "content_type": t.headers.get("Content-Type"), "attempts": attempts,
    })
    with contextlib.suppress(FileNotFoundError):
        t.part_meta_path.unlink()


def download(url: str, dest: str | Path, *, expected_size: int | None = None,
             sha256: str | None = None, md5: str | None = None, timeout: float = 30,
             retries: int = 4, backoff: float = 1.0, progress: bool = True,
             expected_types: Sequence[str] | None = None,
             check: Callable[[Path], None] | None = None, force: bool = True) -> Path:
    """Download ``url`` to ``dest`` robustly.

    Parameters
    ----------
    url
        HTTP(S) URL.
    dest
        Final path. Bytes go to ``dest + ".part"`` first; only after every check passes is it
        renamed to ``dest`` (``os.replace``).
    expected_size
        Size in bytes the file must have (checked as soon as the server announces a size, and at
        the end). The server's Content-Length / Content-Range total is always checked too.
    sha256, md5
        Hex digests the file must match. On mismatch nothing is left at ``dest`` and the ``.part``
        is deleted, so a later run starts afresh rather than taking it as complete.
    timeout
        Seconds for connecting and for each socket read: a stall longer than this is a failure
        and is retried (resuming where it stopped).
    retries
        Extra attempts after the first on connection errors, timeouts, truncated bodies, HTTP 5xx,
        408 and 429 (``Retry-After`` honoured, capped at :data:`MAX_DELAY_S`). Other 4xx fail at once.
    backoff
        First delay in seconds; doubled at every attempt, plus a deterministic jitter of 0–25 %.
    progress
        Show a byte progress bar on stderr (never when ``carecover.utils.QUIET``).
    expected_types
        Accepted Content-Type patterns (``fnmatch``, e.g. ``"image/*"``). ``None`` accepts anything
        except HTML. A refused type fails at once with the URL and the type in the message.
    check
        Extra validation of the finished ``.part`` (e.g. magic bytes); raise to refuse the file.
    force
        When False and ``dest`` is a complete earlier download of the same URL (per its sidecar
        and the given size/checksums), return it without any request.

    Returns
    -------
    Path
        ``dest``. A sidecar ``dest + ".json"`` holds url, final url, size, sha256, md5, date,
        ETag, Last-Modified, Content-Type and the number of attempts.

    Raises
    ------
    FetchError
        With the URL, the attempt count and the cause. After a transient failure that exhausted the
        retries the ``.part`` is kept so that the next call resumes; after a permanent one
        (bad type, size, checksum, 4xx) it is removed.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not force and cached_download(dest, url, sha256, md5, expected_size):
        return dest
    part = Path(f"{dest}.part")
    part_meta_path = Path(f"{dest}.part.json")
    # A .part is resumed only if we know which URL and which version of the file it holds.
    part_meta = read_meta(part_meta_path)
    if part.exists() and part_meta.get("url") != url:
        part.unlink()
    transfer = _Transfer(url=url, part=part, part_meta_path=part_meta_path, timeout=timeout,
                         expected_size=expected_size, expected_types=expected_types,
                         validator=part_meta.get("etag") or part_meta.get("last_modified"),
                         total=part_meta.get("total"))
    transfer.bar = _progress_bar(dest, progress)
    try:
        _, attempts = run_with_retries(url, transfer.step, retries=retries, backoff=backoff)
    finally:
        if transfer.bar is not None:
            transfer.bar.close()
    _commit(transfer, dest, attempts, expected_size=expected_size, sha256=sha256, md5=md5,
            check=check)
    return dest


def fetch_text(url: str, *, timeout: float = 30, retries: int = 4, backoff: float = 1.0,
               max_bytes: int = 1 << 16) -> str:
    """GET a small text resource (e.g. an ``.md5`` file) with the same retry policy.

    Parameters
    ----------
    url
        HTTP(S) URL.
    timeout, retries, backoff
        As for :func:`download`.
    max_bytes
        Refuse a longer response (a small text file was expected).

    Returns
    -------
    str
        The body decoded as UTF-8 (undecodable bytes replaced).

    Raises
    ------
    FetchError
        As for :func:`download`.
    """

    def step(attempt: int) -> str:
        resp = _open(url, {}, timeout)
        with resp:
            try:
                data = resp.read(max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise RetryableError(f"connection lost: {exc}") from exc
        if len(data) > max_bytes:
            raise FatalError(f"response larger than {max_bytes} bytes")
        return data.decode("utf-8", errors="replace")

    return run_with_retries(url, step, retries=retries, backoff=backoff)[0]

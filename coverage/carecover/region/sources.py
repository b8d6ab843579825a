"""Inputs by path or URL: a worker reads a local path as it is and fetches a URL once.

输入文件：本地路径直接读取，URL 下载一次并缓存（再次使用前按 ETag/Last-Modified 校验）。

- ``file://…`` names a local file: it is read in place, exactly like the path itself (a
  missing file, or one that is no input, ends in one line).
- ``http(s)://…`` is downloaded with ``requests`` (connect and read time-outs: a server that
  never answers ends the run with one line, exit 3; a 404 is named as such, exit 2) into
  ``<cache>/inputs/<hash of the URL>/<file name>``, the file name (and so the reader, chosen by
  suffix) taken from the URL's path, never its query string. The server's ETag and
  Last-Modified are kept beside the copy; the next run asks the server whether the copy is
  still current (``If-None-Match``/``If-Modified-Since``) and downloads it again when it is
  not. When the server cannot be asked, the old copy is used and one line says so.
- Any other protocol fsspec knows (``s3://…``) is copied once with ``fsspec.open``.

Copies are written to a ``.part`` file and renamed when complete, in a private folder (0700).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from carecover.errors import CarecoverError, InputError

__all__ = ["is_url", "local_path", "url_file_name", "forget_checks", "CONNECT_TIMEOUT_S", "READ_TIMEOUT_S"]

#: Seconds to wait for a server to accept the connection, and between two reads of its answer.
CONNECT_TIMEOUT_S = 10.0
READ_TIMEOUT_S = 60.0
#: URLs revalidated by this process already (a run asks each server once).
_CHECKED: set[str] = set()


def is_url(text: str | Path) -> bool:
    """Whether an input is a URL (``protocol://…``) rather than a local path."""
    return "://" in str(text)


def forget_checks() -> None:
    """Forget which URLs this process revalidated (the next :func:`local_path` asks again, as
    a new run would)."""
    _CHECKED.clear()


def url_file_name(url: str) -> str:
    """The file name of a URL: the last part of its path (query and fragment ignored), made
    safe as a file name (``input`` when the path has none)."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    name = re.sub(r'[\x00-\x1f/\\:*?"<>|]', "_", name).strip(" .")
    return name[-120:] or "input"


def local_path(source: str | Path, cache_dir: Path, *, revalidate: bool = True,
               timeout: tuple[float, float] | None = None) -> Path:
    """A local file for an input: the path itself, or the URL's cached copy.

    Parameters
    ----------
    source
        Local path or URL.
    cache_dir
        Folder for copies of URLs.
    revalidate
        Ask an http(s) server whether an existing copy is current (once per process and URL);
        ``False`` (workers, after the client checked) uses an existing copy as it is.
    timeout
        ``(connect, read)`` seconds for http(s) (default :data:`CONNECT_TIMEOUT_S`,
        :data:`READ_TIMEOUT_S`).

    Returns
    -------
    Path

    Raises
    ------
    InputError
        A ``file://`` URL that names no file, or a URL the server says does not exist (404,
        410) or refuses (401, 403) (exit 2).
    CarecoverError
        When the URL cannot be read: no answer in time, a server error (exit 3).
    """
    if not is_url(source):
        return Path(source)
    url = str(source)
    scheme = urlsplit(url).scheme.lower()
    if scheme == "file":
        path = Path(unquote(urlsplit(url).path))
        if not path.is_file():
            raise InputError("file:// 输入不存在 / the file:// input names no file", file=url,
                             expected="file:///absolute/path/to/an/existing/file")
        return path
    target = Path(cache_dir) / "inputs" / hashlib.sha256(url.encode()).hexdigest()[:16] / url_file_name(url)
    if scheme in ("http", "https"):
        return _http(url, target, revalidate, timeout or (CONNECT_TIMEOUT_S, READ_TIMEOUT_S))
    if target.is_file():
        return target
    return _fsspec(url, target)


def _fsspec(url: str, target: Path) -> Path:
    import fsspec

    from carecover.datastore import private_dir

    private_dir(target.parent)
    part = target.with_name(target.name + ".part")
    try:
        with fsspec.open(url, "rb") as src, open(part, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    except Exception as exc:  # noqa: BLE001 - any protocol's failure is one download error
        part.unlink(missing_ok=True)
        raise CarecoverError(f"cannot read {url}: {type(exc).__name__}: {str(exc)[:200]} / 无法读取输入") from exc
    part.replace(target)
    return target


def _http(url: str, target: Path, revalidate: bool, timeout: tuple[float, float]) -> Path:
    """Download ``url`` to ``target``, or keep the copy there when the server says it is current."""
    import requests

    meta_path = target.with_name(target.name + ".source.json")
    have = target.is_file()
    if have and (not revalidate or url in _CHECKED):
        return target
    meta = _read_meta(meta_path) if have else {}
    headers = {}
    if have and meta.get("etag"):
        headers["If-None-Match"] = meta["etag"]
    if have and meta.get("last_modified"):
        headers["If-Modified-Since"] = meta["last_modified"]
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout) as r:
            if r.status_code == 304 and have:
                _CHECKED.add(url)
                return target
            _raise_for_status(url, r.status_code, r.reason)
            _save(r, target)
            meta = {"url": url, "etag": r.headers.get("ETag"), "last_modified": r.headers.get("Last-Modified"),
                    "fetched": time.strftime("%Y-%m-%d %H:%M:%S")}
            meta_path.write_text(json.dumps(meta), encoding="utf-8")
    except requests.Timeout as exc:
        if have:
            return _old_copy(url, target, meta, f"no answer within {timeout[0]:g}/{timeout[1]:g} s")
        raise CarecoverError(f"{url}: 服务器无应答 / the server did not answer within {timeout[0]:g} s (connect) / "
                             f"{timeout[1]:g} s (read)") from exc
    except requests.RequestException as exc:
        if have:
            return _old_copy(url, target, meta, type(exc).__name__)
        raise CarecoverError(f"{url}: 无法下载 / cannot download ({type(exc).__name__}: {str(exc)[:160]})") from exc
    _CHECKED.add(url)
    return target


def _raise_for_status(url: str, code: int, reason: str | None) -> None:
    if code < 400:
        return
    if code in (404, 410):
        raise InputError(f"服务器上没有该文件 / not found on the server (HTTP {code})", file=url,
                         expected="the URL of an existing file")
    if code in (401, 403):
        raise InputError(f"服务器拒绝访问 / the server refused access (HTTP {code})", file=url,
                         expected="a URL readable without a login")
    raise CarecoverError(f"{url}: 服务器错误 / the server answered HTTP {code} {reason or ''}".rstrip())


def _save(r, target: Path) -> None:
    from carecover.datastore import private_dir

    private_dir(target.parent)
    part = target.with_name(target.name + ".part")
    try:
        with open(part, "wb") as dst:
            for block in r.iter_content(1 << 20):
                dst.write(block)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(target)


def _read_meta(path: Path) -> dict:
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _old_copy(url: str, target: Path, meta: dict, why: str) -> Path:
    from carecover import notices

    when = meta.get("fetched") or "?"
    notices.warn("old_url_copy", f"无法确认是否有更新，使用 {when} 下载的旧副本 / could not check for a newer "
                 f"version ({why}); using the copy downloaded {when}: {target}", file=url)
    _CHECKED.add(url)
    return target

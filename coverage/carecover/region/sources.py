"""Inputs by path or URL: a worker reads a local path as it is and fetches a URL once.

输入文件：本地路径直接读取，URL 经 fsspec 下载一次并缓存。

A URL (``https://…``, ``s3://…``, ``file://…`` — any protocol fsspec knows) is copied into
``<cache>/inputs/<hash of the URL>/`` with ``fsspec.open`` on first use, under the original
file name (readers choose by suffix), written to a ``.part`` file and renamed when complete;
later tasks on the same machine reuse the copy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from carecover.errors import CarecoverError

__all__ = ["is_url", "local_path"]


def is_url(text: str | Path) -> bool:
    """Whether an input is a URL (``protocol://…``) rather than a local path."""
    return "://" in str(text)


def local_path(source: str | Path, cache_dir: Path) -> Path:
    """A local file for an input: the path itself, or the URL's cached copy.

    Parameters
    ----------
    source
        Local path or URL.
    cache_dir
        Folder for copies of URLs.

    Returns
    -------
    Path

    Raises
    ------
    CarecoverError
        When the URL cannot be read (exit 3).
    """
    if not is_url(source):
        return Path(source)
    import fsspec

    url = str(source)
    name = url.rstrip("/").rsplit("/", 1)[-1] or "input"
    target = Path(cache_dir) / "inputs" / hashlib.sha256(url.encode()).hexdigest()[:16] / name
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    try:
        with fsspec.open(url, "rb") as src, open(part, "wb") as dst:
            while block := src.read(1 << 20):
                dst.write(block)
    except Exception as exc:  # noqa: BLE001 - any protocol's failure is one download error
        part.unlink(missing_ok=True)
        raise CarecoverError(f"cannot read {url}: {exc} / 无法读取输入") from exc
    part.replace(target)
    return target

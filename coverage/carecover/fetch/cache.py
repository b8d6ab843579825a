"""Sidecar files of downloads (``dest + ".json"``, ``dest + ".part.json"``) and the cache check."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from pathlib import Path
from typing import Any

from carecover.utils import atomic_write, file_sha256


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def read_meta(path: Path) -> dict[str, Any]:
    """A JSON sidecar as a dict; ``{}`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as sorted, indented UTF-8 JSON, atomically."""
    with atomic_write(path, encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")


def file_md5(path: Path) -> str:
    """Hex MD5 of a file (Geofabrik publishes MD5 sums; not used for security)."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cached_download(dest: Path, url: str, sha256: str | None, md5: str | None,
            expected_size: int | None) -> bool:
    """True when ``dest`` is a complete earlier download of ``url`` that still passes the checks."""
    meta = read_meta(Path(f"{dest}.json"))
    if not dest.is_file() or meta.get("url") != url or meta.get("size") != dest.stat().st_size:
        return False
    if expected_size is not None and dest.stat().st_size != expected_size:
        return False
    if sha256 and file_sha256(dest) != sha256.lower():
        return False
    return not (md5 and file_md5(dest) != md5.lower())

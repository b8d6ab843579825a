"""``carecover pack``: one archive with everything a meeting laptop needs.

The archive holds the plan's output folder (state files, maps, report, tables, saved
scenarios) and, under ``cache/networks/``, the network cache each state was routed on (the
arrays ``meet`` and ``whatif`` load; no OSM file and no internet needed). When a network has no
cache file, its OSM file goes under ``network/`` instead. Unpacked into any folder,
``carecover meet --out FOLDER`` and ``carecover whatif --out FOLDER`` find them there
(:mod:`carecover.siting.netfind`). Entries are sorted and dated by ``SOURCE_DATE_EPOCH`` (else
1980-01-01), so packing the same folder twice gives the same bytes.
"""

from __future__ import annotations

import argparse
import os
import time
import zipfile
from pathlib import Path

from carecover.errors import InputError

__all__ = ["pack", "run"]


def _stamp() -> tuple[int, int, int, int, int, int]:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return time.gmtime(max(int(epoch), 315532800))[:6]
    return (1980, 1, 1, 0, 0, 0)


def _networks(out: Path) -> dict[str, Path]:
    """``{archive name: file}`` of the networks the folder's states were routed on."""
    from carecover.siting.netfind import (
        PACKED_CACHE,
        PACKED_NETWORK,
        cache_candidates,
        file_candidates,
    )
    from carecover.siting.state import load_state, state_files

    extra: dict[str, Path] = {}
    for tier in state_files(out):
        rec = load_state(out, tier).network_record
        if rec is None:
            continue
        cache = next((p for p in cache_candidates(rec, out) if p.is_file()), None)
        if cache is not None:
            extra[(PACKED_CACHE / "networks" / cache.name).as_posix()] = cache
            continue
        osm = next((p for p in file_candidates(rec, out) if p.is_file()), None)
        if osm is None:
            tried = "; ".join(str(p.resolve()) for p in [*file_candidates(rec, out), *cache_candidates(rec, out)])
            raise InputError(f"找不到 {tier} 的路网文件或缓存 / no network file or cache for tier {tier} (tried: {tried})",
                             file=rec.file.resolve(), field="network")
        extra[(PACKED_NETWORK / osm.name).as_posix()] = osm
    return extra


def pack(out: str | Path, to: str | Path | None = None) -> Path:
    """Write the meeting archive of a plan output folder.

    Parameters
    ----------
    out
        The plan's output folder.
    to
        The archive (default ``<out>-meeting.zip`` beside the folder).

    Returns
    -------
    pathlib.Path
        The archive written.
    """
    from carecover.outputs.outfolder import MANIFEST
    from carecover.utils import atomic_write

    out = Path(out).resolve()
    if not (out / "state").is_dir():
        raise InputError(f"该目录没有选址状态 / no prepared state in {out / 'state'} (run `carecover plan "
                         "--suggest TIER=N` first)", file=out / "state")
    target = Path(to).resolve() if to is not None else out.parent / f"{out.name}-meeting.zip"
    files = {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*"))
             if p.is_file() and p.resolve() != target and not any(part.startswith(".") for part in p.relative_to(out).parts)}
    if (out / MANIFEST).is_file():  # the state files' SHA-256 travel with them (checked on load)
        files[MANIFEST] = out / MANIFEST
    files.update(_networks(out))
    stamp = _stamp()
    with atomic_write(target, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(files):
            info = zipfile.ZipInfo(f"{out.name}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with files[name].open("rb") as src, z.open(info, "w") as dst:
                while chunk := src.read(1 << 20):
                    dst.write(chunk)
    return target


def run(args: argparse.Namespace) -> int:
    """``carecover pack --out DIR [--to FILE]``."""
    path = pack(args.out, args.to)
    size = path.stat().st_size / 1e6
    print(f"会议包已写出 / meeting archive written: {path} ({size:.1f} MB)\n"
          f"解压后运行 / unpack, then run: carecover meet --out <解压目录 unpacked folder>/{Path(args.out).resolve().name}")
    return 0

"""Finding the plan's street network for a what-if, wherever the output folder went.

A state file names its network by the OSM file's content hash (``net_sha256``), the paths the
plan used and the same paths relative to the output folder (``net_file_rel``,
``net_cache_rel``). :func:`find_network` looks for the network cache first (a packed folder
carries it in ``cache/networks/``: no OSM file and no network needed), then for the OSM file
(as recorded, relative to the folder, or in ``network/`` of a packed folder), and checks the
content hash; a miss names every full path it tried.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from carecover.errors import InputError

__all__ = ["PACKED_CACHE", "PACKED_NETWORK", "cache_candidates", "file_candidates", "find_network"]

#: Where a packed folder keeps the network cache and (optionally) the OSM file.
PACKED_CACHE = Path("cache")
PACKED_NETWORK = Path("network")



@dataclass(frozen=True)
class NetworkRecord:
    """The network a plan routed on, as recorded in its state file.

    Attributes
    ----------
    file
        The OSM file.
    profile
        The travel profile (``network.make_profile`` dict).
    clip_wkb
        Hex WKB of the WGS-84 clip polygon, ``None`` for the whole extract.
    cache
        The network cache file the plan used (``None`` when not recorded).
    sha256
        The OSM file's hash (``None`` when not recorded).
    segments
        Number of network segments (``None`` when not recorded): a changed file is detected.
    file_rel, cache_rel
        ``file`` and ``cache`` relative to the output folder (``None`` when not recorded):
        found again when the folder moves with them.
    """

    file: Path
    profile: dict
    clip_wkb: str | None = None
    cache: str | None = None
    sha256: str | None = None
    segments: int | None = None
    file_rel: str | None = None
    cache_rel: str | None = None


def _unique(paths) -> list[Path]:
    out = []
    for p in paths:
        if p is not None:
            p = Path(p).expanduser().resolve()
            if p not in out:
                out.append(p)
    return out


def cache_candidates(rec: NetworkRecord, out_dir: Path | None) -> list[Path]:
    """Where the network cache may be: as recorded, relative to the folder, packed."""
    if not rec.cache:
        return []
    name = Path(rec.cache).name
    rel = [out_dir / rec.cache_rel if rec.cache_rel else None,
           out_dir / PACKED_CACHE / "networks" / name] if out_dir is not None else []
    return _unique([Path(rec.cache), *rel])


def file_candidates(rec: NetworkRecord, out_dir: Path | None) -> list[Path]:
    """Where the OSM file may be: as recorded, relative to the folder, packed."""
    rel = [out_dir / rec.file_rel if rec.file_rel else None,
           out_dir / PACKED_NETWORK / rec.file.name] if out_dir is not None else []
    return _unique([rec.file, *rel])


def _check_hash(net, rec: NetworkRecord, where: Path) -> None:
    got = (net.source or {}).get("sha256")
    if rec.sha256 and got and got != rec.sha256:
        raise InputError(f"路网文件内容与规划时不同 / the network's content differs from the plan's "
                         f"(sha256 {got[:12]}… ≠ {rec.sha256[:12]}…): {where.resolve()}", file=where.resolve(),
                         field="network")


def _read_only(path: Path, rec: NetworkRecord):
    """The network in a cache file a state points at, read only (never removed or rewritten),
    when it is a readable network of the recorded file (its SHA-256, when recorded) and
    profile; ``None`` otherwise."""
    if path.suffix != ".npz" or not path.is_file():
        return None
    from carecover.network.cache import load

    try:
        net = load(path)
    except Exception:  # noqa: BLE001 - not a readable network: looked for elsewhere
        return None
    source = net.source or {}
    if net.seg_name is None or net.profile != rec.profile:
        return None
    if rec.sha256 and source.get("sha256") != rec.sha256:
        return None
    net.source = dict(source, cache=str(path), from_cache=True)
    return net


def find_network(rec: NetworkRecord, out_dir: Path | None):
    """The plan's street network: its cache if found, else built from its OSM file.

    Parameters
    ----------
    rec
        The state's network record.
    out_dir
        The output folder the state lies in (``None``: only the recorded paths are tried).

    Returns
    -------
    carecover.network.streets.StreetNetwork

    Raises
    ------
    InputError
        When neither a matching cache nor the OSM file is found (every full path tried is named)
        or the file found has other content than the plan's.
    """
    from carecover.network.load import load_network

    for path in cache_candidates(rec, out_dir):
        net = _read_only(path, rec)
        if net is not None:
            return net
    files = file_candidates(rec, out_dir)
    found = next((p for p in files if p.is_file()), None)
    if found is None:
        tried = "; ".join(str(p.resolve()) for p in [*files, *cache_candidates(rec, out_dir)])
        raise InputError(f"找不到路网文件或路网缓存 / the plan's network file is gone (tried: {tried}); "
                         "copy it, or give --network PATH", file=rec.file.resolve(), field="network")
    clip = None
    if rec.clip_wkb:
        import shapely

        clip = shapely.from_wkb(rec.clip_wkb)
    # the cache folders a state names are only read, never written (a hand-edited state must not
    # make a what-if write where it says): a packed folder's own cache, else the user's
    packed = out_dir / PACKED_CACHE if out_dir is not None else None
    cache = packed if packed is not None and packed.is_dir() else True
    net = load_network(found, rec.profile, boundary=clip, cache=cache)
    _check_hash(net, rec, found)
    return net


def relative_paths(fields: dict, out_dir: Path) -> dict[str, np.ndarray]:
    """``net_file_rel``/``net_cache_rel``: the network's paths relative to the output folder
    (the staging folder lies beside it, so the same relative path holds once it is moved)."""
    import os

    out = {}
    for key, rel in (("net_file", "net_file_rel"), ("net_cache", "net_cache_rel")):
        val = str(fields.get(key, "") or "")
        if val:
            try:
                out[rel] = np.array(os.path.relpath(Path(val).resolve(), out_dir.resolve()))
            except ValueError:  # another drive (Windows)
                out[rel] = np.array("")
    return out

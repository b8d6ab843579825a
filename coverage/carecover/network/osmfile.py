"""Checks on OSM files before handing them to a parser.

A PBF file is a sequence of blobs, each introduced by a 4-byte length and a ``BlobHeader``
message. Walking those headers (without decompressing data) finds truncated or foreign files in
milliseconds, so the error names the file instead of surfacing deep inside a parser.
"""

from __future__ import annotations

import bz2
import gzip
import struct
import zlib
from datetime import datetime, timezone
from pathlib import Path

from carecover.errors import NetworkError


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> dict[int, list]:
    """Minimal protobuf decoder: field number -> list of values (ints or bytes)."""
    out: dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, pos = _varint(buf, pos)
        elif wire == 2:
            n, pos = _varint(buf, pos)
            val, pos = buf[pos:pos + n], pos + n
        elif wire == 1:
            val, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            val, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        out.setdefault(num, []).append(val)
    return out


def check_pbf(path: str | Path) -> dict:
    """Validate the blob structure of an ``.osm.pbf`` file and read its header.

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.

    Returns
    -------
    dict
        ``blobs`` (count), ``bytes``, ``replication_timestamp`` (ISO 8601 or None),
        ``writing_program``, ``source``.

    Raises
    ------
    NetworkError
        When the file is missing, empty, not a PBF, or truncated.
    """
    path = Path(path)
    if not path.exists():
        raise NetworkError("OSM file not found / 找不到OSM文件", file=path)
    size = path.stat().st_size
    if size == 0:
        raise NetworkError("OSM file is empty / OSM文件为空", file=path)
    info: dict = {"blobs": 0, "bytes": size, "replication_timestamp": None,
                  "writing_program": None, "source": None}
    with open(path, "rb") as fh:
        pos = 0
        while pos < size:
            raw = fh.read(4)
            if len(raw) < 4:
                raise NetworkError(f"PBF truncated at byte {pos} / PBF文件不完整", file=path,
                                   expected="a complete .osm.pbf file")
            (hlen,) = struct.unpack(">I", raw)
            if hlen == 0 or hlen > 64 * 1024:
                raise NetworkError(f"not an OSM PBF file (bad blob header at byte {pos}) / 不是OSM PBF文件",
                                   file=path, expected="an .osm.pbf file")
            header = fh.read(hlen)
            try:
                fields = _fields(header)
                btype = fields[1][0].decode()
                datasize = fields[3][0]
            except Exception as exc:
                raise NetworkError(f"not an OSM PBF file (unreadable blob header at byte {pos}) / 不是OSM PBF文件",
                                   file=path, expected="an .osm.pbf file") from exc
            if info["blobs"] == 0 and btype != "OSMHeader":
                raise NetworkError("not an OSM PBF file (first blob is not OSMHeader) / 不是OSM PBF文件",
                                   file=path, expected="an .osm.pbf file")
            if not 0 <= datasize <= 32 * 1024**2:  # the PBF format's limit on a blob
                raise NetworkError(f"not an OSM PBF file (blob of {datasize} bytes at byte {pos}, the format's limit "
                                   "is 32 MiB) / 不是OSM PBF文件", file=path, expected="an .osm.pbf file")
            end = pos + 4 + hlen + datasize
            if end > size:
                raise NetworkError(f"PBF truncated: blob {info['blobs']} needs {end} bytes, file has {size} / PBF文件不完整",
                                   file=path, expected="a complete .osm.pbf file")
            if btype == "OSMHeader":
                info.update(_read_header(fh.read(datasize)))
            else:
                fh.seek(datasize, 1)
            info["blobs"] += 1
            pos = end
    if info["blobs"] < 2:
        raise NetworkError("PBF holds no data blocks / PBF文件没有数据", file=path)
    return info


def _read_header(blob: bytes) -> dict:
    fields = _fields(blob)
    if 1 in fields:
        data = fields[1][0]
    elif 3 in fields:
        data = zlib.decompress(fields[3][0])
    else:
        return {}
    hb = _fields(data)
    out = {}
    if 32 in hb:
        out["replication_timestamp"] = datetime.fromtimestamp(hb[32][0], tz=timezone.utc).isoformat()
    if 16 in hb:
        out["writing_program"] = hb[16][0].decode(errors="replace")
    if 17 in hb:
        out["source"] = hb[17][0].decode(errors="replace")
    return out


def _open_xml(path: Path):
    """The file for reading bytes, decompressed when it ends in ``.gz`` or ``.bz2``."""
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.open(path, "rb")
    if name.endswith(".bz2"):
        return bz2.open(path, "rb")
    return open(path, "rb")


def check_osm_xml(path: str | Path) -> dict:
    """Cheap sanity check of an OSM XML file (exists, non-empty, an <osm> element near the start).

    Parameters
    ----------
    path
        The ``.osm`` / ``.osm.xml`` file.

    Returns
    -------
    dict
        ``bytes`` and ``replication_timestamp`` (``None``).

    Raises
    ------
    NetworkError
        When the file is missing, empty or not OSM XML.
    """
    path = Path(path)
    if not path.exists():
        raise NetworkError("OSM file not found / 找不到OSM文件", file=path)
    try:
        with _open_xml(path) as fh:
            head = fh.read(4096)
    except (OSError, EOFError) as exc:  # a damaged .gz/.bz2, or a directory
        raise NetworkError(f"cannot read OSM file: {exc} / 无法读取OSM文件", file=path) from exc
    if not head.strip():
        raise NetworkError("OSM file is empty / OSM文件为空", file=path)
    if b"<osm" not in head:
        raise NetworkError("not an OSM XML file (no <osm> element) / 不是OSM XML文件", file=path,
                           expected=".osm / .osm.xml or .osm.pbf")
    return {"bytes": path.stat().st_size, "replication_timestamp": None}

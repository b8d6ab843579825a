"""Content checks of downloaded files (magic bytes): refuse what is not the expected format."""

from __future__ import annotations

from pathlib import Path


def check_pbf(path: Path) -> None:
    """Refuse a file that does not start like an OSM PBF (BlobHeader of type ``OSMHeader``).

    Raises
    ------
    ValueError
        Naming the first bytes of the file.
    """
    with open(path, "rb") as fh:
        head = fh.read(64)
    if len(head) < 16 or b"OSMHeader" not in head[4:20]:
        raise ValueError(f"not an OSM PBF file (starts with {head[:16]!r})")


def check_tiff(path: Path) -> None:
    """Refuse a file that does not start like a (Big)TIFF.

    Raises
    ------
    ValueError
        Naming the first bytes of the file.
    """
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        raise ValueError(f"not a TIFF file (starts with {head!r})")

"""Street readers, one module per source format, all returning :class:`StreetData`.

Like pandana's ``loaders`` and geopandas' ``io``: every module of this package is a reader
(modules whose name starts with ``_`` excepted) and provides

``SUFFIXES``
    Lower-case file-name endings it reads (``name.lower().endswith(SUFFIXES)``); no two
    readers may share one.
``FILE_TYPES``
    How the format is named in messages (``".osm.pbf"``).
``check(path) -> dict``
    A cheap integrity check before anything is parsed; raises
    :class:`~carecover.errors.NetworkError` naming the file, returns at least ``bytes`` and
    ``replication_timestamp`` (``None`` when the format has none).
``read(path, clip) -> StreetData``
    Nodes and tagged segments. ``clip`` (a WGS-84 polygon or ``None``) only lets a reader read
    less; :func:`carecover.network.load.load_network` applies the exact clip afterwards.

A new format (GraphML, GeoPackage, ...) is a new module here and nothing more:
:func:`reader_for` finds it.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

from carecover.errors import NetworkError
from carecover.filelimits import not_special


@dataclass(frozen=True)
class StreetData:
    """What every reader returns: street nodes and tagged segments, before any profile.

    Attributes
    ----------
    nodes
        One row per node: ``id`` (int64 OSM id), ``lon``, ``lat`` (WGS-84 degrees). May hold
        nodes no segment uses, and duplicates (the first row of an id counts).
    segments
        One row per straight segment between consecutive way nodes: the
        :data:`~carecover.network.profiles.TAG_COLUMNS` (raw tag values, ``None`` when
        untagged; ``oneway`` relative to the drawn direction; the
        :data:`~carecover.network.profiles.STRUCTURE_TAGS` left out when the source cannot say)
        and ``u``, ``v`` (int64 node ids, in the way's drawn direction).
    """

    nodes: pd.DataFrame
    segments: pd.DataFrame


def valid_lonlat(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Which positions are WGS-84 degrees: finite, longitude within ±180, latitude within ±90.

    Parameters
    ----------
    lon, lat
        Degrees.

    Returns
    -------
    numpy.ndarray
        Boolean mask.
    """
    lon, lat = np.asarray(lon, float), np.asarray(lat, float)
    return np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)


def warn_bad_coordinates(path, ids: np.ndarray, lon: np.ndarray, lat: np.ndarray, n_segments: int) -> None:
    """Say (a notice) that nodes with invalid coordinates and their segments were left out.

    Parameters
    ----------
    path
        The network file.
    ids, lon, lat
        The left-out nodes.
    n_segments
        Segments (or edges) left out with them.
    """
    from carecover import notices

    eg = f"{ids[0]}: {lon[0]}, {lat[0]}"
    notices.warn("network_bad_coordinates",
                 f"{path}: {len(ids):,} 个节点坐标无效（如节点 {eg}），其 {n_segments:,} 条路段未读入 / {len(ids):,} nodes "
                 f"have invalid coordinates (e.g. node {eg}); their {n_segments:,} segments are left out")


@functools.cache
def reader_modules() -> tuple[ModuleType, ...]:
    """The reader modules of this package, in name order.

    Returns
    -------
    tuple of modules
        Each with ``SUFFIXES``, ``FILE_TYPES``, ``check`` and ``read`` (see the module docstring).
    """
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    return tuple(importlib.import_module(f"{__name__}.{name}") for name in names)


def reader_for(path: str | Path) -> ModuleType:
    """The reader of a network file, chosen by the end of its name.

    Parameters
    ----------
    path
        The network file (need not exist: the reader's ``check`` reports that).

    Returns
    -------
    module
        A reader module of this package.

    Raises
    ------
    NetworkError
        When no reader takes the file's type.
    """
    name = Path(path).name.lower()
    readers = reader_modules()
    types = [t for reader in readers for t in reader.FILE_TYPES]
    expected = ", ".join(types[:-1]) + " or " + types[-1]
    if Path(path).is_dir():
        raise NetworkError("is a folder, not a network file / 是文件夹而不是路网文件", file=path,
                           expected=expected)
    not_special(path, "network file / 路网文件")
    for reader in readers:
        if name.endswith(reader.SUFFIXES):
            return reader
    raise NetworkError("unsupported network file type", file=path, expected=expected)

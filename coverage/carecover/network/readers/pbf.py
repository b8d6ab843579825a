"""OSM PBF extracts (``.osm.pbf``), read with pyrosm."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from carecover.errors import NetworkError
from carecover.network.osmfile import check_pbf
from carecover.network.profiles import MOBILITY_TAGS, TAG_COLUMNS
from carecover.network.readers import StreetData

SUFFIXES = (".pbf",)
FILE_TYPES = (".osm.pbf",)


def check(path: Path) -> dict:
    """Walk the PBF blob headers (see :func:`carecover.network.osmfile.check_pbf`).

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.

    Returns
    -------
    dict
        ``bytes``, ``replication_timestamp`` and the other header fields.
    """
    return check_pbf(path)


def read(path: Path, clip: shapely.Geometry | None) -> StreetData:
    """All highway ways of a PBF extract as segments.

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.
    clip
        WGS-84 polygon handed to pyrosm as its bounding box (pyrosm keeps whole ways that cross
        its edge), or ``None`` for the whole extract.

    Returns
    -------
    StreetData

    Raises
    ------
    NetworkError
        When pyrosm cannot read the file or it holds no streets in the area.
    """
    pyrosm = import_pyrosm()
    osm = pyrosm.OSM(str(path), bounding_box=clip)
    try:
        nodes, edges = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:
        raise NetworkError(f"cannot read streets from OSM file: {exc}", file=path) from exc
    if edges is None or nodes is None or len(edges) == 0:
        raise NetworkError("no streets (highway ways) in the OSM data for this area / 该范围内没有道路",
                           file=path)
    seg = _tags_frame(edges)
    seg["u"] = edges["u"].to_numpy(np.int64)
    seg["v"] = edges["v"].to_numpy(np.int64)
    nd = pd.DataFrame({"id": nodes["id"].to_numpy(np.int64), "lon": nodes["lon"].to_numpy(float),
                       "lat": nodes["lat"].to_numpy(float)})
    return StreetData(nd, seg)


#: Graph libraries pyrosm imports when it is imported, for its graph export only (which this
#: reader does not use): igraph, networkx, pandana (which imports scikit-learn and scipy.stats).
PYROSM_GRAPH_BACKENDS = ("igraph", "networkx", "pandana", "pandarm")


def import_pyrosm():
    """``pyrosm``, imported without its optional graph back-ends (:data:`PYROSM_GRAPH_BACKENDS`)
    when they are not imported yet: about 1 s less per run that builds a network. Those
    modules import normally afterwards; only pyrosm's own graph export (``OSM.to_graph``,
    unused here) then believes them absent in this process."""
    import sys

    if "pyrosm" in sys.modules:
        import pyrosm

        return pyrosm
    hidden = [m for m in PYROSM_GRAPH_BACKENDS if m not in sys.modules]
    for m in hidden:
        sys.modules[m] = None  # an import of it raises ImportError: pyrosm treats it as absent
    try:
        import pyrosm

        pyrosm.OSM  # noqa: B018 - pyrosm imports its reader (and the back-ends) on first use
    finally:
        for m in hidden:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]
    return pyrosm


def _tags_frame(df: pd.DataFrame) -> pd.DataFrame:
    # pyrosm gives only the tag columns present in the extract: add the missing ones empty
    out = pd.DataFrame(index=df.index)
    for col in TAG_COLUMNS:
        out[col] = df[col].astype(object) if col in df.columns else None
    # pyrosm keeps the other tags as JSON in "tags": the mobility tags are read from there
    if "tags" in df.columns:
        extra = df["tags"].map(lambda t: json.loads(t) if isinstance(t, str) and t else {})
        for col in MOBILITY_TAGS:
            got = extra.map(lambda d, c=col: d.get(c))
            out[col] = out[col].where(out[col].notna(), got)
    return out

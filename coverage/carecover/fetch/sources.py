"""Where each dataset comes from, and under which licence.

- OSM: Geofabrik's Inner Mongolia extract, © OpenStreetMap contributors, ODbL 1.0. Geofabrik
  publishes an ``.md5`` beside every extract; it is verified when it can be fetched.
- Population: WorldPop 2020, 100 m (3 arc-second) people per pixel, *constrained* (BSGM) estimate
  for China, CC BY 4.0. Constrained is the default because it places people only in pixels mapped
  as built settlement — the unconstrained grid spreads residents over empty steppe, which would
  inflate the "uncovered" share of a 15-minute analysis. The unconstrained grid is in
  :data:`SOURCES` as ``population_unconstrained``.
"""

from __future__ import annotations

import os
import re
from typing import Any

#: Where each dataset comes from. ``base`` can be replaced by a mirror (environment variable
#: ``env`` or the ``mirrors`` argument of :func:`carecover.fetch.fetch_city`); ``path`` is
#: appended to it.
SOURCES: dict[str, dict[str, Any]] = {
    "osm": {
        "base": "https://download.geofabrik.de",
        "path": "asia/china/inner-mongolia-latest.osm.pbf",
        "env": "CARECOVER_MIRROR_GEOFABRIK",
        "md5_suffix": ".md5",
        "types": ["application/octet-stream", "binary/octet-stream", "application/x-protobuf",
                  "application/vnd.openstreetmap.data+pbf", "application/x-osm*"],
        "licence": "ODbL 1.0",
        "attribution": "© OpenStreetMap contributors (Geofabrik extract)",
    },
    "population": {
        "base": "https://data.worldpop.org",
        "path": "GIS/Population/Global_2000_2020_Constrained/2020/BSGM/CHN/chn_ppp_2020_constrained.tif",
        "env": "CARECOVER_MIRROR_WORLDPOP",
        "types": ["image/tiff", "image/geotiff", "application/x-geotiff", "application/octet-stream",
                  "binary/octet-stream"],
        "licence": "CC BY 4.0",
        "attribution": "WorldPop (www.worldpop.org), 2020 constrained 100 m people per pixel, China",
    },
    "population_unconstrained": {
        "base": "https://data.worldpop.org",
        "path": "GIS/Population/Global_2000_2020/2020/CHN/chn_ppp_2020.tif",
        "env": "CARECOVER_MIRROR_WORLDPOP",
        "types": ["image/tiff", "image/geotiff", "application/x-geotiff", "application/octet-stream",
                  "binary/octet-stream"],
        "licence": "CC BY 4.0",
        "attribution": "WorldPop (www.worldpop.org), 2020 unconstrained 100 m people per pixel, China",
    },
}


def source_url(key: str, sources: dict[str, dict[str, Any]] = SOURCES,
               mirrors: dict[str, str] | None = None) -> str:
    """URL of ``sources[key]``, with the base replaced by ``mirrors[key]`` or the source's env var.

    Parameters
    ----------
    key
        Source key, e.g. ``"osm"``.
    sources
        Source table (default :data:`SOURCES`).
    mirrors
        Base URL per source key; wins over the environment variable named by ``env``.

    Returns
    -------
    str
        ``base/path`` with exactly one slash between them.
    """
    src = sources[key]
    base = (mirrors or {}).get(key) or os.environ.get(src.get("env", "")) or src["base"]
    return f"{base.rstrip('/')}/{src['path'].lstrip('/')}"


def md5_from_text(text: str) -> str | None:
    """The first 32-hex-digit MD5 in a ``.md5`` file's text (lower case), else ``None``."""
    m = re.search(r"\b([0-9a-fA-F]{32})\b", text)
    return m.group(1).lower() if m else None

"""Robust downloads and ``carecover fetch``: prepare a city once, use it offline afterwards.

:func:`download` streams a URL to ``dest + ".part"``, resumes with an HTTP ``Range`` request after an
interruption, retries transient failures with exponential backoff, checks type, size and checksums,
and only then renames the ``.part`` to ``dest`` (so the cache never holds a partial file under its
final name). A sidecar ``dest + ".json"`` records where the file came from.

:func:`fetch_city` downloads the regional OSM extract (Geofabrik) and the WorldPop population grid,
clips both to the city boundary and writes ``data/<city>/fetched.json``. Sources and licences are
described in :mod:`carecover.fetch.sources`.

Modules
-------
- :mod:`~carecover.fetch.http`: :func:`download`, :func:`fetch_text` (streaming, resume, checks)
- :mod:`~carecover.fetch.retry`: backoff and the retry loop; :mod:`~carecover.fetch.errors`
- :mod:`~carecover.fetch.cache`: download sidecars and the cache check
- :mod:`~carecover.fetch.sources`: :data:`SOURCES`, :func:`source_url`
- :mod:`~carecover.fetch.checks`: :func:`check_pbf`, :func:`check_tiff`
- :mod:`~carecover.fetch.clip`: :func:`load_boundary`, :func:`clip_pbf`, :func:`clip_raster`
- :mod:`~carecover.fetch.city`: :func:`fetch_city`
- :mod:`~carecover.fetch.cli`: :func:`add_fetch_parser`, :func:`cli_fetch`

Names are looked up in the module that uses them: to replace one in a test, patch it there
(e.g. ``carecover.fetch.city.download``, ``carecover.fetch.retry.MAX_DELAY_S``).
"""

from carecover.fetch.checks import check_pbf, check_tiff
from carecover.fetch.city import fetch_city
from carecover.fetch.cli import add_fetch_parser, cli_fetch
from carecover.fetch.clip import clip_pbf, clip_raster, load_boundary
from carecover.fetch.errors import FetchError
from carecover.fetch.http import RETRY_STATUS, download, fetch_text
from carecover.fetch.retry import MAX_DELAY_S
from carecover.fetch.sources import SOURCES, source_url

__all__ = [
    "MAX_DELAY_S",
    "RETRY_STATUS",
    "SOURCES",
    "FetchError",
    "add_fetch_parser",
    "check_pbf",
    "check_tiff",
    "cli_fetch",
    "clip_pbf",
    "clip_raster",
    "download",
    "fetch_city",
    "fetch_text",
    "load_boundary",
    "source_url",
]

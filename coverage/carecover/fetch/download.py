"""Robust downloads and ``carecover fetch``: prepare a city once, use it offline afterwards.

:func:`download` streams a URL to ``dest + ".part"``, resumes with an HTTP ``Range`` request after an
interruption, retries transient failures with exponential backoff, checks type, size and checksums,
and only then renames the ``.part`` to ``dest`` (so the cache never holds a partial file under its
final name). A sidecar ``dest + ".json"`` records where the file came from.

:func:`fetch_city` downloads the regional OSM extract (Geofabrik) and the WorldPop population grid,
clips both to the city boundary and writes ``data/<city>/fetched.json``.

Sources and licences
--------------------
- OSM: Geofabrik's Inner Mongolia extract, © OpenStreetMap contributors, ODbL 1.0. Geofabrik
  publishes an ``.md5`` beside every extract; it is verified when it can be fetched.
- Population: WorldPop 2020, 100 m (3 arc-second) people per pixel, *constrained* (BSGM) estimate
  for China, CC BY 4.0. Constrained is the default because it places people only in pixels mapped
  as built settlement — the unconstrained grid spreads residents over empty steppe, which would
  inflate the "uncovered" share of a 15-minute analysis. The unconstrained grid is in
  :data:`SOURCES` as ``population_unconstrained``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import email.utils
import fnmatch
import hashlib
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from carecover import utils
from carecover.errors import CarecoverError, InputError
from carecover.utils import atomic_path, atomic_write, file_sha256, log

USER_AGENT = "carecover/0.1 (+https://github.com/; elderly-care coverage planning)"
CHUNK = 1 << 16
#: Longest wait between two attempts (seconds), whatever the backoff or Retry-After says.
MAX_DELAY_S = 60.0
#: HTTP statuses worth another attempt (besides every 5xx).
RETRY_STATUS = frozenset({408, 429})

#: Where each dataset comes from. ``base`` can be replaced by a mirror (environment variable
#: ``env`` or the ``mirrors`` argument of :func:`fetch_city`); ``path`` is appended to it.
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


class FetchError(CarecoverError):
    """A download failed for good (after retries, or at once for a permanent error).

    Parameters
    ----------
    message
        What went wrong, in plain words.
    url
        The URL concerned.
    attempts
        How many requests were made.
    cause
        The last underlying error, if any.
    """

    def __init__(self, message: str, *, url: str, attempts: int = 0,
                 cause: BaseException | str | None = None) -> None:
        self.message = message
        self.url = url
        self.attempts = attempts
        self.cause = cause
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"下载失败 / download failed: {self.url}: {self.message} (attempts: {self.attempts}"
        if self.cause is not None and str(self.cause) != self.message:
            text += f"; cause: {self.cause}"
        return text + ")"


class _Retry(Exception):
    """A transient failure: try again (after a delay unless ``immediate``)."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 immediate: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.immediate = immediate


class _Fatal(Exception):
    """A permanent failure: no point retrying."""


# --------------------------------------------------------------------------------------------
# download


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def _delay(url: str, attempt: int, backoff: float, retry_after: float | None) -> float:
    """Exponential backoff with a deterministic jitter (so runs are reproducible)."""
    jitter = (zlib.crc32(f"{url}#{attempt}".encode()) % 1000) / 4000.0  # 0 … +25 %
    delay = backoff * (2 ** (attempt - 1)) * (1.0 + jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return min(delay, MAX_DELAY_S)


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    if not value:
        return None
    with contextlib.suppress(ValueError):
        return max(0.0, float(value))
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())
    return None


def _type_ok(content_type: str | None, expected_types: Sequence[str] | None) -> bool:
    """True when ``content_type`` is acceptable.

    Without ``expected_types`` only HTML is refused (an error or login page is never a data file).
    A missing Content-Type is accepted: the size and checksum checks still apply.
    """
    base = (content_type or "").split(";")[0].strip().lower()
    if not base:
        return True
    if expected_types is None:
        return base not in ("text/html", "application/xhtml+xml")
    return any(fnmatch.fnmatchcase(base, pat.lower()) for pat in expected_types)


_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


def _run_with_retries(url: str, step: Callable[[int], Any], *, retries: int,
                      backoff: float) -> tuple[Any, int]:
    """Call ``step(attempt)`` until it returns; retry on :class:`_Retry`, stop on :class:`_Fatal`."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return step(attempt), attempt
        except _Fatal as exc:
            raise FetchError(str(exc), url=url, attempts=attempt, cause=exc.__cause__) from exc
        except _Retry as exc:
            if attempt > retries:
                raise FetchError(f"gave up after {attempt} attempts: {exc}", url=url,
                                 attempts=attempt, cause=exc.__cause__ or exc) from exc
            if not exc.immediate:
                time.sleep(_delay(url, attempt, backoff, exc.retry_after))
            log(f"重试 / retrying ({attempt}/{retries}) {url}: {exc}")


def _open(url: str, headers: dict[str, str], timeout: float) -> http.client.HTTPResponse:
    """Open ``url``; map HTTP and network errors to :class:`_Retry` / :class:`_Fatal`."""
    req = Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity", **headers})
    try:
        return urlopen(req, timeout=timeout)  # noqa: S310 (http/https URLs only)
    except HTTPError as exc:
        exc.close()
        if exc.code >= 500 or exc.code in RETRY_STATUS:
            raise _Retry(f"HTTP {exc.code} {exc.reason}",
                         retry_after=_retry_after(exc.headers)) from exc
        raise _Fatal(f"HTTP {exc.code} {exc.reason}") from exc
    except (URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        raise _Retry(f"connection failed: {reason}") from exc


def _read_meta(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    with atomic_write(path, encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")


def _file_md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cached(dest: Path, url: str, sha256: str | None, md5: str | None,
            expected_size: int | None) -> bool:
    """True when ``dest`` is a complete earlier download of ``url`` that still passes the checks."""
    meta = _read_meta(Path(f"{dest}.json"))
    if not dest.is_file() or meta.get("url") != url or meta.get("size") != dest.stat().st_size:
        return False
    if expected_size is not None and dest.stat().st_size != expected_size:
        return False
    if sha256 and file_sha256(dest) != sha256.lower():
        return False
    return not (md5 and _file_md5(dest) != md5.lower())


def download(url: str, dest: str | Path, *, expected_size: int | None = None,
             sha256: str | None = None, md5: str | None = None, timeout: float = 30,
             retries: int = 4, backoff: float = 1.0, progress: bool = True,
             expected_types: Sequence[str] | None = None,
             check: Callable[[Path], None] | None = None, force: bool = True) -> Path:
    """Download ``url`` to ``dest`` robustly.

    Parameters
    ----------
    url
        HTTP(S) URL.
    dest
        Final path. Bytes go to ``dest + ".part"`` first; only after every check passes is it
        renamed to ``dest`` (``os.replace``).
    expected_size
        Size in bytes the file must have (checked as soon as the server announces a size, and at
        the end). The server's Content-Length / Content-Range total is always checked too.
    sha256, md5
        Hex digests the file must match. On mismatch nothing is left at ``dest`` and the ``.part``
        is deleted, so a later run starts afresh rather than taking it as complete.
    timeout
        Seconds for connecting and for each socket read: a stall longer than this is a failure
        and is retried (resuming where it stopped).
    retries
        Extra attempts after the first on connection errors, timeouts, truncated bodies, HTTP 5xx,
        408 and 429 (``Retry-After`` honoured, capped at :data:`MAX_DELAY_S`). Other 4xx fail at once.
    backoff
        First delay in seconds; doubled at every attempt, plus a deterministic jitter of 0–25 %.
    progress
        Show a byte progress bar on stderr (never when ``carecover.utils.QUIET``).
    expected_types
        Accepted Content-Type patterns (``fnmatch``, e.g. ``"image/*"``). ``None`` accepts anything
        except HTML. A refused type fails at once with the URL and the type in the message.
    check
        Extra validation of the finished ``.part`` (e.g. magic bytes); raise to refuse the file.
    force
        When False and ``dest`` is a complete earlier download of the same URL (per its sidecar
        and the given size/checksums), return it without any request.

    Returns
    -------
    Path
        ``dest``. A sidecar ``dest + ".json"`` holds url, final url, size, sha256, md5, date,
        ETag, Last-Modified, Content-Type and the number of attempts.

    Raises
    ------
    FetchError
        With the URL, the attempt count and the cause. After a transient failure that exhausted the
        retries the ``.part`` is kept so that the next call resumes; after a permanent one
        (bad type, size, checksum, 4xx) it is removed.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not force and _cached(dest, url, sha256, md5, expected_size):
        return dest
    part = Path(f"{dest}.part")
    part_meta_path = Path(f"{dest}.part.json")
    # A .part is resumed only if we know which URL and which version of the file it holds.
    part_meta = _read_meta(part_meta_path)
    if part.exists() and part_meta.get("url") != url:
        part.unlink()
    state: dict[str, Any] = {"validator": part_meta.get("etag") or part_meta.get("last_modified"),
                             "total": part_meta.get("total"), "headers": {}}
    bar = None
    if progress and not utils.QUIET:
        from tqdm import tqdm

        bar = tqdm(total=None, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                   desc=dest.name, leave=False)

    def step(attempt: int) -> None:
        have = part.stat().st_size if part.exists() else 0
        headers: dict[str, str] = {}
        if have:
            headers["Range"] = f"bytes={have}-"
            if state["validator"]:
                # If the file changed since the .part was started, the server sends all of it.
                headers["If-Range"] = state["validator"]
        try:
            resp = _open(url, headers, timeout)
        except _Fatal as exc:
            cause = exc.__cause__
            if have and isinstance(cause, HTTPError) and cause.code == 416:
                # Range not satisfiable: the .part may already be complete, else start again.
                m = re.search(r"/(\d+)", cause.headers.get("Content-Range", "") or "")
                if m and int(m.group(1)) == have:
                    state["total"] = have
                    return
                part.unlink()
                raise _Retry("server refused the resume range; restarting", immediate=True) from cause
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
            raise
        with resp:
            ctype = resp.headers.get("Content-Type")
            if not _type_ok(ctype, expected_types):
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                raise _Fatal(f"unexpected content type {ctype!r} (expected "
                             f"{', '.join(expected_types) if expected_types else 'not HTML'})")
            length = resp.headers.get("Content-Length")
            to_read = int(length) if length and length.isdigit() else None
            if resp.status == 206:
                m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", "") or "")
                if not m or int(m.group(1)) != have:
                    part.unlink()
                    raise _Retry(f"server answered 206 with Content-Range "
                                 f"{resp.headers.get('Content-Range')!r} for a resume at {have}; "
                                 "restarting", immediate=True)
                total = int(m.group(3)) if m.group(3) != "*" else None
                to_read = int(m.group(2)) - have + 1
                mode = "ab"
            elif resp.status == 200:
                if have:
                    log(f"服务器不支持续传，重新下载 / server ignored the Range request, restarting: {url}")
                have, total, mode = 0, to_read, "wb"
            else:
                raise _Fatal(f"unexpected HTTP status {resp.status}")
            if expected_size is not None and total is not None and total != expected_size:
                with contextlib.suppress(FileNotFoundError):
                    part.unlink()
                raise _Fatal(f"server announces {total} bytes, expected {expected_size}")
            state.update(total=total, headers=dict(resp.headers), final_url=resp.geturl())
            validator = resp.headers.get("ETag") or resp.headers.get("Last-Modified")
            if mode == "wb" or validator:
                state["validator"] = validator
            _write_json(part_meta_path, {"url": url, "etag": resp.headers.get("ETag"),
                                         "last_modified": resp.headers.get("Last-Modified"),
                                         "total": total})
            if bar is not None:
                bar.reset(total=total)
                bar.update(have)
            got = 0
            with open(part, mode) as fh:
                while True:
                    try:
                        # read1: return what has arrived, so bytes before a stall are kept.
                        chunk = resp.read1(CHUNK)
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Retry(f"connection lost after {have + got} bytes: "
                                     f"{type(exc).__name__}: {exc}") from exc
                    if not chunk:
                        break
                    fh.write(chunk)
                    got += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            if to_read is not None and got < to_read:
                raise _Retry(f"connection closed after {have + got} of "
                             f"{total if total is not None else have + to_read} bytes")

    try:
        _, attempts = _run_with_retries(url, step, retries=retries, backoff=backoff)
    finally:
        if bar is not None:
            bar.close()

    def refuse(message: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        with contextlib.suppress(FileNotFoundError):
            part_meta_path.unlink()
        raise FetchError(message, url=url, attempts=attempts)

    size = part.stat().st_size if part.exists() else 0
    if state["total"] is not None and size != state["total"]:
        refuse(f"size {size} bytes differs from the server's {state['total']}")
    if expected_size is not None and size != expected_size:
        refuse(f"size {size} bytes differs from the expected {expected_size}")
    digest = file_sha256(part)
    if sha256 and digest != sha256.lower():
        refuse(f"SHA-256 mismatch: got {digest}, expected {sha256.lower()}")
    md5_digest = _file_md5(part)
    if md5 and md5_digest != md5.lower():
        refuse(f"MD5 mismatch: got {md5_digest}, expected {md5.lower()}")
    if check is not None:
        try:
            check(part)
        except Exception as exc:  # noqa: BLE001 (any refusal by the caller's check)
            refuse(f"content check failed: {exc}")
    os.replace(part, dest)
    headers = state["headers"]
    _write_json(Path(f"{dest}.json"), {
        "url": url, "final_url": state.get("final_url", url), "size": size, "sha256": digest,
        "md5": md5_digest, "md5_verified": bool(md5), "sha256_verified": bool(sha256),
        "date": _now(), "etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified"),
        "content_type": headers.get("Content-Type"), "attempts": attempts,
    })
    with contextlib.suppress(FileNotFoundError):
        part_meta_path.unlink()
    return dest


def fetch_text(url: str, *, timeout: float = 30, retries: int = 4, backoff: float = 1.0,
               max_bytes: int = 1 << 16) -> str:
    """GET a small text resource (e.g. an ``.md5`` file) with the same retry policy."""

    def step(attempt: int) -> str:
        resp = _open(url, {}, timeout)
        with resp:
            try:
                data = resp.read(max_bytes + 1)
            except (OSError, http.client.HTTPException) as exc:
                raise _Retry(f"connection lost: {exc}") from exc
        if len(data) > max_bytes:
            raise _Fatal(f"response larger than {max_bytes} bytes")
        return data.decode("utf-8", errors="replace")

    return _run_with_retries(url, step, retries=retries, backoff=backoff)[0]


# --------------------------------------------------------------------------------------------
# sources and content checks


def source_url(key: str, sources: dict[str, dict[str, Any]] = SOURCES,
               mirrors: dict[str, str] | None = None) -> str:
    """URL of ``sources[key]``, with the base replaced by ``mirrors[key]`` or the source's env var."""
    src = sources[key]
    base = (mirrors or {}).get(key) or os.environ.get(src.get("env", "")) or src["base"]
    return f"{base.rstrip('/')}/{src['path'].lstrip('/')}"


def check_pbf(path: Path) -> None:
    """Refuse a file that does not start like an OSM PBF (BlobHeader of type ``OSMHeader``)."""
    with open(path, "rb") as fh:
        head = fh.read(64)
    if len(head) < 16 or b"OSMHeader" not in head[4:20]:
        raise ValueError(f"not an OSM PBF file (starts with {head[:16]!r})")


def check_tiff(path: Path) -> None:
    """Refuse a file that does not start like a (Big)TIFF."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        raise ValueError(f"not a TIFF file (starts with {head!r})")


# --------------------------------------------------------------------------------------------
# boundary and clipping


def load_boundary(path: str | Path, buffer_m: float = 0.0):
    """City outline from a boundary file (the feature of ``level == "city"``, else all features).

    Read by :func:`carecover.inputs.boundaries.read_boundaries` (its CRS policy); returns a shapely
    (Multi)Polygon in EPSG:4326, buffered by ``buffer_m`` metres (in the local UTM zone).
    """
    import shapely

    from carecover.inputs.boundaries import buffered, read_boundaries

    gdf = read_boundaries(path)
    if (gdf["level"] == "city").any():
        gdf = gdf[gdf["level"] == "city"]
    geom = shapely.union_all(gdf.geometry.values)
    return buffered(geom, buffer_m) if buffer_m else geom


def _clip_pbf_osmium_cli(src: Path, dst: Path, boundary) -> None:
    import tempfile

    import shapely

    with tempfile.TemporaryDirectory(prefix="carecover-clip-") as tmpdir, atomic_path(dst) as tmp:
        poly = Path(tmpdir) / "boundary.geojson"
        poly.write_text(json.dumps({"type": "Feature", "properties": {},
                                    "geometry": shapely.geometry.mapping(boundary)}))
        proc = subprocess.run(
            ["osmium", "extract", "--polygon", str(poly), "--strategy", "complete_ways",
             "--overwrite", "--no-progress", "-f", "pbf", "-o", str(tmp), str(src)],
            capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise CarecoverError(f"osmium extract failed: {proc.stderr.strip()}")


def _clip_pbf_pyosmium(src: Path, dst: Path, boundary) -> None:
    """Same result as ``osmium extract -s complete_ways``: nodes inside, every way touching them
    with all its nodes, and relations with a member inside (members outside not completed)."""
    import numpy as np
    import osmium
    import shapely

    shapely.prepare(boundary)
    minx, miny, maxx, maxy = boundary.bounds
    tracker = osmium.IdTracker()

    def flush(ids: list[int], xs: list[float], ys: list[float]) -> None:
        if not ids:
            return
        inside = shapely.contains_xy(boundary, np.asarray(xs), np.asarray(ys))
        for i in np.flatnonzero(inside):
            tracker.add_node(ids[i])
        ids.clear(), xs.clear(), ys.clear()

    ids: list[int] = []
    xs: list[float] = []
    ys: list[float] = []
    for n in osmium.FileProcessor(str(src), osmium.osm.NODE):
        loc = n.location
        if not loc.valid():
            continue
        lon, lat = loc.lon, loc.lat
        if minx <= lon <= maxx and miny <= lat <= maxy:
            ids.append(n.id), xs.append(lon), ys.append(lat)
            if len(ids) >= 500_000:
                flush(ids, xs, ys)
    flush(ids, xs, ys)
    kept_ways = [w.id for w in osmium.FileProcessor(str(src), osmium.osm.WAY)
                 if tracker.contains_any_references(w)]
    for wid in kept_ways:
        tracker.add_way(wid)
    tracker.complete_backward_references(str(src), relation_depth=0)  # all nodes of kept ways
    # Relations with a kept member, then their parent relations (as osmium extract does); the
    # relation pass is cheap, and nesting is shallow, so a few passes reach the fixed point.
    kept_rels: set[int] = set()
    for _ in range(8):
        new = {r.id for r in osmium.FileProcessor(str(src), osmium.osm.RELATION)
               if r.id not in kept_rels and tracker.contains_any_references(r)}
        if not new:
            break
        for rid in new:
            tracker.add_relation(rid)
        kept_rels |= new
    with atomic_path(dst) as tmp:
        writer = osmium.SimpleWriter(str(tmp))
        try:
            for obj in osmium.FileProcessor(str(src)).with_filter(tracker.id_filter()):
                writer.add(obj)
        finally:
            writer.close()


def _pyosmium_available() -> bool:
    try:
        import osmium  # noqa: F401
    except ImportError:
        return False
    return True


def clip_pbf(src: str | Path, dst: str | Path, boundary, *, method: str = "auto") -> str:
    """Clip an OSM PBF to ``boundary`` (shapely polygon, EPSG:4326), written atomically to ``dst``.

    ``method``: ``"osmium"`` (the osmium-tool command), ``"pyosmium"`` (the ``osmium`` Python
    package), ``"none"`` (copy the whole extract; the network builder clips it later) or
    ``"auto"`` (the first available, in that order). Returns a description of what was done.
    """
    src, dst = Path(src), Path(dst)
    if method == "auto":
        method = ("osmium" if shutil.which("osmium") else
                  "pyosmium" if _pyosmium_available() else "none")
    if method == "osmium":
        _clip_pbf_osmium_cli(src, dst, boundary)
        return "osmium extract --strategy complete_ways (osmium-tool)"
    if method == "pyosmium":
        _clip_pbf_pyosmium(src, dst, boundary)
        return "pyosmium (complete ways)"
    if method == "none":
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return "none: whole regional extract kept; clipping happens when the network is built"
    raise ValueError(f"unknown clip method {method!r}")


def clip_raster(src: str | Path, dst: str | Path, boundary) -> dict[str, Any]:
    """Write the window of raster ``src`` covering ``boundary``'s bounding box to ``dst`` (GeoTIFF,
    atomically). Only that window is read. Returns width, height, bounds, CRS and nodata."""
    import rasterio
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window, from_bounds

    src = Path(src)
    with rasterio.open(src) as ds:
        if ds.crs is None:
            raise InputError("raster has no CRS", file=src, expected="a georeferenced GeoTIFF")
        bounds = transform_bounds("EPSG:4326", ds.crs, *boundary.bounds, densify_pts=21)
        win = from_bounds(*bounds, transform=ds.transform)
        # Round outwards to whole pixels and keep inside the raster.
        col0, row0 = max(0, int(win.col_off // 1)), max(0, int(win.row_off // 1))
        col1 = min(ds.width, int(-(-(win.col_off + win.width) // 1)))
        row1 = min(ds.height, int(-(-(win.row_off + win.height) // 1)))
        if col1 <= col0 or row1 <= row0:
            raise InputError("the city boundary does not overlap the population raster", file=src,
                             expected=f"raster bounds {tuple(round(b, 4) for b in ds.bounds)}")
        window = Window(col0, row0, col1 - col0, row1 - row0)
        data = ds.read(window=window)
        profile = ds.profile.copy()
        profile.update(driver="GTiff", width=window.width, height=window.height,
                       transform=ds.window_transform(window), compress="deflate")
        profile.pop("blockxsize", None), profile.pop("blockysize", None)
        profile["tiled"] = False
        with atomic_path(Path(dst)) as tmp, rasterio.open(tmp, "w", **profile) as out:
            out.write(data)
            out_bounds = tuple(float(b) for b in rasterio.windows.bounds(window, ds.transform))
        return {"width": int(window.width), "height": int(window.height),
                "bounds": list(out_bounds), "crs": ds.crs.to_string(), "nodata": ds.nodata,
                "window": [col0, row0, int(window.width), int(window.height)]}


# --------------------------------------------------------------------------------------------
# fetch_city


def _md5_from_text(text: str) -> str | None:
    m = re.search(r"\b([0-9a-fA-F]{32})\b", text)
    return m.group(1).lower() if m else None


def fetch_city(city: str, data_dir: str | Path, *, boundary: str | Path | None = None,
               sources: dict[str, dict[str, Any]] = SOURCES, force: bool = False,
               mirrors: dict[str, str] | None = None, cache_dir: str | Path | None = None,
               population_source: str = "population", buffer_m: float = 2000.0,
               clip_method: str = "auto", timeout: float = 30, retries: int = 4,
               backoff: float = 1.0, progress: bool = True) -> dict[str, Any]:
    """Download and clip everything a city needs offline; write ``<data_dir>/<city>/fetched.json``.

    Parameters
    ----------
    city
        City key, e.g. ``"hohhot"``.
    data_dir
        Folder holding one sub-folder per city (``data/`` in the project).
    boundary
        WGS-84 GeoJSON of the city (feature with ``level == "city"``); default
        ``<data_dir>/<city>/counties.geojson``.
    sources
        Source table (default :data:`SOURCES`); keys ``"osm"`` and ``population_source`` are used.
    force
        Download again even when a complete earlier download is cached.
    mirrors
        Base URL per source key, overriding the defaults and the ``CARECOVER_MIRROR_*`` variables.
    cache_dir
        Where the full regional downloads are kept (default ``settings.cache_dir / "downloads"``).
    population_source
        ``"population"`` (constrained, default) or ``"population_unconstrained"``.
    buffer_m
        The boundary is widened by this many metres before clipping, so residents near the edge
        can still reach facilities across it, and a GCJ-02 offset of a few hundred metres in the
        outline does not cut anything off.
    clip_method
        See :func:`clip_pbf`.

    Returns
    -------
    dict
        The content of ``fetched.json``: per dataset the URL, licence, cached download (size,
        sha256, md5 and whether it was verified, ETag/Last-Modified, date) and the clipped output
        (relative file name, size, sha256, method).
    """
    from carecover import settings

    data_dir = Path(data_dir)
    city_dir = data_dir / city
    boundary_path = Path(boundary) if boundary is not None else city_dir / "counties.geojson"
    geom = load_boundary(boundary_path, buffer_m=buffer_m)
    cache = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir) / "downloads"
    opts = {"timeout": timeout, "retries": retries, "backoff": backoff}
    record: dict[str, Any] = {
        "city": city, "created": _now(),
        "boundary": {"file": str(boundary_path), "sha256": file_sha256(boundary_path),
                     "buffer_m": buffer_m, "bbox": [round(v, 6) for v in geom.bounds]},
        "sources": {}, "outputs": {},
    }

    # --- OSM extract
    osm_url = source_url("osm", sources, mirrors)
    osm_cache = cache / Path(sources["osm"]["path"]).name
    md5 = None
    md5_note = "not published"
    if sources["osm"].get("md5_suffix") and (force or not _cached(osm_cache, osm_url, None, None, None)):
        try:
            md5 = _md5_from_text(fetch_text(osm_url + sources["osm"]["md5_suffix"], **opts))
            md5_note = "verified" if md5 else "unreadable .md5 file"
        except FetchError as exc:
            md5_note = f"unavailable: {exc.message}"
            log(f"无法获取校验和，继续 / checksum not available, continuing: {exc}")
    log(f"下载 OSM / downloading OSM: {osm_url}")
    download(osm_url, osm_cache, md5=md5, expected_types=sources["osm"].get("types"),
             check=check_pbf, force=force, progress=progress, **opts)
    osm_meta = _read_meta(Path(f"{osm_cache}.json"))
    if not md5 and osm_meta.get("md5_verified"):
        md5_note = "verified (earlier download)"
    record["sources"]["osm"] = {**osm_meta, "cache_file": str(osm_cache), "md5_check": md5_note,
                                "licence": sources["osm"].get("licence"),
                                "attribution": sources["osm"].get("attribution")}
    osm_out = city_dir / f"{city}.osm.pbf"
    log(f"裁剪 OSM / clipping OSM to {city}")
    method = clip_pbf(osm_cache, osm_out, geom, method=clip_method)
    record["outputs"]["osm"] = {"file": osm_out.name, "size": osm_out.stat().st_size,
                                "sha256": file_sha256(osm_out), "clip": method}

    # --- population grid
    pop_src = sources[population_source]
    pop_url = source_url(population_source, sources, mirrors)
    pop_cache = cache / Path(pop_src["path"]).name
    log(f"下载人口栅格 / downloading population grid: {pop_url}")
    download(pop_url, pop_cache, expected_types=pop_src.get("types"), check=check_tiff,
             force=force, progress=progress, **opts)
    record["sources"]["population"] = {**_read_meta(Path(f"{pop_cache}.json")),
                                       "key": population_source, "cache_file": str(pop_cache),
                                       "licence": pop_src.get("licence"),
                                       "attribution": pop_src.get("attribution")}
    pop_out = city_dir / f"{city}_{Path(pop_src['path']).stem}.tif"
    info = clip_raster(pop_cache, pop_out, geom)
    record["outputs"]["population"] = {"file": pop_out.name, "size": pop_out.stat().st_size,
                                       "sha256": file_sha256(pop_out),
                                       "clip": "bounding box of the buffered boundary", **info}
    _write_json(city_dir / "fetched.json", record)
    return record


# --------------------------------------------------------------------------------------------
# command line (wired into coverage/cli.py by the lead)


def add_fetch_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``carecover fetch`` to an ``argparse`` sub-parser set; its handler is :func:`cli_fetch`."""
    p = subparsers.add_parser(
        "fetch", help="下载并裁剪城市数据（一次联网，之后离线）/ download and clip a city's data once",
        description="下载 Geofabrik OSM 与 WorldPop 人口栅格并裁剪到城市边界 / download the "
                    "Geofabrik OSM extract and the WorldPop grid and clip them to the city.")
    p.add_argument("--city", required=True, help="城市 / city key, e.g. hohhot")
    p.add_argument("--data-dir", default="data", help="数据目录 / data folder (default: data)")
    p.add_argument("--boundary", help="边界 GeoJSON / boundary GeoJSON (default: "
                                      "<data-dir>/<city>/counties.geojson)")
    p.add_argument("--cache-dir", help="下载缓存 / download cache")
    p.add_argument("--force", action="store_true", help="重新下载 / download again")
    p.add_argument("--unconstrained", action="store_true",
                   help="使用非约束 WorldPop / use the unconstrained WorldPop grid")
    p.add_argument("--buffer-m", type=float, default=2000.0,
                   help="边界外扩（米）/ boundary buffer in metres (default 2000)")
    p.add_argument("--clip", choices=["auto", "osmium", "pyosmium", "none"], default="auto",
                   help="OSM 裁剪方式 / how to clip the OSM extract")
    p.add_argument("--mirror-geofabrik", help="Geofabrik 镜像 / mirror base URL")
    p.add_argument("--mirror-worldpop", help="WorldPop 镜像 / mirror base URL")
    p.add_argument("--timeout", type=float, default=30.0, help="秒 / socket timeout in seconds")
    p.add_argument("--retries", type=int, default=4, help="重试次数 / retries")
    p.set_defaults(func=cli_fetch)
    return p


def cli_fetch(args: argparse.Namespace) -> int:
    """Run ``carecover fetch``; returns the exit status (0 ok, 3 download failed).

    :class:`InputError` (bad boundary) propagates for the CLI's usual exit status 2.
    """
    pop_key = "population_unconstrained" if args.unconstrained else "population"
    mirrors = {k: v for k, v in {"osm": args.mirror_geofabrik, pop_key: args.mirror_worldpop}.items()
               if v}
    try:
        rec = fetch_city(args.city, args.data_dir, boundary=args.boundary, force=args.force,
                         mirrors=mirrors, cache_dir=args.cache_dir, population_source=pop_key,
                         buffer_m=args.buffer_m, clip_method=args.clip, timeout=args.timeout,
                         retries=args.retries)
    except FetchError as exc:
        print(str(exc), file=sys.stderr)
        return 3
    out = Path(args.data_dir) / args.city
    for key, o in rec["outputs"].items():
        print(f"{key}: {out / o['file']} ({o['size']:,} bytes)")
    print(f"已写入 / written: {out / 'fetched.json'}")
    return 0

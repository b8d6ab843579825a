"""``fetch_city``: download the regional OSM extract and population grid once, clip both to the
city, and record everything in ``<data_dir>/<city>/fetched.json`` (then work offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from carecover import settings
from carecover.fetch.cache import cached_download, read_meta, utc_now, write_json
from carecover.fetch.checks import check_pbf, check_tiff
from carecover.fetch.clip import clip_pbf, clip_raster, load_boundary
from carecover.fetch.errors import FetchError
from carecover.fetch.http import download, fetch_text
from carecover.fetch.sources import SOURCES, md5_from_text, source_url
from carecover.utils import file_sha256, log


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
        See :func:`carecover.fetch.clip_pbf`.
    timeout, retries, backoff, progress
        As for :func:`carecover.fetch.download`.

    Returns
    -------
    dict
        The content of ``fetched.json``: per dataset the URL, licence, cached download (size,
        sha256, md5 and whether it was verified, ETag/Last-Modified, date) and the clipped output
        (relative file name, size, sha256, method).

    Raises
    ------
    FetchError
        A download failed (nothing is written to ``fetched.json``).
    InputError
        The boundary file is missing or unreadable.
    """
    data_dir = Path(data_dir)
    city_dir = data_dir / city
    boundary_path = Path(boundary) if boundary is not None else city_dir / "counties.geojson"
    geom = load_boundary(boundary_path, buffer_m=buffer_m)
    cache = Path(cache_dir) if cache_dir is not None else Path(settings.cache_dir) / "downloads"
    opts = {"timeout": timeout, "retries": retries, "backoff": backoff}
    record: dict[str, Any] = {
        "city": city, "created": utc_now(),
        "boundary": {"file": str(boundary_path), "sha256": file_sha256(boundary_path),
                     "buffer_m": buffer_m, "bbox": [round(v, 6) for v in geom.bounds]},
        "sources": {}, "outputs": {},
    }
    _fetch_osm(record, city, city_dir, geom, cache, sources, mirrors, force=force,
               clip_method=clip_method, progress=progress, opts=opts)
    _fetch_population(record, city, city_dir, geom, cache, sources, mirrors, population_source,
                      force=force, progress=progress, opts=opts)
    write_json(city_dir / "fetched.json", record)
    return record


def _osm_md5(url: str, suffix: str | None, osm_cache: Path, *, force: bool,
             opts: dict[str, Any]) -> tuple[str | None, str]:
    """The published MD5 of the extract (``None`` if not fetched) and a note on the check.

    Not fetched when the source publishes none, or when a complete earlier download is cached
    (and ``force`` is off). A failure to fetch it is logged, not raised: the download proceeds.
    """
    md5 = None
    md5_note = "not published"
    if suffix and (force or not cached_download(osm_cache, url, None, None, None)):
        try:
            md5 = md5_from_text(fetch_text(url + suffix, **opts))
            md5_note = "verified" if md5 else "unreadable .md5 file"
        except FetchError as exc:
            md5_note = f"unavailable: {exc.message}"
            log(f"无法获取校验和，继续 / checksum not available, continuing: {exc}")
    return md5, md5_note


def _fetch_osm(record: dict[str, Any], city: str, city_dir: Path, geom: Any, cache: Path,
               sources: dict[str, dict[str, Any]], mirrors: dict[str, str] | None, *,
               force: bool, clip_method: str, progress: bool, opts: dict[str, Any]) -> None:
    """Download the OSM extract (MD5 checked when published) and clip it to ``geom``.

    Fills ``record["sources"]["osm"]`` and ``record["outputs"]["osm"]``.
    """
    src = sources["osm"]
    osm_url = source_url("osm", sources, mirrors)
    osm_cache = cache / Path(src["path"]).name
    md5, md5_note = _osm_md5(osm_url, src.get("md5_suffix"), osm_cache, force=force, opts=opts)
    log(f"下载 OSM / downloading OSM: {osm_url}")
    download(osm_url, osm_cache, md5=md5, expected_types=src.get("types"),
             check=check_pbf, force=force, progress=progress, **opts)
    osm_meta = read_meta(Path(f"{osm_cache}.json"))
    if not md5 and osm_meta.get("md5_verified"):
        md5_note = "verified (earlier download)"
    record["sources"]["osm"] = {**osm_meta, "cache_file": str(osm_cache), "md5_check": md5_note,
                                "licence": src.get("licence"),
                                "attribution": src.get("attribution")}
    osm_out = city_dir / f"{city}.osm.pbf"
    log(f"裁剪 OSM / clipping OSM to {city}")
    method = clip_pbf(osm_cache, osm_out, geom, method=clip_method)
    record["outputs"]["osm"] = {"file": osm_out.name, "size": osm_out.stat().st_size,
                                "sha256": file_sha256(osm_out), "clip": method}


def _fetch_population(record: dict[str, Any], city: str, city_dir: Path, geom: Any, cache: Path,
                      sources: dict[str, dict[str, Any]], mirrors: dict[str, str] | None,
                      population_source: str, *, force: bool, progress: bool,
                      opts: dict[str, Any]) -> None:
    """Download the population grid and write the window covering ``geom``.

    Fills ``record["sources"]["population"]`` and ``record["outputs"]["population"]``.
    """
    pop_src = sources[population_source]
    pop_url = source_url(population_source, sources, mirrors)
    pop_cache = cache / Path(pop_src["path"]).name
    log(f"下载人口栅格 / downloading population grid: {pop_url}")
    download(pop_url, pop_cache, expected_types=pop_src.get("types"), check=check_tiff,
             force=force, progress=progress, **opts)
    record["sources"]["population"] = {**read_meta(Path(f"{pop_cache}.json")),
                                       "key": population_source, "cache_file": str(pop_cache),
                                       "licence": pop_src.get("licence"),
                                       "attribution": pop_src.get("attribution")}
    pop_out = city_dir / f"{city}_{Path(pop_src['path']).stem}.tif"
    info = clip_raster(pop_cache, pop_out, geom)
    record["outputs"]["population"] = {"file": pop_out.name, "size": pop_out.stat().st_size,
                                       "sha256": file_sha256(pop_out),
                                       "clip": "bounding box of the buffered boundary", **info}

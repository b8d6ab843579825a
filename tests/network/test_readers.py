"""Readers: one module per format, one contract (StreetData), dispatch by file name, bad files."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
from carecover.errors import NetworkError
from carecover.network import load_network, readers
from carecover.network.profiles import TAG_COLUMNS
from carecover.network.readers import StreetData, osmxml, pbf, reader_for, reader_modules


def _assert_contract(data: StreetData) -> None:
    assert isinstance(data, StreetData)
    assert list(data.nodes.columns) == ["id", "lon", "lat"]
    assert data.nodes["id"].dtype == np.int64
    assert data.nodes["lon"].dtype == float and data.nodes["lat"].dtype == float
    assert list(data.segments.columns) == TAG_COLUMNS + ["u", "v"]
    assert data.segments["u"].dtype == np.int64 and data.segments["v"].dtype == np.int64
    assert set(data.segments["u"]) | set(data.segments["v"]) <= set(data.nodes["id"])


class TestDispatch:
    def test_reader_by_file_name(self):
        assert reader_for("x/city.osm.pbf") is pbf
        assert reader_for("CITY.OSM.PBF") is pbf
        assert reader_for("city.osm") is osmxml and reader_for("city.osm.xml") is osmxml
        with pytest.raises(NetworkError, match="unsupported network file type") as info:
            reader_for("roads.shp")
        assert info.value.expected == ".gpkg, .graphml, .osm, .osm.xml, .osm.gz, .osm.bz2, .osm.pbf or .streets.npz"

    def test_every_module_is_a_reader_and_suffixes_do_not_overlap(self):
        mods = reader_modules()
        assert [m.__name__.rsplit(".", 1)[1] for m in mods] == ["gpkg", "graphml", "osmxml", "pbf", "streets"]
        seen: list[str] = []
        for m in mods:
            assert callable(m.check) and callable(m.read) and m.FILE_TYPES
            assert all(s == s.lower() and s.startswith(".") for s in m.SUFFIXES)
            assert not any(s.endswith(t) or t.endswith(s) for s in m.SUFFIXES for t in seen)
            seen.extend(m.SUFFIXES)

    def test_a_new_format_is_a_new_module_and_nothing_more(self, tmp_path, monkeypatch, osm_data):
        """A reader module dropped into the package's path is found and used by load_network."""
        extra = tmp_path / "readers"
        extra.mkdir()
        (extra / "csvstreets.py").write_text(textwrap.dedent('''
            """Test-only reader: nodes and segments from two CSV files named <stem>.csvnet/…"""
            import pandas as pd
            from carecover.network.readers import StreetData

            SUFFIXES = (".csvnet",)
            FILE_TYPES = (".csvnet",)

            def check(path):
                return {"bytes": path.stat().st_size, "replication_timestamp": None}

            def read(path, clip):
                return StreetData(pd.read_csv(path.with_suffix(".nodes")),
                                  pd.read_csv(path, dtype=object).astype({"u": "int64", "v": "int64"}))
        '''))
        monkeypatch.setattr(readers, "__path__", [*readers.__path__, str(extra)])
        reader_modules.cache_clear()
        try:
            data = osmxml.read(osm_data / "grid.osm", None)
            target = tmp_path / "grid.csvnet"
            data.segments.to_csv(target, index=False)
            data.nodes.to_csv(target.with_suffix(".nodes"), index=False)
            got = load_network(target, "walk", cache=tmp_path / "cache")
            want = load_network(osm_data / "grid.osm", "walk", cache=False)
            assert reader_for(target).__name__ == "carecover.network.readers.csvstreets"
            for f in ("node_x", "node_y", "node_id", "seg_a", "seg_b", "seg_len", "seg_fwd", "seg_rev"):
                np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
            assert got.source["from_cache"] is False
            assert load_network(target, "walk", cache=tmp_path / "cache").source["from_cache"] is True
        finally:
            reader_modules.cache_clear()
            sys.modules.pop("carecover.network.readers.csvstreets", None)


class TestContract:
    """Both readers hand over the same typed frames."""

    def test_osm_xml(self, osm_data):
        data = osmxml.read(osm_data / "tags.osm", None)
        _assert_contract(data)
        assert osmxml.check(osm_data / "tags.osm")["replication_timestamp"] is None

    def test_pbf(self, test_pbf):
        data = pbf.read(test_pbf, None)
        _assert_contract(data)
        header = pbf.check(test_pbf)
        assert header["bytes"] == test_pbf.stat().st_size and header["blobs"] >= 2


def test_pbf_read_leaves_out_pyrosm_graph_backends(test_pbf):
    """Reading a PBF imports pyrosm without its graph back-ends (networkx, igraph, pandana and
    the scikit-learn it pulls in); they still import normally afterwards."""
    import subprocess

    code = textwrap.dedent(f"""
        import sys
        from carecover.network.readers import pbf
        pbf.read({str(test_pbf)!r}, None)
        loaded = [m for m in ("networkx", "igraph", "pandana", "sklearn") if m in sys.modules]
        assert not loaded, loaded
        import networkx  # noqa: F401
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


class TestOsmnxGraphs:
    def test_osmnx_graph_saved_as_osm_reloads_identically(self, tmp_path, osm_data):
        """The online path (OSMnx graph → .osm file → load_network) minus the download itself."""
        from carecover.network.streets import _osmnx_raw, save_osmnx_xml

        src = osm_data / "oneway.osm"
        with _osmnx_raw() as ox:
            G = ox.graph_from_xml(src, simplify=False, retain_all=True, bidirectional=False)
        out = save_osmnx_xml(G, tmp_path / "saved.osm")
        for prof in ("walk", "drive"):
            a = load_network(src, prof, cache=False)
            b = load_network(out, prof, cache=False)
            assert a.n_segments == b.n_segments and a.n_nodes == b.n_nodes
            np.testing.assert_array_equal(np.sort(a.node_id), np.sort(b.node_id))
            ka = sorted(zip(a.node_id[a.seg_a], a.node_id[a.seg_b], a.seg_fwd, a.seg_rev, strict=True))
            kb = sorted(zip(b.node_id[b.seg_a], b.node_id[b.seg_b], b.seg_fwd, b.seg_rev, strict=True))
            assert ka == kb


class TestErrors:
    def test_missing_and_empty_files(self, tmp_path, load_fails):
        e = load_fails(tmp_path / "nowhere.osm.pbf", "nowhere.osm.pbf")
        assert isinstance(e, NetworkError)
        (tmp_path / "empty.osm.pbf").write_bytes(b"")
        load_fails(tmp_path / "empty.osm.pbf", "empty.osm.pbf")
        (tmp_path / "empty.osm").write_text("   \n")
        load_fails(tmp_path / "empty.osm", "empty.osm")
        (tmp_path / "roads.shp").write_bytes(b"x")
        load_fails(tmp_path / "roads.shp", "roads.shp")

    def test_truncated_and_foreign_pbf(self, helsinki_pbf, tmp_path, load_fails, osm_data):
        data = helsinki_pbf.read_bytes()
        for n in (3, 100, len(data) // 2, len(data) - 1):
            p = tmp_path / f"cut{n}.osm.pbf"
            p.write_bytes(data[:n])
            e = load_fails(p, p.name)
            assert isinstance(e, NetworkError)
        text = tmp_path / "notes.osm.pbf"
        text.write_text("this is not a protobuf file\n" * 20)
        load_fails(text, "notes.osm.pbf")
        xml = tmp_path / "streets.osm.pbf"
        xml.write_bytes((osm_data / "grid.osm").read_bytes())
        load_fails(xml, "streets.osm.pbf")

    def test_xml_without_streets_or_not_osm(self, tmp_path, load_fails, osm_data):
        load_fails(osm_data / "no_highways.osm", "no_highways.osm")
        bad = tmp_path / "page.osm"
        bad.write_text("<html><body>Not found</body></html>")
        load_fails(bad, "page.osm")
        broken = tmp_path / "broken.osm"
        broken.write_text((osm_data / "grid.osm").read_text()[:900])
        load_fails(broken, "broken.osm")

